"""Normalisation, offsets, tokenizer and redaction."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectclf.redact import redact
from collectclf.text import normalize, normalize_with_offsets, placeholders_as_symbols
from collectclf.tokenizer import JiebaTokenizer

PLAIN = "您的借款已逾期3天，请通过官方App还款"


@pytest.mark.parametrize(
    "variant",
    [
        "您的借款已逾期３天，請通過官方ＡＰＰ還款",  # traditional + full-width
        "您 的 借 款 已 逾 期 3 天，请通过官方App还款",  # spaces
        "您的借款已逾★期3天，请通过官方App还款",  # star separator
        "您的借款已逾\u200b期3天，请通过官方App还款",  # zero-width space
        "您的借款已逾期9天，请通过官方App还款",  # other digits
    ],
)
def test_spelling_variants_normalise_to_the_plain_form(variant):
    assert normalize(variant) == normalize(PLAIN)


def test_masks_numbers_into_placeholders():
    text = "欠款5,000.00元，尾号1234，卡号6222****8888，致电13812345678或400-123-4567，详见https://t.cn/Ab12，身份证11010119900101123X"
    out = normalize(text)
    for token in ("<money>", "<num>", "<card>", "<phone>", "<url>", "<id>"):
        assert token in out
    assert not any(ch.isdigit() for ch in out)


@pytest.mark.parametrize(
    "tricky, word",
    [("威xie", "威胁"), ("wei胁", "威胁"), ("还qian", "还钱"), ("爆tong讯录", "爆通讯录"), ("老lai", "老赖"),
     ("崔收", "催收"), ("fa院", "法院"), ("起 su", "起诉"), ("zhengxin", "征信")],
)
def test_pinyin_and_homophones_restore_domain_words(tricky, word):
    assert word in normalize(f"你{tricky}了")


def test_pinyin_inside_english_words_is_left_alone():
    assert normalize("please visit Malaysia") == "please visit malaysia"


def test_offsets_point_into_the_original_text():
    original = "貴戶 逾 期３天，請撥打13812345678"
    result = normalize_with_offsets(original)
    assert result.text == normalize(original)
    start = result.text.index("逾期")
    s, e = result.original_span(start, start + 2)
    assert original[s:e] == "逾 期"
    p = result.text.index("<phone>")
    s, e = result.original_span(p, p + len("<phone>"))
    assert original[s:e] == "13812345678"


def test_placeholders_become_single_symbols():
    assert len(placeholders_as_symbols("<phone><url>")) == 2


def test_tokenizer_keeps_placeholders_whole_and_spans_match():
    text = normalize("逾期3天请致电13812345678爆通讯录")
    tokens = JiebaTokenizer().tokenize(text)
    words = [t for t, _, _ in tokens]
    assert "<num>" in words and "<phone>" in words and "爆通讯录" in words
    for word, start, end in tokens:
        assert text[start:end] == word


def test_tokenizer_pickles_without_its_jieba_instance():
    tokenizer = JiebaTokenizer()
    tokenizer("先用一次")
    copy = pickle.loads(pickle.dumps(tokenizer))
    assert copy == tokenizer and copy("逾期") == ["逾期"]
    assert repr(copy) == "JiebaTokenizer(user_dict=None)"


def test_redact_masks_numbers_and_names():
    out = redact("尊敬的张伟，请回电13812345678，卡号6222021234567890123")
    assert "张伟" not in out and "13812345678" not in out and "6222021234567890123" not in out
    assert out.startswith("尊敬的张*，")


@pytest.mark.parametrize(
    "text, name, kept",
    [
        ("尊敬的张伟先生，您的借款已逾期", "张伟", "先生"),
        ("李强，你欠的钱什么时候还", "李强", "，你欠"),
        ("你同事王某已经知道了", "王某", "同事"),
        ("尊敬的用户张三：您的账单已出", "张三", "用户"),
        ("【XX银行】王小明，您尾号1234的卡", "王小明", "【XX银行】"),
        ("欧阳娜娜女士您好", "欧阳娜娜", "女士"),
        ("姓名：赵敏 身份证号110101199003071234", "赵敏", "姓名"),
    ],
)
def test_redact_masks_names_in_common_patterns_and_keeps_the_rest(text, name, kept):
    out = redact(text)
    assert name not in out and kept in out and len(out) == len(text)
    assert not re.search(r"\d{7,}", out)


def test_redact_leaves_ordinary_salutations_alone():
    for text in ("您好，您的借款已逾期", "尊敬的客户，您好", "请于3日内还款，谢谢"):
        assert redact(text) == text


def test_pseudonyms_are_stable_per_key_and_unlinkable_across_keys():
    from collectclf.redact import Pseudonyms

    one, two = Pseudonyms(b"k1"), Pseudonyms(b"k2")
    assert one.alias("+8613900000000") == one.alias("+8613900000000") != one.alias("10690000001")
    assert one.alias("+8613900000000") != two.alias("+8613900000000")
    assert "139" not in one.alias("+8613900000000") and one.alias("") == ""


def test_redacted_evidence_keeps_spans_and_masks_quotes():
    import json

    from collectclf.redact import redact_evidence

    evidence = json.dumps([{"ngram": "6217000012345678", "label": "fraudulent", "text": "6217000012345678", "span": [3, 19]}])
    out = json.loads(redact_evidence(evidence))
    assert out[0]["text"] == "*" * 16 and out[0]["ngram"] == "*" * 16 and out[0]["span"] == [3, 19]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_normalize_is_idempotent_and_offsets_agree(text):
    once = normalize(text)
    assert normalize(once) == once
    result = normalize_with_offsets(text)
    assert result.text == once
    assert len(result.spans) == len(result.text)
    for start, end in result.spans:
        assert 0 <= start <= end <= len(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("逾期还款威胁爆通讯录 ★*·x3８<>老赖qianxie")), max_size=40))
def test_normalize_idempotent_on_domain_alphabet(text):
    once = normalize(text)
    assert normalize(once) == once


def _eager_offsets(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Reference implementation: one span per character, rewritten by every step (slow, obvious)."""
    from collectclf.text import _STEPS, _char_table

    table = _char_table()
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        mapped = ch.translate(table)
        chars.extend(mapped)
        spans.extend([(i, i + 1)] * len(mapped))
    current = "".join(chars)
    for pattern, rewrite in _STEPS:
        pieces: list[str] = []
        new_spans: list[tuple[int, int]] = []
        last = 0
        for match in pattern.finditer(current):
            out = rewrite(match)
            if out is None:
                continue
            s, e = match.span()
            pieces.append(current[last:s])
            new_spans.extend(spans[last:s])
            if out:
                pieces.append(out)
                new_spans.extend([(spans[s][0], spans[e - 1][1])] * len(out))
            last = e
        pieces.append(current[last:])
        new_spans.extend(spans[last:])
        current, spans = "".join(pieces), new_spans
    left, right = len(current) - len(current.lstrip()), len(current.rstrip())
    return current[left:right], tuple(spans[left:right])


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("逾期还款威胁爆通讯录 ★*·x3８<>老赖qianxie一二三元\u200b🔥\u3000ﬁ⑴")), max_size=50)
       | st.text(max_size=50))
