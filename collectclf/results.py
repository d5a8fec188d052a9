"""What classification returns: a :class:`Result` per message, with its :class:`Evidence`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Evidence", "Result", "to_json"]


@dataclass
class Evidence:
    """Why a label was given: a rule that fired or an n-gram that weighed, with its span in the
    ORIGINAL text (``text[start:end] == self.text``)."""

    kind: str  # "rule" or "ngram"
    text: str
    start: int
    end: int
    label: str
    weight: float
    rule_id: str | None = None
    description: str | None = None
    cites: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, dropping empty fields."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class Result:
    """One classified message: ``label``, ``scores`` (label → probability, sum 1), ``evidence``."""

    label: str
    scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"label": self.label, "scores": self.scores, "evidence": [e.to_dict() for e in self.evidence]}


def to_json(result: Result | list[Result]) -> str:
    """Results as JSON text (UTF-8 characters kept)."""
    payload = [r.to_dict() for r in result] if isinstance(result, list) else result.to_dict()
    return json.dumps(payload, ensure_ascii=False, indent=2)
