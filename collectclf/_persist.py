"""Model directories on disk: plain JSON and ``.npz`` arrays, SHA-256 checked; nothing else
touches model bytes.

A model directory holds ``config.json`` (parameters, labels, versions, metrics, the SHA-256 of
every other file, and ``config_sha256``: the SHA-256 of the config itself without that field),
``vocab.json`` (feature vocabularies as text) and ``weights.npz`` (numeric arrays, read with
``allow_pickle=False``). Loading such a directory never unpickles anything, so it cannot run code;
the checksums make a changed or truncated file fail loudly, ``config.json`` included. The
``config_sha256`` is also the model's content digest (it covers every file's checksum).

Pickle/joblib files can execute arbitrary code when loaded; :func:`load_pickle` refuses them
unless the caller passes ``trusted=True``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

CONFIG_NAME = "config.json"
VOCAB_NAME = "vocab.json"
WEIGHTS_NAME = "weights.npz"
CARD_NAME = "MODEL_CARD.md"
FORMAT_VERSION = 2  # 2: config.json carries its own checksum


class ModelLoadError(ValueError):
    """A model cannot be loaded: missing, corrupted, tampered with, or not trusted."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as a compressed .npz with fixed timestamps, so equal arrays give equal bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def write_model_dir(
    directory: str | os.PathLike[str],
    config: dict[str, Any],
    vocab: dict[str, list[str]],
    arrays: dict[str, np.ndarray],
    card: str | None = None,
) -> Path:
    """Write a model directory; ``config['files']`` receives the checksum of every other file."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    _write_text(target / VOCAB_NAME, json.dumps(vocab, ensure_ascii=False, separators=(",", ":")))
    _write_npz(target / WEIGHTS_NAME, arrays)
    names = [VOCAB_NAME, WEIGHTS_NAME]
    if card is not None:
        _write_text(target / CARD_NAME, card)
        names.append(CARD_NAME)
    config = dict(config, format_version=FORMAT_VERSION)
    config.pop(CONFIG_DIGEST, None)
    config["files"] = {name: sha256_file(target / name) for name in names}
    config[CONFIG_DIGEST] = config_digest(config)
    _write_text(target / CONFIG_NAME, json.dumps(config, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return target


CONFIG_DIGEST = "config_sha256"


def config_digest(config: dict[str, Any]) -> str:
    """SHA-256 of a config's canonical JSON without its own ``config_sha256`` field."""
    body = {key: value for key, value in config.items() if key != CONFIG_DIGEST}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def read_config(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``config.json`` of a model directory (no checksum needed: it is plain JSON)."""
    path = Path(directory) / CONFIG_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"not a collectclf model directory: {directory} has no {CONFIG_NAME}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{path} is not valid JSON: {error}") from None


def verify_model_dir(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Verify the format and every checksum of a model directory; returns its config."""
    root = Path(directory)
    config = read_config(root)
    if config.get("format_version") != FORMAT_VERSION:
        older = isinstance(config.get("format_version"), int) and config["format_version"] < FORMAT_VERSION
        raise ModelLoadError(f"{root}: unsupported model format {config.get('format_version')!r}"
                             + ("; it was written by an older collectclf whose config.json carried no checksum: "
                                "retrain or re-save it with this version" if older else ""))
    if config.get(CONFIG_DIGEST) != config_digest(config):
        raise ModelLoadError(f"{root / CONFIG_NAME} failed its checksum: labels, parameters or checksums in it were "
                             "changed after the model was saved; refusing to load it")
    expected = config.get("files") or {}
    for name in (VOCAB_NAME, WEIGHTS_NAME):
        if name not in expected:
            raise ModelLoadError(f"{root}: {CONFIG_NAME} lists no checksum for {name}")
    for name, digest in expected.items():
        path = root / name
        if not path.is_file():
            raise ModelLoadError(f"{root}: {name} is missing")
        actual = sha256_file(path)
        if actual != digest:
            raise ModelLoadError(
                f"{path} failed its checksum (expected {digest[:12]}…, found {actual[:12]}…): "
                "the file was changed or corrupted; refusing to load it"
            )
    return config


def read_model_dir(directory: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, np.ndarray]]:
    """Verify every checksum, then return ``(config, vocab, arrays)``. Never unpickles."""
    root = Path(directory)
    config = verify_model_dir(root)
    vocab = json.loads((root / VOCAB_NAME).read_text(encoding="utf-8"))
    with np.load(root / WEIGHTS_NAME, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return config, vocab, arrays


def load_pickle(path: str | os.PathLike[str], *, trusted: bool = False) -> Any:
    """Load a joblib/pickle file, only when the caller vouches for it with ``trusted=True``."""
    if not trusted:
        raise ModelLoadError(
            f"{path} is a pickle/joblib file; unpickling runs arbitrary code from the file. "
            "Load it only if you trust its origin, with collectclf.load(path, trusted=True); "
            "share models as collectclf model directories (Classifier.save), which load without unpickling."
        )
    import joblib

    return joblib.load(path)
