"""The report as one self-contained HTML page: escaped text, evidence highlighted, plots embedded,
nothing loaded from the network (a Content-Security-Policy forbids it)."""

from __future__ import annotations

import html
from typing import Any

from ..rules import CITATIONS, RULES
from .config import DISCLAIMER_EN, DISCLAIMER_ZH, LABEL_COLOURS, LABEL_NAMES_ZH, OTHER_COLOUR, ReportConfig, severity
from .plots import timeline_plot, totals_plot

__all__ = ["highlight_html", "render_html"]

_RULES_BY_ID = {rule.id: rule for rule in RULES}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _label_badge(label: str) -> str:
    if not label:
        return ""
    colour = LABEL_COLOURS.get(label, OTHER_COLOUR)
    zh = LABEL_NAMES_ZH.get(label, "")
    return f'<span class="badge" style="background:{colour}">{_e(zh + " " if zh else "")}{_e(label)}</span>'


def highlight_html(text: str, evidence: list[dict[str, Any]]) -> str:
    """``text`` escaped for HTML, with evidence spans wrapped in ``<mark>`` (overlaps: first wins).

    >>> highlight_html("a<b>后果自负", [{"rule": "veiled_menace", "label": "threatening", "text": "后果自负", "span": [4, 8]}])
    'a&lt;b&gt;<mark class="ev" style="border-color:#d32f2f" title="rule veiled_menace → threatening: veiled menace (&#x27;后果自负&#x27;, &#x27;watch your back&#x27;) (GUIDE Boundaries; SOFT)">后果自负</mark>'
    """
    out, position = [], 0
    for item in sorted(evidence, key=lambda e: (e["span"][0], -e["span"][1])):
        start, end = item["span"]
        if start < position:
            continue
        rule = _RULES_BY_ID.get(item.get("rule") or "")
        what = f"rule {item['rule']}" if item.get("rule") else f"n-gram {item.get('ngram', item.get('text'))}"
        title = f"{what} → {item.get('label', '')}" + (f": {rule.description} ({rule.cites})" if rule else "")
        colour = LABEL_COLOURS.get(str(item.get("label")), OTHER_COLOUR)
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
    required = third["required"]
    add('<details class="meta"><summary>判断依据 / how it is detected</summary>证据中命中的规则 / rules that fired, from the '
        "evidence: " + ", ".join(f"<code>{_e(r)}</code>" + (f"（匹配须含 / only matches containing <code>{_e(required[r])}</code>）"
                                                           if required.get(r) else "") for r in third["rules"])
        + ("; 短语（正则表达式，作用于规范化文本）/ phrases (regular expressions on normalised text): "
           + " ".join(f"<code>{_e(p)}</code>" for p in third["patterns"]) if third["patterns"] else "") + "</details>")
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
            add('<ul class="ev">' + "".join(
                f"<li>「{_e(e['text'])}」 — <code>{_e(e['rule'])}</code> → {_e(e['label'])}"
                + (f": {_e(_RULES_BY_ID[e['rule']].description)} ({_e(_RULES_BY_ID[e['rule']].cites)})" if e["rule"] in _RULES_BY_ID else "")
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
    add('<h3>规则出处代码 <span class="en">/ Sources the rules cite</span></h3>')
    add(_table([("代码 / code", False), ("含义 / meaning", False)],
               [[f"<code>{_e(code)}</code>", _e(meaning)] for code, meaning in CITATIONS.items()]))
    add("</main></body></html>")
    return "\n".join(parts)
