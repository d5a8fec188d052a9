"""The calibrated linear head: any linear scikit-learn classifier, its scores calibrated by
temperature scaling, kept as plain arrays (``coef_``, ``intercept_``, ``classes_``) and a float."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

__all__ = ["CALIBRATIONS", "MODEL_FAMILIES", "CalibratedLinear", "NBSVM", "make_estimator"]

MODEL_FAMILIES = ("logreg", "svm", "nbsvm", "sgd", "cnb")
#: ``temperature``: one temperature. ``temperature+bias``: a temperature and one offset per class (the
#: first class's is 0), which also moves decisions towards the class balance of the calibration rows.
CALIBRATIONS = ("temperature", "temperature+bias")
#: L2 penalty on the class offsets (per unit of mean log-loss), so that a few calibration rows cannot
#: push an offset far.
BIAS_PENALTY = 0.01


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


def _linear_scores(X: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """One linear score per class and row: ``X @ coef.T + intercept``."""
    return np.asarray(_as_csr(X) @ coef.T) + intercept


class CalibratedLinear(ClassifierMixin, BaseEstimator):
    """A linear classifier whose scores are calibrated by temperature scaling (and class offsets).

    The base estimator is fitted on all data (or, with ``fold_mean``, is the mean of the fold models);
    a temperature ``T`` (with ``temperature+bias``, also one offset ``b`` per class) is fitted on the
    out-of-fold decision scores by minimising log-loss,
    and ``predict_proba`` returns ``softmax(decision / T + b)``; ``predict`` is its most probable
    class. The fitted state is plain arrays (``coef_``, ``intercept_``, ``classes_``,
    ``class_bias_``) and a float, which is what makes saved models survive scikit-learn upgrades.

    Parameters
    ----------
    estimator : linear scikit-learn classifier
        Anything with ``coef_``/``intercept_`` or ``feature_log_prob_`` after fitting.
    cv : int
        Folds for the out-of-fold scores; 0 or 1 skips calibration (``T = 1``).
    random_state : int
        Seed for the fold split.
    calibration : {"temperature", "temperature+bias"}
        What is fitted on the out-of-fold scores (see :data:`CALIBRATIONS`).
    fold_mean : bool
        False: the shipped linear model is the base estimator refitted on all rows. True: it is the
        mean (``coef_`` and ``intercept_``) of the ``cv`` fold models whose out-of-fold scores the
        calibration was fitted on, so the calibration is applied to models of the scale it was
        fitted on (a refit on more rows gives larger margins, hence overconfidence). Still one linear
        model: scoring costs the same. Needs ``cv`` > 1.

    ``fit`` takes optional ``groups`` (one id per row): rows sharing an id stay in the same
    calibration fold (``StratifiedGroupKFold``), so an augmented copy of a message is never
    scored by a model trained on another copy of it.
    """

    def __init__(self, estimator: Any = None, *, cv: int = 5, random_state: int = 0, calibration: str = "temperature",
                 fold_mean: bool = False):
        self.estimator = estimator
        self.cv = cv
        self.random_state = random_state
        self.calibration = calibration
        self.fold_mean = fold_mean

    def _base(self) -> Any:
        return clone(self.estimator) if self.estimator is not None else LogisticRegression(max_iter=3000)

    def fit(self, X: Any, y: Sequence[str], groups: Sequence[Any] | None = None, *,
            sample_weight: Sequence[float] | None = None, calibration_mask: Sequence[bool] | None = None) -> CalibratedLinear:
        """Fit the base estimator (refitted, or the mean of the fold models with ``fold_mean``) and the temperature.

        ``groups``: rows sharing an id stay in one calibration fold. ``sample_weight``: per-row
        weight of the base estimator's loss (the temperature's loss too). ``calibration_mask``: the
        rows whose out-of-fold scores fit the temperature (all when None), so a model trained on
        written and real text can be calibrated on the real text, whose confidence users meet.
        """
        X = _as_csr(X)
        y = np.asarray([str(label) for label in y], dtype=object)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if weight is not None and (weight.shape != (len(y),) or not np.all(np.isfinite(weight)) or (weight < 0).any()):
            raise ValueError("sample_weight needs one finite, non-negative weight per row")
        mask = np.ones(len(y), dtype=bool) if calibration_mask is None else np.asarray(calibration_mask, dtype=bool)
        if mask.shape != (len(y),) or not mask.any():
            raise ValueError("calibration_mask needs one flag per row and at least one row set")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"unknown calibration {self.calibration!r}; choose one of {', '.join(CALIBRATIONS)}")
        if self.fold_mean and not (self.cv and self.cv > 1):
            raise ValueError("fold_mean=True needs cv > 1: the shipped model is the mean of the cv fold models")
        self.classes_ = np.unique(y)
        self.temperature_ = 1.0
        self.class_bias_ = np.zeros(len(self.classes_))
        coef_sum: Any = 0.0  # the fold models' coef_ and intercept_, summed (for fold_mean)
        intercept_sum: Any = 0.0
        if self.cv and self.cv > 1 and len(self.classes_) > 1:
            kind = StratifiedKFold if groups is None else StratifiedGroupKFold
            folds = kind(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            scores = np.zeros((X.shape[0], len(self.classes_)))
            for train, test in folds.split(X, y, groups):
                base = self._fit_base(X[train], y[train], None if weight is None else weight[train])
                coef, intercept = _linear_parameters(base, self.classes_)
                scores[test] = _linear_scores(X[test], coef, intercept)
                coef_sum, intercept_sum = coef_sum + coef, intercept_sum + intercept
            rows = None if weight is None else weight[mask]
            self.temperature_, self.class_bias_ = _fit_calibration(
                scores[mask], np.searchsorted(self.classes_, y)[mask], rows, with_bias=self.calibration == "temperature+bias")
        if self.fold_mean and len(self.classes_) > 1:  # the folds ran (fold_mean needs cv > 1)
            self.coef_, self.intercept_ = coef_sum / self.cv, intercept_sum / self.cv
        else:
            self.coef_, self.intercept_ = _linear_parameters(self._fit_base(X, y, weight), self.classes_)
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_base(self, X: Any, y: np.ndarray, weight: np.ndarray | None) -> Any:
        base = self._base()
        return base.fit(X, y) if weight is None else base.fit(X, y, sample_weight=weight)

    def decision_function(self, X: Any) -> np.ndarray:
        """Uncalibrated linear scores, one column per class."""
        return _linear_scores(X, self.coef_, self.intercept_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, one column per class, rows summing to 1."""
        return softmax(self._calibrated(X), axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class per row."""
        return self.classes_[np.argmax(self._calibrated(X), axis=1)]

    def _calibrated(self, X: Any) -> np.ndarray:
        return self.decision_function(X) / self.temperature_ + getattr(self, "class_bias_", 0.0)


class NBSVM(ClassifierMixin, BaseEstimator):
    """A linear SVM on naive-Bayes-scaled features (Wang & Manning 2012, "Baselines and bigrams"), one per class.

    For each class, every column is scaled by its log-count ratio ``r = log((p / |p|) / (q / |q|))``, where
    ``p`` and ``q`` count (with ``smoothing`` added) the rows in and outside the class that contain the
    feature, and a binary linear SVM is fitted on the scaled rows, so features that tell one class from the
    rest start with more weight than those common to every class. The fitted model is linear in the unscaled features (``coef_ = w * r``), so it is
    saved, scored and explained exactly like a plain linear SVM.
    """

    def __init__(self, C: float = 0.5, *, smoothing: float = 1.0, random_state: int = 0):
        self.C = C
        self.smoothing = smoothing
        self.random_state = random_state

    def fit(self, X: Any, y: Sequence[str], sample_weight: Sequence[float] | None = None) -> NBSVM:
        """Fit one scaled binary SVM per class; rows count in ``p`` and ``q`` by their ``sample_weight``."""
        if self.smoothing <= 0:
            raise ValueError("smoothing must be positive")
        X = _as_csr(X)
        y = np.asarray(y, dtype=object)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("NBSVM needs at least two classes")
        present = X.copy()
        present.data = (present.data != 0).astype(np.float64)
        weighted_counts = np.asarray(present.T @ sp.csr_matrix(
            (weight, (np.arange(len(y)), np.searchsorted(self.classes_, y))), shape=(len(y), len(self.classes_))).todense())
        total = weighted_counts.sum(axis=1)
        self.coef_ = np.zeros((len(self.classes_), X.shape[1]))
        self.intercept_ = np.zeros(len(self.classes_))
        for index, label in enumerate(self.classes_):
            inside = weighted_counts[:, index] + self.smoothing
            outside = total - weighted_counts[:, index] + self.smoothing
            ratio = np.log(inside / inside.sum()) - np.log(outside / outside.sum())
            svm = LinearSVC(C=self.C, random_state=self.random_state)
            svm.fit(X @ sp.diags(ratio), (y == label).astype(int), sample_weight=weight)
            self.coef_[index] = svm.coef_[0] * ratio
            self.intercept_[index] = svm.intercept_[0]
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """One score per class (one-vs-rest)."""
        return _linear_scores(X, self.coef_, self.intercept_)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]


def _fit_calibration(scores: np.ndarray, target: np.ndarray, weight: np.ndarray | None, *,
                     with_bias: bool) -> tuple[float, np.ndarray]:
    """(temperature, class offsets) minimising the (weighted) log-loss of ``softmax(scores / T + b)``
    on out-of-fold scores; the offsets (first class fixed at 0, L2 :data:`BIAS_PENALTY`) only
    ``with_bias``."""
    n_classes = scores.shape[1]
    rows = np.ones(len(target)) if weight is None or weight.sum() <= 0 else weight
    picked_rows = np.arange(len(target))

    def loss(params: np.ndarray) -> float:
        bias = np.r_[0.0, params[1:]] if with_bias else 0.0
        picked = log_softmax(scores / np.exp(params[0]) + bias, axis=1)[picked_rows, target]
        return -float(np.average(picked, weights=rows)) + BIAS_PENALTY * float(np.sum(params[1:] ** 2))

    if not with_bias:
        found = minimize_scalar(lambda log_t: loss(np.array([log_t])), bounds=(-6, 6), method="bounded")
        return float(np.exp(found.x)), np.zeros(n_classes)
    start = np.zeros(n_classes)
    found = minimize(loss, start, method="L-BFGS-B", bounds=[(-6.0, 6.0)] + [(-10.0, 10.0)] * (len(start) - 1))
    return float(np.exp(found.x[0])), np.r_[0.0, found.x[1:]]


def make_estimator(model: str, *, C: float, alpha: float, random_state: int) -> Any:
    """The base linear estimator of a model family (see :data:`MODEL_FAMILIES`)."""
    if model == "logreg":
        return LogisticRegression(C=C, max_iter=3000)
    if model == "svm":
        return LinearSVC(C=C, random_state=random_state)
    if model == "nbsvm":
        return NBSVM(C=C, random_state=random_state)
    if model == "sgd":
        return SGDClassifier(loss="modified_huber", alpha=alpha, max_iter=50, tol=None, random_state=random_state)
    if model == "cnb":
        return ComplementNB(alpha=alpha)
    raise ValueError(f"unknown model family {model!r}; choose one of {', '.join(MODEL_FAMILIES)}")
