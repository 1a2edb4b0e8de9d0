"""Remote-collection tracking and report, on literal data: every status-event rule, each package
version's stage and time limit in working days (around the 2025 National Day holiday and its 调休
weekend days), paper-handover lists and backlog, and the report's tables adding up."""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import pandas as pd
import pytest

from transforms.common.workdays import WorkdayCalendar
from transforms.remote.package_tracking import EVENT_ISSUES, STAGES, check_events, handover_state, period_bounds, plan_handover, track
from transforms.reporting.cells import code_of
from transforms.reporting.remote_tables import check_adds_up, remote_report_tables

CALENDAR = WorkdayCalendar(date(2025, 1, 1), date(2025, 12, 31))
# National Day 2025: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are working days (调休).
AS_OF = datetime(2025, 10, 14, 12, 0)  # local (Asia/Shanghai)
FEED = "county_system_370102"


# --- check_events ------------------------------------------------------------------------------

def delivery(seq: int, bwid: str, *, destination: str = FEED, status: str = "delivered", first_sent_at: datetime | None = datetime(2025, 9, 29, 2, 0)) -> dict:
    return {"source": "remote", "change_seq": seq, "bwid": bwid, "destination": destination, "status": status, "first_sent_at": first_sent_at}


DELIVERIES = {  # first_sent_at is UTC: 02:00 is 10:00 in Shanghai
    "BW1:11": delivery(11, "BW1"),
    "BW2:12": delivery(12, "BW2", destination="cross_province"),
    "BW3:13": delivery(13, "BW3", status="rejected"),
    "BW4:14": delivery(14, "BW4"),
    "BW5:15": delivery(15, "BW5"),
    "BW6:16": delivery(16, "BW6", status="failed", first_sent_at=None),
    "BW7:17": delivery(17, "BW7", status="superseded", first_sent_at=None),
}


def event(status: str = "accepted", at: object = "2025-09-29T14:00:00", key: str = "BW1:11", **extra) -> dict:
    return {"seq": 1, "idempotency_key": key, "bwid": key.split(":")[0], "status": status, "at": at, **extra}


def check(events: list, held: set[tuple] = frozenset()) -> list[dict]:
    return check_events(events, feed=FEED, deliveries=DELIVERIES, held=set(held), as_of=AS_OF)


def verdicts(rows: list[dict]) -> list[tuple]:
    return [(r["accepted"], r["issue"], r["issue_message"]) for r in rows]


CERTIFICATE = {"form": "electronic", "number": "鲁(2025)济南市不动产权第0012345号"}
ISSUE_CASES = [  # (event, rule, the message a person reads)
    ("not an event", "EVENT_NOT_OBJECT", "状态记录不是对象，无法读取"),
    (event(key="BW9:99"), "EVENT_KEY_UNKNOWN", "幂等键不对应网关推送过的任何报文"),
    ({**event(), "idempotency_key": 11}, "EVENT_KEY_UNKNOWN", "幂等键不对应网关推送过的任何报文"),
    (event(key="BW2:12"), "EVENT_WRONG_FEED", "该报文推送给了另一接收方：推送给 cross_province"),
    (event(bwid="BW2"), "EVENT_BWID_MISMATCH", "报文编号与幂等键对应的报文不一致：应为 BW1"),
    (event(key="BW3:13"), "EVENT_NOT_DELIVERED", "该报文未送达（被拒收、推送失败或从未发出），不应有办理状态"),
    (event(key="BW6:16"), "EVENT_NOT_DELIVERED", "该报文未送达（被拒收、推送失败或从未发出），不应有办理状态"),
    (event(key="BW7:17"), "EVENT_NOT_DELIVERED", "该报文未送达（被拒收、推送失败或从未发出），不应有办理状态"),
    (event("fee_notice"), "EVENT_DETAIL_MISSING", "缺少必要说明（不予受理原因、补正材料或证照信息）：缴费通知"),
    (event("fee_notice", fee={"amount_yuan": "80"}), "EVENT_DETAIL_MISSING", "缺少必要说明（不予受理原因、补正材料或证照信息）：缴费通知"),
    (event("certificate_issued", certificate={"form": "paper", "number": "370102-ZS-1"}), "EVENT_DETAIL_MISSING",
     "缺少必要说明（不予受理原因、补正材料或证照信息）：证照已发"),
    (event(status="approved"), "EVENT_STATUS_UNKNOWN", "未知的办理状态：'approved'"),
    (event(status=["accepted"]), "EVENT_STATUS_UNKNOWN", "未知的办理状态：['accepted']"),
    (event(at="2025/09/29 14:00"), "EVENT_TIME_INVALID", "办理时间缺失或无法识别：'2025/09/29 14:00'"),
    (event(at=None), "EVENT_TIME_INVALID", "办理时间缺失或无法识别：None"),
    (event(at="0001-01-01T00:00:00+08:00"), "EVENT_TIME_INVALID", "办理时间缺失或无法识别：'0001-01-01T00:00:00+08:00'"),  # year 0 in UTC
    (event(at="2025-10-14T12:10:01"), "EVENT_FUTURE", "办理时间晚于当前时间：2025-10-14 12:10 > 2025-10-14 12:00"),
    (event(at="2025-09-29T09:49:59"), "EVENT_BEFORE_DELIVERY", "办理时间早于网关推送时间：首次推送于 2025-09-29 10:00"),
    (event(at="2025-09-29T01:30:00Z"), "EVENT_BEFORE_DELIVERY", "办理时间早于网关推送时间：首次推送于 2025-09-29 10:00"),  # 09:30 local
    (event("refused"), "EVENT_DETAIL_MISSING", "缺少必要说明（不予受理原因、补正材料或证照信息）：不予受理"),
    (event("refused", reason="  "), "EVENT_DETAIL_MISSING", "缺少必要说明（不予受理原因、补正材料或证照信息）：不予受理"),
    (event("correction", missing=[]), "EVENT_DETAIL_MISSING", "缺少必要说明（不予受理原因、补正材料或证照信息）：补正"),
    (event("certificate_issued"), "EVENT_DETAIL_MISSING", "缺少必要说明（不予受理原因、补正材料或证照信息）：证照已发"),
    (event("certificate_issued", certificate={"form": "pdf", "number": "X1"}), "EVENT_DETAIL_MISSING",
     "缺少必要说明（不予受理原因、补正材料或证照信息）：证照已发"),
    (event("certificate_issued", certificate={"form": "paper", "number": ""}), "EVENT_DETAIL_MISSING",
     "缺少必要说明（不予受理原因、补正材料或证照信息）：证照已发"),
]


