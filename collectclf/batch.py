"""Batch scoring: stream messages, score them in parallel chunks, write one row per input message.

Guarantees: output rows are in input order, one per message read; a message that cannot be
scored gets ``error`` set and the run goes on; identical texts are scored once per chunk (and
remembered across chunks in a bounded cache); progress is journaled to ``OUTPUT.partial.jsonl``
(line-based, so a crash leaves at most one torn line, dropped on ``--resume``) and the final
file appears atomically by rename.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .dedupe import SeenKeys
from .dedupe import message_key as _key
from .exports import Message, messages_from_frame, read_messages
from .journal import _RESUME_HINT, JournalMismatch, PreviousRunInterrupted, journal_header, model_digest, open_journal
from .output import DEFAULT_TZ, OUTPUT_KINDS, OutputFile, column_names, journal_rows, local_time, zone
from .redact import Pseudonyms, redact_evidence
from .scoring import printable, resolve_model, score_texts
from .text import as_text

__all__ = ["MAX_CHARS", "JournalMismatch", "PreviousRunInterrupted", "ScoreInterrupted", "ScoreOptions", "Summary", "score_file",
           "score_frame", "score_messages"]

log = logging.getLogger(__name__)

#: Longer messages are truncated to this many characters for scoring (flagged ``truncated``).
MAX_CHARS = 5000
_CACHE_SIZE = 20_000
#: The error of a message that is blank once decoded (``explain`` says the same for a blank argument).
EMPTY_TEXT = "empty text"


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
    #: Key of the sender pseudonyms under ``redact`` (random per run; a resumed run reuses its journal's).
    redaction_key: bytes | None = None
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


# --------------------------------------------------------------------------- scoring
def _prepare(message: Message, options: ScoreOptions) -> tuple[str | None, list[str], str | None]:
    """(text to score or None, flags, error) for one message."""
    flags = [f for f in message.flags.split(",") if f] if message.flags else []
    if message.error:
        return None, flags, message.error
    if options.incoming_only and message.direction not in ("in", "other"):  # unknown direction counts as incoming
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
    reference, labels = resolve_model(model, trusted=False)
    return _score_resolved(messages, reference, labels, options or ScoreOptions(),
                           summary if summary is not None else Summary(), prior)


def _score_resolved(
    messages: Iterable[Message], reference: Any, labels: list[str], options: ScoreOptions, summary: Summary,
    prior: Iterable[Message],
) -> Iterator[dict[str, Any]]:
    """:func:`score_messages` for a model already resolved by :func:`_resolve_model`."""
    jobs = options.jobs or os.cpu_count() or 1
    if options.redact and options.redaction_key is None:
        options = dataclasses.replace(options, redaction_key=os.urandom(16))
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
    p_columns = [f"p_{name}" for name in labels]
    empty: dict[str, Any] = {"label": "", **dict.fromkeys(p_columns), "evidence": "", "error": "", "flags": ""}
    if jobs == 1:
        results = ((chunk, states, wanted, score_texts(reference, wanted, options.evidence, options.abstain_below))
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
                row = _row(message, options, empty)
                if text is not None:
                    result = fresh.get(text) or cache.get(text)
                    if result is None:  # evicted between dispatch and collection: score now
                        result = score_texts(reference, [text], options.evidence, options.abstain_below)[0]
                    label, proba, evidence = result
                    cache[text] = result
                    cache.move_to_end(text)
                    if options.redact and evidence:
                        evidence = redact_evidence(evidence)
                    row["label"], row["evidence"] = label, evidence
                    row.update(zip(p_columns, proba))
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






@functools.lru_cache(maxsize=65_536)
def _alias(key: bytes, sender: str) -> str:
    """The sender's pseudonym under ``key`` (see :class:`collectclf.redact.Pseudonyms`)."""
    return Pseudonyms(key).alias(sender)


def _prepare_chunk(chunk: list[Message], options: ScoreOptions) -> tuple[list[Message], list[tuple[str | None, list[str], str | None]]]:
    return chunk, [_prepare(m, options) for m in chunk]


def _parallel(staged: Iterator[Any], reference: Any, jobs: int, options: ScoreOptions) -> Iterator[Any]:
    """Score chunks on ``jobs`` loky workers, in order, with at most 2×jobs chunks in flight."""
    from joblib import Parallel, delayed

    pending: list[Any] = []

    def tasks() -> Iterator[Any]:
        for chunk, states, wanted in staged:
            pending.append((chunk, states, wanted))
            yield delayed(score_texts)(reference, wanted, options.evidence, options.abstain_below, True)

    runner = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch=f"{2 * jobs}")
    with _ctrl_c_held(), _resource_tracker_quiet():
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


@contextlib.contextmanager
def _resource_tracker_quiet() -> Iterator[None]:
    """Spawn loky's resource tracker (it takes ``-W`` options from ``sys.warnoptions``) ignoring its clean-up
    warnings: after Ctrl-C a semaphore already gone made it print one under the one-line message."""
    saved = list(sys.warnoptions)
    sys.warnoptions.append("ignore:resource_tracker:UserWarning")
    try:
        yield
    finally:
        sys.warnoptions[:] = saved


