"""Spelling tricks on the domain vocabulary: pinyin, homophones and separators that senders use to
get 威胁, 催收, 征信… past carriers' keyword filters, and the regex that restores the plain word.

Part of normalisation (:mod:`collectclf.text` runs :data:`DOMAIN_RE` with :func:`restore_domain_word`
as one of its steps, skipped when :data:`DOMAIN_TRIGGER` finds nothing a spelling could differ by).
"""

from __future__ import annotations

import re

__all__ = ["CJK", "DOMAIN_RE", "DOMAIN_TRIGGER", "SEP_CLASS", "restore_domain_word"]

#: Character ranges of Chinese characters (CJK unified ideographs, extension A, compatibility).
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = CJK

# Domain words that senders spell in pinyin or with homophones to dodge carriers' keyword filters.
# _DOMAIN_SPELLINGS lists, per character, its pinyin (and a few long-standing homophones); any
# character of a domain word may be spelled so. _DOMAIN_HOMOPHONES lists whole-word homophone
# spellings, kept per word because a homophone character alone is usually an ordinary word (发,
# 代, 尚). A spelling is restored only if it keeps a Chinese character or has at least five letters
# of pinyin standing alone between non-letters (zhengxin): short pinyin is too ambiguous (anqi).
_DOMAIN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "威": ("wei", "危", "葳"), "胁": ("xie", "协", "挟"), "还": ("huan",), "钱": ("qian",),
    "款": ("kuan",), "逾": ("yu",), "期": ("qi",), "征": ("zheng", "正"), "信": ("xin",),
    "起": ("qi",), "诉": ("su",), "法": ("fa",), "院": ("yuan",), "务": ("wu",),
    "律": ("lv", "lü"), "师": ("shi", "狮"), "函": ("han",), "老": ("lao",), "赖": ("lai", "癞"),
    "坐": ("zuo",), "牢": ("lao",), "通": ("tong",), "讯": ("xun",), "录": ("lu",),
    "催": ("cui", "崔"), "收": ("shou",), "爆": ("bao",), "欠": ("qian",), "债": ("zhai",),
    "上": ("shang",), "门": ("men",), "立": ("li",), "案": ("an",), "传": ("chuan",),
    "票": ("piao",), "拘": ("ju",), "留": ("liu",), "公": ("gong",), "安": ("an",),
    "黑": ("hei",), "名": ("ming",), "单": ("dan",), "借": ("jie",), "贷": ("dai",),
    "利": ("li",), "息": ("xi",), "讼": ("song",), "执": ("zhi",), "行": ("xing",),
    "冻": ("dong",), "结": ("jie",), "失": ("shi",), "曝": ("bao",), "光": ("guang",),
    "诈": ("zha",), "骗": ("pian",), "骚": ("sao",), "扰": ("rao",), "家": ("jia",),
    "人": ("ren",), "联": ("lian",), "系": ("xi",), "微": ("wei",), "支": ("zhi",),
    "付": ("fu",), "宝": ("bao",), "转": ("zhuan",), "账": ("zhang",), "户": ("hu",),
    "验": ("yan",), "证": ("zheng",), "码": ("ma",), "手": ("shou",), "续": ("xu",),
    "费": ("fei",), "保": ("bao",), "金": ("jin",), "解": ("jie",), "停": ("ting",),
    "网": ("wang",), "外": ("wai",), "访": ("fang",), "罚": ("fa",), "刑": ("xing",),
    "事": ("shi",), "犯": ("fan",), "罪": ("zui",), "后": ("hou",), "果": ("guo",),
    "派": ("pai",), "位": ("wei",),
}
_DOMAIN_HOMOPHONES: dict[str, tuple[str, ...]] = {
    "催收": ("摧收",), "征信": ("征芯",), "老赖": ("佬赖",), "坐牢": ("做牢",), "通讯录": ("通迅录",),
    "爆通讯录": ("暴通讯录", "爆通迅录"), "欠款": ("歉款",), "曝光": ("爆光",), "骚扰": ("搔扰",),
    "诈骗": ("炸骗",), "法院": ("发院",), "起诉": ("启诉",), "逾期": ("俞期",), "还款": ("环款",),
    "贷款": ("代款",), "家人": ("家仁",), "上门": ("尚门",), "冻结": ("冻洁",), "公安": ("公桉",),
    "传票": ("传漂",), "黑名单": ("嘿名单",), "微信": ("薇信", "徽信"), "利息": ("利熄",),
    "失信": ("失芯",), "拘留": ("拘溜",), "立案": ("立桉",),
}
_DOMAIN_WORDS: tuple[str, ...] = (
    "威胁", "还钱", "还款", "逾期", "征信", "起诉", "法院", "法务", "律师函", "律师", "老赖", "坐牢",
    "通讯录", "催收", "爆通讯录", "欠款", "欠债", "上门", "立案", "传票", "拘留", "公安", "黑名单",
    "借款", "贷款", "利息", "诉讼", "执行", "冻结", "失信", "曝光", "诈骗", "骚扰", "家人", "联系人",
    "微信", "支付宝", "转账", "账户", "验证码", "手续费", "保证金", "解冻", "停催", "网贷", "外访",
    "罚息", "刑事", "犯罪", "后果", "派人", "单位",
)
# Symbols put between the characters of a word (逾*期, 催 收, 刑·事); emoji are already dropped.
SEP_CLASS = r"[\s★☆*＊·•・.\-_|/~+#^※丨丶]"


