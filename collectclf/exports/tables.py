"""Tables: CSV/TSV (any common encoding, mixed ones repaired field by field), XLSX, JSON Lines,
Parquet, pandas DataFrames and ``datasets.Dataset``. :class:`TableMapper` finds the columns."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .message import Message, UnreadableInput, _clean_meta, _repair_mixed, detect_text_encoding, parse_direction, parse_time

__all__ = [
    "DIRECTION_COLUMNS",
    "ID_COLUMNS",
    "LABEL_COLUMNS",
    "SENDER_COLUMNS",
    "TABLE_FORMATS",
    "TEXT_COLUMNS",
    "TIME_COLUMNS",
    "TableMapper",
    "messages_from_frame",
    "pick_column",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_table",
    "read_xlsx",
]

log = logging.getLogger(__name__)


TEXT_COLUMNS = ("text", "body", "content", "message", "内容", "短信内容", "信息内容", "消息内容", "短信正文", "正文", "短信", "文本", "msg", "sms")
SENDER_COLUMNS = ("sender", "address", "number", "phone", "from", "sender id", "号码", "手机号", "手机号码", "电话", "电话号码", "对方号码",
                  "发件人", "发信人", "发送方", "发送号码", "来源号码", "relationship_account")
TIME_COLUMNS = ("timestamp", "date", "time", "datetime", "message date", "时间", "日期", "日期时间", "发送时间", "接收时间", "收到时间",
                "短信时间", "mail_send_time")
DIRECTION_COLUMNS = ("direction", "type", "box", "folder", "is_from_me", "类型", "方向", "收发", "收/发", "收发类型", "信箱", "文件夹",
                     "本地动作", "local_action")
ID_COLUMNS = ("id", "_id", "message_id", "编号", "序号")
#: The label column of a training or evaluation corpus (``collectclf train``/``evaluate``).
LABEL_COLUMNS = ("label", "labels", "class", "category", "标签", "类别")
#: The formats :func:`read_table` reads (the others are message exports without extra columns).
TABLE_FORMATS = ("csv", "tsv", "xlsx", "jsonl", "parquet")
#: The csv module's field limit while reading: Python's default (131,072 characters) aborted a
#: whole file at one long message. Long texts are kept whole, as JSON Lines keeps them; scoring
#: truncates them (flag ``truncated:N>MAX``).
CSV_FIELD_LIMIT = 2**31 - 1


def pick_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` found among ``columns`` (case and surrounding spaces ignored), as spelled in ``columns``.

    >>> pick_column(["No.", " Body ", "Date"], TEXT_COLUMNS)
    ' Body '
    """
    lowered = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


class TableMapper:
    """Maps table rows (dicts) to Messages with the detected or named columns.

    Raises :class:`UnreadableInput` at construction when ``text_column`` is missing or, when it is
    None, no column has a known text name, so a bad table fails before any row is read.
    """

    def __init__(self, columns: list[str], source: str, text_column: str | None):
        if text_column is not None:
            if text_column not in columns:
                raise UnreadableInput(f"text column {text_column!r} not found; columns are: {', '.join(map(str, columns))}")
            self.text = text_column
        else:
            found = pick_column(columns, TEXT_COLUMNS)
            if found is None:
                raise UnreadableInput(f"no text column found among {', '.join(map(str, columns))}; name it with --text-column")
            self.text = found
        self.sender = pick_column(columns, SENDER_COLUMNS)
        self.time = pick_column(columns, TIME_COLUMNS)
        self.direction = pick_column(columns, DIRECTION_COLUMNS)
        self.id = pick_column(columns, ID_COLUMNS)
        self.source = source

    def __call__(self, row: dict[str, Any], position: int) -> Message:
        text = row.get(self.text)
        if isinstance(text, float) and text != text:
            text = None
        direction = "other"
        if self.direction is not None:
            raw = row.get(self.direction)
            direction = ("out" if str(raw).strip() in ("1", "True", "true") else "in") if str(self.direction).lower() == "is_from_me" \
                else parse_direction(raw)
        return Message(
            id=_clean_meta(row.get(self.id)) if self.id else str(position),
            text=text if text is None or isinstance(text, str) else str(text),
            sender=_clean_meta(row.get(self.sender)) if self.sender else "",
            timestamp=parse_time(row.get(self.time)) if self.time else None,
            direction=direction, source=self.source, position=position,
        )


