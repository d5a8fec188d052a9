"""The CI contract: skips fail under CI=true, and .ci/run runs exactly the README's test command."""

from __future__ import annotations

import re

import pytest

from . import _ci
from .conftest import ROOT, child_env

_SKIPPING = """
import pytest

def test_skipped():
    pytest.skip("no browser")

@pytest.mark.skipif(True, reason="marker")
def test_marked():
    pass

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False
"""


@pytest.mark.parametrize("ci", ["true", "TRUE", "", "false"])
def test_skips_fail_when_ci_is_true(pytester, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_some=_SKIPPING)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", plugins=[_ci])
    failed = ci.lower() == "true"
    # a skip in the call fails the test; a skipif marker skips in setup, so it fails as an error
    result.assert_outcomes(failed=int(failed), errors=int(failed), skipped=0 if failed else 2, xfailed=1)
    if failed:
        result.stdout.fnmatch_lines(["*skipped with CI=true*no browser*"])


def test_a_module_level_skip_fails_when_ci_is_true(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_mod="import pytest\npytest.importorskip('no_such_module_here')\n\ndef test_x():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", plugins=[_ci])
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped with CI=true*no_such_module_here*"])


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block, "README.md has no bash block"
    (line,) = [line for line in block.group(1).splitlines() if "pytest" in line]
    return line


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = _readme_test_command()
    marker = "# --- README: run the tests ---\n"
    assert marker in script
    command = script.split(marker, 1)[1].strip().splitlines()[0]
    assert readme.endswith(command), (readme, command)
    # the fresh venv of the README is what .ci/run creates
    assert "python3 -m venv .venv" in script and ". .venv/bin/activate" in script
    assert readme.startswith("python3 -m venv .venv && . .venv/bin/activate && ")


def test_ci_script_is_strict():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert "export CI=true" in script
    assert re.search(r"^ruff check \.$", script, re.M) or "ruff check ." in _readme_test_command()
    install = [line for line in script.splitlines() if "apt-get install" in line]
    assert install and all("chromium" in line and "fonts-noto-cjk" in line for line in install)
    assert "||" not in "".join(install) and "warning" not in script  # a failed install fails CI


def test_tests_use_the_installed_package_under_ci():
    import collectclf

    if _ci.strict():
        package = __import__("pathlib").Path(collectclf.__file__).resolve().parent
        assert package != (ROOT / "collectclf").resolve(), f"CI imported collectclf from the checkout: {package}"


def test_child_interpreters_import_the_same_collectclf():
    import subprocess
    import sys

    import collectclf

    code = "import collectclf; print(collectclf.__file__)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stdout.strip() == collectclf.__file__
