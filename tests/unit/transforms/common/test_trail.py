"""The trail's assembly (transforms/common/trail.py): frames as the ledger's trace store returns them in, one event table
out — every kind of event, in time order, times in Beijing time, personal data masked, events after as_of left out."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from transforms.common.trail import EVENT_COLUMNS, STAGES, assemble_package, assemble_record, empty

G = "3f2a9c1e-0000-4000-8000-00000000000a"
BW = "YD2026110100000001"
YC = "202611010000000012"  # the platform's business number: 18 digits, not personal data
ID, PHONE, NAME, ADDRESS = "370102199001011234", "13812345678", "张三丰", "济南市历下区经十路123号阳光花园12号楼3单元1201室"


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def record_frames() -> dict[str, pd.DataFrame]:
    received = pd.DataFrame([
        {"source": "platform", "change_seq": 7, "change_time": _t("2026-11-01 01:00"), "op": "I", "rowguid": G, "ycywh": YC, "xzqh": "370102",
         "zrfxm": NAME, "zrfzjhm": ID, "zrflxdh": PHONE, "fwzl": ADDRESS, "run_id": "r1", "received_at": _t("2026-11-01 02:00"),
         "extract_batch_id": 1, "after_seq": 0, "max_seq": 40, "verdict_status": "quarantined", "requested": "water", "blocked": "water",
         "verdict_run_id": "r1", "validated_at": _t("2026-11-01 02:05")},
        {"source": "platform", "change_seq": 52, "change_time": _t("2026-11-02 01:00"), "op": "U", "rowguid": G, "ycywh": YC, "xzqh": "370102",
         "zrfxm": NAME, "zrfzjhm": ID, "zrflxdh": PHONE, "fwzl": ADDRESS, "run_id": "r2", "received_at": _t("2026-11-02 02:00"),
         "extract_batch_id": 2, "after_seq": 40, "max_seq": 60, "verdict_status": "passed", "requested": "water", "blocked": "",
         "verdict_run_id": "r2", "validated_at": _t("2026-11-02 02:05")},
    ])
    failures = pd.DataFrame([{"source": "platform", "change_seq": 7, "rule_id": "ID_CHECKSUM", "field": "ZRFZJHM", "utility": "", "severity": "error",
                              "value": ID, "message_zh": f"证件号码 {ID} 校验位错误", "run_id": "r1"}])
    order = {"rowguid": G, "utility": "water", "source": "platform", "institution_code": "91370100MA3C", "institution_name": "济南水务",
             "xzqh": "370102", "channel": "account", "destination": "xb91370100ma3c", "file_format": "csv", "hold_until": None,
             "reason_code": None, "reason": None}
    work_orders = pd.DataFrame([
        {**order, "version": 1, "change_seq": 52, "correction": False, "status": "superseded", "run_id": "r2", "routed_at": _t("2026-11-02 02:10")},
        {**order, "version": 2, "change_seq": 60, "correction": True, "status": "delivered", "run_id": "r3", "routed_at": _t("2026-11-03 02:10")},
    ])
    deliveries = pd.DataFrame([
        {"rowguid": G, "utility": "water", "version": 2, "channel": "account", "destination": "xb91370100ma3c", "batch_id": 5, "status": "delivered",
         "attempts": 1, "last_error": None, "receipt": '{"path": "/xb91370100ma3c/outbox/XB20261103_5", "already_there": false, "files": {"XB20261103_5.csv": "ab12cd34ef56ab12cd34ef56"}}', "planned_run_id": "r3",
         "delivered_at": _t("2026-11-03 03:00"), "updated_at": _t("2026-11-03 03:00"), "batch_name": "XB20261103_5", "batch_format": "csv",
         "batch_records": 12, "batch_seq": 3, "batch_position": 4},
        {"rowguid": G, "utility": "electricity", "version": 1, "channel": "grid", "destination": "grid", "batch_id": 6, "status": "delivered",
         "attempts": 2, "last_error": None, "receipt": "R-778 (0000)", "planned_run_id": "r2", "delivered_at": _t("2026-11-02 03:00"),
         "updated_at": _t("2026-11-02 03:00"), "batch_name": "b6", "batch_format": None, "batch_records": 3, "batch_seq": None, "batch_position": 0},
    ])
    cancels = pd.DataFrame([{"rowguid": G, "utility": "gas", "version": 1, "cause_version": 2, "channel": "account", "destination": "xbgas",
                             "reason_code": "UTILITY_DROPPED", "reason": "更正后不再申请", "status": "cancelled", "attempts": 1, "last_error": None,
                             "receipt": "XBCX/…", "created_at": _t("2026-11-03 02:10"), "updated_at": _t("2026-11-03 03:00"),
                             "cancelled_at": _t("2026-11-03 03:01"), "batch_name": "XBCX20261103_1"}])
    results = pd.DataFrame([{"result_id": 9, "rowguid": G, "utility": "water", "version": 2, "source": "sftp:xb91370100ma3c", "result": "done",
                             "code": "0000", "reason": None, "handled_at": _t("2026-11-05 10:00"), "handler": "李娜", "file_id": 3,
                             "feed_seq": None, "received_at": _t("2026-11-05 03:00"), "file_name": "result_1.csv"}])
    exceptions = pd.DataFrame([{"exception_id": 1, "source": "sftp:xb91370100ma3c", "row_number": 3, "rowguid": G, "utility": "water",
                                "reason_code": "RESULT_UNKNOWN_CODE", "reason": f"未知结果代码，联系 {PHONE}", "value": "9999", "file_id": 3,
                                "received_at": _t("2026-11-05 03:00"), "file_name": "result_1.csv"}])
    sms = pd.DataFrame([{"sms_id": 1, "rowguid": G, "utility": "water", "version": 2, "phone": PHONE, "text": f"尊敬的{NAME[0]}先生，您的供水过户已办结",
                         "status": "queued", "created_at": _t("2026-11-05 03:01")}])
    reminders = pd.DataFrame([{"week": "2026-W46", "channel": "grid", "destination": "grid", "name": "CB2026-W46", "status": "sent", "items": "[]",
                               "receipt": "ok", "created_at": _t("2026-11-10 01:00"), "sent_at": _t("2026-11-10 01:05")}])
    return {"received": received, "failures": failures, "work_orders": work_orders, "deliveries": deliveries, "cancels": cancels,
            "results": results, "exceptions": exceptions, "sms": sms, "reminders": reminders}


def states() -> pd.DataFrame:
    return pd.DataFrame([
        {"rowguid": G, "utility": "water", "version": 2, "status": "done", "due_date": pd.Timestamp("2026-11-10").date(), "handle_working_days": 2.0,
         "overdue_working_days": float("nan"), "institution_code": "91370100MA3C", "institution_name": "济南水务"},
        {"rowguid": G, "utility": "electricity", "version": 1, "status": "overdue", "due_date": pd.Timestamp("2026-11-09").date(),
         "handle_working_days": float("nan"), "overdue_working_days": 8.0, "institution_code": None, "institution_name": "国网山东省电力公司"},
    ])


AS_OF = datetime(2026, 11, 20, 9, 0)


def test_every_kind_of_record_event_in_time_order_in_beijing_time():
    events = assemble_record(record_frames(), as_of=AS_OF, states=states())
    assert tuple(events.columns) == EVENT_COLUMNS
    assert events["time"].is_monotonic_increasing
    assert str(events["time"].dt.tz) == "Asia/Shanghai"
    assert set(events["stage"]) == {"received", "quarantine", "validated", "work_order", "delivery", "cancel", "result", "exception", "sms",
                                    "remind", "state", "overdue"}
    assert (events["stage_zh"] == events["stage"].map(STAGES)).all()
    # the first event: version 1 received at 02:00 UTC = 10:00 Beijing time, then its quarantine
    first = events.iloc[0]
    assert first["stage"] == "received" and first["time"] == pd.Timestamp("2026-11-01 10:00", tz="Asia/Shanghai")
    assert "CHANGE_SEQ=7" in first["evidence"] and "水位 CHANGE_SEQ 0→40" in first["evidence"]
    assert events.iloc[1]["stage"] == "quarantine"
    assert "ID_CHECKSUM「证件号码校验位错误" in events.iloc[1]["evidence"]
    order = events["stage"].tolist()
    assert order.index("work_order") < order.index("delivery") < order.index("result") < order.index("sms") < order.index("overdue")
    # the current state comes last, at as_of
    assert (events[events["stage"].isin(["state", "overdue"])]["time"] == pd.Timestamp(AS_OF, tz="Asia/Shanghai")).all()
    overdue = events[events["stage"] == "overdue"].iloc[0]
    assert "已超期 8 个工作日" in overdue["evidence"] and overdue["subject"] == f"{G}:electricity:1"


def test_deliveries_name_the_batch_file_and_line_or_the_receipt():
    events = assemble_record(record_frames(), as_of=AS_OF, states=None)
    account = events[(events["stage"] == "delivery") & (events["subject"] == f"{G}:water:2")].iloc[0]
    assert "文件 XB20261103_5.csv 第 6 行（第 5 条工单）" in account["evidence"] and "机构第 3 批" in account["evidence"]
    grid = events[(events["stage"] == "delivery") & (events["subject"] == f"{G}:electricity:1")].iloc[0]
    assert "R-778" in grid["evidence"]
    work = events[events["stage"] == "work_order"]
    assert work["what"].str.contains("第2版（更正 correction）").sum() == 1
    result = events[events["stage"] == "result"].iloc[0]
    assert "0000 办理成功" in result["what"] and "result_1.csv" in result["evidence"]
    assert not events["stage"].isin(["state", "overdue"]).any()  # no states given: none shown


def test_personal_data_is_masked_everywhere():
    events = assemble_record(record_frames(), as_of=AS_OF, states=states())
    text = " ".join(events["what"]) + " ".join(events["evidence"])
    for clear in (ID, PHONE, NAME, "李娜", "123号", "1201室"):
        assert clear not in text, clear
    assert "370102********1234" in text and "138****5678" in text and "张**" in text and "济南市历下区经十路***" in text


def test_events_after_as_of_are_left_out():
    events = assemble_record(record_frames(), as_of=datetime(2026, 11, 2, 10, 30), states=None)
    assert events["time"].max() <= pd.Timestamp("2026-11-02 10:30", tz="Asia/Shanghai")
    assert set(events["stage"]) == {"received", "quarantine", "validated", "work_order"}
    assert tuple(assemble_record({}, as_of=AS_OF).columns) == EVENT_COLUMNS == tuple(empty().columns)


def test_a_package_flows_to_its_certificate():
    base = {"source": "remote", "bwid": BW, "sqbh": "S1", "sjdwdm": "370102HALL", "sjdwmc": "历下大厅", "sjxzqh": "370102", "sjsj": "2026-11-01 09:00",
            "ywlx": "200", "zl": ADDRESS, "xzqh": "370202", "verdict_channel": "county_system", "verdict_destination": "county_system_370202",
            "business_type": "200", "checklist_version_id": 4, "paper_handover": True, "warnings": 0, "idempotency_key": None}
    packages = pd.DataFrame([
        {**base, "change_seq": 1, "change_time": _t("2026-11-01 01:00"), "op": "I", "run_id": "p1", "received_at": _t("2026-11-01 02:00"),
         "verdict_status": "returned", "errors": 1, "validated_at": _t("2026-11-01 02:01"), "delivery_status": None},
        {**base, "change_seq": 2, "change_time": _t("2026-11-02 01:00"), "op": "U", "run_id": "p2", "received_at": _t("2026-11-02 02:00"),
         "verdict_status": "passed", "errors": 0, "validated_at": _t("2026-11-02 02:01"), "idempotency_key": f"{BW}:2",
         "delivery_channel": "county_system", "delivery_destination": "county_system_370202", "correction": False, "delivery_status": "delivered",
         "attempts": 1, "files": 3, "receipt_id": "RC-9", "delivery_code": "0000", "delivery_reason": None, "planned_at": _t("2026-11-02 02:02"),
         "first_sent_at": _t("2026-11-02 02:03"), "delivered_at": _t("2026-11-02 02:03"), "withdrawal": None, "withdrawal_reason": None,
         "withdrawn_at": None, "updated_at": _t("2026-11-02 02:03")},
    ])
    failures = pd.DataFrame([{"source": "remote", "change_seq": 1, "rule_id": "SJSJ_FORMAT", "field": "SJSJ", "item": "", "severity": "error",
                              "value": "x", "message_zh": "收件时间无法识别：x"}])
    events_in = pd.DataFrame([
        {"event_id": 1, "feed": "county_system_370202", "seq": "1", "source": "remote", "change_seq": 2, "bwid": BW, "status": "accepted",
         "at": _t("2026-11-02 11:00"), "reason": None, "detail": None, "accepted": True, "issue": None, "issue_message": None, "run_id": "t1",
         "received_at": _t("2026-11-02 04:00")},
        {"event_id": 2, "feed": "county_system_370202", "seq": "2", "source": "remote", "change_seq": 2, "bwid": BW, "status": "certificate_issued",
         "at": _t("2026-11-09 11:00"), "reason": None, "detail": '{"certificate": "鲁(2026)青岛市不动产权第1号", "handler": "蒋芳"}', "accepted": True, "issue": None,
         "issue_message": None, "run_id": "t2", "received_at": _t("2026-11-09 04:00")},
    ])
    handover = pd.DataFrame([{"source": "remote", "change_seq": 2, "xh": 1, "bwid": BW, "clbm": "C01", "clmc": "购房合同", "ys": 4,
                              "list_no": "YJ-370102HALL-370202-20261108", "hall": "370102HALL", "xzqh": "370202", "created_at": _t("2026-11-08 01:00"),
                              "received_at": None, "received_by": None}])
    out = assemble_package({"packages": packages, "package_failures": failures, "package_events": events_in, "package_handover": handover},
                           as_of=AS_OF)
    assert out["time"].is_monotonic_increasing
    assert out["stage"].tolist() == ["collect", "package_check", "collect", "package_check", "package_delivery", "package_status", "handover",
                                     "package_status"]
    assert "SJSJ_FORMAT「收件时间无法识别」" in out.iloc[1]["evidence"]
    assert "receipt_id=RC-9" in out.iloc[4]["evidence"]
    assert "电子证照已发放(status=certificate_issued)" in out.iloc[-1]["what"]
    assert "123号" not in " ".join(out["what"])
    assert f"幂等键 {BW}:2" in out.iloc[4]["evidence"]  # the BWID (16 digits after YD) stays clear
    assert "蒋*" in out.iloc[-1]["evidence"] and "蒋芳" not in " ".join(out["evidence"])


def test_the_business_number_stays_clear_but_never_an_id_or_phone():
    events = assemble_record(record_frames(), as_of=AS_OF, states=None)
    received = events[events["stage"] == "received"].iloc[0]
    assert f"YCYWH={YC}" in received["what"] and "370102********1234" in received["what"]
    # a business number that is the buyer's ID number is masked like any ID number; a short one never unmasks digits in a phone
    frames = record_frames()
    frames["received"] = frames["received"].assign(ycywh=ID)
    assert ID not in " ".join(assemble_record(frames, as_of=AS_OF)["what"])
    frames["received"] = frames["received"].assign(ycywh=PHONE[2:10])
    assert PHONE not in " ".join(assemble_record(frames, as_of=AS_OF)["what"])


def test_an_account_receipt_is_said_shortly():
    events = assemble_record(record_frames(), as_of=AS_OF, states=None)
    account = events[(events["stage"] == "delivery") & (events["subject"] == f"{G}:water:2")].iloc[0]
    assert "回执 /xb91370100ma3c/outbox/XB20261103_5：XB20261103_5.csv sha256=ab12cd34ef56…" in account["evidence"]
    assert "{" not in account["evidence"]


def test_the_trace_reads_work_order_states_exactly_as_the_console_read_model_does():
    """The trace, the read model's refreshes and the reports judge a work order with one statement,
    sql/ledger/cohandling/reconciliation_of_versions.sql, over which versions are in force: reconciliation_in_force_rowguids
    (the trace, the refresh of touched work orders) is reconciliation_in_force_range (the whole refresh) with a ROWGUID list
    for the key range as its only change — "in force" must be the same in both (this test fails until it is). The reports'
    reconciliation_in_force_all gives the same answers (tests/integration/console/test_read_model.py: equal to reconcile_now)."""
    from pathlib import Path

    from connectors.ledger.statements import nested

    sql = Path(__file__).resolve().parents[4] / "sql" / "ledger" / "cohandling"
    read = lambda name: [line for line in (sql / name).read_text(encoding="utf-8").splitlines() if not line.startswith("-- purpose:")]  # noqa: E731
    trace_body, range_body = read("reconciliation_in_force_rowguids.sql"), read("reconciliation_in_force_range.sql")
    assert [line.replace("w0.rowguid IN :rowguids", "w0.rowguid BETWEEN :low AND :high") for line in trace_body] == range_body
    assert sum(line.count("IN :rowguids") for line in trace_body) == 1
    outer = (sql / "reconciliation_of_versions.sql").read_text(encoding="utf-8")
    assert outer.count("(/*inner*/)") == 1 and "FROM (/*inner*/) w" in outer  # the one slot, as the statement's FROM
    for inner in ("all", "range", "rowguids"):
        text = nested("reconciliation_of_versions", f"reconciliation_in_force_{inner}", expanding=("rowguids",) if inner == "rowguids" else ()).element.text
        assert "final_known" in text and text.count("FROM work_order_version w0") == 1
        # results known per version by an index lookup, never a join to their aggregate: estimated 1 row after the join to
        # the newest versions, PostgreSQL walked that aggregate once per work order (20,000 records: 100 s instead of 1.5 s)
        assert "FROM handling_result WHERE" not in text and "GROUP BY rowguid, utility, version" not in text
