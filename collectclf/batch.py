"""Batch scoring: stream messages, score them in parallel chunks, write one row per input message.

Guarantees: output rows are in input order, one per message read; a message that cannot be
scored gets ``error`` set and the run goes on; identical texts are scored once per chunk (and
remembered across chunks in a bounded cache); progress is journaled to ``OUTPUT.partial.jsonl``
(line-based, so a crash leaves at most one torn line, dropped on ``--resume``) and the final
file appears atomically by rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import threading
import time
import warnings
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .exports import Message, messages_from_frame, read_messages
from .text import as_text

__all__ = ["MAX_CHARS", "JournalMismatch", "PreviousRunInterrupted", "ScoreInterrupted", "ScoreOptions", "Summary", "score_file",
           "score_frame", "score_messages"]

log = logging.getLogger(__name__)

#: Longer messages are truncated to this many characters for scoring (flagged ``truncated``).
MAX_CHARS = 5000
_CACHE_SIZE = 20_000
#: Duplicate-detection keys kept in memory (about 75 MB); more go to a temporary on-disk table.
_SEEN_IN_MEMORY = 1_000_000
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_OUTPUT_KINDS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
#: Time zone of the ``local_time`` column unless the caller names another.
DEFAULT_TZ = "Asia/Shanghai"
#: Spreadsheet applications read a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The error of a message that is blank once decoded (``explain`` says the same for a blank argument).
EMPTY_TEXT = "empty text"
_PLAIN_NUMBER = re.compile(r"[+-]?\d+")
_XLSX_MAX_ROWS = 1_048_576
_XLSX_MAX_CHARS = 32_767


@dataclass
class ScoreOptions:
    """How a batch is scored; every field has the CLI's default."""

    jobs: int = 0  # 0 = all cores
    chunk_size: int = 2000
    include_text: bool = True
    incoming_only: bool = False
    resume: bool = False
    restart: bool = False  # discard the journal of an interrupted run and start over
    redact: bool = False
    progress: bool | None = None  # None = on when stderr is a terminal
    abstain_below: float | None = None
    evidence: bool = True
    tz: str = DEFAULT_TZ  # IANA zone of the local_time column


@dataclass
class Summary:
    """Counts of a run: read = scored + errored + skipped, always."""

    read: int = 0
    scored: int = 0
    errored: int = 0
    skipped: int = 0
    duplicates: int = 0
    labels: Counter = field(default_factory=Counter)
    output: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        per_label = ", ".join(f"{label} {count}" for label, count in sorted(self.labels.items(), key=lambda kv: -kv[1]))
        parts = [f"{self.read} read", f"{self.scored} scored", f"{self.errored} errored"]
        if self.skipped:
            parts.append(f"{self.skipped} not scored (not incoming)")
        text = "collectclf: " + ", ".join(parts)
        if per_label:
            text += f"; {per_label}"
        if self.duplicates:
            text += f"; {self.duplicates} duplicate messages (kept, flagged 'duplicate')"
        if self.output:
            text += f"; written to {self.output}"
        return text


# --------------------------------------------------------------------------- workers
def _model_for(reference: Any) -> Any:
    """The model in this process: a path (None = shipped) is loaded once per process; an object is itself."""
    if reference is None or isinstance(reference, (str, os.PathLike)):
        from ._loading import cached_model

        return cached_model(reference)
    return reference


def _resolve_model(model: Any, trusted: bool) -> tuple[Any, list[str]]:
    """(what workers receive, label names) for a ``model`` argument, checked before any work.

    A model directory (or None, the shipped model) is passed by path and only its checksums and
    labels are read here: the process that writes the output never holds the model or jieba.
    A pickle file is loaded here (only with ``trusted=True``) and shipped as an object.
    """
    if model is None or (isinstance(model, (str, os.PathLike)) and Path(model).is_dir()):
        from ._loading import model_labels

        return (None if model is None else os.fspath(model)), model_labels(model)
    if isinstance(model, (str, os.PathLike)):
        from . import load

        model = load(model, trusted=trusted)
    return model, [str(c) for c in model.classes_]


