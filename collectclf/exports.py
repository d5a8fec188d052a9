"""Readers for SMS exports and tables; every reader yields the same :class:`Message` record.

Formats (detected from content by :func:`detect_format`, or named): ``xml`` (SMS Backup & Restore
``<smses>`` and Super Backup ``<allsms>``), ``android-db`` (``mmssms.db`` and Huawei ``sms_tb``),
``ios-db`` (``sms.db``/``chat.db``), ``vmsg`` (vMessage), ``csv``/``tsv``, ``xlsx``, ``jsonl``,
``parquet``. Files that cannot be read (encrypted or unknown containers) raise
:class:`UnreadableInput` with a one-line explanation; a record that cannot be read becomes a
``Message`` with ``error`` set, never a silent gap. See ``../shared/sms-formats.md``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import quopri
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "FORMATS",
    "Message",
    "UnreadableInput",
    "detect_format",
    "detect_text_encoding",
    "messages_from_frame",
    "read_messages",
]

FORMATS = ("xml", "android-db", "ios-db", "vmsg", "csv", "tsv", "xlsx", "jsonl", "parquet")
CHINA = timezone(timedelta(hours=8))
_APPLE_EPOCH = 978307200


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
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def parse_direction(value: Any) -> str:
    """in/out/draft/other from the many codes exports use."""
    text = str(value).strip().lower() if value is not None else ""
    for direction, words in _DIRECTION_WORDS.items():
        if text in words:
            return direction
    return "other"


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
    if b"\x00" in head[:512] and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
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


# --------------------------------------------------------------------------- XML (SMS Backup & Restore)
_BAD_REF = re.compile(r"&#(x[0-9a-fA-F]+|\d+);")


def _valid_xml_codepoint(n: int) -> bool:
    return not ((n < 0x20 and n not in (9, 10, 13)) or 0xD800 <= n <= 0xDFFF or n in (0xFFFE, 0xFFFF) or n > 0x10FFFF)


def repair_xml_references(text: str) -> str:
    """Join surrogate-pair character references into one character; drop forbidden ones."""
    def number(token: str) -> int:
        return int(token[1:], 16) if token[0] in "xX" else int(token)

    def fix(match: re.Match[str]) -> str:
        value = number(match.group(1))
        return match.group(0) if _valid_xml_codepoint(value) else ""

    def pair(match: re.Match[str]) -> str:
        high, low = number(match.group(1)), number(match.group(2))
        if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        return match.group(0)

    text = re.sub(r"&#(x[0-9a-fA-F]+|\d+);&#(x[0-9a-fA-F]+|\d+);", pair, text)
    return _BAD_REF.sub(fix, text)


class _RepairingReader(io.RawIOBase):
    """A binary stream that repairs bad character references chunk by chunk (constant memory)."""

    def __init__(self, raw: BinaryIO, encoding: str = "utf-8"):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = ""
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        block = self._raw.read(1 << 20)
        if not block:
            text = self._pending + self._decoder.decode(b"", final=True)
            self._pending = ""
            self._done = True
        else:
            text = self._pending + self._decoder.decode(block)
            keep_from = text.rfind("&")
            if keep_from < 0 or len(text) - keep_from >= 24:
                keep_from = len(text)  # no reference can be cut at the end
            else:
                previous = re.search(r"&#(x[0-9a-fA-F]+|\d+);$", text[:keep_from])
                if previous:  # the first half of a surrogate pair whose second half may follow
                    keep_from = previous.start()
            text, self._pending = text[:keep_from], text[keep_from:]
        text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)  # raw control characters
        self._buffer += repair_xml_references(text).encode("utf-8")

    def readinto(self, target: Any) -> int:
        while not self._buffer and not self._done:
            self._fill()
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _xml_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(2)
    return "utf-16" if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8"


def read_xml(path: str | Path) -> Iterator[Message]:
    """SMS Backup & Restore (``<smses>``) or Super Backup (``<allsms>``), streamed with iterparse."""
    path = Path(path)
    position = 0
    with open(path, "rb") as raw:
        stream = io.BufferedReader(_RepairingReader(raw, _xml_encoding(path)))
        parser = ET.XMLPullParser(events=("start", "end"))
        root = None
        try:
            for block in iter(lambda: stream.read(1 << 16), b""):
                parser.feed(block)
                for event, element in parser.read_events():
                    if event == "start":
                        if root is None:
                            root = element
                        continue
                    if element.tag in ("sms", "mms"):
                        yield _xml_message(element, position)
                        position += 1
                        element.clear()
                        if root is not None:
                            root.clear()
            parser.close()
        except ET.ParseError as error:
            yield Message(id=f"{position}", text=None, source="xml", position=position,
                          error=f"XML parse error ({error}); the file is truncated or malformed after message {position}")


def _xml_message(element: ET.Element, position: int) -> Message:
    get = element.attrib.get
    if element.tag == "sms":
        body = get("body")
        flags = "null_body" if body == "null" else ""
        return Message(id=str(position), text=body, sender=_clean_meta(get("address")),
                       timestamp=_utc_from_epoch(get("date"), "ms"), direction=parse_direction(get("type")),
                       source="xml", position=position, flags=flags)
    parts = []
    for part in element.iter("part"):
        if part.get("ct") == "text/plain" and part.get("text") not in (None, "null"):
            try:
                seq = int(part.get("seq", "0"))
            except ValueError:
                seq = 0
            parts.append((seq, part.get("text", "")))
    sender = ""
    for addr in element.iter("addr"):
        if addr.get("type") == "137":
            sender = _clean_meta(addr.get("address"))
    box = get("msg_box")
    return Message(id=str(position), text="".join(text for _, text in sorted(parts, key=lambda p: p[0])),
                   sender=sender or _clean_meta(get("address")), timestamp=_utc_from_epoch(get("date")),
                   direction=parse_direction(box), source="xml", position=position, flags="mms")


# --------------------------------------------------------------------------- SQLite (Android, Huawei, iOS)
def _connect_readonly(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.DatabaseError as error:
        raise UnreadableInput(f"{path}: SQLite file cannot be read ({error}); is it truncated or still locked?") from None


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def read_android_db(path: str | Path) -> Iterator[Message]:
    """Android ``mmssms.db`` (tables ``sms``, ``pdu``/``part``/``addr``) or Huawei ``sms_tb``; read-only."""
    path = Path(path)
    connection = _connect_readonly(path)
    position = 0
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        sms_table = "sms" if "sms" in tables else "sms_tb"
        columns = _columns(connection, sms_table)
        wanted = [c for c in ("address", "date", "type", "body", "deleted", "block_type") if c in columns]
        key = "_id" if "_id" in columns else "rowid"
        try:
            for row in connection.execute(f"SELECT {key}, {', '.join(wanted)} FROM {sms_table} ORDER BY {key}"):
                record = dict(zip(wanted, row[1:]))
                flags = [name for name in ("deleted", "block_type") if record.get(name) not in (None, 0, "0")]
                yield Message(id=f"sms:{row[0]}", text=record.get("body"), sender=_clean_meta(record.get("address")),
                              timestamp=_utc_from_epoch(record.get("date"), "ms"), direction=parse_direction(record.get("type")),
                              source="android-db", position=position, flags=",".join(flags))
                position += 1
            pdu, part, addr = ("pdu", "part", "addr") if sms_table == "sms" else ("pdu_tb", "part_tb", "addr_tb")
            if {pdu, part}.issubset(tables):
                yield from _android_mms(connection, pdu, part, addr if addr in tables else None, position)
        except sqlite3.DatabaseError as error:
            yield Message(id=f"error:{position}", text=None, source="android-db", position=position,
                          error=f"database read failed after {position} messages ({error}); the file may be truncated")
    finally:
        connection.close()


def _android_mms(connection: sqlite3.Connection, pdu: str, part: str, addr: str | None, position: int) -> Iterator[Message]:
    for mms_id, date, box in connection.execute(f"SELECT _id, date, msg_box FROM {pdu} ORDER BY _id").fetchall():
        texts = connection.execute(f"SELECT seq, text FROM {part} WHERE mid = ? AND ct = 'text/plain'", (mms_id,)).fetchall()
        sender = ""
        if addr:
            found = connection.execute(f"SELECT address FROM {addr} WHERE msg_id = ? AND type = 137", (mms_id,)).fetchone()
            sender = _clean_meta(found[0]) if found else ""
        text = "".join(t or "" for _, t in sorted(texts, key=lambda r: r[0] or 0) if t != "null")
        yield Message(id=f"mms:{mms_id}", text=text, sender=sender, timestamp=_utc_from_epoch(date, "s"),
                      direction=parse_direction(box), source="android-db", position=position, flags="mms")
        position += 1


def _attributed_body_text(blob: bytes | None) -> str | None:
    """Text of an iOS ``attributedBody`` typedstream (the imessage-exporter heuristic)."""
    if not blob:
        return None
    start = blob.find(b"\x01\x2b")
    if start < 0:
        return None
    index = start + 2
    length = blob[index]
    index += 1
    if length == 0x81:
        length = int.from_bytes(blob[index:index + 2], "little")
        index += 2
    elif length == 0x82:
        length = int.from_bytes(blob[index:index + 3], "little")
        index += 3
    return blob[index:index + length].decode("utf-8", errors="replace")


def read_ios_db(path: str | Path) -> Iterator[Message]:
    """iOS ``sms.db`` / macOS ``chat.db`` (``message`` + ``handle``); ``date`` in ns (or s) since 2001."""
    path = Path(path)
    connection = _connect_readonly(path)
    columns = _columns(connection, "message")
    body = "m.attributedBody" if "attributedBody" in columns else "NULL"
    query = (f"SELECT m.ROWID, m.text, {body}, m.date, m.is_from_me, h.id, m.service FROM message m "
             "LEFT JOIN handle h ON h.ROWID = m.handle_id ORDER BY m.ROWID")
    position = 0
    try:
        for rowid, text, blob, date, from_me, handle, service in connection.execute(query):
            flags = []
            if text is None:
                text = _attributed_body_text(blob)
                if text is not None:
                    flags.append("attributed_body")
            seconds = None
            if date:
                seconds = (date / 1e9 if date > 1e12 else date) + _APPLE_EPOCH
            yield Message(id=f"message:{rowid}", text=text, sender=_clean_meta(handle), timestamp=_utc_from_epoch(seconds, "s"),
                          direction="out" if from_me else "in", source="ios-db", position=position,
                          flags=",".join(flags + ([str(service)] if service and service != "SMS" else [])))
            position += 1
    except sqlite3.DatabaseError as error:
        yield Message(id=f"error:{position}", text=None, source="ios-db", position=position,
                      error=f"database read failed after {position} messages ({error})")
    finally:
        connection.close()


# --------------------------------------------------------------------------- vMessage
def read_vmsg(path: str | Path) -> Iterator[Message]:
    """vMessage ``.vmsg`` (OPPO, Meizu, ZTE, MTK, Nokia dialects); quoted-printable bodies."""
    path = Path(path)
    encoding = detect_text_encoding(path)
    position = 0
    block: list[str] = []
    with open(path, encoding="utf-8" if encoding == "mixed" else encoding, errors="replace", newline="") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.startswith("BEGIN:VMSG"):
                block = []
            elif line.startswith("END:VMSG"):
                yield _vmsg_message(block, position)
                position += 1
                block = []
            else:
                block.append(line)
    if block:
        yield Message(id=str(position), text=None, source="vmsg", position=position,
                      error="vMessage block without END:VMSG (file truncated?)")


def _vmsg_message(lines: list[str], position: int) -> Message:
    fields: dict[str, str] = {}
    body_lines: list[str] = []
    in_body = False
    i = 0
    while i < len(lines):
        line = lines[i]
        name, _, value = line.partition(":")
        upper = name.upper()
        if upper.startswith("SUBJECT"):
            if "QUOTED-PRINTABLE" in upper:
                while value.endswith("=") and i + 1 < len(lines):
                    i += 1
                    value = value[:-1] + lines[i]
                charset = re.search(r"CHARSET=([\w-]+)", upper)
                value = quopri.decodestring(value.encode("ascii", errors="ignore")).decode(
                    (charset.group(1) if charset else "utf-8").lower(), errors="replace")
            fields["body"] = value
        elif upper.startswith("DATE") and "date" not in fields:
            fields["date"] = value.strip() or line[4:].strip()
        elif upper in ("TEL", "X-BOX", "X-IRMC-BOX", "X-MESSAGE-TYPE", "DATEORIGIN"):
            fields.setdefault(upper.lower(), value.strip())
        elif upper == "END" and value == "VBODY":
            in_body = False
        elif in_body and "body" not in fields and not re.match(r"^[A-Z-]+[:;]", line):
            body_lines.append(line)
        elif upper == "BEGIN" and value == "VBODY":
            in_body = True
        i += 1
    text = fields.get("body", "\n".join(body_lines) if body_lines else None)
    box = fields.get("x-box") or fields.get("x-irmc-box") or fields.get("x-message-type") or ""
    raw_date = fields.get("dateorigin") or fields.get("date")
    return Message(id=str(position), text=text, sender=fields.get("tel", ""), timestamp=parse_time(raw_date),
                   direction=parse_direction(box), source="vmsg", position=position,
                   error=None if text is not None else "vMessage without a body")


# --------------------------------------------------------------------------- tables
TEXT_COLUMNS = ("text", "body", "content", "message", "内容", "短信内容", "信息内容", "消息内容", "短信正文", "正文", "短信", "文本", "msg", "sms")
SENDER_COLUMNS = ("sender", "address", "number", "phone", "from", "sender id", "号码", "手机号", "手机号码", "电话", "电话号码", "对方号码",
                  "发件人", "发信人", "发送方", "发送号码", "来源号码", "relationship_account")
TIME_COLUMNS = ("timestamp", "date", "time", "datetime", "message date", "时间", "日期", "日期时间", "发送时间", "接收时间", "收到时间",
                "短信时间", "mail_send_time")
DIRECTION_COLUMNS = ("direction", "type", "box", "folder", "is_from_me", "类型", "方向", "收发", "收/发", "收发类型", "信箱", "文件夹",
                     "本地动作", "local_action")
ID_COLUMNS = ("id", "_id", "message_id", "编号", "序号")


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


class _TableMapper:
    """Maps table rows (dicts) to Messages with the detected or named columns."""

    def __init__(self, columns: list[str], source: str, text_column: str | None):
        if text_column is not None:
            if text_column not in columns:
                raise UnreadableInput(f"text column {text_column!r} not found; columns are: {', '.join(map(str, columns))}")
            self.text = text_column
        else:
            found = _pick(columns, TEXT_COLUMNS)
            if found is None:
                raise UnreadableInput(f"no text column found among {', '.join(map(str, columns))}; name it with --text-column")
            self.text = found
        self.sender = _pick(columns, SENDER_COLUMNS)
        self.time = _pick(columns, TIME_COLUMNS)
        self.direction = _pick(columns, DIRECTION_COLUMNS)
        self.id = _pick(columns, ID_COLUMNS)
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


def read_csv(path: str | Path, *, text_column: str | None = None, delimiter: str | None = None) -> Iterator[Message]:
    """CSV/TSV in UTF-8 (BOM or not), GB18030/GBK or UTF-16, streamed with the csv module."""
    path = Path(path)
    encoding = detect_text_encoding(path)
    mixed = encoding == "mixed"
    with open(path, encoding="utf-8" if mixed else encoding, errors="surrogateescape" if mixed else "strict", newline="") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",\t;|").delimiter
            except csv.Error:
                delimiter = ","
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        header = [h.lstrip("\ufeff").strip() for h in header]
        mapper = _TableMapper(header, "tsv" if delimiter == "\t" else "csv", text_column)
        flags = f"encoding={encoding}" if encoding not in ("utf-8", "utf-8-sig") else ""
        for position, values in enumerate(reader):
            if mixed:
                values = [_repair_mixed(v) for v in values]
            message = mapper(dict(zip(header, values)), position)
            message.flags = flags
            if len(values) != len(header):
                message.flags = ",".join(filter(None, [flags, f"fields={len(values)}/{len(header)}"]))
            yield message


def read_jsonl(path: str | Path, *, text_column: str | None = None) -> Iterator[Message]:
    """JSON Lines; a line that is not a JSON object becomes a row with ``error`` set."""
    path = Path(path)
    mapper: _TableMapper | None = None
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        position = 0
        for line in handle:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
            except ValueError as error:
                yield Message(id=str(position), text=None, source="jsonl", position=position, error=f"invalid JSON line: {error}")
                position += 1
                continue
            if mapper is None:
                mapper = _TableMapper(list(row), "jsonl", text_column)
            yield mapper(row, position)
            position += 1


def read_xlsx(path: str | Path, *, text_column: str | None = None) -> Iterator[Message]:
    """First sheet of an XLSX workbook; the first non-empty row is the header."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header: list[str] | None = None
        position = 0
        for values in rows:
            if header is None:
                if any(v is not None for v in values):
                    header = [str(v).strip() if v is not None else f"column{i}" for i, v in enumerate(values)]
                    mapper = _TableMapper(header, "xlsx", text_column)
                continue
            if all(v is None for v in values):
                continue
            yield mapper(dict(zip(header, values)), position)
            position += 1
    finally:
        workbook.close()


