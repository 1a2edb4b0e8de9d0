"""The reconciliation reports auditors read and counties act on (pure: frames in, tables and HTML out).

`report_tables` builds the tables, keyed by their Chinese sheet names: headings in Chinese
with the code alongside (`完成率(completion_rate)`, `行政区划代码(XZQH)`), buyers' names, ID
numbers and phones masked, every text cell that Excel/WPS would read as a formula
neutralised. It checks that the work orders balance — delivered = done + done_late +
rejected + open — and raises `ReportBalanceError` if they do not. `render_html` makes one
self-contained page of them (inline CSS and SVG, no script, no external asset). Writing the
files is jobs/cohandling/publish_report.py's job.

Definitions (the 说明 of the page says the same in Chinese):

- delivered (已推送合计) = done + done_late + rejected + open, open = delivered + acknowledged
  + overdue (the statuses), checked against `delivered_at` row by row;
- completion_rate = (done + done_late) / delivered; overdue_rate = (overdue + done_late) /
  delivered; both empty when nothing was delivered;
- handle time = working days from delivery to the final result (done, done_late, rejected);
  median and p90 by linear interpolation (pandas' default quantile).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

import numpy as np
import pandas as pd

from transforms.cohandling.annex1 import UTILITY_LABELS
from transforms.cohandling.quarantine import HEADINGS as QUARANTINE_HEADINGS
from transforms.common.mask import mask_id, mask_phone, neutralise_formula

# Work-order statuses, in the order a work order moves, with the wording auditors read.
STATUSES: dict[str, str] = {
    "pending": "待推送",
    "held": "暂缓推送（待开通）",
    "delivered": "已推送待签收",
    "acknowledged": "已签收办理中",
    "done": "按时办结",
    "done_late": "超期办结",
    "rejected": "退回（不予办理）",
    "overdue": "超期未办结",
    "quarantined": "已隔离",
    "cancelled": "已取消",
    "withdrawn": "已撤回",
    "failed": "推送被拒",
    "cancel_pending": "已推送后撤销，待通知",
    "cancel_refused": "撤销未成（已办结）",
    "result_after_cancel": "撤销后仍报结果（异常）",
}
STATUS_NOTES: dict[str, str] = {
    "pending": "已生成工单，尚未推送。",
    "held": "该县配置账号方式尚未开通（附件3），工单暂存，开通之日自动推送。",
    "delivered": "已推送至承办单位，尚未签收，未到办理期限。",
    "acknowledged": "承办单位已签收，正在办理，未到办理期限。",
    "done": "在办理期限内办理成功（承办单位答复“重复申请”的，视为办理成功）。",
    "done_late": "办理成功，但晚于办理期限。",
    "rejected": "承办单位不予办理并说明了原因。",
    "overdue": "已推送，办理期限已过，仍无最终结果。",
    "quarantined": "该项未通过附件1校验，未推送，见隔离清单。",
    "cancelled": "更正后的记录不再申请该项过户，或平台撤回了已推送的记录并已通知承办单位撤销。",
    "withdrawn": "平台撤回了该记录。",
    "failed": "承办单位接口拒收，未送达。",
    "cancel_pending": "已推送的工单被平台撤回或更正后不再申请，正在通知承办单位撤销。",
    "cancel_refused": "已推送的工单被撤回，但承办单位答复已办结，无法撤销。",
    "result_after_cancel": "已通知承办单位撤销后，仍收到该工单的办理结果：异常，需核实，不计为办结。",
}
OPEN = ("delivered", "acknowledged", "overdue")
FINAL = ("done", "done_late", "rejected")
DELIVERED = (*FINAL, *OPEN)
NEVER_DELIVERED = ("pending", "held", "quarantined", "failed")
# cancelled / withdrawn may or may not have left before the correction or withdrawal: they
# count in neither side of the balance, whatever their delivered_at says.

UTILITY_ORDER = ("electricity", "water", "gas", "heat")
CHANNEL_LABELS = {"grid": "总对总", "account": "配置账号", "system": "系统对接"}
GRID_INSTITUTION = "国网山东省电力公司"  # electricity: one receiver for the province (docs/domain.md §1)

# Metric code -> Chinese label; the columns of 按市 / 按县 / 按机构 after their keys, the rows of 汇总.
METRICS: dict[str, str] = {
    "received": "协办工单数",
    **STATUSES,
    "delivered_total": "已推送合计",
    "completed": "办理成功合计",
    "open": "在办合计",
    "corrections": "更正版本工单",
    "completion_rate": "完成率",
    "overdue_rate": "超期率",
    "handle_median_wd": "办理用时中位数（工作日）",
    "handle_p90_wd": "办理用时P90（工作日）",
}
METRIC_NOTES: dict[str, str] = {
    "received": "本期推送或仍未办结的工单（每个标识码、每项业务一张，取现行版本）。",
    "delivered_total": "按时办结 + 超期办结 + 退回 + 在办；与推送时间逐条核对。",
    "completed": "按时办结 + 超期办结。",
    "open": "已推送待签收 + 已签收办理中 + 超期未办结。",
    "corrections": "平台更正后重新生成的工单版本（version ≥ 2）。",
    "completion_rate": "（按时办结 + 超期办结）÷ 已推送合计。",
    "overdue_rate": "（超期未办结 + 超期办结）÷ 已推送合计。",
    "handle_median_wd": "自推送至最终结果（办结或退回）的工作日数的中位数。",
    "handle_p90_wd": "同上，第90百分位数（线性插值）：九成工单在此用时内有结果。",
    **STATUS_NOTES,
}
# Codes shown as % / as working days with one decimal, here and in the remote-collection report (transforms/reporting/remote_tables.py).
RATES = ("completion_rate", "overdue_rate", "acceptance_rate", "correction_rate")
WORKING_DAYS = ("handle_median_wd", "handle_p90_wd", "overdue_working_days", "certificate_median_wd", "overdue_wd")

KEY_HEADINGS: dict[str, str] = {
    "city_code": "市代码(city_code)",
    "city_name": "市(city_name)",
    "xzqh": "行政区划代码(XZQH)",
    "county_name": "县（市、区）(county_name)",
    "utility": "业务类型(utility)",
    "institution_code": "机构编码(institution_code)",
    "institution_name": "机构名称(institution_name)",
    "channel": "推送方式(channel)",
}
OVERDUE_HEADINGS: dict[str, str] = {
    "no": "序号(no)",
    "city_name": KEY_HEADINGS["city_name"],
    "county_name": KEY_HEADINGS["county_name"],
    "xzqh": KEY_HEADINGS["xzqh"],
    "utility": KEY_HEADINGS["utility"],
    "institution_code": KEY_HEADINGS["institution_code"],
    "institution_name": KEY_HEADINGS["institution_name"],
    "channel": KEY_HEADINGS["channel"],
    "rowguid": "标识码(ROWGUID)",
    "version": "工单版本(version)",
    "correction": "是否更正(correction)",
    "delivered_on": "推送日期(delivered_at)",
    "due_date": "办理期限(due_date)",
    "due_provisional": "期限暂定(due_provisional)",
    "overdue_working_days": "超期工作日(overdue_working_days)",
    "buyer_name": "买方姓名(ZRFXM，已脱敏)",
    "buyer_id": "买方证件号码(ZRFZJHM，已脱敏)",
    "buyer_phone": "买方联系电话(ZRFLXDH，已脱敏)",
}
EXCEPTION_HEADINGS: dict[str, str] = {
    "source": "来源(source)",
    "row": "行号(row)",
    "rowguid": "标识码(ROWGUID)",
    "utility": KEY_HEADINGS["utility"],
    "reason_code": "原因代码(reason_code)",
    "reason": "原因(reason)",
    "value": "原始内容（已脱敏）(value)",
    "received_at": "接收时间(received_at)",
}
DAILY_HEADINGS: dict[str, str] = {
    "day": "日期(day)",
    "delivered": "推送(delivered)",
    "done": "办结(done)",
    "rejected": "退回(rejected)",
    "overdue": "超期(overdue)",
}
SUMMARY_HEADINGS: dict[str, str] = {
    "item": "项目(item)",
    "code": "代码(code)",
    "total": "合计(total)",
    **{u: f"{UTILITY_LABELS[u]}({u})" for u in UTILITY_ORDER},
    "note": "说明(note)",
}

# Table names (= sheet names, = CSV file stems) in the order they are written, with their codes.
TABLES: dict[str, str] = {
    "汇总": "summary",
    "按市": "by_city",
    "按县": "by_county",
    "按机构": "by_institution",
    "超期清单": "overdue",
    "异常清单": "exceptions",
    "隔离清单": "quarantine",
    "每日趋势": "daily",
}
HTML_NAME = "report.html"
XLSX_NAME = "report.xlsx"
CSV_DIR = "csv"

STATUS_COLUMNS = (
    "rowguid", "utility", "version", "correction", "channel", "institution_code", "institution_name", "xzqh", "county_name",
    "city_code", "city_name", "status", "delivered_at", "due_date", "handle_working_days", "overdue_working_days",
    "buyer_name", "buyer_phone", "buyer_id",
)
LOCAL_TZ = "Asia/Shanghai"  # the day a county reads is Beijing time's day


class ReportBalanceError(ValueError):
    """The work orders do not add up; the report would mislead, so none is made."""


def metric_heading(code: str) -> str:
    return f"{METRICS[code]}({code})"


def code_of(heading: str) -> str:
    """The code inside a heading's last ASCII brackets: 完成率(completion_rate) → completion_rate."""
    match = re.search(r"\(([^()]*)\)$", heading)
    return match.group(1) if match else heading