def _spellings(word: str, k: int) -> list[str]:
    """The ways the ``k``-th character of a domain word may be written: itself, its pinyin and
    homophone characters, and that position of the word's whole-word homophones."""
    options = [word[k], *_DOMAIN_SPELLINGS.get(word[k], ())]
    return options + [h[k] for h in _DOMAIN_HOMOPHONES.get(word, ()) if h[k] not in options]


def _domain_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex matching any mixed spelling of a domain word, and a lookup back to the word.

    A leading look-ahead on the characters that can start a spelling lets the engine skip every
    other position at once (the alternation has one branch per word).
    """
    words = sorted(_DOMAIN_WORDS, key=len, reverse=True)
    alternatives: list[str] = []
    first: set[str] = set()
    for i, word in enumerate(words):
        parts = []
        for k in range(len(word)):
            options = _spellings(word, k)
            if k == 0:
                first.update(option[0] for option in options)
            parts.append("(?:" + "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True)) + ")")
        alternatives.append(f"(?P<w{i}>" + (SEP_CLASS + "*").join(parts) + ")")
    starts = "[" + "".join(re.escape(ch) for ch in sorted(first)) + "]"
    # pinyin at either end must not touch other letters (visit ≠ 威+…); Chinese at an end may (app环款)
    regex = re.compile(f"(?={starts})(?:(?<![a-z])|(?![a-z]))(?:" + "|".join(alternatives) + r")(?:(?![a-z])|(?<![a-z]))")
    return regex, {f"w{i}": word for i, word in enumerate(words)}


DOMAIN_RE, _DOMAIN_LOOKUP = _domain_pattern()
_LETTERS = re.compile("[a-zü]")


def restore_domain_word(match: re.Match[str]) -> str | None:
    """Rewrite a matched spelling to its domain word, unless it was already that word."""
    word = _DOMAIN_LOOKUP[match.lastgroup or ""]
    found = match.group(0)
    if found == word:
        return None
    if not re.search(f"[{_CJK}]", found) and len(_LETTERS.findall(found)) < 5:
        return None  # short all-pinyin spellings ("anqi", "li an") are too ambiguous
    return word


class _DomainTrigger:
    """Where a domain-word spelling can differ from the plain word (the step is skipped elsewhere).

    A spelling that differs is made of two or more pieces (a domain character, a homophone, or
    pinyin) and has a separator between two pieces, pinyin touching a domain character (the
    pinyin's last letter before it, or its first letter after it), is all pinyin of at least five
    letters (shorter pinyin is never restored), or has a homophone right next to a piece that can
    stand beside it in that word (协 after 威/危/葳 or pinyin ending in i; a lone 协 in 协商 cannot start
    a spelling of 威胁). Those pairs are found with one Aho-Corasick pass when ``pyahocorasick`` is
    there, else any homophone next to any piece counts.
    """

    def __init__(self) -> None:
        canonical = {ch for word in _DOMAIN_WORDS for ch in word}
        alternative: set[str] = set()  # characters spelling a domain character other than itself (爆 in 爆光 → 曝光)
        pinyin: set[str] = set()
        pairs: set[str] = set()  # a homophone and a neighbour it can have inside a spelling
        for word in _DOMAIN_WORDS:
            options = [_spellings(word, k) for k in range(len(word))]
            for k, ch in enumerate(word):
                alternative.update(c for option in options[k] for c in option if c != ch and not _is_letter(c))
                pinyin.update(option for option in options[k] if all(_is_letter(c) for c in option))
                homophones = {option for option in options[k] if len(option) == 1 and option != ch and not _is_letter(option)}
                for h in homophones:
                    if k > 0:
                        pairs.update(option[-1] + h for option in options[k - 1])
                    if k + 1 < len(word):
                        pairs.update(h + option[0] for option in options[k + 1])

        def chars(items: set[str]) -> str:
            return "[" + "".join(re.escape(c) for c in sorted(items)) + "]"

        domain, homophone = chars(canonical), chars(alternative)
        piece = "[" + chars(canonical | alternative)[1:-1] + "a-zü]"
        last_letter, first_letter = chars({p[-1] for p in pinyin}), chars({p[0] for p in pinyin})
        common = f"{piece}{SEP_CLASS}+{piece}|{last_letter}{domain}|{domain}{first_letter}|[a-zü]{{5}}"
        self._pairs = _pair_matcher(pairs)
        self._pattern = re.compile(common if self._pairs is not None else f"{common}|{homophone}{piece}|{piece}{homophone}")

    def search(self, text: str) -> bool:
        """Whether a spelling that differs from its domain word may be in ``text``."""
        if self._pattern.search(text):
            return True
        return self._pairs is not None and next(self._pairs.iter(text), None) is not None


def _pair_matcher(pairs: set[str]) -> object | None:
    try:
        import ahocorasick
    except ImportError:
        return None
    automaton = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)
    for pair in pairs:
        automaton.add_word(pair)
    automaton.make_automaton()
    return automaton


def _is_letter(ch: str) -> bool:
    return "a" <= ch <= "z" or ch == "ü"


DOMAIN_TRIGGER = _DomainTrigger()
