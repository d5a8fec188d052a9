"""The shipped model: loads offline from the package, labels the guide's canonical cases."""

from __future__ import annotations

import warnings

import pytest

import collectclf

CANONICAL = [
    ("您的借款逾期3天，请通过官方App还款，如有困难可申请分期", "compliant"),
    ("恭喜您获得5万元借款额度", "unrelated"),
    ("法院已立案，加微信xxx私下和解，交2000元撤诉", "fraudulent"),
    ("今天不还我们就打电话给你妈和你老板，告诉他们你是老赖", "threatening"),
    ("借款人遭遇暴力催收可以向监管部门投诉", "unrelated"),
    ("您的验证码是384920，5分钟内有效，请勿泄露", "unrelated"),
    ("再不还钱就爆你通讯录，让你全家都知道", "threatening"),
    ("最后通牒：今天17点前必须全额还清，否则移交法务部门处理", "pressuring"),
    ("您名下的校园贷账户未注销，将影响征信，请转账手续费到安全账户办理注销", "fraudulent"),
    ("【招商银行】您尾号1234的信用卡本期账单将于3日后到期，请按时还款", "compliant"),
    ("你的快递已放在菜鸟驿站，取件码8-2-1034", "unrelated"),
    ("专业停催，协商延期还款，成功后收取服务费，加V详谈", "fraudulent"),
]


def test_labels_match_the_shipped_model(shipped):
    assert tuple(sorted(collectclf.LABELS)) == tuple(sorted(shipped.classes_))


def test_loading_raises_no_warning():
    from collectclf._loading import default_model_dir
    from collectclf.classifier import Classifier

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Classifier.from_directory(default_model_dir()).predict(["您的借款已逾期3天"])


@pytest.mark.parametrize("text, label", CANONICAL)
def test_canonical_messages(text, label):
    result = collectclf.classify(text)
    assert result.label == label, (text, result.scores)
    assert abs(sum(result.scores.values()) - 1) < 1e-9


@pytest.mark.parametrize(
    "plain, variant",
    [
        ("再不还钱就爆你通讯录，让你全家都知道", "再不還錢就爆你通訊錄，讓你全家都知道"),
        ("再不还钱就爆你通讯录，让你全家都知道", "再 不 还 钱 就 爆 你 通 讯 录 ， 让 你 全 家 都 知 道"),
        ("您的借款已逾期3天，请通过官方App还款", "您的借款已逾期３天，请通过官方ＡＰＰ还款"),
        ("最后通牒：今天17点前必须全额还清，否则移交法务部门处理", "最后通牒：今天１７点前必须全额还清，否則移交法務部門處理"),
        ("法院已立案，加微信xxx私下和解，交2000元撤诉", "法★院已立案，加微信xxx私下和解，交2000元撤诉"),
    ],
)
def test_spelling_does_not_change_the_label(plain, variant):
    assert collectclf.classify(variant).label == collectclf.classify(plain).label


def test_module_level_helpers():
    texts = ["您的借款已逾期3天，请通过官方App还款", "晚上吃饭吗"]
    assert collectclf.predict(texts) == [r.label for r in collectclf.classify(texts)]
    assert len(collectclf.scores(texts)) == 2
    assert collectclf.__version__


def test_heldout_macro_f1_matches_the_model_card(shipped):
    """Recompute the written held-out macro-F1 the model card states (within 0.005)."""
    import json
    import re
    from pathlib import Path

    from sklearn.metrics import f1_score

    root = Path(__file__).resolve().parent.parent
    card = (root / "models" / "MODEL_CARD.md").read_text(encoding="utf-8")
    section = card.split("## Written held-out evaluation", 1)[1]
    stated = float(re.search(r"macro-F1 \*\*([0-9.]+)\*\*", section).group(1))
    rows = [json.loads(line) for line in (root / "data" / "heldout.jsonl").read_text(encoding="utf-8").splitlines() if line]
    predicted = shipped.predict([row["text"] for row in rows])
    measured = f1_score([row["label"] for row in rows], predicted, average="macro")
    assert abs(measured - stated) <= 0.005, (measured, stated)
