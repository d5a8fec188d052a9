"""collectclf: label Chinese debt-collection messages as compliant, pressuring, threatening,
fraudulent or unrelated, with calibrated probabilities and evidence.

>>> import collectclf
>>> result = collectclf.classify("您的借款已逾期3天，请通过官方App还款")
>>> result.label in collectclf.LABELS
True

Importing is cheap: the shipped model loads on first use and is cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .labels import LABELS, UNCERTAIN

__all__ = [
    "LABELS",
    "UNCERTAIN",
    "Classifier",
    "Result",
    "__version__",
    "classify",
    "load",
    "predict",
    "score_file",
    "score_frame",
    "scores",
    "train",
]

if TYPE_CHECKING:
    from .classifier import Classifier, Result


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
    # Heavy pieces are imported on first use so that `import collectclf` stays fast.
    if name in ("Classifier", "Result"):
        from . import classifier

        return getattr(classifier, name)
    if name in ("score_file", "score_frame"):
        from . import batch

        return getattr(batch, name)
    if name == "train":
        from .training import train

        return train
    raise AttributeError(f"module 'collectclf' has no attribute {name!r}")
