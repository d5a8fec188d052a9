"""Duplicate detection for batch scoring: a digest per message, and the set of digests seen so far
in bounded memory (merged phone backups repeat messages; they are flagged, never dropped)."""

from __future__ import annotations

import hashlib
import sqlite3

from .exports import Message

__all__ = ["SeenKeys", "message_key"]

#: Duplicate-detection keys kept in memory (about 75 MB); more go to a temporary on-disk table.
_SEEN_IN_MEMORY = 1_000_000


def message_key(message: Message) -> int:
    """A signed 64-bit digest of what makes two messages the same (sender, time, text, direction).

    Each field is length-prefixed (``None`` apart from ``""``), so no two different messages share
    a payload."""
    text = message.text if isinstance(message.text, str) else None
    payload = _field(message.sender) + _field(message.timestamp) + _field(text) + _field(message.direction)
    return int.from_bytes(hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little",
                          signed=True)


def _field(value: object) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    return f"{len(text)}:{text}"


class SeenKeys:
    """The keys of the messages read so far, to flag duplicates, in bounded memory.

    Up to ``memory_limit`` keys live in a set (about 75 bytes each); past that they move to a
    private temporary SQLite database, which SQLite keeps on disk and deletes when the run ends,
    so a run's memory does not grow with the size of the input.
    """

    def __init__(self, memory_limit: int | None = None):
        self.memory_limit = _SEEN_IN_MEMORY if memory_limit is None else memory_limit
        self._memory: set[int] = set()
        self._db: sqlite3.Connection | None = None
        self._pending = 0

    def add(self, key: int) -> bool:
        """Record ``key``; True when it was already recorded."""
        if self._db is None:
            if key in self._memory:
                return True
            self._memory.add(key)
            if len(self._memory) >= self.memory_limit:
                self._spill()
            return False
        self._pending += 1
        if self._pending >= 10_000:  # one transaction per 10,000 keys
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0
        return self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (key,)).rowcount == 0

    def _spill(self) -> None:
        db = sqlite3.connect("", isolation_level=None)  # "": a temporary on-disk database, deleted on close
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16000"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("CREATE TABLE seen (k INTEGER PRIMARY KEY)")
        db.execute("BEGIN")
        db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", ((k,) for k in self._memory))
        self._memory.clear()
        self._db = db

    def close(self) -> None:
        """Drop the temporary database, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None
