"""Planning cancellations (transforms/cohandling/workorder_routing.py): a work order a receiver holds that the platform
withdraws, a correction no longer asks for, or a correction sends elsewhere is cancelled there
once; one never delivered is withdrawn without a message."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from tests.unit.transforms.cohandling.test_routing import HEAT_ACC, WATER_ACC, record, registry
from transforms.cohandling.workorder_routing import cancel_key, plan_cancellations, plan_versions, route_work_orders

DAY = date(2026, 11, 22)


def _routed(rec: dict) -> pd.DataFrame:
    return route_work_orders(pa.Table.from_pylist([rec]), registry(), as_of=DAY).to_pandas()


def _first(rec: dict, delivered: set[str]) -> pd.DataFrame:
    """Version 1 of each work order, the `delivered` utilities delivered (and so at their receiver)."""
    plan = plan_versions(_routed(rec).iloc[0:0].assign(version=[], correction=[]), _routed(rec), pd.DataFrame([rec]))
    current = plan.drop(columns=["action"])
    current["status"] = [("delivered" if u in delivered else s) for u, s in zip(current["utility"], current["status"])]
    current["has_delivery"] = current["utility"].isin(delivered)
    current["at_receiver"] = current["utility"].isin(delivered)
    return current


def test_a_withdrawal_after_delivery_is_cancel_pending_and_one_never_delivered_is_withdrawn():
    first = record(seq=10)
    current = _first(first, {"water", "electricity"})
    gone = record(seq=30, status="withdrawn")
    plan = plan_versions(current, _routed(gone), pd.DataFrame([gone])).set_index("utility")
    assert plan["version"].to_dict() == {"electricity": 2, "water": 2, "gas": 2, "heat": 2}
    assert plan.loc[["electricity", "water"], "status"].tolist() == ["cancel_pending", "cancel_pending"]
    assert plan.loc[["gas", "heat"], "status"].tolist() == ["withdrawn", "withdrawn"]  # never left: no message
    assert set(plan["reason_code"]) == {"RECORD_WITHDRAWN"}


def test_a_withdrawal_row_without_the_utility_fields_cancels_through_the_dropped_path():
    current = _first(record(seq=10), {"water"})
    gone = record(seq=31, status="withdrawn", requested="")  # a D row that repeats nothing
    plan = plan_versions(current, _routed(gone), pd.DataFrame([gone])).set_index("utility")
    assert plan.loc["water", ["status", "reason_code", "version"]].tolist() == ["cancel_pending", "RECORD_WITHDRAWN", 2]
    assert plan.loc["heat", "status"] == "withdrawn"


def test_a_correction_dropping_one_delivered_utility_cancels_only_that_one():
    current = _first(record(seq=10), {"water", "heat", "electricity", "gas"})
    fixed = record(seq=40, requested="electricity,gas,heat")  # water no longer asked for
    plan = plan_versions(current, _routed(fixed), pd.DataFrame([fixed])).set_index("utility")
    assert plan.loc["water", ["status", "reason_code"]].tolist() == ["cancel_pending", "UTILITY_DROPPED"]
    assert set(plan.drop(index="water")["status"]) == {"ready"}  # the others: corrections, sent as new versions


def test_a_work_order_settled_by_a_cancellation_is_final():
    current = _first(record(seq=10), {"water"})
    current.loc[current["utility"] == "water", ["status", "version"]] = ["cancelled", 2]
    current["messaged"] = current["utility"] == "water"
    current["at_receiver"] = False
    later = record(seq=50, requested="electricity,gas,heat")  # again without water
    plan = plan_versions(current, _routed(later), pd.DataFrame([later]))
    assert "water" not in set(plan["utility"])


def _held(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rowguid", "utility", "version", "channel", "destination"])


def _force(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rowguid", "utility", "version", "status", "destination", "reason_code"])


NONE = pd.DataFrame(columns=["rowguid", "utility", "version", "destination"])


def test_each_receiver_is_told_once_about_the_latest_version_it_holds():
    held = _held(("R1", "water", 1, "account", "xbw"), ("R1", "water", 2, "account", "xbw"), ("R1", "gas", 1, "system", "county_system_370103"),
                 ("R2", "electricity", 1, "grid", "grid"), ("R3", "heat", 1, "account", "xbh"))
    force = _force(("R1", "water", 3, "cancel_pending", "xbw", "RECORD_WITHDRAWN"), ("R1", "gas", 2, "withdrawn", "county_system_370103", "RECORD_WITHDRAWN"),
                   ("R2", "electricity", 2, "cancelled", "grid", "UTILITY_DROPPED"), ("R3", "heat", 1, "delivered", "xbh", None))
    out = plan_cancellations(held, force, NONE).set_index(["rowguid", "utility"])
    assert sorted(out.index) == [("R1", "gas"), ("R1", "water"), ("R2", "electricity")]  # R3 is in force as delivered
    assert out.loc[("R1", "water"), ["version", "cause_version", "reason_code", "idempotency_key"]].tolist() == [2, 3, "RECORD_WITHDRAWN", "R1:water:2:cancel"]
    assert out.loc[("R2", "electricity"), ["reason_code", "reason"]].tolist() == ["UTILITY_DROPPED", "更正后的记录不再申请该项过户"]
    again = plan_cancellations(held, force, out.reset_index()[["rowguid", "utility", "version", "destination"]])
    assert again.empty  # planned once: never twice


def test_a_correction_sent_elsewhere_cancels_at_the_old_receiver_and_a_quarantined_one_cancels_nothing():
    held = _held(("R1", "water", 1, "account", WATER_ACC.lower()), ("R2", "heat", 1, "account", HEAT_ACC.lower()),
                 ("R3", "water", 1, "account", WATER_ACC.lower()))
    force = _force(("R1", "water", 2, "ready", "xbother", "INSTITUTION_RECODED"), ("R2", "heat", 2, "quarantined", None, "VALIDATION_RECORD"),
                   ("R3", "water", 2, "ready", WATER_ACC.lower(), None))  # a correction to the same institution: it replaces
    out = plan_cancellations(held, force, NONE)
    assert out[["rowguid", "reason_code", "destination"]].values.tolist() == [["R1", "DESTINATION_CHANGED", WATER_ACC.lower()]]


def test_a_version_sent_after_a_cancellation_is_cancelled_again_when_withdrawn_again():
    held = _held(("R1", "electricity", 1, "grid", "grid"), ("R1", "electricity", 3, "grid", "grid"))
    told = pd.DataFrame([("R1", "electricity", 1, "grid")], columns=["rowguid", "utility", "version", "destination"])
    force = _force(("R1", "electricity", 4, "cancel_pending", "grid", "RECORD_WITHDRAWN"))
    out = plan_cancellations(held, force, told)
    assert out[["version", "cause_version"]].values.tolist() == [[3, 4]]


def test_cancel_keys_are_the_keys_the_receiver_got_plus_cancel():
    assert cancel_key("R1", "gas", 2, "system") == "R1:gas:2:cancel"
    odd = "记录/1"
    assert cancel_key(odd, "gas", 2, "system").startswith("h") and cancel_key(odd, "gas", 2, "system").endswith(":gas:2:cancel")
    assert cancel_key(odd, "water", 1, "account") == "记录/1:water:1:cancel"  # GDBH in a drop's file is the ROWGUID as sent


def test_reconcile_a_cancelled_work_order_is_never_overdue_and_a_result_after_its_cancellation_is_an_exception():
    from datetime import datetime

    from jobs.common import reference
    from tests.unit.transforms.cohandling.test_reconcile import CAL
    from transforms.cohandling.reconcile import reconcile
    from transforms.reporting.cohandling_tables import check_balance, prepare_orders

    base = {"utility": "water", "version": 2, "correction": True, "channel": "account", "destination": "xb1", "institution_code": "X",
            "institution_name": "某供水", "record_xzqh": "370102", "hold_until": None, "acknowledged_at": pd.NaT, "result_code": None,
            "result_reason": None, "buyer_name": "张三", "buyer_phone": "13812345678", "buyer_id": "370102199001011234", "address": "济南市",
            "certificate": "鲁(2021)济南市不动产权第0000001号", "delivery_status": None, "delivered_at": pd.NaT, "result": None,
            "handled_at": pd.NaT, "result_after_cancel": 0}
    rows = [{"rowguid": "telling", "order_status": "cancel_pending"}, {"rowguid": "told", "order_status": "cancelled"},
            {"rowguid": "too_late", "order_status": "cancel_refused"}, {"rowguid": "answered_anyway", "order_status": "cancelled", "result_after_cancel": 1}]
    out = reconcile(pd.DataFrame([base | r for r in rows]), as_of=datetime(2026, 12, 30), calendar=CAL, divisions=reference.divisions())
    assert out.set_index("rowguid")["status"].to_dict() == {"telling": "cancel_pending", "told": "cancelled", "too_late": "cancel_refused",
                                                            "answered_anyway": "result_after_cancel"}
    check_balance(prepare_orders(out))  # the report knows every status and the balance holds


def test_a_cancellation_batch_renders_the_same_bytes_in_every_format_with_a_cancel_manifest():
    import io
    import json

    import pyarrow.parquet as pq

    from transforms.cohandling.batchfiles import CANCEL_COLUMNS, cancel_files

    items = [{"rowguid": "R2", "utility": "water", "version": 1, "reason_code": "UTILITY_DROPPED", "reason": "更正后的记录不再申请该项过户", "YCYWH": "=1+1"},
             {"rowguid": "R1", "utility": "gas", "version": 3, "reason_code": "RECORD_WITHDRAWN", "reason": "平台已撤回该记录", "YCYWH": "YW1"}]
    for fmt in ("csv", "csv_gb18030", "jsonl", "parquet"):
        files = cancel_files(items, base_name="XBCX20261123_00000007", file_format=fmt, run_id="r2", batch_id=7, institution="xbw")
        again = cancel_files(list(reversed(items)), base_name="XBCX20261123_00000007", file_format=fmt, run_id="r2", batch_id=7, institution="xbw")
        assert [f.data for f in files] == [f.data for f in again]  # a retry publishes the same bytes
        data, sums, manifest = files
        meta = json.loads(manifest.data)
        assert meta["kind"] == "cancel" and meta["records"] == 2 and meta["columns"] == list(CANCEL_COLUMNS)
        assert sums.data.decode() == f"{data.sha256}  {data.name}\n"
        if fmt == "parquet":
            rows = pq.read_table(io.BytesIO(data.data)).to_pylist()
            assert [r["GDBH"] for r in rows] == ["R1:gas:3", "R2:water:1"]
        if fmt == "csv":
            text = data.data.decode("utf-8-sig")
            assert text.splitlines()[0] == '"GDBH","ROWGUID","YCYWH","XBLX","BBH","CXDM","CXYY"'
            assert "'=1+1" in text  # a formula-like cell is neutralised
