"""Text normalisation with an offset map (the tokenizer is in tokenizer.py, redaction in redact.py).

Normalisation makes spelling tricks irrelevant to the label: NFKC (full-width → half-width),
lower case, traditional → simplified (OpenCC's character table plus a few Hong Kong variants),
zero-width characters and emoji dropped (a few meaningful ones spelled out: 🔪 → 刀), pinyin and
homophone spellings of a domain vocabulary restored (威xie → 威胁, 崔收 → 催收), separators between
Chinese characters removed (逾*期 → 逾期), and numbers masked into placeholder tokens (``<url>``,
``<phone>``, ``<id>``, ``<card>``, ``<money>``, ``<num>``) whether written in digits, masked with
x/* (逾期x天) or in Chinese numerals (逾期三天, 两千元, 一三八…).

Every step is a regular-expression rewrite or a per-character table, so the same steps run in
two modes: :func:`normalize` (text only) and :func:`normalize_with_offsets` (a little slower; keeps
for each output character the span of the ORIGINAL text it came from, for evidence).

>>> normalize("貴戶逾 期３天，請撥打13812345678")
'贵户逾期<num>天,请拨打<phone>'
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from .spelling import CJK as _CJK
from .spelling import DOMAIN_RE as _DOMAIN_RE
from .spelling import DOMAIN_TRIGGER
from .spelling import SEP_CLASS as _SEP_CLASS
from .spelling import restore_domain_word as _restore_domain_word

__all__ = [
    "CARD_RE",
    "ID_RE",
    "PHONE_RE",
    "PLACEHOLDERS",
    "PLACEHOLDER_RE",
    "PLACEHOLDER_SYMBOL",
    "Normalized",
    "as_text",
    "normalize",
    "normalize_with_offsets",
    "placeholders_as_symbols",
]

PLACEHOLDERS: tuple[str, ...] = ("<url>", "<phone>", "<id>", "<card>", "<money>", "<num>", "<slot>")
PLACEHOLDER_RE = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")")
# One private-use character per placeholder, so character n-grams see a placeholder as one symbol.
PLACEHOLDER_SYMBOL = {p: chr(0xE000 + i) for i, p in enumerate(PLACEHOLDERS)}



def as_text(value: object) -> str:
    """Coerce one input value to a string: None and NaN become ''; other non-strings use str()."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# --------------------------------------------------------------------------- per-character table
# Emoji and decorative symbols carry no meaning for the label and are inserted to break keywords
# (逾🔥期), so they are dropped; the few that do mean something are spelled out instead.
_DECORATION_RANGES: tuple[tuple[int, int], ...] = (
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats (★ ☆ ♥ ✅ ⚠ ❤)
    (0x25A0, 0x25FF),  # geometric shapes (■ ◆ ● ○ ▲)
    (0x2B00, 0x2BFF),  # arrows and stars (⭐ ⬆)
    (0x1F000, 0x1FAFF),  # emoji, pictographs, skin-tone modifiers
    (0xFE00, 0xFE0F),  # variation selectors (❤️ = ❤ + U+FE0F)
    (0x20E3, 0x20E3),  # combining keycap
)
_EMOJI_WORDS: dict[str, str] = {
    "🔪": "刀", "🗡": "刀", "💀": "死", "☠": "死", "⚰": "棺材", "🔫": "枪", "💣": "炸弹", "🧨": "炸弹", "🩸": "血",
}
# Hong Kong variant characters that OpenCC's t2s table leaves alone (s2hk writes them).
_VARIANT_CHARS: dict[str, str] = {"衞": "卫", "枱": "台", "敍": "叙", "粧": "妆", "糭": "粽", "衹": "只"}
# Hong Kong / Taiwan spellings whose characters are also simplified ones, so only the word tells.
_VARIANT_WORDS: dict[str, str] = {"回覆": "回复", "答覆": "答复", "反覆": "反复", "瞭解": "了解", "明瞭": "明了"}
_VARIANT_WORD_RE = re.compile("|".join(_VARIANT_WORDS))


