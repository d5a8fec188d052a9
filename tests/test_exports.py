"""Readers: every example export reads to the same messages; bad inputs are explained, not mis-read."""

from __future__ import annotations

import json
import sqlite3

import pytest

from collectclf.exports import UnreadableInput, detect_format, parse_time, read_messages, repair_xml_references

from .conftest import EXAMPLES

EXPECTED = {
    "sms-backup.xml": ("xml", 15),
    "mmssms.db": ("android-db", 15),
    "huawei_sms.db": ("android-db", 14),
    "ios_sms.db": ("ios-db", 14),
    "sms.vmsg": ("vmsg", 14),
    "messages_utf8bom.csv": ("csv", 14),
    "messages_gbk.csv": ("csv", 14),
    "messages.tsv": ("tsv", 14),
    "messages.xlsx": ("xlsx", 14),
    "messages.jsonl": ("jsonl", 14),
    "messages.parquet": ("parquet", 14),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_reads_completely(name):
    fmt, count = EXPECTED[name]
    path = EXAMPLES / name
    assert detect_format(path) == fmt
    messages = list(read_messages(path))
    assert len(messages) == count
    assert [m.position for m in messages] == list(range(count))
    first, second, third = messages[:3]
    assert first.text.startswith("【示例消费金融】尊敬的客户")
    assert second.text.startswith("【示例消费金融】您的借款已逾期1天")  # iOS: from attributedBody
    assert first.sender == "10690000001" and first.direction == "in" and third.direction == "out"
    assert first.timestamp == "2026-03-02T01:15:00Z"  # 09:15 in China is 01:15 UTC
    assert all(m.error is None for m in messages)


def test_xml_repairs_surrogate_pairs_and_control_refs_and_reads_mms():
    messages = list(read_messages(EXAMPLES / "sms-backup.xml"))
    assert messages[10].text.endswith("😊")
    mms = messages[-1]
    assert mms.flags == "mms" and mms.text == "明天上午我们的同事会去你家里拜访，请在家等候。"
    assert mms.sender == "+8617100000000" and mms.timestamp == "2026-03-19T12:00:00Z"


def test_mms_parts_join_in_seq_order_from_the_database():
    mms = list(read_messages(EXAMPLES / "mmssms.db"))[-1]
    assert mms.text == "明天上午我们的同事会去你家里拜访，请在家等候。"


def test_gbk_and_utf8_csv_read_identically():
    gbk = [(m.text, m.sender, m.timestamp, m.direction) for m in read_messages(EXAMPLES / "messages_gbk.csv")]
    utf8 = [(m.text.replace("😊", ""), m.sender, m.timestamp, m.direction) for m in read_messages(EXAMPLES / "messages_utf8bom.csv")]
    assert gbk == utf8


def test_repair_xml_references():
    assert repair_xml_references("好的&#55357;&#56842;") == "好的😊"
    assert repair_xml_references("a&#1;b&#x1F;c&#10;") == "abc&#10;"


def test_truncated_xml_keeps_what_was_read_and_reports_the_rest(tmp_path):
    text = (EXAMPLES / "sms-backup.xml").read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    second = text.index("<sms ", text.index("<sms ") + 10)
    cut.write_text(text[: second + 40], encoding="utf-8")
    messages = list(read_messages(cut))
    assert messages[0].error is None and messages[0].text
    assert messages[-1].error and "truncated or malformed" in messages[-1].error


def test_mixed_encodings_in_one_csv_are_repaired_per_field(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"text\n" + "您好，请还款\n".encode() + "逾期通知\n".encode("gb18030"))
    texts = [m.text for m in read_messages(path)]
    assert texts == ["您好，请还款", "逾期通知"]


def test_csv_quotes_and_newlines_inside_fields(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes('内容,号码\r\n"第一行\r\n第二行, 有""引号""",10690000001\r\n'.encode())
    (message,) = read_messages(path)
    assert message.text == '第一行\r\n第二行, 有"引号"' and message.sender == "10690000001"


def test_wrong_text_column_is_explained():
    with pytest.raises(UnreadableInput, match="not found"):
        list(read_messages(EXAMPLES / "messages_utf8bom.csv", text_column="nope"))


def test_unknown_binary_and_containers_are_explained(tmp_path):
    cases = {
        "x.bin": b"\x00\x01\x02garbage" * 100,
        "backup.ab": b"ANDROID BACKUP\n5\n1\nAES-256\n" + b"\x00" * 10,
        "empty.csv": b"",
        "a.zip": b"PK\x03\x04" + b"\x00" * 50,
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(UnreadableInput):
            detect_format(path)


def test_truncated_sqlite_is_explained(tmp_path):
    data = (EXAMPLES / "mmssms.db").read_bytes()
    path = tmp_path / "cut.db"
    path.write_bytes(data[:1500])
    with pytest.raises(UnreadableInput):
        list(read_messages(path))


def test_sqlite_is_opened_read_only(tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes((EXAMPLES / "mmssms.db").read_bytes())
    before = path.read_bytes()
    list(read_messages(path))
    assert path.read_bytes() == before
    with sqlite3.connect(path) as db:
        assert db.execute("select count(*) from sms").fetchone()[0] == 14


@pytest.mark.parametrize(
    "value, expected",
    [
        (1714527000000, "2024-05-01T01:30:00Z"),
        ("1714527000", "2024-05-01T01:30:00Z"),
        ("2024-05-01 09:30:00", "2024-05-01T01:30:00Z"),
        ("2024年5月1日 上午9:30:00", "2024-05-01T01:30:00Z"),
        ("2024年5月1日 下午9:30:00", "2024-05-01T13:30:00Z"),
        ("2015-09-06T20:47:01Z", "2015-09-06T20:47:01Z"),
        ("null", None),
        ("2.34807E+12", None),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


# --------------------------------------------------------------------------- integrity: NUL, huge fields, sheets
def test_a_stray_nul_byte_in_a_text_csv_is_removed_and_flagged(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes("id,text\n1,再不还钱\x00就爆你通讯录\n2,正常的短信\n".encode())
    assert detect_format(path) == "csv"
    first, second = read_messages(path)
    assert first.text == "再不还钱就爆你通讯录" and "nul_removed" in first.flags.split(",")
    assert second.text == "正常的短信" and "nul_removed" not in second.flags


@pytest.mark.parametrize("magic, kind", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Excel"),
    (b"\x1f\x8b\x08\x00", "gzip"),
    (b"%PDF-1.7\n", "PDF"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
])
def test_binary_containers_are_named_by_their_magic_bytes(tmp_path, magic, kind):
    path = tmp_path / "export.csv"
    path.write_bytes(magic + b"text,label\n" * 20)
    with pytest.raises(UnreadableInput, match=kind):
        detect_format(path)


def test_a_csv_field_over_the_csv_module_limit_is_read_and_truncated_for_scoring_like_jsonl(tmp_path):
    from collectclf.batch import MAX_CHARS, ScoreOptions, _prepare

    huge = "再不还钱就爆你通讯录" * 20_000  # 200,000 characters, over csv's default 131,072
    path = tmp_path / "huge.csv"
    path.write_text(f"id,text\na,晚上吃饭吗\nhuge,{huge}\nb,验证码1234\n", encoding="utf-8")
    jsonl = tmp_path / "huge.jsonl"
    jsonl.write_text("\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False)
                               for i, t in (("a", "晚上吃饭吗"), ("huge", huge), ("b", "验证码1234"))) + "\n", encoding="utf-8")
    from_csv, from_jsonl = list(read_messages(path)), list(read_messages(jsonl))
    assert [m.id for m in from_csv] == ["a", "huge", "b"] and from_csv[1].text == huge
    options = ScoreOptions(jobs=1, progress=False)
    (text, flags, error), (jtext, jflags, _) = _prepare(from_csv[1], options), _prepare(from_jsonl[1], options)
    assert error is None and text == jtext == huge[:MAX_CHARS]
    assert flags == jflags == [f"truncated:{len(huge)}>{MAX_CHARS}"]


def _workbook(path, sheets):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_every_sheet_with_a_text_column_is_read_and_a_cover_sheet_is_skipped_with_a_note(tmp_path, caplog):
    path = _workbook(tmp_path / "book.xlsx", {
        "封面": [["催收短信证据汇总"], ["整理人：某某"]],
        "三月": [["号码", "内容"], ["10690000001", "您的账单已出"], ["13900000000", "再不还钱就爆你通讯录"]],
        "四月": [["号码", "内容"], ["10690000002", "验证码1234"]],
    })
    with caplog.at_level("WARNING"):
        messages = list(read_messages(path))
    assert [m.text for m in messages] == ["您的账单已出", "再不还钱就爆你通讯录", "验证码1234"]
    assert [m.id for m in messages] == ["三月!0", "三月!1", "四月!0"]
    assert [m.source for m in messages] == ["xlsx:三月", "xlsx:三月", "xlsx:四月"]
    assert [m.position for m in messages] == [0, 1, 2]
    assert "sheet '封面' skipped: no text column" in caplog.text and "催收短信证据汇总" not in caplog.text
    (only,) = read_messages(path, sheet="四月")
    assert only.text == "验证码1234" and only.id == "0"
    assert [m.text for m in read_messages(path, fmt="xlsx:四月")] == ["验证码1234"]
    with pytest.raises(UnreadableInput, match="no sheet named '五月'.*三月"):
        list(read_messages(path, sheet="五月"))
    with pytest.raises(UnreadableInput, match="no text column"):
        list(read_messages(path, sheet="封面"))
    with pytest.raises(UnreadableInput, match="XLSX"):
        list(read_messages(EXAMPLES / "messages_utf8bom.csv", sheet="四月"))


def test_a_workbook_without_any_text_column_is_explained(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", {"a": [["x", "y"], [1, 2]], "b": [["z"], [3]]})
    with pytest.raises(UnreadableInput, match="no sheet has a text column"):
        list(read_messages(path))
