"""The journal of a scoring run (``OUTPUT.partial.jsonl``): a header naming what its rows depend on
(input, model digest and labels, row-shaping options), then one scored row a line. A run resumes
only from a journal whose header matches, and never throws one away unasked."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["JOURNAL_VERSION", "JournalMismatch", "PreviousRunInterrupted", "journal_header", "model_digest", "open_journal"]

#: Version of the journal header; a journal with another version is not resumed.
JOURNAL_VERSION = 2


_RESUME_HINT = "rerun the same command with --resume to continue, or with --restart to start over"


class PreviousRunInterrupted(ValueError):
    """A journal of an earlier run exists and neither --resume nor --restart was given."""


class JournalMismatch(ValueError):
    """--resume was given but the journal was written for another input, model or options."""


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


def journal_header(path: Path, options: Any, fmt: str | None, text_column: str | None, model: str,
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


def open_journal(journal: Path, header: dict[str, Any], options: Any) -> tuple[Any, int]:
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
            if old.get("redaction_key"):  # the resumed rows keep the sender pseudonyms of the first part
                header["redaction_key"] = old["redaction_key"]
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