@pytest.mark.parametrize(("raw", "rule", "message"), ISSUE_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(ISSUE_CASES)])
def test_an_event_with_an_issue_is_kept_but_not_accepted(raw, rule, message):
    rows = check([raw])
    assert verdicts(rows) == [(False, rule, message)]
    assert json.loads(rows[0]["raw"]) == raw  # stored as received


def test_every_event_rule_has_a_case():
    covered = {rule for _, rule, _ in ISSUE_CASES} | {"EVENT_DUPLICATE", "EVENT_AFTER_CLOSE"}  # these two: tests below
    assert covered == set(EVENT_ISSUES)


def test_events_just_inside_the_clock_skew_are_accepted():
    # delivered 10:00 local, now 12:00 local, 10 minutes' skew either way
    rows = check([event(at="2025-09-29T09:50:00"), event("review", at="2025-10-14T12:10:00")])
    assert verdicts(rows) == [(True, None, None), (True, None, None)]


def test_good_events_of_every_status_are_accepted_with_their_detail():
    events = [
        event("accepted", "2025-09-29T14:00:00", handler="周敏", receipt_id="R-77"),
        event("review", "2025-09-30T09:00:00"),
        event("fee_notice", "2025-09-30T09:10:00", fee={"amount_yuan": 80, "item": "不动产登记费"}),
        event("registered", "2025-10-13T15:00:00"),
        {**event("certificate_issued", "2025-10-13T15:05:00", certificate=CERTIFICATE), "seq": 7},
        event("refused", "2025-09-30T10:00:00", key="BW4:14", reason="不动产存在查封登记，不予办理"),
        event("correction", "2025-09-30T11:00:00", key="BW5:15", missing=[{"CLBM": "QSZS", "CLMC": "不动产权属证书"}]),
    ]
    rows = check(events)
    assert [(r["status"], r["accepted"], r["issue"]) for r in rows] == [
        ("accepted", True, None), ("review", True, None), ("fee_notice", True, None), ("registered", True, None),
        ("certificate_issued", True, None), ("refused", True, None), ("correction", True, None),
    ]
    assert rows[4] == {
        "seq": "7", "idempotency_key": "BW1:11", "source": "remote", "change_seq": 11, "bwid": "BW1", "status": "certificate_issued",
        "at": datetime(2025, 10, 13, 15, 5), "reason": None, "detail": json.dumps({"certificate": CERTIFICATE}, ensure_ascii=False, sort_keys=True),
        "accepted": True, "issue": None, "issue_message": None, "raw": json.dumps(events[4], ensure_ascii=False, sort_keys=True),
    }
    assert json.loads(rows[0]["detail"]) == {"handler": "周敏", "receipt_id": "R-77"}
    assert json.loads(rows[2]["detail"]) == {"fee": {"amount_yuan": 80, "item": "不动产登记费"}}
    assert rows[3]["detail"] is None
    assert (rows[5]["reason"], rows[5]["change_seq"]) == ("不动产存在查封登记，不予办理", 14)
    assert json.loads(rows[6]["detail"]) == {"missing": [{"CLBM": "QSZS", "CLMC": "不动产权属证书"}]}


def test_a_correction_needs_missing_materials_or_a_reason_and_a_paper_certificate_counts():
    rows = check([
        event("correction", key="BW4:14", reason="签章不全，请补正"),
        event("correction", key="BW5:15", missing=["QSZS"]),
        event("certificate_issued", certificate={"form": "paper", "number": "370102-ZS-00012345", "mail_no": "EMS0012345678"}),
    ])
    assert [r["accepted"] for r in rows] == [True, True, True]


