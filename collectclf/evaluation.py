"""Evaluate a model on labelled data and write a report a researcher can read and re-plot.

:func:`evaluate_to_report` writes, into one directory:

- ``metrics.json``: macro-F1, accuracy, ECE, per-label precision/recall/F1, the confusion matrix,
  reliability bins, labels the model does not know, and the same figures for the baselines;
- ``report.md``: the same as tables, with the plots and the most confident mistakes;
- ``confusion_matrix.png``, ``reliability.png``, ``per_label.png`` (matplotlib's Agg canvas, no
  pyplot state, so it is safe inside notebooks and threads);
- ``errors.csv``: every misclassified message (row, text, true, predicted, confidence), most
  confident first, UTF-8 with a BOM so that spreadsheet programs show the Chinese text.

Baselines put the model's figures in context: the majority class, a keyword baseline built from
:mod:`collectclf.rules` (the label of the most severe rule that fires; only for the shipped label
set) and, when the optional ``fasttext`` package is importable, a fastText model.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import logging
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .labels import LABELS, SEVERITY
from .training import CorpusError, data_sha256, evaluate_predictions, load_corpus

__all__ = [
    "REPORT_FILES",
    "confusion_figure",
    "evaluate_to_report",
    "fasttext_baseline",
    "keyword_baseline",
    "per_label_figure",
    "reliability_bins",
    "reliability_figure",
]

log = logging.getLogger(__name__)

#: The files :func:`evaluate_to_report` writes.
REPORT_FILES = ("metrics.json", "report.md", "confusion_matrix.png", "reliability.png", "per_label.png", "errors.csv")

_FALLBACK = "unrelated"


# --------------------------------------------------------------------------- baselines
def keyword_baseline(texts: Sequence[str], labels: Sequence[str]) -> list[str] | None:
    """Rule-only predictions: the label of the most severe red-flag rule that fires on the
    normalised text (severity order of :data:`collectclf.labels.LABELS`), else ``unrelated``.

    ``labels`` is the label set in play; rules for labels outside it are ignored. Returns None
    when the label set is not a subset of the shipped labels (the rules mean nothing there) or
    lacks ``unrelated`` (nothing to fall back to).
    """
    from .rules import find_rule_hits
    from .text import normalize

    allowed = set(labels)
    if not allowed <= set(LABELS) or _FALLBACK not in allowed:
        return None
    predictions = []
    for text in texts:
        fired = {hit.rule.label for hit in find_rule_hits(normalize(text))} & allowed
        predictions.append(min(fired, key=SEVERITY.__getitem__) if fired else _FALLBACK)
    return predictions


def _fasttext_tokens(text: str) -> str:
    """Normalised text as space-separated characters (fastText splits on whitespace)."""
    from .text import normalize

    return " ".join(ch for ch in normalize(text) if not ch.isspace())


def fasttext_baseline(
    texts: Sequence[str], labels: Sequence[str], *, train_texts: Sequence[str] | None = None,
    train_labels: Sequence[str] | None = None, folds: int = 5, seed: int = 0,
) -> tuple[np.ndarray, list[str]] | None:
    """Probabilities of a fastText model (character unigrams + bigrams), or None when the optional
    ``fasttext`` package is not importable.

    With ``train_texts``/``train_labels`` it is trained on them and scores ``texts``. Without, it
    is trained on the other folds of a stratified ``folds``-fold split of ``texts`` itself, so that
    every row gets an out-of-fold prediction. Returns ``(proba, classes)``.
    """
    if importlib.util.find_spec("fasttext") is None:
        return None
    import fasttext
    from sklearn.model_selection import StratifiedKFold

    tokens = [_fasttext_tokens(t) for t in texts]
    if train_texts is not None and train_labels is not None:
        classes = sorted(set(train_labels))
        splits = [([_fasttext_tokens(t) for t in train_texts], list(train_labels), np.arange(len(texts)))]
    else:
        classes = sorted(set(labels))
        smallest = min(Counter(labels).values())
        k = min(folds, smallest)
        if k < 2:
            return None
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        splits = [([tokens[i] for i in train], [labels[i] for i in train], test)
                  for train, test in splitter.split(np.zeros(len(labels)), labels)]
    code = {label: i for i, label in enumerate(classes)}
    proba = np.zeros((len(texts), len(classes)))
    with tempfile.TemporaryDirectory(prefix="collectclf-fasttext-") as folder:
        path = Path(folder) / "train.txt"
        for train_tokens, train_y, test in splits:
            with open(path, "w", encoding="utf-8") as handle:
                for text, label in zip(train_tokens, train_y):
                    if label in code:
                        handle.write(f"__label__{code[label]} {text}\n")
            model = fasttext.train_supervised(input=str(path), epoch=25, lr=0.5, wordNgrams=2, minCount=1,
                                              thread=1, seed=seed, verbose=0)
            predicted, scores = model.predict([tokens[i] for i in test], k=-1)
            for row, names, values in zip(test, predicted, scores):
                for name, value in zip(names, values):
                    proba[row, int(name.removeprefix("__label__"))] = float(value)
    totals = proba.sum(axis=1, keepdims=True)
    return np.divide(proba, totals, out=np.full_like(proba, 1.0 / len(classes)), where=totals > 0), classes


def _one_hot(predictions: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes)}
    proba = np.zeros((len(predictions), len(classes)))
    proba[np.arange(len(predictions)), [index[p] for p in predictions]] = 1.0
    return proba


def _summary(metrics: Mapping[str, Any], description: str, *, with_ece: bool) -> dict[str, Any]:
    keep = ("n", "macro_f1", "accuracy", "per_label") + (("ece",) if with_ece else ())
    return {"description": description, **{key: metrics[key] for key in keep}}


def _baselines(
    texts: Sequence[str], labels: Sequence[str], model_classes: Sequence[str], training_counts: Mapping[str, int] | None,
    *, seed: int, train_texts: Sequence[str] | None, train_labels: Sequence[str] | None,
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    label_set = sorted(set(model_classes) | set(labels))
    if training_counts:
        majority = max(sorted(training_counts), key=lambda label: training_counts[label])
        source = "the model's training data"
    else:
        counts = Counter(labels)
        majority = max(sorted(counts), key=lambda label: counts[label])
        source = "the evaluation data itself (the model records no training counts)"
    metrics = evaluate_predictions(labels, _one_hot([majority] * len(texts), label_set), label_set)
    found["majority"] = _summary(metrics, f"always {majority!r}, the most frequent label of {source}", with_ece=False)

    keywords = keyword_baseline(texts, label_set)
    if keywords is None:
        found["keyword_rules"] = {"skipped": "the label set is not the shipped one, so the red-flag rules do not apply"}
    else:
        metrics = evaluate_predictions(labels, _one_hot(keywords, label_set), label_set)
        found["keyword_rules"] = _summary(
            metrics, "label of the most severe collectclf red-flag rule that fires on the normalised text, "
            "else 'unrelated'", with_ece=False)

    try:
        result = fasttext_baseline(texts, labels, train_texts=train_texts, train_labels=train_labels, seed=seed)
    except Exception as error:  # an optional third-party baseline must not sink the report
        log.warning("fastText baseline failed: %s", error)
        found["fasttext"] = {"skipped": f"fastText failed: {error.__class__.__name__}: {error}"}
    else:
        if result is None:
            found["fasttext"] = {"skipped": "the optional fasttext package is not installed"
                                 if importlib.util.find_spec("fasttext") is None else "a label has fewer than 2 examples"}
        else:
            proba, classes = result
            how = ("trained on the given training data" if train_texts is not None
                   else "5-fold out-of-fold predictions on the evaluation data itself (in-distribution, optimistic)")
            found["fasttext"] = _summary(evaluate_predictions(labels, proba, classes),
                                         f"fastText, character uni+bigrams, {how}", with_ece=True)
    return found


# --------------------------------------------------------------------------- reliability
def reliability_bins(proba: np.ndarray, y_true: Sequence[str], classes: Sequence[str], bins: int = 10) -> list[dict[str, Any]]:
    """Top-label confidence against accuracy in equal-width bins (the reliability diagram's data).

    Rows whose true label the model does not know are left out, as in the ECE.
    """
    index = {str(c): i for i, c in enumerate(classes)}
    known = np.array([str(y) in index for y in y_true], dtype=bool)
    truth = np.array([index.get(str(y), -1) for y in y_true])[known]
    confidence = proba[known].max(axis=1) if known.any() else np.zeros(0)
    correct = proba[known].argmax(axis=1) == truth if known.any() else np.zeros(0, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        n = int(inside.sum())
        rows.append({"low": round(float(low), 4), "high": round(float(high), 4), "n": n,
                     "confidence": float(confidence[inside].mean()) if n else None,
                     "accuracy": float(correct[inside].mean()) if n else None})
    return rows


# --------------------------------------------------------------------------- figures
def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def confusion_figure(metrics: Mapping[str, Any]) -> Any:
    """A matplotlib Figure of the confusion matrix: colour = share of the true label, text = count."""
    labels = metrics["confusion"]["labels"]
    matrix = np.asarray(metrics["confusion"]["matrix"], dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.9 * len(labels)
    figure = _figure(size + 1.5, size)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            axes.text(j, i, str(int(matrix[i, j])), ha="center", va="center",
                      color="white" if shares[i, j] > 0.5 else "black", fontsize=9)
    figure.colorbar(image, ax=axes, label="share of the true label")
    axes.set_title(f"Confusion matrix (n={int(matrix.sum())})")
    figure.tight_layout()
    return figure


def reliability_figure(bins: Sequence[Mapping[str, Any]], ece: float | None = None) -> Any:
    """A matplotlib Figure of the reliability diagram: accuracy per confidence bin vs the diagonal,
    with the number of messages per bin underneath."""
    figure = _figure(5.5, 6.0)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    width = bins[0]["high"] - bins[0]["low"] if bins else 0.1
    filled = [(c, b) for c, b in zip(centres, bins) if b["n"]]
    top.bar([c for c, _ in filled], [b["accuracy"] for _, b in filled], width=width * 0.9, color="#4c72b0",
            edgecolor="black", label="accuracy per bin")
    top.plot([b["confidence"] for _, b in filled], [b["accuracy"] for _, b in filled], "o", color="#dd8452",
             label="at mean confidence")
    top.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="best", fontsize=7, framealpha=0.9)
    top.set_title("Reliability diagram" + (f" (ECE {ece:.3f})" if ece is not None else ""))
    bottom.bar(centres, [b["n"] for b in bins], width=width * 0.9, color="grey")
    bottom.set_yscale("symlog")
    bottom.set_xlabel("confidence of the top label")
    bottom.set_ylabel("messages")
    figure.tight_layout()
    return figure


def per_label_figure(metrics: Mapping[str, Any]) -> Any:
    """A matplotlib Figure of precision and recall per label (with support in the tick labels)."""
    rows = metrics["per_label"]
    labels = list(rows)
    positions = np.arange(len(labels))
    figure = _figure(1.5 + 1.1 * len(labels), 4.0)
    axes = figure.add_subplot()
    axes.bar(positions - 0.2, [rows[label]["precision"] for label in labels], 0.4, label="precision", color="#4c72b0")
    axes.bar(positions + 0.2, [rows[label]["recall"] for label in labels], 0.4, label="recall", color="#dd8452")
    axes.set_xticks(positions, [f"{label}\n(n={rows[label]['support']})" for label in labels], fontsize=8)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title(f"Per-label precision and recall (macro-F1 {metrics['macro_f1']:.3f})")
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- report
def _cell(text: str, limit: int = 80) -> str:
    """Text safe for one Markdown table cell."""
    flat = " ".join(str(text).split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _markdown(metrics: Mapping[str, Any], errors: Sequence[Mapping[str, Any]], top_errors: int) -> str:
    from .training import confusion_table, metrics_table

    parts = [
        "# collectclf evaluation report",
        "",
        f"- data: `{metrics['data']['source']}` ({metrics['n']} messages; SHA-256 `{metrics['data']['sha256'][:16]}…`)",
        f"- model labels: {', '.join(metrics['model']['labels'])}; family {metrics['model'].get('family')}",
        f"- errors: {metrics['n_errors']} of {metrics['n']} (see `errors.csv`)",
        "",
        "## Summary",
        "",
        "| system | macro-F1 | accuracy | ECE |",
        "|---|---|---|---|",
        f"| **model** | {metrics['macro_f1']:.3f} | {metrics['accuracy']:.3f} | {metrics['ece']:.3f} |",
    ]
    skipped = []
    for name, row in metrics["baselines"].items():
        if "skipped" in row:
            skipped.append(f"- {name}: skipped ({row['skipped']})")
            continue
        ece = f"{row['ece']:.3f}" if "ece" in row else "–"
        parts.append(f"| {name} baseline | {row['macro_f1']:.3f} | {row['accuracy']:.3f} | {ece} |")
    parts += ["", "Baselines:", ""]
    parts += [f"- {name}: {row['description']}" for name, row in metrics["baselines"].items() if "skipped" not in row]
    parts += skipped
    if metrics["unknown_labels"]:
        listed = ", ".join(f"{label!r} ({n})" for label, n in metrics["unknown_labels"].items())
        parts += ["", f"**Labels the model does not know** (every such message counts as an error): {listed}."]
    parts += ["", "## Per label", "", metrics_table(metrics), "", "![per-label precision and recall](per_label.png)",
              "", "## Confusion matrix", "", "Rows are true labels, columns predictions.", "", confusion_table(metrics),
              "", "![confusion matrix](confusion_matrix.png)", "", "## Calibration", "",
              f"Expected calibration error (10 bins, top label): {metrics['ece']:.3f}.", "",
              "| confidence | messages | mean confidence | accuracy |", "|---|---|---|---|"]
    for row in metrics["reliability"]:
        if row["n"]:
            parts.append(f"| {row['low']:.1f}–{row['high']:.1f} | {row['n']} | {row['confidence']:.3f} | {row['accuracy']:.3f} |")
    parts += ["", "![reliability diagram](reliability.png)", "",
              f"## Most confident mistakes (top {min(top_errors, len(errors))} of {len(errors)})", ""]
    if errors:
        parts += ["| row | true | predicted | confidence | text |", "|---|---|---|---|---|"]
        parts += [f"| {e['row']} | {e['true']} | {e['predicted']} | {e['confidence']:.3f} | {_cell(e['text'])} |"
                  for e in errors[:top_errors]]
    else:
        parts.append("None.")
    return "\n".join(parts) + "\n"


def _write_errors(path: Path, errors: Sequence[Mapping[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "text", "true", "predicted", "confidence"])
        for error in errors:
            writer.writerow([error["row"], error["text"], error["true"], error["predicted"], f"{error['confidence']:.6f}"])


def _describe(data: Any) -> str:
    return str(data) if isinstance(data, (str, Path)) else type(data).__name__


def evaluate_to_report(
    model: Any,
    data: Any,
    report_dir: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_map: Mapping[str, str] | None = None,
    split: str | None = None,
    baselines: bool = True,
    baseline_train: Any = None,
    seed: int = 0,
    top_errors: int = 20,
) -> dict[str, Any]:
    """Evaluate ``model`` on labelled ``data`` and write the report files into ``report_dir``.

    ``model`` is a fitted :class:`~collectclf.Classifier` or a model directory path. ``data`` is
    anything :func:`collectclf.training.load_corpus` reads; for a ``DatasetDict`` the ``split``
    defaults to ``test``, then ``validation``, then its only split. True labels the model does not
    know count as errors and are listed under ``unknown_labels``. ``baseline_train`` (same kinds of
    input) is what the fastText baseline trains on; without it fastText uses out-of-fold
    predictions on ``data``. Returns the metrics that ``metrics.json`` holds.
    """
    if not hasattr(model, "predict_proba"):
        from ._loading import load_model as load

        model = load(model)
    split = split or _default_split(data)
    texts, labels = load_corpus(data, text_column=text_column, label_column=label_column, label_map=label_map, split=split)
    if not texts:
        raise CorpusError("the evaluation data has no messages")
    classes = [str(c) for c in model.classes_]
    log.info("evaluating on %d messages", len(texts))
    proba = np.asarray(model.predict_proba(texts), dtype=float)
    metrics = evaluate_predictions(labels, proba, classes)
    predicted = [classes[i] for i in proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    unknown = Counter(label for label in labels if label not in set(classes))
    errors = sorted(
        ({"row": i, "text": text, "true": true, "predicted": guess, "confidence": float(conf)}
         for i, (text, true, guess, conf) in enumerate(zip(texts, labels, predicted, confidence)) if true != guess),
        key=lambda e: (-e["confidence"], e["row"]),
    )
    meta = getattr(model, "metadata_", {}) or {}
    training = meta.get("training_data") or {}
    metrics.update(
        n_errors=len(errors),
        unknown_labels=dict(sorted(unknown.items())),
        reliability=reliability_bins(proba, labels, classes),
        model={"labels": classes, "family": getattr(model, "model", None),
               "params": {k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()}
               if hasattr(model, "get_params") else {},
               "training_data": {k: training[k] for k in ("sha256", "n", "counts") if k in training}},
        data={"source": _describe(data), "split": split, "text_column": text_column, "label_column": label_column,
              "sha256": data_sha256(texts, labels), "counts": dict(sorted(Counter(labels).items()))},
    )
    if baselines:
        train_texts = train_labels = None
        if baseline_train is not None:
            train_texts, train_labels = load_corpus(baseline_train, text_column=text_column, label_column=label_column,
                                                    label_map=label_map)
        metrics["baselines"] = _baselines(texts, labels, classes, training.get("counts"), seed=seed,
                                          train_texts=train_texts, train_labels=train_labels)
    else:
        metrics["baselines"] = {}
    metrics["files"] = list(REPORT_FILES)

    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    confusion_figure(metrics).savefig(out / "confusion_matrix.png")
    reliability_figure(metrics["reliability"], metrics["ece"]).savefig(out / "reliability.png")
    per_label_figure(metrics).savefig(out / "per_label.png")
    _write_errors(out / "errors.csv", errors)
    (out / "report.md").write_text(_markdown(metrics, errors, top_errors), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log.info("report written to %s", out)
    return metrics


def _default_split(data: Any) -> str:
    """The split to evaluate on when the caller names none."""
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a dependency
        return "test"
    if isinstance(data, datasets.DatasetDict):
        for name in ("test", "validation", "heldout"):
            if name in data:
                return name
        if len(data) == 1:
            return next(iter(data))
        raise CorpusError(f"name the split to evaluate on; the dataset has {sorted(data)}")
    return "test"
