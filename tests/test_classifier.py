"""The estimator: scikit-learn compatibility, any label set, calibrated probabilities, evidence."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from collectclf import Classifier
from collectclf.classifier import MODEL_FAMILIES, CalibratedLinear


def test_probabilities_sum_to_one_and_classes_come_from_labels(tiny_model, tiny_corpus):
    texts, labels = tiny_corpus
    proba = tiny_model.predict_proba(texts)
    assert proba.shape == (len(texts), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(tiny_model.classes_) == sorted(set(labels))
    assert (tiny_model.predict(texts) == np.asarray(labels)).mean() > 0.9


def test_any_label_set_works():
    texts = ["好评好评", "非常满意", "很好用", "太差了", "退货", "垃圾产品", "一般般", "还行吧", "凑合"] * 2
    labels = ["pos"] * 3 + ["neg"] * 3 + ["mid"] * 3
    model = Classifier(calibration_cv=2, min_df=1).fit(texts, labels * 2)
    assert list(model.classes_) == ["mid", "neg", "pos"]
    assert set(model.predict(["很好用"])) <= {"mid", "neg", "pos"}


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_every_family_fits_and_calibrates(family, tiny_corpus):
    texts, labels = tiny_corpus
    model = Classifier(family, calibration_cv=3, min_df=1).fit(texts, labels)
    proba = model.predict_proba(["今天必须还钱否则上门"])
    assert proba.shape == (1, 5) and abs(proba.sum() - 1) < 1e-9
    assert model._fitted().named_steps["model"].temperature_ > 0


def test_clone_cross_validate_and_grid_search(tiny_corpus):
    texts, labels = (np.asarray(x, dtype=object) for x in tiny_corpus)
    estimator = Classifier(calibration_cv=2, min_df=1)
    assert clone(estimator).get_params() == estimator.get_params()
    folds = StratifiedKFold(2, shuffle=True, random_state=0)
    scores = cross_validate(estimator, texts, labels, cv=folds, scoring="f1_macro")
    assert len(scores["test_score"]) == 2
    grid = GridSearchCV(estimator, {"C": [1.0, 10.0]}, cv=folds, scoring="f1_macro").fit(texts, labels)
    assert grid.best_params_["C"] in (1.0, 10.0)


def test_training_is_deterministic(tiny_corpus):
    texts, labels = tiny_corpus
    a = Classifier("sgd", calibration_cv=3, min_df=1, random_state=3).fit(texts, labels)
    b = Classifier("sgd", calibration_cv=3, min_df=1, random_state=3).fit(texts, labels)
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))


def test_calibrated_linear_binary_case():
    from scipy.sparse import csr_matrix

    X = csr_matrix(np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]] * 3))
    y = np.array(["a", "a", "b", "b"] * 3)
    head = CalibratedLinear(cv=2).fit(X, y)
    assert head.coef_.shape == (2, 2)
    assert list(head.predict(X[:4])) == ["a", "a", "b", "b"]


def test_classify_single_and_many(tiny_model):
    one = tiny_model.classify("再不还钱就爆你通讯录")
    many = tiny_model.classify(["再不还钱就爆你通讯录", "验证码1234"])
    assert isinstance(many, list) and len(many) == 2
    assert one.label == many[0].label and abs(sum(one.scores.values()) - 1) < 1e-9


def test_evidence_spans_index_the_original_text(tiny_model):
    for text in ["再不還錢就爆你通訊錄，老賴", "再 不 还 钱 就 爆 你 通 讯 录", "ＺＺ再不还钱就爆你通讯录"]:
        result = tiny_model.classify(text)
        assert result.evidence
        for item in result.evidence:
            assert text[item.start:item.end] == item.text
            assert 0 <= item.start < item.end <= len(text)


def test_abstain_below_a_confidence(tiny_model):
    result = tiny_model.classify("嗯", abstain_below=0.99)
    assert result.label == "uncertain"
    assert abs(sum(result.scores.values()) - 1) < 1e-9


def test_bad_training_input_is_refused():
    with pytest.raises(ValueError, match="two distinct labels"):
        Classifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="labels"):
        Classifier().fit(["a", "b"], ["x"])


def test_unfitted_model_says_so():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Classifier().predict(["x"])
