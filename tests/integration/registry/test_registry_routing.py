"""The registry loaded from real form files, with history, and routing through the ledger —
on SQLite and on real PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.common.inbox import load_inbox
from jobs.registry.form_intake import current_registry, load_form
from simulators.forms import late_counties
from simulators.platform import corrections, generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry
from transforms.common.checkdigits import USCC_CHARSET, uscc_check_chars
from transforms.registry.drop_names import drop_account

SAMPLES = sorted(p for p in (__import__("pathlib").Path(__file__).resolve().parents[3] / "forms" / "samples").iterdir() if p.is_file())


def _valid(body: str) -> str:
    return body + uscc_check_chars(np.array([[USCC_CHARSET.index(c) for c in body]]))[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")()
    ledger = Ledger(url)
    ledger.migrate()
    yield ledger
    ledger.dispose()


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def test_the_sample_forms_load_into_exactly_the_registry_they_describe(ledger, registry, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for form in SAMPLES:
        shutil.copy(form, inbox / form.name)
    (inbox / "说明.txt").write_text("not a form", encoding="utf-8")
    summaries = load_inbox(ledger, inbox, now=datetime(2021, 6, 1, 9, 0), load=load_form)
    assert len(summaries) == len(SAMPLES) and all(s.errors == 0 and s.warnings == 0 for s in summaries)
    assert sum(len(s.added) for s in summaries if s.kind == "annex2") == len(registry)
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []  # and no lock file: the inbox lock is in the ledger
    done = inbox / "processed" / "2021-06-01"
    assert len(list(done.glob("*.issues.csv"))) == len(SAMPLES)
    assert (inbox / "rejected" / "说明.txt.why.txt").read_text(encoding="utf-8").startswith("不是表格文件")

    got = current_registry(ledger, datetime(2021, 12, 31)).set_index("code").sort_index()
    want = registry.set_index("code").sort_index()
    assert list(got.index) == list(want.index)
    for column in ("utility", "xzqh", "name", "channel", "file_format", "service_phone"):
        assert (got[column] == want[column]).all(), column
    assert ((got["contact_name"] + " " + got["contact_mobile"]) == want["contact"]).all()
    opened = got["open_date"].dt.date
    account = want["channel"] == "account"
    late = want["xzqh"].isin(late_counties(registry))
    assert (opened[account & ~late] == want.loc[account & ~late, "open_date"]).all()
    assert opened[~account | late].isna().all()
    assert set(got.loc[got["channel"] == "account", "drop_account"]) == {drop_account(c) for c in want[account].index}

    # The same file again: recognised by its hash, not loaded twice.
    shutil.copy(SAMPLES[0], inbox / SAMPLES[0].name)
    again = load_inbox(ledger, inbox, now=datetime(2021, 6, 2), load=load_form)
    assert [s.already_loaded for s in again] == [True]


def _county_form(path, rows, *, effective: str = "", city: str = "济南市") -> None:
    """An Annex 2 as a county fills it in Excel: merged title, two-line merged headings, merged county cells."""
    book = Workbook()
    ws = book.active
    ws.title = "摸底表"
    ws.append(["水气热机构信息摸底表"])
    ws.merge_cells("A1:J1")
    ws.append([f"城市：{city}", None, "填表部门：住建局", None, "填表人：刘洋", None, "电话：0531-66012345", None, f"生效日期：{effective}" if effective else None])
    ws.append(["县（市、区）", "业务类型\n（水/气/热）", "机构名称", "机构编码", "是否知晓\n10月1日全面开通协办过户", "过户业务\n服务电话", "联系人及\n电话", "协办方式", "文件格式", "原机构编码"])
    ws.append([None, None, None, None, None, "区号+座机号码", "姓名+手机号及座机"])
    for col in "ABCDEHIJ":
        ws.merge_cells(f"{col}3:{col}4")
    first = ws.max_row + 1
    for row in rows:
        ws.append(row)
    county_rows = [i for i, r in enumerate(rows) if r and r[0]]
    for a, b in zip(county_rows, county_rows[1:] + [len(rows)]):
        if b - a > 1:
            ws.merge_cells(start_row=first + a, end_row=first + b - 1, start_column=1, end_column=1)
    book.save(path)


WATER = _valid("91370102MA3C5LXX1")
GAS = _valid("91370102MA3C5LXX2")
HEAT = _valid("91370102MA3C5LXX3")
GAS2 = _valid("91370112MA3C5LXX4")
WATER_NEW = _valid("91370102MA3C5LXX9")


def test_a_county_form_with_broken_rows_loads_its_good_rows_and_keeps_every_issue(ledger, tmp_path):
    path = tmp_path / "附件2_济南市.xlsx"
    _county_form(path, [
        ["历下区", "水", "济南水务集团历下区分公司", WATER, "是", "0531-86001234", "王伟 13812345678", "配置账号"],
        [None, "气", "济南港华燃气有限公司", GAS, "是", "(0531)8600 5678", "李娜13912345678", "系统对接", "JSONL"],
        [None, "热", "历下热力", GAS, "是", "0531-86001234", "王伟 13812345678"],  # duplicate code
        ["370999", "气", "某燃气公司", _valid("91370102MA3C5LXY1"), "是", "0531-86001234", "王伟 13812345678"],  # unknown county code
        ["历城区", "气", "济南历城燃气", GAS2, "是", "0531-86001234", "王伟 13812345678", "快递"],  # unknown channel
        [None, "热", "济南热力有限公司", HEAT, "是", "0531-86001234", "王伟 13812345678"],
        ["合计", "燃气公司3个，热力公司2个，供水公司1个"],
    ])
    summary = load_form(ledger, path, now=datetime(2022, 1, 5, 10, 0))
    assert [(i.row, i.column, i.rule) for i in summary.issues] == [
        (7, "D 机构编码", "FORM_CODE_DUPLICATE"),
        (8, "A 县（市、区）", "FORM_COUNTY_UNKNOWN"),
        (9, "H 协办方式", "FORM_CHANNEL_UNKNOWN"),
    ]
    assert (summary.rows_loaded, len(summary.added), summary.errors, summary.warnings) == (3, 3, 3, 0)
    stored = ledger.registry.form_issues(summary.form_id)
    assert [(i["sheet"], i["row_number"], i["column_name"], i["rule"]) for i in stored] == [("摸底表", 7, "D 机构编码", "FORM_CODE_DUPLICATE"),
                                                                                            ("摸底表", 8, "A 县（市、区）", "FORM_COUNTY_UNKNOWN"),
                                                                                            ("摸底表", 9, "H 协办方式", "FORM_CHANNEL_UNKNOWN")]
    reg = current_registry(ledger, datetime(2022, 1, 6)).set_index("code")
    assert sorted(reg.index) == sorted([WATER, GAS, HEAT])
    assert reg.loc[GAS, ["channel", "endpoint_conn_id", "service_phone"]].tolist() == ["system", "county_system_370102", "0531-86005678"]
    assert reg.loc[HEAT, "xzqh"] == "370112"  # the merged county cell (历城区) covers the heat row

    bad3 = tmp_path / "附件3_济南市.csv"
    bad3.write_text("济南市不动产登记与水气热过户网上协同办理开通申请\n序号,县（市、区）,燃气公司（个）,热力公司（个）,供水公司（个）,申请开通日期\n"
                    "1,历下区,1,0,1,2022-02-30\n2,历城区,0,1,0,2022-03-01\n", encoding="gb18030")
    opened = load_form(ledger, bad3, now=datetime(2022, 1, 6))
    assert [(i.row, i.column, i.rule) for i in opened.issues] == [(3, "F 申请开通日期", "FORM_DATE_INVALID")]
    assert [h["open_date"].isoformat() for h in ledger.registry.opening_history("370112")] == ["2022-03-01"]
    assert ledger.registry.opening_history("370102") == []


def test_changes_are_new_versions_and_routing_follows_the_version_in_force(ledger, tmp_path):
    v1 = tmp_path / "v1.xlsx"
    _county_form(v1, [
        ["历下区", "水", "济南水务集团历下区分公司", WATER, "是", "0531-86001234", "王伟 13812345678"],
        [None, "气", "济南港华燃气有限公司", GAS, "是", "0531-86005678", "李娜 13912345678"],
    ], effective="2022-01-01")
    first = load_form(ledger, v1)
    assert len(first.added) == 2
    v2 = tmp_path / "v2.xlsx"
    _county_form(v2, [
        ["历下区", "水", "济南水务集团历下区分公司", WATER_NEW, "是", "0531-86001234", "王伟 13812345678", None, None, WATER],  # re-coded
        [None, "气", "济南港华燃气（历下）有限公司", GAS, "是", "0531-86005678", "李娜 13912345678"],  # renamed
        [None, "热", "济南热力", GAS, "是", "0531-86005678", "李娜 13912345678"],  # gas code as heat: refused
    ], effective="2023-01-01")
    second = load_form(ledger, v2)
    assert [i.rule for i in second.issues] == ["FORM_CODE_DUPLICATE"]
    assert second.changed[0].startswith(f"{WATER} → {WATER_NEW}") and second.changed[1].startswith(f"{GAS} 济南港华燃气(历下)有限公司: name")
    history = ledger.registry.institution_history(GAS)
    assert [(h["name"], h["valid_from"].year, h["valid_to"].year if h["valid_to"] else None) for h in history] == [
        ("济南港华燃气有限公司", 2022, 2023), ("济南港华燃气(历下)有限公司", 2023, None)]
    assert ledger.registry.institution_history(WATER)[0]["successor_code"] == WATER_NEW

    older = tmp_path / "older.xlsx"
    _county_form(older, [["历下区", "气", "旧名称", GAS, "是", "0531-86005678", "李娜 13912345678"]], effective="2022-06-01")
    assert [i.rule for i in load_form(ledger, older).issues] == ["FORM_OLDER_THAN_IN_FORCE"]
    other = tmp_path / "other.xlsx"
    _county_form(other, [["历下区", "热", "济南热力", GAS, "是", "0531-86005678", "李娜 13912345678"]], effective="2023-06-01")
    assert [i.rule for i in load_form(ledger, other).issues] == ["FORM_CODE_OTHER_TYPE"]

    in_2022 = current_registry(ledger, datetime(2022, 6, 1)).set_index("code")
    in_2023 = current_registry(ledger, datetime(2023, 6, 1)).set_index("code")
    assert in_2022.loc[GAS, "name"] == "济南港华燃气有限公司" and in_2023.loc[GAS, "name"] == "济南港华燃气(历下)有限公司"
    assert WATER_NEW not in in_2022.index and not in_2023.loc[WATER, "in_force"] and in_2023.loc[WATER, "successor_code"] == WATER_NEW

    from transforms.cohandling.workorder_routing import route_work_orders

    rec = pd.DataFrame([{"ROWGUID": "R1", "source": "platform", "change_seq": 1, "status": "passed", "requested": "water,gas", "blocked": "",
                         "XZQH": "370102", "YDHH": None, "YSHH": "W1", "GSJGBM": WATER, "GSJGMC": "济南水务集团历下区分公司",
                         "YQHH": "G1", "RQJGBM": GAS, "RQJGMC": "济南港华燃气有限公司", "YNHH": None, "GRJGBM": None, "GRJGMC": None}])
    then = route_work_orders(rec, in_2022.reset_index(), as_of=datetime(2022, 6, 1).date()).to_pandas().set_index("utility")
    now = route_work_orders(rec, in_2023.reset_index(), as_of=datetime(2023, 6, 1).date()).to_pandas().set_index("utility")
    assert then.loc["water", "destination"] == drop_account(WATER) and now.loc["water", "destination"] == drop_account(WATER_NEW)
    assert then.loc["gas", "institution_version_id"] == history[0]["version_id"] and now.loc["gas", "institution_version_id"] == history[1]["version_id"]


def test_daily_runs_route_hold_release_and_version_corrections_without_duplicates(ledger, registry, tmp_path):
    platform = PlatformDB(f"sqlite:///{tmp_path / 'platform.db'}")
    platform.create()
    source = RecordSource(f"sqlite:///{tmp_path / 'platform.db'}")
    for form in SAMPLES:
        load_form(ledger, form, now=datetime(2021, 6, 1))
    batch = generate(1500, seed=41, start="2021-06-01", end="2021-06-30", as_of=datetime(2021, 7, 1), defect_rate=0.08, registry=registry)
    platform.write(batch)

    def day(run_id: str, as_of: datetime):
        extract_changes(source, ledger, run_id=run_id)
        validate_run(ledger, run_id=run_id, as_of=as_of, registry=current_registry(ledger, as_of), out_dir=tmp_path / run_id, data_docs=False)
        return route_run(ledger, run_id=run_id, as_of=as_of)

    first = day("d1", datetime(2021, 7, 1, 6))
    orders = pd.DataFrame(ledger.cohandling.work_orders())
    assert first.by_status.get("held", 0) > 100 and first.released == 0
    assert orders.groupby(["rowguid", "utility"]).size().max() == 1
    held = orders[orders["status"] == "held"]
    assert set(held["channel"]) == {"account"} and set(held["reason_code"]) <= {"COUNTY_NOT_OPEN", "COUNTY_NOT_APPLIED"}
    assert (orders.loc[orders["utility"] == "electricity", "destination"] == "grid").all()

    # Nothing lost: every valid record has a work order per requested utility; quarantined ones have none.
    with ledger.engine.connect() as conn:
        states = pd.read_sql("SELECT s.rowguid, s.status, v.requested FROM record_state s JOIN record_verdict v ON v.source = s.source AND v.change_seq = s.change_seq", conn)
    wanted = states[states["status"].isin(["passed", "partial"])]
    expected = sum(len(r.split(",")) for r in wanted["requested"])
    assert len(orders) == expected
    assert not set(orders["rowguid"]) & set(states.loc[states["status"] == "quarantined", "rowguid"])

    second = day("d2", datetime(2021, 10, 2, 6))  # every county that applied has opened by now
    assert second.released == int((held["reason_code"] == "COUNTY_NOT_OPEN").sum())
    after = pd.DataFrame(ledger.cohandling.work_orders())
    still = after[after["status"] == "held"]
    late_drops = {drop_account(c) for c in registry.loc[registry["xzqh"].isin(late_counties(registry)), "code"]}
    assert len(still) > 0 and set(still["reason_code"]) == {"COUNTY_NOT_APPLIED"} and set(still["destination"]) <= late_drops
    assert len(after) == len(orders) and len(pd.DataFrame(ledger.cohandling.work_orders(history=True))) == len(orders)  # released in place

    fixes = corrections(platform.truth(), seed=42, registry=registry, fraction=0.3)
    platform.write(fixes)
    third = day("d3", datetime(2021, 10, 3, 6))
    final = pd.DataFrame(ledger.cohandling.work_orders())
    history = pd.DataFrame(ledger.cohandling.work_orders(history=True))
    assert final.groupby(["rowguid", "utility"]).size().max() == 1  # never a second work order for the same key
    corrected = final[final["correction"]]
    assert third.corrections == len(corrected) > 0 and (corrected["version"] == 2).all()
    v1 = history[history["version"] == 1].set_index(["rowguid", "utility"])
    superseded = v1.loc[list(corrected.set_index(["rowguid", "utility"]).index), "status"]
    assert set(superseded) <= {"superseded", "delivered"}
    assert len(history) == len(final) + len(corrected)
    again = route_run(ledger, run_id="d3", as_of=datetime(2021, 10, 3, 6))
    assert again.work_orders_written == 0  # re-running the same day changes nothing


def test_an_institution_registered_later_releases_the_work_orders_validation_blocked(ledger, registry, tmp_path):
    platform = PlatformDB(f"sqlite:///{tmp_path / 'platform.db'}")
    platform.create()
    source = RecordSource(f"sqlite:///{tmp_path / 'platform.db'}")
    jinan = [f for f in SAMPLES if "济南" in f.name and "附件2" in f.name]
    for form in SAMPLES:
        if form not in jinan:  # Jinan's survey form has not arrived yet
            load_form(ledger, form, now=datetime(2021, 6, 1))
    batch = generate(600, seed=43, start="2021-09-01", end="2021-09-30", as_of=datetime(2021, 10, 1), defect_rate=0.0, registry=registry)
    platform.write(batch)
    as_of = datetime(2021, 10, 2, 6)
    extract_changes(source, ledger, run_id="d1")
    validate_run(ledger, run_id="d1", as_of=as_of, registry=current_registry(ledger, as_of), out_dir=tmp_path / "d1", data_docs=False)
    route_run(ledger, run_id="d1", as_of=as_of)
    blocked = [w for w in ledger.cohandling.work_orders() if w["reason_code"] == "VALIDATION_BLOCKED"]
    assert blocked and all(w["xzqh"].startswith("3701") for w in blocked)

    load_form(ledger, jinan[0], now=datetime(2021, 10, 2, 9))  # the form arrives
    extract_changes(source, ledger, run_id="d2")
    validate_run(ledger, run_id="d2", as_of=as_of.replace(day=3), registry=current_registry(ledger, as_of.replace(day=3)), out_dir=tmp_path / "d2", data_docs=False)
    released = route_run(ledger, run_id="d2", as_of=as_of.replace(day=3))
    after = {(w["rowguid"], w["utility"]): w for w in ledger.cohandling.work_orders()}
    assert all(after[(w["rowguid"], w["utility"])]["status"] == "ready" for w in blocked)
    assert released.work_orders_written == len(blocked)
    assert all(after[(w["rowguid"], w["utility"])]["version"] == 1 for w in blocked)  # released in place, not a new version
