"""Training-data augmentation: prefix crops, so that messages cut short keep their label, and clause
crops, so that a short message that is one threatening or pressuring clause reads as it should."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Collection, Sequence

from .rules import find_rule_hits
from .text import normalize

__all__ = ["MIN_CLAUSE_CHARS", "MIN_CROP_CHARS", "clause_crops", "prefix_crops"]

#: Texts shorter than this many characters get no prefix crops (too little would be left).
MIN_CROP_CHARS = 8
#: Clauses shorter than this many characters are never clause crops.
MIN_CLAUSE_CHARS = 4
#: Where a message splits into clauses: punctuation (either width) and whitespace.
_CLAUSE_BREAK = re.compile(r"[，。！？；,.!?;\s]+")


def prefix_crops(
    texts: Sequence[str], labels: Sequence[str], *, copies: int, keep: tuple[float, float] = (0.5, 0.95),
    seed: int = 0, min_chars: int = MIN_CROP_CHARS,
) -> tuple[list[str], list[str], list[int]]:
    """Training-data augmentation for messages cut short: the texts followed by ``copies`` prefix
    crops of each one, with the same label.

    A crop keeps the first ``k`` characters of a text of ``n`` characters, ``k`` drawn uniformly
    from the integers in ``[ceil(keep[0] * n), floor(keep[1] * n)]`` (and within ``1 … n - 1``),
    so every crop loses at least one character. The draws come from ``random.Random(seed)`` in
    text order, so the same inputs give the same crops. Texts shorter than ``min_chars`` are not
    cropped. The default range (50–95 %) is deliberately wider than any one test's cut: a message
    can be cut anywhere (carrier segment limits, notification previews, copy-paste), and the
    model should not be tuned to one cut-off.

    Returns ``(texts, labels, groups)``: the originals first, in order, then the crops;
    ``groups[i]`` is the index of the original text row ``i`` came from.
    """
    low, high = (float(v) for v in keep)
    if copies < 0 or int(copies) != copies:
        raise ValueError(f"truncation copies must be a whole number >= 0, not {copies!r}")
    if not 0.0 < low <= high < 1.0:
        raise ValueError(f"truncation range must satisfy 0 < low <= high < 1, not {keep!r}")
    texts, labels = list(texts), list(labels)
    out_texts, out_labels, groups = list(texts), list(labels), list(range(len(texts)))
    rng = random.Random(seed)
    for i, (text, label) in enumerate(zip(texts, labels)):
        n = len(text)
        if n < min_chars:
            continue
        first = min(n - 1, max(1, math.ceil(low * n)))
        last = max(first, min(n - 1, math.floor(high * n)))
        for _ in range(int(copies)):
            out_texts.append(text[: rng.randint(first, last)])
            out_labels.append(label)
            groups.append(i)
    return out_texts, out_labels, groups


def clause_crops(
    texts: Sequence[str], labels: Sequence[str], *, crop_labels: Collection[str], min_chars: int = MIN_CLAUSE_CHARS,
) -> tuple[list[str], list[str], list[int]]:
    """Training-data augmentation for short messages: single clauses of longer messages, with their label.

    A message whose label is in ``crop_labels`` and that splits (at punctuation and whitespace) into
    two or more clauses gives one extra row per clause of at least ``min_chars`` characters that holds
    a red-flag rule of that same label (so a clause without the threat or the pressure is never
    labelled with it). Real threats and ultimatums are mostly one short clause, while written ones
    sit inside longer messages; these rows teach the model the clause alone.

    Returns ``(texts, labels, groups)`` of the extra rows only; ``groups[i]`` is the index of the
    message the clause came from. Deterministic: no randomness. A label in ``crop_labels`` that no
    message has is refused (a misspelt label would otherwise add nothing, silently).
    """
    if isinstance(crop_labels, str):
        raise TypeError(f"crop_labels is a collection of labels, not one string: use ({crop_labels!r},)")
    if min_chars < 1:
        raise ValueError(f"min_chars must be at least 1, not {min_chars!r}")
    wanted = set(crop_labels)
    unknown = sorted(wanted - set(labels))
    if unknown:
        raise ValueError(f"clause crop labels the training data does not have: {', '.join(unknown)}")
    out_texts: list[str] = []
    out_labels: list[str] = []
    groups: list[int] = []
    for i, (text, label) in enumerate(zip(texts, labels)):
        if label not in wanted:
            continue
        clauses = [clause for clause in _CLAUSE_BREAK.split(text) if clause]
        if len(clauses) < 2:
            continue
        for clause in clauses:
            if len(clause) >= min_chars and any(hit.rule.label == label for hit in find_rule_hits(normalize(clause))):
                out_texts.append(clause)
                out_labels.append(label)
                groups.append(i)
    return out_texts, out_labels, groups
