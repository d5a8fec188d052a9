"""The classifier: one scikit-learn ``Pipeline`` (normalise → features → calibrated linear model),
with scores and evidence; saved and loaded as plain data by :mod:`collectclf.model_io`.

>>> clf = Classifier().fit(["请按时还款,谢谢"] * 6 + ["验证码<num>"] * 6, ["compliant"] * 6 + ["unrelated"] * 6)
>>> list(clf.classes_)
['compliant', 'unrelated']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from .augment import clause_crops, prefix_crops
from .calibration import CalibratedLinear, make_estimator
from .evidence import Explainer
from .features import TextNormalizer, as_text, make_features
from .labels import UNCERTAIN
from .model_io import read_classifier, write_classifier
from .results import Evidence, Result
from .text import normalize_with_offsets

__all__ = ["Classifier"]


class Classifier(ClassifierMixin, BaseEstimator):
    """Chinese debt-collection message classifier (a scikit-learn estimator).

    Parameters
    ----------
    model : {"logreg", "svm", "nbsvm", "sgd", "cnb"}
        Linear model family; every family is calibrated (see ``calibration``). ``nbsvm`` is a linear
        SVM on naive-Bayes-scaled features (:class:`~collectclf.calibration.NBSVM`).
    C, alpha : float
        Regularisation: ``C`` for logreg/svm/nbsvm, ``alpha`` for sgd/cnb.
    word_ngram_range, char_ngram_range : tuple of int
        n-gram ranges over jieba tokens and over characters.
    min_df : int
        Minimum document frequency of an n-gram.
    rule_weight : float
        Scale of the red-flag indicator columns.
    calibration_cv : int
        Folds of the out-of-fold scores the calibration is fitted on.
    calibration : {"temperature", "temperature+bias"}
        Temperature scaling, or a temperature and one offset per class (see
        :class:`~collectclf.calibration.CalibratedLinear`).
    fold_mean : bool
        Ship the mean of the ``calibration_cv`` fold models (whose out-of-fold scores the calibration
        is fitted on) instead of a refit on all rows; still one linear model (see
        :class:`~collectclf.calibration.CalibratedLinear`).
    truncation_copies : int
        Training-data augmentation: ``fit`` adds this many prefix crops of every training text
        (same label; see :func:`prefix_crops`) so that messages cut short keep their label.
        0 (the default) trains on the texts as given. The crops of a text share its calibration fold.
    truncation_range : tuple of float
        The share of characters a crop keeps, drawn uniformly between these bounds.
    clause_crop_labels : tuple of str
        Training-data augmentation: ``fit`` also adds, for training texts with these labels, each
        clause that holds a red-flag rule of the same label as a row of its own (see
        :func:`clause_crops`), so that one-clause messages (most real threats) read as their label.
        Empty (the default) adds none. The clauses of a text share its calibration fold.
    negative_label : str or None
        The label meaning "not a collection message" (``negative_label_`` after fitting: this
        label when the data has it, else None). Batch scoring, evaluation and the report read it
        from the model instead of assuming ``unrelated``.
    random_state : int
        Seed for every random choice (fold splits, SGD/SVM, crops).
    """

    def __init__(
        self,
        model: str = "logreg",
        *,
        C: float = 20.0,
        alpha: float = 1e-5,
        word_ngram_range: tuple[int, int] | None = (1, 2),
        char_ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 2,
        rule_weight: float = 1.0,
        calibration_cv: int = 5,
        calibration: str = "temperature",
        fold_mean: bool = False,
        truncation_copies: int = 0,
        truncation_range: tuple[float, float] = (0.5, 0.95),
        clause_crop_labels: tuple[str, ...] = (),
        negative_label: str | None = "unrelated",
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
        self.calibration = calibration
        self.fold_mean = fold_mean
        self.truncation_copies = truncation_copies
        self.truncation_range = truncation_range
        self.clause_crop_labels = clause_crop_labels
        self.negative_label = negative_label
        self.random_state = random_state

    # ---------------------------------------------------------------- fitting
    def build_pipeline(self) -> Pipeline:
        """The unfitted flow for these parameters: normalise → features → calibrated model."""
        return Pipeline(
            [
                ("normalize", TextNormalizer()),
                ("features", make_features(
                    word_ngram_range=None if self.word_ngram_range is None else tuple(self.word_ngram_range),
                    char_ngram_range=tuple(self.char_ngram_range),
                    min_df=self.min_df, rule_weight=self.rule_weight,
                )),
                ("model", CalibratedLinear(
                    make_estimator(self.model, C=self.C, alpha=self.alpha, random_state=self.random_state),
                    cv=self.calibration_cv, random_state=self.random_state, calibration=self.calibration,
                    fold_mean=self.fold_mean,
                )),
            ]
        )

    def fit(self, X: Iterable[object], y: Iterable[str], *, sample_weight: Sequence[float] | None = None,
            groups: Sequence[Any] | None = None, calibration_mask: Sequence[bool] | None = None) -> Classifier:
        """Fit the whole flow on texts ``X`` and labels ``y`` (any label set).

        ``sample_weight`` weighs rows in the linear model's loss; ``groups`` keeps rows sharing an
        id (one source's templates) in one calibration fold; ``calibration_mask`` picks the rows
        whose out-of-fold scores set the temperature (see :class:`CalibratedLinear`).
        """
        texts = [as_text(x) for x in X]
        labels = [str(label) for label in y]
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        for name, values in (("sample_weight", sample_weight), ("groups", groups), ("calibration_mask", calibration_mask)):
            if values is not None and len(values) != len(texts):
                raise ValueError(f"{name} has {len(values)} entries for {len(texts)} texts")
        for cached in ("_explainer",):  # derived from the previous fit
            self.__dict__.pop(cached, None)
        rows = list(range(len(texts)))
        all_texts, all_labels = texts, labels
        if self.truncation_copies:
            all_texts, all_labels, rows = prefix_crops(texts, labels, copies=self.truncation_copies,
                                                       keep=tuple(self.truncation_range), seed=self.random_state)
        if self.clause_crop_labels:
            clause_texts, clause_labels, clause_rows = clause_crops(texts, labels, crop_labels=self.clause_crop_labels)
            all_texts, all_labels, rows = [*all_texts, *clause_texts], [*all_labels, *clause_labels], [*rows, *clause_rows]
        pipeline = self.build_pipeline()
        normalize, features, head = (pipeline.named_steps[name] for name in ("normalize", "features", "model"))
        normalized = normalize.fit(all_texts).transform(all_texts)
        # vocabularies and IDF come from the messages as given: min_df counts messages, not crops
        features.fit(normalized[: len(texts)], labels)
        origin = np.asarray(rows)
        head.fit(
            features.transform(normalized), all_labels,
            groups=None if groups is None and not self.truncation_copies and not self.clause_crop_labels
            else origin if groups is None else np.asarray(list(groups), dtype=object)[origin],
            sample_weight=None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[origin],
            calibration_mask=None if calibration_mask is None else np.asarray(calibration_mask, dtype=bool)[origin],
        )
        self.pipeline_ = pipeline
        self.classes_ = self.pipeline_.classes_
        self.negative_label_ = self.negative_label if self.negative_label in set(labels) else None
        self.thresholds_: dict[str, float] = {}
        self.metadata_: dict[str, Any] = {}
        return self

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
        proba = np.atleast_2d(proba)
        names = [str(label) for label in self.classes_]
        labels = []
        for best, confidence in zip(proba.argmax(axis=1).tolist(), proba.max(axis=1).tolist()):
            label = names[best]
            limit = abstain_below if abstain_below is not None else self.thresholds_.get(label)
            labels.append(UNCERTAIN if limit is not None and confidence < limit else label)
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
                found.append(self._explainer.evidence(raw[i], mapped[i], X.indices[lo:hi], X.data[lo:hi], target, top))
            else:
                found.append([])
        return proba, labels, found

    # ---------------------------------------------------------------- evidence
    @functools.cached_property
    def _explainer(self) -> Explainer:
        """Feature names and relative weights for evidence (once per fitted model)."""
        return Explainer(self._fitted())

    def explain(self, text: object, label: str | None = None, *, top: int = 5) -> list[Evidence]:
        """Rules that fired and the ``top`` n-grams pushing towards ``label`` (default: predicted),
        with spans in the original text."""
        raw = as_text(text)
        pipeline = self._fitted()
        mapped = normalize_with_offsets(raw)
        row = pipeline.named_steps["features"].transform([mapped.text]).tocsr()
        if label is None:
            label = str(pipeline.named_steps["model"].predict(row)[0])
        return self._explainer.evidence(raw, mapped, row.indices, row.data, label, top)

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | Path, *, card: str | None = None) -> Path:
        """Write the model as a directory of JSON and ``.npz`` (no pickle); returns its path."""
        return write_classifier(self, directory, card=card)

    @classmethod
    def from_directory(cls, directory: str | Path) -> Classifier:
        """Rebuild a saved model from its directory after verifying every checksum."""
        return read_classifier(cls, directory)

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return super().__repr__(N_CHAR_MAX)
