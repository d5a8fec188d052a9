"""Batch scoring: one row per input message, in order; errors per row; resume; output formats."""

from __future__ import annotations

import csv
import json
import re

import pandas as pd
import pytest

import collectclf
from collectclf.batch import MAX_CHARS, ScoreOptions, score_file, score_messages
from collectclf.exports import Message

from .conftest import EXAMPLES, child_env
from .test_exports import EXPECTED

QUIET = ScoreOptions(jobs=1, progress=False)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_example_scores_one_row_per_message(name, tmp_path):
    out = tmp_path / "out.csv"
    summary = score_file(EXAMPLES / name, out, options=QUIET)
    _, count = EXPECTED[name]
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count == summary.read == summary.scored + summary.errored + summary.skipped
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM
    labels = set(collectclf.LABELS)
    for row in rows:
        assert row["label"] in labels
        total = sum(float(row[f"p_{label}"]) for label in labels)
        assert abs(total - 1) < 1e-3
    assert not (tmp_path / "out.csv.partial.jsonl").exists()


def test_jsonl_and_parquet_outputs_and_no_text(tmp_path):
    options = ScoreOptions(jobs=1, progress=False, include_text=False)
    score_file(EXAMPLES / "sms-backup.xml", tmp_path / "o.jsonl", options=options)
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 15 and "text" not in rows[0]
    score_file(EXAMPLES / "sms-backup.xml", tmp_path / "o.parquet", options=QUIET)
    frame = pd.read_parquet(tmp_path / "o.parquet")
    assert len(frame) == 15 and list(frame["id"]) == [str(i) for i in range(15)]


def test_default_output_sits_beside_the_input(tmp_path):
    source = tmp_path / "export.xml"
    source.write_bytes((EXAMPLES / "sms-backup.xml").read_bytes())
    summary = score_file(source, options=QUIET)
    assert summary.output == str(tmp_path / "export.scored.csv")


def test_bad_rows_get_an_error_and_the_run_goes_on():
    messages = [
        Message("a", None), Message("b", ""), Message("c", "   "), Message("d", 12345),  # type: ignore[arg-type]
        Message("e", "x" * (MAX_CHARS + 10)), Message("f", "请通过官方App还款\x00"), Message("g", "bad \udcff surrogate"),
        Message("h", None, error="reader failed here"), Message("i", "您的借款已逾期3天，请通过官方App还款"),
    ]
    rows = list(score_messages(messages, options=QUIET))
    assert [r["id"] for r in rows] == list("abcdefghi")
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"]["error"] == "no text" and by_id["b"]["error"] == "empty text" and by_id["c"]["error"] == "empty text"
    assert by_id["d"]["label"] and "coerced_to_text" in by_id["d"]["flags"]
    assert by_id["e"]["label"] and "truncated" in by_id["e"]["flags"]
    assert by_id["f"]["label"] and by_id["g"]["label"]
    assert by_id["h"]["error"] == "reader failed here"
    assert by_id["i"]["label"] == "compliant"


def test_incoming_only_keeps_a_row_for_every_message(tmp_path):
    options = ScoreOptions(jobs=1, progress=False, incoming_only=True)
    summary = score_file(EXAMPLES / "sms-backup.xml", tmp_path / "o.jsonl", options=options)
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 15 and summary.skipped == 1
    (outgoing,) = [r for r in rows if r["direction"] == "out"]
    assert outgoing["label"] == "" and "not_scored" in outgoing["flags"]


def test_duplicates_are_flagged_not_dropped(tmp_path):
    messages = [Message(str(i), "晚上吃饭吗", sender="1", timestamp="2026-01-01T00:00:00Z", direction="in") for i in range(3)]
    rows = list(score_messages(messages, options=QUIET))
    assert len(rows) == 3 and [("duplicate" in r["flags"]) for r in rows] == [False, True, True]


def test_redact_masks_numbers_in_text_and_sender(tmp_path):
    options = ScoreOptions(jobs=1, progress=False, redact=True)
    rows = list(score_messages([Message("1", "请回电13812345678", sender="13812345678")], options=options))
    assert "13812345678" not in rows[0]["text"] and "13812345678" not in rows[0]["sender"]


