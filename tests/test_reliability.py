"""Reliability: any input string, crash and resume, unwritable output and full disk, no network,
hostile input files, and no message text in logs.

Each test guards against a bug found and fixed here.
"""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collectclf
from collectclf import batch
from collectclf._loading import model_labels
from collectclf.batch import MAX_CHARS, ScoreOptions, score_file, score_messages
from collectclf.cli import main
from collectclf.exports import Message, read_messages

from .conftest import EXAMPLES, TINY, child_env

QUIET = ScoreOptions(jobs=1, progress=False)


_env = child_env


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _evidence_spans_hold(text: str, evidence: list[dict[str, Any]]) -> None:
    for item in evidence:
        start, end = item["span"]
        assert 0 <= start <= end <= len(text)
        assert text[start:end] == item["text"]


# --------------------------------------------------------------------------- any string
# Fragments that make rules and n-grams fire, so evidence spans are exercised, mixed with
# arbitrary characters (NUL, lone surrogates, zero-width and full-width characters included).
_FRAGMENTS = ["再不还钱就爆你通讯录", "老赖", "后果自负", "逾期", "逾*期", "威xie", "貴戶", "法院传票", "安全账户", "加微信",
              "验证码", "13812345678", "https://a.cn/x", "２３元", "请通过官方App还款", "上门", "坐牢", " ", "，"]
_SPECIAL_CHARS = ["\x00", "\ud800", "\udfff", "\udc80", "\u200b", "\ufeff", "\u3000", "\r", "\U0001f600", "\ue000"]
_ANY_CHAR = st.one_of(st.characters(exclude_categories=[]), st.sampled_from(_SPECIAL_CHARS))
ANY_TEXT = st.lists(
    st.one_of(st.text(alphabet=_ANY_CHAR, max_size=12), st.sampled_from(_FRAGMENTS + ["\r\n", "<num>", "<phone>"])), max_size=12,
).map("".join)
PROPERTY = settings(max_examples=100, deadline=None, database=None)


@PROPERTY
@given(st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_any_strings_get_probabilities_that_sum_to_one(texts):
    model = collectclf.load()
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), len(model.classes_))
    assert ((proba >= 0) & (proba <= 1)).all()
    assert abs(proba.sum(axis=1) - 1).max() < 1e-9
    assert set(map(str, model.predict(texts))) <= set(map(str, model.classes_))


@PROPERTY
@given(ANY_TEXT)
def test_any_string_classifies_with_evidence_inside_the_text(text):
    model = collectclf.load()
    result = model.classify(text)
    assert result.label in set(map(str, model.classes_))
    assert abs(sum(result.scores.values()) - 1) < 1e-9
    _evidence_spans_hold(text, [{"span": [e.start, e.end], "text": e.text} for e in result.evidence])