def _chunked(items: Iterator[Message], size: int) -> Iterator[list[Message]]:
    while True:
        chunk = list(islice(items, size))
        if not chunk:
            return
        yield chunk


def _row(message: Message, options: ScoreOptions, empty: dict[str, Any]) -> dict[str, Any]:
    """The output row of a message before scoring: its own columns, then ``empty`` (label, p_*, …)."""
    sender = message.sender
    text = message.text if isinstance(message.text, str) else as_text(message.text) if message.text is not None else ""
    sender, text = printable(sender), printable(text)
    if options.redact:
        from .redact import redact

        sender, text = _alias(options.redaction_key or b"", sender), redact(text)
    row: dict[str, Any] = {"id": printable(str(message.id)), "sender": sender, "timestamp": message.timestamp or "",
                           "local_time": local_time(message.timestamp, options.tz), "direction": message.direction}
    if options.include_text:
        row["text"] = text
    row.update(empty)
    return row








# --------------------------------------------------------------------------- files
def default_output_path(input_path: str | Path) -> Path:
    """``export.xml`` → ``export.scored.csv`` beside the input."""
    path = Path(input_path)
    return path.with_name(path.name + ".scored.csv") if not path.suffix else path.with_suffix(".scored.csv")








class ScoreInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`score_file`; the message says where the rows are and how to resume."""












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
    kind = OUTPUT_KINDS.get(target.suffix.lower())
    if kind is None:
        raise ValueError(f"output {target}: use a .csv, .xlsx, .jsonl or .parquet name")
    reference, labels = resolve_model(model, trusted)
    messages = read_messages(path, fmt=fmt, text_column=text_column)
    journal = target.with_name(target.name + ".partial.jsonl")
    if target.is_dir():
        raise OSError(f"cannot write {target}: it is a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        header = journal_header(path, options, fmt, text_column, model_digest(model), labels)
        if options.redact:
            header["redaction_key"] = (options.redaction_key or os.urandom(16)).hex()
        handle, done = open_journal(journal, header, options)
        if options.redact:
            options = dataclasses.replace(options, redaction_key=bytes.fromhex(header["redaction_key"]))
    except OSError as error:
        raise OSError(f"cannot write next to {target}: {error.strerror or error}") from None
    summary = Summary(output=str(target))
    start = time.perf_counter()
    source = islice(messages, done, None)
    if done:
        _recount(journal, summary)
    progress = _progress(options, initial=done)
    written = done
    output_file: OutputFile | None = None
    try:
        with handle:
            output_file = OutputFile(target, kind, column_names(labels, include_text=options.include_text))
            if done:  # the rows of the interrupted run, from its journal
                for row in journal_rows(journal):
                    output_file.write(row)
            prior = islice(read_messages(path, fmt=fmt, text_column=text_column), done) if done else ()
            encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps, without its per-call set-up
            for row in _score_resolved(source, reference, labels, options, summary, prior):
                handle.write(encode(row) + "\n")
                output_file.write(row)
                written += 1
                if progress is not None:
                    progress.update(1)
                if summary.read % options.chunk_size == 0:
                    handle.flush()
            handle.flush()
            os.fsync(handle.fileno())
        output_file.commit()
    except KeyboardInterrupt:
        _discard(output_file)
        if not written:
            journal.unlink(missing_ok=True)
            raise ScoreInterrupted("interrupted before any message was scored") from None
        raise ScoreInterrupted(f"interrupted: {written} scored rows are kept in {journal}; {_RESUME_HINT}") from None
    except OSError as error:
        _discard(output_file)
        raise OSError(f"writing {target} failed ({error.strerror or error}); the scored rows are kept in {journal}: "
                      "fix it and rerun with --resume") from None
    except Exception as error:
        _discard(output_file)
        if not written:  # nothing to keep: a later run starts cleanly
            journal.unlink(missing_ok=True)
        else:
            error.add_note(f"{written} scored rows are kept in {journal}: fix the cause and {_RESUME_HINT}")
        raise
    finally:
        if progress is not None:
            progress.close()
    journal.unlink()
    summary.seconds = time.perf_counter() - start
    return summary


def _discard(output_file: OutputFile | None) -> None:
    if output_file is not None:
        output_file.discard()


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










def score_frame(
    frame: Any, text_column: str | None = None, *, model: Any = None, options: ScoreOptions | None = None,
) -> Any:
    """Score a pandas DataFrame or a ``datasets.Dataset``; returns a DataFrame, one row per input row."""
    import pandas as pd

    options = options or ScoreOptions(jobs=1)
    rows = list(score_messages(messages_from_frame(frame, text_column=text_column), model=model, options=options))
    return pd.DataFrame(rows)
