"""Saving and loading: plain data, checksums, refusal of tampered and untrusted files."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest

import collectclf
from collectclf._persist import ModelLoadError


def test_round_trip_gives_identical_probabilities(tiny_model, tiny_corpus, tmp_path):
    texts, _ = tiny_corpus
    tiny_model.save(tmp_path / "m")
    again = collectclf.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_proba(texts), tiny_model.predict_proba(texts))
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert set(config["files"]) >= {"vocab.json", "weights.npz"}
    assert config["versions"]["scikit-learn"] and config["labels"] == list(tiny_model.classes_)


def test_saving_twice_gives_the_same_bytes(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "a")
    tiny_model.save(tmp_path / "b")
    for name in ("weights.npz", "vocab.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_changed_model_file_is_refused(tiny_model, tmp_path):
    directory = tiny_model.save(tmp_path / "m")
    weights = directory / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="checksum"):
        collectclf.load(directory)


def test_a_missing_file_is_refused(tiny_model, tmp_path):
    directory = tiny_model.save(tmp_path / "m")
    (directory / "vocab.json").unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        collectclf.load(directory)


def test_pickles_need_trust(tiny_model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(tiny_model, path)
    with pytest.raises(ModelLoadError, match="trusted=True"):
        collectclf.load(path)
    assert collectclf.load(path, trusted=True).predict(["验证码1234"])[0] in tiny_model.classes_


def test_a_trusted_pickle_of_something_else_is_refused(tmp_path):
    path = tmp_path / "other.joblib"
    joblib.dump({"not": "a model"}, path)
    with pytest.raises(ModelLoadError, match="not a collectclf Classifier"):
        collectclf.load(path, trusted=True)


def test_no_such_model(tmp_path):
    with pytest.raises(ModelLoadError, match="no model"):
        collectclf.load(tmp_path / "nothing.joblib")
