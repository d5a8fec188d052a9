"""Documentation inside the repository: the labeling guide mirrors ../shared, the citation legend matches
the rules, and every relative link resolves to a file inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collectclf.rules import CITATIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDE = DOCS / "labeling-guide.md"
SHARED_GUIDE = ROOT.parent / "shared" / "labeling-guide.md"
# Cards and briefs that must link only inside the repository, besides README.md and docs/*.md.
CARDS = [ROOT / "models" / "MODEL_CARD.md", ROOT / "data" / "README.md", ROOT / "data" / "corpus" / "BRIEF.md"]
LINKED = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *CARDS]


def test_labeling_guide_says_it_is_a_mirror():
    header = GUIDE.read_text(encoding="utf-8").split("\n", 1)[0]
    assert header.startswith("<!--") and header.endswith("-->") and "../shared/labeling-guide.md" in header


@pytest.mark.skipif(not SHARED_GUIDE.is_file(), reason="../shared is not beside this checkout")
def test_labeling_guide_is_an_exact_copy_of_the_shared_guide():
    body = GUIDE.read_text(encoding="utf-8").split("\n", 1)[1]
    assert body == SHARED_GUIDE.read_text(encoding="utf-8"), (
        "docs/labeling-guide.md differs from ../shared/labeling-guide.md: copy the shared guide below the header line")


def _without_code(text: str) -> str:
    return re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))


def _relative_links(path: Path) -> list[str]:
    text = _without_code(path.read_text(encoding="utf-8"))
    targets = re.findall(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    targets += re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", text, flags=re.M)
    return [t for t in targets if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:|#", t)]


@pytest.mark.parametrize("path", LINKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(path):
    for target in _relative_links(path):
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{target} leaves the repository"
        assert resolved.is_file(), f"{target} is not a file of the repository"


@pytest.mark.parametrize("path", [ROOT / "README.md", *CARDS], ids=lambda p: str(p.relative_to(ROOT)))
def test_cards_point_at_the_guide_inside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    assert "shared/labeling-guide.md" not in text
    assert "docs/labeling-guide.md" in " ".join(_relative_links(path)), f"{path.name}: link the labeling guide in docs/"


def test_link_check_finds_links():
    links = _relative_links(ROOT / "README.md")
    assert {"docs/labeling-guide.md", "docs/citations.md", "LICENSE", "models/MODEL_CARD.md"} <= set(links)


def test_citation_legend_matches_the_rules():
    rows = re.findall(r"^\| `([A-Z0-9]+)` \| (.+?) \|$", (DOCS / "citations.md").read_text(encoding="utf-8"), flags=re.M)
    legend = {code: re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", meaning) for code, meaning in rows}
    assert legend == CITATIONS, "docs/citations.md and collectclf.rules.CITATIONS must say the same"
    assert "docs/citations.md" in _relative_links(ROOT / "README.md")


def test_one_licence():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "Apache License 2.0" in (ROOT / "data" / "README.md").read_text(encoding="utf-8").split("## Licence", 1)[1]
    assert 'license = { text = "Apache-2.0" }' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_readme_python_example_runs_as_a_doctest():
    """The README's first Python block is a doctest: what it shows is what collectclf prints."""
    import doctest

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [block for block in re.findall(r"```python\n(.*?)```", text, flags=re.S) if ">>>" in block]
    assert blocks, "README.md has no Python block written as a doctest"
    parser = doctest.DocTestParser()
    test = parser.get_doctest(blocks[0], {}, "README.md", str(ROOT / "README.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert len(test.examples) >= 5
