"""collectclf: label Chinese debt-collection messages as compliant, pressuring, threatening,
fraudulent or unrelated, with calibrated probabilities and evidence.

>>> import collectclf
>>> result = collectclf.classify("您的借款已逾期3天，请通过官方App还款")
>>> result.label in collectclf.LABELS
True

Importing is cheap: the shipped model loads on first use and is cached.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .labels import LABELS, SEVERITY, UNCERTAIN

__all__ = [
    "LABELS",
    "RULES",
    "SEVERITY",
    "UNCERTAIN",
    "Classifier",
    "Evidence",
    "ReportConfig",
    "Result",
    "ScoreOptions",
    "__version__",
    "build_report",
    "classify",
    "evaluate_to_report",
    "load",
    "normalize",
    "output_columns",
    "predict",
    "read_messages",
    "score_dask",
    "score_file",
    "score_frame",
    "score_messages",
    "score_partition",
    "scores",
    "train",
]

# Public names that live in submodules: imported on first use, so that `import collectclf` stays
# cheap (no scikit-learn, jieba, pandas or Dask until they are needed).
_LAZY: dict[str, str] = {
    "Classifier": "classifier",
    "Evidence": "results",
    "Result": "results",
    "ScoreOptions": "batch",
    "score_file": "batch",
    "score_frame": "batch",
    "score_messages": "batch",
    "read_messages": "exports",
    "RULES": "rules",
    "normalize": "text",
    "train": "training",
    "evaluate_to_report": "evaluation",
    "ReportConfig": "report",
    "build_report": "report",
    "score_dask": "distributed",
    "score_partition": "distributed",
    "output_columns": "distributed",
}

if TYPE_CHECKING:
    from .batch import ScoreOptions, score_file, score_frame, score_messages
    from .classifier import Classifier
    from .distributed import output_columns, score_dask, score_partition
    from .evaluation import evaluate_to_report
    from .exports import read_messages
    from .report import ReportConfig, build_report
    from .results import Evidence, Result
    from .rules import RULES
    from .text import normalize
    from .training import train


def load(path: str | None = None, *, trusted: bool = False) -> "Classifier":
    """Load a model: the shipped one when ``path`` is None (cached), else a model directory.

    A model directory (``config.json`` + ``vocab.json`` + ``weights.npz``) is checksum-verified
    and never unpickled. A ``.joblib``/``.pkl`` file is unpickled only with ``trusted=True``,
    because unpickling runs code from the file.
    """
    from ._loading import load_model

    return load_model(path, trusted=trusted)


def classify(texts: Any, *, evidence: bool = True, abstain_below: float | None = None, model: Any = None):
    """Classify one text (returns a :class:`Result`) or an iterable of texts (a list)."""
    return (model or load()).classify(texts, evidence=evidence, abstain_below=abstain_below)


def predict(texts: Any, *, model: Any = None) -> list[str]:
    """Labels for an iterable of texts."""
    return [str(label) for label in (model or load()).predict(texts)]


def scores(texts: Any, *, model: Any = None) -> list[dict[str, float]]:
    """Label → probability dicts for an iterable of texts."""
    return (model or load()).scores(texts)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'collectclf' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
