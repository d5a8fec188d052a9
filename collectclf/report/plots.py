"""The report's plots, as base64 PNG ``data:`` URIs (matplotlib, Agg, no display needed): messages
per label, and one sender's messages over local time."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .config import LABEL_COLOURS, OTHER_COLOUR, ReportConfig, severity

__all__ = ["timeline_plot", "totals_plot"]


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
    axes.barh(names, values, color=[LABEL_COLOURS.get(label, OTHER_COLOUR) for label in order][::-1])
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
                axes.scatter(mine, [row[label]] * len(mine), s=56, color=LABEL_COLOURS.get(label, OTHER_COLOUR),
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
