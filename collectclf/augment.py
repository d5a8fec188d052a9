"""Training-data augmentation: prefix crops, so that messages cut short keep their label."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

__all__ = ["MIN_CROP_CHARS", "prefix_crops"]

#: Texts shorter than this many characters get no prefix crops (too little would be left).
MIN_CROP_CHARS = 8


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
