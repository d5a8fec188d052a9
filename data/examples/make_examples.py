"""Write one small, made-up example export per supported format (run from anywhere).

Every message, number and name here is invented by the project. The same 14 messages appear in
each format so the tests can compare readers; the XML also carries an MMS, surrogate-pair emoji
references and a control-character reference, as real SMS Backup & Restore files do.
"""

from __future__ import annotations

import csv
import json
import quopri
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).resolve().parent
CHINA = timezone(timedelta(hours=8))

# (sender, local time, direction, text)
MESSAGES = [
    ("10690000001", "2026-03-02 09:15:00", "in", "【示例消费金融】尊敬的客户，您的本期账单1,280.00元将于03月05日到期，请通过官方App按时还款。如已还款请忽略。"),
    ("10690000001", "2026-03-06 10:02:00", "in", "【示例消费金融】您的借款已逾期1天，欠款1,280.00元，请尽快登录官方App还款，如有困难可申请分期，客服95000。"),
    ("+8613900000000", "2026-03-06 12:30:00", "out", "好的，我这周五发工资就还。"),
    ("10690000002", "2026-03-09 08:01:00", "in", "您的验证码为 482913，5分钟内有效，请勿告诉他人。"),
    ("+8617100000000", "2026-03-12 23:40:00", "in", "最后通牒：今天18点前必须全额还清，否则明天我们外访人员直接去你单位核实情况。"),
    ("+8617100000000", "2026-03-12 23:55:00", "in", "再不还钱就把你欠钱不还的事发到你通讯录每个人，让你全家都知道你是老赖，后果自负！"),
    ("+8617100000000", "2026-03-13 00:20:00", "in", "第3次通知：你的案件已转交法务部，准备材料起诉。"),
    ("+8617100000000", "2026-03-13 07:10:00", "in", "你女儿在实验小学三年级吧？出门小心点。"),
    ("+8616500000000", "2026-03-14 14:00:00", "in", "【金融监管总局】您名下的校园贷账户未注销，将影响征信，请添加专员微信zx-1234，转账500元手续费办理注销。"),
    ("10690000003", "2026-03-15 11:11:00", "in", "【示例快递】您的包裹已到丰巢柜，取件码 8812，请及时领取。"),
    ("+8613900000000", "2026-03-15 18:45:00", "in", "晚上一起吃饭吗？老地方见😊"),
    ("+8616500000001", "2026-03-16 09:30:00", "in", "法院已立案，加微信xx私下和解，交2000元撤诉费即可撤销案件，否则明天强制执行。"),
    ("10690000004", "2026-03-17 10:00:00", "in", "貴戶您好，您的信用卡帳款已逾期未繳，敬請儘速繳款，如已繳款請忽略，謝謝。"),
    ("10690000002", "2026-03-18 16:20:00", "in", "恭喜您获得50000元借款额度，点击 t.cn/AbCd12 立即领取，回T退订。"),
]


def epoch_ms(local: str) -> int:
    return int(datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).timestamp() * 1000)


