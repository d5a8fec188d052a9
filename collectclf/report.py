"""The per-sender screening report of an SMS export: one self-contained HTML page, or JSON.

:func:`build_report` reads an export (:func:`collectclf.exports.read_messages`), scores it
(:func:`collectclf.batch.score_messages`, one process) and writes:

- totals per label and per sender, senders ranked by severity (:data:`collectclf.labels.SEVERITY`);
- for the most serious senders, a timeline of their messages coloured by label (escalation);
- contact-rule checks computed from timestamps and senders, each citing its source: collection
  messages at night, more than ``max_per_day`` collection messages from one sender in one local
  day, and messages that show they are addressed to a third party;
- the most serious messages with their evidence highlighted;
- a note (中文 and English) that this is an automated screening, not legal advice.

Every threshold and citation lives in :class:`ReportConfig`. Rows are streamed: the report keeps
per-sender counters, a compact (time, label) array per sender and a bounded list of the most
serious messages, never the whole export. The HTML loads nothing from the network (a
Content-Security-Policy forbids it); plots are matplotlib PNGs (Agg) embedded as ``data:`` URIs.

>>> config = ReportConfig(max_per_day=5)
>>> config.is_night(datetime(2026, 3, 12, 23, 40).time()), config.is_night(datetime(2026, 3, 13, 8, 0).time())
(True, False)
"""

from __future__ import annotations

import base64
import functools
import heapq
import html
import io
import json
import logging
import os
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from .labels import SEVERITY

