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

from sklearn.base import clone

from .calibration import MODEL_FAMILIES
from .classifier import Classifier
from .crossval import cross_validate_model
from .features import as_text
from .metrics import evaluate_predictions, expected_calibration_error

__all__ = [
    "SEARCH_GRID",
    "SEARCH_GRIDS",
    "compare_models",
    "cross_validate_model",
    "data_sha256",
    "evaluate_predictions",
    "expected_calibration_error",
    "load_corpus",
    "model_card",
    "search_parameters",
    "train",
]

log = logging.getLogger(__name__)

#: Names that look like local files: a missing one is "no such file", not a hub dataset name.
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".json", ".parquet")

#: The documented hyper-parameter search of ``collectclf train --search`` (logistic regression).
SEARCH_GRID: dict[str, list[Any]] = {
    "C": [5.0, 20.0, 50.0],
    "char_ngram_range": [(1, 3), (2, 4)],
}

#: The search per model family: each family's own regularisation scale (a linear SVM does not
#: converge at logistic regression's C, and ``alpha`` families ignore C altogether).
SEARCH_GRIDS: dict[str, dict[str, list[Any]]] = {
    "logreg": SEARCH_GRID,
    "svm": {"C": [0.1, 0.5, 2.0], "char_ngram_range": [(1, 3), (2, 4)]},
    "nbsvm": {"C": [0.1, 0.25, 0.5], "char_ngram_range": [(1, 3), (2, 4)]},
    "sgd": {"alpha": [1e-5, 2e-5, 1e-4], "char_ngram_range": [(1, 3), (2, 4)]},
    "cnb": {"alpha": [0.03, 0.1, 0.3], "char_ngram_range": [(1, 3), (2, 4)]},
}


class CorpusError(ValueError):
    """A training corpus cannot be read or lacks the named columns."""


# --------------------------------------------------------------------------- data
def load_corpus(
    data: Any,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    label_map: Mapping[str, str] | None = None,
    split: str = "train",
) -> tuple[list[str], list[str]]:
    """Texts and labels from a ``datasets.Dataset``/``DatasetDict``, a pandas DataFrame, a local
    CSV/TSV/XLSX/JSONL/Parquet file, a directory written by ``Dataset.save_to_disk``, or a hub
    dataset name.

    Local files are read by the readers ``collectclf score`` uses (:mod:`collectclf.exports`): the
    format from the content, any encoding it reads (GBK, UTF-16, mixed lines repaired), NUL bytes
    removed, long fields kept, every sheet of a workbook that has both columns (others skipped
    with a logged note). ``text_column``/``label_column`` default to detection: the text column as
    ``score`` finds it, the label among ``label``, ``labels``, ``class``, ``category``, ``标签``, ``类别``.

    Integer labels of a ``ClassLabel`` column become their names; ``label_map`` then renames
    labels (labels it does not mention are kept). Rows without a label are an error, because a
    silently dropped row changes the corpus the model and its hash describe.
    """
    import datasets

    if isinstance(data, (str, Path)) and Path(data).is_file() and not _json_document(Path(data)):
        texts, raw_labels = _read_local(Path(data), text_column, label_column)
        return _finish(texts, raw_labels, None, label_map)
    if isinstance(data, (str, Path)):
        data = _load_path(str(data), split)
    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise CorpusError(f"the dataset has no split {split!r}; it has {sorted(data)}")
        data = data[split]
    names: Callable[[Any], str] | None = None
    if isinstance(data, datasets.Dataset):
        columns = list(data.column_names)
        get = data.__getitem__
    elif hasattr(data, "columns") and hasattr(data, "__getitem__"):  # pandas DataFrame
        columns = [str(c) for c in data.columns]
        by_name = {str(c): c for c in data.columns}

        def get(name: str) -> list[Any]:
            return data[by_name[name]].tolist()
    else:
        raise CorpusError(f"cannot read a corpus from {type(data).__name__}")
    text_name, label_name = _corpus_columns(columns, text_column, label_column)
    if isinstance(data, datasets.Dataset):
        feature = data.features.get(label_name)
        if isinstance(feature, datasets.ClassLabel):
            names = feature.int2str
    return _finish([as_text(t) for t in get(text_name)], get(label_name), names, label_map, label_name)


