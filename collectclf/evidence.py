"""Evidence: the rules that fired and the n-grams that weighed most, as spans of the ORIGINAL
text (``text[start:end]``), computed from a fitted pipeline's feature row and weights."""

from __future__ import annotations

import re
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
        self.names = [str(name) for name in pipeline.named_steps["features"].get_feature_names_out()]
        self.rule_columns = {name[len("rules__rule:"):]: j for j, name in enumerate(self.names)
                             if name.startswith("rules__rule:")}
        self.is_rule = np.zeros(len(self.names), dtype=bool)
        self.is_rule[list(self.rule_columns.values())] = True
        head = pipeline.named_steps["model"]
        self.column = {str(label): k for k, label in enumerate(head.classes_)}
        coef = np.asarray(head.coef_)
        self.relative_coef = coef - coef.mean(axis=0, keepdims=True)

    def evidence(self, raw: str, normalized: Normalized, indices: np.ndarray, values: np.ndarray, label: str,
                 top: int) -> list[Evidence]:
        """Evidence for one text whose feature row (``indices``, ``values``) is already computed."""
        k = self.column.get(label)
        if k is None:
            raise ValueError(f"unknown label {label!r}")
        contributions = values * self.relative_coef[k, indices]
        rule_mask = self.is_rule[indices]
        rule_weights = dict(zip(indices[rule_mask].tolist(), contributions[rule_mask].tolist()))
        found: list[Evidence] = []
        for hit in find_rule_hits(normalized.text):
            start, end = normalized.original_span(hit.start, hit.end)
            if len(_MEANINGFUL_CHAR.findall(raw[start:end])) < 2:
                continue  # a rule that fired on punctuation (!!!) still weighs, but is no evidence to show
            weight = rule_weights.get(self.rule_columns.get(hit.rule.id, -1), 0.0)
            found.append(Evidence("rule", raw[start:end], start, end, hit.rule.label, round(weight, 4),
                                  hit.rule.id, hit.rule.description, hit.rule.cites))
        seen = {(e.start, e.end) for e in found}
        candidates = np.flatnonzero((contributions > 0) & ~rule_mask)
        ranked = candidates[np.argsort(-contributions[candidates], kind="stable")]
        locator = _Locator(normalized)
        ngrams: list[Evidence] = []
        for j, weight in zip(indices[ranked].tolist(), contributions[ranked].tolist()):
            if len(ngrams) >= top:
                break
            if not _meaningful(self.names[j]):
                continue
            span = locator.find(self.names[j])
            if span is None or span in seen:
                continue
            seen.add(span)
            ngrams.append(Evidence("ngram", raw[span[0]:span[1]], span[0], span[1], label, round(weight, 4)))
        return found + ngrams


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
    """Finds where a ``words__a b`` or ``chars__abc`` feature occurs, as a span of the original text."""

    def __init__(self, normalized: Normalized):
        self.normalized = normalized
        self._tokens: list[tuple[str, int, int]] | None = None

    def find(self, feature_name: str) -> tuple[int, int] | None:
        kind, _, gram = feature_name.partition("__")
        text = self.normalized.text
        if kind == "chars":
            if any("\ue000" <= ch <= "\ue0ff" for ch in gram) or not gram.strip():
                return None
            at = text.find(gram)
            return None if at < 0 else self.normalized.original_span(at, at + len(gram))
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
