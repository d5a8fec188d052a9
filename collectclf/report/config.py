"""What the report checks and how it speaks: every threshold and citation (:class:`ReportConfig`),
the disclaimer, and how labels are named, coloured and ranked."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import time, timedelta, timezone
from typing import Any

from ..labels import SEVERITY
from ..rules import THIRD_PARTY_ADDRESS

__all__ = ["DISCLAIMER_EN", "DISCLAIMER_ZH", "LABEL_COLOURS", "LABEL_NAMES_ZH", "NIGHT_CITATION", "OTHER_COLOUR", "PER_DAY_CITATION",
           "THIRD_PARTY_CITATION", "THIRD_PARTY_RULES", "ReportConfig", "severity"]

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

#: collectclf.rules rules whose matches show a message is addressed to a third party: (rule id,
#: regular expression the match, normalised, must contain; "" for any). ``third_party_contact`` also
#: fires on messages TO the debtor that announce contacting others (将联系你的紧急联系人), so only
#: its matches of :data:`collectclf.rules.THIRD_PARTY_ADDRESS` count.
THIRD_PARTY_RULES: tuple[tuple[str, str], ...] = (("third_party_disclosure", ""), ("third_party_contact", "|".join(THIRD_PARTY_ADDRESS)))

DISCLAIMER_ZH = ("本报告由软件自动筛查生成，不构成法律意见。分类和规则检查可能有误，请逐条核对原始短信；时间检查依赖手机记录的时间和所设时区。"
                 "如需投诉或维权，请咨询律师，或向相关监管部门、行业协会反映。")
DISCLAIMER_EN = ("This report is an automated screening produced by software; it is not legal advice. Labels and rule checks can "
                 "be wrong: check every message against the original. Time checks rely on the phone's timestamps and the "
                 "configured time zone. For a complaint, consult a lawyer or contact the relevant regulator or industry association.")

LABEL_NAMES_ZH: dict[str, str] = {"fraudulent": "诈骗", "threatening": "威胁", "pressuring": "施压", "compliant": "合规",
                                  "unrelated": "非催收"}
LABEL_COLOURS: dict[str, str] = {"fraudulent": "#8e24aa", "threatening": "#d32f2f", "pressuring": "#f57c00",
                                 "compliant": "#388e3c", "unrelated": "#90a4ae"}
OTHER_COLOUR = "#3f51b5"


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
    ``third_party_rules``: (rule id, required sub-pattern) pairs; a collection message is addressed to
    a third party when its evidence holds a match of one of these rules (that, normalised, contains
    the sub-pattern, if any). Batch scoring gives evidence for every label except ``unrelated``.
    ``third_party_patterns``: further regular expressions, run on the normalised text of each
    collection message (empty by default: each one costs a second normalisation per distinct text).

    >>> config = ReportConfig(max_per_day=5)
    >>> config.is_night(time(23, 40)), config.is_night(time(8, 0))
    (True, False)
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
    third_party_patterns: tuple[str, ...] = ()
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
