"""Readers for SMS exports and tables; every reader yields the same :class:`Message` record.

Formats (detected from content by :func:`detect_format`, or named): ``xml`` (SMS Backup & Restore
``<smses>`` and Super Backup ``<allsms>``), ``android-db`` (``mmssms.db`` and Huawei ``sms_tb``),
``ios-db`` (``sms.db``/``chat.db``), ``vmsg`` (vMessage), ``csv``/``tsv``, ``xlsx``, ``jsonl``,
``parquet``. Files that cannot be read (encrypted or unknown containers) raise
:class:`UnreadableInput` with a one-line explanation; a record that cannot be read becomes a
``Message`` with ``error`` set, never a silent gap. See ``../shared/sms-formats.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .databases import read_android_db, read_ios_db
from .message import CHINA, FORMATS, Message, UnreadableInput, detect_format, detect_text_encoding, parse_direction, parse_time
from .tables import (
    DIRECTION_COLUMNS,
    ID_COLUMNS,
    LABEL_COLUMNS,
    SENDER_COLUMNS,
    TABLE_FORMATS,
    TEXT_COLUMNS,
    TIME_COLUMNS,
    TableMapper,
    messages_from_frame,
    pick_column,
    read_csv,
    read_jsonl,
    read_parquet,
    read_table,
    read_xlsx,
)
from .xml_vmsg import read_vmsg, read_xml, repair_xml_references

__all__ = [
    "CHINA",
    "DIRECTION_COLUMNS",
    "FORMATS",
    "ID_COLUMNS",
    "LABEL_COLUMNS",
    "SENDER_COLUMNS",
    "TABLE_FORMATS",
    "TEXT_COLUMNS",
    "TIME_COLUMNS",
    "Message",
    "TableMapper",
    "UnreadableInput",
    "detect_format",
    "detect_text_encoding",
    "iter_texts",
    "messages_from_frame",
    "parse_direction",
    "parse_time",
    "pick_column",
    "read_android_db",
    "read_csv",
    "read_ios_db",
    "read_jsonl",
    "read_messages",
    "read_parquet",
    "read_table",
    "read_vmsg",
    "read_xlsx",
    "read_xml",
    "repair_xml_references",
]


def read_messages(path: str | Path, *, fmt: str | None = None, text_column: str | None = None,
                  sheet: str | None = None) -> Iterator[Message]:
    """Messages of any supported export, in input order (see module docstring).

    ``sheet`` reads one sheet of an XLSX workbook (all sheets with a text column otherwise);
    ``fmt="xlsx:SHEET"`` says the same (``collectclf score --sheet`` passes it so, and its resume
    journal records the sheet with the format).
    """
    path = Path(path)
    if fmt and fmt.startswith("xlsx:"):
        fmt, sheet = "xlsx", fmt[len("xlsx:"):]
    if sheet is not None:
        found = fmt or detect_format(path)
        if found != "xlsx":
            raise UnreadableInput(f"a sheet applies to XLSX workbooks; {path} is {found}")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise UnreadableInput(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if text_column is not None and fmt in ("xml", "android-db", "ios-db", "vmsg"):
        raise UnreadableInput(f"--text-column applies to tables, not to {fmt} exports")
    readers: dict[str, Any] = {
        "xml": lambda: read_xml(path),
        "android-db": lambda: read_android_db(path),
        "ios-db": lambda: read_ios_db(path),
        "vmsg": lambda: read_vmsg(path),
        "csv": lambda: read_csv(path, text_column=text_column),
        "tsv": lambda: read_csv(path, text_column=text_column, delimiter="\t"),
        "jsonl": lambda: read_jsonl(path, text_column=text_column),
        "xlsx": lambda: read_xlsx(path, text_column=text_column, sheet=sheet),
        "parquet": lambda: read_parquet(path, text_column=text_column),
    }
    return readers[fmt]()


def iter_texts(messages: Iterable[Message]) -> Iterator[str | None]:
    """Only the texts (for quick scripts)."""
    for message in messages:
        yield message.text
