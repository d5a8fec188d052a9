"""Finding and loading models: the shipped default (cached) or a path the caller names."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ._persist import CONFIG_NAME, ModelLoadError, load_pickle

if TYPE_CHECKING:
    from .classifier import Classifier

_DEFAULT_NAME = "default"
_cache: dict[str, "Classifier"] = {}
_lock = threading.Lock()


def default_model_dir() -> Path:
    """Directory of the shipped model: inside the installed package, or ``models/`` in a checkout."""
    try:
        packaged = resources.files("collectclf.models") / _DEFAULT_NAME
        if packaged.is_dir():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    checkout = Path(__file__).resolve().parent.parent / "models" / _DEFAULT_NAME
    if (checkout / CONFIG_NAME).is_file():
        return checkout
    raise ModelLoadError("the shipped model is missing from this installation; reinstall collectclf")


def load_model(path: str | Path | None = None, *, trusted: bool = False) -> "Classifier":
    """Load the shipped model (cached per process) or the model at ``path``."""
    from .classifier import Classifier

    if path is None:
        with _lock:
            if _DEFAULT_NAME not in _cache:
                _cache[_DEFAULT_NAME] = Classifier.from_directory(default_model_dir())
            return _cache[_DEFAULT_NAME]
    target = Path(path)
    if target.is_dir():
        return Classifier.from_directory(target)
    if not target.exists():
        raise ModelLoadError(f"no model at {target}")
    model = load_pickle(target, trusted=trusted)
    if not isinstance(model, Classifier):
        raise ModelLoadError(f"{target} holds a {type(model).__name__}, not a collectclf Classifier")
    return model