# --------------------------------------------------------------------------------------------
# tables


def report_tables(
    statuses: pd.DataFrame,
    exceptions: pd.DataFrame | None,
    quarantine: pd.DataFrame | None,
    daily: pd.DataFrame | None,
    *,
    period: tuple[date, date],
    as_of: datetime,
) -> dict[str, pd.DataFrame]:
    """The report's tables by Chinese sheet name (see TABLES); raises ReportBalanceError if the work orders do not balance."""
    first, last = period
    if first > last:
        raise ValueError(f"统计期间起日晚于止日 / period starts after it ends: {first} > {last}")
    orders = _prepare(statuses)
    check_balance(orders)
    keys_city = ["city_code", "city_name"]
    keys_county = [*keys_city, "xzqh", "county_name"]
    keys_institution = [*keys_county, "utility", "institution_code"]
    by_city = _metrics(orders, keys_city)
    by_county = _metrics(orders, keys_county)
    by_institution = _institutions(orders, keys_institution)
    overall = _metrics(orders, [])
    for name, part in (("按市", by_city), ("按县", by_county), ("按机构", by_institution)):
        _check_adds_up(name, part, overall)

    exception_table = _exceptions(exceptions)
    quarantine_table = quarantine.copy() if quarantine is not None and len(quarantine.columns) else pd.DataFrame(columns=list(QUARANTINE_HEADINGS.values()))
    tables = {
        "汇总": _summary(orders, overall, period=period, as_of=as_of, exceptions=len(exception_table), quarantine=len(quarantine_table)),
        "按市": _headed(by_city, keys_city),
        "按县": _headed(by_county, keys_county),
        "按机构": _headed(by_institution, [*keys_county, "utility", "institution_code", "institution_name", "channel"]),
        "超期清单": _overdue_list(orders),
        "异常清单": exception_table,
        "隔离清单": quarantine_table,
        "每日趋势": _daily(daily),
    }
    return {name: _neutralised(table) for name, table in tables.items()}


def _prepare(statuses: pd.DataFrame) -> pd.DataFrame:
    """Required columns present, statuses and utilities known, one row per work order; keys as text."""
    missing = [c for c in STATUS_COLUMNS if c not in statuses.columns]
    if missing:
        raise ValueError(f"工单状态表缺少列 / statuses lacks columns: {', '.join(missing)}")
    orders = statuses.loc[:, list(STATUS_COLUMNS)].copy()
    # due dates in a year with no known holiday arrangement (transforms/common/workdays.py); absent = none provisional
    provisional = statuses["due_provisional"] if "due_provisional" in statuses else pd.Series(False, index=statuses.index)
    orders["due_provisional"] = provisional.fillna(False).astype(bool).to_numpy()
    status = orders["status"].astype(object)
    unknown = sorted({str(s) for s in status[~status.isin(list(STATUSES))]})
    if unknown:
        raise ValueError(f"未知的工单状态 / unknown work-order status: {', '.join(unknown)} (known: {', '.join(STATUSES)})")
    utility = orders["utility"].astype(object)
    unknown = sorted({str(u) for u in utility[~utility.isin(list(UTILITY_ORDER))]})
    if unknown:
        raise ValueError(f"未知的业务类型 / unknown utility: {', '.join(unknown)} (known: {', '.join(UTILITY_ORDER)})")
    twice = orders.duplicated(["rowguid", "utility"], keep=False)
    if twice.any():
        sample = orders.loc[twice, ["rowguid", "utility"]].drop_duplicates().head(5).itertuples(index=False)
        raise ReportBalanceError(
            "对账不平衡：同一工单（标识码 + 业务）出现多行，应只取现行版本 / "
            f"more than one row per work order (ROWGUID, utility), expected the version in force only: {', '.join(f'{r}:{u}' for r, u in sample)}"
        )
    for column in ("rowguid", "utility", "channel", "institution_code", "institution_name", "xzqh", "county_name", "city_code", "city_name"):
        values = orders[column].astype(object)
        orders[column] = values.where(values.notna(), "").map(str).astype(object)
    grid = orders["utility"] == "electricity"
    orders.loc[grid, "institution_code"] = ""
    orders.loc[grid, "institution_name"] = GRID_INSTITUTION
    orders["correction"] = orders["correction"].astype(object).where(orders["correction"].notna(), False).astype(bool)
    for column in ("handle_working_days", "overdue_working_days"):
        orders[column] = pd.to_numeric(orders[column], errors="coerce").astype(float)
    return orders


