"""Robustness benchmark: does the label survive spelling tricks?

Usage (from the repository root)::

    python benchmarks/robustness.py [--model DIR] [--seed 0] [--out models/robustness.json] [--max-drop 3]

From the held-out set ``data/heldout.jsonl`` (never the training data) it builds one variant of
every message per transformation, deterministically (fixed seed): traditional characters
(OpenCC s2t and s2hk), full-width forms, separators between Chinese characters (space, ★, ·,
zero-width, a mix of symbols), digits masked with x/*, digits written as Chinese numerals,
pinyin and homophone spellings of domain words, emoji inserted, and random truncation (keep
70-90 % of the characters). It scores the clean set and each variant with a model (the shipped
one by default), prints macro-F1 per variant and the drop in points, writes a JSON report and
exits with status 1 when any drop exceeds ``--max-drop`` points.

The transformations only produce test inputs; the model is never trained on them. Where the
tokeniser could not see through a trick, the fix belongs in :mod:`collectclf.text`.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HELDOUT = ROOT / "data" / "heldout.jsonl"
DEFAULT_OUT = ROOT / "models" / "robustness.json"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PAIR = re.compile(f"(?<=[{_CJK}])(?=[{_CJK}])")
_DIGITS = re.compile(r"\d+")

# --------------------------------------------------------------------------- spelling tables
#: Pinyin spellings of domain words that occur in the held-out set: one or two characters of the
#: word written in pinyin, the way senders dodge carriers' keyword filters (威xie, 还qian, yu期).
PINYIN: dict[str, tuple[str, ...]] = {
    "威胁": ("威xie", "wei胁"), "还钱": ("还qian", "huan钱"), "还款": ("还kuan", "huan款"),
    "逾期": ("yu期", "逾qi"), "征信": ("zheng信", "征xin"), "催收": ("cui收", "催shou"),
    "起诉": ("qi诉", "起su"), "法院": ("fa院", "法yuan"), "法务": ("fa务", "法wu"),
    "律师函": ("lv师函", "律shi函"), "律师": ("lv师", "律shi"), "老赖": ("lao赖", "老lai"),
    "坐牢": ("zuo牢", "坐lao"), "爆通讯录": ("bao通讯录", "爆tong讯录"), "通讯录": ("tong讯录", "通xun录"),
    "欠款": ("qian款", "欠kuan"), "欠债": ("qian债", "欠zhai"), "上门": ("shang门", "上men"),
    "立案": ("li案", "立an"), "传票": ("chuan票", "传piao"), "拘留": ("ju留", "拘liu"),
    "公安": ("gong安", "公an"), "黑名单": ("hei名单", "黑ming单"), "借款": ("jie款", "借kuan"),
    "贷款": ("dai款", "贷kuan"), "利息": ("li息", "利xi"), "诉讼": ("su讼", "诉song"),
    "执行": ("zhi行", "执xing"), "冻结": ("dong结", "冻jie"), "失信": ("shi信", "失xin"),
    "曝光": ("bao光", "曝guang"), "诈骗": ("zha骗", "诈pian"), "骚扰": ("sao扰", "骚rao"),
    "家人": ("jia人", "家ren"), "联系人": ("lian系人", "联xi人"), "微信": ("wei信", "微xin"),
    "支付宝": ("zhi付宝", "支fu宝"), "转账": ("zhuan账", "转zhang"), "账户": ("zhang户", "账hu"),
    "验证码": ("yan证码", "验zheng码"), "手续费": ("shou续费", "手xu费"), "保证金": ("bao证金", "保zheng金"),
    "解冻": ("jie冻", "解dong"), "停催": ("ting催", "停cui"), "网贷": ("wang贷", "网dai"),
    "外访": ("wai访", "外fang"), "罚息": ("fa息", "罚xi"), "刑事": ("xing事", "刑shi"),
    "犯罪": ("fan罪", "犯zui"), "后果": ("hou果", "后guo"), "派人": ("pai人", "派ren"),
    "单位": ("dan位", "单wei"),
}
#: Homophone spellings: a character swapped for one that sounds alike (崔收, 威协, 爆光).
HOMOPHONES: dict[str, tuple[str, ...]] = {
    "威胁": ("威协", "危胁"), "催收": ("崔收", "摧收"), "征信": ("正信", "征芯"), "律师": ("律狮",),
    "律师函": ("律狮函",), "老赖": ("老癞", "佬赖"), "坐牢": ("做牢",), "通讯录": ("通迅录",),
    "爆通讯录": ("爆通迅录", "暴通讯录"), "欠款": ("歉款",), "曝光": ("爆光",), "骚扰": ("搔扰",),
    "诈骗": ("炸骗",), "法院": ("发院",), "起诉": ("启诉",), "逾期": ("俞期",), "还款": ("环款",),
    "贷款": ("代款",), "家人": ("家仁",), "上门": ("尚门",), "冻结": ("冻洁",),
    "公安": ("公桉",), "传票": ("传漂",), "黑名单": ("嘿名单",), "微信": ("薇信", "徽信"),
    "利息": ("利熄",), "失信": ("失芯",), "拘留": ("拘溜",), "立案": ("立桉",),
}

EMOJI = ("😊", "🙏", "👉", "🔥", "⚠️", "💰", "😡", "👀", "❤️", "🎉", "📢", "✅", "😂", "🤝", "💪", "👍🏻")
MIXED_SEPARATORS = (" ", "★", "·", "\u200b", "*", "-", "|", "/", "~", "_", "☆", "♥", "※", "◆", "●", "丨", "\u3000")
_CN_DIGITS = "〇一二三四五六七八九"


@functools.lru_cache(maxsize=4)
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


# --------------------------------------------------------------------------- transformations
def traditional_s2t(text: str, rng: random.Random) -> str:
    """Simplified → traditional characters (OpenCC s2t)."""
    return _opencc("s2t.json").convert(text)


def traditional_hk(text: str, rng: random.Random) -> str:
    """Simplified → Hong Kong traditional variants (OpenCC s2hk)."""
    return _opencc("s2hk.json").convert(text)


def fullwidth(text: str, rng: random.Random) -> str:
    """ASCII letters, digits and punctuation → full-width forms; space → ideographic space."""
    return "".join("\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def separators(sep: str) -> Callable[[str, random.Random], str]:
    """A transformation inserting ``sep`` between every two adjacent Chinese characters."""

    def insert(text: str, rng: random.Random) -> str:
        return _CJK_PAIR.sub(sep, text)

    insert.__doc__ = f"Insert {sep!r} between adjacent Chinese characters."
    return insert


def mixed_separators(text: str, rng: random.Random) -> str:
    """Insert a random symbol from a wider set between about half of the adjacent Chinese characters."""
    return _CJK_PAIR.sub(lambda _m: rng.choice(MIXED_SEPARATORS) if rng.random() < 0.5 else "", text)


def mask_digits(text: str, rng: random.Random) -> str:
    """Replace every digit with ``x`` or ``*`` (one mask character per run of digits)."""
    return _DIGITS.sub(lambda m: rng.choice("x*") * len(m.group(0)), text)


def _read_integer(digits: str) -> str:
    """Chinese reading of a non-negative integer below 10^12 (3016 → 三千零一十六)."""
    value = int(digits)
    if value == 0:
        return "零"

    def below_10000(n: int) -> str:
        out, zero = "", False
        for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d, n = divmod(n, unit_value)
            if d:
                out += ("零" if zero and out else "") + _CN_DIGITS[d] + unit
                zero = False
            else:
                zero = True
        return out

    parts: list[str] = []
    for unit_value, unit in ((10**8, "亿"), (10**4, "万"), (1, "")):
        d, value = divmod(value, unit_value)
        if d:
            parts.append(("零" if parts and d < 1000 else "") + below_10000(d) + unit)
    out = "".join(parts).replace("零零", "零")
    if out.startswith("一十"):
        out = out[1:]
    return "两" + out[1:] if out.startswith(("二千", "二万", "二百", "二亿")) else out


_UNITS = "元块万千百天日号月年时点分秒个次期笔周岁位%小"
_NUMBER_FOR_READING = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def chinese_numerals(text: str, rng: random.Random) -> str:
    """Write numbers in Chinese numerals: amounts and counts read out (2,316.40元 → 两千三百一十六点四〇元),
    other numbers (phones, years, card tails) digit by digit (13812345678 → 一三八一二三四五六七八);
    codes next to Latin letters (M2) and template slots ({0}) stay."""

    def convert(match: re.Match[str]) -> str:
        number = match.group(0).replace(",", "")
        whole, _, fraction = number.partition(".")
        after = text[match.end() : match.end() + 1]
        before = text[match.start() - 1 : match.start()] if match.start() else ""
        if _is_latin(before) or _is_latin(after) or (before == "{" and after == "}"):
            return match.group(0)  # a code (M2, A1234) or a template slot ({0}), not a number
        money = after in ("元", "块", "万") or before in ("¥", "￥")
        # after a mask (尾号**78) the digits are a card tail, read one by one
        quantity = before != "*" and (money or len(whole) <= 2 or (after in _UNITS and len(whole) <= 4 and after != "年"))
        if quantity and len(whole) <= 12 and not (len(whole) > 1 and whole.startswith("0")):
            spoken = _read_integer(whole)
        else:
            spoken = "".join(_CN_DIGITS[int(d)] for d in whole)
        if fraction:
            spoken += "点" + "".join(_CN_DIGITS[int(d)] for d in fraction)
        return spoken

    return _NUMBER_FOR_READING.sub(convert, text)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _substitute(table: dict[str, tuple[str, ...]]) -> Callable[[str, random.Random], str]:
    """A transformation replacing every table word (longest first) with one of its spellings.

    A spelling that starts or ends in pinyin is not used next to a Latin letter (of the text or of
    the spelling before it), where it would merge into a longer word; when none fits, the word stays.
    """
    pattern = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))

    def substitute(text: str, rng: random.Random) -> str:
        pieces: list[str] = []
        last = 0
        for match in pattern.finditer(text):
            pieces.append(text[last : match.start()])
            before = next((p[-1] for p in reversed(pieces) if p), "")  # in the output: perhaps a spelling
            after = text[match.end() : match.end() + 1]
            fits = [s for s in table[match.group(0)]
                    if not (_is_latin(before) and _is_latin(s[0])) and not (_is_latin(after) and _is_latin(s[-1]))]
            pieces.append(rng.choice(fits) if fits else match.group(0))
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)

    return substitute


def insert_emoji(text: str, rng: random.Random) -> str:
    """Insert one emoji per ~15 characters (at least one) at random positions."""
    chars = list(text)
    for _ in range(max(1, len(text) // 15)):
        chars.insert(rng.randint(0, len(chars)), rng.choice(EMOJI))
    return "".join(chars)


def truncate(text: str, rng: random.Random) -> str:
    """Keep the first 70-90 % of the characters (a message cut short)."""
    keep = round(len(text) * rng.uniform(0.7, 0.9))
    return text[: max(1, min(keep, len(text) - 1))] if len(text) > 1 else text


def spaced_out(text: str, rng: random.Random) -> str:
    """Every character, digits and letters included, separated by a space (a carrier-filter trick)."""
    return " ".join(text)


def head_cut(text: str, rng: random.Random) -> str:
    """Drop the first 10-30 % of the characters: a preview or a forwarded fragment that starts mid-message.
    The truncation augmentation only ever cuts the END of a message, so this is a cut it never saw."""
    drop = round(len(text) * rng.uniform(0.1, 0.3))
    return text[max(1, min(drop, len(text) - 1)):] if len(text) > 1 else text


_CLAUSE = re.compile(r"[^，。！？；,.!?;]+[，。！？；,.!?;]*")


def clause_dropped(text: str, rng: random.Random) -> str:
    """Drop one clause (not the only one): a sentence lost in copying or a shorter variant of a template."""
    clauses = _CLAUSE.findall(text)
    if len(clauses) < 2:
        return text
    del clauses[rng.randrange(len(clauses))]
    return "".join(clauses)


_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
_SLOT_STYLES = ("{0}", "%s", "${amount}", "{{value}}", "#num#", "{name}")


def template_slots(text: str, rng: random.Random) -> str:
    """Every number replaced by a template placeholder of one style per message, as a lender's stored template."""
    style = rng.choice(_SLOT_STYLES)
    return _NUMBERS.sub(style, text)


