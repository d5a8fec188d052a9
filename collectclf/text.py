"""Text normalisation with an offset map, and the jieba tokenizer.

Normalisation makes spelling tricks irrelevant to the label: NFKC (full-width → half-width),
lower case, traditional → simplified (OpenCC's character table), zero-width characters dropped,
pinyin and homophone spellings of a small domain vocabulary restored (威xie → 威胁), separators
between Chinese characters removed (逾*期 → 逾期), and numbers masked into placeholder tokens
(``<url>``, ``<phone>``, ``<id>``, ``<card>``, ``<money>``, ``<num>``).

Every step is a regular-expression rewrite or a per-character table, so the same steps run in
two modes: :func:`normalize` (fast, text only) and :func:`normalize_with_offsets` (slow, keeps for
each output character the span of the ORIGINAL text it came from, for evidence).

>>> normalize("貴戶逾 期３天，請撥打13812345678")
'贵户逾期<num>天,请拨打<phone>'
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Callable

__all__ = [
    "PLACEHOLDERS",
    "JiebaTokenizer",
    "Normalized",
    "normalize",
    "normalize_with_offsets",
    "placeholders_as_symbols",
]

PLACEHOLDERS: tuple[str, ...] = ("<url>", "<phone>", "<id>", "<card>", "<money>", "<num>")
_PLACEHOLDER_RE = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")")
# One private-use character per placeholder, so character n-grams see a placeholder as one symbol.
_PLACEHOLDER_SYMBOL = {p: chr(0xE000 + i) for i, p in enumerate(PLACEHOLDERS)}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


# --------------------------------------------------------------------------- per-character table
class _CharTable(dict):
    """``str.translate`` table: NFKC, lower case, traditional → simplified, cached per character.

    Each entry is iterated to a fixed point so the mapping is idempotent. Surrogates, NUL and
    other control characters (except whitespace) map to nothing.
    """

    def __init__(self, convert: Callable[[str], str]):
        super().__init__()
        self._convert = convert

    def _one(self, ch: str) -> str:
        out = unicodedata.normalize("NFKC", ch).lower()
        return self._convert(out) if out else out

    def __missing__(self, codepoint: int) -> str:
        ch = chr(codepoint)
        if 0xD800 <= codepoint <= 0xDFFF or (unicodedata.category(ch) == "Cc" and not ch.isspace()):
            mapped = ""
        elif unicodedata.category(ch) == "Cf" or ch in "\u00ad":  # zero-width, joiners, BOM, soft hyphen
            mapped = ""
        else:
            mapped = ch
            for _ in range(4):
                nxt = "".join(self._one(c) for c in mapped)
                if nxt == mapped:
                    break
                mapped = nxt
        self[codepoint] = mapped
        return mapped


@functools.lru_cache(maxsize=1)
def _char_table() -> _CharTable:
    import opencc  # imported lazily: import collectclf stays cheap

    converter = opencc.OpenCC("t2s.json")
    return _CharTable(converter.convert)


# --------------------------------------------------------------------------- pinyin / homophones
# Domain words whose characters collectors spell in pinyin or with homophones to dodge filters.
# Each character lists the spellings accepted for it; a variant must keep at least one Chinese
# character or be written entirely in pinyin (then it must stand alone between non-letters).
_DOMAIN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "威": ("wei", "危", "葳"), "胁": ("xie", "协", "挟"), "还": ("huan",), "钱": ("qian",),
    "款": ("kuan",), "逾": ("yu",), "期": ("qi",), "征": ("zheng", "正"), "信": ("xin",),
    "起": ("qi",), "诉": ("su",), "法": ("fa",), "院": ("yuan",), "务": ("wu",),
    "律": ("lv", "lü"), "师": ("shi", "狮"), "函": ("han",), "老": ("lao",), "赖": ("lai", "癞"),
    "坐": ("zuo",), "牢": ("lao",), "通": ("tong",), "讯": ("xun",), "录": ("lu",),
    "催": ("cui", "崔"), "收": ("shou",), "爆": ("bao",), "欠": ("qian",), "债": ("zhai",),
    "上": ("shang",), "门": ("men",), "立": ("li",), "案": ("an",), "传": ("chuan",),
    "票": ("piao",), "拘": ("ju",), "留": ("liu",), "公": ("gong",), "安": ("an",),
    "黑": ("hei",), "名": ("ming",), "单": ("dan",),
}
_DOMAIN_WORDS: tuple[str, ...] = (
    "威胁", "还钱", "还款", "逾期", "征信", "起诉", "法院", "法务", "律师函", "律师", "老赖", "坐牢",
    "通讯录", "催收", "爆通讯录", "欠款", "欠债", "上门", "立案", "传票", "拘留", "公安", "黑名单",
)
_SEP_CLASS = r"[\s★☆*＊·•・.\-_|/~+#^]"


def _domain_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex matching any mixed spelling of a domain word, and a lookup back to the word."""
    alternatives: list[str] = []
    for word in sorted(_DOMAIN_WORDS, key=len, reverse=True):
        parts = []
        for ch in word:
            options = [ch, *_DOMAIN_SPELLINGS.get(ch, ())]
            parts.append("(?:" + "|".join(re.escape(o) for o in options) + ")")
        body = (_SEP_CLASS + "*").join(parts)
        alternatives.append(f"(?P<w{len(alternatives)}>{body})")
    regex = re.compile(r"(?<![a-z])(?:" + "|".join(alternatives) + r")(?![a-z])")
    lookup = {f"w{i}": w for i, w in enumerate(sorted(_DOMAIN_WORDS, key=len, reverse=True))}
    return regex, lookup