def _is_decoration(codepoint: int) -> bool:
    return any(low <= codepoint <= high for low, high in _DECORATION_RANGES)


class _CharTable(dict):
    """``str.translate`` table: NFKC, lower case, traditional → simplified, cached per character.

    Each entry is iterated to a fixed point so the mapping is idempotent. Surrogates, NUL and
    other control characters (except whitespace), format characters (zero-width) and emoji /
    decorative symbols map to nothing; a few meaningful emoji map to words (🔪 → 刀).
    """

    def __init__(self, convert: Callable[[str], str]):
        super().__init__()
        self._convert = convert
        #: characters whose mapping is not exactly one character (dropped or expanded): only
        #: texts containing one need the per-character offset walk
        self.not_one_to_one: set[str] = set()

    def _one(self, ch: str) -> str:
        if ch in _EMOJI_WORDS:
            return _EMOJI_WORDS[ch]
        out = unicodedata.normalize("NFKC", ch)
        if out == ch and _is_decoration(ord(ch)):
            return ""
        out = out.lower()
        if out in _VARIANT_CHARS:
            return _VARIANT_CHARS[out]
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
        if len(mapped) != 1:
            self.not_one_to_one.add(ch)
        self[codepoint] = mapped
        return mapped


@functools.lru_cache(maxsize=1)
def _char_table() -> _CharTable:
    import opencc  # imported lazily: import collectclf stays cheap

    converter = opencc.OpenCC("t2s.json")
    return _CharTable(converter.convert)


# --------------------------------------------------------------------------- masking patterns
_TLD = r"\.(?:cn|com|net|cc|top|xyz|vip|me|io|ly|co|org|app|link|club|site)"
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef" + _CJK + r"]+"
    r"|(?<![a-z0-9.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*" + _TLD +
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
# Counting words after a number: a masked (x天) or spelled-out (三天) number before one is a number.
_UNIT_CHARS = "天日号期个次月年笔周岁点时分秒位%元块万千百"
# An amount: digits, or digits masked with x/* (x,xxx.xx); a trailing comma or full stop is
# punctuation, not part of it.
_AMOUNT = r"(?:\d|[x*](?![a-wyz]))(?:[,.]?[\dx*])*"
# Each alternative can only start at the beginning of a run (look-behinds), so matching stays
# linear on long runs of digits, x's or numerals.
_MONEY = re.compile(
    r"(?:[￥¥$]|rmb|cny)\s*" + _AMOUNT + r"(?:\s*[万千])?(?:元|块)?"
    r"|(?<![\d,.x*a-z])" + _AMOUNT + r"\s*(?:[万千kw]\s*)?(?:元|块钱|块)"
)
_NUMBER = re.compile(
    r"\d(?:[,.:]?(?:\d|[x*](?![a-wyz])))*"  # digits, with any masked digits that follow (13x, 2,xxx)
    # masked digits, with any digits that follow (xxxx, x天, **1234); a trailing x is not a word's start
    r"|(?P<mask>(?:(?<![a-z\d,.:*>])x|(?<![\d,.:*])\*)(?:[,.:]?[x*])*(?:[,.:]?\d)*(?:(?<=\d)|(?![a-z])))"
)


def _number(match: re.Match[str]) -> str | None:
    """``<num>`` for a number. A run of one or two mask characters alone is a number only before
    a counting word (x天, **月): otherwise it is a placeholder for a name (XX银行, 王**)."""
    if match.group("mask") is None:
        return "<num>"
    found = match.group(0)
    if found[-1].isdigit() or sum(ch in "x*" for ch in found) >= 3:
        return "<num>"
    following = match.string[match.end() : match.end() + 1]
    return "<num>" if following and following in _UNIT_CHARS else None


