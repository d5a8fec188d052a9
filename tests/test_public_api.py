"""The public face: every name the README and the notebooks use comes from ``collectclf`` itself and is
listed in ``collectclf.__all__``; importing the package stays cheap."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import collectclf

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _readme_python() -> list[str]:
    """The README's Python blocks as code (a doctest block gives the source of its examples)."""
    import doctest

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    parser = doctest.DocTestParser()
    return ["".join(example.source for example in parser.get_examples(block)) if ">>>" in block else block for block in blocks]


def _notebook_cells(kind: str) -> list[tuple[str, str]]:
    cells = []
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == kind:
                cells.append((path.name, "".join(cell["source"])))
    return cells


def _code() -> list[tuple[str, str]]:
    return [("README.md", block) for block in _readme_python()] + _notebook_cells("code")


def _used_names(source: str) -> tuple[list[str], list[str]]:
    """(modules imported from collectclf's sub-modules, names taken from collectclf) in one piece of code."""
    submodules, names = [], []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "collectclf":
            if node.module != "collectclf":
                submodules.append(node.module)
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            submodules.extend(alias.name for alias in node.names if alias.name.startswith("collectclf."))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "collectclf":
            names.append(node.attr)
    return submodules, names


def test_the_readme_and_notebooks_have_code_to_check():
    assert len(_readme_python()) >= 3 and len(NOTEBOOKS) == 3


@pytest.mark.parametrize("where, source", _code(), ids=lambda value: value if value.endswith((".md", ".ipynb")) else "")
def test_code_imports_only_public_names_from_the_package_root(where, source):
    submodules, names = _used_names(source)
    assert not submodules, f"{where}: import these from collectclf itself: {submodules}"
    assert set(names) <= set(collectclf.__all__), f"{where}: not in collectclf.__all__: {sorted(set(names) - set(collectclf.__all__))}"


def test_prose_names_only_public_names():
    texts = [("README.md", README.read_text(encoding="utf-8"))] + _notebook_cells("markdown")
    for where, text in texts:
        for name in re.findall(r"`collectclf\.([A-Za-z_]\w*)", text):
            assert name in collectclf.__all__, f"{where} names collectclf.{name}, which is not in collectclf.__all__"


def test_every_public_name_resolves():
    for name in collectclf.__all__:
        assert getattr(collectclf, name) is not None, name
    assert "ScoreOptions" in collectclf.__all__ and collectclf.ScoreOptions().jobs == 0
    assert set(collectclf.__all__) <= set(dir(collectclf))


def test_import_is_cheap_and_star_import_needs_no_extra():
    code = ("import sys, collectclf; heavy = [m for m in ('sklearn', 'jieba', 'pandas', 'matplotlib', 'dask') if m in sys.modules]; "
            "assert not heavy, heavy; exec('from collectclf import *'); assert 'dask' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