def test_event_times_with_an_offset_are_converted_to_shanghai_local():
    def local(at: str) -> datetime:
        return check([event("review", at=at)])[0]["at"]

    assert local("2025-09-30T01:30:00Z") == datetime(2025, 9, 30, 9, 30)
    assert local("2025-09-30T03:30:00+02:00") == datetime(2025, 9, 30, 9, 30)
    assert local("2025-09-30T09:30:00+08:00") == datetime(2025, 9, 30, 9, 30)
    assert local("2025-09-30T17:30:00Z") == datetime(2025, 10, 1, 1, 30)  # the next local day
    assert local("2025-09-30 09:30") == datetime(2025, 9, 30, 9, 30)  # no offset: already local
    assert local("2025-09-30T09:30:00.987654") == datetime(2025, 9, 30, 9, 30)


def test_a_repeat_of_an_event_already_held_is_a_duplicate():
    held = {("BW1:11", "accepted", datetime(2025, 9, 29, 14, 0))}
    rows = check([event("accepted", "2025-09-29T06:00:00Z"), event("accepted", "2025-09-29T14:01:00"), event("review", "2025-09-29T14:00:00")], held)
    assert verdicts(rows) == [(False, "EVENT_DUPLICATE", "重复的状态记录"), (True, None, None), (True, None, None)]


def test_a_repeat_within_one_poll_is_a_duplicate_but_a_rejected_first_copy_does_not_count():
    rows = check([
        event("accepted", "2025-09-29T14:00:00"),
        event("accepted", "2025-09-29T14:00:00+08:00"),  # the same moment, written with its offset
        event("refused", "2025-09-30T10:00:00", key="BW4:14"),  # no reason: not counted ...
        event("refused", "2025-09-30T10:00:00", key="BW4:14", reason="申请人不具备申请资格"),  # ... so this one is no repeat
    ])
    assert [(r["accepted"], r["issue"]) for r in rows] == [(True, None), (False, "EVENT_DUPLICATE"), (False, "EVENT_DETAIL_MISSING"), (True, None)]


def test_nothing_counts_after_a_refusal_or_correction_already_held():
    held = {("BW1:11", "refused", datetime(2025, 9, 30, 10, 0)), ("BW4:14", "accepted", datetime(2025, 9, 29, 14, 0))}
    rows = check([event("registered", "2025-10-09T10:00:00"), event("review", "2025-10-09T10:00:00", key="BW4:14")], held)
    assert verdicts(rows) == [(False, "EVENT_AFTER_CLOSE", "该报文已不予受理、退回补正或撤回，之后不应再有状态"), (True, None, None)]


def test_nothing_counts_after_a_correction_in_the_same_poll_and_only_for_that_version():
    rows = check([
        event("correction", "2025-09-30T11:00:00", reason="材料不清晰，请补充清晰扫描件"),
        event("accepted", "2025-09-30T12:00:00"),
        event("accepted", "2025-09-30T12:00:00", key="BW4:14"),
    ])
    assert [(r["accepted"], r["issue"]) for r in rows] == [(True, None), (False, "EVENT_AFTER_CLOSE"), (True, None)]


# --- track ---------------------------------------------------------------------------------------

HALLS = {"H1": ("历下区政务服务中心", "370102"), "H2": ("市南区政务服务中心", "370202"), "H3": ("市中区政务服务中心", "370103")}


def package(seq: int, bwid: str, *, hall: str = "H1", xzqh: str = "370102", collected: str = "2025-09-29 09:00:00", verdict: str = "passed",
            status: str | None = "delivered", delivered_at: datetime | None = None, in_force: int = 1) -> dict:
    """A row as sql/ledger/remote/select_remote_tracking.sql returns it (delivered_at UTC)."""
    return {
        "source": "remote", "change_seq": seq, "bwid": bwid, "op": "I", "verdict": verdict,
        "channel": "cross_province" if xzqh[:2] != "37" else "county_system", "destination": "cross_province" if xzqh[:2] != "37" else f"county_system_{xzqh}",
        "errors": 1 if verdict == "returned" else 0, "hall": hall, "hall_name": HALLS[hall][0], "hall_xzqh": HALLS[hall][1], "xzqh": xzqh,
        "business_type": "02", "collected": collected, "sqbh": f"SQ{seq:04d}", "idempotency_key": f"{bwid}:{seq}" if status else None,
        "delivery_status": status, "delivered_at": delivered_at, "correction": False, "delivery_code": "0000" if status == "delivered" else None,
        "delivery_reason": None, "receipt_id": f"R{seq}" if status == "delivered" else None, "in_force": in_force,
    }


def ev(seq: int, status: str, at: str, reason: str | None = None, detail: dict | None = None) -> dict:
    """An accepted event as the ledger returns it (at local)."""
    return {"source": "remote", "change_seq": seq, "status": status, "at": datetime.fromisoformat(at), "reason": reason,
            "detail": json.dumps(detail, ensure_ascii=False) if detail else None}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


