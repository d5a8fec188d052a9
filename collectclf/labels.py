"""The shipped label set and one-line meanings (see ``docs/labeling-guide.md``).

The order is the guide's precedence, most harmful first. A retrained model may use any
label set; these are the labels of the model that ships with the package.
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("fraudulent", "threatening", "pressuring", "compliant", "unrelated")

#: Label used when the caller asks to abstain below a confidence.
UNCERTAIN = "uncertain"

DESCRIPTIONS: dict[str, str] = {
    "fraudulent": "a scam using a debt, loan, credit-record or legal pretext (诈骗/冒充催收)",
    "threatening": "threatens harm, insults, exposes the debt or intimidates (威胁/暴力催收)",
    "pressuring": "lawful but coercive: ultimatums, escalation, third parties, visits (施压)",
    "compliant": "a factual, polite reminder from an identifiable creditor (合规)",
    "unrelated": "not a message that collects a debt (非催收)",
}

#: Severity rank used for sorting reports: lower is more serious.
SEVERITY: dict[str, int] = {label: rank for rank, label in enumerate(LABELS)}
