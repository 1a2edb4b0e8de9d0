"""Feed entries checked before anything is stored (transforms/common/feeds.py, the results and events specs),
the results rules for withdrawn work orders and repeated acknowledgements (transforms/cohandling/result_files.py),
and the buyer's SMS built from templates (transforms/cohandling/notify.py)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from transforms.cohandling.notify import MAX_SMS_CHARS, TEMPLATES, notification_texts
from transforms.cohandling.result_files import FEED_RESULT_FIELDS, KnownWorkOrders, check_results, rows_from_feed, screen_feed_results
from transforms.common.feeds import MAX_ENTRY_BYTES, raw_json, screen_entry
from transforms.remote.package_tracking import EVENT_FIELDS, screen_events

AS_OF = datetime(2026, 11, 30, 12, 0)
SOURCE = "feed:county/370102"


def good(n: int = 1, **changes) -> dict:
    rowguid = f"r{n:04d}"
    entry = {"idempotency_key": f"{rowguid}:water:1", "rowguid": rowguid, "utility": "water", "version": 1, "receipt_id": "370102-1",
             "result": "done", "code": "0000", "reason": None, "handled_at": "2026-11-25T10:15:00", "handler": "王丽", "seq": n}
    entry.update(changes)
    return entry


def deliveries(*rows) -> pd.DataFrame:
    base = [{"rowguid": f"r{n:04d}", "utility": "water", "version": 1, "channel": "system", "destination": "county_system_370102",
             "delivered_at": datetime(2026, 11, 24, 9, 0), "order_status": "delivered", "order_version": 1} for n in range(1, 6)]
    for row in rows:
        base = [b | row if b["rowguid"] == row["rowguid"] else b for b in base]
    return pd.DataFrame(base)


def outcomes(*rows) -> pd.DataFrame:
    columns = ["rowguid", "utility", "version", "acknowledged_at", "result", "code", "reason", "handled_at", "handler", "source", "updated_at"]
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


def check(entries: list, known: KnownWorkOrders):
    fit, bad = screen_feed_results(entries)
    assert not bad
    return check_results(rows_from_feed([e for _, e in fit], positions=[i for i, _ in fit]), source=SOURCE, known=known, as_of=AS_OF)


# --- screening ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("version", "²", "FEED_FIELD_TYPE"),
    ("version", "１", "FEED_FIELD_TYPE"),
    ("version", True, "FEED_FIELD_TYPE"),
    ("version", 3.5, "FEED_FIELD_TYPE"),
    ("version", 2**31, "FEED_FIELD_RANGE"),
    ("version", 0, "FEED_FIELD_RANGE"),
    ("seq", 2**63, "FEED_FIELD_RANGE"),
    ("seq", -1, "FEED_FIELD_RANGE"),
    ("seq", "١٢٣", "FEED_FIELD_TYPE"),
    ("rowguid", "r" * 65, "FEED_FIELD_TOO_LONG"),
    ("idempotency_key", "k" * 201, "FEED_FIELD_TOO_LONG"),
    ("rowguid", "r0001\u200b", "FEED_FIELD_CHARACTERS"),
    ("code", "00\x0000", "FEED_FIELD_CHARACTERS"),
    ("code", ["0000"], "FEED_FIELD_TYPE"),
    ("reason", "原因" * 300, "FEED_FIELD_TOO_LONG"),
    ("reason", {"a": 1}, "FEED_FIELD_TYPE"),
    ("reason", "bad \udcff byte", "FEED_FIELD_ENCODING"),
    ("handled_at", "２０２６-11-25 10:15", "FEED_FIELD_FORMAT"),
    ("handled_at", 20261125, "FEED_FIELD_TYPE"),
    ("handler", float("nan"), "FEED_FIELD_RANGE"),
])
def test_a_bad_field_refuses_the_entry_with_one_rule_naming_the_field(field, value, rule):
    checked, problem = screen_entry(good(**{field: value}), FEED_RESULT_FIELDS)
    assert checked is None and problem.rule == rule and problem.field == field and field in problem.message


def test_text_is_cleaned_not_refused_and_integers_given_as_ascii_digits_are_read():
    checked, problem = screen_entry(good(reason="欠费\x00未结清\u202e，见\nhttp://x", version="1", seq="7"), FEED_RESULT_FIELDS)
    assert problem is None and checked["reason"] == "欠费未结清，见 http://x" and checked["version"] == 1 and checked["seq"] == 7


def test_not_an_object_too_large_and_too_deep_are_refused():
    assert screen_entry([1, 2], FEED_RESULT_FIELDS)[1].rule == "FEED_NOT_OBJECT"
    assert screen_entry(good(extra="x" * MAX_ENTRY_BYTES), FEED_RESULT_FIELDS)[1].rule == "FEED_ENTRY_TOO_LARGE"
    deep: object = 1
    for _ in range(50):
        deep = [deep]
    assert screen_entry(good(extra=deep), FEED_RESULT_FIELDS)[1].rule == "FEED_ENTRY_TOO_LARGE"


def test_raw_json_keeps_bytes_that_were_not_utf8_as_they_were():
    assert raw_json({"reason": "a\udcffb"}) == b'{"reason": "a\xffb"}'
    assert raw_json({"reason": "a\ud800b"}).startswith(b'{"reason": "a')


def test_events_are_screened_with_their_own_fields():
    event = {"idempotency_key": "YD1:1187", "bwid": "YD1", "change_seq": 1187, "status": "correction", "at": "2026-11-17T09:46:00",
             "reason": "签章\x00不全", "missing": [{"CLBM": "DYHT", "CLMC": "抵押\u200b合同"}], "seq": 3}
    fit, bad = screen_events([event, dict(event, change_seq="²"), dict(event, fee={"amount_yuan": float("inf")}), "x"])
    assert [r.rule for _, r in bad] == ["FEED_FIELD_TYPE", "FEED_FIELD_RANGE", "FEED_NOT_OBJECT"] and [i for i, _ in bad] == [1, 2, 3]
    assert fit[0]["reason"] == "签章不全" and fit[0]["missing"] == [{"CLBM": "DYHT", "CLMC": "抵押合同"}]
    assert {f.name for f in EVENT_FIELDS} >= {"idempotency_key", "status", "at", "reason", "seq"}


# --- failing before: the version "²" and a seq beyond the column ---------------------------------------


def test_a_superscript_version_in_a_key_is_a_bad_key_not_a_crash():
    known = KnownWorkOrders(deliveries(), outcomes())
    rows = rows_from_feed([good(1, version=None, idempotency_key="r0001:water:²"), good(2)])
    accepted, problems = check_results(rows, source=SOURCE, known=known, as_of=AS_OF)
    assert [p["reason_code"] for p in problems] == ["RESULT_BAD_KEY"] and list(accepted["rowguid"]) == ["r0002"]


# --- withdrawn work orders and repeated acknowledgements ---------------------------------------------


@pytest.mark.parametrize(("status", "words"), [
    ("withdrawn", "平台已撤回"), ("cancelled", "更正后不再需要"),
    # a delivered order the platform withdrew: cancel_pending until the receiver is told (transforms/cohandling/workorder_routing.py)
    ("cancel_pending", "取消通知待发"), ("cancel_refused", "接收方答复已办理"),
])
def test_a_result_for_a_work_order_withdrawn_or_cancelled_after_delivery_is_refused(status, words):
    known = KnownWorkOrders(deliveries({"rowguid": "r0001", "order_status": status, "order_version": 2}), outcomes())
    accepted, problems = check([good(1), good(2)], known)
    assert list(accepted["rowguid"]) == ["r0002"]
    assert [p["reason_code"] for p in problems] == ["RESULT_WITHDRAWN"]
    assert "r0001:water:1" in problems[0]["reason"] and words in problems[0]["reason"] and "RESULT_WITHDRAWN" in problems[0]["reason"]


def test_an_acknowledgement_replayed_or_sent_again_is_kept_once():
    ack = {"result": "received", "code": "0100"}
    known = KnownWorkOrders(deliveries(), outcomes({"rowguid": "r0003", "utility": "water", "version": 1, "acknowledged_at": datetime(2026, 11, 24, 10)}))
    accepted, problems = check([good(1, **ack), good(1, **ack), good(1, **ack, handled_at="2026-11-25T11:00:00"), good(3, **ack), good(1)], known)
    assert list(zip(accepted["rowguid"], accepted["code"])) == [("r0001", "0100"), ("r0001", "0000")]
    assert [p["reason_code"] for p in problems] == ["RESULT_DUPLICATE"] * 3
    again, problems = check([good(1, **ack), good(1)], known)  # the next poll, the same known state
    assert not len(again) and [p["reason_code"] for p in problems] == ["RESULT_DUPLICATE", "RESULT_DUPLICATE"]


# --- the buyer's SMS -------------------------------------------------------------------------------


def candidate(**changes) -> dict:
    row = {"rowguid": "r0001", "utility": "water", "version": 1, "result": "rejected", "code": "0009", "buyer_phone": "13812345678",
           "certificate": "鲁(2021)济南市不动产权第6994516号", "institution_name": "济南水务集团有限公司", "institution_phone": "0531-88888888",
           "reason": "详情见 http://evil.example/x 或致电 13900000000 " + "很长的说明" * 80}
    row.update(changes)
    return row


def test_an_institution_s_reason_never_reaches_the_citizen():
    [sms] = notification_texts(pd.DataFrame([candidate()]))
    assert "http" not in sms["text"] and "13900000000" not in sms["text"] and "很长的说明" not in sms["text"]
    assert sms["text"] == ("【不动产登记】您的用水过户申请（不动产权证号鲁(2021)济南市不动产权第6994516号）济南水务集团有限公司未能办理。"
                           "具体原因请与该机构联系，咨询电话0531-88888888。")
    assert sms["phone"] == "13812345678"


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_every_code_has_a_chinese_template_within_one_sms(code):
    result = "done" if code in ("0000", "0201") else "rejected"
    [sms] = notification_texts(pd.DataFrame([candidate(code=code, result=result, institution_name="某" * 40,
                                                               certificate="鲁" * 40, institution_phone="400-123-4567")]))
    assert sms["text"].startswith("【不动产登记】") and len(sms["text"]) <= MAX_SMS_CHARS and "http" not in sms["text"]


@pytest.mark.parametrize(("column", "value"), [
    ("institution_name", "水务 http://x.cn"), ("institution_name", "客服13900000000"), ("institution_name", "<b>水</b>"),
    ("institution_phone", "拨打 www.x.cn"), ("institution_phone", "1390000000012345"), ("certificate", "=HYPERLINK(\"x\")"),
])
def test_values_filled_in_pass_strict_checks_or_are_left_out(column, value):
    [sms] = notification_texts(pd.DataFrame([candidate(**{column: value})]))
    assert value not in sms["text"]
    assert ("办理机构" in sms["text"]) == (column == "institution_name")
