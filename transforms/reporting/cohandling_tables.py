"""The reconciliation reports' tables auditors read and counties act on (pure: frames in, tables out).

`report_tables` builds the tables, keyed by their Chinese sheet names: headings in Chinese
with the code alongside (`完成率(completion_rate)`, `行政区划代码(XZQH)`), buyers' names, ID
numbers and phones masked (transforms/common/mask.py), every text cell that Excel/WPS would read
as a formula neutralised. It checks that the work orders balance — delivered = done + done_late +
rejected + open — and raises `ReportBalanceError` if they do not. The page made of them is
transforms/reporting/cohandling_html.py's; writing the files is jobs/cohandling/publish_report.py's job.

Definitions (the 说明 of the page says the same in Chinese):

- delivered (已推送合计) = done + done_late + rejected + open, open = delivered + acknowledged
  + overdue (the statuses), checked against `delivered_at` row by row;
- completion_rate = (done + done_late) / delivered; overdue_rate = (overdue + done_late) /
  delivered; both empty when nothing was delivered;
- handle time = working days from delivery to the final result (done, done_late, rejected);
  median and p90 by linear interpolation (pandas' default quantile).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from transforms.cohandling.annex1 import UTILITY_LABELS
from transforms.cohandling.quarantine import HEADINGS as QUARANTINE_HEADINGS
from transforms.common.mask import mask_address, mask_id, mask_in_text, mask_names, mask_phone
from transforms.reporting.cells import RATES, PrintLayout, labelled, local_dates, local_naive, local_naive_one, neutralised

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
# 超期清单 (公示): first the columns a member of the public reads and the printed list shows (OVERDUE_PUBLIC), grouped by
# city, then institution; then the columns for the counties' and machines' use (XLSX and CSV only, never printed).
OVERDUE_HEADINGS: dict[str, str] = {
    "no": "序号(no)",
    "city_name": KEY_HEADINGS["city_name"],
    "county_name": KEY_HEADINGS["county_name"],
    "platform_no": "平台业务号(YCYWH)",
    "address": "房屋坐落（已脱敏）(FWZL)",
    "utility": KEY_HEADINGS["utility"],
    "institution_name": "承办单位(institution_name)",
    "delivered_on": "推送日期(delivered_at)",
    "due_date": "办理期限(due_date)",
    "overdue_working_days": "超期工作日(overdue_working_days)",
    "city_code": KEY_HEADINGS["city_code"],
    "xzqh": KEY_HEADINGS["xzqh"],
    "institution_code": KEY_HEADINGS["institution_code"],
    "channel": KEY_HEADINGS["channel"],
    "rowguid": "标识码(ROWGUID)",
    "version": "工单版本(version)",
    "correction": "是否更正(correction)",
    "due_provisional": "期限暂定(due_provisional)",
    "buyer_name": "买方姓名(ZRFXM，已脱敏)",
    "buyer_id": "买方证件号码(ZRFZJHM，已脱敏)",
    "buyer_phone": "买方联系电话(ZRFLXDH，已脱敏)",
}
OVERDUE_PUBLIC = ("no", "city_name", "county_name", "platform_no", "address", "utility", "institution_name", "delivered_on", "due_date",
                  "overdue_working_days")
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
# The printed 超期清单 (公示): the public columns only, each city from a new page (write_workbook).
PRINT_LAYOUTS: dict[str, PrintLayout] = {"超期清单": PrintLayout(columns=len(OVERDUE_PUBLIC), break_by=OVERDUE_HEADINGS["city_code"])}
HTML_NAME = "report.html"
XLSX_NAME = "report.xlsx"
CSV_DIR = "csv"

STATUS_COLUMNS = (
    "rowguid", "utility", "version", "correction", "channel", "institution_code", "institution_name", "xzqh", "county_name",
    "city_code", "city_name", "status", "delivered_at", "due_date", "handle_working_days", "overdue_working_days",
    "buyer_name", "buyer_phone", "buyer_id",
)

OPTIONAL_COLUMNS = ("platform_no", "address")


class ReportBalanceError(ValueError):
    """The work orders do not add up; the report would mislead, so none is made."""


def metric_heading(code: str) -> str:
    return f"{METRICS[code]}({code})"


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
    orders = prepare_orders(statuses)
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
    return {name: neutralised(table) for name, table in tables.items()}


def prepare_orders(statuses: pd.DataFrame) -> pd.DataFrame:
    """Required columns present, statuses and utilities known, one row per work order; keys as text."""
    missing = [c for c in STATUS_COLUMNS if c not in statuses.columns]
    if missing:
        raise ValueError(f"工单状态表缺少列 / statuses lacks columns: {', '.join(missing)}")
    orders = statuses.loc[:, list(STATUS_COLUMNS)].copy()
    # due dates in a year with no known holiday arrangement (transforms/common/workdays.py); absent = none provisional
    provisional = statuses["due_provisional"] if "due_provisional" in statuses else pd.Series(False, index=statuses.index)
    orders["due_provisional"] = provisional.fillna(False).astype(bool).to_numpy()
    # the record's platform number (YCYWH) and address (FWZL), which the overdue list (公示) names an order by; empty if not given
    for column in OPTIONAL_COLUMNS:
        orders[column] = statuses[column].to_numpy(dtype=object) if column in statuses else None
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
    for column in ("rowguid", "utility", "channel", "institution_code", "institution_name", "xzqh", "county_name", "city_code", "city_name",
                   *OPTIONAL_COLUMNS):
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
    channels = group["channel"].agg(lambda s: "、".join(labelled(c, CHANNEL_LABELS) for c in sorted(set(s) - {""})))
    extra = pd.DataFrame({"institution_name": names, "channel": channels}).reset_index()
    out = out.merge(extra, on=keys, how="left", validate="one_to_one")
    out["utility_rank"] = out["utility"].map({u: i for i, u in enumerate(UTILITY_ORDER)})
    out = out.sort_values(["city_code", "xzqh", "utility_rank", "institution_code"], kind="stable").drop(columns="utility_rank")
    out["utility"] = out["utility"].map(lambda u: labelled(u, UTILITY_LABELS))
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
        {"item": "数据截至", "code": "as_of", "total": local_naive_one(as_of).strftime("%Y-%m-%d %H:%M"), "note": "北京时间。"},
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
    """超期清单 (公示): open work orders past their due date, by city, then institution (utility, code, name), the longest
    overdue first within an institution; numbered 1…n in that order. Each order named by its platform number (YCYWH)
    and its masked address; buyers masked; the ROWGUID only among the machine columns after the public ones."""
    od = orders[orders["status"] == "overdue"].copy()
    od["utility_rank"] = od["utility"].map({u: i for i, u in enumerate(UTILITY_ORDER)})
    od = od.sort_values(
        ["city_code", "utility_rank", "institution_code", "institution_name", "overdue_working_days", "xzqh", "platform_no", "rowguid"],
        ascending=[True, True, True, True, False, True, True, True], na_position="last", kind="stable",
    )
    out = pd.DataFrame({
        "no": range(1, len(od) + 1),
        "city_name": od["city_name"].to_numpy(dtype=object),
        "county_name": od["county_name"].to_numpy(dtype=object),
        "platform_no": od["platform_no"].to_numpy(dtype=object),
        "address": mask_address(od["address"].astype(object)).to_numpy(dtype=object),
        "utility": od["utility"].map(lambda u: labelled(u, UTILITY_LABELS)).to_numpy(dtype=object),
        "institution_name": od["institution_name"].to_numpy(dtype=object),
        "delivered_on": local_dates(od["delivered_at"]).to_numpy(dtype=object),
        "due_date": local_dates(od["due_date"]).to_numpy(dtype=object),
        "overdue_working_days": od["overdue_working_days"].to_numpy(dtype=float),
        "city_code": od["city_code"].to_numpy(dtype=object),
        "xzqh": od["xzqh"].to_numpy(dtype=object),
        "institution_code": od["institution_code"].to_numpy(dtype=object),
        "channel": od["channel"].map(lambda c: labelled(c, CHANNEL_LABELS) if c else "").to_numpy(dtype=object),
        "rowguid": od["rowguid"].to_numpy(dtype=object),
        "version": pd.array(pd.to_numeric(od["version"], errors="coerce"), dtype="Int64"),
        "correction": np.where(od["correction"].to_numpy(dtype=bool), "是", "否").astype(object),
        "due_provisional": np.where(od["due_provisional"].to_numpy(dtype=bool), "暂定", "").astype(object),
        "buyer_name": mask_names(od["buyer_name"].astype(object)).to_numpy(dtype=object),
        "buyer_id": mask_id(od["buyer_id"].astype(object)).to_numpy(dtype=object),
        "buyer_phone": mask_phone(od["buyer_phone"].astype(object)).to_numpy(dtype=object),
    })
    return out.rename(columns=OVERDUE_HEADINGS)


@dataclass(frozen=True)
class InstitutionRows:
    name: str
    utility: str  # its label: 水（water）
    code: str
    rows: pd.DataFrame  # the overdue list's rows for it, in the list's order


@dataclass(frozen=True)
class CityRows:
    city_code: str
    city_name: str
    institutions: list[InstitutionRows]

    @property
    def count(self) -> int:
        return sum(len(i.rows) for i in self.institutions)


def overdue_groups(overdue: pd.DataFrame) -> list[CityRows]:
    """The overdue list (as report_tables made it: sorted by city, then institution) cut into its cities and, in each,
    its institutions, in the list's order; every row in exactly one group. For the printed list: one section (and
    page) per city, one block per institution."""
    h = OVERDUE_HEADINGS
    if overdue.empty:
        return []
    city = overdue[h["city_code"]].astype(str)
    institution = overdue[h["utility"]].astype(str) + "\x1f" + overdue[h["institution_code"]].astype(str) + "\x1f" + overdue[h["institution_name"]].astype(str)
    city_run = (city != city.shift()).cumsum()
    institution_run = (city_run != city_run.shift()) | (institution != institution.shift())
    cities: list[CityRows] = []
    for _, part in overdue.groupby(city_run.to_numpy(), sort=False):
        starts = institution_run.loc[part.index].cumsum()
        institutions = [
            InstitutionRows(name=str(rows[h["institution_name"]].iloc[0]), utility=str(rows[h["utility"]].iloc[0]),
                            code=str(rows[h["institution_code"]].iloc[0]), rows=rows)
            for _, rows in part.groupby(starts.to_numpy(), sort=False)
        ]
        cities.append(CityRows(city_code=str(part[h["city_code"]].iloc[0]), city_name=str(part[h["city_name"]].iloc[0]), institutions=institutions))
    return cities


def _exceptions(exceptions: pd.DataFrame | None) -> pd.DataFrame:
    """异常清单: every exception with its source; IDs and phones inside raw text and reasons masked."""
    if exceptions is None or exceptions.empty:
        return pd.DataFrame({h: pd.Series(dtype=object) for h in EXCEPTION_HEADINGS.values()})
    ex = exceptions.reset_index(drop=True)

    def column(name: str) -> pd.Series:
        return ex[name].astype(object) if name in ex.columns else pd.Series([None] * len(ex), dtype=object)

    out = pd.DataFrame({
        "source": column("source"),
        # the ledger's column is row_number (result_exception); a frame from elsewhere may call it row
        "row": pd.array(pd.to_numeric(column("row" if "row" in ex.columns else "row_number"), errors="coerce"), dtype="Int64"),
        "rowguid": column("rowguid"),
        "utility": column("utility").map(lambda u: labelled(u, UTILITY_LABELS), na_action="ignore"),
        "reason_code": column("reason_code"),
        "reason": mask_in_text(column("reason")),
        "value": mask_in_text(column("value")),
        "received_at": local_naive(column("received_at")),
    })
    return out.rename(columns=EXCEPTION_HEADINGS)


def _daily(daily: pd.DataFrame | None) -> pd.DataFrame:
    if daily is None or daily.empty:
        return pd.DataFrame({h: pd.Series(dtype=object) for h in DAILY_HEADINGS.values()})
    out = daily.loc[:, list(DAILY_HEADINGS)].sort_values("day").reset_index(drop=True)
    out["day"] = local_dates(out["day"]).astype(object)
    for column in ("delivered", "done", "rejected", "overdue"):
        out[column] = pd.to_numeric(out[column]).fillna(0).astype("int64")
    return out.rename(columns=DAILY_HEADINGS)


def overdue_list(statuses: pd.DataFrame) -> pd.DataFrame:
    """The 超期清单 (公示) of any set of reconciled work orders (reconcile's rows, e.g. one area's or one institution's),
    exactly as the report's sheet: same order, columns, masking and neutralised cells (the web console lists it)."""
    return neutralised(_overdue_list(prepare_orders(statuses)))


def exceptions_list(exceptions: pd.DataFrame) -> pd.DataFrame:
    """The 异常清单 of any set of result exceptions (ledger rows), exactly as the report's sheet (the web console lists it)."""
    return neutralised(_exceptions(exceptions))
