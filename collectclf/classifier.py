"""The classifier: one scikit-learn ``Pipeline`` (normalise → features → calibrated linear model),
with scores, evidence, and save/load as plain data.

>>> clf = Classifier().fit(["请按时还款,谢谢"] * 6 + ["验证码<num>"] * 6, ["compliant"] * 6 + ["unrelated"] * 6)
>>> list(clf.classes_)
['compliant', 'unrelated']
"""

from __future__ import annotations

import functools
import json
import math
import platform
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from . import _persist
from .features import RuleFeatures, TextNormalizer, as_text, make_char_vectorizer, make_features, make_word_vectorizer
from .labels import UNCERTAIN
from .rules import find_rule_hits
from .text import JiebaTokenizer, Normalized, normalize_with_offsets

__all__ = ["MODEL_FAMILIES", "CalibratedLinear", "Classifier", "Evidence", "Result", "prefix_crops"]

MODEL_FAMILIES = ("logreg", "svm", "sgd", "cnb")


# --------------------------------------------------------------------------- calibrated linear head
def _linear_parameters(estimator: Any, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) with one row per class, for any fitted linear scikit-learn classifier."""
    if hasattr(estimator, "coef_"):
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
        if coef.shape[0] == 1 and len(classes) == 2:
            coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
            intercept = np.array([0.0, intercept[0]])
    elif hasattr(estimator, "feature_log_prob_"):  # naive Bayes: joint log-likelihood is linear
        coef = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        intercept = np.zeros(coef.shape[0])
    else:
        raise TypeError(f"{type(estimator).__name__} is not a linear classifier")
    if list(estimator.classes_) != list(classes):
        raise ValueError("a cross-validation fold lacks a class; use fewer calibration folds")
    return coef, intercept


def _as_csr(X: Any) -> sp.csr_matrix:
    return X if sp.issparse(X) else sp.csr_matrix(np.asarray(X, dtype=np.float64))


class CalibratedLinear(ClassifierMixin, BaseEstimator):
    """A linear classifier whose scores are calibrated by temperature scaling.

    The base estimator is fitted on all data; a single temperature ``T`` is fitted on its
    out-of-fold decision scores by minimising log-loss, and ``predict_proba`` returns
    ``softmax(decision / T)``. The fitted state is three plain arrays (``coef_``,
    ``intercept_``, ``classes_``) and a float, which is what makes saved models survive
    scikit-learn upgrades.

    Parameters
    ----------
    estimator : linear scikit-learn classifier
        Anything with ``coef_``/``intercept_`` or ``feature_log_prob_`` after fitting.
    cv : int
        Folds for the out-of-fold scores; 0 or 1 skips calibration (``T = 1``).
    random_state : int
        Seed for the fold split.

    ``fit`` takes optional ``groups`` (one id per row): rows sharing an id stay in the same
    calibration fold (``StratifiedGroupKFold``), so an augmented copy of a message is never
    scored by a model trained on another copy of it.
    """

    def __init__(self, estimator: Any = None, *, cv: int = 5, random_state: int = 0):
        self.estimator = estimator
        self.cv = cv
        self.random_state = random_state

    def _base(self) -> Any:
        return clone(self.estimator) if self.estimator is not None else LogisticRegression(max_iter=3000)

    def fit(self, X: Any, y: Sequence[str], groups: Sequence[int] | None = None) -> CalibratedLinear:
        """Fit the base estimator and the temperature (``groups``: keep rows with one id in one fold)."""
        X = _as_csr(X)
        y = np.asarray([str(label) for label in y], dtype=object)
        self.classes_ = np.unique(y)
        self.temperature_ = 1.0
        if self.cv and self.cv > 1 and len(self.classes_) > 1:
            kind = StratifiedKFold if groups is None else StratifiedGroupKFold
            folds = kind(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            scores = np.zeros((X.shape[0], len(self.classes_)))
            for train, test in folds.split(X, y, groups):
                coef, intercept = _linear_parameters(self._base().fit(X[train], y[train]), self.classes_)
                scores[test] = X[test] @ coef.T + intercept
            target = np.searchsorted(self.classes_, y)

            def loss(log_t: float) -> float:
                return -log_softmax(scores / np.exp(log_t), axis=1)[np.arange(len(y)), target].mean()

            self.temperature_ = float(np.exp(minimize_scalar(loss, bounds=(-6, 6), method="bounded").x))
        self.coef_, self.intercept_ = _linear_parameters(self._base().fit(X, y), self.classes_)
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Uncalibrated linear scores, one column per class."""
        return np.asarray(_as_csr(X) @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, one column per class, rows summing to 1."""
        return softmax(self.decision_function(X) / self.temperature_, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class per row."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]


def make_estimator(model: str, *, C: float, alpha: float, random_state: int) -> Any:
    """The base linear estimator of a model family (see :data:`MODEL_FAMILIES`)."""
    if model == "logreg":
        return LogisticRegression(C=C, max_iter=3000)
    if model == "svm":
        return LinearSVC(C=C, random_state=random_state)
    if model == "sgd":
        return SGDClassifier(loss="modified_huber", alpha=alpha, max_iter=50, tol=None, random_state=random_state)
    if model == "cnb":
        return ComplementNB(alpha=alpha)
    raise ValueError(f"unknown model family {model!r}; choose one of {', '.join(MODEL_FAMILIES)}")


# --------------------------------------------------------------------------- augmentation
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


# --------------------------------------------------------------------------- results
@dataclass
class Evidence:
    """Why a label was given: a rule that fired or an n-gram that weighed, with its span in the
    ORIGINAL text (``text[start:end] == self.text``)."""

    kind: str  # "rule" or "ngram"
    text: str
    start: int
    end: int
    label: str
    weight: float
    rule_id: str | None = None
    description: str | None = None
    cites: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, dropping empty fields."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class Result:
    """One classified message: ``label``, ``scores`` (label → probability, sum 1), ``evidence``."""

    label: str
    scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"label": self.label, "scores": self.scores, "evidence": [e.to_dict() for e in self.evidence]}


# --------------------------------------------------------------------------- the classifier
def _versions() -> dict[str, str]:
    from . import __version__

    names = ("scikit-learn", "numpy", "scipy", "jieba", "opencc")
    found = {"python": platform.python_version(), "collectclf": __version__}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


class Classifier(ClassifierMixin, BaseEstimator):
    """Chinese debt-collection message classifier (a scikit-learn estimator).

    Parameters
    ----------
    model : {"logreg", "svm", "sgd", "cnb"}
        Linear model family; every family is calibrated by temperature scaling.
    C, alpha : float
        Regularisation: ``C`` for logreg/svm, ``alpha`` for sgd/cnb.
    word_ngram_range, char_ngram_range : tuple of int
        n-gram ranges over jieba tokens and over characters.
    min_df : int
        Minimum document frequency of an n-gram.
    rule_weight : float
        Scale of the red-flag indicator columns.
    calibration_cv : int
        Folds used to fit the temperature.
    truncation_copies : int
        Training-data augmentation: ``fit`` adds this many prefix crops of every training text
        (same label; see :func:`prefix_crops`) so that messages cut short keep their label.
        0 (the default) trains on the texts as given. The crops of a text share its calibration fold.
    truncation_range : tuple of float
        The share of characters a crop keeps, drawn uniformly between these bounds.
    random_state : int
        Seed for every random choice (fold splits, SGD/SVM, crops).
    """

    def __init__(
        self,
        model: str = "logreg",
        *,
        C: float = 20.0,
        alpha: float = 1e-5,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 2,
        rule_weight: float = 1.0,
        calibration_cv: int = 5,
        truncation_copies: int = 0,
        truncation_range: tuple[float, float] = (0.5, 0.95),
        random_state: int = 0,
    ):
        self.model = model
        self.C = C
        self.alpha = alpha
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.rule_weight = rule_weight
        self.calibration_cv = calibration_cv
        self.truncation_copies = truncation_copies
        self.truncation_range = truncation_range
        self.random_state = random_state

    # ---------------------------------------------------------------- fitting
    def build_pipeline(self) -> Pipeline:
        """The unfitted flow for these parameters: normalise → features → calibrated model."""
        return Pipeline(
            [
                ("normalize", TextNormalizer()),
                ("features", make_features(
                    word_ngram_range=tuple(self.word_ngram_range), char_ngram_range=tuple(self.char_ngram_range),
                    min_df=self.min_df, rule_weight=self.rule_weight,
                )),
                ("model", CalibratedLinear(
                    make_estimator(self.model, C=self.C, alpha=self.alpha, random_state=self.random_state),
                    cv=self.calibration_cv, random_state=self.random_state,
                )),
            ]
        )

    def fit(self, X: Iterable[object], y: Iterable[str]) -> Classifier:
        """Fit the whole flow on texts ``X`` and labels ``y`` (any label set)."""
        texts = [as_text(x) for x in X]
        labels = [str(label) for label in y]
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        for cached in ("_feature_index", "_relative_coef"):  # derived from the previous fit
            self.__dict__.pop(cached, None)
        if self.truncation_copies:
            self.pipeline_ = self._fit_augmented(texts, labels)
        else:
            self.pipeline_ = self.build_pipeline().fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        self.thresholds_: dict[str, float] = {}
        self.metadata_: dict[str, Any] = {}
        return self

    def _fit_augmented(self, texts: list[str], labels: list[str]) -> Pipeline:
        """Fit with :func:`prefix_crops` added: the vocabularies and IDF come from the messages as
        given (so ``min_df`` still counts messages, not a message and its crops); the linear model
        is fitted on the messages and their crops, each message's crops in its calibration fold."""
        all_texts, all_labels, groups = prefix_crops(texts, labels, copies=self.truncation_copies,
                                                     keep=tuple(self.truncation_range), seed=self.random_state)
        pipeline = self.build_pipeline()
        normalize, features, head = (pipeline.named_steps[name] for name in ("normalize", "features", "model"))
        normalized = normalize.fit(all_texts).transform(all_texts)
        features.fit(normalized[: len(texts)], labels)
        head.fit(features.transform(normalized), all_labels, groups=groups)
        return pipeline

    def _fitted(self) -> Pipeline:
        pipeline = getattr(self, "pipeline_", None)
        if pipeline is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Classifier is not fitted yet; call fit() or collectclf.load()")
        return pipeline

    # ---------------------------------------------------------------- prediction
    def predict_proba(self, X: Iterable[object]) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, len(classes_))``; rows sum to 1."""
        return self._fitted().predict_proba([as_text(x) for x in X])

    def predict(self, X: Iterable[object]) -> np.ndarray:
        """The most probable label per text."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def decide(self, proba: np.ndarray, *, abstain_below: float | None = None) -> list[str]:
        """Labels from probability rows: argmax, or ``uncertain`` below a confidence.

        The confidence is ``abstain_below`` when given, otherwise the model's per-label
        threshold for the top label (``thresholds_``, empty unless set) when it has one.
        """
        labels = []
        for row in np.atleast_2d(proba):
            best = int(np.argmax(row))
            label = str(self.classes_[best])
            limit = abstain_below if abstain_below is not None else self.thresholds_.get(label)
            labels.append(UNCERTAIN if limit is not None and row[best] < limit else label)
        return labels

    def scores(self, X: Iterable[object]) -> list[dict[str, float]]:
        """Label → probability dicts, one per text."""
        return [dict(zip(map(str, self.classes_), map(float, row))) for row in self.predict_proba(X)]

    def classify(
        self, texts: str | Iterable[object], *, evidence: bool = True, abstain_below: float | None = None
    ) -> Result | list[Result]:
        """Label, scores and evidence for one text (returns a Result) or many (a list)."""
        single = isinstance(texts, str)
        batch = [texts] if single else [as_text(t) for t in texts]
        proba, labels, found = self.analyse(batch, evidence=evidence, abstain_below=abstain_below)
        results = [Result(label, dict(zip(map(str, self.classes_), map(float, row))), items)
                   for row, label, items in zip(proba, labels, found)]
        return results[0] if single else results

    def analyse(
        self, texts: Sequence[str], *, evidence: bool | Iterable[bool] = True, abstain_below: float | None = None, top: int = 5,
    ) -> tuple[np.ndarray, list[str], list[list[Evidence]]]:
        """Probabilities, labels and evidence for many texts, computing the features only once.

        ``evidence``: True for every label, False for none, or the labels whose messages get
        evidence (batch scoring skips ``unrelated``, most of a phone). With evidence, each text is
        normalised once with its offset map and the same normalised text feeds the features.
        """
        pipeline = self._fitted()
        raw = [as_text(text) for text in texts]
        wanted = set(map(str, self.classes_)) if evidence is True else set() if evidence is False else set(evidence)
        mapped = [normalize_with_offsets(text) for text in raw] if wanted else None
        normalized = [m.text for m in mapped] if mapped is not None else pipeline.named_steps["normalize"].transform(raw)
        X = pipeline.named_steps["features"].transform(normalized).tocsr()
        head: CalibratedLinear = pipeline.named_steps["model"]
        proba = head.predict_proba(X)
        labels = self.decide(proba, abstain_below=abstain_below)
        found: list[list[Evidence]] = []
        for i, label in enumerate(labels):
            target = label if label != UNCERTAIN else str(self.classes_[int(np.argmax(proba[i]))])
            if mapped is not None and target in wanted and label in wanted | {UNCERTAIN}:
                lo, hi = X.indptr[i], X.indptr[i + 1]
                found.append(self._evidence(raw[i], mapped[i], X.indices[lo:hi], X.data[lo:hi], target, top))
            else:
                found.append([])
        return proba, labels, found

    # ---------------------------------------------------------------- evidence
    @functools.cached_property
    def _feature_index(self) -> tuple[list[str], dict[str, int], np.ndarray]:
        """Feature names, the column of each rule, and a mask of the rule columns (once per fitted model)."""
        names = [str(name) for name in self._fitted().named_steps["features"].get_feature_names_out()]
        rules = {name[len("rules__rule:"):]: j for j, name in enumerate(names) if name.startswith("rules__rule:")}
        is_rule = np.zeros(len(names), dtype=bool)
        is_rule[list(rules.values())] = True
        return names, rules, is_rule

    @functools.cached_property
    def _relative_coef(self) -> np.ndarray:
        """Each class's weights minus the average class's: the push of a feature towards a label."""
        coef = np.asarray(self._fitted().named_steps["model"].coef_)
        return coef - coef.mean(axis=0, keepdims=True)

    def explain(self, text: object, label: str | None = None, *, top: int = 5) -> list[Evidence]:
        """Rules that fired and the ``top`` n-grams pushing towards ``label`` (default: predicted),
        with spans in the original text."""
        raw = as_text(text)
        pipeline = self._fitted()
        mapped = normalize_with_offsets(raw)
        row = pipeline.named_steps["features"].transform([mapped.text]).tocsr()
        if label is None:
            label = str(pipeline.named_steps["model"].predict(row)[0])
        return self._evidence(raw, mapped, row.indices, row.data, label, top)

    def _evidence(self, raw: str, normalized: Normalized, indices: np.ndarray, values: np.ndarray, label: str,
                  top: int) -> list[Evidence]:
        """Evidence for one text whose feature row (``indices``, ``values``) is already computed."""
        head: CalibratedLinear = self._fitted().named_steps["model"]
        k = int(np.searchsorted(head.classes_, label))
        if k >= len(head.classes_) or head.classes_[k] != label:
            raise ValueError(f"unknown label {label!r}")
        contributions = values * self._relative_coef[k, indices]
        names, rule_columns, is_rule = self._feature_index
        rule_mask = is_rule[indices]
        rule_weights = dict(zip(indices[rule_mask].tolist(), contributions[rule_mask].tolist()))
        found: list[Evidence] = []
        for hit in find_rule_hits(normalized.text):
            start, end = normalized.original_span(hit.start, hit.end)
            weight = rule_weights.get(rule_columns.get(hit.rule.id, -1), 0.0)
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
            span = locator.find(names[j])
            if span is None or span in seen:
                continue
            seen.add(span)
            ngrams.append(Evidence("ngram", raw[span[0]:span[1]], span[0], span[1], label, round(weight, 4)))
        return found + ngrams

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | Path, *, card: str | None = None) -> Path:
        """Write the model as a directory of JSON and ``.npz`` (no pickle); returns its path."""
        pipeline = self._fitted()
        union: FeatureUnion = pipeline.named_steps["features"]
        words, chars = union.named_transformers["words"], union.named_transformers["chars"]
        head: CalibratedLinear = pipeline.named_steps["model"]
        config = {
            "labels": [str(c) for c in self.classes_],
            "params": {key: list(v) if isinstance(v, tuple) else v for key, v in self.get_params().items()},
            "temperature": head.temperature_,
            "thresholds": self.thresholds_,
            "versions": _versions(),
            **self.metadata_,
        }

        def vocabulary(vectorizer: Any) -> list[str]:
            return [term for term, _ in sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])]

        vocab = {"words": vocabulary(words), "chars": vocabulary(chars)}
        arrays = {"word_idf": words.idf_, "char_idf": chars.idf_, "coef": head.coef_, "intercept": head.intercept_}
        return _persist.write_model_dir(directory, config, vocab, arrays, card)

    @classmethod
    def from_directory(cls, directory: str | Path) -> Classifier:
        """Rebuild a saved model from its directory after verifying every checksum."""
        config, vocab, arrays = _persist.read_model_dir(directory)
        params = {key: tuple(v) if isinstance(v, list) else v for key, v in config["params"].items()}
        clf = cls(**params)
        words = make_word_vectorizer(tuple(clf.word_ngram_range), clf.min_df)
        words.vocabulary_ = {term: i for i, term in enumerate(vocab["words"])}
        words.idf_ = arrays["word_idf"]
        chars = make_char_vectorizer(tuple(clf.char_ngram_range), clf.min_df)
        chars.vocabulary_ = {term: i for i, term in enumerate(vocab["chars"])}
        chars.idf_ = arrays["char_idf"]
        union = make_features(word_ngram_range=tuple(clf.word_ngram_range), char_ngram_range=tuple(clf.char_ngram_range),
                              min_df=clf.min_df, rule_weight=clf.rule_weight)
        union.set_params(words=words, chars=chars, rules=RuleFeatures().fit([]))
        head = CalibratedLinear(make_estimator(clf.model, C=clf.C, alpha=clf.alpha, random_state=clf.random_state),
                                cv=clf.calibration_cv, random_state=clf.random_state)
        head.classes_ = np.asarray(config["labels"], dtype=object)
        head.coef_, head.intercept_ = arrays["coef"], arrays["intercept"]
        head.temperature_ = float(config["temperature"])
        head.n_features_in_ = head.coef_.shape[1]
        clf.pipeline_ = Pipeline([("normalize", TextNormalizer().fit([])), ("features", union), ("model", head)])
        clf.classes_ = head.classes_
        clf.thresholds_ = {str(k): float(v) for k, v in (config.get("thresholds") or {}).items()}
        clf.metadata_ = {k: v for k, v in config.items() if k in ("metrics", "training_data", "name", "seed")}
        clf.config_ = config
        return clf

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return super().__repr__(N_CHAR_MAX)


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


def to_json(result: Result | list[Result]) -> str:
    """Results as JSON text (UTF-8 characters kept)."""
    payload = [r.to_dict() for r in result] if isinstance(result, list) else result.to_dict()
    return json.dumps(payload, ensure_ascii=False, indent=2)