_DOMAIN_RE, _DOMAIN_LOOKUP = _domain_pattern()


def _restore_domain_word(match: re.Match[str]) -> str | None:
    """Rewrite a matched spelling to its domain word, unless it was already that word."""
    word = _DOMAIN_LOOKUP[match.lastgroup or ""]
    found = match.group(0)
    if found == word:
        return None
    if not re.search(f"[{_CJK}]", found) and len(found) < 5:
        return None  # short all-pinyin spellings ("anqi") are too ambiguous
    # a homophone-only spelling (崔收, 危胁) keeps at most one original character
    return word


# --------------------------------------------------------------------------- masking patterns
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef" + _CJK + r"]+"
    r"|(?<![a-z0-9.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cn|com|net|cc|top|xyz|vip|me|io|ly|co|org|app|link|club|site)"
    r"(?:/[^\s" + _CJK + r"，。！？]*)?"
)
_ID = re.compile(r"(?<![0-9a-z])\d{6}(?:\d{8}|[x*]{6,8})\d{3}[\dx](?![0-9a-z])|(?<![0-9a-z])\d{17}[\dx](?![0-9a-z])")
_CARD = re.compile(r"(?<![0-9])(?:\d{4}[ -]?){3}\d{4,7}(?![0-9])|(?<![0-9])\d{4,6}[x*]{4,10}\d{4}(?![0-9])")
_PHONE = re.compile(
    r"(?<![0-9])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?(?:\d{4}|[x*]{4})[ -]?\d{4})(?![0-9])"
    r"|(?<![0-9])(?:400|800)[ -]?\d{3}[ -]?\d{4}(?![0-9])"
    r"|(?<![0-9])0\d{2,3}-?\d{7,8}(?![0-9])"
    r"|(?<![0-9])(?:9[56]\d{3}|9[56]\d{6}|106\d{5,17})(?![0-9])"
)
_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_AMOUNT = r"(?:\d|[x*]{2})[\d,.x*]*"
# Each alternative can only start at the beginning of a run (look-behinds), so matching stays
# linear on long runs of digits, x's or numerals.
_MONEY = re.compile(
    r"(?:[￥¥$]|rmb|cny)\s*" + _AMOUNT + r"(?:\s*[万千])?(?:元|块)?"
    r"|(?<![\d,.x*])" + _AMOUNT + r"\s*(?:[万千kw]\s*)?(?:元|块钱|块|rmb)"
    r"|(?<![" + _CN_NUM + r"])[" + _CN_NUM + r"]*[十百千万亿][" + _CN_NUM + r"]*\s*(?:元|块钱|块)"
    r"|(?<![" + _CN_NUM + r"])[一两二三四五六七八九](?:元|块钱)"
)
_NUMBER = re.compile(r"\d[\d,.:]*|(?<![a-z])[x*]{3,}(?![a-z])|[" + _CN_NUM + r"]{2,}(?=[天日号期个次月年笔])")
_BETWEEN_CJK_SEPARATORS = re.compile(f"(?<=[{_CJK}])" + _SEP_CLASS + f"+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}>]) (?=[{_CJK}<])")

_Rewrite = Callable[[re.Match[str]], "str | None"]


def _fixed(replacement: str) -> _Rewrite:
    return lambda _match: replacement


# The regex steps after the character table, in order.
_STEPS: tuple[tuple[re.Pattern[str], _Rewrite], ...] = (
    (_URL, _fixed("<url>")),
    (_DOMAIN_RE, _restore_domain_word),
    (_BETWEEN_CJK_SEPARATORS, _fixed("")),
    (_ID, _fixed("<id>")),
    (_CARD, _fixed("<card>")),
    (_PHONE, _fixed("<phone>")),
    (_MONEY, _fixed("<money>")),
    (_NUMBER, _fixed("<num>")),
    (_SPACES, _fixed(" ")),
    (_SPACE_BETWEEN_CJK, _fixed("")),
)