def _csv_rows(path: Path, delimiter: str | None) -> Iterator[Any]:
    """First ``(header, delimiter)``, then ``(row dict, flags)`` per record; see :func:`read_csv`."""
    encoding = detect_text_encoding(path)
    mixed = encoding == "mixed"
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    with open(path, encoding="utf-8" if mixed else encoding, errors="surrogateescape" if mixed else "strict", newline="") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0].replace("\x00", ""), delimiters=",\t;|").delimiter
            except csv.Error:
                delimiter = ","
        reader = csv.reader(handle, delimiter=delimiter)
        records = 0  # read so far, the header included
        try:
            header = next(reader, None)
            if header is None:
                return
            header = [h.replace("\x00", "").lstrip("\ufeff").strip() for h in header]
            yield header, delimiter
            base = f"encoding={encoding}" if encoding not in ("utf-8", "utf-8-sig") else ""
            records = 1
            for values in reader:
                records += 1
                flags = [base] if base else []
                if any("\x00" in v for v in values):
                    values = [v.replace("\x00", "") for v in values]
                    flags.append("nul_removed")
                if mixed:
                    values = [_repair_mixed(v) for v in values]
                if len(values) != len(header):
                    flags.append(f"fields={len(values)}/{len(header)}")
                yield dict(zip(header, values)), ",".join(flags)
        except csv.Error as error:
            raise UnreadableInput(f"{path}: CSV error at line {reader.line_num} (record {records + 1}, header included): {error}") from None