def check_balance(orders: pd.DataFrame) -> None:
    """Delivered (by delivered_at) = done + done_late + rejected + open (by status), row by row; raise if not."""
    counts = orders["status"].value_counts()
    n = {s: int(counts.get(s, 0)) for s in STATUSES}
    if sum(n.values()) != len(orders):  # every row has exactly one known status
        raise ReportBalanceError(f"对账不平衡：各状态合计 {sum(n.values())} ≠ 工单数 {len(orders)} / statuses do not add up to the work orders")
    has_delivery = orders["delivered_at"].notna()
    status = orders["status"]
    seen = int((has_delivery & ~status.isin(["cancelled", "withdrawn", "cancel_pending", "cancel_refused", "result_after_cancel"])).sum())
    by_status = sum(n[s] for s in DELIVERED)
    undelivered = status.isin(list(DELIVERED)) & ~has_delivery
    unexpected = status.isin(list(NEVER_DELIVERED)) & has_delivery
    if seen != by_status or undelivered.any() or unexpected.any():
        wrong = orders.loc[undelivered | unexpected, ["rowguid", "utility", "status", "delivered_at"]].head(5)
        examples = "; ".join(f"{r.rowguid}:{r.utility} status={r.status} delivered_at={r.delivered_at}" for r in wrong.itertuples(index=False))
        raise ReportBalanceError(
            f"对账不平衡：有推送时间的工单 {seen} 件 ≠ 按时办结 {n['done']} + 超期办结 {n['done_late']} + 退回 {n['rejected']} + "
            f"在办 {n['delivered'] + n['acknowledged'] + n['overdue']} = {by_status} 件 / "
            f"delivered {seen} (delivered_at present) != done + done_late + rejected + open = {by_status}; e.g. {examples}"
        )