def read_parquet(path: str | Path, *, text_column: str | None = None) -> Iterator[Message]:
    """Parquet, read in record batches."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path)
    mapper = _TableMapper(table.schema_arrow.names, "parquet", text_column)
    position = 0
    for batch in table.iter_batches(batch_size=10000):
        for row in batch.to_pylist():
            yield mapper(row, position)
            position += 1


def _without_missing(frame: Any) -> Any:
    """Missing values as None: nullable dtypes hold ``pd.NA``, which would otherwise be read as the text '<NA>'."""
    if not len(frame) or not frame.isna().to_numpy().any():
        return frame
    return frame.astype(object).where(frame.notna(), None)


def messages_from_frame(frame: Any, *, text_column: str | None = None, source: str = "frame") -> Iterator[Message]:
    """Messages from a pandas DataFrame or a HuggingFace ``datasets.Dataset``."""
    if hasattr(frame, "column_names") and hasattr(frame, "iter"):  # datasets.Dataset
        mapper = _TableMapper(list(frame.column_names), "dataset", text_column)
        position = 0
        for batch in frame.iter(batch_size=1000):
            names = list(batch)
            for values in zip(*(batch[n] for n in names)):
                yield mapper(dict(zip(names, values)), position)
                position += 1
        return
    columns = [str(c) for c in frame.columns]
    mapper = _TableMapper(columns, source, text_column)
    frame = _without_missing(frame)
    for position, row in enumerate(frame.itertuples(index=False, name=None)):
        yield mapper(dict(zip(columns, row)), position)


# --------------------------------------------------------------------------- entry point
def read_messages(path: str | Path, *, fmt: str | None = None, text_column: str | None = None) -> Iterator[Message]:
    """Messages of any supported export, in input order (see module docstring)."""
    path = Path(path)
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
        "xlsx": lambda: read_xlsx(path, text_column=text_column),
        "parquet": lambda: read_parquet(path, text_column=text_column),
    }
    return readers[fmt]()


def iter_texts(messages: Iterable[Message]) -> Iterator[str | None]:
    """Only the texts (for quick scripts)."""
    for message in messages:
        yield message.text