def test_lazy_offset_map_agrees_with_the_per_character_reference(text):
    expected_text, expected_spans = _eager_offsets(text)
    result = normalize_with_offsets(text)
    assert result.text == expected_text
    assert result.spans == expected_spans


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("逾期还款请尽快处理否则 <num>元，。abc de\t")), max_size=60))
def test_cached_tokenizer_gives_the_tokens_of_the_offset_tokenizer(text):
    tokenizer = JiebaTokenizer()
    normalized = normalize(text)
    assert tokenizer(normalized) == [token for token, _, _ in tokenizer.tokenize(normalized)]
    assert tokenizer(normalized) == tokenizer(normalized)  # second call comes from the cache


def test_step_triggers_never_change_the_output():
    """Skipping a step whose trigger is absent must give what running every step gives."""
    from collectclf.text import _STEPS, _TRIGGERS, _char_table, _sub

    def every_step(text: str) -> str:
        out = text.translate(_char_table())
        for pattern, rewrite in _STEPS:
            out = _sub(pattern, rewrite, out)
        return out.strip()

    samples = ["威 xie 你", "爆光你", "zhengxin 有问题", "征芯异常", "逾*期3天", "两千元", "回覆我", "电话13812345678",
               "尾号****1234", "{name}您好", "h t t p s : / / a . c n", "wei xie", "ｗｅｉ胁", "催·收", "欠款x,xxx.xx元",
               "卡号6222 0212 3456 7890", "6222****1234", "身份证110101199001011234", "热线95588", "4008001234",
               "010-12345678", "10690000001", "www.abc.com", "【尾号】", "[姓名]您好", "点击abc.cn/x"]
    root = Path(__file__).resolve().parent.parent
    samples += [json.loads(line)["text"] for name in ("heldout.jsonl", "train.jsonl")
                for line in (root / "data" / name).read_text(encoding="utf-8").splitlines()]
    assert len(_TRIGGERS) == len(_STEPS)
    for text in samples:
        assert normalize(text) == every_step(text), text
        assert normalize_with_offsets(text).text == every_step(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 -*x.:/+￥元块【】[]{}<>#$%@姓名金额尾号wcnom逾期征信威胁催收两千三"
                                             "协危发院代款芯爆光佬赖做牢商weixn")),
               max_size=40))
def test_step_triggers_never_change_the_output_on_random_text(text):
    """Digits, masks, brackets and link pieces mixed at random: skipped steps must not matter."""
    from collectclf.text import _STEPS, _char_table, _sub

    out = text.translate(_char_table())
    for pattern, rewrite in _STEPS:
        out = _sub(pattern, rewrite, out)
    assert normalize(text) == out.strip() == normalize_with_offsets(text).text


def test_a_mask_letter_after_a_masked_number_stays_idempotent():
    """Found by hypothesis: '*3x期' normalised to '<num>x期', which a second pass turned into '<num><num>期'."""
    for text in ("*3x期", "尾号*3x天", "**12x月"):
        once = normalize(text)
        assert normalize(once) == once
