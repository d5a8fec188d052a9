"""The output file of batch scoring: its columns, and the final CSV (UTF-8 with BOM, for Excel),
JSONL or Parquet file written from the journal of scored rows."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["OUTPUT_KINDS", "column_names", "journal_rows", "write_output"]

#: Output file suffix → format.
OUTPUT_KINDS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def column_names(labels: Sequence[str], *, include_text: bool = True) -> list[str]:
    """The output columns, in order, for a model with ``labels``.

    >>> column_names(["a", "b"], include_text=False)
    ['id', 'sender', 'timestamp', 'direction', 'label', 'p_a', 'p_b', 'evidence', 'error', 'flags']
    """
    columns = ["id", "sender", "timestamp", "direction"] + (["text"] if include_text else [])
    return columns + ["label", *[f"p_{label}" for label in labels], "evidence", "error", "flags"]


def journal_rows(journal: Path) -> Iterator[dict[str, Any]]:
    """The scored rows of a journal (its first line is the header)."""
    with open(journal, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            yield json.loads(line)


def write_output(journal: Path, target: Path, kind: str, columns: list[str]) -> None:
    """Convert the journal to ``kind`` in a temporary file, rename it into place, delete the journal."""
    temporary = target.with_name(target.name + ".tmp")
    if kind == "csv":
        import csv

        with open(temporary, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in journal_rows(journal):
                writer.writerow(row)
    elif kind == "jsonl":
        with open(temporary, "w", encoding="utf-8") as out:
            for row in journal_rows(journal):
                out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.float64() if c.startswith("p_") else pa.string()) for c in columns])
        with pq.ParquetWriter(temporary, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in journal_rows(journal):
                batch.append({c: row.get(c) for c in columns})
                if len(batch) >= 50_000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    os.replace(temporary, target)
    journal.unlink()
