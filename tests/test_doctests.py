"""The examples in the docstrings of the package that is imported (the installed one under CI)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import collectclf

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(collectclf.__path__, prefix="collectclf.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{name}: {results.failed} of {results.attempted} docstring examples failed"


def test_the_package_has_docstring_examples():
    attempted = 0
    for name in MODULES:
        finder = doctest.DocTestFinder(exclude_empty=True)
        attempted += sum(len(test.examples) for test in finder.find(importlib.import_module(name)))
    assert attempted >= 8
