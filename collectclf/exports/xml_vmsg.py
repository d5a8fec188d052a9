"""Text backups: SMS Backup & Restore / Super Backup XML (streamed, with bad character references
repaired) and vMessage ``.vmsg`` files."""

from __future__ import annotations

import codecs
import io
import quopri
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .message import Message, _clean_meta, _utc_from_epoch, detect_text_encoding, parse_direction, parse_time

__all__ = ["read_vmsg", "read_xml", "repair_xml_references"]


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