def test_parallel_workers_give_the_same_rows(tmp_path):
    score_file(EXAMPLES / "sms-backup.xml", tmp_path / "one.jsonl", options=ScoreOptions(jobs=1, progress=False, chunk_size=4))
    score_file(EXAMPLES / "sms-backup.xml", tmp_path / "two.jsonl", options=ScoreOptions(jobs=2, progress=False, chunk_size=4))
    assert (tmp_path / "one.jsonl").read_text(encoding="utf-8") == (tmp_path / "two.jsonl").read_text(encoding="utf-8")


def test_resume_after_a_crash_gives_exactly_one_row_per_message(tmp_path):
    out = tmp_path / "o.jsonl"
    full = tmp_path / "full.jsonl"
    score_file(EXAMPLES / "sms-backup.xml", full, options=QUIET)
    # simulate a crash: a journal with 6 complete rows and a torn 7th line
    options = ScoreOptions(jobs=1, progress=False, chunk_size=3)
    score_file(EXAMPLES / "sms-backup.xml", out, options=options)
    rows = out.read_text(encoding="utf-8").splitlines()
    journal = tmp_path / "o.jsonl.partial.jsonl"
    header = _header(EXAMPLES / "sms-backup.xml", ScoreOptions(resume=True))
    journal.write_text(json.dumps(header) + "\n" + "\n".join(rows[:6]) + "\n" + rows[6][:20],
                       encoding="utf-8")
    out.unlink()
    summary = score_file(EXAMPLES / "sms-backup.xml", out, options=ScoreOptions(jobs=1, progress=False, resume=True))
    assert summary.read == 15
    assert out.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")


def _header(source, options, model=None):
    from collectclf._loading import model_labels
    from collectclf.batch import journal_header, model_digest

    return journal_header(source, options, None, None, model_digest(model), model_labels(model))


def test_resume_refuses_a_journal_from_another_input(tmp_path):
    out = tmp_path / "o.jsonl"
    other = dict(_header(EXAMPLES / "sms-backup.xml", QUIET), input={"path": "/elsewhere.xml"})
    (tmp_path / "o.jsonl.partial.jsonl").write_text(json.dumps(other) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="different input"):
        score_file(EXAMPLES / "sms-backup.xml", out, options=ScoreOptions(jobs=1, progress=False, resume=True))


