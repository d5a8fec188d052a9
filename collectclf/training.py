"""Training and evaluation: corpora through HuggingFace ``datasets``, cross-validation,
held-out metrics (macro-F1, per-label precision/recall, confusion matrix, calibration error),
a model comparison, and the generated model card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from .classifier import MODEL_FAMILIES, Classifier
from .features import as_text

__all__ = [
    "SEARCH_GRID",
    "compare_models",
    "cross_validate_model",
    "data_sha256",
    "evaluate_predictions",
    "expected_calibration_error",
    "load_corpus",
    "model_card",
    "train",
]

log = logging.getLogger(__name__)

_TABLE_FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}

#: The documented hyper-parameter search of ``collectclf train --search``.
SEARCH_GRID: dict[str, list[Any]] = {
    "C": [5.0, 20.0, 50.0],
    "char_ngram_range": [(1, 3), (2, 4)],
}


class CorpusError(ValueError):
    """A training corpus cannot be read or lacks the named columns."""


# --------------------------------------------------------------------------- data
def load_corpus(
    data: Any,
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_map: Mapping[str, str] | None = None,
    split: str = "train",
) -> tuple[list[str], list[str]]:
    """Texts and labels from a ``datasets.Dataset``/``DatasetDict``, a pandas DataFrame, a local
    CSV/TSV/JSONL/Parquet path (read with ``datasets.load_dataset``) or a hub dataset name.

    ``label_map`` renames labels (labels it does not mention are kept).
    """
    import datasets

    if isinstance(data, (str, Path)):
        data = _load_path(str(data), split)
    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise CorpusError(f"the dataset has no split {split!r}; it has {sorted(data)}")
        data = data[split]
    if isinstance(data, datasets.Dataset):
        columns = data.column_names
        get = data.__getitem__
    elif hasattr(data, "columns") and hasattr(data, "__getitem__"):  # pandas DataFrame
        columns = [str(c) for c in data.columns]

        def get(name: str) -> list[Any]:
            return data[name].tolist()
    else:
        raise CorpusError(f"cannot read a corpus from {type(data).__name__}")
    for column in (text_column, label_column):
        if column not in columns:
            raise CorpusError(f"column {column!r} not found; the data has {columns}")
    texts = [as_text(t) for t in get(text_column)]
    labels = [str(label) for label in get(label_column)]
    if label_map:
        labels = [label_map.get(label, label) for label in labels]
    return texts, labels


def _load_path(path: str, split: str) -> Any:
    import datasets

    local = Path(path)
    suffix = local.suffix.lower()
    if local.exists():
        if suffix not in _TABLE_FORMATS:
            raise CorpusError(f"{path}: unsupported corpus format {suffix!r}; use CSV, TSV, JSONL or Parquet")
        options = {"delimiter": "\t"} if suffix == ".tsv" else {}
        return datasets.load_dataset(_TABLE_FORMATS[suffix], data_files={split: str(local)}, split=split, **options)
    if suffix in _TABLE_FORMATS:
        raise CorpusError(f"{path}: no such file")
    try:
        return datasets.load_dataset(path, split=split)
    except (ConnectionError, OSError) as error:
        raise CorpusError(
            f"could not load the hub dataset {path!r}: {error.__class__.__name__}. "
            "Hub datasets need a network connection; download it elsewhere and pass a local file."
        ) from None


def data_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the training pairs (order-sensitive), recorded with every saved model."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------- metrics
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
    """Macro-F1, accuracy, per-label precision/recall/F1/support, confusion matrix and ECE."""
    classes = [str(c) for c in classes]
    y_true = [str(y) for y in y_true]
    y_pred = [classes[i] for i in proba.argmax(axis=1)]
    labels = classes + sorted(set(y_true) - set(classes))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    index = {c: i for i, c in enumerate(classes)}
    known = np.array([y in index for y in y_true])
    true_index = np.array([index.get(y, -1) for y in y_true])
    return {
        "n": len(y_true),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(np.mean([a == b for a, b in zip(y_true, y_pred)])) if y_true else 0.0,
        "ece": expected_calibration_error(proba[known], true_index[known]) if known.any() else 0.0,
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def cross_validate_model(
    estimator: Classifier, texts: Sequence[str], labels: Sequence[str], *, cv: int = 5, seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Stratified K-fold metrics: macro-F1 per fold, its mean and spread, and pooled metrics."""
    texts_arr = np.asarray(texts, dtype=object)
    labels_arr = np.asarray(labels, dtype=object)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    classes = sorted(set(labels))
    pooled = np.zeros((len(texts), len(classes)))
    fold_f1 = []
    for i, (train_idx, test_idx) in enumerate(folds.split(texts_arr, labels_arr)):
        model = clone(estimator).fit(texts_arr[train_idx], labels_arr[train_idx])
        proba = model.predict_proba(texts_arr[test_idx])
        order = [list(model.classes_).index(c) for c in classes]
        pooled[test_idx] = proba[:, order]
        fold_f1.append(f1_score(labels_arr[test_idx], np.asarray(classes)[proba[:, order].argmax(1)], average="macro"))
        if progress:
            progress(i + 1, cv)
    metrics = evaluate_predictions(labels, pooled, classes)
    metrics.update(cv=cv, fold_macro_f1=[float(f) for f in fold_f1],
                   macro_f1_mean=float(np.mean(fold_f1)), macro_f1_std=float(np.std(fold_f1)))
    return metrics


