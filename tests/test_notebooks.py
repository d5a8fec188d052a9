"""The research notebooks run top to bottom on a fresh install, and are committed WITH their outputs
(``python notebooks/execute.py``), so a reader on a code host sees the tables and plots.

Each notebook runs in a fresh ``python3`` kernel (ipykernel of the interpreter running the tests)
with ``notebooks/`` as its working directory, as when opened in Jupyter. ``PYTHONPATH`` is set so
that the kernel imports the same ``collectclf`` as the tests (the installed one under CI).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import child_env

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_corpus.ipynb", "02_train_evaluate.ipynb", "03_score_export.ipynb"]


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_with_its_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, name
    assert all(cell.execution_count for cell in code), f"{name}: run python notebooks/execute.py {name}"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), f"{name}: executed out of order"
    outputs = [out for cell in code for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"], f"{name}: committed with an error"
    assert any(out.output_type in ("display_data", "execute_result") for out in outputs), f"{name}: shows nothing"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_the_plots_are_committed_as_png():
    notebook = nbformat.read(NOTEBOOKS / "01_corpus.ipynb", as_version=4)
    images = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs
              if "image/png" in out.get("data", {})]
    assert images, "01_corpus.ipynb has no PNG plot"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path-migration warning
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    seconds = time.perf_counter() - start
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "a cell did not run"
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert not errors, errors
    shown = [out for cell in code for out in cell.outputs if out.output_type in ("display_data", "execute_result")]
    assert shown, f"{name} displayed nothing"
    print(f"{name}: {seconds:.1f} s")
