"""Execute the notebooks in place, so they are committed with their outputs (tables, plots as PNG).

Usage (from the repository root, after the shipped model is built): ``python notebooks/execute.py [NAME ...]``

Each notebook runs top to bottom in a fresh ``python3`` kernel with ``notebooks/`` as its working directory.
Cell metadata that changes from run to run (execution timings) is dropped, so a rerun on the same data and
model rewrites the same outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbclient
import nbformat

NOTEBOOKS = Path(__file__).resolve().parent


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    notebook.metadata.pop("widgets", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    print(f"executed {path.name}")


def main(argv: list[str]) -> int:
    names = argv or sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for name in names:
        execute(NOTEBOOKS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