def read_csv(path: str | Path, *, text_column: str | None = None, delimiter: str | None = None) -> Iterator[Message]:
    """CSV/TSV in UTF-8 (BOM or not), GB18030/GBK or UTF-16, streamed with the csv module.

    NUL bytes are removed (flag ``nul_removed``); fields of any length are read whole.
    """
    path = Path(path)
    rows = _csv_rows(path, delimiter)
    first = next(rows, None)
    if first is None:
        return
    header, delimiter = first
    mapper = TableMapper(header, "tsv" if delimiter == "\t" else "csv", text_column)
    for position, (row, flags) in enumerate(rows):
        message = mapper(row, position)
        message.flags = flags
        yield message


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str, str | None]]:
    """``(line number, row or None, flags, error)`` per non-blank line of a JSON Lines file."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            flags = ""
            if "\x00" in line:
                line, flags = line.replace("\x00", ""), "nul_removed"
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
            except ValueError as error:
                yield number, None, flags, f"invalid JSON line: {error}"
                continue
            yield number, row, flags, None


def read_jsonl(path: str | Path, *, text_column: str | None = None) -> Iterator[Message]:
    """JSON Lines; a line that is not a JSON object becomes a row with ``error`` set."""
    mapper: TableMapper | None = None
    for position, (_, row, flags, error) in enumerate(_jsonl_rows(Path(path))):
        if row is None:
            yield Message(id=str(position), text=None, source="jsonl", position=position, flags=flags, error=error)
            continue
        if mapper is None:
            mapper = TableMapper(list(row), "jsonl", text_column)
        message = mapper(row, position)
        message.flags = flags
        yield message


def _xlsx_sheets(workbook: Any, path: Path, sheet: str | None) -> list[tuple[Any, list[str]]]:
    """``(worksheet, header)`` of each non-empty sheet (only ``sheet`` when named); the header is the first non-empty row."""
    sheets = workbook.worksheets
    if sheet is not None:
        sheets = [s for s in sheets if s.title == sheet]
        if not sheets:
            names = ", ".join(repr(s.title) for s in workbook.worksheets)
            raise UnreadableInput(f"{path}: no sheet named {sheet!r}; the workbook has {names}")
    found = []
    for worksheet in sheets:
        for values in worksheet.iter_rows(values_only=True):
            if any(v is not None for v in values):
                found.append((worksheet, [str(v).strip() if v is not None else f"column{i}" for i, v in enumerate(values)]))
                break
    return found


def _xlsx_rows(worksheet: Any, header: list[str]) -> Iterator[dict[str, Any]]:
    """The rows under the header of one sheet, as dicts; empty rows are skipped."""
    rows = worksheet.iter_rows(values_only=True)
    for values in rows:
        if any(v is not None for v in values):
            break  # the header
    for values in rows:
        if all(v is None for v in values):
            continue
        yield dict(zip(header, values))


def read_xlsx(path: str | Path, *, text_column: str | None = None, sheet: str | None = None) -> Iterator[Message]:
    """Every sheet of an XLSX workbook that has a text column (or only ``sheet``), in workbook order.

    The first non-empty row of a sheet is its header. A sheet without a text column (a cover
    sheet, a pivot) is skipped with a logged note. When several sheets are read, each message's
    id is ``SHEET!ID`` (``ID`` is the id column or the row's 0-based index in its sheet); the
    ``source`` is ``xlsx:SHEET`` and ``position`` runs on across sheets.
    """
    import openpyxl

    path = Path(path)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        chosen, skipped = [], {}
        for worksheet, header in _xlsx_sheets(workbook, path, sheet):
            try:
                chosen.append((worksheet, header, TableMapper(header, f"xlsx:{worksheet.title}", text_column)))
            except UnreadableInput as error:
                if sheet is not None:
                    raise UnreadableInput(f"{path}: sheet {sheet!r}: {error}") from None
                skipped[worksheet.title] = str(error)
        if skipped and not chosen:
            reasons = "; ".join(f"sheet {name!r}: {reason}" for name, reason in skipped.items())
            raise UnreadableInput(f"{path}: no sheet has a text column ({reasons})")
        for name in skipped:  # the header cells stay out of the log: a headerless sheet's first row is a message
            log.warning("collectclf: %s: sheet %r skipped: no %s column (pick a sheet with --sheet, a column with --text-column)",
                        path.name, name, repr(text_column) if text_column else "text")
        several = len(chosen) > 1
        position = 0
        for worksheet, header, mapper in chosen:
            for index, row in enumerate(_xlsx_rows(worksheet, header)):
                message = mapper(row, position)
                if several:
                    message.id = f"{worksheet.title}!{message.id if mapper.id else index}"
                yield message
                position += 1
    finally:
        workbook.close()


def read_parquet(path: str | Path, *, text_column: str | None = None) -> Iterator[Message]:
    """Parquet, read in record batches."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path)
    mapper = TableMapper(table.schema_arrow.names, "parquet", text_column)
    position = 0
    for batch in table.iter_batches(batch_size=10000):
        for row in batch.to_pylist():
            yield mapper(row, position)
            position += 1


def read_table(path: str | Path, fmt: str, *, sheet: str | None = None) -> Iterator[tuple[str, list[str], Iterator[tuple[dict[str, Any], str]]]]:
    """Whole rows of a table file, for readers that need more columns than :class:`Message` keeps
    (the label of a training corpus).

    Yields ``(sheet, columns, rows)`` per table: one for CSV/TSV/JSONL/Parquet (``sheet`` is
    ``""``), one per non-empty sheet of an XLSX workbook (only ``sheet`` when named); ``rows``
    yields ``(row dict, flags)`` and must be consumed before the next table. The bytes are read as
    :func:`read_messages` reads them: encoding detection and repair, NUL removal, long fields.
    A JSON line that is not an object raises :class:`UnreadableInput` naming the line.
    """
    path = Path(path)
    if fmt not in TABLE_FORMATS:
        raise UnreadableInput(f"{path}: a {fmt} export is not a table; use CSV, TSV, XLSX, JSON Lines or Parquet")
    if fmt in ("csv", "tsv"):
        rows = _csv_rows(path, "\t" if fmt == "tsv" else None)
        first = next(rows, None)
        if first is not None:
            yield "", first[0], rows
    elif fmt == "jsonl":
        def objects() -> Iterator[tuple[dict[str, Any], str]]:
            for number, row, flags, error in _jsonl_rows(path):
                if row is None:
                    raise UnreadableInput(f"{path}: line {number}: {error}")
                yield row, flags

        lines = objects()
        first_row = next(lines, None)
        if first_row is not None:
            yield "", list(first_row[0]), _chain([first_row], lines)
    elif fmt == "xlsx":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            for worksheet, header in _xlsx_sheets(workbook, path, sheet):
                yield worksheet.title, header, ((row, "") for row in _xlsx_rows(worksheet, header))
        finally:
            workbook.close()
    else:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path)
        yield "", list(table.schema_arrow.names), ((row, "") for batch in table.iter_batches(batch_size=10000)
                                                   for row in batch.to_pylist())


def _chain(*parts: Any) -> Iterator[Any]:
    for part in parts:
        yield from part


def _without_missing(frame: Any) -> Any:
    """Missing values as None: nullable dtypes hold ``pd.NA``, which would otherwise be read as the text '<NA>'."""
    if not len(frame) or not frame.isna().to_numpy().any():
        return frame
    return frame.astype(object).where(frame.notna(), None)


def messages_from_frame(frame: Any, *, text_column: str | None = None, source: str = "frame") -> Iterator[Message]:
    """Messages from a pandas DataFrame or a HuggingFace ``datasets.Dataset``."""
    if hasattr(frame, "column_names") and hasattr(frame, "iter"):  # datasets.Dataset
        mapper = TableMapper(list(frame.column_names), "dataset", text_column)
        position = 0
        for batch in frame.iter(batch_size=1000):
            names = list(batch)
            for values in zip(*(batch[n] for n in names)):
                yield mapper(dict(zip(names, values)), position)
                position += 1
        return
    columns = [str(c) for c in frame.columns]
    mapper = TableMapper(columns, source, text_column)
    frame = _without_missing(frame)
    for position, row in enumerate(frame.itertuples(index=False, name=None)):
        yield mapper(dict(zip(columns, row)), position)
