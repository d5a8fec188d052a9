"""The output file of batch scoring: its columns, local time, spreadsheet safety, and the final CSV
(UTF-8 with BOM, for Excel), XLSX, JSONL or Parquet file written from the journal of scored rows."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_TZ", "OUTPUT_KINDS", "column_names", "journal_rows", "local_time", "spreadsheet_safe", "write_output",
           "zone"]

#: Output file suffix → format.
OUTPUT_KINDS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
#: Time zone of the ``local_time`` column unless the caller names another.
DEFAULT_TZ = "Asia/Shanghai"
#: Spreadsheet applications read a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"[+-]?\d+")

_XLSX_MAX_ROWS = 1_048_576

_XLSX_MAX_CHARS = 32_767


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
    from datetime import datetime

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


def write_output(journal: Path, target: Path, kind: str, columns: list[str]) -> None:
    """Convert the journal to ``kind`` in a temporary file, rename it into place, delete the journal.
    CSV and XLSX cells go through :func:`spreadsheet_safe`; JSONL and Parquet keep every value."""
    temporary = target.with_name(target.name + ".tmp")
    if kind == "csv":
        import csv

        with open(temporary, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in journal_rows(journal):
                writer.writerow({c: spreadsheet_safe(row.get(c)) for c in columns})
    elif kind == "xlsx":
        _write_xlsx(temporary, columns, journal_rows(journal))
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


def _write_xlsx(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Rows as an XLSX workbook: probabilities as numbers, everything else as string cells (so
    ``10690000001`` stays text), formula-safe; a further sheet every 1,048,575 rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet, count = None, _XLSX_MAX_ROWS
    for row in rows:
        if count >= _XLSX_MAX_ROWS:
            sheet = workbook.create_sheet("scored" if sheet is None else f"scored{len(workbook.worksheets) + 1}")
            sheet.append(columns)
            count = 1
        cells = []
        for column in columns:
            value = row.get(column)
            if column.startswith("p_"):
                cells.append(value)
                continue
            text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", "" if value is None else str(value))[:_XLSX_MAX_CHARS]
            if not text:
                cells.append(None)  # an empty cell
                continue
            cell = WriteOnlyCell(sheet, value=spreadsheet_safe(text))
            cell.data_type = "s"  # never a formula or a number
            cells.append(cell)
        sheet.append(cells)
        count += 1
    if sheet is None:
        workbook.create_sheet("scored").append(columns)
    workbook.save(path)
