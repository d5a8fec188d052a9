"""The command line, called in-process through main()."""

from __future__ import annotations

import io
import json

import pytest

from collectclf.cli import main

from .conftest import EXAMPLES


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "labels:" in out and "scikit-learn" in out


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    assert "labels" in json.loads(capsys.readouterr().out)


def test_explain_plain_and_json(capsys):
    assert main(["explain", "再不还钱就爆你通讯录，老赖"]) == 0
    out = capsys.readouterr().out
    assert "label: threatening" in out and "[" in out
    assert main(["explain", "--json", "再不还钱就爆你通讯录，老赖"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["label"] == "threatening" and data["evidence"]


def test_score_writes_output_and_a_summary_line(tmp_path, capsys):
    out = tmp_path / "o.csv"
    assert main(["score", str(EXAMPLES / "messages_gbk.csv"), "-o", str(out), "--jobs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "14 read, 14 scored, 0 errored" in err and out.exists()


def test_errors_are_one_line_with_a_non_zero_exit(tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing.xml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("collectclf: error:") and "Traceback" not in err and err.count("\n") == 1
    assert main(["score", str(EXAMPLES / "messages.tsv"), "--text-column", "nope", "-o", str(tmp_path / "x.csv")]) == 1
    assert "not found" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2


def test_score_no_evidence_flag(tmp_path):
    import csv

    out = tmp_path / "o.csv"
    assert main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(out), "--jobs", "1", "--quiet", "--no-evidence"]) == 0
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["evidence"] == "" for row in rows) and any(row["label"] != "unrelated" for row in rows)


def test_dask_mode_refuses_options_it_would_ignore(tmp_path, capsys):
    code = main(["score", str(EXAMPLES / "messages_utf8bom.csv"), "--dask", "--resume", "--redact"])
    assert code == 1
    err = capsys.readouterr().err
    assert "--resume, --redact cannot be combined with --dask" in err and len(err.strip().splitlines()) == 1


def test_score_tz_option_and_xlsx_output(tmp_path, capsys):
    out = tmp_path / "o.xlsx"
    assert main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(out), "--jobs", "1", "--quiet", "--tz", "UTC"]) == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][2:4] == ("timestamp", "local_time") and len(rows) == 16
    assert all(r[3].endswith("+00:00") for r in rows[1:] if r[3])
    assert main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(tmp_path / "x.csv"), "--tz", "Nowhere/City"]) == 1
    assert "unknown time zone 'Nowhere/City'" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--jobs", "0", "argument --jobs: must be 1 or more, got 0"),
    ("--jobs", "-2", "argument --jobs: must be 1 or more, got -2"),
    ("--jobs", "two", "argument --jobs: expected a whole number of 1 or more, got 'two'"),
    ("--chunk-size", "0", "argument --chunk-size: must be 1 or more, got 0"),
    ("--abstain-below", "0", "argument --abstain-below: must be above 0 and at most 1, got 0"),
    ("--abstain-below", "1.5", "argument --abstain-below: must be above 0 and at most 1, got 1.5"),
    ("--abstain-below", "-0.1", "argument --abstain-below: must be above 0 and at most 1, got -0.1"),
    ("--format", "docx", "argument --format: invalid choice: 'docx'"),
])
def test_score_refuses_bad_option_values_in_one_line(tmp_path, capsys, option, value, message):
    with pytest.raises(SystemExit) as stop:
        main(["score", str(EXAMPLES / "sms-backup.xml"), "-o", str(tmp_path / "o.csv"), f"{option}={value}"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("collectclf score: error: ") and message in err, err
    assert not (tmp_path / "o.csv").exists()


def test_explain_refuses_an_abstain_threshold_outside_0_1(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["explain", "--abstain-below", "2", "逾期"])
    assert stop.value.code == 2 and "must be above 0 and at most 1" in capsys.readouterr().err


def test_abstain_below_one_is_accepted(capsys):
    assert main(["explain", "--json", "--abstain-below", "1", "您的借款已逾期3天，请通过官方App还款"]) == 0


def test_format_help_lists_the_choices(capsys):
    from collectclf.exports import FORMATS

    for command in ("score", "report"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert all(name in out for name in FORMATS) and "xml, android-db" in out, out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_explain_without_text_on_a_terminal_prints_usage_instead_of_waiting(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    assert main(["explain"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: collectclf explain") and "give the message text as an argument or on stdin" in err


@pytest.mark.parametrize(("argv", "stdin"), [(["explain", ""], ""), (["explain", "   "], ""), (["explain"], ""),
                                             (["explain"], "\n  \n"), (["explain", "--json", "逾期", ""], "")])
def test_explain_empty_text_says_so_in_one_line(monkeypatch, capsys, argv, stdin):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == "collectclf: error: empty text: nothing to classify\n" and captured.out == ""


def test_explain_reads_one_message_per_stdin_line(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("再不还钱就爆你通讯录，老赖\n\n您的借款已逾期3天，请通过官方App还款\n"))
    assert main(["explain", "--json"]) == 0
    assert [r["label"] for r in json.loads(capsys.readouterr().out)] == ["threatening", "compliant"]


# --------------------------------------------------------------------------- integrity: sheets, unknown direction
@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A model saved by this checkout, so these tests do not need the shipped model."""
    from collectclf import Classifier

    from .conftest import TINY

    path = tmp_path_factory.mktemp("tiny") / "model"
    Classifier(calibration_cv=3, min_df=1).fit([t for t, _ in TINY], [label for _, label in TINY]).save(path)
    return str(path)


def _book(path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "封面"
    book.active.append(["催收短信证据汇总"])
    for name, texts in (("三月", ["再不还钱就爆你通讯录，老赖", "晚上一起吃饭吗？"]), ("四月", ["您的验证码是4821，请勿告诉他人。"])):
        sheet = book.create_sheet(name)
        sheet.append(["号码", "内容"])
        for text in texts:
            sheet.append(["13900000000", text])
    book.save(path)
    return path


def _jsonl_rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_score_reads_every_sheet_or_the_one_named_with_sheet(tmp_path, capsys, caplog, tiny_model_dir):
    book = _book(tmp_path / "book.xlsx")
    out = tmp_path / "all.jsonl"
    with caplog.at_level("WARNING"):  # the note goes to stderr through logging's last-resort handler
        assert main(["score", str(book), "-o", str(out), "--jobs", "1", "--quiet", "--model", tiny_model_dir]) == 0
    assert "3 read, 3 scored" in capsys.readouterr().err
    assert "sheet '封面' skipped: no text column" in caplog.text
    assert [row["id"] for row in _jsonl_rows(out)] == ["三月!0", "三月!1", "四月!0"]
    out = tmp_path / "one.jsonl"
    assert main(["score", str(book), "-o", str(out), "--jobs", "1", "--quiet", "--model", tiny_model_dir, "--sheet", "四月"]) == 0
    assert "1 read, 1 scored" in capsys.readouterr().err
    assert [row["text"] for row in _jsonl_rows(out)] == ["您的验证码是4821，请勿告诉他人。"]
    assert json.loads((tmp_path / "one.jsonl").read_text(encoding="utf-8").splitlines()[0])["id"] == "0"


@pytest.mark.parametrize("extra, message", [
    (["--sheet", "五月"], "no sheet named '五月'"),
    (["--sheet", "四月", "--format", "csv"], "--sheet applies to XLSX workbooks"),
    (["--sheet", "四月", "--dask"], "--sheet cannot be combined with --dask"),
])
def test_sheet_errors_are_one_line(tmp_path, capsys, extra, message, tiny_model_dir):
    book = _book(tmp_path / "book.xlsx")
    model = [] if "--dask" in extra else ["--model", tiny_model_dir]
    assert main(["score", str(book), "-o", str(tmp_path / "o.csv"), "--jobs", "1", "--quiet", *model, *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_incoming_only_counts_an_unknown_direction_as_incoming():
    from collectclf.batch import ScoreOptions, _prepare
    from collectclf.exports import Message

    options = ScoreOptions(incoming_only=True)
    assert _prepare(Message("1", "再不还钱", direction="other"), options) == ("再不还钱", [], None)
    assert _prepare(Message("2", "收到", direction="out"), options) == (None, ["not_scored:direction=out"], None)


def test_incoming_only_on_a_table_without_direction_scores_it_and_says_so(tmp_path, capsys, tiny_model_dir):
    table = tmp_path / "t.csv"
    table.write_text("号码,内容\n13900000000,再不还钱就爆你通讯录，老赖\n10690000001,您的验证码是4821，请勿告诉他人。\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert main(["score", str(table), "-o", str(out), "--jobs", "1", "--quiet", "--incoming-only", "--model", tiny_model_dir]) == 0
    err = capsys.readouterr().err
    assert "2 read, 2 scored" in err and "unknown direction were scored as incoming" in err
    assert all(row["label"] for row in _jsonl_rows(out))
