"""The one cross-validation loop: stratified (or grouped) K-fold, repeated, with an optional
background corpus that joins every training fold and is never scored.

The real-message evaluation is this loop with the real messages as the scored rows grouped by
source (one lender's templates never sit on both sides of a split) and the written corpus as the
background; the written-corpus CV is the same loop without background or groups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from .metrics import evaluate_predictions

__all__ = ["cross_validate_model", "group_bootstrap"]


def cross_validate_model(
    estimator: Any, texts: Sequence[str], labels: Sequence[str], *, cv: int = 5, seed: int = 0,
    groups: Sequence[Any] | None = None, repeats: int = 1, background: tuple[Sequence[str], Sequence[str]] | None = None,
    weight: float = 1.0, variants: dict[str, Callable[[str], str]] | None = None, n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None, strata: dict[str, Sequence[bool]] | None = None,
    alternatives: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """K-fold metrics of ``estimator`` on ``texts``: per fold, per repeat, pooled, and (with groups) a
    95 % group-bootstrap interval.

    ``groups``: rows sharing a group stay on one side of every split (``StratifiedGroupKFold``).
    ``repeats``: the split is redrawn with seeds ``seed, seed + 1, …``. ``background``: (texts,
    labels) added to every training fold, never scored; the scored rows' training part then gets
    sample weight ``weight``, and it alone sets the calibration temperature (``calibration_mask``),
    which is how the shipped model is fitted too. ``variants``: name → text transformation; each
    fold's scored texts are also scored transformed (spaced out, say), giving ``variants[name]``
    macro-F1 on the same folds. ``n_jobs``: folds fitted in parallel processes (same results).
    ``strata``: name → row mask; ``strata[name]`` is the macro-F1 of the masked rows alone (the
    ``clear`` items of a corpus whose other items are borderline, say). ``alternatives``: per row, a
    second defensible label or None; ``macro_f1_alternative_allowed`` then counts a prediction of that
    label as right (a secondary figure: ``macro_f1`` always scores the row's own label).
    """
    texts_arr = np.asarray(list(texts), dtype=object)
    labels_arr = np.asarray([str(y) for y in labels], dtype=object)
    masks = {name: np.asarray(list(mask), dtype=bool) for name, mask in (strata or {}).items()}
    alt_arr = None if alternatives is None else np.asarray([a or "" for a in alternatives], dtype=object)
    for name, values in [*masks.items(), *([("alternatives", alt_arr)] if alt_arr is not None else [])]:
        if len(values) != len(texts_arr):
            raise ValueError(f"{name} has {len(values)} entries for {len(texts_arr)} texts")
    groups_arr = None if groups is None else np.asarray(list(groups), dtype=object)
    back_texts, back_labels = ([], []) if background is None else (list(background[0]), [str(y) for y in background[1]])
    classes = sorted(set(labels_arr) | set(back_labels))
    pooled = np.zeros((repeats, len(texts_arr), len(classes)))
    variant_pooled = {name: np.zeros_like(pooled) for name in (variants or {})}
    fold_f1: list[float] = []
    total = cv * repeats
    jobs_list = []
    for repeat in range(repeats):
        kind = StratifiedKFold if groups_arr is None else StratifiedGroupKFold
        folds = kind(n_splits=cv, shuffle=True, random_state=seed + repeat)
        jobs_list.extend((repeat, train_idx, test_idx) for train_idx, test_idx in folds.split(texts_arr, labels_arr, groups_arr))

    def one_fold(train_idx: np.ndarray, test_idx: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        fit_texts = back_texts + list(texts_arr[train_idx])
        fit_labels = back_labels + list(labels_arr[train_idx])
        options: dict[str, Any] = {}
        if background is not None:
            scored = np.r_[np.zeros(len(back_texts), dtype=bool), np.ones(len(train_idx), dtype=bool)]
            options = {"calibration_mask": scored}
            if weight != 1.0:
                options["sample_weight"] = np.where(scored, weight, 1.0)
            if groups_arr is not None:
                options["groups"] = [f"background:{i}" for i in range(len(back_texts))] + list(groups_arr[train_idx])
        model = clone(estimator).fit(fit_texts, fit_labels, **options)
        order = [list(model.classes_).index(c) for c in classes]
        proba = model.predict_proba(texts_arr[test_idx])[:, order]
        changed = {name: model.predict_proba([transform(t) for t in texts_arr[test_idx]])[:, order]
                   for name, transform in (variants or {}).items()}
        return proba, changed

    if n_jobs == 1:
        outputs = []
        for k, (_, train_idx, test_idx) in enumerate(jobs_list):
            outputs.append(one_fold(train_idx, test_idx))
            if progress:
                progress(k + 1, total)
    else:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs)(delayed(one_fold)(train_idx, test_idx) for _, train_idx, test_idx in jobs_list)
    for (repeat, _, test_idx), (proba, changed) in zip(jobs_list, outputs):
        pooled[repeat][test_idx] = proba
        for name, values in changed.items():
            variant_pooled[name][repeat][test_idx] = values
        fold_f1.append(float(f1_score(labels_arr[test_idx], np.asarray(classes)[proba.argmax(1)],
                                      labels=classes, average="macro", zero_division=0)))
    per_repeat = [evaluate_predictions(list(labels_arr), pooled[r], classes) for r in range(repeats)]
    metrics = dict(per_repeat[0])
    metrics.update(cv=cv, repeats=repeats, grouped=groups_arr is not None, fold_macro_f1=fold_f1,
                   macro_f1_mean=float(np.mean(fold_f1)), macro_f1_std=float(np.std(fold_f1)),
                   repeat_macro_f1=[m["macro_f1"] for m in per_repeat],
                   macro_f1=float(np.mean([m["macro_f1"] for m in per_repeat])),
                   ece=float(np.mean([m["ece"] for m in per_repeat])),
                   wrong_at_95=float(np.mean([m["wrong_at_95"] for m in per_repeat])))
    for label in metrics["per_label"]:
        for key in ("precision", "recall", "f1"):
            metrics["per_label"][label][key] = float(np.mean([m["per_label"][label][key] for m in per_repeat]))
    metrics["variants"] = {
        name: float(np.mean([evaluate_predictions(list(labels_arr), p[r], classes)["macro_f1"] for r in range(repeats)]))
        for name, p in variant_pooled.items()
    }
    # the same macro-F1 as every other figure here (evaluate_predictions: averaged over the labels that occur)
    metrics["strata"] = {
        name: {"n": int(mask.sum()), "macro_f1": float(np.mean([
            evaluate_predictions(list(labels_arr[mask]), pooled[r][mask], classes)["macro_f1"] for r in range(repeats)]))}
        for name, mask in masks.items()
    }
    if alt_arr is not None:
        predicted = [np.asarray(classes, dtype=object)[pooled[r].argmax(1)] for r in range(repeats)]
        metrics["macro_f1_alternative_allowed"] = float(np.mean([
            evaluate_predictions(list(np.where(predicted[r] == alt_arr, predicted[r], labels_arr)), pooled[r], classes)["macro_f1"]
            for r in range(repeats)]))
    if groups_arr is not None:
        metrics["interval95"] = group_bootstrap(list(labels_arr), pooled, classes, groups_arr, seed=seed)
    return metrics


def group_bootstrap(y_true: Sequence[str], pooled: np.ndarray, classes: Sequence[str], groups: np.ndarray, *,
                    rounds: int = 1000, seed: int = 0) -> dict[str, Any]:
    """95 % intervals of macro-F1 and per-label precision/recall, resampling whole groups (sources)
    with replacement; every repeat's predictions of a drawn row count."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y_true, dtype=object)
    names, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(names))]
    predictions = [np.asarray(classes, dtype=object)[p.argmax(1)] for p in pooled]
    macro, per = [], {c: {"precision": [], "recall": []} for c in classes}
    for _ in range(rounds):
        rows = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        truth = np.concatenate([y[rows]] * len(predictions))
        guess = np.concatenate([p[rows] for p in predictions])
        macro.append(f1_score(truth, guess, labels=list(classes), average="macro", zero_division=0))
        p, r, _, _ = precision_recall_fscore_support(truth, guess, labels=list(classes), zero_division=0)
        for c, pp, rr in zip(classes, p, r):
            per[c]["precision"].append(pp)
            per[c]["recall"].append(rr)

    def interval(values: list[float]) -> list[float]:
        return [round(float(np.percentile(values, 2.5)), 3), round(float(np.percentile(values, 97.5)), 3)]

    return {"rounds": rounds, "macro_f1": interval(macro),
            "per_label": {c: {k: interval(v) for k, v in d.items()} for c, d in per.items()}}