def _corpus_columns(columns: Sequence[str], text_column: str | None, label_column: str | None) -> tuple[str, str]:
    """The (text, label) column names: as given, else detected (see :func:`load_corpus`)."""
    from .exports import LABEL_COLUMNS, TEXT_COLUMNS, pick_column

    chosen = []
    for given, known, option in ((text_column, TEXT_COLUMNS, "--text-column"), (label_column, LABEL_COLUMNS, "--label-column")):
        if given is not None:
            if given not in columns:
                raise CorpusError(f"column {given!r} not found; the data has {list(columns)}")
            chosen.append(given)
            continue
        found = pick_column(list(columns), known)
        if found is None:
            kind = "text" if known is TEXT_COLUMNS else "label"
            raise CorpusError(f"no {kind} column found among {list(columns)} (looked for {', '.join(known)}); "
                              f"name it with {option}")
        chosen.append(found)
    return chosen[0], chosen[1]


def _json_document(path: Path) -> bool:
    """A ``.json`` file holding one JSON document (an array), which ``datasets`` reads and the exports readers do not."""
    if path.suffix.lower() != ".json":
        return False
    with open(path, "rb") as handle:
        return handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def _read_local(path: Path, text_column: str | None, label_column: str | None) -> tuple[list[str], list[Any]]:
    """Texts and raw labels of a local table, read as ``collectclf score`` reads it (every usable sheet)."""
    from .exports import UnreadableInput, detect_format, read_table

    texts: list[str] = []
    labels: list[Any] = []
    skipped: dict[str, str] = {}
    try:
        fmt = detect_format(path)
        for sheet, columns, rows in read_table(path, fmt):
            try:
                text_name, label_name = _corpus_columns(columns, text_column, label_column)
            except CorpusError as error:
                if not sheet:
                    raise CorpusError(f"{path}: {error}") from None
                skipped[sheet] = str(error)
                continue
            for index, (row, _) in enumerate(rows):
                label = _plain_label(row.get(label_name))
                if not label.strip():
                    where = f"sheet {sheet!r} row {index}" if sheet else f"row {len(texts)}"
                    raise CorpusError(f"{path}: a row has no {label_name!r} (first: {where}); label it or remove it")
                texts.append(as_text(row.get(text_name)))
                labels.append(label)
    except UnreadableInput as error:
        raise CorpusError(str(error)) from None
    if skipped and not texts:
        reasons = "; ".join(f"sheet {name!r}: {reason}" for name, reason in skipped.items())
        raise CorpusError(f"{path}: no sheet has a text and a label column ({reasons})")
    for name in skipped:  # the header cells stay out of the log: a headerless sheet's first row is a message
        log.warning("collectclf: %s: sheet %r skipped: no text or no label column", path.name, name)
    return texts, labels


