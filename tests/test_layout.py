"""The package's layout: every sub-package ships in the wheel, modules stay small, and the modules the
package root imports never import the root back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "collectclf"


def test_every_subpackage_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(("collectclf", *init.parent.relative_to(PACKAGE).parts)) for init in PACKAGE.rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


MAX_LINES = 450
# Modules allowed past MAX_LINES (none today).
_KNOWN_LARGE: set[str] = set()
_KNOWN_ROOT_IMPORTS: set[str] = set()
# Entry points run the package; the root never imports them.
_ENTRY_POINTS = {"collectclf.cli", "collectclf.__main__"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(("collectclf", *(parts[:-1] if parts[-1] == "__init__" else parts)))] = path
    return found


def _root_imports(name: str, path: Path) -> list[str]:
    """``import`` statements of a module that take something from the package root itself."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    submodules = set(_modules())
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
            if target == "collectclf":
                found += [f"line {node.lineno}: {alias.name}" for alias in node.names if f"collectclf.{alias.name}" not in submodules]
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import collectclf" for alias in node.names if alias.name == "collectclf"]
    return found


@pytest.mark.parametrize("name", sorted(set(_modules()) - _ENTRY_POINTS - _KNOWN_ROOT_IMPORTS - {"collectclf"}))
def test_modules_do_not_import_the_package_root_back(name):
    assert not _root_imports(name, _modules()[name]), "import from the owning module instead"


@pytest.mark.parametrize("name", sorted(set(_modules()) - _KNOWN_LARGE))
def test_modules_stay_small(name):
    lines = len(_modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by responsibility"


def test_the_layering_check_sees_a_root_import():
    assert _root_imports("collectclf.evaluation", _modules()["collectclf.evaluation"]) or \
        _root_imports("collectclf.cli", _modules()["collectclf.cli"])
