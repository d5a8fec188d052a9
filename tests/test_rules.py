"""Red-flag rules: every rule is well formed, fires on its example and supports a known label."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectclf.labels import LABELS
from collectclf.rules import CITATIONS, RULES, THIRD_PARTY_ADDRESS, cited_codes, find_rule_hits
from collectclf.text import normalize

EXAMPLES = {
    "personal_account": "请把钱转到我的个人账户",
    "credit_repair_fee": "交费即可清除逾期记录",
    "debt_relief_service": "专业停催团队为您服务",
    "release_fee": "需先交解冻费",
    "fake_legal_notice": "您已被下达逮捕令",
    "credential_request": "请告诉我收到的验证码",
    "link": "详情见 https://t.cn/ab",
    "violence": "再不还就砍你",
    "veiled_menace": "后果自负",
    "insult": "你这个老赖",
    "exposure": "我们会爆通讯录",
    "family_target": "你女儿在哪个学校我们知道",
    "false_arrest": "再不还就抓你坐牢",
    "third_party_disclosure": "你的儿子欠我们三万块不还",
    "hard_deadline": "今天下午5点前必须还清",
    "escalation": "已移交法务部",
    "third_party_contact": "我们将联系您的紧急联系人核实",
    "visit": "明天安排上门",
    "exaggerated_consequence": "影响子女上学",
    "repetition": "第3次通知",
    "official_channel": "请通过官方App还款",
    "hardship_offer": "如有困难可申请分期",
    "service_contact": "如有疑问请致电客服",
    "verification_code": "您的验证码是1234",
    "about_collection": "记者调查暴力催收乱象",
    "loan_advert": "恭喜您获得借款额度",
    "repayment_receipt": "您本期账单已还款成功",
}


def test_every_rule_has_an_example_a_label_and_a_source():
    assert {rule.id for rule in RULES} == set(EXAMPLES)
    for rule in RULES:
        assert rule.label in LABELS and rule.description and rule.cites


@pytest.mark.parametrize("rule_id, text", sorted(EXAMPLES.items()))
def test_rule_fires_on_its_example(rule_id, text):
    normalized = normalize(text)
    hits = [hit for hit in find_rule_hits(normalized) if hit.rule.id == rule_id]
    assert hits, f"{rule_id} did not fire on {normalized!r}"
    assert all(0 <= h.start < h.end <= len(normalized) for h in hits)


def test_rules_see_through_spelling_tricks():
    hits = {hit.rule.id for hit in find_rule_hits(normalize("再不還錢就爆 通 讯 录，老lai"))}
    assert {"exposure", "insult"} <= hits


def test_every_cited_code_has_a_legend_entry():
    cited = {code for rule in RULES for code in cited_codes(rule.cites)}
    assert cited <= set(CITATIONS), f"add to collectclf.rules.CITATIONS (and docs/citations.md): {sorted(cited - set(CITATIONS))}"
    assert set(CITATIONS) <= cited, f"no rule cites {sorted(set(CITATIONS) - cited)}"
    assert all(meaning and "\n" not in meaning for meaning in CITATIONS.values())


@pytest.mark.parametrize("text, addressed", [
    ("您作为张三的紧急联系人，请督促其还款", "作为张三的紧急联系人"),
    ("您好，请问您是他的同事吗？麻烦转告他尽快回电", "麻烦转告他"),
    ("王五在我司的借款已逾期，我们联系不上他", "联系不上他"),
    ("第3次通知，将联系你的紧急联系人核实", None),
])
def test_third_party_contact_keeps_phrases_addressed_to_a_third_party_whole(text, addressed):
    normalized = normalize(text)
    pieces = [normalized[h.start:h.end] for h in find_rule_hits(normalized) if h.rule.id == "third_party_contact"]
    assert pieces, "the rule fires on announcements and on messages to third parties alike"
    found = [piece for piece in pieces if any(re.fullmatch(pattern, piece) for pattern in THIRD_PARTY_ADDRESS)]
    assert addressed in found if addressed else found == []


def _every_rule_run(text):
    from collectclf.rules import RULES

    return [(rule.id, m.start(), m.end()) for rule in RULES for m in rule.pattern.finditer(text) if m.end() > m.start()]


def test_the_rule_prefilters_never_drop_a_hit():
    """A rule skipped by its prefilter could not have matched: hits equal running every rule."""
    import json
    from pathlib import Path

    from collectclf.rules import _LITERALS, _PREFILTERS, RULES, _rule_hits

    assert len(_PREFILTERS) == len(RULES) and sum(p is not None for p in _PREFILTERS) >= len(RULES) - 2
    assert len(_LITERALS) == len(RULES) and sum(p is not None for p in _LITERALS) >= len(RULES) - 2
    root = Path(__file__).resolve().parent.parent
    texts = [json.loads(line)["text"] for name in ("heldout.jsonl", "train.jsonl")
             for line in (root / "data" / name).read_text(encoding="utf-8").splitlines()]
    for text in map(normalize, texts):
        assert [(h.rule.id, h.start, h.end) for h in _rule_hits.__wrapped__(text)] == _every_rule_run(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("你不还钱就爆通讯录老赖法院起诉转账微信<num>今天前必须上门家人单位联系客服官方app!再次"
                                             "紧急通知告督促协助沟撤销注删除保证手续费验码截图拘留立案判刑曝光横幅抖音新闻报道据悉投诉")),
               max_size=30))
def test_the_rule_prefilters_agree_on_random_text(text):
    """Random text over the characters of rules and of their required strings."""
    from collectclf.rules import _rule_hits

    assert [(h.rule.id, h.start, h.end) for h in _rule_hits.__wrapped__(text)] == _every_rule_run(text)


@pytest.mark.parametrize("rule_id, text, fires", [
    ("false_arrest", "48小时内不还将移送公安机关", True),
    ("false_arrest", "您可能被依法限制人身自由", True),
    ("false_arrest", "我司将依法提起民事诉讼", False),
    ("third_party_disclosure", "贵单位员工王某在我平台借款已逾期", True),
    ("third_party_disclosure", "您的好友陈某借款逾期未还", True),
    ("third_party_disclosure", "麻烦您转告他回电", False),
    ("repayment_receipt", "您的借款已发放至尾号1234银行卡", True),
    ("repayment_receipt", "感谢您按时缴纳物业费", True),
    ("repayment_receipt", "如您已还款请忽略本短信", False),
    ("repayment_receipt", "今日扣款失败，请补足余额", False),
    ("repayment_receipt", "请存入足额资金，扣款成功后我行将短信告知", False),
    ("repayment_receipt", "感谢您对我们的信任，请尽快还款", False),
    ("repayment_receipt", "感谢您按时还款", True),
    ("repayment_receipt", "本期月供未能扣款成功，请今日补足", False),
    ("repayment_receipt", "如已还清请忽略本短信", False),
])
def test_guide_boundary_patterns(rule_id, text, fires):
    """Receipts ask for nothing (unrelated); police or lost freedom for a debt, and a debt told to a third
    party, are threatening; a civil suit or a call-back request is not."""
    assert any(hit.rule.id == rule_id for hit in find_rule_hits(normalize(text))) is fires
