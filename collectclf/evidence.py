"""Evidence: the rules that fired and the n-grams that weighed most, as spans of the ORIGINAL
text (``text[start:end]``), computed from a fitted pipeline's feature row and weights."""

from __future__ import annotations

import re
import sys
from typing import Any

import numpy as np

from .results import Evidence
from .rules import find_rule_hits
from .text import Normalized
from .tokenizer import JiebaTokenizer

__all__ = ["Explainer"]


class Explainer:
    """Turns one text's feature row into :class:`Evidence`, for a fitted pipeline
    (``features`` step with ``get_feature_names_out``, ``model`` step with ``coef_``/``classes_``).

    Built once per fitted model: the feature names, the rule columns and each class's weights
    relative to the average class (the push of a feature towards a label).
    """

    def __init__(self, pipeline: Any):
        names = [str(name) for name in pipeline.named_steps["features"].get_feature_names_out()]
        self.rule_columns = {name[len("rules__rule:"):]: j for j, name in enumerate(names) if name.startswith("rules__rule:")}
        self.is_rule = np.zeros(len(names), dtype=bool)
        self.is_rule[list(self.rule_columns.values())] = True
        # n-grams that may be shown at all (two meaningful characters, no placeholder, not a rule column),
        # decided once per feature
        shown = np.fromiter((_meaningful(name) for name in names), dtype=bool, count=len(names)) & ~self.is_rule
        # (kind, n-gram) of every shown feature, the only ones ever located; the kind strings are shared
        self.pieces: list[tuple[str, str] | None] = [None] * len(names)
        for j in np.flatnonzero(shown).tolist():
            kind, _, gram = names[j].partition("__")
            self.pieces[j] = (sys.intern(kind), gram)
        head = pipeline.named_steps["model"]
        self.column = {str(label): k for k, label in enumerate(head.classes_)}
        coef = np.asarray(head.coef_)
        relative_coef = coef - coef.mean(axis=0, keepdims=True)
        # n-gram weights with every feature that may not be shown set to zero; the rule columns' own weights
        # apart (a few columns), so that the model's weights are copied once, not twice
        self.ngram_coef = np.where(shown, relative_coef, 0.0)
        self.rule_coef = {j: relative_coef[:, j].copy() for j in self.rule_columns.values()}

    def evidence(self, raw: str, normalized: Normalized, indices: np.ndarray, values: np.ndarray, label: str,
                 top: int) -> list[Evidence]:
        """Evidence for one text whose feature row (``indices``, ``values``) is already computed."""
        k = self.column.get(label)
        if k is None:
            raise ValueError(f"unknown label {label!r}")
        found: list[Evidence] = []
        hits = find_rule_hits(normalized.text)
        if hits:
            rule_mask = self.is_rule[indices]
            rule_weights = {j: value * float(self.rule_coef[j][k])
                            for j, value in zip(indices[rule_mask].tolist(), values[rule_mask].tolist())}
            for hit in hits:
                start, end = normalized.original_span(hit.start, hit.end)
                if len(_MEANINGFUL_CHAR.findall(raw[start:end])) < 2:
                    continue  # a rule that fired on punctuation (!!!) still weighs, but is no evidence to show
                weight = rule_weights.get(self.rule_columns.get(hit.rule.id, -1), 0.0)
                found.append(Evidence("rule", raw[start:end], start, end, hit.rule.label, round(weight, 4),
                                      hit.rule.id, hit.rule.description, hit.rule.cites))
        rule_spans = [(e.start, e.end) for e in found]
        contributions = values * self.ngram_coef[k, indices]
        candidates = np.flatnonzero(contributions > 0)
        ranked = candidates[np.argsort(-contributions[candidates], kind="stable")][: 3 * top + 4]
        locator = _Locator(normalized)
        pieces: list[list[Any]] = []  # [start, end, weight]: plain lists until the pieces are final
        # overlapping n-grams (通讯, 讯录, 通讯录) are one piece of evidence: their union, at the best weight
        text = normalized.text
        for j, weight in zip(indices[ranked].tolist(), contributions[ranked].tolist()):
            kind, gram = self.pieces[j]
            if kind == "chars":  # the common case, inline: where the n-gram first occurs
                at = text.find(gram)
                if at < 0:
                    continue
                first, last = normalized.original_span(at, at + len(gram))
            else:
                span = locator.find(kind, gram)
                if span is None:
                    continue
                first, last = span
            if rule_spans and _overlaps_any(first, last, rule_spans):
                continue
            for piece in pieces:
                if first < piece[1] and piece[0] < last:
                    piece[0], piece[1] = min(piece[0], first), max(piece[1], last)
                    break
            else:
                if len(pieces) < top:
                    pieces.append([first, last, round(weight, 4)])
        # a union can swallow another piece: keep the pieces disjoint
        merged: list[list[Any]] = []
        for piece in sorted(pieces, key=lambda p: (p[0], -p[1])):
            if merged and piece[0] < merged[-1][1]:
                previous = merged[-1]
                previous[1], previous[2] = max(previous[1], piece[1]), max(previous[2], piece[2])
            else:
                merged.append(piece)
        ngrams = [Evidence("ngram", raw[start:end], start, end, label, weight)
                  for start, end, weight in sorted((_trimmed(raw, *piece) for piece in merged), key=lambda p: -p[2])]
        return found + ngrams


