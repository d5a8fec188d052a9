"""The :class:`Message` record every reader yields, the parsing of times and directions it needs,
and detection of an input's format (:func:`detect_format`) and text encoding (:func:`detect_text_encoding`)."""

from __future__ import annotations

import codecs
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "CHINA",
    "FORMATS",
    "Message",
    "UnreadableInput",
    "detect_format",
    "detect_text_encoding",
    "parse_direction",
    "parse_time",
]

FORMATS = ("xml", "android-db", "ios-db", "vmsg", "csv", "tsv", "xlsx", "jsonl", "parquet")
CHINA = timezone(timedelta(hours=8))


class UnreadableInput(ValueError):
    """The input cannot be read as any supported export (the message says why, in one line)."""


@dataclass
class Message:
    """One message from any source. ``timestamp`` is ISO-8601 UTC (or None when unknown);
    ``direction`` is in/out/draft/other; ``position`` is the 0-based order in the input."""

    id: str
    text: str | None
    sender: str = ""
    timestamp: str | None = None
    direction: str = "other"
    source: str = ""
    position: int = 0
    flags: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Field → value."""
        return asdict(self)


# --------------------------------------------------------------------------- small helpers
def _utc_from_epoch(value: Any, unit: str = "auto") -> str | None:
    """ISO UTC from an epoch number in s or ms (``auto`` by magnitude); None outside 1990–2100."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number <= 0:
        return None
    seconds = number / 1000 if unit == "ms" or (unit == "auto" and number > 1e11) else number
    if not 631152000 <= seconds <= 4102444800:
        return None
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat()[:19] + "Z"  # whole seconds


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y.%m.%d %H:%M:%S",
                 "%Y.%m.%d %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d")
_CN_TIME = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(上午|下午|晚上|中午|凌晨)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_time(value: Any, *, local: timezone = CHINA) -> str | None:
    """ISO UTC from an epoch number or a date string; strings without a zone are local (UTC+8)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=local)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _utc_from_epoch(value)
    text = str(value).strip()
    if not text or text.lower() in ("null", "nan", "none"):
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _utc_from_epoch(text)
    match = _CN_TIME.fullmatch(text)
    if match:
        year, month, day, half, hour, minute, second = match.groups()
        h = int(hour)
        if half in ("下午", "晚上") and h < 12:
            h += 12
        if half == "凌晨" and h == 12:
            h = 0
        return parse_time(datetime(int(year), int(month), int(day), h, int(minute), int(second or 0)), local=local)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parse_time(moment, local=local)
    except ValueError:
        pass
    for pattern in _TIME_FORMATS:
        try:
            return parse_time(datetime.strptime(text.replace(" GMT", ""), pattern),
                              local=timezone.utc if text.endswith("GMT") else local)
        except ValueError:
            continue
    return None


_DIRECTION_WORDS = {
    "in": {"1", "01", "in", "incoming", "received", "inbox", "deliver", "接收", "收到", "收件箱", "已接收", "收", "对方发送", "0_from_me"},
    "out": {"2", "02", "4", "5", "6", "out", "outgoing", "sent", "sendbox", "outbox", "submit", "发送", "已发送", "发件箱", "发",
            "本机发送"},
    "draft": {"3", "03", "draft", "草稿", "草稿箱"},
}


_DIRECTION_OF = {word: direction for direction, words in _DIRECTION_WORDS.items() for word in words}


def parse_direction(value: Any) -> str:
    """in/out/draft/other from the many codes exports use."""
    found = _DIRECTION_OF.get(value) if isinstance(value, str) else None  # the exact code, most of the time
    if found is not None:
        return found
    text = str(value).strip().lower() if value is not None else ""
    return _DIRECTION_OF.get(text, "other")


def _clean_meta(value: Any) -> str:
    """Metadata as a string; SB&R's literal 'null' and None become ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # phone numbers read back from spreadsheets
    text = str(value).strip()
    return "" if text.lower() in ("null", "nan", "none") else text


# --------------------------------------------------------------------------- detection
def _sqlite_tables(path: Path) -> set[str]:
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as connection:
            return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise UnreadableInput(f"{path}: SQLite file cannot be opened ({error}); is it truncated or still locked by a phone tool?") from None