def _metrics(orders: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts by status and the derived metrics (METRICS) per group of `keys`; one row if no keys."""
    frame = orders.assign(_all="") if not keys else orders
    group = keys or ["_all"]
    codes = list(METRICS)
    if frame.empty:
        empty = pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
        if keys:
            return empty.assign(**{c: pd.Series(dtype=float if c in RATES or c.endswith("_wd") else "int64") for c in codes})
        return pd.DataFrame([{c: (np.nan if c in RATES or c.endswith("_wd") else 0) for c in codes}])
    counts = frame.groupby([*group, "status"], sort=True).size().unstack("status", fill_value=0)
    counts = counts.reindex(columns=list(STATUSES), fill_value=0).astype("int64")
    out = pd.DataFrame(index=counts.index)
    out["received"] = counts.sum(axis=1)
    for status in STATUSES:
        out[status] = counts[status]
    out["delivered_total"] = counts[list(DELIVERED)].sum(axis=1)
    out["completed"] = counts["done"] + counts["done_late"]
    out["open"] = counts[list(OPEN)].sum(axis=1)
    out["corrections"] = frame.groupby(group, sort=True)["correction"].sum().reindex(out.index).astype("int64")
    delivered = out["delivered_total"].where(out["delivered_total"] > 0)  # nothing delivered: no rate, not 0 %
    out["completion_rate"] = out["completed"] / delivered
    out["overdue_rate"] = (counts["overdue"] + counts["done_late"]) / delivered
    handled = frame[frame["status"].isin(list(FINAL))].groupby(group, sort=True)["handle_working_days"]
    out["handle_median_wd"] = handled.median().reindex(out.index).astype(float)
    out["handle_p90_wd"] = handled.quantile(0.9).reindex(out.index).astype(float)
    out = out.reset_index()
    return out.drop(columns="_all") if not keys else out


def _institutions(orders: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per county and institution; electricity is one row per county (国网山东省电力公司)."""
    out = _metrics(orders, keys)
    if out.empty:
        return out.assign(institution_name=pd.Series(dtype=object), channel=pd.Series(dtype=object))
    group = orders.groupby(keys, sort=True)
    # A renamed institution, or one whose channel changed during the period, shows every name / channel it had.
    names = group["institution_name"].agg(lambda s: "／".join(sorted(set(s) - {""})))
    channels = group["channel"].agg(lambda s: "、".join(_label(c, CHANNEL_LABELS) for c in sorted(set(s) - {""})))
    extra = pd.DataFrame({"institution_name": names, "channel": channels}).reset_index()
    out = out.merge(extra, on=keys, how="left", validate="one_to_one")
    out["utility_rank"] = out["utility"].map({u: i for i, u in enumerate(UTILITY_ORDER)})
    out = out.sort_values(["city_code", "xzqh", "utility_rank", "institution_code"], kind="stable").drop(columns="utility_rank")
    out["utility"] = out["utility"].map(lambda u: _label(u, UTILITY_LABELS))
    return out.reset_index(drop=True)


def _check_adds_up(name: str, part: pd.DataFrame, overall: pd.DataFrame) -> None:
    """A breakdown's counts add up to the overall ones (no group lost to a missing key)."""
    for code in ("received", *STATUSES, "delivered_total", "corrections"):
        total, parts = int(overall[code].iloc[0]), int(part[code].sum())
        if parts != total:
            raise ReportBalanceError(f"对账不平衡：{name}的{METRICS[code]}合计 {parts} ≠ 总数 {total} / {name} {code} adds up to {parts}, not {total}")


def _headed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Keys then metrics, under Chinese headings with their codes."""
    columns = {k: KEY_HEADINGS[k] for k in keys} | {c: metric_heading(c) for c in METRICS}
    return frame.loc[:, list(columns)].rename(columns=columns).reset_index(drop=True)


def _summary(orders: pd.DataFrame, overall: pd.DataFrame, *, period: tuple[date, date], as_of: datetime, exceptions: int, quarantine: int) -> pd.DataFrame:
    """汇总: one row per metric, the total and one column per utility."""
    per_utility = _metrics(orders, ["utility"]).set_index("utility") if len(orders) else pd.DataFrame()
    rows: list[dict] = [
        {"item": "统计期间", "code": "period", "total": f"{period[0].isoformat()} 至 {period[1].isoformat()}", "note": "工单按推送日期计入统计期间；期间前推送、仍未办结的也列入。"},
        {"item": "数据截至", "code": "as_of", "total": _local_naive_one(as_of).strftime("%Y-%m-%d %H:%M"), "note": "北京时间。"},
    ]
    for code, label in METRICS.items():
        row = {"item": label, "code": code, "total": _cell(overall[code].iloc[0], code), "note": METRIC_NOTES.get(code, "")}
        for utility in UTILITY_ORDER:
            if utility in per_utility.index:
                row[utility] = _cell(per_utility.at[utility, code], code)
            else:
                row[utility] = None if code in RATES or code.endswith("_wd") else 0
        rows.append(row)
    provisional = int(orders["due_provisional"].sum()) if "due_provisional" in orders else 0
    rows.append({"item": "期限暂定工单", "code": "provisional_due", "total": provisional,
                 "note": "办理期限落在尚无国务院节假日安排的年份，按周一至周五暂定计算；安排公布并录入 reference/calendar/ 后重算。" if provisional else "无：所有办理期限均按已公布的节假日安排计算。"})
    rows.append({"item": "异常记录", "code": "exceptions", "total": exceptions, "note": "回执文件、接口返回中无法处理的行，见异常清单。"})
    rows.append({"item": "隔离清单条目", "code": "quarantine_lines", "total": quarantine, "note": "未通过附件1校验的记录（每条记录每项问题一行），见隔离清单。"})
    # object columns built cell by cell: counts stay int, rates float, blanks None (no float cast of the counts)
    frame = pd.DataFrame({k: pd.Series([row.get(k) for row in rows], dtype=object) for k in SUMMARY_HEADINGS})
    return frame.rename(columns=SUMMARY_HEADINGS)


def _cell(value, code: str):
    """A plain Python number for a summary cell: int for counts, float (or None) for rates and days."""
    if code in RATES or code.endswith("_wd"):
        return None if pd.isna(value) else float(value)
    return int(value)


def _overdue_list(orders: pd.DataFrame) -> pd.DataFrame:
    """超期清单 (公示): open work orders past their due date, the longest overdue first; buyers masked."""
    od = orders[orders["status"] == "overdue"].copy()
    od["utility_rank"] = od["utility"].map({u: i for i, u in enumerate(UTILITY_ORDER)})
    od = od.sort_values(
        ["overdue_working_days", "city_code", "xzqh", "utility_rank", "institution_code", "rowguid"],
        ascending=[False, True, True, True, True, True], na_position="last", kind="stable",
    )
    out = pd.DataFrame({
        "no": range(1, len(od) + 1),
        "city_name": od["city_name"].to_numpy(dtype=object),
        "county_name": od["county_name"].to_numpy(dtype=object),
        "xzqh": od["xzqh"].to_numpy(dtype=object),
        "utility": od["utility"].map(lambda u: _label(u, UTILITY_LABELS)).to_numpy(dtype=object),
        "institution_code": od["institution_code"].to_numpy(dtype=object),
        "institution_name": od["institution_name"].to_numpy(dtype=object),
        "channel": od["channel"].map(lambda c: _label(c, CHANNEL_LABELS) if c else "").to_numpy(dtype=object),
        "rowguid": od["rowguid"].to_numpy(dtype=object),
        "version": pd.array(pd.to_numeric(od["version"], errors="coerce"), dtype="Int64"),
        "correction": np.where(od["correction"].to_numpy(dtype=bool), "是", "否").astype(object),
        "delivered_on": _local_dates(od["delivered_at"]).to_numpy(dtype=object),
        "due_date": _local_dates(od["due_date"]).to_numpy(dtype=object),
        "due_provisional": np.where(od["due_provisional"].to_numpy(dtype=bool), "暂定", "").astype(object),
        "overdue_working_days": od["overdue_working_days"].to_numpy(dtype=float),
        "buyer_name": mask_names(od["buyer_name"].astype(object)).to_numpy(dtype=object),
        "buyer_id": mask_id(od["buyer_id"].astype(object)).to_numpy(dtype=object),
        "buyer_phone": mask_phone(od["buyer_phone"].astype(object)).to_numpy(dtype=object),
    })
    return out.rename(columns=OVERDUE_HEADINGS)


def _exceptions(exceptions: pd.DataFrame | None) -> pd.DataFrame:
    """异常清单: every exception with its source; IDs and phones inside raw text and reasons masked."""
    if exceptions is None or exceptions.empty:
        return pd.DataFrame({h: pd.Series(dtype=object) for h in EXCEPTION_HEADINGS.values()})
    ex = exceptions.reset_index(drop=True)

    def column(name: str) -> pd.Series:
        return ex[name].astype(object) if name in ex.columns else pd.Series([None] * len(ex), dtype=object)

    out = pd.DataFrame({
        "source": column("source"),
        "row": pd.array(pd.to_numeric(column("row"), errors="coerce"), dtype="Int64"),
        "rowguid": column("rowguid"),
        "utility": column("utility").map(lambda u: _label(u, UTILITY_LABELS), na_action="ignore"),
        "reason_code": column("reason_code"),
        "reason": mask_in_text(column("reason")),
        "value": mask_in_text(column("value")),
        "received_at": _local_naive(column("received_at")),
    })
    return out.rename(columns=EXCEPTION_HEADINGS)


def _daily(daily: pd.DataFrame | None) -> pd.DataFrame:
    if daily is None or daily.empty:
        return pd.DataFrame({h: pd.Series(dtype=object) for h in DAILY_HEADINGS.values()})
    out = daily.loc[:, list(DAILY_HEADINGS)].sort_values("day").reset_index(drop=True)
    out["day"] = _local_dates(out["day"]).astype(object)
    for column in ("delivered", "done", "rejected", "overdue"):
        out[column] = pd.to_numeric(out[column]).fillna(0).astype("int64")
    return out.rename(columns=DAILY_HEADINGS)


def _neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """Every text cell starting with = + - @ prefixed with ' (transforms.common.mask.neutralise_formula)."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            values = out[column].astype(object)
            # only non-empty text: neutralise_formula would turn "" into "'" ("" is in any string)
            text = values.map(lambda v: isinstance(v, str) and v != "").astype(bool)
            values[text] = neutralise_formula(values[text])
            out[column] = values
    return out


# --------------------------------------------------------------------------------------------
# masking and values

_OWNER_SEPARATORS = re.compile(r"([,，、/;；])")
# ID numbers: any run of 15+ digits (18 with a check digit or X, 15 legacy, or longer runs that hide one).
_ID_IN_TEXT = re.compile(r"(?<!\d)\d{14,}[\dXx]")
# Phones: mobiles (optionally +86 / 86) and landlines with area code, as docs/domain.md §4 describes them.
_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+?86)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def mask_names(values: pd.Series) -> pd.Series:
    """Keep each owner's first character (the family name, mostly): 张三 → 张*, 欧阳娜娜、李四 → 欧***、李*."""

    def one(value: str) -> str:
        parts = []
        for item in _OWNER_SEPARATORS.split(str(value)):
            s = item.strip()
            parts.append(item if _OWNER_SEPARATORS.fullmatch(item) or not s else s[0] + "*" * max(len(s) - 1, 1))
        return "".join(parts)

    return values.map(one, na_action="ignore")


