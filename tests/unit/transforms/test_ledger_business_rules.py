"""The decisions moved out of the ledger, on literal frames: the package delivery plan, the registry's
state-dependent form rules, and drop names."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from transforms.registry.drop_names import delivery_settings, drop_account
from transforms.registry.form_state_rules import has_error, institution_row_issues, opening_row_issues
from transforms.remote.delivery_plan import SUPERSEDED_REASON, plan_unsent, plan_withdrawals

JAN, MAR = datetime(2024, 1, 1), datetime(2024, 3, 1)


def test_unsent_deliveries_are_withdrawn_or_superseded_by_the_version_in_force():
    left = pd.DataFrame({"source": ["remote", "remote"], "change_seq": [7, 9], "status_now": ["withdrawn", "passed"]})
    plan = plan_unsent(left)
    assert plan.to_dict("records") == [
        {"source": "remote", "change_seq": 7, "status": "withdrawn", "reason": SUPERSEDED_REASON},
        {"source": "remote", "change_seq": 9, "status": "superseded", "reason": SUPERSEDED_REASON},
    ]


def test_no_delivery_left_behind_plans_nothing():
    plan = plan_unsent(pd.DataFrame(columns=["source", "change_seq", "status_now"]))
    assert list(plan.columns) == ["source", "change_seq", "status", "reason"] and plan.empty


def test_withdrawals_carry_the_reason_the_receiver_reads():
    stale = pd.DataFrame({"source": ["remote", "remote"], "change_seq": [3, 4], "status_now": ["withdrawn", "passed"],
                          "destination_now": ["370102", "370203"]})
    assert plan_withdrawals(stale)["withdrawal_reason"].tolist() == ["申请人撤回申请", "更正后改由 370203 办理"]
    assert plan_withdrawals(stale.iloc[0:0]).empty


def _row(**kw):
    return {"code": "G1", "utility": "gas", "name": "燃气一", "predecessor": None} | kw


def test_a_code_of_another_utility_is_refused():
    found = institution_row_issues(_row(), current={"utility": "water", "name": "水一", "valid_from": JAN}, predecessor=None, effective=MAR)
    assert [(s, r) for s, r, _ in found] == [("error", "FORM_CODE_OTHER_TYPE")]
    assert "已登记为供水机构（水一），不能再登记为燃气机构" in found[0][2]


def test_a_form_older_than_the_version_in_force_is_refused():
    found = institution_row_issues(_row(), current={"utility": "gas", "name": "燃气一", "valid_from": MAR}, predecessor=None, effective=JAN)
    assert found == [("error", "FORM_OLDER_THAN_IN_FORCE", "生效日期 2024-01-01 早于机构“G1”现行信息的生效日期 2024-03-01")]


def test_an_unknown_predecessor_is_a_warning_and_the_row_goes_on():
    found = institution_row_issues(_row(predecessor="G0"), current=None, predecessor=None, effective=MAR)
    assert found == [("warning", "FORM_PREDECESSOR_UNKNOWN", "原机构编码“G0”不在现行名录中，按新增机构登记")] and not has_error(found)


def test_a_predecessor_of_another_utility_is_refused():
    found = institution_row_issues(_row(predecessor="W0"), current=None, predecessor={"utility": "water", "name": "水", "valid_from": JAN}, effective=MAR)
    assert found == [("error", "FORM_CODE_OTHER_TYPE", "原机构编码“W0”是供水机构，不是燃气机构")]


def test_a_clean_row_has_no_issue():
    assert institution_row_issues(_row(predecessor="G0"), current=None, predecessor={"utility": "gas", "name": "旧", "valid_from": JAN}, effective=MAR) == []


def test_openings_warn_on_counts_and_system_channels_and_refuse_older_forms():
    row = {"xzqh": "370102", "gas": 2, "heat": 0, "water": 1}
    registered = [("gas", "account", 1), ("water", "system", 1)]
    found = opening_row_issues(row, registered=registered, current={"valid_from": MAR}, effective=JAN)
    assert [(s, r) for s, r, _ in found] == [("warning", "FORM_COUNT_MISMATCH"), ("warning", "FORM_CHANNEL_CONFLICT"), ("error", "FORM_OLDER_THAN_IN_FORCE")]
    assert found[0][2] == "申请写燃气公司2个，名录（附件2）中有1个"
    assert opening_row_issues(row, registered=[], current=None, effective=JAN) == []


def test_drop_names():
    assert drop_account("SDGAS01") == "xbsdgas01"
    assert delivery_settings("SDGAS01", "account", "370102") == ("xbsdgas01", None)
    assert delivery_settings("SDGAS01", "system", "370102") == (None, "county_system_370102")