#: Every transformation, by variant name (the order of the report).
TRANSFORMS: dict[str, Callable[[str, random.Random], str]] = {
    "traditional_s2t": traditional_s2t,
    "traditional_hk": traditional_hk,
    "fullwidth": fullwidth,
    "sep_space": separators(" "),
    "sep_star": separators("★"),
    "sep_dot": separators("·"),
    "sep_zero_width": separators("\u200b"),
    "sep_mixed": mixed_separators,
    "digits_masked": mask_digits,
    "chinese_numerals": chinese_numerals,
    "pinyin": _substitute(PINYIN),
    "homophones": _substitute(HOMOPHONES),
    "emoji": insert_emoji,
    "truncated": truncate,
    # never seen by the training-time augmentation (which crops the end of a message only)
    "spaced_out": spaced_out,
    "head_cut": head_cut,
    "clause_dropped": clause_dropped,
    "template_slots": template_slots,
}
#: Variants the 3-point bound is about (spelling must not change the label); the cuts lose information
#: and are reported, not bounded.
BOUNDED = ("traditional_s2t", "traditional_hk", "fullwidth", "sep_space", "sep_star", "sep_dot", "sep_zero_width", "sep_mixed",
           "digits_masked", "chinese_numerals", "pinyin", "homophones", "emoji", "spaced_out", "template_slots")


