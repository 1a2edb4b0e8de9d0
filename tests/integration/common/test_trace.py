"""Trace (jobs/common/trace.py, `python -m tools.cli trace`) over a ledger the real pipeline wrote, on SQLite and PostgreSQL:
a record extracted, validated, routed, delivered (local-folder drops and fake receivers), corrected by the platform (its
work orders' version 2, delivered in a new batch), answered in a result file (one good row, one bad), unanswered on another
channel until overdue; a quarantined record with its rules; the records of one YCYWH; a remote package from collection to
its e-certificate by BWID. Each trail has every step in order, and no ID number or phone in clear."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.ledger import utcnow
from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.collect_results import collect_results, result_feeds
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.remind_overdue import remind_run
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.common.trace import EVENT_COLUMNS, trace
from jobs.registry.form_intake import current_registry
from simulators.platform_db import EXCHANGE_TABLE, PlatformDB
from tests.integration.pipeline import AS_OF, routed_ledger
from tools.cli import main
from transforms.cohandling.annex1 import FIELD_CODES

DAY2 = AS_OF + timedelta(days=1)
NEW_PHONE = "13900001111"
_CLEAR_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_CLEAR_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _platform_rows(tmp_path: Path) -> pd.DataFrame:
    platform = PlatformDB(f"sqlite:///{tmp_path / 'platform.db'}")
    with platform.engine.connect() as conn:
        rows = pd.read_sql(sa.text(f"SELECT * FROM {EXCHANGE_TABLE} ORDER BY CHANGE_SEQ"), conn)
    platform.engine.dispose()
    return rows


def _correct(tmp_path: Path, rowguid: str, **change) -> None:
    """The platform corrects the record (OP U): `change` the fields it changes."""
    rows = _platform_rows(tmp_path)
    frame = rows[rows["ROWGUID"] == rowguid].drop_duplicates("ROWGUID", keep="last")[list(FIELD_CODES)].copy()
    frame.insert(0, "OP", "U")
    for field, value in change.items():
        frame[field] = value
    frame["defect"], frame["defect_field"], frame["oddity"] = "", "", ""
    platform = PlatformDB(f"sqlite:///{tmp_path / 'platform.db'}")
    platform.write(frame)
    platform.engine.dispose()


def _assert_line_holds(root: Path, evidence: str, key: str) -> None:
    """The batch file and line the trail names hold the work order (its GDBH, the first column) — read as the institution reads it."""
    found = re.search(r"文件 (\S+\.(xlsx|csv|jsonl)) 第 (\d+) 行", evidence)
    assert found, evidence
    name, kind, line = found.group(1), found.group(2), int(found.group(3))
    path = next(root.rglob(name))
    if kind == "xlsx":
        from openpyxl import load_workbook

        assert load_workbook(path, read_only=True).active.cell(row=line, column=1).value == key
    else:
        data = path.read_bytes()
        try:
            lines = data.decode("utf-8-sig").splitlines()
        except UnicodeDecodeError:  # csv_gb18030
            lines = data.decode("gb18030").splitlines()
        assert key in lines[line - 1][: len(key) + 12], lines[line - 1]


def _assert_masked(events: pd.DataFrame, ycywh: str) -> None:
    """No ID number or phone in clear; the platform's business number (18 digits, not personal data) is, as YCYWH=…."""
    text = "\n".join(events["what"]) + "\n" + "\n".join(events["evidence"])
    assert f"YCYWH={ycywh}" in text
    text = text.replace(ycywh, "")
    assert not _CLEAR_ID.search(text), _CLEAR_ID.search(text).group(0)
    assert not _CLEAR_PHONE.search(text), _CLEAR_PHONE.search(text).group(0)
    assert NEW_PHONE not in text and NEW_PHONE[:3] + "****" + NEW_PHONE[-4:] in text


