"""Metrics of probabilistic predictions: macro-F1, per-label precision/recall, the confusion
matrix, expected calibration error and the share of confident mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

__all__ = ["evaluate_predictions", "expected_calibration_error"]


def expected_calibration_error(proba: np.ndarray, y_true_index: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-label confidence over equal-width bins."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true_index
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def evaluate_predictions(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Macro-F1, accuracy, per-label precision/recall/F1/support, confusion matrix and ECE.

    ``proba`` has one column per entry of ``classes``. True labels the model does not know are
    kept (they can only be errors) and appear in the per-label table and confusion matrix;
    macro-F1 averages over the labels that occur in the truth or the predictions. ECE uses the
    rows whose true label the model knows.
    """
    classes = [str(c) for c in classes]
    y_true = [str(y) for y in y_true]
    y_pred = [classes[i] for i in proba.argmax(axis=1)]
    labels = classes + sorted(set(y_true) - set(classes))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    occurring = [label for label in labels if label in set(y_true) | set(y_pred)]
    index = {c: i for i, c in enumerate(classes)}
    known = np.array([y in index for y in y_true], dtype=bool)
    true_index = np.array([index.get(y, -1) for y in y_true])
    return {
        "n": len(y_true),
        "macro_f1": float(f1_score(y_true, y_pred, labels=occurring, average="macro", zero_division=0)) if y_true else 0.0,
        "accuracy": float(np.mean([a == b for a, b in zip(y_true, y_pred)])) if y_true else 0.0,
        "ece": expected_calibration_error(proba[known], true_index[known]) if known.any() else 0.0,
        # share of all rows that are wrong although the model gave them 95 % or more
        "wrong_at_95": float(np.mean((proba.max(axis=1) >= 0.95) & (proba.argmax(axis=1) != true_index))) if y_true else 0.0,
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }
