"""Working days, result checks and reconciliation statuses on literal data."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from jobs.common import reference
from transforms.cohandling.reconcile import reconcile
from transforms.cohandling.result_files import check_results, read_result_file, rows_from_feed
from transforms.common.workdays import WorkdayCalendar

CAL = WorkdayCalendar(date(2026, 9, 1), date(2026, 12, 31))


def days(*values):
    return np.array(values, dtype="datetime64[D]")


def test_working_days_follow_the_holidays_and_adjusted_weekends():
    # 2026 National Day: Oct 1–7 off; Sat Oct 10 is a working day (调休).
    assert CAL.add(days("2026-09-29"), 5).tolist() == [date(2026, 10, 12)]
    assert CAL.add(days("2026-11-20"), 5).tolist() == [date(2026, 11, 27)]  # Fri + 5 working days = next Fri
    assert CAL.between(days("2026-09-29"), days("2026-10-10")).tolist() == [4.0]
    assert CAL.between(days("2026-10-10"), days("2026-09-29")).tolist() == [0.0]
    assert np.isnan(CAL.between(np.array(["NaT"], dtype="datetime64[D]"), days("2026-10-10"))[0])
    assert WorkdayCalendar(date(2027, 1, 1), date(2027, 1, 10)).uncovered_years == [2027]  # weekdays assumed, and said so


def _deliveries():
    return pd.DataFrame([
        {"rowguid": "A", "utility": "water", "version": 1, "channel": "account", "destination": "xbinst1", "delivered_at": datetime(2026, 11, 20, 9)},
        {"rowguid": "B", "utility": "electricity", "version": 2, "channel": "grid", "destination": "grid", "delivered_at": datetime(2026, 11, 20, 9)},
        {"rowguid": "C", "utility": "gas", "version": 1, "channel": "system", "destination": "county_system_370102", "delivered_at": datetime(2026, 11, 20, 9)},
    ])


def test_result_checks_name_the_problem_and_keep_the_rest():
    rows = pd.DataFrame([
        {"row": 2, "GDBH": "A:water:1", "ROWGUID": "", "XBLX": "", "JGDM": "0000", "JGSM": "", "BLSJ": "2026-11-21 10:00", "BLR": "王"},
        {"row": 3, "GDBH": "", "ROWGUID": "A", "XBLX": "水", "JGDM": "0002", "JGSM": "户号不存在", "BLSJ": "2026-11-21 11:00", "BLR": ""},
        {"row": 4, "GDBH": "B:electricity:2", "ROWGUID": "", "XBLX": "", "JGDM": "0000", "JGSM": "", "BLSJ": "2026-11-21", "BLR": ""},
        {"row": 5, "GDBH": "A:water:1", "ROWGUID": "", "XBLX": "", "JGDM": "0000", "JGSM": "", "BLSJ": "2027-01-01", "BLR": ""},
        {"row": 6, "GDBH": "A:water:9", "ROWGUID": "", "XBLX": "", "JGDM": "0000", "JGSM": "", "BLSJ": "2026-11-21", "BLR": ""},
        {"row": 7, "GDBH": "A:fire:1", "ROWGUID": "", "XBLX": "", "JGDM": "0000", "JGSM": "", "BLSJ": "2026-11-21", "BLR": ""},
    ])
    outcomes = pd.DataFrame(columns=["rowguid", "utility", "version", "result"])
    accepted, problems = check_results(rows, source="sftp:xbinst1", deliveries=_deliveries(), outcomes=outcomes, as_of=datetime(2026, 11, 25))
    assert accepted[["rowguid", "utility", "version", "result", "code"]].values.tolist() == [["A", "water", 1, "done", "0000"]]
    assert [(p["row_number"], p["reason_code"]) for p in problems] == [
        (3, "RESULT_CONFLICT"), (4, "RESULT_WRONG_SOURCE"), (5, "RESULT_FUTURE"), (6, "RESULT_UNKNOWN_WORK_ORDER"), (7, "RESULT_BAD_KEY")]
    assert problems[0]["reason"].startswith("与已收到的最终结果矛盾")

    feed = rows_from_feed([{"idempotency_key": "B:electricity:2", "code": "0201", "handled_at": "2026-11-21T08:00:00", "seq": 9}, "garbage"])
    accepted, problems = check_results(feed, source="feed:grid", deliveries=_deliveries(), outcomes=outcomes, as_of=datetime(2026, 11, 25))
    assert accepted["result"].tolist() == ["done"] and [p["reason_code"] for p in problems] == ["RESULT_BAD_KEY"]
    wrong_county = rows_from_feed([{"idempotency_key": "C:gas:1", "code": "0000", "handled_at": "2026-11-21T08:00:00"}])
    _, problems = check_results(wrong_county, source="feed:county/370103", deliveries=_deliveries(), outcomes=outcomes, as_of=datetime(2026, 11, 25))
    assert [p["reason_code"] for p in problems] == ["RESULT_WRONG_SOURCE"]


@pytest.mark.parametrize(("name", "data", "code"), [
    ("../../etc/x.csv", b"GDBH,JGDM,BLSJ\n", "FILE_NAME_UNSAFE"),
    (".hidden.csv", b"GDBH,JGDM,BLSJ\n", "FILE_NAME_UNSAFE"),
    ("r.txt", b"GDBH,JGDM,BLSJ\n", "FILE_NAME_UNSAFE"),
    ("r.csv", b"\x81\xff\xfe", "FILE_ENCODING"),
    ("r.csv", b"GDBH,BLSJ\nA:water:1,2026-11-21\n", "FILE_COLUMNS_MISSING"),
    ("r.csv", b"GDBH,JGDM,BLSJ\n", "FILE_EMPTY"),
    ("r.csv", b"x" * (5 * 1024 * 1024 + 1), "FILE_TOO_LARGE"),
])
def test_whole_files_refused(name, data, code):
    rows, problem = read_result_file(name, data, source="sftp:xbinst1")
    assert rows is None and problem["reason_code"] == code


def test_gb18030_result_files_read():
    rows, problem = read_result_file("结果_20261121.csv", "GDBH,JGDM,JGSM,BLSJ\nA:water:1,0009,产权人信息与户主信息不一致,2026-11-21\n".encode("gb18030"), source="s")
    assert problem is None and rows["JGSM"].tolist() == ["产权人信息与户主信息不一致"]


def test_statuses():
    base = {"version": 1, "correction": False, "channel": "account", "destination": "xb1", "institution_code": "X", "institution_name": "某供水",
            "record_xzqh": "370102", "hold_until": None, "acknowledged_at": pd.NaT, "result_code": None, "result_reason": None,
            "buyer_name": "张三", "buyer_phone": "13812345678", "buyer_id": "370102199001011234", "address": "济南市", "certificate": "鲁(2021)济南市不动产权第0000001号"}
    delivered = datetime(2026, 11, 20, 9)  # Friday; due Friday 27th
    rows = [
        {"rowguid": "done", "order_status": "delivered", "delivery_status": "delivered", "delivered_at": delivered, "result": "done", "handled_at": datetime(2026, 11, 27, 17)},
        {"rowguid": "late", "order_status": "delivered", "delivery_status": "delivered", "delivered_at": delivered, "result": "done", "handled_at": datetime(2026, 11, 30, 9)},
        {"rowguid": "rejected", "order_status": "delivered", "delivery_status": "delivered", "delivered_at": delivered, "result": "rejected", "handled_at": datetime(2026, 11, 21)},
        {"rowguid": "overdue", "order_status": "delivered", "delivery_status": "delivered", "delivered_at": delivered, "result": None, "handled_at": pd.NaT},
        {"rowguid": "ack", "order_status": "delivered", "delivery_status": "delivered", "delivered_at": datetime(2026, 11, 26, 9), "result": None, "handled_at": pd.NaT,
         "acknowledged_at": datetime(2026, 11, 26, 10)},
        {"rowguid": "fresh", "order_status": "delivered", "delivery_status": "delivered", "delivered_at": datetime(2026, 11, 26, 9), "result": None, "handled_at": pd.NaT},
        {"rowguid": "pending", "order_status": "ready", "delivery_status": "pending", "delivered_at": pd.NaT, "result": None, "handled_at": pd.NaT},
        {"rowguid": "held", "order_status": "held", "delivery_status": None, "delivered_at": pd.NaT, "result": None, "handled_at": pd.NaT},
        {"rowguid": "failed", "order_status": "failed", "delivery_status": "failed", "delivered_at": pd.NaT, "result": None, "handled_at": pd.NaT},
    ]
    orders = pd.DataFrame([base | {"utility": "water"} | r for r in rows])
    out = reconcile(orders, as_of=datetime(2026, 11, 30, 12), calendar=CAL, divisions=reference.divisions()).set_index("rowguid")
    assert out["status"].to_dict() == {"done": "done", "late": "done_late", "rejected": "rejected", "overdue": "overdue", "ack": "acknowledged",
                                       "fresh": "delivered", "pending": "pending", "held": "held", "failed": "failed"}
    assert out.loc["done", "due_date"] == date(2026, 11, 27) and out.loc["done", "handle_working_days"] == 5
    assert out.loc["overdue", "overdue_working_days"] == 1 and out.loc["done", "county_name"] == "历下区" and out.loc["done", "city_name"] == "济南市"
    fast = reconcile(orders, as_of=datetime(2026, 11, 30, 12), calendar=CAL, divisions=reference.divisions(), deadlines={"water": 10})
    assert fast.set_index("rowguid").loc["late", "status"] == "done"  # a longer deadline, per utility


def test_due_dates_in_a_year_with_no_arrangement_are_provisional_in_the_statuses_and_the_report():
    from transforms.common.workdays import parse_arrangements
    from transforms.reporting.cohandling_tables import report_tables

    base = {"version": 1, "correction": False, "channel": "account", "destination": "xb1", "institution_code": "X", "institution_name": "某供水",
            "record_xzqh": "370102", "hold_until": None, "acknowledged_at": pd.NaT, "result_code": None, "result_reason": None, "utility": "water",
            "buyer_name": "张三", "buyer_phone": "13812345678", "buyer_id": "370102199001011234", "address": "济南市", "certificate": "鲁(2021)济南市不动产权第0000001号",
            "order_status": "delivered", "delivery_status": "delivered", "result": None, "handled_at": pd.NaT}
    orders = pd.DataFrame([
        base | {"rowguid": "nov", "delivered_at": datetime(2026, 11, 20, 9)},   # due 27 Nov 2026: known
        base | {"rowguid": "dec", "delivered_at": datetime(2026, 12, 28, 9)},   # due in January 2027: no arrangement known
    ])
    as_of = datetime(2027, 1, 20, 12)
    plain = reconcile(orders, as_of=as_of, calendar=WorkdayCalendar(date(2026, 11, 1), date(2027, 3, 31)), divisions=reference.divisions())
    assert plain.set_index("rowguid")["due_provisional"].to_dict() == {"nov": False, "dec": True}
    tables = report_tables(plain, None, None, None, period=(date(2026, 11, 1), date(2027, 1, 20)), as_of=as_of)
    summary = tables["汇总"].set_index("代码(code)")
    assert summary.loc["provisional_due", "合计(total)"] == 1 and "暂定" in summary.loc["provisional_due", "说明(note)"]
    overdue = tables["超期清单"].set_index("标识码(ROWGUID)")
    assert overdue.loc["dec", "期限暂定(due_provisional)"] == "暂定" and overdue.loc["nov", "期限暂定(due_provisional)"] == ""

    # The operator adds 2027 (a made-up arrangement for the test): nothing is provisional any more.
    data = parse_arrangements([{"year": "2027", "published": "2026-11-10", "source": "测试用安排"}],
                              [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}])
    known = reconcile(orders, as_of=as_of, calendar=WorkdayCalendar(date(2026, 11, 1), date(2027, 3, 31), data), divisions=reference.divisions())
    assert not known["due_provisional"].any()
