"""A fitted :class:`~collectclf.classifier.Classifier` to and from a model directory: the fitted
scikit-learn pieces as plain JSON and arrays (``_persist`` owns the bytes and checksums)."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import _persist
from ._version import __version__
from .calibration import CalibratedLinear
from .features import RuleFeatures, make_char_vectorizer, make_word_vectorizer

__all__ = ["read_classifier", "write_classifier"]

#: Config keys a loaded model keeps as its ``metadata_``.
METADATA_KEYS = ("metrics", "training_data", "name", "seed")


def library_versions() -> dict[str, str]:
    """Versions of Python, collectclf and the libraries a saved model depends on."""
    found = {"python": platform.python_version(), "collectclf": __version__}
    for name in ("scikit-learn", "numpy", "scipy", "jieba", "opencc"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def _vocabulary(vectorizer: Any) -> list[str]:
    return [term for term, _ in sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])]


def write_classifier(clf: Any, directory: str | Path, *, card: str | None = None) -> Path:
    """Write a fitted classifier as a directory of JSON and ``.npz`` (no pickle); returns its path."""
    pipeline = clf._fitted()
    union = pipeline.named_steps["features"]
    parts = dict(union.transformer_list)
    head: CalibratedLinear = pipeline.named_steps["model"]
    config = {
        "labels": [str(c) for c in clf.classes_],
        "negative_label": clf.negative_label_,
        "params": {key: list(v) if isinstance(v, tuple) else v for key, v in clf.get_params().items()},
        "temperature": head.temperature_,
        "class_bias": [float(b) for b in getattr(head, "class_bias_", np.zeros(len(clf.classes_)))],
        "thresholds": clf.thresholds_,
        "versions": library_versions(),
        **clf.metadata_,
    }
    vocab = {name: _vocabulary(parts[name]) for name in ("words", "chars") if name in parts}
    arrays = {"coef": head.coef_, "intercept": head.intercept_}
    arrays.update({f"{name[:-1]}_idf": parts[name].idf_ for name in ("words", "chars") if name in parts})
    return _persist.write_model_dir(directory, config, vocab, arrays, card)


def _check_consistent(directory: str | Path, config: dict[str, Any], vocab: dict[str, list[str]],
                      arrays: dict[str, np.ndarray], parts: list[str]) -> None:
    """Refuse a directory whose labels, vocabularies and arrays do not fit together."""
    labels = config.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or len(set(map(str, labels))) != len(labels):
        raise _persist.ModelLoadError(f"{directory}: config.json needs at least two distinct labels")
    widths = {name: len(vocab.get(name, [])) for name in ("words", "chars") if name in parts}
    coef = arrays.get("coef")
    intercept = arrays.get("intercept")
    if coef is None or intercept is None or coef.ndim != 2 or coef.shape[0] != len(labels) or intercept.shape != (len(labels),):
        raise _persist.ModelLoadError(f"{directory}: the weights do not have one row per label ({len(labels)} labels)")
    for name, width in widths.items():
        idf = arrays.get(f"{name[:-1]}_idf")
        if idf is None or idf.shape != (width,):
            raise _persist.ModelLoadError(f"{directory}: the {name} vocabulary and its IDF array differ in size")
    negative = config.get("negative_label")
    if negative is not None and negative not in labels:
        raise _persist.ModelLoadError(f"{directory}: negative_label {negative!r} is not one of the labels")


def read_classifier(cls: type, directory: str | Path) -> Any:
    """Rebuild a saved model of class ``cls`` from its directory after verifying every checksum."""
    config, vocab, arrays = _persist.read_model_dir(directory)
    params = {key: tuple(v) if isinstance(v, list) else v for key, v in config["params"].items()}
    clf = cls(**params)
    pipeline = clf.build_pipeline()  # the unfitted flow of these parameters; its fitted state is set below
    union, head = pipeline.named_steps["features"], pipeline.named_steps["model"]
    names = [name for name, _ in union.transformer_list]
    _check_consistent(directory, config, vocab, arrays, names)
    fitted: dict[str, Any] = {}
    if "words" in names:
        fitted["words"] = make_word_vectorizer(tuple(clf.word_ngram_range), clf.min_df)
        fitted["words"].vocabulary_ = {term: i for i, term in enumerate(vocab["words"])}
        fitted["words"].idf_ = arrays["word_idf"]
    fitted["chars"] = make_char_vectorizer(tuple(clf.char_ngram_range), clf.min_df)
    fitted["chars"].vocabulary_ = {term: i for i, term in enumerate(vocab["chars"])}
    fitted["chars"].idf_ = arrays["char_idf"]
    if "rules" in names:
        fitted["rules"] = RuleFeatures().fit([])
    union.set_params(**fitted)
    width = sum(len(vocab[name]) for name in ("words", "chars") if name in names)
    width += len(fitted["rules"].rule_ids_) if "rules" in names else 0
    if arrays["coef"].shape[1] != width:
        raise _persist.ModelLoadError(f"{directory}: the weights have {arrays['coef'].shape[1]} columns for {width} features")
    head.classes_ = np.asarray(config["labels"], dtype=object)
    head.coef_, head.intercept_ = arrays["coef"], arrays["intercept"]
    head.temperature_ = float(config["temperature"])
    if not np.isfinite(head.temperature_) or head.temperature_ <= 0:
        raise _persist.ModelLoadError(f"{directory}: the temperature must be a positive number")
    bias = np.asarray(config.get("class_bias", [0.0] * len(config["labels"])), dtype=np.float64)
    if bias.shape != (len(config["labels"]),) or not np.all(np.isfinite(bias)):
        raise _persist.ModelLoadError(f"{directory}: class_bias needs one finite number per label")
    head.class_bias_ = bias
    head.n_features_in_ = head.coef_.shape[1]
    pipeline.named_steps["normalize"].fit([])
    clf.pipeline_ = pipeline
    clf.classes_ = head.classes_
    clf.negative_label_ = config.get("negative_label", "unrelated" if "unrelated" in config["labels"] else None)
    clf.thresholds_ = {str(k): float(v) for k, v in (config.get("thresholds") or {}).items()}
    clf.metadata_ = {k: v for k, v in config.items() if k in METADATA_KEYS}
    clf.config_ = config
    return clf
