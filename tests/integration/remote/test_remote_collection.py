"""Remote collection end to end on SQLite and on real PostgreSQL: the sample checklist forms
load into exactly the lists they describe (with history), packages written by the synthetic
module are extracted exactly once, validated against the lists in force, routed, and nothing
is lost — package versions in = passed + returned + withdrawn."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from connectors.exchange_db import PackageSource
from connectors.ledger import Ledger
from jobs.remote.package_intake import extract_packages, load_checklist_form, validate_packages
from simulators.remote_checklists import build_checklists, checklist_versions
from simulators.remote_db import RemoteDB
from simulators.remote_module import corrections, generate, withdrawals

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
LOADED_AT = datetime(2021, 7, 25, 9, 0)
AS_OF = datetime(2025, 1, 1, 0, 0)


@pytest.fixture
def setup(db_urls):
    platform_url, ledger_url = db_urls
    module = RemoteDB(platform_url)
    module.create()
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = PackageSource(platform_url)
    yield module, source, ledger
    for thing in (module, source, ledger):
        thing.dispose()


def _lists(frame: pd.DataFrame) -> set[tuple]:
    valid_to = frame["valid_to"].map(lambda v: None if pd.isna(v) else pd.Timestamp(v))
    return set(zip(frame["xzqh"], frame["business_type"], frame["valid_from"].map(pd.Timestamp), valid_to, frame["material_code"],
                   frame["material_name"], frame["required"].astype(bool), frame["paper_original"].astype(bool)))


def test_sample_checklists_and_packages_flow_through_and_nothing_is_lost(setup):
    module, source, ledger = setup
    summaries = [load_checklist_form(ledger, path, now=LOADED_AT) for path in SAMPLES]
    assert [s.errors for s in summaries] == [0] * len(SAMPLES)
    # The change form sorts before some cities' first forms: those lists fill the history up to it.
    assert {i.rule for s in summaries for i in s.issues} <= {"CHECKLIST_BACKDATED"}
    assert _lists(ledger.remote.checklists()) == _lists(checklist_versions(build_checklists()))
    again = load_checklist_form(ledger, SAMPLES[0], now=LOADED_AT)
    assert again.already_loaded

    batch = generate(900, seed=11, start="2024-01-01", end="2024-12-31", defect_rate=0.15)
    module.write(batch)
    first = extract_packages(source, ledger, run_id="run-1", chunk_rows=250)
    assert (first["read"], first["new"]) == (900, 900)
    one = validate_packages(ledger, run_id="run-1", as_of=AS_OF)
    assert one["packages_in"] == 900 == one["passed"] + one["returned"] + one["withdrawn"]

    # Every labelled defect came back with the rule that names it; every clean package passed.
    truth = module.truth()
    verdicts = pd.DataFrame(ledger.remote.remote_verdicts("run-1")).merge(truth, left_on="change_seq", right_on="CHANGE_SEQ")
    assert len(verdicts) == 900
    assert set(verdicts.loc[verdicts["defect"] == "", "status"]) == {"passed"}
    assert set(verdicts.loc[verdicts["defect"] != "", "status"]) == {"returned"}
    returns = ledger.remote.remote_returns("run-1")
    named = set(zip(returns["change_seq"], returns["rule_id"], returns["field"], returns["item"]))
    labelled = truth[truth["defect"] != ""]
    assert [r for r in zip(labelled["CHANGE_SEQ"], labelled["defect_rule"], labelled["defect_field"], labelled["defect_item"]) if r not in named] == []
    packages = pd.DataFrame(ledger.remote.remote_verdicts("run-1"))
    back = packages[packages["status"] == "returned"]
    assert (back["channel"] == "return_to_hall").all() and (back["destination"] == back["sjdwdm"]).all()
    assert set(returns["hall"]) == set(back["sjdwdm"]) and (returns["message_zh"].str.len() > 0).all()
    routed = packages[packages["status"] == "passed"]
    assert set(routed["destination"]) <= {f"county_system_{x}" for x in routed["xzqh"]} | {"cross_province"}
    assert "cross_province" in set(routed["destination"]) and routed["paper_handover"].any()

    # The module corrects the returned packages and withdraws five: only those are new.
    fixes = corrections(batch, seed=12, start="2024-01-01", end="2024-12-31")
    module.write(fixes)
    gone = list(batch.packages["BWID"].iloc[:5])
    module.write(withdrawals(gone))
    second = extract_packages(source, ledger, run_id="run-2")
    assert second["new"] == len(fixes) + 5
    two = validate_packages(ledger, run_id="run-2", as_of=AS_OF)
    assert (two["packages_in"], two["returned"], two["withdrawn"]) == (len(fixes) + 5, 0, 5)
    assert extract_packages(source, ledger, run_id="run-3")["new"] == 0

    # Validating a run again changes nothing; the ledger balances; each BWID has its version in force.
    assert validate_packages(ledger, run_id="run-1", as_of=AS_OF) == one
    counts = ledger.remote.remote_counts()
    assert counts["packages"] == counts["verdicts"] == 900 + len(fixes) + 5 == counts["passed"] + counts["returned"] + counts["withdrawn"]
    assert counts["bwids"] == 900
    assert ledger.remote.remote_package_state(gone[0])["status"] == "withdrawn"
    fixed = fixes.packages[~fixes.packages["BWID"].isin(gone)].iloc[0]
    state = ledger.remote.remote_package_state(fixed["BWID"])
    expected = f"county_system_{fixed['XZQH']}" if fixed["XZQH"].startswith("37") else "cross_province"
    assert (state["op"], state["status"], state["destination"]) == ("U", "passed", expected)


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


HEAD = ["县（市、区）", "业务类型", "材料编码", "材料名称", "是否必须", "是否需要纸质原件", "备注"]


def test_a_checklist_form_with_bad_rows_keeps_the_lists_in_force_and_a_change_is_a_new_version(setup, tmp_path):
    _, _, ledger = setup
    first = _write_csv(tmp_path / "清单_济南市.csv", [
        ["城市：济南市", "生效日期：2021-08-01"], HEAD,
        ["历下区", "抵押登记", "SQS", "不动产登记申请书", "是", "否", ""],
        ["", "", "QSZS", "不动产权属证书", "是", "是", ""],
        ["市中区", "补换证", "SQS", "不动产登记申请书", "是", "否", ""],
    ])
    summary = load_checklist_form(ledger, first, now=LOADED_AT)
    assert (summary.lists_loaded, len(summary.added), summary.errors) == (2, 2, 0)
    second = _write_csv(tmp_path / "清单_济南市_变更.csv", [
        ["城市：济南市", "生效日期：2024-07-01"], HEAD,
        ["历下区", "抵押登记", "SQS", "不动产登记申请书", "是", "否", ""],
        ["", "", "QSZS", "不动产权属证书", "是", "是", ""],
        ["", "", "HKB", "户口簿", "是", "是", ""],  # a material added
        ["市中区", "补换证", "SQS", "不动产登记申请书", "是", "否", ""],
        ["", "", "YSSM", "遗失声明", "也许", "否", ""],  # a bad row: 市中区 补换证 stays as it was
        ["历城区", "预告登记", "SQS", "不动产登记申请书", "是", "否", ""],
    ])
    summary = load_checklist_form(ledger, second, now=datetime(2024, 6, 20, 9, 0))
    assert (summary.lists_loaded, summary.added, summary.changed) == (2, ["370112 01 (1)"], ["370102 02: +HKB"])
    issues = ledger.remote.checklist_form_issues(summary.form_id)
    assert [(i["row_number"], i["column_name"], i["rule"]) for i in issues] == [
        (7, "E 是否必须", "FORM_YES_NO"), (6, None, "CHECKLIST_INCOMPLETE")]
    history = ledger.remote.checklist_history("370102", "02")
    assert [(v["valid_from"], v["valid_to"], [i["material_code"] for i in v["item_rows"]]) for v in history] == [
        (datetime(2021, 8, 1), datetime(2024, 7, 1), ["SQS", "QSZS"]),
        (datetime(2024, 7, 1), None, ["SQS", "QSZS", "HKB"]),
    ]
    assert [(v["valid_from"], v["valid_to"]) for v in ledger.remote.checklist_history("370103", "04")] == [(datetime(2021, 8, 1), None)]