# Chinese numerals: read-out numbers (两千三百一十六点四, 十一) and digit-by-digit ones (一三八…).
_CN_DIGITS = "零〇一二两三四五六七八九幺"
_CN_MAGNITUDES = "十百千万亿"
_CN_NUM = _CN_DIGITS + _CN_MAGNITUDES
# After a lone 一, only units of time make a number: 一个, 一次, 一点, 一时 are ordinary words
# (最后一次, 小心一点), and 一条 is part of a threat (卸你一条腿) a rule looks for.
_ONE_UNITS = "天日号月年周岁期%"
_CN_TO_ASCII = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
_CN_NUMBER = re.compile(
    r"(?:(?P<currency>[￥¥$])\s*)?(?<![\d>" + _CN_NUM + r"])"
    r"(?P<number>[" + _CN_NUM + r"]+(?:点[" + _CN_DIGITS + r"]+)?)"
    r"(?:\s*(?P<money>元|块钱|块)|(?P<unit>)(?=[天日号期个次月年笔周岁点时位%]|小时|分钟))?"
)


def _chinese_number(match: re.Match[str]) -> str | None:
    """Mask a run of Chinese numerals that is a number, the way its digits would be masked.

    Digit-by-digit runs (three or more of 〇一二…九) become ASCII digits, so that the phone, card
    and number patterns after this step treat them like digits. Read-out numbers become ``<num>``
    or ``<money>``. Ordinary words made of numeral characters stay: 一下, 万一, 千万别, 十分, 一点.
    """
    number = match.group("number")
    if match.group("currency") is not None:
        return "<money>"
    spelled = any(ch in _CN_MAGNITUDES or ch == "点" for ch in number)
    if not spelled and "两" not in number and (len(number) >= 3 or "〇" in number):
        return number.translate(_CN_TO_ASCII) + match.group(0)[len(number) :]
    if match.group("money") is not None:
        if spelled or (number in "一两二三四五六七八九" and match.group("money") != "块"):
            return "<money>"
        return None
    leads_with_digit = number[0] in _CN_DIGITS or number[0] == "十"
    if match.group("unit") is not None:
        following = match.string[match.end() : match.end() + 1]
        if len(number) >= 2 and leads_with_digit:
            return "<num>"
        if number in "二两三四五六七八九十" or (number == "一" and following in _ONE_UNITS):
            return "<num>"
        return None
    if len(number) >= 2 and spelled and leads_with_digit and any(ch in _CN_DIGITS for ch in number):
        return "<num>"
    return None


# Template slots a lender's system leaves in its messages ({name}, {0}, %s, %1, ${x}, {{amount}},
# #repay_money#, $name$, @name@, <name>, [姓名], 【贷款编号】): one ``<slot>`` whatever the style, so the
# brackets and field names never become features or evidence. Text is already NFKC and lower case.
_FIELD_WORDS = "姓名|名字|名称|用户名|客户名|金额|日期|时间|编号|单号|号码|手机号|卡号|尾号|账号|天数|期数|链接|地址|产品名"
_TEMPLATE_SLOT = re.compile(
    r"\{\{[^{}]{1,60}\}\}"  # {{amount}}, {{ .name }}
    r"|\$\{[^{}]{1,60}\}"  # ${username}, ${bill.amount / 100}
    r"|\{[^{}\s]{0,60}\}"  # {name}, {0}, {}, {$row['name']}, {format(x.due)}
    r"|(?<![\d.%])%(?:\d{1,2}\$?[sd]?|[sd])(?![a-z%])"  # %s %d %1 %1$s
    r"|#[a-z_][a-z0-9_]{1,30}#|#[\u4e00-\u9fff]{2,6}#"  # #repay_money# #姓名#
    r"|\$[a-z_][a-z0-9_]{1,30}\$|@[a-z_][a-z0-9_]{1,30}@"  # $name$ @name@
    r"|(?<![a-z0-9$])\$[a-z_][a-z0-9_.]{1,30}(?:\[[^\[\]]{1,20}\])?(?![a-z0-9_$])"  # $amount, $row['name']
    r"|<(?!(?:url|phone|id|card|money|num|slot)>)[a-z_][a-z0-9_.]{1,30}>"  # <name>, not our own tokens
    r"|[\[【](?:[\u4e00-\u9fffa-z_]{0,6}(?:" + _FIELD_WORDS + r"))[\]】]"  # [姓名] 【贷款编号】
)
# Fully spaced text (每 个 字 隔 开, digits and letters too, to pass carrier filters): a space with a
# lone non-space character on each side goes, so 1 3 8… and u r l pieces join up again.
_SPACED_OUT = re.compile(r"(?<=(?<!\S)\S) (?=\S(?!\S))")  # after runs of whitespace became one space