def mask_in_text(values: pd.Series) -> pd.Series:
    """ID numbers and phones found anywhere in free text masked as mask_id / mask_phone would mask them."""

    def one(value) -> str:
        text = _ID_IN_TEXT.sub(lambda m: mask_id(pd.Series([m.group(0)])).iloc[0], str(value))
        return _PHONE_IN_TEXT.sub(lambda m: mask_phone(pd.Series([m.group(0)])).iloc[0], text)

    return values.map(one, na_action="ignore")


def _label(code, labels: Mapping[str, str]) -> str:
    """水（water）: the Chinese word with the code beside it, as the quarantine list writes utilities."""
    if code is None or (isinstance(code, float) and math.isnan(code)) or code == "":
        return ""
    return f"{labels[code]}（{code}）" if code in labels else str(code)


def _local_naive(values: pd.Series) -> pd.Series:
    """Datetimes in Beijing time without a zone (Excel has no time zones); naive input is taken as local already."""
    stamps = pd.to_datetime(values, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return stamps


def _local_naive_one(value: datetime) -> datetime:
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert(LOCAL_TZ).tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def _local_dates(values: pd.Series) -> pd.Series:
    """Calendar dates (Beijing time) as datetime.date, None where missing."""
    stamps = _local_naive(values.astype(object))
    return pd.Series([d.date() if not pd.isna(d) else None for d in stamps], index=values.index, dtype=object)


# --------------------------------------------------------------------------------------------
# HTML

CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d0d7de; --band:#f6f8fa; --done:#2e7d32; --late:#ef6c00;
        --rej:#6d4c41; --over:#c62828; --sent:#1565c0; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimSun", sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; line-height: 1.55; font-size: 14px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--ink); padding-bottom: 2px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.period { color: var(--muted); margin: 0 0 12px; }
nav ol { columns: 2; margin: 0; padding-left: 20px; }
dl.statuses { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.statuses dt { font-weight: 600; }
dl.statuses dd { margin: 0; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .v { font-size: 22px; font-weight: 700; }
.card .k { color: var(--muted); font-size: 12px; }
.ok { color: var(--done); font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 12.5px; }
th, td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; }
th { background: var(--band); font-weight: 600; text-align: left; }
th small { display: block; font-weight: 400; color: var(--muted); font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 10.5px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; background: var(--band); }
details { border-left: 3px solid var(--line); padding-left: 10px; margin: 6px 0; }
details details { margin-left: 8px; }
summary { cursor: pointer; font-weight: 600; }
summary .fig { font-weight: 400; color: var(--muted); margin-left: 8px; }
figure { margin: 10px 0 18px; }
figcaption { color: var(--muted); font-size: 12px; }
svg { max-width: 100%; height: auto; font-size: 12px; }
svg text { fill: var(--ink); }
.note { color: var(--muted); font-size: 12px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 6px; }
@page { size: A4 landscape; margin: 12mm; }  /* wide tables: 17 columns in the overdue list */
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  figure, .cards, tr { break-inside: avoid; }
  /* print the drill-down whole: a closed <details> would hide it on paper */
  details > .body { display: block !important; }
  details::details-content { content-visibility: visible; display: contents; }
  summary { list-style: none; }
}
"""

DRILL_COLUMNS = (
    "received", "delivered_total", "done", "done_late", "rejected", "open", "overdue", "completion_rate", "overdue_rate", "handle_median_wd", "handle_p90_wd",
)
_COLORS = {"done": "#2e7d32", "done_late": "#ef6c00", "rejected": "#6d4c41", "overdue": "#c62828", "delivered": "#1565c0"}
HTML_MAX_ROWS = 1000  # the page stays printable; the XLSX and CSV always hold every row


def render_html(
    tables: Mapping[str, pd.DataFrame],
    statuses: pd.DataFrame,
    daily: pd.DataFrame | None,
    *,
    period: tuple[date, date],
    as_of: datetime,
) -> str:
    """One self-contained HTML page (inline CSS and SVG, no script, no external asset) of the report's tables."""
    first, last = period
    title = "水电气热过户协同办理对账报告"
    span = f"{first.isoformat()} 至 {last.isoformat()}"
    summary = tables["汇总"]
    total = dict(zip(summary[SUMMARY_HEADINGS["code"]], summary[SUMMARY_HEADINGS["total"]]))
    sections = [
        ("notes", "说明", _notes_html()),
        ("headline", "总体情况", _headline_html(summary, total)),
        ("cities", "各市完成率与超期情况", _figure(_svg_city_rates(tables["按市"]), "每市两条：上为完成率，下为超期率（含超期办结）；右侧为仍超期未办结的件数。")),
        ("drill", "分级明细：市 → 县 → 机构", _drill_html(tables["按市"], tables["按县"], tables["按机构"])),
        ("handle", "办理用时分布", _figure(_svg_histogram(statuses), "已有最终结果（按时办结、超期办结、退回）的工单，自推送起的工作日数，按整工作日分组。")),
        ("trend", "每日趋势", _figure(_svg_trend(daily), "每日推送、办结、退回与超期的件数。") if daily is not None and len(daily) else '<p class="note">本期未提供每日数据。</p>'),
        ("overdue", "超期未办结清单（公示）", _overdue_html(tables["超期清单"])),
        ("files", "异常、隔离与数据文件", _files_html(tables)),
    ]
    toc = "".join(f'<li><a href="#{key}">{_e(name)}</a></li>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{_e(name)}</h2>{content}</section>' for key, name, content in sections)
    stamp = _local_naive_one(as_of).strftime("%Y-%m-%d %H:%M")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}（{_e(span)}）</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p class=\"period\">统计期间：{_e(span)}　数据截至：{_e(stamp)}（北京时间）</p></header>"
        f'<nav><strong>目录</strong><ol>{toc}</ol></nav>{body}'
        f"<footer>由协办网关生成，数据截至 {_e(stamp)}。证件号码、电话与姓名已脱敏；"
        f"完整数据见 {_link(XLSX_NAME, XLSX_NAME)} 与 {_e(CSV_DIR)}/ 目录下的 CSV 文件。</footer>"
        "</body></html>\n"
    )


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _link(href: str, text: str) -> str:
    return f'<a href="{_e(quote(href))}">{_e(text)}</a>'