def test_unwritable_output_fails_before_work(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    with pytest.raises(OSError, match="cannot write"):
        score_file(EXAMPLES / "sms-backup.xml", blocked / "out.csv", options=QUIET)


def test_score_frame_with_pandas_and_datasets():
    import datasets

    frame = pd.DataFrame({"内容": ["您的借款已逾期3天，请通过官方App还款", None, "晚上吃饭吗"]})
    scored = collectclf.score_frame(frame)
    assert len(scored) == 3 and scored.loc[1, "error"] == "no text"
    dataset = datasets.Dataset.from_dict({"body": ["晚上吃饭吗", "验证码1234"]})
    assert list(collectclf.score_frame(dataset)["label"]) == ["unrelated", "unrelated"]


def test_no_evidence_option_leaves_the_column_empty():
    messages = [Message(id=str(i), text=text) for i, text in enumerate(["再不还钱就爆你通讯录", "验证码1234"])]
    with_evidence = list(score_messages(messages, options=QUIET))
    without = list(score_messages(messages, options=ScoreOptions(jobs=1, progress=False, evidence=False)))
    assert with_evidence[0]["evidence"] and not without[0]["evidence"]
    assert [r["label"] for r in with_evidence] == [r["label"] for r in without]


def test_missing_values_in_nullable_columns_are_errors_not_text():
    frame = pd.DataFrame({"text": pd.array(["老赖还钱", None], dtype="string")})
    out = collectclf.score_frame(frame)
    assert list(out["error"]) == ["", "no text"] and out.loc[1, "text"] == ""


def test_a_model_directory_is_loaded_once_per_process(tmp_path):
    from collectclf._loading import default_model_dir, path_load_counts
    from collectclf.scoring import model_for as _model_for

    path = str(default_model_dir())
    before = path_load_counts().get(path, 0)
    assert _model_for(path) is _model_for(path)
    assert path_load_counts()[path] == before + (0 if before else 1)


def test_the_writing_process_never_loads_the_model_or_jieba(tmp_path):
    """With workers, the parent only verifies the model's checksums and reads its labels."""
    import subprocess
    import sys

    script = (
        "import sys; from collectclf.batch import score_file, ScoreOptions\n"
        f"s = score_file({str(EXAMPLES / 'sms-backup.xml')!r}, {str(tmp_path / 'o.csv')!r}, "
        "options=ScoreOptions(jobs=2, progress=False))\n"
        "print(s.scored, sorted(m for m in ('jieba', 'sklearn') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300, env=child_env())
    scored, loaded = done.stdout.split(" ", 1)
    assert int(scored) > 0 and loaded.strip() == "[]"


def test_a_corrupted_model_directory_fails_before_any_work(tmp_path):
    import shutil

    from collectclf._loading import default_model_dir
    from collectclf._persist import ModelLoadError

    broken = tmp_path / "model"
    shutil.copytree(default_model_dir(), broken)
    weights = broken / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelLoadError, match="checksum"):
        score_file(EXAMPLES / "sms-backup.xml", tmp_path / "o.csv", model=str(broken), options=QUIET)
    assert not (tmp_path / "o.csv").exists()


def test_seen_keys_move_to_disk_past_the_memory_limit_and_still_find_duplicates():
    from collectclf.batch import SeenKeys

    seen = SeenKeys(memory_limit=100)
    assert [seen.add(k) for k in range(-50, 150)] == [False] * 200  # spills at 100 keys
    assert seen._db is not None and not seen._memory
    assert seen.add(-50) and seen.add(149) and seen.add(75)  # before, at and after the spill
    assert not seen.add(2**63 - 1) and seen.add(2**63 - 1) and not seen.add(-(2**63))
    for k in range(25_000):  # past a transaction boundary
        seen.add(1000 + k)
    assert seen.add(1000) and seen.add(25_999) and not seen.add(10**9)
    seen.close()


def test_duplicates_are_flagged_the_same_with_keys_on_disk(monkeypatch):
    import collectclf.dedupe as dedupe

    texts = ["老赖还钱", "验证码1234", "老赖还钱", "晚上吃饭吗", "验证码1234"] * 3
    messages = [Message(id=str(i), text=t, sender="95000") for i, t in enumerate(texts)]
    expected = [r["flags"] for r in score_messages(messages, options=QUIET)]
    monkeypatch.setattr(dedupe, "_SEEN_IN_MEMORY", 2)
    assert [r["flags"] for r in score_messages(messages, options=QUIET)] == expected
    assert expected.count("duplicate") == 12


# --------------------------------------------------------------------------- spreadsheet safety, local time
_HOSTILE = [
    {"id": "=1+1", "text": '=HYPERLINK("http://evil.example","点我")', "sender": "@SUM(A1)", "timestamp": 1_767_225_600, "direction": "in"},
    {"id": "b", "text": "+cmd|' /C calc'!A0 您的借款已逾期", "sender": "+8613900000000", "timestamp": 1_767_225_601, "direction": "in"},
    {"id": "c", "text": "-2+3 请按时还款", "sender": "10690000001", "timestamp": 1_767_225_602, "direction": "in"},
    {"id": "d", "text": "\t=1+2 逾期", "sender": "-10086", "timestamp": 1_767_225_603, "direction": "in"},
    {"id": "e", "text": "\r@x 逾期", "sender": "=cmd|'/C calc'!A0", "timestamp": None, "direction": "in"},
]
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _hostile_input(tmp_path):
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in _HOSTILE), encoding="utf-8")
    return source


def _assert_safe(rows: list[dict]) -> None:
    for row in rows:
        for column, value in row.items():
            if not column.startswith("p_") and isinstance(value, str) and value.startswith(_TRIGGERS):
                assert re.fullmatch(r"[+-]\d+", value), (column, value)


