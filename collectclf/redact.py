"""Redaction for sharing outputs: phone, ID and bank-card numbers and likely personal names masked."""

from __future__ import annotations

import re

from .text import CARD_RE, ID_RE, PHONE_RE

__all__ = ["redact"]

_NAME_AFTER = re.compile(r"(尊敬的|亲爱的|姓名[:：]?|收款人[:：]?|借款人[:：]?|户名[:：]?)\s*([\u4e00-\u9fff]{2,3})")


def redact(text: str) -> str:
    """Mask phone, ID and bank-card numbers and likely personal names (for sharing outputs).

    Uses the same number patterns as normalisation; two- or three-character names are masked
    after salutations and labels such as 尊敬的/姓名/收款人 (surnames before 先生/女士 are kept).

    >>> redact("尊敬的张伟，请回电13812345678")
    '尊敬的**，请回电***********'
    """
    def stars(match: re.Match[str]) -> str:
        return "*" * len(match.group(0))

    for pattern in (ID_RE, CARD_RE, PHONE_RE):
        text = pattern.sub(stars, text)
    return _NAME_AFTER.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)