def _printable(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


@PROPERTY
@given(ANY_TEXT)
def test_any_string_scores_one_row_whose_evidence_spans_index_the_row_text(text):
    (row,) = score_messages([Message("1", text)], options=QUIET)
    if text.strip():  # whitespace-only texts are reported, not scored
        assert row["label"] in collectclf.LABELS and not row["error"]
        assert abs(sum(row[f"p_{label}"] for label in collectclf.LABELS) - 1) < 1e-4
        # surrogates are replaced in the output row; compare like with like
        _evidence_spans_hold(_printable(row["text"]), [dict(e, text=_printable(e["text"])) for e in json.loads(row["evidence"] or "[]")])
    else:
        assert row["error"] == "empty text" and row["label"] == ""


def test_evidence_text_in_a_row_equals_the_row_text_at_its_span():
    (row,) = score_messages([Message("1", "再不还钱就爆你通\ud800讯录，老赖后果自负")], options=QUIET)
    evidence = json.loads(row["evidence"])
    assert evidence
    _evidence_spans_hold(row["text"], evidence)
    json.dumps(row, ensure_ascii=False).encode("utf-8")  # what the journal write needs


# --------------------------------------------------------------------------- crash and resume
def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _distinct_messages(n: int) -> list[dict[str, Any]]:
    bases = [text for text, _ in TINY]
    return [{"id": f"m{i}", "text": f"{bases[i % len(bases)]}（第{i}条）", "sender": f"1069{i % 7}", "timestamp": 1_767_225_600 + i,
             "direction": "in"} for i in range(n)]


def test_sigkill_then_resume_gives_the_uninterrupted_output(tmp_path):
    source = tmp_path / "big.jsonl"
    _write_jsonl(source, _distinct_messages(2000))
    full = tmp_path / "full.csv"
    score_file(source, full, options=ScoreOptions(jobs=1, chunk_size=50, progress=False))

    out = tmp_path / "out.csv"
    journal = tmp_path / "out.csv.partial.jsonl"
    command = [sys.executable, "-m", "collectclf", "score", str(source), "-o", str(out), "--jobs", "1", "--chunk-size", "50", "--quiet"]
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    rows_before_kill = 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if journal.exists():
                rows_before_kill = journal.read_bytes().count(b"\n") - 1
                if rows_before_kill >= 100:
                    break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert 100 <= rows_before_kill < 2000 and journal.exists() and not out.exists()

    resumed = subprocess.run([*command, "--resume"], env=_env(), capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert "2000 read, 2000 scored, 0 errored" in resumed.stderr
    assert out.read_bytes() == full.read_bytes()
    rows = _csv_rows(out)
    assert [r["id"] for r in rows] == [f"m{i}" for i in range(2000)]
    assert not journal.exists()


def _journal_with_first_rows(source: Path, complete: Path, journal: Path, keep: int, options: ScoreOptions) -> None:
    """A journal as a crash after ``keep`` rows leaves it (plus a torn line)."""
    header = batch.journal_header(source, options, None, None, batch.model_digest(None), model_labels(None))
    lines = complete.read_text(encoding="utf-8").splitlines()
    journal.write_text(json.dumps(header) + "\n" + "\n".join(lines[:keep]) + "\n" + lines[keep][:15],
                       encoding="utf-8")


def test_resume_keeps_duplicate_flags_across_the_crash_point(tmp_path):
    rows = _distinct_messages(20)
    rows.append(dict(rows[0], id="again"))
    source = tmp_path / "dup.jsonl"
    _write_jsonl(source, rows)
    options = ScoreOptions(jobs=1, chunk_size=5, progress=False)
    full = tmp_path / "full.jsonl"
    score_file(source, full, options=options)
    assert "duplicate" in json.loads(full.read_text(encoding="utf-8").splitlines()[-1])["flags"]

    out = tmp_path / "out.jsonl"
    _journal_with_first_rows(source, full, tmp_path / "out.jsonl.partial.jsonl", 10, options)
    summary = score_file(source, out, options=ScoreOptions(jobs=1, chunk_size=5, progress=False, resume=True))
    assert out.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")
    assert summary.duplicates == 1


# --------------------------------------------------------------------------- unwritable output, full disk
def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any scoring work fail loudly, to prove an error came before it."""
    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError("scoring started")

    monkeypatch.setattr(batch, "score_messages", refuse)


def _one_line_error(code: int, err: str) -> None:
    assert code == 1
    assert err.startswith("collectclf: error:") and err.count("\n") == 1 and "Traceback" not in err


def test_output_under_a_regular_file_fails_before_work(tmp_path, monkeypatch, capsys):
    # tests run as root, so permissions cannot block writing; a path below a regular file can
    blocked = tmp_path / "file"
    blocked.write_text("x")
    _no_work(monkeypatch)
    code = main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(blocked / "out.csv"), "--jobs", "1", "--quiet"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "cannot write" in err and "scoring started" not in err


def test_output_that_is_a_directory_fails_before_work(tmp_path, monkeypatch, capsys):
    (tmp_path / "out.csv").mkdir()
    _no_work(monkeypatch)
    code = main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(tmp_path / "out.csv"), "--jobs", "1", "--quiet"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "scoring started" not in err


class _FullDisk:
    """A journal handle whose ``write`` fails with ENOSPC after ``allowed`` writes."""

    def __init__(self, handle: Any, allowed: int):
        self._handle, self._allowed = handle, allowed

    def write(self, data: str) -> int:
        if self._allowed <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._allowed -= 1
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.__exit__(*exc)


def _fill_disk_after(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    real = batch.open_journal

    def open_journal(journal: Path, header: dict[str, Any], options: ScoreOptions) -> tuple[Any, int]:
        handle, done = real(journal, header, options)
        return _FullDisk(handle, rows), done

    monkeypatch.setattr(batch, "open_journal", open_journal)


def test_full_disk_keeps_the_journal_and_says_to_resume(tmp_path, monkeypatch, capsys):
    source = EXAMPLES / "sms-backup.xml"
    full = tmp_path / "full.csv"
    score_file(source, full, options=ScoreOptions(jobs=1, chunk_size=5, progress=False))
    out = tmp_path / "out.csv"
    journal = tmp_path / "out.csv.partial.jsonl"

    with monkeypatch.context() as patch:
        _fill_disk_after(patch, 7)
        with pytest.raises(OSError, match="No space left on device.*--resume"):
            score_file(source, out, options=ScoreOptions(jobs=1, chunk_size=5, progress=False))
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 7 and all(json.loads(line) for line in lines) and not out.exists()

    with monkeypatch.context() as patch:  # the same through the command line: one clear line
        _fill_disk_after(patch, 0)
        code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--chunk-size", "5", "--quiet", "--resume"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "No space left on device" in err and "--resume" in err and journal.exists()

    summary = score_file(source, out, options=ScoreOptions(jobs=1, chunk_size=5, progress=False, resume=True))
    assert summary.read == 15 and out.read_bytes() == full.read_bytes() and not journal.exists()


def test_full_disk_while_writing_the_final_file_says_to_resume(tmp_path, monkeypatch, capsys):
    from collectclf.output import OutputFile

    written = 0
    real_write = OutputFile.write

    def write(self: OutputFile, row: dict[str, Any]) -> Any:
        nonlocal written
        written += 1
        if written > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, row)

    monkeypatch.setattr(OutputFile, "write", write)
    out = tmp_path / "out.csv"
    code = main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(out), "--jobs", "1", "--quiet"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "--resume" in err and (tmp_path / "out.csv.partial.jsonl").exists()
    assert not out.exists() and not (tmp_path / "out.csv.tmp").exists()


# --------------------------------------------------------------------------- no network
_OFFLINE_SCRIPT = r"""
import json, socket, sys

attempts = []


def refuse(*args, **kwargs):
    attempts.append(repr(args[1:2] or args[:1]))
    raise OSError("network access blocked by test_reliability")


socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

import pandas as pd

import collectclf
from collectclf.batch import ScoreOptions, score_file

model = collectclf.load()
result = collectclf.classify("再不还钱就爆你通讯录，老赖")
summary = score_file(sys.argv[1], sys.argv[2], options=ScoreOptions(jobs=1, progress=False))
frame = pd.DataFrame(json.loads(sys.argv[3]), columns=["text", "label"])
trained = collectclf.train(frame, cv=0)
print(json.dumps({"label": result.label, "read": summary.read, "classes": sorted(map(str, trained.classes_)),
                  "attempts": attempts}))
"""


def test_import_load_classify_score_and_train_work_without_network(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT, str(EXAMPLES / "sms-backup.xml"), str(tmp_path / "o.csv"), json.dumps(TINY)],
        env=_env(), capture_output=True, text=True, timeout=180,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert report["label"] == "threatening" and report["read"] == 15
    assert report["classes"] == sorted(collectclf.LABELS)


# --------------------------------------------------------------------------- hostile input files
def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _csv_file(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return path


def _case_empty(tmp: Path) -> tuple[Path, list[str], int | None]:
    return _bytes(tmp / "empty.csv", b""), [], None


def _case_header_only(tmp: Path) -> tuple[Path, list[str], int | None]:
    return _bytes(tmp / "header.csv", b"id,text\r\n"), [], 0


def _case_blank_and_none(tmp: Path) -> tuple[Path, list[str], int | None]:
    path = tmp / "blank.jsonl"
    lines = [json.dumps({"id": "ws", "text": "  \t\u3000 "}), json.dumps({"id": "none", "text": None}), json.dumps({"id": "empty", "text": ""}),
             "not json", "[1, 2]", json.dumps({"id": "ok", "text": "您的借款已逾期3天，请通过官方App还款"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, [], 6


def _case_huge(tmp: Path) -> tuple[Path, list[str], int | None]:
    path = tmp / "huge.jsonl"
    huge = "再不还钱就爆你通讯录" * 350_000  # 3.5 million characters, 10.5 MB of UTF-8
    _write_jsonl(path, [{"id": "a", "text": "晚上吃饭吗"}, {"id": "huge", "text": huge}, {"id": "b", "text": "验证码1234"}])
    return path, [], 3


def _case_nul(tmp: Path) -> tuple[Path, list[str], int | None]:
    lines = b"id,text\n" + "".join(f"{i},正常的短信内容第{i}条，请查收。\n" for i in range(30)).encode("utf-8")
    return _bytes(tmp / "nul.csv", lines + "99,再不还钱\x00就爆你通讯录\n100,\x00\n".encode()), [], 32


def _case_nul_at_start(tmp: Path) -> tuple[Path, list[str], int | None]:
    # a NUL in the first kilobytes no longer makes a text CSV "binary": it is removed and the row flagged
    return _bytes(tmp / "nul-start.csv", "id,text\n1,再不还钱\x00就爆你通讯录\n".encode()), [], 1


def _case_surrogates(tmp: Path) -> tuple[Path, list[str], int | None]:
    path = tmp / "surrogates.jsonl"
    lines = ['{"id": "1", "text": "\\ud800 lone high"}', '{"id": "2", "text": "lone low \\udfff 还款"}',
             '{"id": "3", "text": "pair \\ud83d\\ude00 ok", "sender": "\\udc80"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, [], 3


def _case_invalid_utf8(tmp: Path) -> tuple[Path, list[str], int | None]:
    data = b"id,text\n1,\xe4\xbd\xa0\xff\xfe\xe5\n2," + "正常的短信".encode() + b"\n3,abc\xc3\n"
    return _bytes(tmp / "bad-utf8.csv", data), [], 3


def _case_crlf_quotes(tmp: Path) -> tuple[Path, list[str], int | None]:
    rows = [["id", "text"], ["1", '他说"还钱"，否则\r\n后果自负'], ["2", 'a,b "c", d'], ["3", '""'], ["4", "line\nbreak"]]
    return _csv_file(tmp / "crlf.csv", rows), [], 4


def _case_truncated_xml(tmp: Path) -> tuple[Path, list[str], int | None]:
    data = (EXAMPLES / "sms-backup.xml").read_bytes()
    return _bytes(tmp / "cut.xml", data[: len(data) // 2]), [], 8  # 7 messages, then one error row


def _case_garbage_xml(tmp: Path) -> tuple[Path, list[str], int | None]:
    return _bytes(tmp / "garbage.xml", b"<smses><sms body='a' address='1' <<< ><sms body='b'/></smses>"), [], 1


def _case_truncated_sqlite(tmp: Path) -> tuple[Path, list[str], int | None]:
    data = (EXAMPLES / "mmssms.db").read_bytes()
    return _bytes(tmp / "cut.db", data[: len(data) // 2]), [], None


def _case_wrong_text_column(tmp: Path) -> tuple[Path, list[str], int | None]:
    return EXAMPLES / "messages.tsv", ["--text-column", "nope"], None


def _case_text_column_on_xml(tmp: Path) -> tuple[Path, list[str], int | None]:
    return EXAMPLES / "sms-backup.xml", ["--text-column", "body"], None


def _case_directory(tmp: Path) -> tuple[Path, list[str], int | None]:
    (tmp / "folder").mkdir()
    return tmp / "folder", [], None


CASES = {name[len("_case_"):]: case for name, case in sorted(globals().items()) if name.startswith("_case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gives_row_errors_or_one_clear_line(name, tmp_path, capsys):
    """Every case ends either in one row per input record or in a one-line error (exit 1)."""
    source, extra, expected_rows = CASES[name](tmp_path)
    out = tmp_path / "out.jsonl"
    code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--quiet", *extra])
    err = capsys.readouterr().err
    if expected_rows is None:
        _one_line_error(code, err)
        assert not out.exists()
        return
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == expected_rows
    assert f"{expected_rows} read" in err
    for row in rows:
        assert bool(row["label"]) != bool(row["error"])  # scored, or says why not
    CHECKS.get(name, lambda rows: None)(rows)


def _check_blank(rows: list[dict[str, Any]]) -> None:
    errors = [row["error"] for row in rows]
    assert errors[:3] == ["empty text", "no text", "empty text"]
    assert errors[3].startswith("invalid JSON line") and errors[4].startswith("invalid JSON line")
    assert rows[5]["label"] == "compliant"


def _check_huge(rows: list[dict[str, Any]]) -> None:
    assert [row["id"] for row in rows] == ["a", "huge", "b"]
    assert f"truncated:3500000>{MAX_CHARS}" in rows[1]["flags"] and rows[1]["label"] == "threatening"
    assert len(rows[1]["text"]) == 3_500_000  # the output keeps the whole message


def _check_nul(rows: list[dict[str, Any]]) -> None:
    assert rows[30]["text"] == "再不还钱就爆你通讯录" and rows[30]["label"] == "threatening"
    assert "nul_removed" in rows[30]["flags"].split(",")
    assert rows[31]["id"] == "100" and "nul_removed" in rows[31]["flags"]  # a NUL-only text still has its row


def _check_nul_at_start(rows: list[dict[str, Any]]) -> None:
    assert rows[0]["text"] == "再不还钱就爆你通讯录" and "nul_removed" in rows[0]["flags"].split(",")


def _check_surrogates(rows: list[dict[str, Any]]) -> None:
    assert [row["id"] for row in rows] == ["1", "2", "3"]
    assert "\ud800" not in rows[0]["text"] and rows[2]["text"] == "pair \U0001f600 ok"


def _check_invalid_utf8(rows: list[dict[str, Any]]) -> None:
    assert all("encoding=mixed" in row["flags"] for row in rows)
    assert rows[1]["text"] == "正常的短信"


def _check_crlf_quotes(rows: list[dict[str, Any]]) -> None:
    assert [row["text"] for row in rows] == ['他说"还钱"，否则\r\n后果自负', 'a,b "c", d', '""', "line\nbreak"]


def _check_truncated_xml(rows: list[dict[str, Any]]) -> None:
    assert [row["id"] for row in rows[:7]] == [str(i) for i in range(7)] and all(row["label"] for row in rows[:7])
    assert "XML parse error" in rows[7]["error"] and "truncated" in rows[7]["error"]


CHECKS = {"blank_and_none": _check_blank, "huge": _check_huge, "nul": _check_nul, "nul_at_start": _check_nul_at_start, "surrogates": _check_surrogates,
          "invalid_utf8": _check_invalid_utf8, "crlf_quotes": _check_crlf_quotes, "truncated_xml": _check_truncated_xml}


def test_csv_output_keeps_crlf_and_quotes(tmp_path, capsys):
    source, _, _ = _case_crlf_quotes(tmp_path)
    assert main(["score", str(source), "-o", str(tmp_path / "o.csv"), "--jobs", "1", "--quiet"]) == 0
    texts = [row["text"] for row in _csv_rows(tmp_path / "o.csv")]
    assert texts == ['他说"还钱"，否则\r\n后果自负', 'a,b "c", d', '""', "line\nbreak"]


@pytest.mark.parametrize("row", [{"id": "a\ud800", "text": "晚上吃饭吗"}, {"id": "b", "text": "再不还钱就爆你通\ud800讯录，老赖"}],
                         ids=["id", "evidence"])
def test_lone_surrogates_anywhere_never_lose_the_run(row, tmp_path, capsys):
    source = tmp_path / "s.jsonl"
    source.write_text(json.dumps(row) + "\n", encoding="utf-8")  # ASCII escapes keep the surrogate
    code = main(["score", str(source), "-o", str(tmp_path / "o.csv"), "--jobs", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert len(_csv_rows(tmp_path / "o.csv")) == 1


def test_one_undecodable_body_in_an_android_database_loses_no_row(tmp_path, capsys):
    database = tmp_path / "mmssms.db"
    database.write_bytes((EXAMPLES / "mmssms.db").read_bytes())
    with sqlite3.connect(database) as connection:
        (first,) = connection.execute("SELECT min(_id) FROM sms").fetchone()
        connection.execute("UPDATE sms SET body = CAST(X'E4BDA0FF' AS TEXT) WHERE _id = ?", (first + 2,))
    connection.close()
    expected = len(list(read_messages(EXAMPLES / "mmssms.db")))
    out = tmp_path / "o.jsonl"
    assert main(["score", str(database), "-o", str(out), "--jobs", "1", "--quiet"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == expected


# --------------------------------------------------------------------------- logs
def test_no_message_text_in_logs(tmp_path, caplog):
    source = tmp_path / "mixed.jsonl"
    secrets = ["秘密短信甲：再不还钱就爆你通讯录", "秘密短信乙：您的借款已逾期3天", "秘密短信丙\x00坏字符", "秘密短信丁" * 2000]
    _write_jsonl(source, [{"id": str(i), "text": text} for i, text in enumerate(secrets)] + [{"id": "x", "text": None}])
    xml_texts = [m.text for m in read_messages(EXAMPLES / "sms-backup.xml") if m.text]
    caplog.set_level(logging.DEBUG)
    score_file(EXAMPLES / "sms-backup.xml", tmp_path / "a.csv", options=ScoreOptions(jobs=1, progress=False))
    score_file(source, tmp_path / "b.jsonl", options=ScoreOptions(jobs=1, progress=False, chunk_size=2))
    logged = "\n".join(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records)
    for text in xml_texts + secrets:
        assert text[:10] not in logged
    assert "秘密短信" not in logged


# --------------------------------------------------------------------------- journal safety: model, options, restart, Ctrl-C
def _interrupted_journal(tmp_path: Path, options: ScoreOptions, model: Any = None) -> tuple[Path, Path, Path]:
    """(input, output, journal) of a run that stopped after 10 of 20 rows."""
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, _distinct_messages(20))
    full = tmp_path / "full.jsonl"
    score_file(source, full, model=model, options=options)
    out, journal = tmp_path / "out.jsonl", tmp_path / "out.jsonl.partial.jsonl"
    header = batch.journal_header(source, options, None, None, batch.model_digest(model), model_labels(model))
    lines = full.read_text(encoding="utf-8").splitlines()
    journal.write_text(json.dumps(header) + "\n" + "\n".join(lines[:10]) + "\n", encoding="utf-8")
    return source, out, journal


def test_resume_refuses_a_journal_scored_with_another_model(tmp_path, tiny_model, capsys):
    model_dir = tmp_path / "model"
    tiny_model.save(model_dir)
    source, out, journal = _interrupted_journal(tmp_path, QUIET, model=str(model_dir))
    before = journal.read_bytes()
    code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--quiet", "--resume"])  # the shipped model
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "cannot resume" in err and "different model" in err and "--restart" in err
    assert journal.read_bytes() == before and not out.exists()
    assert main(["score", str(source), "-o", str(out), "--jobs", "1", "--quiet", "--resume", "--model", str(model_dir)]) == 0


@pytest.mark.parametrize(("flag", "field"), [("--no-evidence", "no-evidence"), ("--redact", "redact"), ("--no-text", "no-text"),
                                             ("--incoming-only", "incoming-only")])
def test_resume_refuses_changed_output_options(tmp_path, capsys, flag, field):
    source, out, journal = _interrupted_journal(tmp_path, QUIET)
    code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--quiet", "--resume", flag])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert f"different options: --{field} off then, on now" in err and journal.exists()


def test_journal_header_names_model_digest_labels_and_output_options(tmp_path):
    source, _, journal = _interrupted_journal(tmp_path, ScoreOptions(jobs=1, progress=False, redact=True, evidence=False))
    header = json.loads(journal.read_text(encoding="utf-8").splitlines()[0])
    config = batch.model_digest(None)
    assert len(config) == 64 and header["model"] == {"sha256": config, "labels": model_labels(None)}
    assert header["options"] == {"no_text": False, "incoming_only": False, "redact": True, "no_evidence": True,
                                 "abstain_below": None, "tz": "Asia/Shanghai"}


def test_rerun_without_resume_keeps_the_journal_and_restart_starts_over(tmp_path, capsys):
    source, out, journal = _interrupted_journal(tmp_path, QUIET)
    before = journal.read_bytes()
    code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--quiet"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "a previous run was interrupted" in err and "use --resume to continue or --restart to start over" in err
    assert journal.read_bytes() == before and not out.exists()
    with pytest.raises(batch.PreviousRunInterrupted):
        score_file(source, out, options=QUIET)
    assert main(["score", str(source), "-o", str(out), "--quiet", "--resume", "--restart"]) == 1
    assert "--resume and --restart cannot be combined" in capsys.readouterr().err
    assert main(["score", str(source), "-o", str(out), "--jobs", "1", "--quiet", "--restart"]) == 0
    assert "20 read, 20 scored" in capsys.readouterr().err
    assert out.read_bytes() == (tmp_path / "full.jsonl").read_bytes() and not journal.exists()


def _stop_after(monkeypatch: pytest.MonkeyPatch, calls: int, error: BaseException) -> None:
    real, count = batch.score_texts, 0

    def score_texts(*args: Any) -> Any:
        nonlocal count
        count += 1
        if count > calls:
            raise error
        return real(*args)

    monkeypatch.setattr(batch, "score_texts", score_texts)


def test_ctrl_c_says_how_to_resume_and_resume_completes(tmp_path, monkeypatch, capsys):
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, _distinct_messages(20))
    full, out, journal = tmp_path / "full.csv", tmp_path / "out.csv", tmp_path / "out.csv.partial.jsonl"
    score_file(source, full, options=ScoreOptions(jobs=1, chunk_size=5, progress=False))
    with monkeypatch.context() as patch:
        _stop_after(patch, 2, KeyboardInterrupt())
        code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--chunk-size", "5", "--quiet"])
    err = capsys.readouterr().err
    assert code == 130 and err.count("\n") == 1 and "Traceback" not in err
    assert f"interrupted: 10 scored rows are kept in {journal}; rerun the same command with --resume" in err
    assert main(["score", str(source), "-o", str(out), "--jobs", "1", "--chunk-size", "5", "--quiet", "--resume"]) == 0
    assert out.read_bytes() == full.read_bytes() and not journal.exists()


def test_a_failed_run_names_its_journal_or_removes_it(tmp_path, monkeypatch, capsys):
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, _distinct_messages(20))
    out, journal = tmp_path / "out.csv", tmp_path / "out.csv.partial.jsonl"
    with monkeypatch.context() as patch:
        _stop_after(patch, 0, RuntimeError("model exploded"))
        code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--chunk-size", "5", "--quiet"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert "model exploded" in err and not journal.exists()  # nothing scored: nothing left behind
    with monkeypatch.context() as patch:
        _stop_after(patch, 2, RuntimeError("model exploded"))
        code = main(["score", str(source), "-o", str(out), "--jobs", "1", "--chunk-size", "5", "--quiet"])
    err = capsys.readouterr().err
    _one_line_error(code, err)
    assert f"model exploded; 10 scored rows are kept in {journal}" in err and "--resume" in err and journal.exists()


def test_sigint_with_workers_prints_one_line_and_no_traceback(tmp_path):
    source = tmp_path / "big.jsonl"
    _write_jsonl(source, _distinct_messages(4000))
    out, journal = tmp_path / "out.csv", tmp_path / "out.csv.partial.jsonl"
    command = [sys.executable, "-m", "collectclf", "score", str(source), "-o", str(out), "--jobs", "2", "--chunk-size", "20", "--quiet"]
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # its own process group, as a terminal's Ctrl-C reaches
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if journal.exists() and journal.read_bytes().count(b"\n") > 100:
                break
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err and "Warning" not in err, err
    assert "scored rows are kept in" in err and "--resume" in err and journal.exists()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx", ".parquet"])
def test_an_interrupted_run_resumes_to_the_same_file_in_every_format(tmp_path, monkeypatch, suffix):
    """The output is written while rows are scored; --resume rebuilds it from the journal."""
    source = EXAMPLES / "sms-backup.xml"
    full = tmp_path / f"full{suffix}"
    score_file(source, full, options=ScoreOptions(jobs=1, chunk_size=4, progress=False))
    out = tmp_path / f"out{suffix}"
    with monkeypatch.context() as patch:
        _fill_disk_after(patch, 6)
        with pytest.raises(OSError, match="--resume"):
            score_file(source, out, options=ScoreOptions(jobs=1, chunk_size=4, progress=False))
    assert not out.exists() and not out.with_name(out.name + ".tmp").exists()
    score_file(source, out, options=ScoreOptions(jobs=1, chunk_size=4, progress=False, resume=True))
    assert not out.with_name(out.name + ".tmp").exists() and not out.with_name(out.name + ".partial.jsonl").exists()
    if suffix in (".csv", ".jsonl"):
        assert out.read_bytes() == full.read_bytes()
    else:
        import pandas as pd

        read = pd.read_excel if suffix == ".xlsx" else pd.read_parquet
        pd.testing.assert_frame_equal(read(out), read(full))