def csv_href(name: str) -> str:
    return f"{CSV_DIR}/{name}.csv"


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _fmt(value, code: str = "") -> str:
    """A cell as text: rates as %, working days with one decimal, counts with thousands separators, — if empty."""
    if _missing(value) or value == "":
        return "—"
    if code in RATES and isinstance(value, (int, float, np.number)):
        return f"{_half_up(float(value) * 100)}%"
    if code in WORKING_DAYS and isinstance(value, (int, float, np.number)):
        return _half_up(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _half_up(value: float) -> str:
    """One decimal, halves rounded up as Excel's 0.0 format and people do (6.25 → 6.3, not Python's 6.2)."""
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _th(heading: str) -> str:
    code = code_of(heading)
    label = heading[: -len(code) - 2] if code != heading else heading
    return f"<th>{_e(label)}<small>{_e(code)}</small></th>" if code != heading else f"<th>{_e(label)}</th>"


def _table_html(frame: pd.DataFrame, columns: Iterable[str] | None = None, *, max_rows: int | None = None, total: Mapping[str, object] | None = None) -> str:
    columns = list(frame.columns if columns is None else columns)
    codes = [code_of(c) for c in columns]
    head = "".join(_th(c) for c in columns)
    shown = frame if max_rows is None else frame.head(max_rows)
    rows = []
    for values in shown.loc[:, columns].itertuples(index=False):
        cells = []
        for value, code in zip(values, codes):
            numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            cells.append(f'<td class="n">{_e(_fmt(value, code))}</td>' if numeric else f"<td>{_e(_fmt(value, code))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if total is not None:
        cells = [f'<td class="n">{_e(_fmt(total[c], c))}</td>' if c in total else "<td></td>" for c in codes]
        cells[0] = "<td>合计</td>"
        rows.append('<tr class="total">' + "".join(cells) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}" class="note">（无）</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _notes_html() -> str:
    statuses = "".join(f"<dt>{_e(label)} <code>{_e(code)}</code></dt><dd>{_e(STATUS_NOTES[code])}</dd>" for code, label in STATUSES.items())
    return (
        "<p>本报告按工单统计：一条协办记录（附件1）申请几项过户，就生成几张工单（电、水、气、热各一张），"
        "每张工单取现行版本（平台更正后以更正版本为准）。工单状态的含义：</p>"
        f'<dl class="statuses">{statuses}</dl>'
        "<p><strong>平衡关系：</strong>已推送合计 = 按时办结 + 超期办结 + 退回 + 在办（已推送待签收 + 已签收办理中 + 超期未办结），"
        "并与每张工单的推送时间逐条核对，不平衡时不出报告。</p>"
        "<p><strong>完成率</strong> =（按时办结 + 超期办结）÷ 已推送合计；<strong>超期率</strong> =（超期未办结 + 超期办结）÷ 已推送合计。"
        "<strong>办理用时</strong>为自推送至最终结果的工作日数（扣除法定节假日，计入调休上班日），给出中位数和第90百分位数（P90）。"
        "各表标题后括号内为字段代码，与 XLSX、CSV 文件一致。</p>"
        "<p>买方姓名、证件号码、联系电话均已脱敏（如 张*、370102********123X、138****5678）。"
        "以 = + - @ 开头的文字前加了单引号，防止在 Excel/WPS 中被当作公式执行。</p>"
    )


def _headline_html(summary: pd.DataFrame, total: Mapping[str, object]) -> str:
    cards = [
        ("协办工单", _fmt(total["received"])),
        ("已推送", _fmt(total["delivered_total"])),
        ("完成率", _fmt(total["completion_rate"], "completion_rate")),
        ("超期率", _fmt(total["overdue_rate"], "overdue_rate")),
        ("超期未办结（公示）", _fmt(total["overdue"])),
        ("办理用时中位数 / P90（工作日）", f"{_fmt(total['handle_median_wd'], 'handle_median_wd')} / {_fmt(total['handle_p90_wd'], 'handle_p90_wd')}"),
        ("异常记录", _fmt(total["exceptions"])),
        ("隔离清单条目", _fmt(total["quarantine_lines"])),
    ]
    html_cards = "".join(f'<div class="card"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div></div>' for k, v in cards)
    open_n = sum(int(total[s]) for s in OPEN)
    balance = (
        f'<p><span class="ok">平衡校验通过：</span>已推送合计 {_fmt(total["delivered_total"])} = 按时办结 {_fmt(total["done"])} + '
        f'超期办结 {_fmt(total["done_late"])} + 退回 {_fmt(total["rejected"])} + 在办 {_fmt(open_n)}。</p>'
    )
    code_col, item_col = SUMMARY_HEADINGS["code"], SUMMARY_HEADINGS["item"]
    value_cols = [SUMMARY_HEADINGS[k] for k in ("total", *UTILITY_ORDER)]
    head = _th(item_col) + "".join(_th(c) for c in value_cols)
    rows = []
    for _, row in summary.iterrows():
        code = row[code_col]
        if code in ("period", "as_of"):
            continue
        cells = "".join(f'<td class="n">{_e(_fmt(row[c], code))}</td>' for c in value_cols)
        rows.append(f"<tr><td>{_e(row[item_col])} <code>{_e(code)}</code></td>{cells}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="cards">{html_cards}</div>{balance}<h3>按状态与业务类型</h3>{table}'


def _drill_html(by_city: pd.DataFrame, by_county: pd.DataFrame, by_institution: pd.DataFrame) -> str:
    metric_cols = [metric_heading(c) for c in DRILL_COLUMNS]
    city_code, city_name = KEY_HEADINGS["city_code"], KEY_HEADINGS["city_name"]
    xzqh, county_name = KEY_HEADINGS["xzqh"], KEY_HEADINGS["county_name"]
    overview = _table_html(by_city, [city_code, city_name, *metric_cols], total=_totals(by_city))
    parts = [f"<h3>各市</h3>{overview}<h3>逐级展开</h3>"]
    institution_cols = [KEY_HEADINGS[k] for k in ("utility", "institution_code", "institution_name", "channel")] + metric_cols
    for city in by_city.itertuples(index=False):
        row = dict(zip(by_city.columns, city))
        counties = by_county[by_county[city_code] == row[city_code]]
        inner = [_table_html(counties, [xzqh, county_name, *metric_cols])]
        for county in counties.itertuples(index=False):
            crow = dict(zip(counties.columns, county))
            institutions = by_institution[by_institution[xzqh] == crow[xzqh]]
            inner.append(
                f"<details><summary>{_e(crow[county_name])} <code>{_e(crow[xzqh])}</code>{_figures(crow)}</summary>"
                f'<div class="body">{_table_html(institutions, institution_cols)}</div></details>'
            )
        parts.append(
            f"<details><summary>{_e(row[city_name])} <code>{_e(row[city_code])}</code>{_figures(row)}</summary>"
            f'<div class="body">{"".join(inner)}</div></details>'
        )
    return "".join(parts)


def _totals(frame: pd.DataFrame) -> dict[str, object]:
    """Column sums of the count columns for a 合计 row (rates are not summed)."""
    return {code_of(c): int(frame[c].sum()) for c in frame.columns if code_of(c) in METRICS and code_of(c) not in RATES and not code_of(c).endswith("_wd")}


def _figures(row: Mapping[str, object]) -> str:
    get = {code_of(k): v for k, v in row.items()}
    return (
        f'<span class="fig">工单 {_e(_fmt(get["received"]))}，已推送 {_e(_fmt(get["delivered_total"]))}，'
        f'完成率 {_e(_fmt(get["completion_rate"], "completion_rate"))}，超期未办结 {_e(_fmt(get["overdue"]))}</span>'
    )


def _overdue_html(overdue: pd.DataFrame) -> str:
    n = len(overdue)
    lead = (
        f"<p>截至数据时点，已推送、办理期限已过仍无最终结果的工单共 <strong>{n:,}</strong> 件，按超期工作日从多到少排列。"
        f"完整清单见 {_link(csv_href('超期清单'), csv_href('超期清单'))} 或 {_link(XLSX_NAME, XLSX_NAME)}（工作表“超期清单”）。</p>"
    )
    more = f'<p class="note">页面仅列前 {HTML_MAX_ROWS:,} 件，其余见上述文件。</p>' if n > HTML_MAX_ROWS else ""
    return lead + _table_html(overdue, max_rows=HTML_MAX_ROWS) + more


def _files_html(tables: Mapping[str, pd.DataFrame]) -> str:
    exceptions, quarantine = tables["异常清单"], tables["隔离清单"]
    code_col, reason_col = EXCEPTION_HEADINGS["reason_code"], EXCEPTION_HEADINGS["reason"]
    parts = [
        f"<p>异常记录 <strong>{len(exceptions):,}</strong> 条（回执文件、接口返回中无法处理的行），"
        f"见 {_link(csv_href('异常清单'), csv_href('异常清单'))}。</p>"
    ]
    if len(exceptions):
        by_reason = (
            exceptions.assign(**{code_col: exceptions[code_col].fillna(""), reason_col: exceptions[reason_col].fillna("")})
            .groupby([code_col, reason_col], sort=True).size().rename("条数(count)").reset_index()
            .sort_values("条数(count)", ascending=False, kind="stable")
        )
        parts.append(_table_html(by_reason))
    rowguid = QUARANTINE_HEADINGS["rowguid"]
    records = quarantine[rowguid].nunique() if rowguid in quarantine.columns else len(quarantine)
    parts.append(
        f"<p>隔离清单 <strong>{len(quarantine):,}</strong> 条（涉及 {records:,} 个标识码），"
        f"见 {_link(csv_href('隔离清单'), csv_href('隔离清单'))}。</p>"
    )
    rule = QUARANTINE_HEADINGS["rule_id"]
    if len(quarantine) and rule in quarantine.columns:
        parts.append(_table_html(quarantine.groupby(rule, sort=True).size().rename("条数(count)").reset_index()))
    files = "".join(
        f"<tr><td>{_e(name)} <code>{_e(code)}</code></td><td>{_link(csv_href(name), csv_href(name))}</td>"
        f'<td class="n">{len(tables[name]):,}</td></tr>'
        for name, code in TABLES.items() if name in tables
    )
    parts.append(
        f"<h3>数据文件</h3><p>{_link(XLSX_NAME, XLSX_NAME)}：每张表一个工作表（工作表名同下）；CSV 为 UTF-8（带 BOM），可直接用 Excel/WPS 打开。</p>"
        f"<table><thead><tr><th>表</th><th>CSV</th><th>行数</th></tr></thead><tbody>{files}</tbody></table>"
    )
    return "".join(parts)


# --- charts: inline SVG, no script; every text escaped


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _count_ticks(value: float) -> list[int]:
    """Whole-number ticks from 0 to a round top at or above value, at most 6 of them (1, 2 or 5 × 10^k apart)."""
    value = max(float(value), 1.0)
    power = 10 ** max(0, math.floor(math.log10(value / 5)))
    step = next(s * power for s in (1, 2, 5, 10) if value / (s * power) <= 5)
    top = math.ceil(value / step) * step
    return list(range(0, top + 1, step))


def _svg(width: float, height: float, label: str, content: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{_e(label)}"><title>{_e(label)}</title>{content}</svg>'
    )


def _svg_legend(items: Iterable[tuple[str, str]], x: float, y: float) -> str:
    out = []
    for label, color in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{color}"/><text x="{x + 16:.1f}" y="{y:.1f}">{_e(label)}</text>')
        x += 30 + 13 * len(label)
    return "".join(out)


def _svg_y_axis(ticks: list[int], left: float, top: float, plot_w: float, plot_h: float) -> str:
    out = []
    for tick in ticks:
        y = top + plot_h - plot_h * tick / ticks[-1]
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick:,}</text>')
    return "".join(out)


def _svg_city_rates(by_city: pd.DataFrame) -> str:
    """Horizontal bars per city: completion rate and overdue rate, 0–100 %, with the open overdue count."""
    if by_city.empty:
        return '<p class="note">本期无工单。</p>'
    left, scale, row_h, top = 130.0, 460.0, 42.0, 46.0
    width = left + scale + 210
    height = top + row_h * len(by_city) + 10
    out = [_svg_legend([("完成率", _COLORS["done"]), ("超期率", _COLORS["overdue"])], left, 16)]
    for pct in (0, 25, 50, 75, 100):
        x = left + scale * pct / 100
        out.append(f'<line x1="{x:.1f}" y1="{top - 8:.1f}" x2="{x:.1f}" y2="{height - 6:.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{x:.1f}" y="{top - 12:.1f}" text-anchor="middle" font-size="11">{pct}%</text>')
    name = KEY_HEADINGS["city_name"]
    for i, (_, row) in enumerate(by_city.iterrows()):
        y = top + i * row_h
        out.append(f'<text x="{left - 8:.1f}" y="{y + 20:.1f}" text-anchor="end">{_e(row[name])}</text>')
        for j, (code, color) in enumerate((("completion_rate", _COLORS["done"]), ("overdue_rate", _COLORS["overdue"]))):
            rate = row[metric_heading(code)]
            by = y + 4 + j * 15
            if _missing(rate):
                out.append(f'<text x="{left + 4:.1f}" y="{by + 11:.1f}" font-size="11">无推送</text>')
                continue
            w = scale * max(0.0, min(float(rate), 1.0))
            out.append(f'<rect x="{left:.1f}" y="{by:.1f}" width="{w:.1f}" height="13" fill="{color}"><title>{_e(row[name])} {_e(METRICS[code])} {_e(_fmt(rate, code))}</title></rect>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{by + 11:.1f}" font-size="11">{_e(_fmt(rate, code))}</text>')
        overdue = int(row[metric_heading("overdue")])
        out.append(f'<text x="{left + scale + 50:.1f}" y="{y + 20:.1f}" font-size="12">超期未办结 {overdue:,} 件</text>')
    return _svg(width, height, "各市完成率与超期率（条形图）", "".join(out))


def _svg_histogram(statuses: pd.DataFrame) -> str:
    """Stacked columns: work orders with a final result by whole working days to handle (≥10 in one column)."""
    final = statuses[statuses["status"].isin(list(FINAL))]
    days = pd.to_numeric(final["handle_working_days"], errors="coerce")
    final, days = final[days.notna()], days[days.notna()]
    if final.empty:
        return '<p class="note">本期尚无已有最终结果的工单。</p>'
    top_bin = 10
    bins = np.floor(days.clip(lower=0, upper=top_bin)).astype(int)
    counts = pd.crosstab(bins, final["status"]).reindex(index=range(top_bin + 1), columns=list(FINAL), fill_value=0)
    left, bottom, plot_w, plot_h, top = 52.0, 48.0, 640.0, 220.0, 34.0
    width, height = left + plot_w + 20, top + plot_h + bottom
    ticks = _count_ticks(float(counts.sum(axis=1).max()))
    y_max = ticks[-1]
    col_w = plot_w / len(counts)
    out = [_svg_legend([(STATUSES[s], _COLORS[s]) for s in FINAL], left, 16), _svg_y_axis(ticks, left, top, plot_w, plot_h)]
    for i, (bin_, row) in enumerate(counts.iterrows()):
        x = left + i * col_w + 4
        y = top + plot_h
        label = f"≥{top_bin}" if bin_ == top_bin else f"{bin_}–{bin_ + 1}"
        for status in FINAL:
            n = int(row[status])
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w - 8:.1f}" height="{h:.1f}" fill="{_COLORS[status]}"><title>{_e(label)} 个工作日：{_e(STATUSES[status])} {n:,} 件</title></rect>')
        total = int(row.sum())
        if total:
            out.append(f'<text x="{x + (col_w - 8) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">{total:,}</text>')
        out.append(f'<text x="{x + (col_w - 8) / 2:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" font-size="11">{_e(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8:.1f}" text-anchor="middle">办理用时（工作日）</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 {top + plot_h / 2:.1f})">工单数</text>')
    return _svg(width, height, "办理用时分布（直方图，工作日）", "".join(out))


def _svg_trend(daily: pd.DataFrame) -> str:
    """Lines per day: delivered, done, rejected, overdue."""
    frame = daily.sort_values("day").reset_index(drop=True)
    series = (("delivered", "推送"), ("done", "办结"), ("rejected", "退回"), ("overdue", "超期"))
    values = {code: pd.to_numeric(frame[code], errors="coerce").fillna(0).to_numpy(dtype=float) for code, _ in series}
    days = list(_local_dates(frame["day"]))
    left, bottom, plot_w, plot_h, top = 52.0, 44.0, 660.0, 220.0, 34.0
    width, height = left + plot_w + 20, top + plot_h + bottom
    ticks = _count_ticks(max(float(v.max()) for v in values.values()) if len(frame) else 1.0)
    y_max = ticks[-1]
    step = plot_w / max(len(days) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + (i * step if len(days) > 1 else plot_w / 2), top + plot_h - plot_h * v / y_max

    out = [_svg_legend([(label, _COLORS[code]) for code, label in series], left, 16), _svg_y_axis(ticks, left, top, plot_w, plot_h)]
    every = max(1, math.ceil(len(days) / 12))
    for i, day in enumerate(days):
        if i % every == 0 or i == len(days) - 1:
            x, _ = xy(i, 0)
            text = day.strftime("%m-%d") if day else ""
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" font-size="11">{_e(text)}</text>')
    for code, label in series:
        points = [xy(i, v) for i, v in enumerate(values[code])]
        color = _COLORS[code]
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>')
        for (x, y), v, day in zip(points, values[code], days):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>{_e(day.isoformat() if day else "")} {_e(label)} {int(v):,} 件</title></circle>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6:.1f}" text-anchor="middle">日期</text>')
    return _svg(width, height, "每日趋势（折线图）", "".join(out))