def _overlaps_any(first: int, last: int, spans: list[tuple[int, int]]) -> bool:
    for start, end in spans:
        if first < end and start < last:
            return True
    return False


def _trimmed(raw: str, start: int, end: int, weight: float) -> tuple[int, int, float]:
    """The piece without punctuation or spaces at either end (a union of n-grams can start on a comma),
    unless fewer than two characters would be left."""
    first, last = start, end
    while first < last and not raw[first].isalnum():
        first += 1
    while last > first and not raw[last - 1].isalnum():
        last -= 1
    return (start, end, weight) if last - first < 2 else (first, last, weight)


_MEANINGFUL_CHAR = re.compile(r"[\w]", re.UNICODE)
_PLACEHOLDER_TOKEN = re.compile(r"<[a-z]+>|[\ue000-\ue0ff]")


def _meaningful(feature_name: str) -> bool:
    """Whether an n-gram feature may be shown as evidence: at least two letters, digits or Chinese
    characters once placeholders are removed (never one character, punctuation or a slot piece)."""
    gram = feature_name.partition("__")[2]
    if _PLACEHOLDER_TOKEN.search(gram):
        return False
    return len(_MEANINGFUL_CHAR.findall(gram.replace("_", ""))) >= 2


class _Locator:
    """Finds where a shown word n-gram (``words``, "a b") occurs, as a span of the original text
    (character n-grams are located inline in :meth:`Explainer.evidence`: one ``str.find``)."""

    def __init__(self, normalized: Normalized):
        self.normalized = normalized
        self._tokens: list[tuple[str, int, int]] | None = None

    def find(self, kind: str, gram: str) -> tuple[int, int] | None:
        """The span, or None when absent; ``gram`` is shown (see :func:`_meaningful`): no placeholder
        symbol, at least two meaningful characters."""
        text = self.normalized.text
        if kind == "words":
            wanted = gram.split(" ")
            joined = "".join(wanted)
            at = text.find(joined)  # the words side by side: no need to tokenise again
            if at >= 0:
                return self.normalized.original_span(at, at + len(joined))
            if self._tokens is None:  # words separated by spaces in the text (Latin words)
                self._tokens = JiebaTokenizer().tokenize(text)
            tokens = self._tokens
            for i in range(len(tokens) - len(wanted) + 1):
                if all(tokens[i + n][0] == w for n, w in enumerate(wanted)):
                    return self.normalized.original_span(tokens[i][1], tokens[i + len(wanted) - 1][2])
        return None
