"""What one scoring worker does: hold the model (loaded once per process from its path), and turn a
chunk of distinct texts into (label, probabilities, evidence JSON) rows."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["model_for", "printable", "resolve_model", "score_texts"]

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def printable(value: str) -> str:
    """The value with lone surrogates replaced by U+FFFD, so every output encoding can hold it."""
    return value.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(value) else value


def model_for(reference: Any) -> Any:
    """The model in this process: a path (None = shipped) is loaded once per process; an object is itself."""
    if reference is None or isinstance(reference, (str, os.PathLike)):
        from ._loading import cached_model

        return cached_model(reference)
    return reference


def resolve_model(model: Any, trusted: bool) -> tuple[Any, list[str]]:
    """(what workers receive, label names) for a ``model`` argument, checked before any work.

    A model directory (or None, the shipped model) is passed by path and only its checksums and
    labels are read here: the process that writes the output never holds the model or jieba.
    A pickle file is loaded here (only with ``trusted=True``) and shipped as an object.
    """
    if model is None or (isinstance(model, (str, os.PathLike)) and Path(model).is_dir()):
        from ._loading import model_labels

        return (None if model is None else os.fspath(model)), model_labels(model)
    if isinstance(model, (str, os.PathLike)):
        from ._loading import load_model as load

        model = load(model, trusted=trusted)
    return model, [str(c) for c in model.classes_]


def score_texts(reference: Any, texts: Sequence[str], evidence: bool, abstain_below: float | None,
                in_worker: bool = False) -> list[tuple[str, list[float], str]]:
    """Score distinct texts: (label, probabilities, evidence JSON) each. Runs in a worker.

    Evidence is computed for collection labels only (not for the model's negative label,
    ``unrelated`` in the shipped model), from the same feature rows as the probabilities.
    ``in_worker``: this is a worker process of a parallel run; from now on it ignores Ctrl-C, which
    the parent handles (stopping the workers and saying how to resume), so no worker prints a
    KeyboardInterrupt traceback between two tasks.
    """
    if in_worker and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not texts:
        return []
    model = model_for(reference)
    negative = getattr(model, "negative_label_", None)
    wanted = [str(c) for c in model.classes_ if str(c) != negative] if evidence else False
    proba, labels, found = model.analyse(list(texts), evidence=wanted, abstain_below=abstain_below, top=3)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    out = []
    for row, label, items in zip(proba.round(6).tolist(), labels, found):
        out.append((label, row, encode([_compact(e) for e in items]) if items else ""))
    return out


def _compact(item: Any) -> dict[str, Any]:
    text = printable(item.text)
    entry: dict[str, Any] = {"rule": item.rule_id} if item.kind == "rule" else {"ngram": text}
    entry.update(label=item.label, text=text, span=[item.start, item.end])
    return entry