PACKAGES = pd.DataFrame([
    package(1, "BW01", verdict="returned", status=None),
    package(2, "BW02", status="pending"),
    package(3, "BW03", status="rejected"),
    package(4, "BW04", delivered_at=utc("2025-09-29 02:00")),  # Mon 10:00 local
    package(5, "BW05", delivered_at=utc("2025-09-28 17:00")),  # Mon 01:00 local: the UTC day (Sunday 09-28) must not count
    package(6, "BW06", xzqh="370103", delivered_at=utc("2025-09-29 02:00")),  # a county with its own limit (3 working days)
    package(7, "BW07", hall="H2", delivered_at=utc("2025-09-30 02:00")),
    package(8, "BW08", hall="H2", delivered_at=utc("2025-09-29 02:00")),
    package(9, "BW09", hall="H2", collected="2025-09-26 16:00:00", delivered_at=utc("2025-09-27 02:00")),  # Saturday: not a working day
    package(10, "BW10", delivered_at=utc("2025-09-29 02:00")),
    package(11, "BW11", collected="2025-09-24 10:00:00", delivered_at=utc("2025-09-24 03:00"), in_force=0),  # sent back for correction ...
    package(12, "BW11", collected="2025-09-29 09:30:00", delivered_at=utc("2025-09-29 02:00")),  # ... and corrected: the version in force
    package(13, "BW13", status=None),
    package(14, "BW14", hall="H2", xzqh="110105", delivered_at=utc("2025-10-09 02:00")),  # cross-province
])
EVENTS = pd.DataFrame([
    ev(4, "accepted", "2025-09-29 14:00"), ev(4, "review", "2025-09-30 10:00"), ev(4, "fee_notice", "2025-09-30 10:10", detail={"fee": {"amount_yuan": 80}}),
    ev(5, "accepted", "2025-09-29 14:00"),
    ev(6, "accepted", "2025-09-29 14:00"), ev(6, "review", "2025-09-30 10:00"),
    ev(8, "accepted", "2025-09-29 14:00"), ev(8, "review", "2025-09-30 10:00"), ev(8, "registered", "2025-10-13 15:00"),
    ev(9, "accepted", "2025-09-28 09:00"), ev(9, "review", "2025-09-28 10:00"), ev(9, "registered", "2025-10-13 10:00"),
    ev(9, "certificate_issued", "2025-10-13 10:05", detail={"certificate": {"form": "electronic", "number": "C9"}}),
    ev(10, "refused", "2025-10-14 09:00", reason="不动产存在查封登记，不予办理"),
    ev(11, "correction", "2025-09-25 11:00", reason="签章不全，请补正", detail={"missing": [{"CLBM": "QSZS", "CLMC": "不动产权属证书"}]}),
    ev(12, "accepted", "2025-09-29 14:00"), ev(12, "review", "2025-09-30 10:00"), ev(12, "registered", "2025-10-09 10:00"),
    ev(12, "certificate_issued", "2025-10-11 09:00", detail={"certificate": {"form": "paper", "number": "C12"}}),
    ev(12, "review", "2025-09-30 09:00"),  # a second review, earlier: the first time counts
])
LIMITS = {"370103": 3}


def tracked(limits: dict[str, int] | None = LIMITS) -> pd.DataFrame:
    return track(PACKAGES, EVENTS, as_of=AS_OF, calendar=CALENDAR, limits=limits)