def detect_format(path: str | Path) -> str:
    """Name the format of ``path`` from its content (see :data:`FORMATS`)."""
    path = Path(path)
    if not path.exists():
        raise UnreadableInput(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableInput(f"{path} is a directory; give one export file")
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if not head:
        raise UnreadableInput(f"{path} is empty")
    if head.startswith(b"SQLite format 3\x00"):
        tables = _sqlite_tables(path)
        if "sms" in tables or "sms_tb" in tables:
            return "android-db"
        if "message" in tables and "handle" in tables:
            return "ios-db"
        raise UnreadableInput(f"{path}: SQLite database without an sms, sms_tb or message table ({', '.join(sorted(tables)) or 'no tables'})")
    if head.startswith(b"ANDROID BACKUP") or head.startswith(b"MIUI BACKUP"):
        raise UnreadableInput(f"{path}: Android/MIUI backup container; extract it (e.g. with android-backup-extractor) and pass the sms database or JSON")
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in head or path.suffix.lower() in (".xlsx", ".xlsm"):
            return "xlsx"
        raise UnreadableInput(f"{path}: a ZIP archive that is not an XLSX workbook; unpack it first")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head[:2] in (b"\x78\x9c", b"\x78\xda", b"\x78\x01"):
        raise UnreadableInput(f"{path}: zlib-compressed Android backup chunk; decompress it to JSON first")
    if b"encMsgV3" in head or b"checkMsgV3" in head:
        raise UnreadableInput(f"{path}: encrypted Huawei backup; decrypt it with your backup password first")
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise UnreadableInput(f"{path}: {what}")
    if _looks_binary(head):
        raise UnreadableInput(f"{path}: binary file of an unknown kind (encrypted backup?); collectclf reads SMS exports and tables")
    text = _decode_head(head).lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        if "<smses" in text or "<allsms" in text or "<sms " in text:
            return "xml"
        raise UnreadableInput(f"{path}: XML that is not an SMS Backup & Restore or Super Backup file")
    if text.startswith("BEGIN:VMSG"):
        return "vmsg"
    if text.startswith("{"):
        return "jsonl"
    first_line = text.splitlines()[0] if text else ""
    return "tsv" if first_line.count("\t") > max(first_line.count(","), 0) else "csv"


#: Containers recognised by their first bytes (besides SQLite, ZIP/XLSX, Parquet and the backups above).
_BINARY_MAGIC = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Excel .xls (or a password-protected Office file); save it as XLSX or CSV"),
    (b"\x1f\x8b", "gzip-compressed file; decompress it first"),
    (b"BZh", "bzip2-compressed file; decompress it first"),
    (b"\xfd7zXZ\x00", "xz-compressed file; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive; unpack it first"),
    (b"Rar!\x1a\x07", "RAR archive; unpack it first"),
    (b"%PDF-", "PDF document; export the messages as CSV, XLSX or an SMS backup instead"),
    (b"\x89PNG\r\n\x1a\n", "PNG image, not an SMS export"),
    (b"\xff\xd8\xff", "JPEG image, not an SMS export"),
    (b"\x7fELF", "executable file, not an SMS export"),
)
#: C0 control bytes that text exports do not contain (tab, newlines, form feed, ^Z and ESC excepted).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1a\x1b")


def _looks_binary(head: bytes) -> bool:
    """True when control bytes (NUL above all) are a tenth of the head: a binary file, or BOM-less UTF-16.

    One stray NUL in a CSV is not enough: text readers remove it and flag the row ``nul_removed``.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls >= 3 and controls * 10 > len(head)


def _decode_head(head: bytes) -> str:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return head.decode(encoding, errors="ignore")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start > len(head) - 4:  # cut inside a character at the block end
            return head[: error.start].decode("utf-8")
    return head.decode("gb18030", errors="replace")


def detect_text_encoding(path: str | Path) -> str:
    """BOM → UTF-8 (every line valid) → GB18030 (no line valid UTF-8) → ``mixed``.

    ``mixed`` means UTF-8 with per-field GB18030 repair. GB18030 is never tried first: it
    silently accepts most UTF-8 bytes, so lines are checked one by one.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        utf8_lines = other_lines = 0
        for line in handle:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                other_lines += 1
        if not other_lines:
            return "utf-8"
        if not utf8_lines:
            handle.seek(0)
            decoder = codecs.getincrementaldecoder("gb18030")()
            try:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
                return "gb18030"
            except UnicodeDecodeError:
                pass
    return "mixed"


def _repair_mixed(value: str) -> str:
    """Re-decode surrogate-escaped bytes of a field as GB18030 (for CSVs with mixed encodings)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    return raw.decode("gb18030", errors="replace")
