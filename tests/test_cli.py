"""The command line, called in-process through main()."""

from __future__ import annotations

import json

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