def column(frame: pd.DataFrame, name: str) -> dict:
    """{change_seq: value} with NaT/NaN as None and plain Python values, for literal comparisons."""
    def plain(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            return None
        return v.to_pydatetime() if isinstance(v, pd.Timestamp) else v.item() if hasattr(v, "item") else v
    return {int(s): plain(v) for s, v in zip(frame["change_seq"], frame[name])}


def test_track_gives_each_version_its_stage():
    out = tracked()
    assert column(out, "stage") == {
        1: "returned", 2: "pending", 3: "rejected", 4: "fee_notice", 5: "accepted", 6: "review", 7: "delivered", 8: "registered",
        9: "certificate_issued", 10: "refused", 11: "correction", 12: "certificate_issued", 13: "pending", 14: "delivered",
    }
    assert list(out["stage_label"]) == [STAGES[s] for s in out["stage"]]
    assert out.loc[out["change_seq"] == 11, "stage_label"].item() == "补正（退回代收窗口）"
    assert column(out, "reason") == {**dict.fromkeys(range(1, 15)), 10: "不动产存在查封登记，不予办理", 11: "签章不全，请补正"}
    assert column(out, "detail") == {**dict.fromkeys(range(1, 15)), 11: "不动产权属证书（QSZS）"}
    assert (column(out, "accepted_at")[12], column(out, "review_at")[12]) == (datetime(2025, 9, 29, 14, 0), datetime(2025, 9, 30, 9, 0))


def due_days(frame: pd.DataFrame) -> dict:
    return {s: v.date() if v else None for s, v in column(frame, "due").items()}


def test_the_due_day_is_the_limit_th_working_day_after_the_local_delivery_day():
    out = tracked()
    assert due_days(out) == {
        1: None, 2: None, 3: None, 13: None,  # never delivered
        4: date(2025, 10, 13),   # Mon 09-29: 09-30, 10-09, 10-10, Sat 10-11 (调休), 10-13
        5: date(2025, 10, 13),   # 01:00 local on 09-29 (17:00 UTC on Sunday 09-28, itself a working day)
        6: date(2025, 10, 10),   # county limit 3: 09-30, 10-09, 10-10
        7: date(2025, 10, 14),   # Tue 09-30: 10-09, 10-10, 10-11, 10-13, 10-14
        8: date(2025, 10, 13),
        9: date(2025, 10, 10),   # Sat 09-27 (a day off): Sun 09-28 (调休), 09-29, 09-30, 10-09, 10-10
        10: date(2025, 10, 13),
        11: date(2025, 9, 30),   # Wed 09-24: 09-25, 09-26, Sun 09-28, 09-29, 09-30
        12: date(2025, 10, 13),
        14: date(2025, 10, 15),  # Thu 10-09: 10-10, 10-11, 10-13, 10-14, 10-15
    }
    assert column(out, "limit_wd") == {**dict.fromkeys(range(1, 15), 5), 6: 3}
    assert column(out, "delivered_local")[5] == datetime(2025, 9, 29, 1, 0)


def test_a_county_limit_overrides_the_default():
    assert due_days(tracked(limits=None))[6] == date(2025, 10, 13)
    assert due_days(tracked(limits={"370103": 10}))[6] == date(2025, 10, 20)  # 09-30, 10-09, 10-10, 10-11, 10-13..17, 10-20
    assert due_days(track(PACKAGES, EVENTS, as_of=AS_OF, calendar=CALENDAR, default_limit=2))[4] == date(2025, 10, 9)


def test_only_open_versions_past_their_due_day_are_overdue_and_only_decisions_after_it_are_late():
    out = tracked()
    # as of Tue 10-14: 4 (待缴费, still open) and 5 were due 10-13, 6 (limit 3) 10-10; 7 is due today; 14 tomorrow
    assert {s for s, v in column(out, "overdue").items() if v} == {4, 5, 6}
    assert column(out, "overdue_wd") == {**dict.fromkeys(range(1, 15)), 4: 1.0, 5: 1.0, 6: 3.0}  # 6: 10-11, 10-13, 10-14
    # 8 registered on its due day; 9 registered 10-13, due 10-10; 10 refused 10-14, due 10-13; 11 a correction decides nothing
    assert {s for s, v in column(out, "late").items() if v} == {9, 10}
    # working days from the delivery day to 登簿 / 不予受理: 8 Mon 09-29 to 10-13 (09-30, 10-09, 10-10, 10-11, 10-13); 12 to 10-09
    assert column(out, "wd_to_decision") == {**dict.fromkeys(range(1, 15)), 8: 5.0, 9: 7.0, 10: 6.0, 12: 2.0}


def test_working_days_to_certificate_count_from_the_first_collection_of_any_version():
    out = tracked()
    assert column(out, "first_collected")[12] == datetime(2025, 9, 24, 10, 0)
    assert column(out, "wd_to_certificate") == {
        **dict.fromkeys(range(1, 15)),
        9: 7.0,   # Fri 09-26 to Mon 10-13: 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13
        12: 8.0,  # BW11's first version, Wed 09-24, to Sat 10-11: 09-25, 09-26, 09-28, 09-29, 09-30, 10-09, 10-10, 10-11
    }


# --- paper handover ------------------------------------------------------------------------------

def original(seq: int, xh: int, bwid: str, clbm: str, *, sfzzyj: str | None = "1", ys: int = 2, hall: str = "H1", xzqh: str = "370102",
             collected: str = "2025-09-29 09:00:00", in_force: int = 1, list_id: int | None = None, received_at: datetime | None = None) -> dict:
    """A row as sql/ledger/remote/select_paper_originals.sql returns it."""
    names = {"QSZS": "不动产权属证书", "SQS": "不动产登记申请书", "HT": "买卖合同"}
    return {
        "source": "remote", "change_seq": seq, "xh": xh, "bwid": bwid, "clbm": clbm, "clmc": names[clbm], "ys": ys, "sfzzyj": sfzzyj,
        "hall": hall, "hall_name": HALLS[hall][0], "hall_xzqh": HALLS[hall][1], "xzqh": xzqh, "collected": collected, "sqbh": f"SQ{seq:04d}",
        "delivered_at": datetime(2025, 9, 1), "in_force": in_force, "list_id": list_id,
        "list_no": f"YJ-{hall}-{xzqh}-L{list_id}" if list_id else None, "listed_at": datetime(2025, 9, 29) if list_id else None,
        "received_at": received_at, "received_by": "王芳" if received_at else None,
    }


def test_period_bounds_are_monday_weeks_or_blocks_from_the_anchor():
    assert period_bounds(date(2025, 10, 1)) == (date(2025, 9, 29), date(2025, 10, 6))
    assert period_bounds(date(2025, 9, 29)) == (date(2025, 9, 29), date(2025, 10, 6))  # a Monday starts its week
    assert period_bounds(date(2025, 10, 5)) == (date(2025, 9, 29), date(2025, 10, 6))  # Sunday ends it
    assert period_bounds(date(2025, 10, 6)) == (date(2025, 10, 6), date(2025, 10, 13))
    assert period_bounds(date(2021, 8, 1)) == (date(2021, 7, 26), date(2021, 8, 2))  # before the anchor
    assert period_bounds(date(2025, 9, 29), 14) == (date(2025, 9, 22), date(2025, 10, 6))  # 1519 days after 2021-08-02 = 108 * 14 + 7


ORIGINALS = pd.DataFrame([
    original(1, 1, "BW01", "QSZS", ys=2),
    original(1, 2, "BW01", "SQS", sfzzyj="0", ys=1),               # no paper original
    original(1, 3, "BW01", "HT", sfzzyj="是", ys=5),
    original(2, 1, "BW02", "QSZS", sfzzyj="y", ys=3, collected="2025-10-05 23:59:59"),
    original(3, 1, "BW03", "QSZS", sfzzyj="Y", xzqh="370103", collected="2025-09-30 10:00:00"),
    original(4, 1, "BW04", "QSZS", sfzzyj=" 1 ", hall="H2", collected="2025-09-22 10:00:00"),  # an earlier week's, not listed yet
    original(5, 1, "BW05", "QSZS", collected="2025-10-06 00:00:00"),  # the next period
    original(6, 1, "BW06", "QSZS", in_force=0),                      # superseded, never listed
    original(7, 1, "BW07", "QSZS", list_id=40),                      # already listed
    original(8, 1, "BW08", "QSZS", collected="2025-09-15 09:00:00", in_force=0, list_id=30),
    original(9, 1, "BW08", "QSZS", collected="2025-09-30 09:00:00"),  # listed with BW08's earlier version
    original(9, 2, "BW08", "HT", ys=4, collected="2025-09-30 09:00:00"),
    original(10, 1, "BW10", "QSZS", sfzzyj=None),
    original(11, 1, "BW11", "QSZS", sfzzyj="否"),
])


def test_plan_handover_lists_each_hall_and_county_s_new_originals_once():
    lists = plan_handover(ORIGINALS, period_end=date(2025, 10, 6))
    assert [(x["list_no"], x["hall"], x["hall_name"], x["xzqh"], x["packages"], x["originals"], x["pages"]) for x in lists] == [
        ("YJ-H1-370102-20251005", "H1", "历下区政务服务中心", "370102", 3, 4, 14),
        ("YJ-H1-370103-20251005", "H1", "历下区政务服务中心", "370103", 1, 1, 2),
        ("YJ-H2-370102-20251005", "H2", "市南区政务服务中心", "370102", 1, 1, 2),
    ]
    assert lists[0]["items"] == [
        {"source": "remote", "change_seq": 1, "xh": 1, "bwid": "BW01", "clbm": "QSZS", "clmc": "不动产权属证书", "ys": 2},
        {"source": "remote", "change_seq": 1, "xh": 3, "bwid": "BW01", "clbm": "HT", "clmc": "买卖合同", "ys": 5},
        {"source": "remote", "change_seq": 2, "xh": 1, "bwid": "BW02", "clbm": "QSZS", "clmc": "不动产权属证书", "ys": 3},
        {"source": "remote", "change_seq": 9, "xh": 2, "bwid": "BW08", "clbm": "HT", "clmc": "买卖合同", "ys": 4},
    ]
    assert (lists[0]["period_from"], lists[0]["period_to"]) == (datetime(2025, 9, 29), datetime(2025, 10, 6))


def test_plan_handover_suffixes_a_list_number_already_taken():
    taken = {"YJ-H1-370102-20251005", "YJ-H1-370103-20251005", "YJ-H1-370103-20251005-2"}
    lists = plan_handover(ORIGINALS, period_end=date(2025, 10, 6), existing=taken)
    assert [x["list_no"] for x in lists] == ["YJ-H1-370102-20251005-2", "YJ-H1-370103-20251005-3", "YJ-H2-370102-20251005"]


def test_plan_handover_with_nothing_new_plans_nothing():
    assert plan_handover(ORIGINALS, period_end=date(2025, 9, 22)) == []  # everything unlisted was collected later
    assert plan_handover(ORIGINALS.iloc[:0], period_end=date(2025, 10, 6)) == []


BACKLOG = pd.DataFrame([
    original(1, 1, "BW01", "QSZS", collected="2025-10-04 18:00:00"),                 # 10 days before 10-14
    original(2, 1, "BW02", "QSZS", collected="2025-10-03 08:00:00"),                 # 11 days
    original(3, 1, "BW03", "QSZS", sfzzyj="是", collected="2025-09-26 10:00:00", list_id=5),
    original(4, 1, "BW04", "QSZS", collected="2025-09-20 10:00:00", list_id=4, received_at=datetime(2025, 9, 30, 10, 0)),
    original(5, 1, "BW05", "SQS", sfzzyj="0", collected="2025-09-20 10:00:00"),
    original(6, 1, "BW06", "QSZS", collected="2025-09-20 10:00:00", in_force=0),    # superseded, never listed: not owed
    original(7, 1, "BW07", "QSZS", collected="2025-09-15 10:00:00", in_force=0, list_id=3),  # superseded but listed: owed
    original(8, 1, "BW07", "QSZS", collected="2025-09-30 10:00:00"),                 # on BW07's earlier list
    original(8, 2, "BW07", "HT", collected="2025-09-30 10:00:00"),
])


def test_handover_state_gives_each_owed_original_its_state_and_flags_the_unreceived_old_ones():
    out = handover_state(BACKLOG, as_of=date(2025, 10, 14), max_days=10)
    assert list(zip(out["change_seq"], out["xh"], out["state"], out["days"], out["flagged"])) == [
        (1, 1, "未列入移交清单", 10, False),
        (2, 1, "未列入移交清单", 11, True),
        (3, 1, "已列清单待签收", 18, True),
        (4, 1, "已签收", 24, False),
        (7, 1, "已列清单待签收", 29, True),
        (8, 2, "未列入移交清单", 14, True),
    ]
    longer = handover_state(BACKLOG, as_of=date(2025, 10, 14), max_days=20)
    assert list(zip(longer["change_seq"], longer["flagged"])) == [(1, False), (2, False), (3, False), (4, False), (7, True), (8, False)]


def test_handover_state_of_nothing_is_an_empty_frame():
    out = handover_state(BACKLOG.iloc[:0], as_of=date(2025, 10, 14))
    assert len(out) == 0 and {"state", "days", "flagged"} <= set(out.columns)


# --- remote_report_tables ------------------------------------------------------------------------

COUNTY_NAMES = {"370102": "济南市历下区", "370103": "济南市市中区"}
REPORT_ORIGINALS = pd.DataFrame([
    original(12, 1, "BW11", "QSZS", collected="2025-09-29 09:30:00"),               # 15 days: flagged
    original(4, 1, "BW04", "QSZS", list_id=1, received_at=datetime(2025, 10, 9, 9, 0)),
    original(9, 1, "BW09", "QSZS", hall="H2", collected="2025-09-26 16:00:00", list_id=2),  # 18 days: flagged
    original(30, 1, "BW30", "QSZS", hall="H3", collected="2025-10-13 09:00:00"),   # a hall with no version in the period
])


def report() -> dict[str, pd.DataFrame]:
    handover = handover_state(REPORT_ORIGINALS, as_of=AS_OF.date())
    return remote_report_tables(tracked(), handover, period=(date(2025, 9, 1), date(2025, 10, 14)), as_of=AS_OF, county_names=COUNTY_NAMES)


def by(table: pd.DataFrame, key: str) -> dict[str, dict]:
    coded = table.rename(columns=code_of)
    return {k: {m: (None if isinstance(v, float) and math.isnan(v) else v) for m, v in row.items()} for k, row in zip(coded[key], coded.to_dict("records"))}


COUNT_NAMES = ("received", "returned", "not_sent", "delivered", "accepted", "refused", "correction", "registered", "certified", "open",
               "overdue", "late", "paper_owed", "paper_flagged")


def counts(row: dict) -> tuple:
    return tuple(int(row[m]) for m in COUNT_NAMES)


def test_the_report_by_hall_counts_every_version_once_and_adds_up():
    halls = by(report()["按代收大厅"], "SJDWDM")
    assert list(halls) == ["H1", "H2", "H3"]
    #                          rec ret not del acc ref cor reg cer open od late owed flag
    assert counts(halls["H1"]) == (10, 1, 3, 6, 4, 1, 1, 1, 1, 3, 3, 1, 1, 1)
    assert counts(halls["H2"]) == (4, 0, 0, 4, 2, 0, 0, 2, 1, 2, 0, 1, 1, 1)
    assert counts(halls["H3"]) == (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0)
    assert (halls["H1"]["acceptance_rate"], halls["H1"]["correction_rate"], halls["H1"]["certificate_median_wd"]) == (4 / 6, 1 / 6, 8.0)
    assert (halls["H2"]["acceptance_rate"], halls["H2"]["correction_rate"], halls["H2"]["certificate_median_wd"]) == (1.0, 0.0, 7.0)
    assert (halls["H3"]["acceptance_rate"], halls["H3"]["correction_rate"], halls["H3"]["certificate_median_wd"]) == (None, None, None)
    assert halls["H2"]["SJXZQH"] == "370202" and halls["H3"]["SJDWMC"] == "市中区政务服务中心"


def test_the_report_by_county_names_other_provinces_and_adds_up():
    counties = by(report()["按不动产所在县"], "XZQH")
    assert list(counties) == ["110105", "370102", "370103"]
    assert [counties[c]["county_name"] for c in counties] == ["外省（跨省通办）110105", "济南市历下区", "济南市市中区"]
    #                              rec ret not del acc ref cor reg cer open od late owed flag
    assert counts(counties["370102"]) == (12, 1, 3, 8, 5, 1, 1, 3, 2, 3, 2, 2, 3, 2)
    assert counts(counties["370103"]) == (1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0)
    assert counts(counties["110105"]) == (1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)
    assert (counties["370102"]["acceptance_rate"], counties["370102"]["correction_rate"], counties["370102"]["certificate_median_wd"]) == (5 / 7, 1 / 8, 7.5)
    assert (counties["110105"]["acceptance_rate"], counties["110105"]["correction_rate"]) == (None, 0.0)


def test_the_report_summary_totals_and_lists():
    tables = report()
    summary = tables["汇总"]
    totals = dict(zip(summary["代码(code)"], summary["合计(total)"]))
    assert {m: totals[m] for m in COUNT_NAMES} == {
        "received": 14, "returned": 1, "not_sent": 3, "delivered": 10, "accepted": 6, "refused": 1, "correction": 1, "registered": 3,
        "certified": 2, "open": 5, "overdue": 3, "late": 2, "paper_owed": 3, "paper_flagged": 2,
    }
    assert (totals["acceptance_rate"], totals["correction_rate"], totals["certificate_median_wd"]) == (0.75, 0.1, 7.5)
    overdue = tables["超期清单"]
    assert list(zip(overdue["报文编号(BWID)"], overdue["超期工作日(overdue_wd)"])) == [("BW06", 3.0), ("BW04", 1.0), ("BW05", 1.0)]
    returns = tables["退回与补正"]
    # What went back to the halls: the county's refusal and correction, and the delivery the receiver refused (its reason is the delivery's).
    assert [(b, r if isinstance(r, str) else None, m if isinstance(m, str) else None)
            for b, r, m in zip(returns["报文编号(BWID)"], returns["原因(reason)"], returns["所缺材料(missing)"])] == [
        ("BW03", None, None), ("BW10", "不动产存在查封登记，不予办理", None), ("BW11", "签章不全，请补正", "不动产权属证书（QSZS）")]


def test_check_adds_up_refuses_tables_that_do_not_balance():
    tables = report()
    by_hall, by_county = (tables[name].rename(columns=code_of) for name in ("按代收大厅", "按不动产所在县"))
    check_adds_up(by_hall, by_county)  # the report's own tables balance

    received = by_hall.copy()
    received.loc[0, "received"] += 1
    with pytest.raises(ValueError, match=r"^by_hall: received != returned \+ not sent \+ delivered$"):
        check_adds_up(received, by_county)

    opened = by_county.copy()
    opened.loc[1, "open"] += 1
    with pytest.raises(ValueError, match=r"^by_county: delivered != open \+ refused \+ correction \+ registered \+ replaced \+ withdrawn$"):
        check_adds_up(by_hall, opened)

    with pytest.raises(ValueError, match=r"^received: by hall 14 != by county 13$"):
        check_adds_up(by_hall, by_county[by_county["XZQH"] != "370103"])


def test_the_report_without_any_paper_original_owed_still_balances():
    handover = handover_state(REPORT_ORIGINALS.iloc[:0], as_of=AS_OF.date())
    tables = remote_report_tables(tracked(), handover, period=(date(2025, 9, 1), date(2025, 10, 14)), as_of=AS_OF, county_names=COUNTY_NAMES)
    halls = by(tables["按代收大厅"], "SJDWDM")
    assert list(halls) == ["H1", "H2"]
    assert [(halls[h]["received"], halls[h]["paper_owed"], halls[h]["paper_flagged"]) for h in halls] == [(10, 0, 0), (4, 0, 0)]
    assert len(tables["纸质移交"]) == 0


def test_a_certificate_reported_without_a_registered_event_counts_as_registered():
    # the 登簿 event was kept out (say its time was unreadable); the certificate came through
    packages = pd.DataFrame([package(1, "BW01", delivered_at=utc("2025-09-29 02:00")), package(2, "BW02", delivered_at=utc("2025-09-29 02:00"))])
    events = pd.DataFrame([ev(1, "accepted", "2025-09-29 14:00"), ev(1, "certificate_issued", "2025-10-10 10:00",
                                                                      detail={"certificate": {"form": "electronic", "number": "C1"}})])
    out = track(packages, events, as_of=AS_OF, calendar=CALENDAR)
    assert column(out, "stage") == {1: "certificate_issued", 2: "delivered"}
    tables = remote_report_tables(out, handover_state(REPORT_ORIGINALS.iloc[:0], as_of=AS_OF.date()), period=(date(2025, 9, 1), date(2025, 10, 14)),
                                  as_of=AS_OF, county_names=COUNTY_NAMES)
    hall = by(tables["按代收大厅"], "SJDWDM")["H1"]
    assert (hall["delivered"], hall["open"], hall["registered"], hall["certified"]) == (2, 1, 1, 1)


def test_the_page_shows_rates_as_percent_and_every_table():
    from transforms.reporting.remote_html import render_remote_html

    page = render_remote_html(report(), period=(date(2025, 9, 1), date(2025, 10, 14)), as_of=AS_OF)
    # 汇总: acceptance 6 of 8 decided, correction 1 of 10 delivered, median 7.5 working days — as people read them.
    assert "<td>75.0%</td>" in page and "<td>10.0%</td>" in page and "<td>7.5</td>" in page
    for name in ("汇总", "按代收大厅", "按不动产所在县", "超期清单", "退回与补正", "纸质移交"):
        assert f"<h2>{name}</h2>" in page
    assert "0.75" not in page


def test_the_certificate_histogram_counts_each_certified_package_once_by_its_working_days():
    out = tracked()
    certified = out[(out["in_force"].astype(int) == 1) & out["certificate_issued_at"].notna()]
    days = report()["发证用时"].rename(columns=code_of)
    assert len(days) == 16 and days["wd_to_certificate"].iloc[-1] == "15及以上"
    assert int(days["certified"].sum()) == len(certified) > 0
    expected = certified["wd_to_certificate"].clip(upper=15).astype(int).value_counts()
    assert {int(d) if d.isdigit() else 15: n for d, n in zip(days["wd_to_certificate"], days["certified"]) if n} == expected.to_dict()


def test_the_page_has_a_contents_list_whose_links_name_its_sections_and_three_charts():
    import re

    from transforms.reporting.remote_html import render_remote_html

    page = render_remote_html(report(), period=(date(2025, 9, 1), date(2025, 10, 14)), as_of=AS_OF)
    links = re.findall(r'<li><a href="#([\w-]+)">', page)
    sections = re.findall(r'<section id="([\w-]+)">', page)
    assert links == sections and len(sections) == 10
    charts = re.findall(r'<svg [^>]*aria-label="([^"]+)"', page)
    assert len(charts) == 3 and any("不动产所在县" in c for c in charts) and any("发证" in c for c in charts) and any("代收大厅" in c for c in charts)
    # The breakdowns: each hall's name in its own one-line cell, its codes beneath; codes in headings break only at "_".
    assert '<td class="name"><span class="label">' in page and "certificate_<wbr>median_<wbr>wd" in page