# A run of two or more * (尾号****的, 金额**.**元) or one * before a counting word other than 期
# (逾期*天) is masked digits, not a separator (逾*期).
_BETWEEN_CJK_SEPARATORS = re.compile(
    f"(?<=[{_CJK}])(?!\\*[*,.:]*\\*|\\*[{_UNIT_CHARS.replace('期', '')}])" + _SEP_CLASS + f"+(?=[{_CJK}])"
)
_SPACES = re.compile(r"\s+")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}>]) (?=[{_CJK}<])")

_Rewrite = Callable[[re.Match[str]], "str | None"]


class _fixed:  # noqa: N801 (reads as a function in the step table)
    """A rewrite to one fixed string; :func:`_sub` hands it to the regex engine directly."""

    def __init__(self, replacement: str):
        self.text = replacement

    def __call__(self, _match: re.Match[str]) -> str:
        return self.text


# The regex steps after the character table, in order.
_STEPS: tuple[tuple[re.Pattern[str], _Rewrite], ...] = (
    (_SPACES, _fixed(" ")),
    (_SPACED_OUT, _fixed("")),
    (_TEMPLATE_SLOT, _fixed("<slot>")),
    (_URL, _fixed("<url>")),
    (_DOMAIN_RE, _restore_domain_word),
    (_BETWEEN_CJK_SEPARATORS, _fixed("")),
    (_VARIANT_WORD_RE, lambda match: _VARIANT_WORDS[match.group(0)]),
    (_CN_NUMBER, _chinese_number),
    (_ID, _fixed("<id>")),
    (_CARD, _fixed("<card>")),
    (_PHONE, _fixed("<phone>")),
    (_MONEY, _fixed("<money>")),
    (_NUMBER, _number),
    (_SPACES, _fixed(" ")),
    (_SPACE_BETWEEN_CJK, _fixed("")),
)


# Per step, a cheap search that must succeed for the step to change anything: texts without it skip
# the step (most texts have no digits to mask, no template slots, no spelling tricks). Each is what
# every match of its step contains (a slot's opening character, or a bracket before a field word; a
# link's :// or www. or top-level domain; six digits in a row for an ID; four digits then four more or a
# mask for a card; the first three digits of a phone number of some kind). The steps' output is the same
# either way; a test compares against running every step.
_TRIGGERS: tuple[re.Pattern[str] | None, ...] = (
    re.compile(r"\s"),
    re.compile(" "),
    re.compile(r"[{$%#@<]|[\[【][\u4e00-\u9fffa-z_]{0,6}(?:" + _FIELD_WORDS + ")"),
    re.compile(r"://|www\.|" + _TLD),
    DOMAIN_TRIGGER,
    re.compile(_SEP_CLASS),
    re.compile("[覆瞭]"),
    re.compile(f"[{_CN_NUM}]"),
    re.compile(r"\d{6}"),
    re.compile(r"\d{4}(?:[ -]?\d{4}|[x*])"),
    re.compile(r"1[3-9]\d|[48]00|0\d\d|9[56]\d|106"),
    re.compile(r"[\dx*]"),
    re.compile(r"[\dx*]"),
    re.compile(r"\s"),
    re.compile(" "),
)
assert len(_TRIGGERS) == len(_STEPS)


def _sub(pattern: re.Pattern[str], rewrite: _Rewrite, text: str) -> str:
    if isinstance(rewrite, _fixed):
        return pattern.sub(rewrite.text.replace("\\", "\\\\"), text)

    def replace(match: re.Match[str]) -> str:
        out = rewrite(match)
        return match.group(0) if out is None else out

    return pattern.sub(replace, text)


