"""Finding and loading models: the shipped default (cached) or a path the caller names."""

from __future__ import annotations

import os
import threading
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ._persist import CONFIG_DIGEST, CONFIG_NAME, ModelLoadError, load_pickle, read_config, verify_model_dir

if TYPE_CHECKING:
    from .classifier import Classifier

_DEFAULT_NAME = "default"
_cache: dict[str, "Classifier"] = {}
_lock = threading.Lock()
# Models loaded by path in this process (workers reuse them across chunks), and how often.
_by_path: dict[str, "Classifier"] = {}  # None = the shipped model (kept in _cache)
_path_loads: Counter = Counter()
_MAX_PATH_MODELS = 4


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


def cached_model(path: str | os.PathLike[str] | None = None) -> "Classifier":
    """The model directory at ``path`` (None = shipped), loaded at most once per process.

    For worker processes, which score many chunks with the same model. Only model directories
    (checksum-verified, never unpickled) are cached this way.
    """
    if path is None:
        with _lock:
            first = _DEFAULT_NAME not in _cache
        model = load_model(None)
        if first:
            _path_loads[None] += 1
        return model
    if not Path(path).is_dir():
        raise ModelLoadError(f"{path} is not a model directory (workers load model directories only)")
    # keyed by path AND content digest: a model retrained into the same directory is loaded anew
    key = f"{os.fspath(path)}\0{read_config(path).get(CONFIG_DIGEST)}"
    with _lock:
        model = _by_path.get(key)
    if model is None:
        model = load_model(path)
        with _lock:
            if len(_by_path) >= _MAX_PATH_MODELS:
                _by_path.pop(next(iter(_by_path)))
            _by_path[key] = model
            _path_loads[os.fspath(path)] += 1
    return model


def path_load_counts() -> dict[str | None, int]:
    """How many times this process loaded each model directory through :func:`cached_model`."""
    return dict(_path_loads)


def model_labels(path: str | os.PathLike[str] | None = None) -> list[str]:
    """The labels of a model directory, after verifying its checksums, without building the model.

    Lets a process that only writes output (the parent of the scoring workers) know the
    probability columns without holding the model and jieba in memory. A model this process
    has already loaded (and verified) answers from memory.
    """
    if path is None:
        loaded = _cache.get(_DEFAULT_NAME)
    else:
        loaded = _by_path.get(f"{os.fspath(path)}\0{read_config(path).get(CONFIG_DIGEST)}") if Path(path).is_dir() else None
    if loaded is not None:
        return [str(c) for c in loaded.classes_]
    return [str(label) for label in verify_model_dir(default_model_dir() if path is None else path)["labels"]]
