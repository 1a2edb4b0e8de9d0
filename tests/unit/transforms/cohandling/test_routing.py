"""Routing records into work orders: destinations, holds, registry versions, corrections."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from transforms.cohandling.workorder_routing import plan_versions, route_work_orders

WATER_ACC = "91370102000000001A"  # codes need not be valid USCCs here: routing looks them up
GAS_SYS = "91370103000000002B"
HEAT_ACC = "91370102000000003C"
GAS_LATE = "91371728000000004D"


def registry(**overrides) -> pd.DataFrame:
    rows = [
        {"version_id": 1, "code": WATER_ACC, "utility": "water", "xzqh": "370102", "name": "历下供水", "channel": "account",
         "drop_account": WATER_ACC.lower(), "endpoint_conn_id": None, "file_format": "csv_gb18030", "open_date": "2021-07-15"},
        {"version_id": 2, "code": GAS_SYS, "utility": "gas", "xzqh": "370103", "name": "市中燃气", "channel": "system",
         "drop_account": None, "endpoint_conn_id": "county_system_370103", "file_format": "csv", "open_date": None},
        {"version_id": 3, "code": HEAT_ACC, "utility": "heat", "xzqh": "370102", "name": "历下热力", "channel": "account",
         "drop_account": HEAT_ACC.lower(), "endpoint_conn_id": None, "file_format": "parquet", "open_date": "2021-07-15"},
        {"version_id": 4, "code": GAS_LATE, "utility": "gas", "xzqh": "371728", "name": "东明燃气", "channel": "account",
         "drop_account": GAS_LATE.lower(), "endpoint_conn_id": None, "file_format": "csv", "open_date": "2026-12-01"},
    ]
    frame = pd.DataFrame(rows)
    frame["in_force"] = True
    frame["successor_code"] = None
    for key, value in overrides.items():
        frame[key] = value
    return frame


def record(rowguid="R1", seq=1, status="passed", requested="electricity,water,gas,heat", blocked="", **fields) -> dict:
    base = {"ROWGUID": rowguid, "source": "platform", "change_seq": seq, "status": status, "requested": requested, "blocked": blocked,
            "XZQH": "370102", "YDHH": "3700123456", "YSHH": "W-1", "GSJGBM": WATER_ACC, "GSJGMC": "历下供水",
            "YQHH": "G-1", "RQJGBM": GAS_SYS, "RQJGMC": "市中燃气", "YNHH": "H-1", "GRJGBM": HEAT_ACC, "GRJGMC": "历下热力"}
    return base | fields


def route(records: list[dict], reg: pd.DataFrame, day=date(2026, 11, 22)) -> pd.DataFrame:
    """Work orders by utility, with None for every missing value (as the ledger stores them)."""
    out = route_work_orders(pa.Table.from_pylist(records), reg, as_of=day).to_pandas().set_index("utility")
    return out.astype(object).where(out.notna(), None)


def test_a_record_with_all_four_utilities_gives_four_work_orders_to_the_right_destinations():
    out = route([record()], registry())
    assert list(out.index) == ["electricity", "water", "gas", "heat"]
    assert out.loc["electricity", ["channel", "destination", "status", "account_no"]].tolist() == ["grid", "grid", "ready", "3700123456"]
    assert out.loc["water", ["channel", "destination", "file_format", "status"]].tolist() == ["account", WATER_ACC.lower(), "csv_gb18030", "ready"]
    assert out.loc["gas", ["channel", "destination", "file_format", "status"]].tolist() == ["system", "county_system_370103", None, "ready"]
    assert out.loc["heat", ["channel", "destination", "file_format", "status"]].tolist() == ["account", HEAT_ACC.lower(), "parquet", "ready"]
    assert out["institution_version_id"].tolist()[1:] == [1, 2, 3]
    assert out["reason_code"].isna().all() and out["reason"].isna().all()


def test_full_width_and_lower_case_codes_route_like_validation_reads_them():
    fw = WATER_ACC.lower().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    out = route([record(requested="water", GSJGBM=f" {fw} ")], registry())
    assert out.loc["water", "destination"] == WATER_ACC.lower() and out.loc["water", "institution_code"] == WATER_ACC


def test_held_until_the_county_opens_then_released():
    rec = record(requested="gas", RQJGBM=GAS_LATE, XZQH="371728")
    before = route([rec], registry(), day=date(2026, 11, 30))
    assert before.loc["gas", ["status", "reason_code"]].tolist() == ["held", "COUNTY_NOT_OPEN"]
    assert before.loc["gas", "hold_until"] == date(2026, 12, 1)
    assert before.loc["gas", "reason"] == "所在县配置账号方式于2026-12-01开通，届时自动发送"
    on_the_day = route([rec], registry(), day=date(2026, 12, 1))
    assert on_the_day.loc["gas", ["status", "reason_code", "destination"]].tolist() == ["ready", None, GAS_LATE.lower()]
    reg = registry()
    reg.loc[reg["code"] == GAS_LATE, "open_date"] = None  # the county has not applied at all
    never = route([rec], reg)
    assert never.loc["gas", ["status", "reason_code"]].tolist() == ["held", "COUNTY_NOT_APPLIED"] and never.loc["gas", "hold_until"] is None


def test_unknown_missing_and_other_type_codes_quarantine_only_that_work_order():
    out = route([record(GSJGBM="91370102999999999X", RQJGBM=HEAT_ACC, GRJGBM=None)], registry())
    assert out.loc["electricity", "status"] == "ready"
    assert out.loc["water", ["status", "reason_code"]].tolist() == ["quarantined", "INSTITUTION_UNKNOWN"]
    assert out.loc["water", "reason"] == "机构编码“91370102999999999X”不在现行机构名录中"
    assert out.loc["gas", ["status", "reason_code"]].tolist() == ["quarantined", "INSTITUTION_OTHER_TYPE"]
    assert out.loc["gas", "reason"] == f"机构编码“{HEAT_ACC}”在名录中是供热机构"
    assert out.loc["heat", ["status", "reason_code"]].tolist() == ["quarantined", "INSTITUTION_MISSING"]


def test_validation_outcome_decides_first():
    out = route([record(status="partial", blocked="gas")], registry())
    assert out.loc["gas", ["status", "reason_code"]].tolist() == ["quarantined", "VALIDATION_BLOCKED"]
    assert (out.drop(index="gas")["status"] == "ready").all()
    withdrawn = route([record(status="withdrawn")], registry())
    assert set(withdrawn["status"]) == {"withdrawn"}
    only = route([record(requested="electricity")], registry())
    assert list(only.index) == ["electricity"]


def test_renamed_and_recoded_institutions_route_by_the_version_in_force():
    # v1 of the water company was re-coded: its old code is retired and names the new one.
    new_code = "91370102000000009Z"
    reg = registry()
    old = reg[reg["code"] == WATER_ACC].copy()
    old["in_force"] = False
    old["successor_code"] = new_code
    reg.loc[reg["code"] == WATER_ACC, ["code", "version_id", "name", "drop_account"]] = [new_code, 7, "济南水务集团历下分公司", new_code.lower()]
    reg = pd.concat([reg, old], ignore_index=True)
    out = route([record(requested="water")], reg)
    assert out.loc["water", ["status", "destination", "institution_version_id", "reason_code"]].tolist() == ["ready", new_code.lower(), 7, "INSTITUTION_RECODED"]
    assert out.loc["water", "reason"] == f"机构编码“{WATER_ACC}”已变更为“{new_code}”，按新编码发送"
    retired = old.assign(successor_code=None)
    gone = route([record(requested="water")], pd.concat([registry().drop(index=0), retired], ignore_index=True))
    assert gone.loc["water", ["status", "reason_code"]].tolist() == ["quarantined", "INSTITUTION_RETIRED"]


def _current(planned: pd.DataFrame) -> pd.DataFrame:
    return planned.drop(columns=["action"])


def test_versions_rerouting_never_duplicates_and_corrections_make_a_new_version():
    reg = registry()
    first = record(seq=10)
    routed = route_work_orders(pa.Table.from_pylist([first]), reg, as_of=date(2026, 11, 22)).to_pandas()
    records = pd.DataFrame([first])
    plan1 = plan_versions(routed.iloc[0:0].assign(version=[], correction=[]), routed, records)
    assert len(plan1) == 4 and set(plan1["version"]) == {1} and not plan1["correction"].any() and set(plan1["action"]) == {"new"}

    again = plan_versions(_current(plan1), routed, records)
    assert again.empty  # the same record version routed again: nothing to write

    fixed = record(seq=25, requested="electricity,water,gas", YSHH="W-2")  # heat no longer asked for
    routed2 = route_work_orders(pa.Table.from_pylist([fixed]), reg, as_of=date(2026, 11, 22)).to_pandas()
    plan2 = plan_versions(_current(plan1), routed2, pd.DataFrame([fixed])).set_index("utility")
    assert plan2["version"].to_dict() == {"electricity": 2, "water": 2, "gas": 2, "heat": 2}
    assert plan2["correction"].all() and (plan2["change_seq"] == 25).all()
    assert plan2.loc["water", "account_no"] == "W-2"
    assert plan2.loc["heat", ["status", "reason_code"]].tolist() == ["cancelled", "UTILITY_DROPPED"]

    stale = plan_versions(_current(plan2.reset_index()), routed, records)
    assert stale.empty  # an older record version never overrides a newer one


def test_held_work_order_released_in_place_and_quarantined_first_version_is_not_a_work_order():
    reg = registry()
    rec = record(requested="gas", RQJGBM=GAS_LATE, seq=3)
    held = route_work_orders(pa.Table.from_pylist([rec]), reg, as_of=date(2026, 11, 30)).to_pandas()
    plan1 = plan_versions(held.iloc[0:0].assign(version=[], correction=[]), held, pd.DataFrame([rec]))
    released = route_work_orders(pa.Table.from_pylist([rec]), reg, as_of=date(2026, 12, 1)).to_pandas()
    plan2 = plan_versions(_current(plan1), released, pd.DataFrame([rec]))
    assert plan2[["version", "status", "action", "correction"]].values.tolist() == [[1, "ready", "update", False]]

    bad = record(rowguid="R9", status="quarantined")
    routed = route_work_orders(pa.Table.from_pylist([bad]), reg, as_of=date(2026, 11, 22)).to_pandas()
    assert plan_versions(routed.iloc[0:0].assign(version=[], correction=[]), routed, pd.DataFrame([bad])).empty


def test_a_released_correction_stays_a_correction_and_planned_deliveries_are_not_rerouted():
    reg = registry()
    rec = record(requested="gas", RQJGBM=GAS_LATE, seq=3)
    held = route_work_orders(pa.Table.from_pylist([rec]), reg, as_of=date(2026, 11, 30)).to_pandas()
    current = held.assign(version=2, correction=True)  # a held correction
    released = route_work_orders(pa.Table.from_pylist([rec]), reg, as_of=date(2026, 12, 1)).to_pandas()
    plan = plan_versions(current, released, pd.DataFrame([rec]))
    assert plan[["version", "status", "correction"]].values.tolist() == [[2, "ready", True]]

    ready = released.assign(version=1, correction=False, has_delivery=True)
    renamed = registry()
    renamed.loc[renamed["code"] == GAS_LATE, "file_format"] = "parquet"  # a later form changes the institution
    again = route_work_orders(pa.Table.from_pylist([rec]), renamed, as_of=date(2026, 12, 2)).to_pandas()
    assert plan_versions(ready, again, pd.DataFrame([rec])).empty  # its delivery is planned: routing leaves it alone