def normalize(text: str) -> str:
    """Return the normalised form of ``text`` (idempotent; see module docstring)."""
    out = text.translate(_char_table())
    for (pattern, rewrite), trigger in zip(_STEPS, _TRIGGERS):
        if trigger is None or trigger.search(out):
            out = _sub(pattern, rewrite, out)
    return out.strip()


# One rewrite step's edits, in text order: the output starts (for bisection), and per replacement
# (output start, output end, input start, input end).
_Edits = tuple[list[int], list[tuple[int, int, int, int]]]


@dataclass(frozen=True)
class Normalized:
    """A normalised text and the way back to the ORIGINAL text it came from.

    The map is kept as the edits of each step (computed lazily per span), not as one span per
    character, so building it costs little more than :func:`normalize` itself.
    """

    text: str
    _char_spans: tuple[tuple[int, int], ...] | None = field(default=None, repr=False)  # None: 1:1 table
    _edits: tuple[_Edits, ...] = field(default=(), repr=False)
    _left: int = field(default=0, repr=False)  # characters stripped at the start

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text to the span of the original text it came from."""
        end = min(end, len(self.text))
        if start >= end or start < 0:
            return (0, 0)
        low, last = start + self._left, end + self._left - 1  # first and last character, inclusive
        # back through the steps: a position inside a replacement goes to the whole replaced input,
        # one after it shifts by the replacement's change in length
        for starts, records in reversed(self._edits):
            k = bisect.bisect_right(starts, low) - 1
            if k >= 0:
                _, new_end, old_start, old_end = records[k]
                low = old_start if low < new_end else low - new_end + old_end
            k = bisect.bisect_right(starts, last) - 1
            if k >= 0:
                _, new_end, old_start, old_end = records[k]
                last = max(old_end, old_start + 1) - 1 if last < new_end else last - new_end + old_end
        if self._char_spans is not None:
            return (self._char_spans[low][0], self._char_spans[last][1])
        return (low, last + 1)

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """Per normalised character, the ``(start, end)`` span of the original text."""
        return tuple(self.original_span(i, i + 1) for i in range(len(self.text)))


def normalize_with_offsets(text: str) -> Normalized:
    """Normalise ``text`` like :func:`normalize`, keeping the way back to the original.

    The character table usually maps one character to one character; the per-character span
    list that handles dropped or expanded characters is only built for texts that need it.
    """
    table = _char_table()
    current = text.translate(table)  # fills the table for every character of the text
    char_spans: tuple[tuple[int, int], ...] | None = None
    if not table.not_one_to_one.isdisjoint(text):
        spans: list[tuple[int, int]] = []
        for i, ch in enumerate(text):
            spans.extend([(i, i + 1)] * len(table[ord(ch)]))
        char_spans = tuple(spans)
    edits: list[_Edits] = []
    for (pattern, rewrite), trigger in zip(_STEPS, _TRIGGERS):
        if trigger is not None and not trigger.search(current):
            continue
        pieces: list[str] = []
        records: list[tuple[int, int, int, int]] = []
        last = written = 0
        for match in pattern.finditer(current):
            out = rewrite(match)
            if out is None:
                continue
            s, e = match.span()
            pieces.append(current[last:s])
            written += s - last
            pieces.append(out)
            records.append((written, written + len(out), s, e))
            written += len(out)
            last = e
        if records:
            pieces.append(current[last:])
            current = "".join(pieces)
            edits.append(([record[0] for record in records], records))
    stripped = current.strip()
    left = len(current) - len(current.lstrip()) if stripped else 0
    return Normalized(stripped, char_spans, tuple(edits), left)


def placeholders_as_symbols(normalized_text: str) -> str:
    """Replace each placeholder token with one private-use character (for character n-grams)."""
    return PLACEHOLDER_RE.sub(lambda m: PLACEHOLDER_SYMBOL[m.group(0)], normalized_text)


#: The number patterns redaction masks too (one definition for both).
ID_RE, CARD_RE, PHONE_RE = _ID, _CARD, _PHONE
