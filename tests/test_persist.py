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


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c.update(labels=list(reversed(c["labels"]))),
        lambda c: c.update(temperature=c["temperature"] * 10),
        lambda c: c["params"].update(char_ngram_range=[2, 5]),
        lambda c: c.update(thresholds={c["labels"][0]: 0.99}),
        lambda c: c.update(class_bias=[1.0] * len(c["labels"])),
    ],
    ids=["labels", "temperature", "ngram-range", "thresholds", "class-bias"],
)
def test_an_edited_config_is_refused(tiny_model, tmp_path, edit):
    directory = tiny_model.save(tmp_path / "m")
    path = directory / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    edit(config)
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="config.json failed its checksum"):
        collectclf.load(directory)


def test_labels_must_fit_the_weights_even_with_a_matching_checksum(tiny_model, tmp_path):
    from collectclf._persist import CONFIG_DIGEST, config_digest

    directory = tiny_model.save(tmp_path / "m")
    path = directory / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["labels"] = config["labels"] + ["extra"]
    config[CONFIG_DIGEST] = config_digest(config)
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="one row per label"):
        collectclf.load(directory)
    config["labels"] = [config["labels"][0]] * (len(config["labels"]) - 1)
    config[CONFIG_DIGEST] = config_digest(config)
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="distinct labels"):
        collectclf.load(directory)


def test_evidence_works_with_labels_not_in_sorted_order(tiny_model, tiny_corpus):
    from collectclf.evidence import Explainer

    texts, _ = tiny_corpus
    head = tiny_model._fitted().named_steps["model"]
    order = np.arange(len(head.classes_))[::-1]
    head.classes_, head.coef_, head.intercept_ = head.classes_[order], head.coef_[order], head.intercept_[order]
    tiny_model.classes_ = head.classes_
    tiny_model.__dict__.pop("_explainer", None)
    assert isinstance(tiny_model._explainer, Explainer)
    for result in tiny_model.classify(texts[:5]):
        assert result.label in tiny_model.classes_


def test_a_model_retrained_into_the_same_directory_is_loaded_anew(tiny_model, tiny_corpus, tmp_path):
    from collectclf._loading import cached_model
    from collectclf.classifier import Classifier

    texts, labels = tiny_corpus
    directory = tiny_model.save(tmp_path / "m")
    first = cached_model(directory)
    assert cached_model(directory) is first
    Classifier("svm", C=0.1, calibration_cv=2).fit(texts, labels).save(directory)
    second = cached_model(directory)
    assert second is not first and second.model == "svm"


def test_class_offsets_must_fit_the_labels_even_with_a_matching_checksum(tiny_model, tmp_path):
    from collectclf._persist import CONFIG_DIGEST, config_digest

    directory = tiny_model.save(tmp_path / "m")
    path = directory / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    assert config["class_bias"] == [0.0] * len(config["labels"])
    for bad in ([0.0], [float("nan")] * len(config["labels"])):
        config["class_bias"] = bad
        config[CONFIG_DIGEST] = config_digest(config)
        path.write_text(json.dumps(config), encoding="utf-8")
        with pytest.raises(ModelLoadError, match="class_bias"):
            collectclf.load(directory)