def _score_texts(reference: Any, texts: Sequence[str], evidence: bool, abstain_below: float | None) -> list[tuple[str, list[float], str]]:
    """Score distinct texts: (label, probabilities, evidence JSON) each. Runs in a worker.

    Evidence is computed for collection labels only (not for the model's negative label,
    ``unrelated`` in the shipped model), from the same feature rows as the probabilities.
    """
    if not texts:
        return []
    model = _model_for(reference)
    negative = getattr(model, "negative_label_", None)
    wanted = [str(c) for c in model.classes_ if str(c) != negative] if evidence else False
    proba, labels, found = model.analyse(list(texts), evidence=wanted, abstain_below=abstain_below, top=3)
    out = []
    for row, label, items in zip(proba, labels, found):
        text = json.dumps([_compact(e) for e in items], ensure_ascii=False, separators=(",", ":")) if items else ""
        out.append((label, [round(float(p), 6) for p in row], text))
    return out


def _compact(item: Any) -> dict[str, Any]:
    text = _printable(item.text)
    entry: dict[str, Any] = {"rule": item.rule_id} if item.kind == "rule" else {"ngram": text}
    entry.update(label=item.label, text=text, span=[item.start, item.end])
    return entry


# --------------------------------------------------------------------------- scoring
def _prepare(message: Message, options: ScoreOptions) -> tuple[str | None, list[str], str | None]:
    """(text to score or None, flags, error) for one message."""
    flags = [f for f in message.flags.split(",") if f]
    if message.error:
        return None, flags, message.error
    if options.incoming_only and message.direction != "in":
        flags.append(f"not_scored:direction={message.direction}")
        return None, flags, None
    if message.text is None or (isinstance(message.text, float) and message.text != message.text):
        return None, flags, "no text"
    if not isinstance(message.text, str):
        flags.append("coerced_to_text")
    text = as_text(message.text)
    if not text.strip():
        return None, flags, EMPTY_TEXT
    if len(text) > MAX_CHARS:
        flags.append(f"truncated:{len(text)}>{MAX_CHARS}")
        text = text[:MAX_CHARS]
    return text, flags, None


def score_messages(
    messages: Iterable[Message], *, model: Any = None, options: ScoreOptions | None = None, summary: Summary | None = None,
    prior: Iterable[Message] = (),
) -> Iterator[dict[str, Any]]:
    """Score messages lazily; yields one output row (a dict) per message, in input order."""
    reference, labels = _resolve_model(model, trusted=False)
    return _score_resolved(messages, reference, labels, options or ScoreOptions(),
                           summary if summary is not None else Summary(), prior)


def _score_resolved(
    messages: Iterable[Message], reference: Any, labels: list[str], options: ScoreOptions, summary: Summary,
    prior: Iterable[Message],
) -> Iterator[dict[str, Any]]:
    """:func:`score_messages` for a model already resolved by :func:`_resolve_model`."""
    jobs = options.jobs or os.cpu_count() or 1
    seen_keys = SeenKeys()
    for message in prior:
        seen_keys.add(_key(message))
    cache: OrderedDict[str, tuple[str, list[float], str]] = OrderedDict()
    chunks = _chunked(iter(messages), max(1, options.chunk_size))
    prepared = (_prepare_chunk(chunk, options) for chunk in chunks)

    def work(item: tuple[list[Message], list[tuple[str | None, list[str], str | None]]]) -> Any:
        chunk, states = item
        wanted = list(dict.fromkeys(t for t, _, _ in states if t is not None and t not in cache))
        return chunk, states, wanted

    staged = (work(item) for item in prepared)
    if jobs == 1:
        results = ((chunk, states, wanted, _score_texts(reference, wanted, options.evidence, options.abstain_below))
                   for chunk, states, wanted in staged)
    else:
        results = _parallel(staged, reference, jobs, options)
    try:
        for chunk, states, wanted, scored in results:
            fresh = dict(zip(wanted, scored))
            for message, (text, flags, error) in zip(chunk, states):
                summary.read += 1
                if seen_keys.add(_key(message)) and message.text:
                    flags.append("duplicate")
                    summary.duplicates += 1
                row = _row(message, options, labels)
                if text is not None:
                    result = fresh.get(text) or cache.get(text)
                    if result is None:  # evicted between dispatch and collection: score now
                        result = _score_texts(reference, [text], options.evidence, options.abstain_below)[0]
                    label, proba, evidence = result
                    cache[text] = result
                    cache.move_to_end(text)
                    row.update(label=label, evidence=evidence, **{f"p_{name}": p for name, p in zip(labels, proba)})
                    summary.scored += 1
                    summary.labels[label] += 1
                elif error:
                    row["error"] = error
                    summary.errored += 1
                else:
                    summary.skipped += 1
                row["flags"] = ",".join(flags)
                yield row
            while len(cache) > _CACHE_SIZE:
                cache.popitem(last=False)
    finally:
        seen_keys.close()