def test_csv_and_xlsx_cells_cannot_run_as_formulas(tmp_path):
    source = _hostile_input(tmp_path)
    score_file(source, tmp_path / "o.csv", options=QUIET)
    with open(tmp_path / "o.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    _assert_safe(rows)
    assert [r["id"] for r in rows] == ["'=1+1", "b", "c", "d", "e"]
    assert rows[0]["text"] == "'" + _HOSTILE[0]["text"] and rows[0]["sender"] == "'@SUM(A1)"
    assert rows[3]["text"].startswith("'\t=1+2") and rows[4]["text"].startswith("'\r@x") and rows[4]["sender"] == "'=cmd|'/C calc'!A0"
    # phone numbers are not mangled
    assert [r["sender"] for r in rows[1:4]] == ["+8613900000000", "10690000001", "-10086"]

    from openpyxl import load_workbook

    score_file(source, tmp_path / "o.xlsx", options=QUIET)
    sheet = load_workbook(tmp_path / "o.xlsx").active
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]
    assert len(cells) == 5
    for row in cells:
        for column, cell in row.items():
            assert cell.data_type != "f"
            if not column.startswith("p_") and cell.value is not None:
                assert cell.data_type == "s", (column, cell.value)
    _assert_safe([{c: cell.value for c, cell in row.items()} for row in cells])
    assert [row["sender"].value for row in cells[1:3]] == ["+8613900000000", "10690000001"]
    assert cells[0]["text"].value == "'" + _HOSTILE[0]["text"] and isinstance(cells[0]["p_compliant"].value, float)


def test_jsonl_and_parquet_keep_the_text_as_it_is(tmp_path):
    source = _hostile_input(tmp_path)
    score_file(source, tmp_path / "o.jsonl", options=QUIET)
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [r["text"] for r in _HOSTILE] and rows[0]["id"] == "=1+1"
    score_file(source, tmp_path / "o.parquet", options=QUIET)
    assert list(pd.read_parquet(tmp_path / "o.parquet")["sender"]) == [r["sender"] for r in _HOSTILE]


def test_local_time_column_sits_next_to_the_utc_timestamp(tmp_path):
    source = _hostile_input(tmp_path)
    score_file(source, tmp_path / "o.jsonl", options=QUIET)
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert list(rows[0])[2:4] == ["timestamp", "local_time"]
    assert rows[0]["timestamp"] == "2026-01-01T00:00:00Z" and rows[0]["local_time"] == "2026-01-01 08:00:00+08:00"
    assert rows[4]["local_time"] == ""
    score_file(source, tmp_path / "u.jsonl", options=ScoreOptions(jobs=1, progress=False, tz="America/New_York"))
    first = json.loads((tmp_path / "u.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["local_time"] == "2025-12-31 19:00:00-05:00"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        score_file(source, tmp_path / "x.jsonl", options=ScoreOptions(jobs=1, progress=False, tz="Mars/Base"))


def test_a_redacted_export_holds_no_long_digit_run_and_no_name_in_any_column(tmp_path):
    """--redact: no run of 7+ digits outside id and the timestamps, no name from the input, in any column;
    senders become stable pseudonyms; resuming keeps them."""
    import csv
    import re

    names = ["张伟", "李强", "王小明"]
    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sender", "date", "body"])
        writer.writerow(["+8613900000000", "2026-01-01T01:00:00Z", "尊敬的张伟先生，您尾号1234的卡6217000012345678已逾期，请回电13812345678"])
        writer.writerow(["+8613900000000", "2026-01-01T02:00:00Z", "李强，再不还钱就告诉你全家，身份证110101199003071234我们都有"])
        writer.writerow(["10690000001", "2026-01-01T03:00:00Z", "【XX银行】王小明，您的借款已逾期，订单号202601010001，请登录官方App还款"])
    out = tmp_path / "out.csv"
    score_file(source, out, options=ScoreOptions(jobs=1, progress=False, redact=True))
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    for row in rows:
        for column, value in row.items():
            if column in ("id", "timestamp", "local_time"):
                continue
            assert not re.search(r"\d{7,}", value or ""), (column, value)
            for name in names:
                assert name not in (value or ""), (column, value)
    assert rows[0]["sender"] == rows[1]["sender"] != rows[2]["sender"]
    assert rows[0]["sender"].startswith("sender-") and "139" not in rows[0]["sender"]
    assert any(json.loads(r["evidence"] or "[]") for r in rows)