def make_variant(name: str, text: str, seed: int = 0, index: int = 0) -> str:
    """The variant ``name`` of ``text``; the same (name, text, seed, index) always gives the same output."""
    rng = random.Random(f"{seed}:{name}:{index}:{text}")
    return TRANSFORMS[name](text, rng)


# --------------------------------------------------------------------------- benchmark
def load_heldout(path: Path = HELDOUT) -> tuple[list[str], list[str]]:
    """Texts and labels of the held-out set."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


def macro_f1(y_true: list[str], y_pred: list[str]) -> float:
    """Macro-averaged F1 over the labels present in ``y_true``."""
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0))


def normalize_speed(texts: list[str], rounds: int = 5) -> float:
    """Best-of-``rounds`` time of :func:`collectclf.text.normalize` in µs per message."""
    from collectclf.text import normalize

    for text in texts:
        normalize(text)  # fill the per-character cache first
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            normalize(text)
        best = min(best, time.perf_counter() - start)
    return best / max(1, len(texts)) * 1e6


def run(model_path: str | None, seed: int, path: Path = HELDOUT) -> dict:
    """Score the clean held-out set and every variant; returns the report (without the command)."""
    import collectclf
    from collectclf._loading import default_model_dir
    from collectclf._persist import read_config

    model = collectclf.load(model_path)
    weights_sha256 = read_config(model_path or default_model_dir())["files"]["weights.npz"]
    texts, labels = load_heldout(path)
    clean_pred = [str(p) for p in model.predict(texts)]
    clean = macro_f1(labels, clean_pred)
    report: dict = {
        "model": model_path or "shipped (models/default)",
        "model_weights_sha256": weights_sha256,  # the model card shows these figures only for this model
        "heldout": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "n_messages": len(texts),
        "seed": seed,
        "normalize_us_per_message": round(normalize_speed(texts), 1),
        "clean": {"macro_f1": round(clean, 4)},
        "variants": {},
    }
    for name in TRANSFORMS:
        variants = [make_variant(name, text, seed, i) for i, text in enumerate(texts)]
        predicted = [str(p) for p in model.predict(variants)]
        score = macro_f1(labels, predicted)
        report["variants"][name] = {
            "macro_f1": round(score, 4),
            "drop_points": round((clean - score) * 100, 2),
            "changed_messages": sum(v != t for v, t in zip(variants, texts)),
            "label_flips": sum(p != c for p, c in zip(predicted, clean_pred)),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout", default=str(HELDOUT))
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON report path ('-' for none)")
    parser.add_argument("--max-drop", type=float, default=3.0, help="fail when a drop exceeds this many points")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    report = run(args.model, args.seed, Path(args.heldout))
    command = "python benchmarks/robustness.py" + ("".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])))
    report = {"command": command, **report, "max_drop_points": args.max_drop}
    clean = report["clean"]["macro_f1"]
    print(f"model: {report['model']}; {report['n_messages']} held-out messages; seed {args.seed}; "
          f"normalize: {report['normalize_us_per_message']} µs/message")
    print(f"{'variant':<18} {'macro-F1':>8} {'drop (pts)':>10} {'changed':>8} {'flips':>6}")
    print(f"{'clean':<18} {clean:>8.4f} {'':>10} {'':>8} {'':>6}")
    failed = []
    for name, row in report["variants"].items():
        bounded = name in BOUNDED
        mark = "  FAIL" if bounded and row["drop_points"] > args.max_drop else "" if bounded else "  (reported, not bounded)"
        print(f"{name:<18} {row['macro_f1']:>8.4f} {row['drop_points']:>+10.2f} {row['changed_messages']:>8} "
              f"{row['label_flips']:>6}{mark}")
        if bounded and row["drop_points"] > args.max_drop:
            failed.append(name)
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.out != "-":
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    if failed:
        print(f"drop above {args.max_drop} points: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
