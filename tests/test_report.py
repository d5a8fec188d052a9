"""The export report: HTML and JSON from every example export, known answers for the contact rules,
escaping, and the page rendered offline in headless Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

import collectclf
from collectclf.exports import read_messages
from collectclf.report import ReportConfig, build_report, render_html, sender_key, summarise_rows, third_party_hits

from .conftest import EXAMPLES

EXPORTS = sorted(p for p in EXAMPLES.iterdir() if p.suffix != ".py")
EXPECTED_EXPORTS = {"sms-backup.xml", "mmssms.db", "ios_sms.db", "sms.vmsg", "messages_gbk.csv", "messages_utf8bom.csv",
                    "messages.xlsx", "messages.jsonl", "messages.parquet", "messages.tsv", "huawei_sms.db"}


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


# --------------------------------------------------------------------------- every example export
def test_all_bundled_exports_are_covered():
    assert EXPECTED_EXPORTS <= {p.name for p in EXPORTS}


@pytest.mark.parametrize("path", EXPORTS, ids=[p.name for p in EXPORTS])
def test_report_from_each_example_export(path, tmp_path):
    page_path = build_report(path, tmp_path / "report.html")
    data_path = build_report(path, tmp_path / "report.html", as_json=True)
    assert page_path == tmp_path / "report.html" and data_path == tmp_path / "report.json"
    data = json.loads(data_path.read_text(encoding="utf-8"))
    totals = data["totals"]
    assert totals["messages"] == sum(1 for _ in read_messages(path))
    assert totals["incoming"] + totals["not_incoming"] == totals["messages"] and totals["not_incoming"] == 1
    assert sum(totals["labels"].values()) == totals["scored"] == totals["incoming"] - totals["not_scored"]
    assert sum(s["messages"] for s in data["senders"]) == totals["incoming"]
    assert totals["night"] == sum(s["night"] for s in data["senders"]) == len(data["rules"]["night"]["messages"])
    # every example holds the same four late-night messages from one collector (23:40, 23:55, 00:20, 07:10)
    assert totals["night"] == 4 and {m["sender"] for m in data["rules"]["night"]["messages"]} == {"+8617100000000"}
    assert data["senders"][0]["worst"] == "fraudulent"
    severities = [collectclf.LABELS.index(s["worst"]) for s in data["senders"]]
    assert severities == sorted(severities)
    assert data["serious"] and data["serious"][0]["label"] == "fraudulent"

    page = page_path.read_text(encoding="utf-8")
    tags = _parse(page)
    timelines = [a for t, a in tags.tags if t == "img" and "timeline" in (a.get("class") or "")]
    assert 1 <= len(timelines) <= ReportConfig().top_senders
    assert all((a.get("src") or "").startswith("data:image/png;base64,") for a in timelines)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page), "the page must not load anything remotely"
    for heading in ("联系规则检查", "Contact-rule checks", "发送方（按严重程度排序）", "Senders ranked by severity", "最严重的短信",
                    "Most serious messages", "不构成法律意见", "not legal advice"):
        assert heading in page
    assert f'(22:00–08:00 UTC+8): <span class="flag">{totals["night"]}</span>' in page
    assert "<mark" in page  # evidence highlighted


def test_json_output_keeps_the_given_name_unless_it_is_html(tmp_path):
    target = build_report(EXAMPLES / "messages.jsonl", tmp_path / "out" / "numbers.data", as_json=True)
    assert target == tmp_path / "out" / "numbers.data"
    assert json.loads(target.read_text(encoding="utf-8"))["config"]["max_per_day"] == 3


def test_cli_report(tmp_path, capsys):
    from collectclf.cli import main

    assert main(["report", str(EXAMPLES / "sms-backup.xml"), "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "report written to" in capsys.readouterr().err


# --------------------------------------------------------------------------- known answers
# (sender, local time UTC+8 or None, direction, text); expected answers are in the test below.
KNOWN = [
    ("+8617100000000", "2026-03-10T21:59:59+08:00", "in", "今天18点前必须还清，否则移交法务部门起诉。"),  # one second before night
    ("+8617100000000", "2026-03-10T22:00:00+08:00", "in", "再不还钱就爆你通讯录，让你全家都知道"),  # night starts (included)
    ("171 0000 0000", "2026-03-10T23:30:00+08:00", "in", "最后通牒：今天17点前必须全额还清，否则移交法务部门处理"),  # same sender
    ("+8617100000000", "2026-03-10T23:45:00+08:00", "in", "不还钱就抓你坐牢，好自为之。"),  # 4th that local day
    ("+8617100000000", "2026-03-11T00:10:00+08:00", "in", "老赖，后果自负，别怪我们不客气。"),  # same UTC day, next local day
    ("+8617100000000", "2026-03-11T07:59:59+08:00", "in", "你女儿在哪个学校我们都知道，出门小心点。"),  # last night second
    ("+8617100000000", "2026-03-11T08:00:00+08:00", "in", "第3次通知，已转交外包机构，将联系你的紧急联系人核实。"),  # day; to the debtor
    ("+8617100000000", "2026-03-11T23:00:00+08:00", "out", "好的，我明天还。"),  # sent: never counted
    ("+8617100000000", None, "in", "今天不还我们就打电话给你妈和你老板，告诉他们你是老赖"),  # time unknown
    ("95000", "2026-03-11T23:10:00+08:00", "in", "您的验证码是384920，5分钟内有效，请勿泄露"),  # night but not collection
    ("95000", "2026-03-12T10:00:00+08:00", "in", "您的借款逾期3天，请通过官方App还款，如有困难可申请分期"),
    ("+8613800000000", "2026-03-12T11:00:00+08:00", "in", "您的朋友张三在我司欠款5000元逾期未还，请转告他尽快还款。"),
    ("+8613800000000", "2026-03-12T11:05:00+08:00", "in", "您好，您作为李四的紧急联系人，请督促其尽快处理欠款。"),
    ("+8613800000000", "2026-03-12T11:10:00+08:00", "in", "王五在我司的借款已逾期，我们联系不上他，麻烦您转告他联系我们。"),
]


def _write_known(path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i, (sender, moment, direction, text) in enumerate(KNOWN):
            handle.write(json.dumps({"id": str(i), "sender": sender, "timestamp": moment or "", "direction": direction, "text": text},
                                    ensure_ascii=False) + "\n")
    return path


def test_known_export_end_to_end(tmp_path):
    incoming = [text for _, _, direction, text in KNOWN if direction == "in"]
    labels = dict(zip(incoming, collectclf.predict(incoming)))
    unrelated = {text for text, label in labels.items() if label == "unrelated"}
    assert unrelated == {KNOWN[9][3]}, f"precondition: the shipped model labels these as planned: {labels}"

    data = json.loads(build_report(_write_known(tmp_path / "known.jsonl"), tmp_path / "r.json", as_json=True).read_text("utf-8"))
    totals, rules = data["totals"], data["rules"]
    assert (totals["messages"], totals["incoming"], totals["not_incoming"]) == (14, 13, 1)
    assert totals["time_unknown"] == 1 and rules["night"]["time_unknown"] == 1
    assert totals["senders"] == 3  # "171 0000 0000" is "+8617100000000"
    assert rules["night"]["count"] == 5
    assert sorted(m["local_time"] for m in rules["night"]["messages"]) == [
        "2026-03-10 22:00", "2026-03-10 23:30", "2026-03-10 23:45", "2026-03-11 00:10", "2026-03-11 07:59"]
    assert rules["per_day"]["max_per_day"] == 4 and rules["per_day"]["max_sender"] == "+8617100000000"
    assert rules["per_day"]["days"] == [{"sender": "+8617100000000", "date": "2026-03-10", "count": 4}]
    assert rules["per_day"]["messages_over_limit"] == 1
    assert rules["third_party"]["count"] == 3
    assert {m["id"] for m in rules["third_party"]["messages"]} == {"11", "12", "13"}
    collector = next(s for s in data["senders"] if s["sender"] == "+8617100000000")
    assert (collector["messages"], collector["night"], collector["max_per_day"], collector["days_over_limit"],
            collector["time_unknown"]) == (8, 5, 4, 1, 1)


def _row(i: int, sender: str, moment: str | None, label: str, text: str = "x", direction: str = "in", evidence: str = "") -> dict:
    return {"id": str(i), "sender": sender, "timestamp": moment or "", "direction": direction, "text": text, "label": label,
            f"p_{label}": 0.9 if label else None, "evidence": evidence, "error": "", "flags": ""}


# The evidence batch scoring writes for "您的朋友在我司欠款未还，请转告他": the rules that fired, with their spans.
_THIRD_PARTY_EVIDENCE = json.dumps([{"rule": "third_party_disclosure", "label": "threatening", "text": "您的朋友在我司欠", "span": [0, 8]},
                                    {"rule": "third_party_contact", "label": "pressuring", "text": "请转告", "span": [12, 15]}],
                                   ensure_ascii=False)


# UTC timestamps: 14:00Z = 22:00 UTC+8, 23:59:59Z = 07:59:59 UTC+8, 00:00Z = 08:00 UTC+8.
FIXED = [
    _row(0, "A", "2026-03-10T13:59:59Z", "pressuring"),
    _row(1, "A", "2026-03-10T14:00:00Z", "threatening"),
    _row(2, "A", "2026-03-10T23:59:59Z", "pressuring"),
    _row(3, "A", "2026-03-11T00:00:00Z", "pressuring"),
    _row(4, "A", "2026-03-10T15:00:00Z", "unrelated"),  # night, not collection
    _row(5, "A", "2026-03-10T15:00:00Z", "threatening", direction="out"),  # night, sent
    _row(6, "A", None, "fraudulent"),  # time unknown, but counted and ranked
    _row(7, "B", "2026-03-10T02:00:00Z", "compliant", text="您的朋友在我司欠款未还，请转告他", evidence=_THIRD_PARTY_EVIDENCE),
    _row(8, "B", "2026-03-10T03:00:00Z", "compliant"),
    _row(9, "", "2026-03-10T03:00:00Z", "", direction="other"),  # not scored, direction unknown
]


def test_fixed_rows_known_numbers():
    data = summarise_rows(FIXED)
    totals, rules = data["totals"], data["rules"]
    assert (totals["messages"], totals["incoming"], totals["not_incoming"], totals["direction_unknown"]) == (10, 9, 1, 1)
    assert (totals["scored"], totals["not_scored"], totals["collection"], totals["time_unknown"]) == (8, 1, 7, 1)
    assert rules["night"]["count"] == 2  # 22:00:00 and 07:59:59 local; not 21:59:59, 08:00:00, unrelated or sent
    assert rules["third_party"]["count"] == 1
    # local days (UTC+8): A has 3/10 21:59:59, 3/10 22:00 → 2; 3/11 07:59:59, 08:00 → 2
    assert rules["per_day"]["max_per_day"] == 2 and rules["per_day"]["days_over_limit"] == 0
    assert [s["sender"] for s in data["senders"]][:2] == ["A", "B"] and data["senders"][0]["worst"] == "fraudulent"
    assert [m["id"] for m in data["serious"]] == ["6", "7"]  # identical texts once, as their most serious copy


def test_configuration_changes_the_answers():
    config = ReportConfig(utc_offset_hours=0, max_per_day=1, night_start=time(23), night_end=time(6))
    data = summarise_rows(FIXED, config)
    # in 23:00–06:00 UTC: A 23:59:59Z and 00:00Z, B 02:00Z and 03:00Z (not A 13:59:59Z or 14:00Z)
    assert sorted(m["id"] for m in data["rules"]["night"]["messages"]) == ["2", "3", "7", "8"]
    # UTC days: A has 3/10 13:59:59, 14:00, 23:59:59 → 3 collection messages; B has 2
    assert data["rules"]["per_day"]["max_per_day"] == 3
    assert {(d["sender"], d["count"]) for d in data["rules"]["per_day"]["days"]} == {("A", 3), ("B", 2)}
    assert data["rules"]["per_day"]["messages_over_limit"] == 3
    assert summarise_rows(FIXED, ReportConfig(unknown_direction_incoming=False))["totals"]["incoming"] == 8


@pytest.mark.parametrize("bad", [dict(max_per_day=0), dict(utc_offset_hours=20), dict(top_senders=-1),
                                 dict(third_party_patterns=("(",))])
def test_invalid_configuration_is_refused(bad):
    with pytest.raises((ValueError, re.error)):
        ReportConfig(**bad)


def test_page_ends_with_the_legend_of_the_cited_sources():
    from collectclf.rules import CITATIONS

    page = render_html({"input": "x.xml", "model": "m", "version": "0", "generated": "now", **summarise_rows(FIXED)}, ReportConfig())
    legend = page[page.index("Sources the rules cite"):]
    for code, meaning in CITATIONS.items():
        assert f"<code>{code}</code></td><td>{html.escape(meaning)}</td>" in legend


def test_night_window_and_sender_spelling():
    config = ReportConfig()
    assert [config.is_night(time(h, m)) for h, m in ((21, 59), (22, 0), (3, 0), (7, 59), (8, 0), (12, 0))] == [
        False, True, True, True, False, False]
    assert not ReportConfig(night_start=time(22), night_end=time(22)).is_night(time(23))
    assert ReportConfig(night_start=time(1), night_end=time(5)).is_night(time(2))
    assert sender_key("+86 171-0000-0000") == sender_key("0086 17100000000") == "17100000000"
    assert sender_key("95588") == "95588"


def test_third_party_patterns():
    assert third_party_hits("您作为张三的紧急联系人，请督促其还款")
    assert third_party_hits("王五在我司的借款已逾期，麻烦您转告他")
    # announcing contact with third parties is a message to the debtor, not to a third party
    assert third_party_hits("第3次通知，已转交外包机构，将联系你的紧急联系人核实。") == []
    assert third_party_hits("明天我们外访人员直接去你单位核实情况") == []


def test_third_party_check_reads_the_rules_from_the_scoring_evidence(tmp_path, monkeypatch):
    from collectclf.report import summary

    normalised = []
    real = summary.normalize
    monkeypatch.setattr(summary, "normalize", lambda text: normalised.append(text) or real(text))
    data = json.loads(build_report(_write_known(tmp_path / "known.jsonl"), tmp_path / "r.json", as_json=True).read_text("utf-8"))
    assert data["rules"]["third_party"]["count"] == 3
    # scoring normalised every text once; the report normalises only a few matched characters, never a whole message
    assert not {text for *_, text in KNOWN} & set(normalised)
    assert all(len(piece) <= 20 for piece in normalised)


def test_third_party_in_traditional_script():
    from collectclf.batch import ScoreOptions, score_messages
    from collectclf.exports import Message

    texts = ["您作為李四的緊急聯繫人，請轉告他盡快還款", "第3次通知，已轉交外包機構，將聯繫你的緊急聯繫人核實。", "您好，請問您是王五的同事嗎？麻煩轉告他盡快回電話"]
    messages = [Message(id=str(i), text=text, direction="in") for i, text in enumerate(texts)]
    rows = list(score_messages(messages, options=ScoreOptions(jobs=1, progress=False)))
    third = summarise_rows(rows)["rules"]["third_party"]
    assert [m["id"] for m in third["messages"]] == ["0", "2"]
    assert "麻煩轉告他" in third["messages"][1]["matched"]  # the matched text as written


def test_html_escapes_text_and_sender_and_highlights_evidence():
    text = '<script>alert("x")</script> 后果自负 & 老赖'
    start = text.index("后果自负")
    evidence = [{"rule": "veiled_menace", "label": "threatening", "text": "后果自负", "span": [start, start + 4]},
                {"ngram": "bad", "label": "threatening", "text": "nope", "span": [0, 4]},  # span does not match: dropped
                {"ngram": "out", "label": "threatening", "text": "x", "span": [500, 501]}]  # outside the text: dropped
    row = {**_row(0, '<img src=x onerror=alert(1)>', "2026-03-10T15:00:00Z", "threatening", text=text),
           "evidence": json.dumps(evidence, ensure_ascii=False)}
    data = summarise_rows([row])
    assert data["serious"][0]["evidence"] == evidence[:1]
    page = render_html({"input": "<x>.xml", "model": "m", "version": "0", "generated": "now", **data}, ReportConfig(),
                       {"<img src=x onerror=alert(1)>": {"points": [], "untimed": {"threatening": 1}}})
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "&amp; 老赖" in page
    assert re.search(r'<mark class="ev"[^>]*title="rule veiled_menace[^"]*">后果自负</mark>', page)
    assert len([t for t, a in _parse(page).tags if t == "script"]) == 1  # only the page's own checker


# --------------------------------------------------------------------------- headless browser
def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium(binary: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--window-size=1200,1000", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(_browser() is None, reason="no chromium binary found")
def test_page_renders_offline_in_headless_chromium(tmp_path):
    binary = _browser()
    assert binary
    page = build_report(EXAMPLES / "sms-backup.xml", tmp_path / "report.html").resolve()
    result = _chromium(binary, page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    tags = _parse(result.stdout)
    body = next(a for t, a in tags.tags if t == "body")
    decoded, total = map(int, (body.get("data-images-decoded") or "0/0").split("/"))
    assert total >= 2 and decoded == total, body
    assert body.get("data-csp-violations") == "0" and body.get("data-errors") == "0", body
    timelines = [a for t, a in tags.tags if t == "img" and "timeline" in (a.get("class") or "")]
    assert timelines
    for image in timelines:
        assert (image.get("src") or "").startswith("data:image/png;base64,")
        width, height = map(int, (image.get("data-natural") or "0x0").split("x"))
        assert width > 0 and height > 0
    assert "Collection message screening report" in "".join(tags.text)

    shot = tmp_path / "shot.png"
    _chromium(binary, page, tmp_path / "profile", f"--screenshot={shot}")
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 1000)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is None or len(colours) > 50  # not a blank page


def test_a_redacted_report_tells_senders_apart_without_showing_numbers_or_names(tmp_path):
    import csv
    import json
    import re

    from collectclf.report import build_report

    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "date", "body", "type"])
        writer.writerow(["+8613900000000", "2026-01-01T14:00:00Z", "张伟，再不还钱就爆你通讯录，电话13812345678", "1"])
        writer.writerow(["+8613900000000", "2026-01-01T15:00:00Z", "李强，今天必须还清，否则上门", "1"])
        writer.writerow(["10690000001", "2026-01-01T16:00:00Z", "您的验证码是384920", "1"])
    out = build_report(source, tmp_path / "r.json", as_json=True, redact=True)
    text = out.read_text(encoding="utf-8")
    for secret in ("13900000000", "13812345678", "10690000001", "张伟", "李强"):
        assert secret not in text
    assert not re.search(r"\d{7,}", json.dumps(json.loads(text)["senders"]))
    senders = json.loads(text)["senders"]
    assert len(senders) == 2