def _sub(pattern: re.Pattern[str], rewrite: _Rewrite, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        out = rewrite(match)
        return match.group(0) if out is None else out

    return pattern.sub(replace, text)


def normalize(text: str) -> str:
    """Return the normalised form of ``text`` (idempotent; see module docstring)."""
    out = text.translate(_char_table())
    for pattern, rewrite in _STEPS:
        out = _sub(pattern, rewrite, out)
    return out.strip()


@dataclass(frozen=True)
class Normalized:
    """A normalised text and, per character, the ``(start, end)`` span in the original text."""

    text: str
    spans: tuple[tuple[int, int], ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text to the span of the original text it came from."""
        if not self.spans or start >= end:
            return (0, 0)
        end = min(end, len(self.spans))
        return (self.spans[start][0], self.spans[end - 1][1])


def normalize_with_offsets(text: str) -> Normalized:
    """Normalise ``text`` like :func:`normalize`, keeping an offset map to the original."""
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
            pieces.append(current[last : match.start()])
            new_spans.extend(spans[last : match.start()])
            if out:
                s, e = match.start(), match.end()
                covered = (spans[s][0], spans[e - 1][1]) if e > s else spans[min(s, len(spans) - 1)]
                pieces.append(out)
                new_spans.extend([covered] * len(out))
            last = match.end()
        pieces.append(current[last:])
        new_spans.extend(spans[last:])
        current = "".join(pieces)
        spans = new_spans
    left = len(current) - len(current.lstrip())
    right = len(current.rstrip())
    return Normalized(current[left:right], tuple(spans[left:right]))


def placeholders_as_symbols(normalized_text: str) -> str:
    """Replace each placeholder token with one private-use character (for character n-grams)."""
    return _PLACEHOLDER_RE.sub(lambda m: _PLACEHOLDER_SYMBOL[m.group(0)], normalized_text)


# --------------------------------------------------------------------------- tokenizer
_TOKENIZERS: dict[str, object] = {}
_TOKENIZER_LOCK = threading.Lock()


def _jieba_instance(user_dict: str | None):
    """A private ``jieba.Tokenizer`` with the domain dictionary, built once per process."""
    key = user_dict or ""
    tokenizer = _TOKENIZERS.get(key)
    if tokenizer is not None:
        return tokenizer
    with _TOKENIZER_LOCK:
        if key not in _TOKENIZERS:
            import logging

            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            source = resources.files("collectclf.resources") / "userdict.txt" if not user_dict else None
            with (open(user_dict, "rb") if user_dict else source.open("rb")) as handle:  # jieba leaves paths open
                tk.load_userdict(handle)
            _TOKENIZERS[key] = tk
    return _TOKENIZERS[key]


class JiebaTokenizer:
    """Callable tokenizer for normalised text: placeholders stay whole, the rest goes to jieba.

    Picklable and cheap to copy: the jieba instance is built lazily, once per process, and is
    not part of the state. Whitespace tokens are dropped.

    Parameters
    ----------
    user_dict : str, optional
        Path to a jieba user dictionary; the shipped domain dictionary when None.
    """

    def __init__(self, user_dict: str | None = None):
        self.user_dict = user_dict

    def __repr__(self) -> str:
        return f"JiebaTokenizer(user_dict={self.user_dict!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer) and other.user_dict == self.user_dict

    def __hash__(self) -> int:
        return hash(("JiebaTokenizer", self.user_dict))

    def __call__(self, text: str) -> list[str]:
        return [token for token, _start, _end in self.tokenize(text)]

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Tokens of ``text`` with their ``(start, end)`` character offsets."""
        jieba_tk = _jieba_instance(self.user_dict)
        tokens: list[tuple[str, int, int]] = []
        position = 0
        for piece in _PLACEHOLDER_RE.split(text):
            if not piece:
                continue
            if piece in _PLACEHOLDER_SYMBOL:
                tokens.append((piece, position, position + len(piece)))
            else:
                for word, start, end in jieba_tk.tokenize(piece, HMM=False):
                    if not word.isspace():
                        tokens.append((word, position + start, position + end))
            position += len(piece)
        return tokens


# --------------------------------------------------------------------------- redaction
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

    for pattern in (_ID, _CARD, _PHONE):
        text = pattern.sub(stars, text)
    return _NAME_AFTER.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)