def compare_models(
    texts: Sequence[str], labels: Sequence[str], *, families: Iterable[str] = MODEL_FAMILIES, cv: int = 5, seed: int = 0,
    params: Mapping[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Cross-validated macro-F1 for each model family (best first)."""
    rows = []
    for family in families:
        options = dict((params or {}).get(family, {}))
        start = time.perf_counter()
        metrics = cross_validate_model(Classifier(family, random_state=seed, **options), texts, labels, cv=cv, seed=seed)
        rows.append({"model": family, "params": options, "macro_f1_mean": metrics["macro_f1_mean"],
                     "macro_f1_std": metrics["macro_f1_std"], "ece": metrics["ece"],
                     "seconds": round(time.perf_counter() - start, 1)})
        log.info("%s: macro-F1 %.3f", family, metrics["macro_f1_mean"])
    return sorted(rows, key=lambda row: -row["macro_f1_mean"])


# --------------------------------------------------------------------------- training
def train(
    data: Any,
    text_column: str = "text",
    label_column: str = "label",
    *,
    label_map: Mapping[str, str] | None = None,
    model: str = "logreg",
    seed: int = 0,
    cv: int = 0,
    search: bool = False,
    progress: Callable[[str], None] | None = None,
    **params: Any,
) -> Classifier:
    """Train a :class:`Classifier` on a corpus (see :func:`load_corpus` for accepted inputs).

    With ``cv`` > 1 the cross-validated metrics are computed first and stored with the model;
    ``search`` runs the small grid :data:`SEARCH_GRID` by cross-validated macro-F1 first.
    The training-data hash, seed, parameters and versions travel with the saved model.
    """
    texts, labels = load_corpus(data, text_column=text_column, label_column=label_column, label_map=label_map)
    say = progress or (lambda message: log.info("%s", message))
    estimator = Classifier(model, random_state=seed, **params)
    search_result = None
    if search:
        from sklearn.model_selection import GridSearchCV

        say(f"searching {sum(1 for _ in _grid_points())} parameter settings with {max(cv, 3)}-fold CV")
        grid = GridSearchCV(estimator, SEARCH_GRID, scoring="f1_macro",
                            cv=StratifiedKFold(max(cv, 3), shuffle=True, random_state=seed), n_jobs=1)
        grid.fit(np.asarray(texts, dtype=object), np.asarray(labels, dtype=object))
        estimator = clone(grid.best_estimator_)
        search_result = {"grid": {k: [list(v) if isinstance(v, tuple) else v for v in vs] for k, vs in SEARCH_GRID.items()},
                         "best_params": {k: list(v) if isinstance(v, tuple) else v for k, v in grid.best_params_.items()},
                         "best_macro_f1": float(grid.best_score_)}
    metrics: dict[str, Any] = {}
    if cv and cv > 1:
        say(f"cross-validating ({cv} folds)")
        metrics["cv"] = cross_validate_model(estimator, texts, labels, cv=cv, seed=seed,
                                             progress=lambda i, n: say(f"fold {i}/{n} done"))
    say(f"fitting on {len(texts)} messages")
    classifier = estimator.fit(texts, labels)
    classifier.metadata_ = {
        "seed": seed,
        "training_data": {"sha256": data_sha256(texts, labels), "n": len(texts),
                          "counts": {label: labels.count(label) for label in sorted(set(labels))}},
        "metrics": metrics,
    }
    if search_result:
        classifier.metadata_["search"] = search_result
    return classifier


def _grid_points() -> Iterable[dict[str, Any]]:
    from sklearn.model_selection import ParameterGrid

    return ParameterGrid(SEARCH_GRID)


# --------------------------------------------------------------------------- model card
def _metrics_table(metrics: Mapping[str, Any]) -> str:
    lines = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, row in metrics["per_label"].items():
        lines.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    return "\n".join(lines)


def _confusion_table(metrics: Mapping[str, Any]) -> str:
    labels = metrics["confusion"]["labels"]
    lines = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for label, row in zip(labels, metrics["confusion"]["matrix"]):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def model_card(classifier: Classifier, *, title: str = "collectclf model", evaluation: Mapping[str, Any] | None = None) -> str:
    """A Markdown model card from the model's stored metadata (and optional held-out metrics)."""
    meta = classifier.metadata_
    data = meta.get("training_data", {})
    parts = [
        f"# {title}",
        "",
        "Automated screening of Chinese debt-collection messages. Not legal advice.",
        "",
        f"- labels: {', '.join(map(str, classifier.classes_))}",
        f"- model family: {classifier.model}; parameters: `{json.dumps(classifier.get_params(), ensure_ascii=False, default=list)}`",
        f"- seed: {meta.get('seed')}; training messages: {data.get('n')}; data SHA-256: `{data.get('sha256')}`",
        f"- label counts: {data.get('counts')}",
    ]
    cv = meta.get("metrics", {}).get("cv")
    if cv:
        parts += ["", f"## Cross-validation ({cv['cv']} folds)", "",
                  f"macro-F1 {cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}, ECE {cv['ece']:.3f}", "",
                  _metrics_table(cv)]
    if evaluation:
        parts += ["", "## Evaluation", "", f"macro-F1 {evaluation['macro_f1']:.3f}, accuracy {evaluation['accuracy']:.3f}, "
                  f"ECE {evaluation['ece']:.3f} on {evaluation['n']} messages", "", _metrics_table(evaluation), "",
                  _confusion_table(evaluation)]
    return "\n".join(parts) + "\n"
