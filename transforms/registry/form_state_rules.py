"""The registry form rules that depend on what the registry already holds (the state in force).

A form row is checked against the version in force of what it changes: an institution (Annex 2)
against the institution in force under its code and under the code it replaces, a county opening
(Annex 3) against the opening in force and the institutions registered in the county. Each check
returns its issues in order as (severity, rule id, message); the row is not applied when one of
them is an error, and the checks stop at the first error (the person fixing the form reads one
reason per row). The ledger reads the state and applies the rows (connectors/ledger/registry_store.py).

Rules: FORM_CODE_OTHER_TYPE, FORM_OLDER_THAN_IN_FORCE, FORM_PREDECESSOR_UNKNOWN,
FORM_COUNT_MISMATCH, FORM_CHANNEL_CONFLICT.
"""

from __future__ import annotations

from datetime import datetime

UTILITY_ZH = {"water": "供水", "gas": "燃气", "heat": "供热"}
_COUNTED = (("gas", "燃气公司"), ("heat", "热力公司"), ("water", "供水公司"))

Issue = tuple[str, str, str]  # (severity, rule id, message)


def institution_row_issues(row: dict, *, current: dict | None, predecessor: dict | None, effective: datetime) -> list[Issue]:
    """Issues of one Annex 2 row: `current` is the institution in force under the row's code, `predecessor` the one
    under the code it replaces (`row["predecessor"]`), each None when there is none (dicts with utility, name, valid_from)."""
    code = row["code"]
    if current is not None and current["utility"] != row["utility"]:
        return [("error", "FORM_CODE_OTHER_TYPE",
                 f"机构编码“{code}”已登记为{UTILITY_ZH[current['utility']]}机构（{current['name']}），不能再登记为{UTILITY_ZH[row['utility']]}机构")]
    if current is not None and current["valid_from"] > effective:
        return [("error", "FORM_OLDER_THAN_IN_FORCE", f"生效日期 {effective:%Y-%m-%d} 早于机构“{code}”现行信息的生效日期 {current['valid_from']:%Y-%m-%d}")]
    old = row.get("predecessor")
    if not old:
        return []
    if predecessor is None:
        return [("warning", "FORM_PREDECESSOR_UNKNOWN", f"原机构编码“{old}”不在现行名录中，按新增机构登记")]
    if predecessor["utility"] != row["utility"]:
        return [("error", "FORM_CODE_OTHER_TYPE", f"原机构编码“{old}”是{UTILITY_ZH[predecessor['utility']]}机构，不是{UTILITY_ZH[row['utility']]}机构")]
    return []


def opening_row_issues(row: dict, *, registered: list[tuple[str, str, int]], current: dict | None, effective: datetime) -> list[Issue]:
    """Issues of one Annex 3 row: `registered` is (utility, channel, institutions) in force in the row's county,
    `current` the county's opening in force (a dict with valid_from) or None."""
    issues: list[Issue] = []
    if registered:
        for kind, label in _COUNTED:
            have = sum(n for utility, _, n in registered if utility == kind)
            if have != row[kind]:
                issues.append(("warning", "FORM_COUNT_MISMATCH", f"申请写{label}{row[kind]}个，名录（附件2）中有{have}个"))
        if any(channel == "system" for _, channel, _ in registered):
            issues.append(("warning", "FORM_CHANNEL_CONFLICT", "名录中该县有“系统对接”的机构：这些机构仍走系统对接，开通日期只约束配置账号方式"))
    if current is not None and current["valid_from"] > effective:
        issues.append(("error", "FORM_OLDER_THAN_IN_FORCE", f"生效日期 {effective:%Y-%m-%d} 早于该县现行开通申请的生效日期 {current['valid_from']:%Y-%m-%d}"))
    return issues


def has_error(issues: list[Issue]) -> bool:
    return any(severity == "error" for severity, _, _ in issues)