def write_xml(path: Path) -> None:
    lines = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>", "<!--File Created By SMS Backup & Restore v10.20.002-->",
             f'<smses count="{len(MESSAGES) + 1}" backup_set="00000000-0000-4000-8000-000000000000" backup_date="1774000000000" type="full">']
    for sender, local, direction, text in MESSAGES:
        body = quoteattr(text).replace("😊", "&#55357;&#56842;")
        kind = "1" if direction == "in" else "2"
        lines.append(f'  <sms protocol="0" address="{sender}" date="{epoch_ms(local)}" type="{kind}" subject="null" body={body} '
                     f'toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" date_sent="0" '
                     f'readable_date="{local}" contact_name="(Unknown)" />')
    lines.append(f'  <mms date="{epoch_ms("2026-03-19 20:00:00")}" date_sent="1773921599" msg_box="1" address="+8617100000000" '
                 'm_type="132" text_only="1" read="1" sub="null" contact_name="(Unknown)"><parts>'
                 '<part seq="-1" ct="application/smil" text="&lt;smil/&gt;" />'
                 '<part seq="0" ct="text/plain" chset="106" text="明天上午我们的同事会去你家里&#1;拜访，" />'
                 '<part seq="1" ct="text/plain" chset="106" text="请在家等候。" /></parts>'
                 '<addrs><addr address="+8617100000000" type="137" charset="106" />'
                 '<addr address="insert-address-token" type="151" charset="106" /></addrs></mms>')
    lines.append("</smses>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_android_db(path: Path) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript("""
        CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER,
          date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER,
          reply_path_present INTEGER, subject TEXT, body TEXT, service_center TEXT, locked INTEGER DEFAULT 0,
          sub_id INTEGER DEFAULT -1, error_code INTEGER DEFAULT -1, creator TEXT, seen INTEGER DEFAULT 0);
        CREATE TABLE pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0,
          msg_box INTEGER, read INTEGER DEFAULT 0, sub TEXT, sub_cs INTEGER, ct_t TEXT, m_type INTEGER, text_only INTEGER DEFAULT 0);
        CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, chset INTEGER, cl TEXT, _data TEXT, text TEXT);
        CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, contact_id INTEGER, address TEXT, type INTEGER, charset INTEGER);
        """)
        db.executemany("INSERT INTO sms (thread_id, address, date, type, body, read) VALUES (1, ?, ?, ?, ?, 1)",
                       [(s, epoch_ms(t), 1 if d == "in" else 2, x) for s, t, d, x in MESSAGES])
        db.execute("INSERT INTO pdu (_id, thread_id, date, msg_box, m_type, text_only) VALUES (1, 2, ?, 1, 132, 1)",
                   (epoch_ms("2026-03-19 20:00:00") // 1000,))
        db.executemany("INSERT INTO part (mid, seq, ct, chset, text) VALUES (1, ?, ?, 106, ?)",
                       [(-1, "application/smil", "<smil/>"), (1, "text/plain", "请在家等候。"), (0, "text/plain", "明天上午我们的同事会去你家里拜访，")])
        db.execute("INSERT INTO addr (msg_id, address, type, charset) VALUES (1, '+8617100000000', 137, 106)")


def write_huawei_db(path: Path) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sms_tb (group_id INTEGER, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER, "
                   "type INTEGER, body TEXT, read INTEGER, sub_id INTEGER, time_body TEXT, addr_body TEXT, network_type INTEGER)")
        db.executemany("INSERT INTO sms_tb (group_id, thread_id, address, date, type, body, read) VALUES (0, 1, ?, ?, ?, ?, 1)",
                       [(s, epoch_ms(t), 1 if d == "in" else 2, x) for s, t, d, x in MESSAGES])


def write_ios_db(path: Path) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript("""
        CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL,
          uncanonicalized_id TEXT, person_centric_id TEXT);
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, handle_id INTEGER DEFAULT 0,
          service TEXT, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_from_me INTEGER DEFAULT 0, attributedBody BLOB,
          associated_message_type INTEGER DEFAULT 0, item_type INTEGER DEFAULT 0, cache_roomnames TEXT);
        CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER, message_date INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
        """)
        senders = sorted({s for s, _, _, _ in MESSAGES})
        db.executemany("INSERT INTO handle (id, country, service) VALUES (?, 'cn', 'SMS')", [(s,) for s in senders])
        for i, (sender, local, direction, text) in enumerate(MESSAGES):
            ns = (epoch_ms(local) // 1000 - 978307200) * 1_000_000_000
            handle = senders.index(sender) + 1
            if i == 1:  # text only in attributedBody, as on iOS 16+
                encoded = text.encode("utf-8")
                blob = b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92" \
                       b"\x84\x84\x84\x08NSString\x01\x94\x84\x01\x2b\x81" + len(encoded).to_bytes(2, "little") + encoded + b"\x86\x84"
                db.execute("INSERT INTO message (guid, text, handle_id, service, date, is_from_me, attributedBody) VALUES (?, NULL, ?, 'SMS', ?, ?, ?)",
                           (f"G{i}", handle, ns, int(direction == "out"), blob))
            else:
                db.execute("INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES (?, ?, ?, 'SMS', ?, ?)",
                           (f"G{i}", text, handle, ns, int(direction == "out")))


def write_vmsg(path: Path) -> None:
    blocks = []
    for sender, local, direction, text in MESSAGES:
        encoded = quopri.encodestring(text.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
        blocks.append("\r\n".join([
            "BEGIN:VMSG", "VERSION:1.1", "BEGIN:VCARD", f"TEL:{sender}", "END:VCARD", "BEGIN:VBODY",
            f"X-BOX:{'INBOX' if direction == 'in' else 'SENDBOX'}", "X-READ:READ", "X-SIMID:0", "X-LOCKED:UNLOCKED", "X-TYPE:SMS",
            f"Date:{local.replace('-', '/')}", f"Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:{encoded}", "END:VBODY", "END:VMSG"]))
    path.write_bytes(("\r\n".join(blocks) + "\r\n").encode("ascii"))


def table_rows() -> list[dict[str, str]]:
    return [{"号码": s, "时间": t, "类型": "接收" if d == "in" else "发送", "内容": x} for s, t, d, x in MESSAGES]


def write_tables() -> None:
    rows = table_rows()
    for name, encoding in (("messages_utf8bom.csv", "utf-8-sig"), ("messages_gbk.csv", "gb18030")):
        with open(HERE / name, "w", encoding=encoding, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: v.replace("😊", "") if encoding == "gb18030" else v for k, v in row.items()})
    with open(HERE / "messages.tsv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["sender", "timestamp", "direction", "body"])
        for s, t, d, x in MESSAGES:
            writer.writerow([s, t, d, x])
    with open(HERE / "messages.jsonl", "w", encoding="utf-8") as handle:
        for i, (s, t, d, x) in enumerate(MESSAGES):
            handle.write(json.dumps({"id": str(i + 1), "address": s, "timestamp": epoch_ms(t), "direction": d, "text": x},
                                    ensure_ascii=False) + "\n")
    import openpyxl
    import pandas as pd

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["号码", "时间", "类型", "短信内容"])
    for s, t, d, x in MESSAGES:
        sheet.append([s, t, "接收" if d == "in" else "发送", x])
    workbook.save(HERE / "messages.xlsx")
    frame = pd.DataFrame([{"sender": s, "timestamp": t, "direction": d, "content": x} for s, t, d, x in MESSAGES])
    frame.to_parquet(HERE / "messages.parquet", index=False)


def main() -> None:
    write_xml(HERE / "sms-backup.xml")
    write_android_db(HERE / "mmssms.db")
    write_huawei_db(HERE / "huawei_sms.db")
    write_ios_db(HERE / "ios_sms.db")
    write_vmsg(HERE / "sms.vmsg")
    write_tables()


if __name__ == "__main__":
    main()
