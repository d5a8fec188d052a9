"""Feature extraction: normalised text → word n-grams + character n-grams + red-flag indicators.

Built from scikit-learn's own pieces (``TfidfVectorizer``, ``FeatureUnion``) so that the whole
flow is one ``Pipeline`` that ``clone``, ``cross_validate`` and ``GridSearchCV`` understand.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from .rules import RULES, find_rule_hits
from .text import as_text, normalize, placeholders_as_symbols
from .tokenizer import JiebaTokenizer

__all__ = ["RuleFeatures", "TextNormalizer", "as_text", "make_features"]


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Stateless transformer applying :func:`collectclf.text.normalize` to each text."""

    def fit(self, X: Iterable[object], y: object = None) -> TextNormalizer:
        """Nothing to learn; returns self."""
        self.fitted_ = True
        return self

    def transform(self, X: Iterable[object]) -> list[str]:
        """Normalised texts."""
        return [normalize(as_text(x)) for x in X]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


class RuleFeatures(TransformerMixin, BaseEstimator):
    """One 0/1 column per red-flag rule of :mod:`collectclf.rules` (on normalised text)."""

    def fit(self, X: Iterable[str], y: object = None) -> RuleFeatures:
        """Nothing to learn; records the rule ids as feature names."""
        self.rule_ids_ = [rule.id for rule in RULES]
        return self

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        """Sparse indicator matrix, one row per text."""
        index = {rule.id: i for i, rule in enumerate(RULES)}
        rows: list[int] = []
        cols: list[int] = []
        count = 0
        for row, text in enumerate(X):
            fired = {index[hit.rule.id] for hit in find_rule_hits(text)}
            rows.extend([row] * len(fired))
            cols.extend(sorted(fired))
            count = row + 1
        data = np.ones(len(rows), dtype=np.float64)
        return sp.csr_matrix((data, (rows, cols)), shape=(count, len(RULES)))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """``rule:<id>`` for each rule."""
        return np.array([f"rule:{rule.id}" for rule in RULES], dtype=object)


def make_word_vectorizer(ngram_range: tuple[int, int] = (1, 2), min_df: int = 2) -> TfidfVectorizer:
    """Word n-grams from jieba tokens (placeholders kept whole)."""
    return TfidfVectorizer(
        tokenizer=JiebaTokenizer(), token_pattern=None, lowercase=False,
        ngram_range=ngram_range, min_df=min_df, sublinear_tf=True, dtype=np.float64,
    )


class CharTfidf(TfidfVectorizer):
    """``TfidfVectorizer(analyzer="char")`` whose ``transform`` finds the vocabulary's n-grams with one
    compiled Aho-Corasick pass (``pyahocorasick``) instead of building a Python string per n-gram, and
    its single characters with one array lookup for the whole batch.

    Every occurrence of a vocabulary n-gram is an occurrence of that n-gram, so the counts, the
    TF-IDF weights and the normalised rows equal scikit-learn's (a test compares them). Fitting is
    scikit-learn's own; without ``pyahocorasick`` transform falls back to it.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_matcher_for", None)  # rebuilt lazily where it is needed
        return state

    def _matcher(self) -> tuple[Any, np.ndarray] | None:
        """(automaton of the vocabulary's n-grams of two or more characters, column of each single
        character by code point or -1) for the current ``vocabulary_``, rebuilt when a fit or a
        load replaces it; None without ``pyahocorasick``."""
        built = self.__dict__.get("_matcher_for")
        if built is not None and built[0] is self.vocabulary_:
            return built[1]
        try:
            import ahocorasick
        except ImportError:
            return None
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        single = np.full(0x110000, -1, dtype=np.int32)
        for term, column in self.vocabulary_.items():
            if len(term) == 1:
                single[ord(term)] = column
            else:
                automaton.add_word(term, column)
        if len(automaton):
            automaton.make_automaton()
        self._matcher_for = (self.vocabulary_, (automaton, single))
        return automaton, single

    def transform(self, raw_documents: Any) -> sp.csr_matrix:
        if self.analyzer != "char" or self.lowercase or not getattr(self, "vocabulary_", None):
            return super().transform(raw_documents)
        matcher = self._matcher()
        if matcher is None:
            return super().transform(raw_documents)
        automaton, single = matcher
        spaces = _WHITE_SPACES
        prepare = self.preprocessor or (lambda text: text)
        texts = [spaces.sub(" ", prepare(document)) for document in raw_documents]
        # longer n-grams: one automaton pass per text
        indices: list[int] = []
        indptr = [0]
        if len(automaton):
            for text in texts:
                indices.extend(map(_SECOND, automaton.iter(text)))
                indptr.append(len(indices))
        else:
            indptr.extend([0] * len(texts))
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(np.asarray(indptr, dtype=np.int64)))
        # single characters: one array lookup for the whole batch
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        columns = single[codes]
        known = columns >= 0
        rows = np.concatenate([rows, np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[known]])
        columns = np.concatenate([np.asarray(indices, dtype=np.int64), columns[known]])
        counts = sp.csr_matrix((np.ones(len(rows), dtype=self.dtype), (rows, columns)),
                               shape=(len(texts), len(self.vocabulary_)))
        counts.sum_duplicates()
        return self._tfidf.transform(counts, copy=False)


_SECOND = operator.itemgetter(1)  # (end position, column) → column
#: scikit-learn's char analyzer folds runs of whitespace to one space before cutting n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")


def make_char_vectorizer(ngram_range: tuple[int, int] = (1, 3), min_df: int = 2) -> TfidfVectorizer:
    """Character n-grams, each placeholder counted as one symbol."""
    return CharTfidf(
        analyzer="char", preprocessor=placeholders_as_symbols, lowercase=False,
        ngram_range=ngram_range, min_df=min_df, sublinear_tf=True, dtype=np.float64,
    )


def make_features(
    *,
    word_ngram_range: tuple[int, int] | None = (1, 2),
    char_ngram_range: tuple[int, int] = (1, 3),
    min_df: int = 2,
    rule_weight: float = 1.0,
) -> FeatureUnion:
    """The feature step: words, characters and (weighted) rule indicators, side by side.

    ``word_ngram_range=None`` leaves the jieba words out and ``rule_weight=0`` the rule columns,
    so the cheaper character-only flows are the same kind of object.
    """
    parts: list[tuple[str, Any]] = []
    if word_ngram_range is not None:
        parts.append(("words", make_word_vectorizer(tuple(word_ngram_range), min_df)))
    parts.append(("chars", make_char_vectorizer(tuple(char_ngram_range), min_df)))
    if rule_weight:
        parts.append(("rules", RuleFeatures()))
    return FeatureUnion(parts, transformer_weights={name: rule_weight if name == "rules" else 1.0 for name, _ in parts})
