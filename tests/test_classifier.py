"""The estimator: scikit-learn compatibility, any label set, calibrated probabilities, evidence."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from collectclf import Classifier
from collectclf.augment import clause_crops, prefix_crops
from collectclf.calibration import MODEL_FAMILIES, NBSVM, CalibratedLinear


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


def test_class_offsets_follow_the_calibration_rows_and_move_decisions():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.5]])
    X = np.vstack([centres[k] + rng.normal(0, 0.9, (300, 2)) for k in range(3)])
    y = np.repeat(["a", "b", "c"], 300)
    # the calibration rows (say, real messages) are mostly "b": the offsets must lean towards it
    mask = np.zeros(len(y), dtype=bool)
    mask[300:600] = True
    mask[np.r_[0:30, 600:630]] = True
    plain = CalibratedLinear(cv=3).fit(X, y, calibration_mask=mask)
    leaning = CalibratedLinear(cv=3, calibration="temperature+bias").fit(X, y, calibration_mask=mask)
    assert np.all(plain.class_bias_ == 0) and leaning.class_bias_[0] == 0
    assert leaning.class_bias_[1] > max(leaning.class_bias_[0], leaning.class_bias_[2])
    np.testing.assert_array_equal(leaning.predict(X), leaning.classes_[leaning.predict_proba(X).argmax(axis=1)])
    assert (leaning.predict(X) == "b").sum() > (plain.predict(X) == "b").sum()
    with pytest.raises(ValueError, match="unknown calibration"):
        CalibratedLinear(calibration="isotonic").fit(X, y)


def test_class_offsets_are_saved_and_loaded(tiny_corpus, tmp_path):
    texts, labels = tiny_corpus
    model = Classifier(calibration_cv=3, min_df=1, calibration="temperature+bias").fit(texts, labels)
    loaded = Classifier.from_directory(model.save(tmp_path / "m"))
    head = loaded._fitted().named_steps["model"]
    np.testing.assert_allclose(head.class_bias_, model._fitted().named_steps["model"].class_bias_)
    assert loaded.calibration == "temperature+bias"
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))


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


def test_nbsvm_is_a_linear_svm_on_log_count_ratio_scaled_features():
    from scipy.sparse import csr_matrix
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(1)
    X = csr_matrix((rng.random((60, 6)) < 0.4) * rng.random((60, 6)))
    y = np.array(["a", "b", "c"] * 20)
    model = NBSVM(C=0.7, smoothing=0.5).fit(X, y)
    present = (X.toarray() != 0).astype(float)
    for index, label in enumerate(model.classes_):
        inside = present[y == label].sum(axis=0) + 0.5
        outside = present[y != label].sum(axis=0) + 0.5
        ratio = np.log(inside / inside.sum()) - np.log(outside / outside.sum())
        svm = LinearSVC(C=0.7, random_state=0).fit(X.toarray() * ratio, (y == label).astype(int))
        # the saved linear model scores raw rows exactly as the SVM scores the scaled ones
        np.testing.assert_allclose(model.decision_function(X)[:, index], svm.decision_function(X.toarray() * ratio))


def test_nbsvm_gives_a_class_only_feature_a_positive_weight_and_honours_sample_weight():
    from scipy.sparse import csr_matrix

    X = csr_matrix(np.array([[1.0, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]]))
    y = np.array(["a", "a", "b", "b", "a", "b"])
    model = NBSVM(C=1.0).fit(X, y)
    assert model.coef_[0, 0] > 0 > model.coef_[1, 0] and model.coef_[1, 1] > 0 > model.coef_[0, 1]
    assert list(model.predict(X[:4])) == ["a", "a", "b", "b"]
    dropped = NBSVM(C=1.0).fit(X[:4], y[:4])
    zeroed = NBSVM(C=1.0).fit(X, y, sample_weight=[1, 1, 1, 1, 0, 0])
    np.testing.assert_allclose(zeroed.coef_, dropped.coef_, atol=1e-6)
    with pytest.raises(ValueError, match="two classes"):
        NBSVM().fit(X, ["a"] * 6)
    with pytest.raises(ValueError, match="smoothing"):
        NBSVM(smoothing=0).fit(X, y)


def test_an_nbsvm_classifier_saves_and_loads_as_plain_arrays(tiny_corpus, tmp_path):
    texts, labels = tiny_corpus
    model = Classifier("nbsvm", C=0.5, calibration_cv=3, min_df=1, calibration="temperature+bias").fit(texts, labels)
    loaded = Classifier.from_directory(model.save(tmp_path / "m"))
    assert loaded.model == "nbsvm"
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert (model.predict(texts) == np.asarray(labels)).mean() > 0.9


def test_fold_mean_ships_the_mean_of_the_models_the_calibration_was_fitted_on():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.5]])
    X = np.vstack([centres[k] + rng.normal(0, 0.9, (40, 2)) for k in range(3)])
    y = np.repeat(["a", "b", "c"], 40)
    refit = CalibratedLinear(LinearSVC(C=0.5), cv=4, calibration="temperature+bias").fit(X, y)
    mean = CalibratedLinear(LinearSVC(C=0.5), cv=4, calibration="temperature+bias", fold_mean=True).fit(X, y)
    fold_models = [LinearSVC(C=0.5).fit(X[train], y[train])
                   for train, _ in StratifiedKFold(4, shuffle=True, random_state=0).split(X, y)]
    np.testing.assert_allclose(mean.coef_, np.mean([m.coef_ for m in fold_models], axis=0))
    np.testing.assert_allclose(mean.intercept_, np.mean([m.intercept_ for m in fold_models], axis=0))
    # same folds, same calibration; only the shipped linear model differs
    assert mean.temperature_ == refit.temperature_
    np.testing.assert_array_equal(mean.class_bias_, refit.class_bias_)
    assert not np.allclose(mean.coef_, refit.coef_)
    with pytest.raises(ValueError, match="cv > 1"):
        CalibratedLinear(cv=0, fold_mean=True).fit(X, y)


def test_a_fold_mean_classifier_saves_and_loads(tiny_corpus, tmp_path):
    texts, labels = tiny_corpus
    model = Classifier("nbsvm", C=0.5, calibration_cv=3, min_df=1, fold_mean=True).fit(texts, labels)
    loaded = Classifier.from_directory(model.save(tmp_path / "m"))
    assert loaded.fold_mean is True and loaded._fitted().named_steps["model"].fold_mean is True
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert (model.predict(texts) == np.asarray(labels)).mean() > 0.9


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


# --------------------------------------------------------------------------- truncation augmentation
def test_prefix_crops_adds_copies_of_every_long_enough_text_with_its_label():
    texts = ["您的借款已逾期3天，请通过官方App还款。", "短信", "再不还钱就爆你通讯录，让你全家知道。", "1234567"]
    labels = ["compliant", "unrelated", "threatening", "unrelated"]
    out, out_labels, groups = prefix_crops(texts, labels, copies=3, keep=(0.5, 0.95), seed=0)
    assert out[:4] == texts and out_labels[:4] == labels and groups[:4] == [0, 1, 2, 3]
    assert len(out) == len(out_labels) == len(groups) == 4 + 3 * 2  # texts under 8 characters get no crop
    assert groups[4:] == [0, 0, 0, 2, 2, 2]
    for crop, label, source in zip(out[4:], out_labels[4:], groups[4:]):
        original = texts[source]
        assert label == labels[source]
        assert original.startswith(crop)
        assert 0.5 * len(original) <= len(crop) <= min(0.95 * len(original), len(original) - 1)


def test_prefix_crops_are_deterministic_for_a_seed():
    texts = ["今天18点前必须还清，否则移交法务部门起诉。"] * 20
    labels = ["pressuring"] * 20
    first = prefix_crops(texts, labels, copies=2, seed=7)
    assert prefix_crops(texts, labels, copies=2, seed=7) == first
    assert prefix_crops(texts, labels, copies=2, seed=8)[0] != first[0]
    assert len(set(first[0][20:])) > 1  # the cut point varies


def test_zero_copies_change_nothing(tiny_corpus):
    texts, labels = tiny_corpus
    assert prefix_crops(texts, labels, copies=0) == (list(texts), list(labels), list(range(len(texts))))
    plain = Classifier("svm", calibration_cv=3, min_df=1).fit(texts, labels)
    zero = Classifier("svm", calibration_cv=3, min_df=1, truncation_copies=0, truncation_range=(0.2, 0.3)).fit(texts, labels)
    np.testing.assert_array_equal(plain.predict_proba(texts), zero.predict_proba(texts))


def test_bad_truncation_settings_are_refused():
    with pytest.raises(ValueError, match="copies"):
        prefix_crops(["一二三四五六七八九"], ["a"], copies=-1)
    with pytest.raises(ValueError, match="range"):
        prefix_crops(["一二三四五六七八九"], ["a"], copies=1, keep=(0.5, 1.0))


def test_augmented_fit_is_deterministic_and_changes_only_the_linear_model(tiny_corpus):
    texts, labels = tiny_corpus
    a = Classifier("svm", calibration_cv=3, truncation_copies=2, random_state=1).fit(texts, labels)
    b = Classifier("svm", calibration_cv=3, truncation_copies=2, random_state=1).fit(texts, labels)
    plain = Classifier("svm", calibration_cv=3, random_state=1).fit(texts, labels)
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))
    head, plain_head = a._fitted().named_steps["model"], plain._fitted().named_steps["model"]
    # the vocabularies come from the messages as given: min_df counts messages, not a message and its crops
    names = [list(model._fitted().named_steps["features"].get_feature_names_out()) for model in (a, plain)]
    assert names[0] == names[1]
    assert head.coef_.shape == plain_head.coef_.shape and not np.allclose(head.coef_, plain_head.coef_)


def test_truncation_parameters_survive_clone_and_save(tiny_corpus, tmp_path):
    texts, labels = tiny_corpus
    model = Classifier("svm", calibration_cv=3, min_df=1, truncation_copies=1, truncation_range=(0.6, 0.9))
    assert clone(model).get_params() == model.get_params()
    model.fit(texts, labels)
    loaded = Classifier.from_directory(model.save(tmp_path / "m"))
    assert loaded.get_params() == model.get_params()
    assert loaded.truncation_range == (0.6, 0.9) and loaded.truncation_copies == 1
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    refit = clone(loaded).fit(texts, labels)
    np.testing.assert_array_equal(refit.predict_proba(texts), model.predict_proba(texts))


# --------------------------------------------------------------------------- clause augmentation
def test_clause_crops_keep_only_clauses_that_carry_their_own_label():
    texts = [
        "您好，这里是催收部门。再不还钱就打断你的腿！说到做到",  # threatening: one clause holds the threat
        "今天18点前必须还清，否则移交法务部门；请知悉",  # pressuring: two clauses hold the pressure
        "再不还钱就打断你的腿",  # threatening, but a single clause: nothing to add
        "您的借款已逾期3天，请通过官方App还款。",  # compliant: not asked for
    ]
    labels = ["threatening", "pressuring", "threatening", "compliant"]
    out, out_labels, groups = clause_crops(texts, labels, crop_labels=("threatening", "pressuring"))
    assert out == ["再不还钱就打断你的腿", "今天18点前必须还清", "否则移交法务部门"]
    assert out_labels == ["threatening", "pressuring", "pressuring"] and groups == [0, 1, 1]
    assert clause_crops(texts, labels, crop_labels=("threatening",))[0] == ["再不还钱就打断你的腿"]
    assert clause_crops(texts, labels, crop_labels=("pressuring",), min_chars=9)[0] == ["今天18点前必须还清"]
    assert clause_crops(texts, labels, crop_labels=()) == ([], [], [])
    with pytest.raises(ValueError, match="does not have: fraudulent"):
        clause_crops(texts, labels, crop_labels=("threatening", "fraudulent"))


def test_bad_clause_settings_are_refused(tiny_corpus):
    with pytest.raises(TypeError, match="collection of labels"):
        clause_crops(["甲，乙"], ["threatening"], crop_labels="threatening")
    with pytest.raises(ValueError, match="min_chars"):
        clause_crops(["甲，乙"], ["threatening"], crop_labels=("threatening",), min_chars=0)
    texts, labels = tiny_corpus
    with pytest.raises(ValueError, match="does not have: threatning"):
        Classifier("svm", calibration_cv=3, clause_crop_labels=("threatning",)).fit(texts, labels)


def test_clause_augmented_fit_changes_only_the_linear_model_and_survives_save(tiny_corpus, tmp_path):
    texts, labels = tiny_corpus
    crop_labels = tuple(sorted({label for label in labels if label != "unrelated"}))
    assert clause_crops(texts, labels, crop_labels=crop_labels)[0], "the fixture must give clause crops"
    model = Classifier("svm", calibration_cv=3, min_df=1, clause_crop_labels=crop_labels, random_state=1)
    plain = Classifier("svm", calibration_cv=3, min_df=1, random_state=1).fit(texts, labels)
    model.fit(texts, labels)
    names = [list(m._fitted().named_steps["features"].get_feature_names_out()) for m in (model, plain)]
    assert names[0] == names[1]
    assert not np.allclose(model._fitted().named_steps["model"].coef_, plain._fitted().named_steps["model"].coef_)
    loaded = Classifier.from_directory(model.save(tmp_path / "m"))
    assert loaded.clause_crop_labels == crop_labels and loaded.get_params() == model.get_params()
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))


def test_char_ngrams_found_by_the_automaton_equal_scikit_learns():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from collectclf.features import CharTfidf, make_char_vectorizer

    texts = ["您的借款已逾期<num>天,请还款", "a  b\t\tc <slot> 你好  ", "", "再不还钱就爆你通讯录!!", "征信 征信 征信"]
    vectorizer = make_char_vectorizer((1, 4), min_df=1).fit(texts)
    assert isinstance(vectorizer, CharTfidf)
    assert vectorizer._matcher() is not None  # pyahocorasick is a dependency: the compiled path runs
    unseen = ["逾期<num>天请尽快还款", "完全没见过的字", "征信征信", "  "]
    fast = vectorizer.transform(unseen + texts)
    slow = TfidfVectorizer.transform(vectorizer, unseen + texts)
    assert fast.shape == slow.shape and fast.nnz == slow.nnz
    assert abs(fast - slow).max() < 1e-12


def test_a_refitted_char_vectorizer_does_not_keep_the_old_automaton():
    """fit() again (or a new vocabulary_) must rebuild the n-gram matcher, not reuse the first vocabulary's."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from collectclf.features import make_char_vectorizer

    vectorizer = make_char_vectorizer((1, 3), min_df=1).fit(["甲乙丙丁", "戊己庚"])
    vectorizer.transform(["甲乙丙"])  # builds the matcher for the first vocabulary
    vectorizer.fit(["逾期还款", "请按时还款"])
    texts = ["逾期还款三天", "甲乙丙"]
    fast = vectorizer.transform(texts)
    slow = TfidfVectorizer.transform(vectorizer, texts)
    assert fast.shape == slow.shape and abs(fast - slow).max() < 1e-12