__all__ = ["ReportConfig", "build_report", "render_html", "summarise_rows", "third_party_hits"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- sources cited
_SOURCES_ZH = ("中国互联网金融协会 2024 年互联网金融贷后催收指引；GB/T 45251-2025《互联网金融 个人网络消费信贷 贷后催收风控指引》；"
               "中国银行业协会 2026 年催收工作指引")
_SOURCES_EN = ("the 2024 internet-finance collection guideline of the National Internet Finance Association of China, "
               "GB/T 45251-2025, and the 2026 collection guideline of the China Banking Association")

NIGHT_CITATION = (f"催收联系时段为 8:00–22:00（{_SOURCES_ZH}）。 / Collection contact is limited to 08:00–22:00 local time "
                  f"({_SOURCES_EN}).")
PER_DAY_CITATION = (f"参照上述文件中每日联系债务人不超过 3 次的限制（{_SOURCES_ZH}）；短信条数以此类推，仅作提示。 / By analogy with "
                    f"the limit of 3 contacts a day with a debtor in the same texts ({_SOURCES_EN}); applied to messages as an "
                    "indication only.")
THIRD_PARTY_CITATION = (f"不得向债务人以外的第三人催收或披露债务信息（{_SOURCES_ZH}；中国互联网金融协会催收自律公约）。 / Collectors must "
                        f"not collect from, or disclose the debt to, people other than the debtor ({_SOURCES_EN}; NIFA "
                        "self-discipline convention). Labeling guide: Boundaries.")

#: Phrases that show a message is addressed to someone other than the debtor, run on
#: :func:`collectclf.text.normalize` output (simplified, lower case, digits masked).
THIRD_PARTY_PATTERNS: tuple[str, ...] = (
    r"作为.{0,10}(紧急联系人|联系人|担保人)",  # 您作为张三的紧急联系人 (you, as X's emergency contact)
    r"(请|麻烦)(您|你)?(转告|转达|告知|通知|提醒|督促|劝)(他|她|其|本人|对方)",  # please tell him / her
    r"(他|她)(在|于)(我司|我方|我行|本平台|我们平台|我们公司|我公司)",  # the debtor in the third person
    r"联系不上(他|她)|(他|她)(的)?(电话|手机)(打不通|关机|不接|无人接听)",  # "we cannot reach him"
)

#: collectclf.rules rules reused for the third-party check: (rule id, regular expression the matched
#: span must contain, "" for any). ``third_party_contact`` also fires on messages TO the debtor that
#: announce contacting others (将联系你的紧急联系人), so only its 请转告 / 转告他 matches count.
THIRD_PARTY_RULES: tuple[tuple[str, str], ...] = (("third_party_disclosure", ""), ("third_party_contact", r"请转告|转告(他|她)"))

DISCLAIMER_ZH = ("本报告由软件自动筛查生成，不构成法律意见。分类和规则检查可能有误，请逐条核对原始短信；时间检查依赖手机记录的时间和所设时区。"
                 "如需投诉或维权，请咨询律师，或向相关监管部门、行业协会反映。")
DISCLAIMER_EN = ("This report is an automated screening produced by software; it is not legal advice. Labels and rule checks can "
                 "be wrong: check every message against the original. Time checks rely on the phone's timestamps and the "
                 "configured time zone. For a complaint, consult a lawyer or contact the relevant regulator or industry association.")

LABEL_NAMES_ZH: dict[str, str] = {"fraudulent": "诈骗", "threatening": "威胁", "pressuring": "施压", "compliant": "合规",
                                  "unrelated": "非催收"}
LABEL_COLOURS: dict[str, str] = {"fraudulent": "#8e24aa", "threatening": "#d32f2f", "pressuring": "#f57c00",
                                 "compliant": "#388e3c", "unrelated": "#90a4ae"}
_OTHER_COLOUR = "#3f51b5"


# --------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class ReportConfig:
    """Every threshold and citation the report uses, in one place.

    ``night_start``/``night_end``: local times bounding the night window, start included, end
    excluded (22:00 ≤ t or t < 08:00 by default; equal values disable the check).
    ``utc_offset_hours``: the local time zone of the contact rules (UTC+8, China).
    ``max_per_day``: collection messages one sender may send in one local calendar day before the
    day is flagged. ``top_senders``: senders that get a timeline. ``top_messages``: most serious
    messages shown. ``list_limit``: messages listed per rule (all are counted).
    ``non_collection_labels``: labels that are not collection (skipped by the contact rules).
    ``unknown_direction_incoming``: count messages whose direction the export does not give
    (``other``) as incoming; sent messages and drafts never count.
    """

    night_start: time = time(22, 0)
    night_end: time = time(8, 0)
    utc_offset_hours: float = 8.0
    max_per_day: int = 3
    top_senders: int = 5
    top_messages: int = 15
    list_limit: int = 100
    non_collection_labels: tuple[str, ...] = ("unrelated",)
    unknown_direction_incoming: bool = True
    third_party_rules: tuple[tuple[str, str], ...] = THIRD_PARTY_RULES
    third_party_patterns: tuple[str, ...] = THIRD_PARTY_PATTERNS
    night_citation: str = NIGHT_CITATION
    per_day_citation: str = PER_DAY_CITATION
    third_party_citation: str = THIRD_PARTY_CITATION

    def __post_init__(self) -> None:
        if not -14 <= self.utc_offset_hours <= 14:
            raise ValueError(f"utc_offset_hours must be within ±14, not {self.utc_offset_hours}")
        if self.max_per_day < 1:
            raise ValueError("max_per_day must be at least 1")
        if min(self.top_senders, self.top_messages, self.list_limit) < 0:
            raise ValueError("top_senders, top_messages and list_limit must not be negative")
        for pattern in self.third_party_patterns + tuple(p for _, p in self.third_party_rules if p):
            re.compile(pattern)

    @property
    def zone(self) -> timezone:
        """The local time zone of the contact rules."""
        return timezone(timedelta(hours=self.utc_offset_hours))

    @property
    def zone_name(self) -> str:
        """``UTC+8`` style name of :attr:`zone`."""
        return f"UTC{self.utc_offset_hours:+g}"

    def is_night(self, moment: time) -> bool:
        """Whether a local time of day falls in the night window (start included, end excluded)."""
        start, end = self.night_start, self.night_end
        if start == end:
            return False
        return start <= moment < end if start < end else moment >= start or moment < end

    def is_collection(self, label: str) -> bool:
        """Whether a label is a collection message (anything scored except the non-collection labels)."""
        return bool(label) and label not in self.non_collection_labels

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (times as ``HH:MM``)."""
        out = asdict(self)
        out["night_start"], out["night_end"] = self.night_start.strftime("%H:%M"), self.night_end.strftime("%H:%M")
        out["third_party_rules"] = [list(pair) for pair in self.third_party_rules]
        out["zone"] = self.zone_name
        return out


# --------------------------------------------------------------------------- small helpers
def severity(label: str) -> int:
    """Severity rank of a label, lower is more serious; labels of other models rank last."""
    return SEVERITY.get(label, len(SEVERITY))


_SEPARATORS = re.compile(r"[\s\-()（）]")
_CN_MOBILE = re.compile(r"^(?:\+?86|0086)(1\d{10})$")


def sender_key(sender: str) -> str:
    """One spelling per sender: separators dropped, +86/0086 removed before a mainland mobile number,
    so ``+86 171-0000-0000`` and ``17100000000`` count as one sender for the per-day rule."""
    compact = _SEPARATORS.sub("", sender or "")
    match = _CN_MOBILE.match(compact)
    return match.group(1) if match else compact


def _local(timestamp: str | None, zone: timezone) -> datetime | None:
    """Local, naive datetime of an ISO timestamp; None when missing or unreadable."""
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).replace(tzinfo=None)


def _fmt(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@functools.lru_cache(maxsize=8)
def _third_party_matchers(rules: tuple[tuple[str, str], ...], patterns: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, required sub-pattern) pairs: the named collectclf.rules patterns, then the phrases."""
    from .rules import RULES

    by_id = {rule.id: rule for rule in RULES}
    missing = [rule_id for rule_id, _ in rules if rule_id not in by_id]
    if missing:
        raise ValueError(f"unknown rule id(s) in third_party_rules: {', '.join(missing)}")
    return [(by_id[rule_id].pattern, required) for rule_id, required in rules] + [(re.compile(p), "") for p in patterns]


def third_party_hits(text: str, config: ReportConfig | None = None) -> list[str]:
    """The matched phrases (normalised) that show ``text`` is addressed to a third party.

    Runs the :mod:`collectclf.rules` rules named in ``config.third_party_rules`` (the same
    patterns :func:`collectclf.rules.find_rule_hits` runs, only those) and
    ``config.third_party_patterns``, all on :func:`collectclf.text.normalize` output.

    >>> "作为张三的紧急联系人" in third_party_hits("您作为张三的紧急联系人，请转告他尽快还款")
    True
    >>> third_party_hits("您的借款已逾期，请尽快还款")
    []
    """
    from .text import normalize

    config = config or ReportConfig()
    normalized = normalize(text)
    found: list[str] = []
    for pattern, required in _third_party_matchers(config.third_party_rules, config.third_party_patterns):
        for match in pattern.finditer(normalized):
            piece = match.group(0)
            if piece and (not required or re.search(required, piece)):
                found.append(piece)
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- accumulating rows
@dataclass
class _Sender:
    """Running counts for one sender (incoming messages only)."""

    display: str
    messages: int = 0
    labels: Counter = field(default_factory=Counter)
    collection: int = 0
    night: int = 0
    third_party: int = 0
    time_unknown: int = 0
    days: Counter = field(default_factory=Counter)  # local date → collection messages with a time
    first: datetime | None = None
    last: datetime | None = None
    worst_first: dict[str, datetime] = field(default_factory=dict)  # label → first time seen
    seconds: array = field(default_factory=lambda: array("d"))  # timeline: local epoch seconds …
    codes: array = field(default_factory=lambda: array("H"))  # … and label codes, compactly
    untimed_labels: Counter = field(default_factory=Counter)

    def worst(self) -> str:
        return min(self.labels, key=lambda label: (severity(label), label)) if self.labels else ""


def _evidence(row: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """The row's evidence items whose span really is in ``text``."""
    try:
        items = json.loads(row.get("evidence") or "[]")
    except ValueError:
        return []
    valid = []
    for item in items if isinstance(items, list) else []:
        span = item.get("span") if isinstance(item, dict) else None
        if isinstance(span, list) and len(span) == 2 and 0 <= span[0] < span[1] <= len(text) \
                and text[span[0]:span[1]] == item.get("text"):
            valid.append(item)
    return valid


def summarise_rows(rows: Iterable[dict[str, Any]], config: ReportConfig | None = None, *,
                   timelines: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's numbers from scored rows (:func:`collectclf.batch.score_messages` output).

    Returns a JSON-ready dict: ``totals``, ``senders`` (ranked by severity), ``rules`` (night,
    per_day, third_party, each with its citation) and ``serious`` (most serious messages with
    evidence). Only incoming rows (and, when configured, rows of unknown direction) count.
    ``timelines``, when given, is filled with ``sender → {"points": [(local time, label)…],
    "untimed": {label: n}}`` for the ``top_senders`` most serious senders with collection messages.
    """
    config = config or ReportConfig()
    zone = config.zone
    senders: dict[str, _Sender] = {}
    codes: dict[str, int] = {}
    totals: Counter = Counter()
    labels: Counter = Counter()
    night_list: list[dict[str, Any]] = []
    third_list: list[dict[str, Any]] = []
    serious: list[tuple[Any, ...]] = []  # each identical text once, its most serious copy
    serious_keys: dict[str, tuple[int, float, int]] = {}
    third_cache: dict[str, list[str]] = {}  # collection messages repeat templates: check each text once
    for row in rows:
        totals["messages"] += 1
        direction = row.get("direction") or "other"
        if direction != "in" and not (direction == "other" and config.unknown_direction_incoming):
            totals["not_incoming"] += 1
            continue
        totals["incoming"] += 1
        if direction == "other":
            totals["direction_unknown"] += 1
        raw_sender = str(row.get("sender") or "")
        key = sender_key(raw_sender)
        stats = senders.get(key)
        if stats is None:
            stats = senders[key] = _Sender(display=raw_sender or "(unknown sender / 未知发送方)")
        stats.messages += 1
        moment = _local(row.get("timestamp"), zone)
        if moment is None:
            totals["time_unknown"] += 1
            stats.time_unknown += 1
        else:
            stats.first = moment if stats.first is None or moment < stats.first else stats.first
            stats.last = moment if stats.last is None or moment > stats.last else stats.last
        label = str(row.get("label") or "")
        if not label:
            totals["not_scored"] += 1
            continue
        totals["scored"] += 1
        labels[label] += 1
        stats.labels[label] += 1
        code = codes.setdefault(label, len(codes))
        if moment is not None:
            stats.seconds.append(moment.replace(tzinfo=timezone.utc).timestamp())
            stats.codes.append(code)
            if label not in stats.worst_first or moment < stats.worst_first[label]:
                stats.worst_first[label] = moment
        else:
            stats.untimed_labels[label] += 1
        if not config.is_collection(label):
            continue
        totals["collection"] += 1
        stats.collection += 1
        text = str(row.get("text") or "")
        ref = {"id": str(row.get("id", "")), "sender": stats.display, "local_time": _fmt(moment), "label": label}
        if moment is None:
            totals["collection_time_unknown"] += 1
        else:
            stats.days[moment.date()] += 1
            if config.is_night(moment.time()):
                totals["night"] += 1
                stats.night += 1
                if len(night_list) < config.list_limit:
                    night_list.append(ref)
        if text not in third_cache:
            if len(third_cache) >= 50_000:
                third_cache.clear()
            third_cache[text] = third_party_hits(text, config) if text else []
        phrases = third_cache[text]
        if phrases:
            totals["third_party"] += 1
            stats.third_party += 1
            if len(third_list) < config.list_limit:
                third_list.append({**ref, "matched": phrases})
        if config.top_messages:
            # min-heap whose root is the least serious kept message: (-severity, confidence, -position)
            confidence = float(row.get(f"p_{label}") or 0.0)
            key = (-severity(label), confidence, -totals["messages"])
            kept = serious_keys.get(text)
            if kept is not None and key > kept:  # a more serious copy of a kept text replaces it
                serious[:] = [item for item in serious if item[3]["text"] != text]
                heapq.heapify(serious)
                del serious_keys[text]
            if text not in serious_keys and (len(serious) < config.top_messages or key > serious[0][:3]):
                entry = (*key, {**ref, "confidence": round(confidence, 4), "text": text, "evidence": _evidence(row, text)})
                if len(serious) < config.top_messages:
                    heapq.heappush(serious, entry)
                else:
                    del serious_keys[heapq.heapreplace(serious, entry)[3]["text"]]
                serious_keys[text] = key
    serious.sort(key=lambda item: item[:3], reverse=True)

    ranked = sorted(senders.values(), key=lambda s: (severity(s.worst()), -s.labels[s.worst()] if s.labels else 0,
                                                     -s.collection, -s.messages, s.display))
    sender_rows = []
    over_limit: list[dict[str, Any]] = []
    for stats in ranked:
        worst = stats.worst() if stats.labels else ""
        days_over = sorted((day, n) for day, n in stats.days.items() if n > config.max_per_day)
        over_limit.extend({"sender": stats.display, "date": day.isoformat(), "count": n} for day, n in days_over)
        sender_rows.append({
            "sender": stats.display, "messages": stats.messages, "labels": {k: v for k, v in stats.labels.items() if v},
            "worst": worst, "worst_first_seen": _fmt(stats.worst_first.get(worst)),
            "collection": stats.collection, "night": stats.night, "max_per_day": max(stats.days.values(), default=0),
            "days_over_limit": len(days_over), "third_party": stats.third_party, "time_unknown": stats.time_unknown,
            "first": _fmt(stats.first), "last": _fmt(stats.last),
        })
        if timelines is not None and stats.collection and len(timelines) < config.top_senders:
            names = {code: label for label, code in codes.items()}
            timelines[stats.display] = {
                "points": [(datetime.fromtimestamp(s, tz=timezone.utc).replace(tzinfo=None), names[c])
                           for s, c in sorted(zip(stats.seconds, stats.codes))],
                "untimed": dict(stats.untimed_labels),
            }
    over_limit.sort(key=lambda item: (-item["count"], item["date"], item["sender"]))
    max_row = max(sender_rows, key=lambda r: r["max_per_day"], default=None)
    zero_keys = ("messages", "incoming", "not_incoming", "direction_unknown", "scored", "not_scored", "time_unknown", "collection",
                 "collection_time_unknown", "night", "third_party")
    return {
        "totals": {**{k: totals[k] for k in zero_keys}, "senders": len(senders),
                   "labels": dict(sorted(labels.items(), key=lambda kv: (severity(kv[0]), kv[0])))},
        "senders": sender_rows,
        "rules": {
            "night": {"window": f"{config.night_start:%H:%M}–{config.night_end:%H:%M} {config.zone_name}",
                      "count": totals["night"], "time_unknown": totals["collection_time_unknown"],
                      "citation": config.night_citation, "messages": night_list},
            "per_day": {"limit": config.max_per_day, "zone": config.zone_name,
                        "max_per_day": max_row["max_per_day"] if max_row else 0,
                        "max_sender": max_row["sender"] if max_row and max_row["max_per_day"] else "",
                        "days_over_limit": len(over_limit),
                        "messages_over_limit": sum(item["count"] - config.max_per_day for item in over_limit),
                        "time_unknown": totals["collection_time_unknown"],
                        "citation": config.per_day_citation, "days": over_limit[:config.list_limit]},
            "third_party": {"count": totals["third_party"], "citation": config.third_party_citation,
                            "rules": [rule for rule, _ in config.third_party_rules],
                            "patterns": list(config.third_party_patterns), "messages": third_list},
        },
        "serious": [item[3] for item in serious],
    }


# --------------------------------------------------------------------------- plots
def _plot_font() -> str | None:
    """A CJK-capable font family if one is installed (for non-ASCII sender labels), else None."""
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if any(word in entry.name for word in ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei",
                                               "Microsoft YaHei", "PingFang")):
            return entry.name
    return None


def _safe(text: str, font: str | None) -> str:
    """Text a plot can draw without missing glyphs (non-ASCII is escaped when no CJK font exists)."""
    return text if font or text.isascii() else text.encode("ascii", "backslashreplace").decode("ascii")


def _png(figure: Any) -> str:
    """A matplotlib Figure as a base64 PNG ``data:`` URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _label_order(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels), key=lambda label: (severity(label), label))


def totals_plot(labels: dict[str, int]) -> str:
    """Horizontal bars of messages per label (most serious on top), as a data URI."""
    from matplotlib.figure import Figure

    font = _plot_font()
    order = _label_order(labels)
    figure = Figure(figsize=(7, 0.45 * max(len(order), 1) + 0.9), layout="constrained")
    axes = figure.add_subplot()
    names = [_safe(label, font) for label in order][::-1]
    values = [labels[label] for label in order][::-1]
    axes.barh(names, values, color=[LABEL_COLOURS.get(label, _OTHER_COLOUR) for label in order][::-1])
    for y, value in enumerate(values):
        axes.annotate(str(value), (value, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=9)
    axes.set_xlabel("incoming messages")
    axes.set_xlim(0, max(values, default=0) * 1.15 + 1)
    axes.spines[["top", "right"]].set_visible(False)
    if font:
        for text in axes.get_yticklabels():
            text.set_fontfamily(font)
    return _png(figure)


def timeline_plot(points: list[tuple[datetime, str]], config: ReportConfig, labels: Iterable[str]) -> str:
    """Messages of one sender over local time, one row per label (most serious on top), night shaded."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    font = _plot_font()
    order = _label_order(list(labels) + [label for _, label in points])
    row = {label: len(order) - 1 - i for i, label in enumerate(order)}
    figure = Figure(figsize=(9, 0.3 * len(order) + 1.1), layout="constrained")
    axes = figure.add_subplot()
    if points:
        start, end = points[0][0], points[-1][0]
        pad = max((end - start) * 0.04, timedelta(hours=2))
        low, high = start - pad, end + pad
        axes.set_xlim(low, high)
        if config.night_start != config.night_end and (high - low) <= timedelta(days=62):
            day = low.date() - timedelta(days=1)
            while day <= high.date():
                night_from = datetime.combine(day, config.night_start)
                night_to = datetime.combine(day + timedelta(days=1) if config.night_start > config.night_end else day,
                                            config.night_end)
                axes.axvspan(night_from, night_to, color="#263238", alpha=0.08, linewidth=0)
                day += timedelta(days=1)
        xs = [moment for moment, _ in points]
        axes.plot(xs, [row[label] for _, label in points], color="#b0bec5", linewidth=0.8, zorder=1)
        for label in order:
            mine = [moment for moment, other in points if other == label]
            if mine:
                axes.scatter(mine, [row[label]] * len(mine), s=56, color=LABEL_COLOURS.get(label, _OTHER_COLOUR),
                             edgecolor="white", linewidth=0.6, zorder=2, label=_safe(label, font))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        axes.set_xticks([])
        axes.text(0.5, 0.5, "no timed messages", transform=axes.transAxes, ha="center", va="center", color="#607d8b")
    axes.set_yticks(range(len(order)), [_safe(label, font) for label in reversed(order)])
    if font:
        for text in axes.get_yticklabels():
            text.set_fontfamily(font)
    axes.set_ylim(-0.6, len(order) - 0.4)
    axes.set_xlabel(f"local time ({config.zone_name}); shaded: {config.night_start:%H:%M}-{config.night_end:%H:%M}")
    axes.grid(axis="y", color="#eceff1")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


# --------------------------------------------------------------------------- HTML
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _label_badge(label: str) -> str:
    if not label:
        return ""
    colour = LABEL_COLOURS.get(label, _OTHER_COLOUR)
    zh = LABEL_NAMES_ZH.get(label, "")
    return f'<span class="badge" style="background:{colour}">{_e(zh + " " if zh else "")}{_e(label)}</span>'


def highlight_html(text: str, evidence: list[dict[str, Any]]) -> str:
    """``text`` escaped for HTML, with evidence spans wrapped in ``<mark>`` (overlaps: first wins).

    >>> highlight_html("a<b>后果自负", [{"rule": "veiled_menace", "label": "threatening", "text": "后果自负", "span": [4, 8]}])
    'a&lt;b&gt;<mark class="ev" style="border-color:#d32f2f" title="rule veiled_menace → threatening: veiled menace (&#x27;后果自负&#x27;, &#x27;watch your back&#x27;) (GUIDE Boundaries; SOFT)">后果自负</mark>'
    """
    from .rules import RULES

    described = {rule.id: rule for rule in RULES}
    out, position = [], 0
    for item in sorted(evidence, key=lambda e: (e["span"][0], -e["span"][1])):
        start, end = item["span"]
        if start < position:
            continue
        rule = described.get(item.get("rule") or "")
        what = f"rule {item['rule']}" if item.get("rule") else f"n-gram {item.get('ngram', item.get('text'))}"
        title = f"{what} → {item.get('label', '')}" + (f": {rule.description} ({rule.cites})" if rule else "")
        colour = LABEL_COLOURS.get(str(item.get("label")), _OTHER_COLOUR)
        out.append(_e(text[position:start]))
        kind = "ev" if item.get("rule") else "ev ng"
        out.append(f'<mark class="{kind}" style="border-color:{colour}" title="{_e(title)}">{_e(text[start:end])}</mark>')
        position = end
    out.append(_e(text[position:]))
    return "".join(out)


_CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei","Source Han Sans SC",system-ui,sans-serif;margin:0;
color:#212121;background:#fafafa;line-height:1.5}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin-top:1.8em;border-bottom:2px solid #eceff1;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}.en{color:#546e7a;font-weight:normal}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}th,td{border-bottom:1px solid #eceff1;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f5f7f8}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{color:#fff;border-radius:3px;padding:0 5px;font-size:.85em;white-space:nowrap}
.note{background:#fff8e1;border-left:4px solid #ffb300;padding:8px 12px;margin:12px 0}
.cite{color:#455a64;font-size:.85em}.flag{color:#c62828;font-weight:bold}.ok{color:#2e7d32}
.msg{border:1px solid #eceff1;border-radius:4px;padding:8px 12px;margin:10px 0}.meta{color:#607d8b;font-size:.85em}
.text{white-space:pre-wrap;margin:.3em 0}mark.ev{background:#fff3cd;border-bottom:2px solid;padding:0 1px}mark.ng{background:none;border-bottom:2px dotted}
ul.ev{margin:.2em 0;font-size:.85em;color:#455a64}img{max-width:100%;height:auto}.t{white-space:nowrap}code{font-size:.9em}
"""

# Marks each image with its decoded size, and the page with how many images decoded, how many
# loads the Content-Security-Policy blocked, how many script or resource errors occurred and its
# height: lets a headless browser check the page offline (tests, screenshots).
_SCRIPT = """
var cspViolations=0,loadErrors=0;document.addEventListener("securitypolicyviolation",function(){cspViolations++;});
window.addEventListener("error",function(){loadErrors++;},true);
window.addEventListener("load",function(){var imgs=document.images,ok=0;for(var i=0;i<imgs.length;i++){var im=imgs[i];
im.setAttribute("data-natural",im.naturalWidth+"x"+im.naturalHeight);if(im.complete&&im.naturalWidth>0){ok++;}}
var b=document.body;b.setAttribute("data-images-decoded",ok+"/"+imgs.length);b.setAttribute("data-csp-violations",String(cspViolations));
b.setAttribute("data-errors",String(loadErrors));
b.setAttribute("data-height",String(document.documentElement.scrollHeight));});
"""


def _table(header: list[tuple[str, bool]], rows: list[list[str]], *, numeric: list[bool] | None = None) -> str:
    """An HTML table; cells must already be escaped. ``header``: (title, numeric) pairs, or [] for none."""
    numeric = numeric or [n for _, n in header]
    head = "".join(f'<th class="n">{h}</th>' if n else f"<th>{h}</th>" for h, n in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{cell}</td>' if n else f"<td>{cell}</td>" for cell, n in zip(row, numeric))
                   + "</tr>" for row in rows)
    return (f"<table><thead><tr>{head}</tr></thead>" if header else "<table>") + f"<tbody>{body}</tbody></table>"


def _refs_table(items: list[dict[str, Any]], *, matched: bool = False) -> str:
    header = [("时间 / time", False), ("发送方 / sender", False), ("类别 / label", False), ("编号 / id", False)]
    if matched:
        header.append(("匹配 / matched", False))
    rows = [[_e(i["local_time"] or "—"), _e(i["sender"]), _label_badge(i["label"]), _e(i["id"])]
            + ([_e("、".join(i.get("matched", [])))] if matched else []) for i in items]
    return _table(header, rows) if rows else ""


def _count(n: int, limit: int | None = None) -> str:
    flagged = n > 0 if limit is None else n > limit
    return f'<span class="{"flag" if flagged else "ok"}">{n}</span>'


def render_html(data: dict[str, Any], config: ReportConfig, timelines: dict[str, Any] | None = None) -> str:
    """The self-contained report page for the numbers of :func:`summarise_rows` (plus timelines)."""
    totals, rules = data["totals"], data["rules"]
    timelines = timelines or {}
    parts: list[str] = []
    add = parts.append
    add('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">')
    add('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>催收短信筛查报告 / Collection message screening report — {_e(data['input'])}</title>")
    add(f"<style>{_CSS}</style><script>{_SCRIPT}</script></head><body><main>")
    add('<h1>催收短信筛查报告 <span class="en">/ Collection message screening report</span></h1>')
    add(f'<p class="meta">文件 / file: <code>{_e(data["input"])}</code> · 模型 / model: {_e(data["model"])} · '
        f'collectclf {_e(data["version"])} · 生成时间 / generated: {_e(data["generated"])} · 时区 / time zone: {config.zone_name}</p>')
    add(f'<div class="note"><b>自动筛查，非法律意见。</b>{_e(DISCLAIMER_ZH)}<br><b>Automated screening, not legal advice.</b> '
        f'{_e(DISCLAIMER_EN)}</div>')

    # ---- summary
    add('<h2>概要 <span class="en">/ Summary</span></h2>')
    summary = [
        ("短信总数 / messages in the export", totals["messages"]),
        ("收到的短信 / incoming messages", totals["incoming"]),
        ("发出或草稿（不计入）/ sent or drafts (not counted)", totals["not_incoming"]),
        ("方向未知、按收到计 / direction unknown, counted as incoming", totals["direction_unknown"]),
        ("无法评分（空白或损坏）/ not scored (empty or unreadable)", totals["not_scored"]),
        ("催收短信（非“非催收”）/ collection messages (not unrelated)", totals["collection"]),
        ("时间未知 / time unknown", totals["time_unknown"]),
        ("发送方 / senders", totals["senders"]),
    ]
    add(_table([], [[_e(k), str(v)] for k, v in summary], numeric=[False, True]))
    add('<h3>各类别合计 <span class="en">/ Totals per label</span></h3>')
    add(_table([("类别 / label", False), ("条数 / messages", True)],
               [[_label_badge(label), str(n)] for label, n in totals["labels"].items()]))
    if totals["labels"]:
        add(f'<img class="totals" alt="messages per label" src="{totals_plot(totals["labels"])}">')

    # ---- contact rules
    add('<h2>联系规则检查 <span class="en">/ Contact-rule checks</span></h2>')
    add(f'<p class="meta">仅统计收到的催收短信；本地时间 {config.zone_name}。 / Incoming collection messages only; local time '
        f'{config.zone_name}. 时间未知的催收短信 / collection messages with unknown time: {rules["night"]["time_unknown"]} '
        f'(不计入夜间与每日检查 / not in the night and per-day checks).</p>')
    night = rules["night"]
    add(f'<h3>1. 夜间催收 <span class="en">/ Collection at night</span> ({_e(night["window"])}): {_count(night["count"])}</h3>')
    add(f'<p class="cite">{_e(night["citation"])}</p>')
    add(_refs_table(night["messages"]))
    if night["count"] > len(night["messages"]):
        add(f'<p class="meta">另有 {night["count"] - len(night["messages"])} 条未列出 / {night["count"] - len(night["messages"])} more '
            "not listed (see the JSON report)</p>")
    per_day = rules["per_day"]
    add(f'<h3>2. 单日条数 <span class="en">/ Messages per sender per day</span> (&gt; {per_day["limit"]}): '
        f'{_count(per_day["days_over_limit"])} 天 / days</h3>')
    add(f'<p class="cite">{_e(per_day["citation"])}</p>')
    add(f'<p>单个发送方单日最多 / most from one sender in one day: {_count(per_day["max_per_day"], per_day["limit"])}'
        f'{" (" + _e(per_day["max_sender"]) + ")" if per_day["max_sender"] else ""}; 超出限制的短信 / messages over the limit: '
        f'{per_day["messages_over_limit"]}</p>')
    if per_day["days"]:
        add(_table([("日期 / date", False), ("发送方 / sender", False), ("条数 / messages", True)],
                   [[_e(d["date"]), _e(d["sender"]), str(d["count"])] for d in per_day["days"]]))
    third = rules["third_party"]
    add(f'<h3>3. 发给第三人 <span class="en">/ Addressed to a third party</span>: {_count(third["count"])}</h3>')
    add(f'<p class="cite">{_e(third["citation"])}</p>')
    add('<details class="meta"><summary>判断依据 / how it is detected</summary>规则 / rules '
        + ", ".join(f"<code>{_e(r)}</code>" for r in third["rules"]) + "; 短语（正则表达式，作用于规范化文本）/ phrases (regular "
        "expressions on normalised text): " + " ".join(f"<code>{_e(p)}</code>" for p in third["patterns"]) + "</details>")
    add(_refs_table(third["messages"], matched=True))

    # ---- senders
    add('<h2>发送方（按严重程度排序）<span class="en">/ Senders ranked by severity</span></h2>')
    header = [("发送方 / sender", False), ("最严重 / worst", False), ("首次出现 / worst first seen", False), ("收到 / in", True),
              ("催收 / collection", True), ("夜间 / night", True), ("单日最多 / max a day", True), ("第三人 / third party", True),
              ("时间未知 / time unknown", True), ("各类别 / per label", False), ("首条—末条 / first — last", False)]
    rows = []
    for s in data["senders"]:
        per_label = " ".join(f"{_label_badge(k)}&nbsp;{v}" for k, v in sorted(s["labels"].items(), key=lambda kv: severity(kv[0])))
        rows.append([_e(s["sender"]), _label_badge(s["worst"]), f'<span class="t">{_e(s["worst_first_seen"])}</span>', str(s["messages"]), str(s["collection"]),
                     _count(s["night"]), _count(s["max_per_day"], config.max_per_day), _count(s["third_party"]),
                     str(s["time_unknown"]), per_label, f'<span class="t">{_e(s["first"])}</span><br><span class="t">{_e(s["last"])}</span>' if s["first"] else "—"])
    add(_table(header, rows))

    # ---- timelines
    add(f'<h2>时间线（最严重的 {config.top_senders} 个发送方）<span class="en">/ Timelines of the {config.top_senders} most serious '
        "senders</span></h2>")
    if not timelines:
        add('<p class="meta">没有催收短信 / no collection messages.</p>')
    labels_seen = list(totals["labels"])
    for sender, timeline in timelines.items():
        untimed = sum(timeline["untimed"].values())
        add(f'<h3>{_e(sender)}</h3><figure style="margin:0">'
            f'<img class="timeline" alt="timeline of {_e(sender)}" src="{timeline_plot(timeline["points"], config, labels_seen)}">')
        caption = "每个点为一条短信，越靠上越严重；阴影为夜间。 / Each dot is one message, higher is more serious; shaded: night."
        if untimed:
            caption += f" 另有 {untimed} 条时间未知、未画出 / {untimed} messages with unknown time are not plotted."
        add(f'<figcaption class="meta">{_e(caption)}</figcaption></figure>')

    # ---- serious messages
    add('<h2>最严重的短信 <span class="en">/ Most serious messages</span></h2>')
    add('<p class="meta">标记处为判断依据（悬停可见规则与出处）。 / Marked text is the evidence (hover for the rule and its '
        "source).</p>")
    for item in data["serious"]:
        add('<div class="msg">')
        add(f'<div class="meta">{_label_badge(item["label"])} p={item["confidence"]:.2f} · {_e(item["local_time"] or "时间未知 / time unknown")}'
            f' · {_e(item["sender"])} · id {_e(item["id"])}</div>')
        add(f'<div class="text">{highlight_html(item["text"], item["evidence"])}</div>')
        rules_cited = [e for e in item["evidence"] if e.get("rule")]
        if rules_cited:
            from .rules import RULES

            described = {rule.id: rule for rule in RULES}
            add('<ul class="ev">' + "".join(
                f"<li>「{_e(e['text'])}」 — <code>{_e(e['rule'])}</code> → {_e(e['label'])}"
                + (f": {_e(described[e['rule']].description)} ({_e(described[e['rule']].cites)})" if e["rule"] in described else "")
                + "</li>" for e in rules_cited) + "</ul>")
        add("</div>")
    if not data["serious"]:
        add('<p class="meta">没有催收短信 / no collection messages.</p>')

    # ---- notes
    add('<h2>说明 <span class="en">/ Notes</span></h2>')
    add(f'<div class="note">{_e(DISCLAIMER_ZH)}<br>{_e(DISCLAIMER_EN)}</div>')
    add("<p>类别由 collectclf 模型给出（见各类别定义）；规则检查只看收到的、类别不是“非催收”的短信。 / Labels come from the collectclf "
        "model; contact rules look only at incoming messages whose label is not <i>unrelated</i>. A local day is a calendar "
        f"day in {config.zone_name}; the night window includes its start and excludes its end.</p>")
    settings = config.to_dict()
    shown = ["night_start", "night_end", "zone", "max_per_day", "top_senders", "top_messages", "list_limit",
             "unknown_direction_incoming", "non_collection_labels"]
    add(_table([("设置 / setting", False), ("值 / value", False)],
               [[_e(k), _e(", ".join(settings[k]) if isinstance(settings[k], (list, tuple)) else settings[k])] for k in shown]))
    add("</main></body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- entry point
def _rows(input_path: Path, *, model: Any, fmt: str | None, text_column: str | None) -> Iterator[dict[str, Any]]:
    from .batch import ScoreOptions, score_messages
    from .exports import read_messages

    messages = read_messages(input_path, fmt=fmt, text_column=text_column)
    return score_messages(messages, model=model, options=ScoreOptions(jobs=1, progress=False, include_text=True))


def build_report(input: str | os.PathLike[str], output: str | os.PathLike[str], *, as_json: bool = False, model: Any = None,
                 fmt: str | None = None, text_column: str | None = None, config: ReportConfig | None = None) -> Path:
    """Score an export and write the report: self-contained HTML, or JSON with the same numbers.

    ``model``: a model directory, or None for the shipped model. With ``as_json`` an output
    named ``*.html`` is written as ``*.json`` instead. The file appears atomically; returns its path.
    """
    config = config or ReportConfig()
    source = Path(input)
    target = Path(output)
    if as_json and target.suffix.lower() in (".html", ".htm"):
        target = target.with_suffix(".json")
    timelines: dict[str, Any] = {}
    data = summarise_rows(_rows(source, model=model, fmt=fmt, text_column=text_column), config,
                          timelines=None if as_json else timelines)
    from . import __version__

    data = {"input": source.name, "model": str(model) if model is not None else "shipped default", "version": __version__,
            "generated": datetime.now(timezone.utc).astimezone(config.zone).strftime("%Y-%m-%d %H:%M"),
            "config": config.to_dict(), "disclaimer": {"zh": DISCLAIMER_ZH, "en": DISCLAIMER_EN}, **data}
    content = json.dumps(data, ensure_ascii=False, indent=2) if as_json else render_html(data, config, timelines)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(content, encoding="utf-8")
    os.replace(temporary, target)
    log.info("report of %s (%d messages) written to %s", source.name, data["totals"]["messages"], target)
    return target