def test_a_record_corrected_delivered_answered_and_overdue_has_its_whole_trail(db_urls, tmp_path, capsys):
    _, ledger_url = db_urls
    ledger = routed_ledger(ledger_url, tmp_path, rows=120, seed=62)
    drops, made = LocalDrops(tmp_path / "drops"), {}

    def receiver_for(channel, destination):
        return made.setdefault(destination, FakeReceiver(destination))

    try:
        deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=receiver_for)
        by_guid: dict[str, dict[str, dict]] = {}
        for w in ledger.cohandling.work_orders():
            by_guid.setdefault(w["rowguid"], {})[w["utility"]] = w
        guid = next(g for g, orders in sorted(by_guid.items())
                    if any(w["channel"] == "account" and w["status"] == "delivered" for w in orders.values())
                    and any(w["channel"] != "account" and w["status"] == "delivered" for w in orders.values()))
        account = next(w for w in by_guid[guid].values() if w["channel"] == "account" and w["status"] == "delivered")
        other = next(w for w in by_guid[guid].values() if w["channel"] != "account" and w["status"] == "delivered")

        # Day 2: the platform corrects the record (the buyer's phone); version 2 of its work orders goes out in a new batch. Another
        # record's correction no longer asks for water: its delivered water order is cancelled at the institution.
        _correct(tmp_path, guid, ZRFLXDH=NEW_PHONE)
        dropped = next(g for g, orders in sorted(by_guid.items()) if g != guid and orders.get("water", {}).get("status") == "delivered"
                       and orders["water"]["channel"] == "account" and sum(w["status"] == "delivered" for w in orders.values()) >= 2)
        _correct(tmp_path, dropped, YSHH=None, GSJGBM=None, GSJGMC=None)
        extract_changes(RecordSource(f"sqlite:///{tmp_path / 'platform.db'}"), ledger, run_id="r2")
        validate_run(ledger, run_id="r2", as_of=DAY2, registry=current_registry(ledger, DAY2), out_dir=tmp_path / "out2", data_docs=False)
        route_run(ledger, run_id="r2", as_of=DAY2)
        deliver_run(ledger, run_id="r2", day=DAY2, drops=drops, receiver_for=receiver_for)
        v2 = {(d["utility"], d["version"]): d for d in ledger.cohandling.deliveries() if d["rowguid"] == guid}
        assert (account["utility"], 2) in v2 and v2[(account["utility"], 2)]["status"] == "delivered"

        # The institution answers version 2 in a result file (done), with one bad row about the record; the other channel never answers.
        local_now = utcnow() + timedelta(hours=8)
        handled = (local_now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
        rows = [f"{guid}:{account['utility']}:2,0000,,{handled},李娜", f"{guid}:{account['utility']}:2,9999,,{handled},李娜"]
        drops.put_result(account["destination"], "result_1.csv", ("GDBH,JGDM,JGSM,BLSJ,BLR\n" + "\n".join(rows) + "\n").encode(),
                         mtime=time.time() - 3600)
        collected = collect_results(ledger, as_of=local_now + timedelta(hours=1), drops=drops,
                                    feeds=result_feeds(ledger, SimpleNamespace(receiver_for=receiver_for)), run_id="c1")
        assert collected.files == 1 and collected.results >= 1 and collected.exceptions == 1

        as_of = (local_now + timedelta(days=21)).replace(microsecond=0)
        # the weekly reminder (催办) three weeks on names the overdue order
        remind_run(ledger, run_id="w1", as_of=as_of, county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for)
        found = trace(ledger, guid, as_of=as_of)
        quarantined = ledger.quarantine()
        q_guid = next(g for g in quarantined["rowguid"] if g not in by_guid)
        q_trace = trace(ledger, q_guid, as_of=as_of)
        platform_rows = _platform_rows(tmp_path)
        ycywh = platform_rows.loc[platform_rows["ROWGUID"] == guid, "YCYWH"].iloc[-1]
        buyers = [n for n in platform_rows.loc[platform_rows["ROWGUID"] == guid, "ZRFXM"].dropna() if len(n) > 1]
        by_number = trace(ledger, str(ycywh), as_of=as_of)
        nothing = trace(ledger, "no-such-key-0000", as_of=as_of)
        cancelled = trace(ledger, dropped, as_of=as_of)
    finally:
        ledger.dispose()

    assert found.kind == "rowguid" and found.matches == (guid,)
    events = found.events
    assert tuple(events.columns) == EVENT_COLUMNS and events["time"].is_monotonic_increasing
    stages = events["stage"].tolist()
    # both versions received, validated, routed, delivered — in that order — then the result, the SMS and the overdue state
    received = events[events["stage"] == "received"]
    assert len(received) == 2 and received["what"].str.contains("更正").sum() == 1
    assert received["evidence"].str.contains("水位 CHANGE_SEQ").all()
    assert stages.index("received") < stages.index("validated") < stages.index("work_order") < stages.index("delivery") < stages.index("result")
    mine = f"{guid}:{account['utility']}"
    work = events[events["stage"] == "work_order"]
    assert {f"{mine}:1", f"{mine}:2"} <= set(work["subject"]) and work["what"].str.contains("第2版（更正 correction）").any()
    delivered = events[(events["stage"] == "delivery") & (events["subject"] == f"{mine}:2")]
    assert len(delivered) == 1
    _assert_line_holds(tmp_path / "drops" / account["destination"], delivered.iloc[0]["evidence"], f"{mine}:2")
    assert events[(events["stage"] == "delivery") & (events["subject"] == f"{guid}:{other['utility']}:{other['version']}")]["evidence"].str.contains("receipt").all()
    result = events[(events["stage"] == "result") & (events["subject"] == f"{mine}:2")]
    assert len(result) == 1 and "0000 办理成功" in result.iloc[0]["what"] and "result_1.csv" in result.iloc[0]["evidence"]
    assert (events["stage"] == "exception").sum() == 1 and "result_1.csv" in events[events["stage"] == "exception"].iloc[0]["evidence"]
    assert (events["stage"] == "sms").sum() == 1
    overdue = events[events["stage"] == "overdue"]
    assert f"{guid}:{other['utility']}:2" in set(overdue["subject"]) and overdue["evidence"].str.contains("已超期 \\d+ 个工作日").all()
    remind = events[events["stage"] == "remind"]
    assert len(remind) >= 1 and remind["what"].str.contains("催办 ").all() and stages.index("sms") < stages.index("remind")
    assert stages[-1] in ("state", "overdue") and stages.index("result") < stages.index("sms") < stages.index("overdue")
    _assert_masked(events, str(ycywh))
    assert buyers and not any(name in "".join(events["what"]) for name in buyers)

    assert q_trace.kind == "rowguid" and "quarantine" in set(q_trace.events["stage"])
    q = q_trace.events[q_trace.events["stage"] == "quarantine"].iloc[0]
    assert re.search(r"[A-Z_]+「[^」]+」\[error\]", q["evidence"]), q["evidence"]
    assert "work_order" not in set(q_trace.events["stage"])

    cancel = cancelled.events[cancelled.events["stage"] == "cancel"]
    assert len(cancel) == 1 and cancel.iloc[0]["subject"] == f"{dropped}:water:1" and "UTILITY_DROPPED" in cancel.iloc[0]["what"]
    assert "撤销批次 XBCX" in cancel.iloc[0]["evidence"]
    c_stages = cancelled.events["stage"].tolist()
    assert c_stages.index("delivery") < c_stages.index("received", c_stages.index("delivery")) < c_stages.index("cancel")

    assert by_number.kind == "ycywh" and guid in by_number.matches
    assert set(found.events["subject"]) <= set(by_number.events["subject"])
    assert not nothing.found and nothing.events.empty and "YCYWH" in nothing.not_found_message()

    # the command line: a table by default, JSON on request, an unknown key exits 1 saying where it looked
    try:
        main(["trace", guid, "--ledger", ledger_url, "--as-of", as_of.isoformat(sep=" ")])
    except SystemExit as exit_:
        assert exit_.code == 0
    out = capsys.readouterr().out
    (Path(tmp_path) / "trace.txt").write_text(out, encoding="utf-8")
    assert guid in out and "推送(delivery)" in out and "超期(overdue)" in out and not _CLEAR_PHONE.search(out)
    try:
        main(["trace", guid, "--ledger", ledger_url, "--json", "--as-of", as_of.isoformat(sep=" ")])
    except SystemExit as exit_:
        assert exit_.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "rowguid" and [e["stage"] for e in data["events"]] == stages
    try:
        main(["trace", "no-such-key-0000", "--ledger", ledger_url])
    except SystemExit as exit_:
        assert exit_.code == 1
    else:
        raise AssertionError("an unknown key must exit 1")
    captured = capsys.readouterr()
    assert "未找到" in captured.err and "BWID" in captured.err and "未找到 not found" in captured.out


def test_a_remote_package_traced_by_bwid_to_its_certificate(remote_flow, tmp_path, capsys):
    from jobs.remote.deliver_packages import deliver_packages
    from jobs.remote.package_intake import load_checklist_form
    from jobs.remote.track_packages import collect_package_events
    from simulators.remote_module import generate
    from tests.integration.conftest import load_packages, utc

    module, source, ledger, sim, receiver_for = remote_flow
    for path in sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir()):
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    now = (utcnow() + timedelta(hours=8)).replace(microsecond=0)
    batch = generate(20, seed=5, start=(now - timedelta(days=6)).strftime("%Y-%m-%d"), end=(now - timedelta(days=1)).strftime("%Y-%m-%d"),
                     defect_rate=0.0, cross_province_rate=0.0)
    day1 = now + timedelta(hours=1)
    loaded = load_packages(module, source, ledger, batch, run_id="run-1", as_of=day1)
    assert loaded["passed"] > 0
    sim.clock(day1)
    sim.packages_mix(mix={"certified": 1.0})
    deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(day1))
    day2 = day1 + timedelta(days=45)
    sim.clock(day2)
    collect_package_events(ledger, receiver_for=receiver_for, run_id="run-2", as_of=day2, now=utc(day2))
    bwid = next(d["bwid"] for d in ledger.remote.remote_deliveries() if d["status"] == "delivered")
    found = trace(ledger, bwid, as_of=day2 + timedelta(hours=1))

    assert found.kind == "bwid" and found.matches == (bwid,)
    events = found.events
    assert events["time"].is_monotonic_increasing
    stages = events["stage"].tolist()
    assert stages[:3] == ["collect", "package_check", "package_delivery"], stages
    assert "receipt_id=" in events.iloc[2]["evidence"] and "幂等键" in events.iloc[2]["evidence"]
    statuses = events[events["stage"] == "package_status"]["what"]
    assert statuses.str.contains("certificate_issued").iloc[-1] and statuses.str.contains("accepted").iloc[0]
    _assert_masked_package(events, bwid)
    try:
        main(["trace", bwid, "--ledger", ledger.engine.url.render_as_string(hide_password=False), "--as-of", (day2 + timedelta(hours=1)).isoformat(sep=" ")])
    except SystemExit as exit_:
        assert exit_.code == 0
    out = capsys.readouterr().out
    (tmp_path / "trace.txt").write_text(out, encoding="utf-8")
    assert "代收报文标识(BWID)" in out and "代收推送(package_delivery)" in out and "电子证照已发放" in out


def _assert_masked_package(events: pd.DataFrame, bwid: str) -> None:
    text = "\n".join(events["what"]) + "\n" + "\n".join(events["evidence"])
    assert f"幂等键 {bwid}:" in text  # the BWID clear
    text = text.replace(bwid, "")
    assert not _CLEAR_ID.search(text) and not _CLEAR_PHONE.search(text)
