"""CI strictness, loaded by ``conftest.py``: with ``CI=true`` a skipped test (or module) is a failure.

A skip in CI means a dependency the suite needs (chromium, a font, an extra) was not installed, so
the run would be green without testing everything; ``.ci/run`` installs them and this makes sure it did.
"""

from __future__ import annotations

import os

import pytest


def strict() -> bool:
    """True when the ``CI`` environment variable is ``true`` (any case)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped with CI=true, which makes skips failures: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if strict():
        _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    if strict():
        _fail_skip(outcome.get_result())
