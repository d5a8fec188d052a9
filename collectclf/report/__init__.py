"""The per-sender screening report of an SMS export: one self-contained HTML page, or JSON.

:func:`build_report` reads an export (:func:`collectclf.exports.read_messages`), scores it
(:func:`collectclf.batch.score_messages`, one process), sums the scored rows up
(:mod:`.summary`), draws the plots (:mod:`.plots`) and writes (:mod:`.render`):

- totals per label and per sender, senders ranked by severity (:data:`collectclf.labels.SEVERITY`);
- for the most serious senders, a timeline of their messages coloured by label (escalation);
- contact-rule checks computed from timestamps and senders, each citing its source: collection
  messages at night, more than ``max_per_day`` collection messages from one sender in one local
  day, and messages that show they are addressed to a third party;
- the most serious messages with their evidence highlighted;
- a note (中文 and English) that this is an automated screening, not legal advice, and the legend
  of the source codes the rules cite (:data:`collectclf.rules.CITATIONS`).

Every threshold and citation lives in :class:`ReportConfig` (:mod:`.config`). Rows are streamed: the report keeps
per-sender counters, a compact (time, label) array per sender and a bounded list of the most
serious messages, never the whole export. The HTML loads nothing from the network (a
Content-Security-Policy forbids it); plots are matplotlib PNGs (Agg) embedded as ``data:`` URIs.
The third-party check reads the rules that fired from the scored rows' evidence: no text is
normalised a second time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import DISCLAIMER_EN, DISCLAIMER_ZH, ReportConfig, severity
from .plots import timeline_plot, totals_plot
from .render import highlight_html, render_html
from .summary import sender_key, summarise_rows, third_party_hits

__all__ = ["ReportConfig", "build_report", "highlight_html", "render_html", "sender_key", "severity", "summarise_rows",
           "third_party_hits", "timeline_plot", "totals_plot"]

log = logging.getLogger(__name__)


def _rows(input_path: Path, *, model: Any, fmt: str | None, text_column: str | None, redact: bool = False) -> Iterator[dict[str, Any]]:
    from ..batch import ScoreOptions, score_messages
    from ..exports import read_messages

    messages = read_messages(input_path, fmt=fmt, text_column=text_column)
    return score_messages(messages, model=model, options=ScoreOptions(jobs=1, progress=False, include_text=True, redact=redact))


def build_report(input: str | os.PathLike[str], output: str | os.PathLike[str], *, as_json: bool = False, model: Any = None,
                 fmt: str | None = None, text_column: str | None = None, config: ReportConfig | None = None,
                 redact: bool = False) -> Path:
    """Score an export and write the report: self-contained HTML, or JSON with the same numbers.

    ``redact``: numbers and names in the texts and evidence are masked and each sender becomes a
    stable pseudonym, so counts per sender still hold (see :mod:`collectclf.redact`).

    ``model``: a model directory, or None for the shipped model. With ``as_json`` an output
    named ``*.html`` is written as ``*.json`` instead. The file appears atomically; returns its path.
    """
    config = config or ReportConfig()
    source = Path(input)
    target = Path(output)
    if as_json and target.suffix.lower() in (".html", ".htm"):
        target = target.with_suffix(".json")
    timelines: dict[str, Any] = {}
    data = summarise_rows(_rows(source, model=model, fmt=fmt, text_column=text_column, redact=redact), config,
                          timelines=None if as_json else timelines)
    from .._version import __version__

    data = {"input": source.name, "redacted": redact, "model": str(model) if model is not None else "shipped default", "version": __version__,
            "generated": datetime.now(timezone.utc).astimezone(config.zone).strftime("%Y-%m-%d %H:%M"),
            "config": config.to_dict(), "disclaimer": {"zh": DISCLAIMER_ZH, "en": DISCLAIMER_EN}, **data}
    content = json.dumps(data, ensure_ascii=False, indent=2) if as_json else render_html(data, config, timelines)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(content, encoding="utf-8")
    os.replace(temporary, target)
    log.info("report of %s (%d messages) written to %s", source.name, data["totals"]["messages"], target)
    return target
