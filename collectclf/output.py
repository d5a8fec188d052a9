"""The output file of batch scoring: its columns, local time, spreadsheet safety, and the CSV
(UTF-8 with BOM, for Excel), XLSX, JSONL or Parquet file written as the rows are scored."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_TZ", "OUTPUT_KINDS", "OutputFile", "column_names", "journal_rows", "local_time", "spreadsheet_safe",
           "zone"]

#: Output file suffix → format.
OUTPUT_KINDS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
#: Time zone of the ``local_time`` column unless the caller names another.
DEFAULT_TZ = "Asia/Shanghai"
#: Spreadsheet applications read a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(_FORMULA_START)

_PLAIN_NUMBER = re.compile(r"[+-]?\d+")

_XLSX_MAX_ROWS = 1_048_576

_XLSX_MAX_CHARS = 32_767


@functools.lru_cache(maxsize=64)
def zone(name: str) -> Any:
    """The ``ZoneInfo`` called ``name``; ValueError naming it when unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai or UTC)") from None


def local_time(timestamp: str | None, tz: str = DEFAULT_TZ) -> str:
    """An ISO UTC timestamp as local time in ``tz``, with its offset; "" when missing or unreadable.

    >>> local_time("2026-03-12T15:40:00Z")
    '2026-03-12 23:40:00+08:00'
    """
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return moment.astimezone(zone(tz)).isoformat(sep=" ")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet cannot run as a formula: a leading ``'`` when it starts with
    ``=``, ``+``, ``-``, ``@``, tab or carriage return (OWASP), except a plain signed number such as
    the phone number ``+8613900000000``, which no spreadsheet executes and which stays as it is.

    >>> spreadsheet_safe("=1+2"), spreadsheet_safe("+8613900000000"), spreadsheet_safe("-1+1")
    ("'=1+2", '+8613900000000', "'-1+1")
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def column_names(labels: Sequence[str], *, include_text: bool = True) -> list[str]:
    """The output columns, in order, for a model with ``labels``.

    >>> column_names(["a", "b"], include_text=False)
    ['id', 'sender', 'timestamp', 'local_time', 'direction', 'label', 'p_a', 'p_b', 'evidence', 'error', 'flags']
    """
    columns = ["id", "sender", "timestamp", "local_time", "direction"] + (["text"] if include_text else [])
    return columns + ["label", *[f"p_{label}" for label in labels], "evidence", "error", "flags"]


def journal_rows(journal: Path) -> Iterator[dict[str, Any]]:
    """The scored rows of a journal (its first line is the header)."""
    with open(journal, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            yield json.loads(line)


class OutputFile:
    """The output file, written while the rows are scored (no second pass over the journal).

    Rows go to ``TARGET.tmp`` as they come; :meth:`commit` renames it into place and
    :meth:`discard` removes it (the journal keeps the rows, so ``--resume`` rebuilds it).
    CSV and XLSX cells go through :func:`spreadsheet_safe`; JSONL and Parquet keep every value.
    """

    def __init__(self, target: Path, kind: str, columns: list[str]):
        if kind not in OUTPUT_KINDS.values():
            raise ValueError(f"unknown output kind {kind!r}")
        self.target, self.kind, self.columns = target, kind, list(columns)
        self.temporary = target.with_name(target.name + ".tmp")
        self._batch: list[dict[str, Any]] = []
        self._handle: Any = None
        self._writer: Any = None
        if kind == "csv":
            import csv

            self._handle = open(self.temporary, "w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.columns)
        elif kind == "jsonl":
            self._handle = open(self.temporary, "w", encoding="utf-8")
        elif kind == "xlsx":
            self._writer = _XlsxRows(self.columns)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema([(c, pa.float64() if c.startswith("p_") else pa.string()) for c in self.columns])
            self._writer = pq.ParquetWriter(self.temporary, self._schema)

    def write(self, row: dict[str, Any]) -> None:
        """Add one row (a dict with the output columns; missing ones are empty)."""
        if self.kind == "csv":  # spreadsheet_safe, called only for the few cells it may change
            self._writer.writerow([spreadsheet_safe(value) if value.__class__ is str and value[:1] in _FORMULA_FIRST else value
                                   for value in map(row.get, self.columns)])
        elif self.kind == "jsonl":
            self._handle.write(json.dumps({c: row.get(c) for c in self.columns}, ensure_ascii=False) + "\n")
        elif self.kind == "xlsx":
            self._writer.append(row)
        else:
            self._batch.append({c: row.get(c) for c in self.columns})
            if len(self._batch) >= 50_000:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if self._batch:
            self._writer.write_table(pa.Table.from_pylist(self._batch, schema=self._schema))
            self._batch = []

    def commit(self) -> None:
        """Finish the file and rename it into place."""
        if self.kind in ("csv", "jsonl"):
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        elif self.kind == "xlsx":
            self._writer.save(self.temporary)
        else:
            self._flush_parquet()
            self._writer.close()
        os.replace(self.temporary, self.target)

    def discard(self) -> None:
        """Stop writing and remove the temporary file (never the target)."""
        try:
            if self._handle is not None:
                self._handle.close()
            elif self.kind == "parquet":
                self._writer.close()
            else:
                self._writer.discard()
        except (OSError, ValueError):
            pass
        self.temporary.unlink(missing_ok=True)


class _XlsxRows:
    """Rows as an XLSX workbook: probabilities as numbers, everything else as string cells (so
    ``10690000001`` stays text), formula-safe; a further sheet every 1,048,575 rows."""

    def __init__(self, columns: list[str]):
        from openpyxl import Workbook

        self.columns = columns
        self.workbook = Workbook(write_only=True)
        self.sheet: Any = None
        self.count = _XLSX_MAX_ROWS

    def append(self, row: dict[str, Any]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if self.count >= _XLSX_MAX_ROWS:
            name = "scored" if self.sheet is None else f"scored{len(self.workbook.worksheets) + 1}"
            self.sheet = self.workbook.create_sheet(name)
            self.sheet.append(self.columns)
            self.count = 1
        cells = []
        for column in self.columns:
            value = row.get(column)
            if column.startswith("p_"):
                cells.append(value)
                continue
            text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", "" if value is None else str(value))[:_XLSX_MAX_CHARS]
            if not text:
                cells.append(None)  # an empty cell
                continue
            cell = WriteOnlyCell(self.sheet, value=spreadsheet_safe(text))
            cell.data_type = "s"  # never a formula or a number
            cells.append(cell)
        self.sheet.append(cells)
        self.count += 1

    def discard(self) -> None:
        """Close the sheets' temporary files without writing a workbook."""
        for sheet in self.workbook.worksheets:
            sheet.close()
            cleanup = getattr(getattr(sheet, "_writer", None), "cleanup", None)  # openpyxl's temporary file
            if cleanup is not None:
                cleanup()

    def save(self, path: Path) -> None:
        if self.sheet is None:
            self.workbook.create_sheet("scored").append(self.columns)
        self.workbook.save(path)