def _key(message: Message) -> int:
    """A signed 64-bit digest of what makes two messages the same (sender, time, text, direction)."""
    payload = json.dumps([message.sender, message.timestamp, message.text if isinstance(message.text, str) else None,
                          message.direction], ensure_ascii=False).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(payload, digest_size=8).digest(), "little", signed=True)


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


def _prepare_chunk(chunk: list[Message], options: ScoreOptions) -> tuple[list[Message], list[tuple[str | None, list[str], str | None]]]:
    return chunk, [_prepare(m, options) for m in chunk]


def _parallel(staged: Iterator[Any], reference: Any, jobs: int, options: ScoreOptions) -> Iterator[Any]:
    """Score chunks on ``jobs`` loky workers, in order, with at most 2×jobs chunks in flight."""
    from joblib import Parallel, delayed

    pending: list[Any] = []

    def tasks() -> Iterator[Any]:
        for chunk, states, wanted in staged:
            pending.append((chunk, states, wanted))
            yield delayed(_score_texts)(reference, wanted, options.evidence, options.abstain_below)

    runner = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch=f"{2 * jobs}")
    with _ctrl_c_held():
        outputs = runner(tasks())  # starts the workers and dispatches the first chunks
    try:
        for scored in outputs:
            chunk, states, wanted = pending.pop(0)
            yield chunk, states, wanted, scored
    finally:  # stopped early (Ctrl-C, an error): cancel the rest without joblib's "tasks … not used" warning
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"\d+ tasks (have been|which were)", category=UserWarning)
            outputs.close()


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Block SIGINT in this thread while worker processes start; a Ctrl-C meanwhile arrives after.

    Threads and processes started meanwhile inherit the blocked signal (a signal mask survives
    exec), so Ctrl-C at a terminal interrupts only this process, which stops the workers and says
    how to resume, instead of every worker printing its own KeyboardInterrupt traceback.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _chunked(items: Iterator[Message], size: int) -> Iterator[list[Message]]:
    while True:
        chunk = list(islice(items, size))
        if not chunk:
            return
        yield chunk


def _row(message: Message, options: ScoreOptions, labels: list[str]) -> dict[str, Any]:
    sender = message.sender
    text = message.text if isinstance(message.text, str) else as_text(message.text) if message.text is not None else ""
    sender, text = _printable(sender), _printable(text)
    if options.redact:
        from .redact import redact

        sender, text = redact(sender), redact(text)
    row: dict[str, Any] = {"id": _printable(str(message.id)), "sender": sender, "timestamp": message.timestamp or "",
                           "local_time": local_time(message.timestamp, options.tz), "direction": message.direction}
    if options.include_text:
        row["text"] = text
    row.update({"label": "", **{f"p_{name}": None for name in labels}, "evidence": "", "error": "", "flags": ""})
    return row


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


def _printable(value: str) -> str:
    """The value with lone surrogates replaced by U+FFFD, so every output encoding can hold it."""
    return value.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(value) else value


# --------------------------------------------------------------------------- files
def default_output_path(input_path: str | Path) -> Path:
    """``export.xml`` → ``export.scored.csv`` beside the input."""
    path = Path(input_path)
    return path.with_name(path.name + ".scored.csv") if not path.suffix else path.with_suffix(".scored.csv")


#: Version of the journal header; a journal with another version is not resumed.
JOURNAL_VERSION = 2
_RESUME_HINT = "rerun the same command with --resume to continue, or with --restart to start over"


class PreviousRunInterrupted(ValueError):
    """A journal of an earlier run exists and neither --resume nor --restart was given."""


class JournalMismatch(ValueError):
    """--resume was given but the journal was written for another input, model or options."""


class ScoreInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`score_file`; the message says where the rows are and how to resume."""


def model_digest(model: Any) -> str:
    """SHA-256 identifying a model: of ``config.json`` for a model directory (None = the shipped
    model; its config lists the checksums of the other files), of the file for a pickle, of the
    object's content otherwise."""
    from ._loading import default_model_dir
    from ._persist import CONFIG_NAME, sha256_file

    if model is None:
        return sha256_file(default_model_dir() / CONFIG_NAME)
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        return sha256_file(path / CONFIG_NAME if path.is_dir() else path)
    import joblib

    return "object:" + joblib.hash(model, hash_name="sha1")