def _plain_label(value: Any) -> str:
    """A label cell as text; spreadsheet numbers lose their ``.0`` (``1.0`` → ``1``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return as_text(value).strip() if not isinstance(value, str) else value


def _finish(texts: list[str], raw_labels: Sequence[Any], names: Callable[[int], str] | None,
            label_map: Mapping[str, str] | None, label_name: str = "label") -> tuple[list[str], list[str]]:
    """Check that every row has a label, then name (``ClassLabel``) and rename (``label_map``) the labels."""
    missing = [i for i, label in enumerate(raw_labels)
               if as_text(label).strip() == "" or (names is not None and label == -1)]  # ClassLabel: -1 = none
    if missing:
        raise CorpusError(f"{len(missing)} row(s) have no {label_name!r} (first: row {missing[0]}); "
                          "label them or remove them")
    labels = [names(int(label)) if names else str(label) for label in raw_labels]
    if label_map:
        labels = [label_map.get(label, label) for label in labels]
    return texts, labels


def _load_path(path: str, split: str) -> Any:
    """A saved dataset directory, a JSON document, or a hub dataset name (other local files: :func:`_read_local`)."""
    import datasets

    local = Path(path)
    suffix = local.suffix.lower()
    if local.is_dir():
        try:
            return datasets.load_from_disk(str(local))
        except FileNotFoundError:
            raise CorpusError(f"{path} is a directory but not one written by Dataset.save_to_disk; "
                              "pass a CSV/TSV/XLSX/JSONL/Parquet file") from None
    if local.is_file():  # a .json document (an array of objects)
        return datasets.load_dataset("json", data_files={split: str(local)}, split=split)
    if suffix in _TABLE_SUFFIXES:
        raise CorpusError(f"{path}: no such file")
    try:
        return datasets.load_dataset(path, split=split)
    except (ConnectionError, OSError) as error:
        raise CorpusError(
            f"could not load {path!r}: it is not a local file, and as a hub dataset name it failed "
            f"({error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else 'no detail'}). "
            "Hub datasets need a network connection (and HF_DATASETS_OFFLINE/HF_HUB_OFFLINE unset); "
            "download the data elsewhere and pass a local CSV/TSV/JSONL/Parquet file."
        ) from None


def _check_counts(labels: Sequence[str], folds: int, what: str) -> None:
    """Fail early, with the remedy, when a label is too rare for ``folds``-fold splitting (sklearn
    would otherwise warn and then fail inside a fold)."""
    counts = {label: labels.count(label) for label in set(labels)}
    if len(counts) < 2:
        raise CorpusError(f"training needs at least two distinct labels; found {sorted(counts)}")
    rare = sorted((n, label) for label, n in counts.items() if n < folds)
    if rare:
        listed = ", ".join(f"{label!r} ({n})" for n, label in rare)
        raise CorpusError(f"{what} needs at least {folds} examples of every label; too few: {listed}")


def data_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the training pairs (order-sensitive), recorded with every saved model."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


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
def _plain(value: Any) -> Any:
    """Tuples as lists, so parameters read back from JSON compare equal."""
    return list(value) if isinstance(value, tuple) else value


def search_parameters(
    estimator: Classifier, texts: Sequence[str], labels: Sequence[str], *, cv: int = 3, seed: int = 0,
    grid: Mapping[str, Sequence[Any]] | None = None, progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Cross-validated macro-F1 for every point of ``grid`` (default: the family's :data:`SEARCH_GRIDS`).

    Every point uses the same stratified folds; ties go to the earlier point, so the choice is
    reproducible. The default grid is the estimator family's entry of :data:`SEARCH_GRIDS`.
    Returns the grid, a row per point and the best parameters.
    """
    from sklearn.model_selection import ParameterGrid

    grid = dict(grid or SEARCH_GRIDS.get(estimator.model, SEARCH_GRID))
    points = list(ParameterGrid(grid))
    rows = []
    for i, point in enumerate(points, 1):
        candidate = clone(estimator).set_params(**point)
        metrics = cross_validate_model(candidate, texts, labels, cv=cv, seed=seed)
        rows.append({"params": {k: _plain(v) for k, v in point.items()},
                     "macro_f1_mean": metrics["macro_f1_mean"], "macro_f1_std": metrics["macro_f1_std"]})
        if progress:
            shown = ", ".join(f"{k}={_plain(v)}" for k, v in point.items())
            progress(f"setting {i}/{len(points)} ({shown}): macro-F1 {metrics['macro_f1_mean']:.3f}")
    best = max(range(len(rows)), key=lambda i: (rows[i]["macro_f1_mean"], -i))
    return {"cv": cv, "grid": {k: [_plain(v) for v in vs] for k, vs in grid.items()}, "results": rows,
            "best_params": dict(points[best]), "best_macro_f1": rows[best]["macro_f1_mean"]}


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
    split: str = "train",
    progress: Callable[[str], None] | None = None,
    **params: Any,
) -> Classifier:
    """Train a :class:`Classifier` on a corpus (see :func:`load_corpus` for accepted inputs).

    ``data`` is a ``datasets.Dataset``/``DatasetDict`` (its ``split``), a pandas DataFrame, a
    CSV/TSV/JSONL/Parquet path or a hub dataset name. ``params`` go to :class:`Classifier`
    (``C``, ``min_df``, ``calibration_cv``, …). With ``cv`` > 1 the cross-validated metrics are
    computed first and stored with the model; ``search`` first picks the best point of the small
    grid of the family (:data:`SEARCH_GRIDS`) by ``max(cv, 3)``-fold macro-F1. ``progress`` receives one line per
    step (the CLI prints them); otherwise they are logged. Same data + seed → same model.
    The training-data hash, seed, parameters, metrics and versions travel with the saved model.
    """
    say = progress or (lambda message: log.info("%s", message))
    texts, labels = load_corpus(data, text_column=text_column, label_column=label_column, label_map=label_map,
                                split=split)
    counts = {label: labels.count(label) for label in sorted(set(labels))}
    say(f"read {len(texts)} messages: " + ", ".join(f"{label} {n}" for label, n in counts.items()))
    estimator = Classifier(model, random_state=seed, **params)
    calibration = estimator.calibration_cv if estimator.calibration_cv and estimator.calibration_cv > 1 else 1
    _check_counts(labels, calibration, f"calibration ({estimator.calibration_cv} folds)")
    search_result = None
    if search:
        folds = max(cv, 3)
        _check_counts(labels, folds, f"the search ({folds}-fold CV)")
        size = sum(1 for _ in _grid_points(estimator.model))
        say(f"searching {size} parameter settings with {folds}-fold CV")
        search_result = search_parameters(estimator, texts, labels, cv=folds, seed=seed, progress=say)
        estimator = clone(estimator).set_params(**search_result["best_params"])
        search_result["best_params"] = {k: _plain(v) for k, v in search_result["best_params"].items()}
        say(f"best: {search_result['best_params']} (macro-F1 {search_result['best_macro_f1']:.3f})")
    metrics: dict[str, Any] = {}
    if cv and cv > 1:
        _check_counts(labels, cv, f"{cv}-fold cross-validation")
        say(f"cross-validating ({cv} folds)")
        # after a search, fresh folds (another seed): the search's own folds would report its best score again
        cv_seed = seed + 1 if search else seed
        metrics["cv"] = cross_validate_model(estimator, texts, labels, cv=cv, seed=cv_seed,
                                             progress=lambda i, n: say(f"fold {i}/{n} done"))
        metrics["cv"]["folds"] = "fresh folds (seed + 1), not the search's" if search else f"seed {seed}"
    say(f"fitting {estimator.model} on {len(texts)} messages")
    start = time.perf_counter()
    classifier = estimator.fit(texts, labels)
    say(f"fitted in {time.perf_counter() - start:.1f} s")
    classifier.metadata_ = {
        "seed": seed,
        "training_data": {"sha256": data_sha256(texts, labels), "n": len(texts), "counts": counts},
        "metrics": metrics,
    }
    if search_result:
        classifier.metadata_["search"] = search_result
    return classifier


