"""The report's numbers: scored rows in, per-sender counts, contact-rule checks and the most serious
messages out, streamed in bounded memory."""

from __future__ import annotations

import functools
import heapq
import json
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..rules import RULES, find_rule_hits
from ..text import normalize
from .config import ReportConfig, severity

__all__ = ["sender_key", "summarise_rows", "third_party_hits"]


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
def _third_party_matchers(rules: tuple[tuple[str, str], ...],
                          patterns: tuple[str, ...]) -> tuple[dict[str, re.Pattern[str] | None], tuple[re.Pattern[str], ...]]:
    """Rule id → its required sub-pattern (None: any match counts), and the further patterns, compiled."""
    known = {rule.id for rule in RULES}
    missing = [rule_id for rule_id, _ in rules if rule_id not in known]
    if missing:
        raise ValueError(f"unknown rule id(s) in third_party_rules: {', '.join(missing)}")
    return {rule_id: re.compile(required) if required else None for rule_id, required in rules}, tuple(map(re.compile, patterns))


def _third_party(rule_hits: Iterable[tuple[str, str]], normalized_text: Callable[[], str], config: ReportConfig, *,
                 hits_normalized: bool) -> list[str]:
    """The matched phrases that show a message is addressed to a third party.

    ``rule_hits``: (rule id, matched text) of the rules that fired, in text order. Unless
    ``hits_normalized``, a match is normalised (it is a few characters) only to test a required
    sub-pattern. ``normalized_text`` is called only when ``config.third_party_patterns`` is set.
    """
    required, patterns = _third_party_matchers(config.third_party_rules, config.third_party_patterns)
    found: dict[str, list[str]] = {rule_id: [] for rule_id in required}  # in the order of config.third_party_rules
    for rule_id, piece in rule_hits:
        if piece and rule_id in required:
            need = required[rule_id]
            if need is None or need.search(piece if hits_normalized else normalize(piece)):
                found[rule_id].append(piece)
    phrases = [piece for pieces in found.values() for piece in pieces]
    if patterns:
        normalized = normalized_text()
        phrases += [match.group(0) for pattern in patterns for match in pattern.finditer(normalized) if match.group(0)]
    return list(dict.fromkeys(phrases))


def third_party_hits(text: str, config: ReportConfig | None = None) -> list[str]:
    """The matched phrases (normalised) that show ``text`` is addressed to a third party.

    The check :func:`summarise_rows` makes from a scored row's evidence, made here on a raw text:
    the matches of the :mod:`collectclf.rules` rules named in ``config.third_party_rules`` (with
    their required sub-patterns), then of ``config.third_party_patterns``, all on
    :func:`collectclf.text.normalize` output.

    >>> "作为张三的紧急联系人" in third_party_hits("您作为张三的紧急联系人，请转告他尽快还款")
    True
    >>> third_party_hits("您的借款已逾期，请尽快还款")
    []
    """
    config = config or ReportConfig()
    normalized = normalize(text)
    hits = ((hit.rule.id, normalized[hit.start:hit.end]) for hit in find_rule_hits(normalized))
    return _third_party(hits, lambda: normalized, config, hits_normalized=True)


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
    The third-party check reads the rules that fired from each row's ``evidence`` (as scoring
    wrote it), so a row without evidence is never counted as addressed to a third party.
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
    # collection messages repeat templates: read each text's evidence once (rule hits come from scoring)
    per_text: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
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
        if text not in per_text:
            if len(per_text) >= 50_000:
                per_text.clear()
            items = _evidence(row, text)
            hits = ((item["rule"], item["text"]) for item in items if item.get("rule"))
            per_text[text] = items, _third_party(hits, functools.partial(normalize, text), config, hits_normalized=False)
        evidence, phrases = per_text[text]
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
                entry = (*key, {**ref, "confidence": round(confidence, 4), "text": text, "evidence": evidence})
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
                            "required": {rule: required for rule, required in config.third_party_rules if required},
                            "patterns": list(config.third_party_patterns), "messages": third_list},
        },
        "serious": [item[3] for item in serious],
    }