def journal_header(path: Path, options: ScoreOptions, fmt: str | None, text_column: str | None, model: str,
                   labels: Sequence[str]) -> dict[str, Any]:
    """What a journal's rows depend on: the input, the model and every option that shapes a row."""
    stat = Path(path).stat()
    return {
        "collectclf_partial": JOURNAL_VERSION,
        "input": {"path": str(Path(path).resolve()), "size": stat.st_size, "mtime": int(stat.st_mtime), "format": fmt,
                  "text_column": text_column},
        "model": {"sha256": model, "labels": [str(label) for label in labels]},
        "options": {"no_text": not options.include_text, "incoming_only": options.incoming_only, "redact": options.redact,
                    "no_evidence": not options.evidence, "abstain_below": options.abstain_below, "tz": options.tz},
    }


def _mismatch(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The first difference between two journal headers, in words; None when they agree."""
    if old.get("collectclf_partial") != new["collectclf_partial"]:
        return "it was written by another version of collectclf"
    if old.get("input") != new["input"]:
        return "it belongs to a different input file (or the file changed since)"
    if (old.get("model") or {}).get("sha256") != new["model"]["sha256"]:
        return "it was scored with a different model"
    if (old.get("model") or {}).get("labels") != new["model"]["labels"]:
        return "it was scored with different labels"
    before, now = old.get("options") or {}, new["options"]
    changed = [name for name in now if before.get(name) != now[name]]
    if changed:
        return "it was written with different options: " + ", ".join(
            f"--{name.replace('_', '-')} {_shown(before.get(name))} then, {_shown(now[name])} now" for name in changed)
    return None


def _shown(value: Any) -> str:
    return "on" if value is True else "off" if value in (False, None) else str(value)


def _open_journal(journal: Path, header: dict[str, Any], options: ScoreOptions) -> tuple[Any, int]:
    """Open the partial journal for appending; returns (handle, rows already written).

    An existing journal is continued with ``options.resume`` (when its header matches), replaced
    with ``options.restart``, and otherwise refused, so an interrupted run is never thrown away.
    """
    if options.resume and options.restart:
        raise ValueError("--resume and --restart cannot be combined")
    done = 0
    if journal.exists() and not options.resume and not options.restart:
        raise PreviousRunInterrupted(f"a previous run was interrupted ({journal} holds its rows): "
                                     "use --resume to continue or --restart to start over")
    if options.resume and journal.exists():
        with open(journal, "rb+") as handle:
            lines = handle.read().split(b"\n")
            complete = lines[:-1]  # the last element is '' or a torn line
            try:
                old = json.loads(complete[0]) if complete else {}
            except ValueError:
                old = {}
            problem = _mismatch(old if isinstance(old, dict) else {}, header)
            if problem:
                raise JournalMismatch(f"cannot resume from {journal}: {problem}; rerun with what the interrupted run used, "
                                      "or use --restart to start over")
            valid = [complete[0]]
            for line in complete[1:]:
                try:
                    json.loads(line)
                except ValueError:
                    break
                valid.append(line)
            handle.seek(0)
            handle.truncate()
            handle.write(b"\n".join(valid) + b"\n")
            done = len(valid) - 1
        return open(journal, "a", encoding="utf-8"), done
    handle = open(journal, "w", encoding="utf-8")
    handle.write(json.dumps(header) + "\n")
    handle.flush()
    return handle, 0


def score_file(
    path: str | Path, output: str | Path | None = None, *, model: Any = None, trusted: bool = False, fmt: str | None = None,
    text_column: str | None = None, options: ScoreOptions | None = None,
) -> Summary:
    """Score every message of an export into CSV (UTF-8 with BOM), XLSX, JSONL or Parquet.

    Returns the :class:`Summary`. The output path defaults to ``<input>.scored.csv``. In CSV and
    XLSX every text cell goes through :func:`spreadsheet_safe`; XLSX text cells are string cells.
    """
    options = options or ScoreOptions()
    zone(options.tz)
    path = Path(path)
    target = Path(output) if output else default_output_path(path)
    kind = _OUTPUT_KINDS.get(target.suffix.lower())
    if kind is None:
        raise ValueError(f"output {target}: use a .csv, .xlsx, .jsonl or .parquet name")
    reference, labels = _resolve_model(model, trusted)
    messages = read_messages(path, fmt=fmt, text_column=text_column)
    journal = target.with_name(target.name + ".partial.jsonl")
    if target.is_dir():
        raise OSError(f"cannot write {target}: it is a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        header = journal_header(path, options, fmt, text_column, model_digest(model), labels)
        handle, done = _open_journal(journal, header, options)
    except OSError as error:
        raise OSError(f"cannot write next to {target}: {error.strerror or error}") from None
    summary = Summary(output=str(target))
    start = time.perf_counter()
    source = islice(messages, done, None)
    if done:
        _recount(journal, summary)
    progress = _progress(options, initial=done)
    written = done
    try:
        with handle:
            prior = islice(read_messages(path, fmt=fmt, text_column=text_column), done) if done else ()
            for row in _score_resolved(source, reference, labels, options, summary, prior):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
                if progress is not None:
                    progress.update(1)
                if summary.read % options.chunk_size == 0:
                    handle.flush()
            handle.flush()
            os.fsync(handle.fileno())
    except KeyboardInterrupt:
        if not written:
            journal.unlink(missing_ok=True)
            raise ScoreInterrupted("interrupted before any message was scored") from None
        raise ScoreInterrupted(f"interrupted: {written} scored rows are kept in {journal}; {_RESUME_HINT}") from None
    except OSError as error:
        raise OSError(f"writing {journal} failed ({error.strerror or error}); fix it and rerun with --resume") from None
    except Exception as error:
        if not written:  # nothing to keep: a later run starts cleanly
            journal.unlink(missing_ok=True)
        else:
            error.add_note(f"{written} scored rows are kept in {journal}: fix the cause and {_RESUME_HINT}")
        raise
    finally:
        if progress is not None:
            progress.close()
    try:
        _finalise(journal, target, kind, labels, options)
    except OSError as error:
        target.with_name(target.name + ".tmp").unlink(missing_ok=True)
        raise OSError(f"writing {target} failed ({error.strerror or error}); the scored rows are kept in {journal}: "
                      "fix it and rerun with --resume") from None
    summary.seconds = time.perf_counter() - start
    return summary


def _recount(journal: Path, summary: Summary) -> None:
    with open(journal, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            row = json.loads(line)
            summary.read += 1
            if "duplicate" in (row.get("flags") or "").split(","):
                summary.duplicates += 1
            if row.get("label"):
                summary.scored += 1
                summary.labels[row["label"]] += 1
            elif row.get("error"):
                summary.errored += 1
            else:
                summary.skipped += 1


def _progress(options: ScoreOptions, initial: int) -> Any:
    show = options.progress if options.progress is not None else sys.stderr.isatty()
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(unit="msg", initial=initial, file=sys.stderr, dynamic_ncols=True)


def _journal_rows(journal: Path) -> Iterator[dict[str, Any]]:
    with open(journal, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            yield json.loads(line)


def _columns(labels: list[str], options: ScoreOptions) -> list[str]:
    columns = ["id", "sender", "timestamp", "local_time", "direction"] + (["text"] if options.include_text else [])
    return columns + ["label", *[f"p_{label}" for label in labels], "evidence", "error", "flags"]


def _finalise(journal: Path, target: Path, kind: str, labels: list[str], options: ScoreOptions) -> None:
    """Convert the journal to the requested format in a temporary file, then rename it into place."""
    temporary = target.with_name(target.name + ".tmp")
    columns = _columns(labels, options)
    if kind == "csv":
        import csv

        with open(temporary, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in _journal_rows(journal):
                writer.writerow({c: spreadsheet_safe(row.get(c)) for c in columns})
    elif kind == "xlsx":
        _write_xlsx(temporary, columns, _journal_rows(journal))
    elif kind == "jsonl":
        with open(temporary, "w", encoding="utf-8") as out:
            for row in _journal_rows(journal):
                out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.float64() if c.startswith("p_") else pa.string()) for c in columns])
        with pq.ParquetWriter(temporary, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in _journal_rows(journal):
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


def score_frame(
    frame: Any, text_column: str | None = None, *, model: Any = None, options: ScoreOptions | None = None,
) -> Any:
    """Score a pandas DataFrame or a ``datasets.Dataset``; returns a DataFrame, one row per input row."""
    import pandas as pd

    options = options or ScoreOptions(jobs=1)
    rows = list(score_messages(messages_from_frame(frame, text_column=text_column), model=model, options=options))
    return pd.DataFrame(rows)