def _grid_points(family: str = "logreg") -> Iterable[dict[str, Any]]:
    from sklearn.model_selection import ParameterGrid

    return ParameterGrid(SEARCH_GRIDS.get(family, SEARCH_GRID))


# --------------------------------------------------------------------------- model card
def metrics_table(metrics: Mapping[str, Any]) -> str:
    """Per-label precision/recall/F1/support as a Markdown table."""
    lines = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, row in metrics["per_label"].items():
        lines.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    return "\n".join(lines)


def confusion_table(metrics: Mapping[str, Any]) -> str:
    """The confusion matrix as a Markdown table (rows: true label)."""
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
    search = meta.get("search")
    if search:
        parts += ["", f"## Parameter search ({search['cv']}-fold CV macro-F1)", "",
                  "| parameters | macro-F1 | ± |", "|---|---|---|"]
        parts += [f"| `{json.dumps(row['params'])}` | {row['macro_f1_mean']:.3f} | {row['macro_f1_std']:.3f} |"
                  for row in search.get("results", [])]
        parts += ["", f"Chosen: `{json.dumps(search['best_params'])}`."]
    cv = meta.get("metrics", {}).get("cv")
    if cv:
        parts += ["", f"## Cross-validation ({cv['cv']} folds)", "",
                  f"macro-F1 {cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}, ECE {cv['ece']:.3f}", "",
                  metrics_table(cv)]
    if evaluation:
        parts += ["", "## Evaluation", "", f"macro-F1 {evaluation['macro_f1']:.3f}, accuracy {evaluation['accuracy']:.3f}, "
                  f"ECE {evaluation['ece']:.3f} on {evaluation['n']} messages", "", metrics_table(evaluation), "",
                  confusion_table(evaluation)]
    return "\n".join(parts) + "\n"
