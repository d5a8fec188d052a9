"""Redaction for sharing outputs: phone, ID and bank-card numbers, long digit runs and likely personal
names masked, and senders replaced by stable pseudonyms.

Masking keeps every string's length (one ``*`` per character), so evidence spans computed on the
original text still point at the same places in the redacted one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re

from .text import CARD_RE, ID_RE, PHONE_RE

__all__ = ["Pseudonyms", "redact", "redact_evidence"]

# The commonest Chinese surnames (single and double); a name is a surname and one or two characters.
_SURNAMES_DOUBLE = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|令狐|夏侯|司徒|宇文"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊"
    "葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉"
    "骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏"
    "宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SURNAME = f"(?:{_SURNAMES_DOUBLE}|[{_SURNAMES}])"
_GIVEN = r"[\u4e00-\u9fff]{1,2}"
_HONORIFIC = "先生|女士|小姐|同学|老师|经理|总|师傅|阿姨|叔叔|大哥|大姐|哥|姐"
# 1) after a salutation or a field label: 尊敬的张伟先生, 姓名：李强
_AFTER_CUE = re.compile(
    r"((?:尊敬的|亲爱的)?(?:用户|客户|会员|业主|借款人)[:：]?|尊敬的|亲爱的|致|您好|你好|姓名[:：]?|收款人[:：]?|户名[:：]?"
    r"|联系人[:：]?|担保人[:：]?)"
    rf"\s*({_SURNAME})((?:(?!{_HONORIFIC}|客户|用户|您|你)[\u4e00-\u9fff]){{1,2}})"
)
# 2) before an honorific anywhere: 王强先生, 李女士 has no given name to mask
_BEFORE_HONORIFIC = re.compile(rf"({_SURNAME})({_GIVEN})(?=(?:{_HONORIFIC}))")
# 3) a name opening the message or a clause, followed by a comma or colon: 李强，您的借款…
_OPENING = re.compile(rf"(?:(?<=^)|(?<=[】\]\s。！？!?]))({_SURNAME})({_GIVEN})(?=[，,：:])")
# 4) masked forms already present: 王某, 李某某 (the surname stays, as in 张**)
_SURNAME_MOU = re.compile(rf"({_SURNAME})(某{{1,2}})")
_LONG_DIGITS = re.compile(r"\d{7,}")


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group(0))


def _keep_first(match: re.Match[str]) -> str:
    """Keep group 1 (the cue or surname) and mask the last group, one star per character."""
    last = match.lastindex or 1
    return "".join(match.group(i) for i in range(1, last)) + "*" * len(match.group(last))


def redact(text: str) -> str:
    """Mask ID, bank-card and phone numbers, any other run of 7+ digits, and likely personal names
    (the given name; the surname and any honorific stay), keeping the text's length.

    >>> redact("尊敬的张伟先生，请回电13812345678")
    '尊敬的张*先生，请回电***********'
    >>> redact("李强，你欠的钱王某已经知道了")
    '李*，你欠的钱王*已经知道了'
    """
    for pattern in (ID_RE, CARD_RE, PHONE_RE, _LONG_DIGITS):
        text = pattern.sub(_stars, text)
    for pattern in (_AFTER_CUE, _BEFORE_HONORIFIC, _OPENING, _SURNAME_MOU):
        text = pattern.sub(_keep_first, text)
    return text


def redact_evidence(evidence_json: str) -> str:
    """An evidence column (JSON list of items) with the quoted text of every item redacted."""
    if not evidence_json:
        return evidence_json
    items = json.loads(evidence_json)
    for item in items:
        for key in ("text", "ngram"):
            if isinstance(item.get(key), str):
                item[key] = redact(item[key])
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


_ALIAS_LETTERS = "abcdefghjkmnpqrstuvwxyz"


class Pseudonyms:
    """Stable aliases for senders: the same sender gets the same alias under one key (one run, or a
    resumed run that keeps its key), different keys give unrelated aliases, and an alias reveals
    nothing about the number without the key (a keyed hash, HMAC-SHA-256)."""

    def __init__(self, key: bytes | None = None):
        self.key = key if key is not None else os.urandom(16)

    def alias(self, sender: str) -> str:
        if not sender:
            return sender
        digest = hmac.new(self.key, sender.encode("utf-8"), hashlib.sha256).digest()
        # letters only, so an alias never looks like (or contains) a number
        return "sender-" + "".join(_ALIAS_LETTERS[b % len(_ALIAS_LETTERS)] for b in digest[:10])
