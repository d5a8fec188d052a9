"""Phone databases, opened read-only: Android ``mmssms.db`` (SMS and MMS text), Huawei ``sms_tb``,
and iOS ``sms.db`` / macOS ``chat.db``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .message import Message, UnreadableInput, _clean_meta, _utc_from_epoch, parse_direction

__all__ = ["read_android_db", "read_ios_db"]

_APPLE_EPOCH = 978307200


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
