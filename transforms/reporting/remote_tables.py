"""The remote-collection (异地代收) report's tables (pure; its page is remote_html.py): by collecting hall and by
property county — volumes, acceptance and correction rates, time to certificate, overdue,
and the paper-handover backlog. Same conventions as the reconciliation report
(transforms/reporting/cohandling_tables.py, cells.py, html_page.py): Chinese headings with the code in brackets, one sheet / CSV per
table, rates as fractions, working days from chinese-calendar, IDs and phones never shown.

Counting: one row per package version (a corrected package is a new version). A version
the gateway returned never left; a delivered one has one stage (the furthest the property
authority reported, or 不予受理 / 补正, which close it). The tables add up: received =
returned + not yet delivered + delivered, delivered = every stage after delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd

from transforms.remote.package_rules import BUSINESS_TYPES
from transforms.reporting.cells import code_of
from transforms.reporting.cohandling_tables import SUMMARY_HEADINGS

OPEN_STAGES = ("delivered", "accepted", "review", "fee_notice")
ACCEPTED_STAGES = ("accepted", "review", "fee_notice", "registered", "certificate_issued")
BACK_TO_HALL = ("refused", "correction", "rejected", "failed")
NOT_SENT = ("pending", "rejected", "failed", "superseded", "withdrawn")
METRICS: dict[str, str] = {
    "received": "收件版本数",
    "returned": "网关校验退回",
    "not_sent": "未送达（待推送、拒收、失败、被替代、撤回）",
    "delivered": "已推送属地",
    "accepted": "已受理",
    "refused": "不予受理",
    "correction": "退回补正",
    "registered": "已登簿",
    "certified": "证照已发",
    "replaced": "已由更正版本接续",
    "withdrawn": "送达后撤回",
    "open": "在办",
    "overdue": "超期未办结",
    "late": "超期办结",
    "acceptance_rate": "受理率",
    "correction_rate": "补正率",
    "certificate_median_wd": "收件至发证用时中位数（工作日）",
    "paper_owed": "纸质原件未签收",
    "paper_flagged": "纸质原件超期未移交",
}
NOTES: dict[str, str] = {
    "received": "本期收件（SJSJ 在统计期间内）的报文版本；更正后重新提交的为新版本。",
    "returned": "未通过网关校验，连同原因退回代收窗口，未推送。",
    "not_sent": "通过校验但未送达属地：待推送、属地系统拒收、推送失败（文件已变化）、已被新版本替代或推送前撤回。",
    "delivered": "已送达不动产所在地登记机构（或跨省通办通道）的报文版本。",
    "accepted": "属地已受理且未转为不予受理或补正（含其后审核、登簿、发证的）。",
    "replaced": "已推送、尚未办结时代收窗口又推送了更正版本：属地按新版本办理，本版本不再计入在办。",
    "withdrawn": "送达属地后申请人撤回（或更正后改由他县办理），网关已通知属地停止办理。",
    "refused": "属地不予受理（原因已退回代收窗口）。",
    "correction": "属地要求补正（所缺材料已退回代收窗口）；补正后以新版本推送。",
    "open": "已推送、尚未登簿或不予受理、也未退回补正或被更正版本接续的。",
    "overdue": "在办且已过属地办理时限（自推送次日起算的工作日，默认5个）。超期清单列出截至统计时点的全部超期报文，不限收件期间。",
    "late": "登簿或不予受理晚于办理时限。",
    "acceptance_rate": "已受理 ÷（已受理 + 不予受理 + 退回补正）。",
    "correction_rate": "退回补正 ÷ 已推送属地。",
    "certificate_median_wd": "同一报文首次收件至证照发出的工作日数的中位数。",
    "paper_owed": "代收窗口收取、尚未由属地签收的纸质原件份数。",
    "paper_flagged": "收件后超过规定天数仍未签收的纸质原件份数。",
}
COUNTS = tuple(m for m in METRICS if m not in ("acceptance_rate", "correction_rate", "certificate_median_wd"))
TABLES = {"汇总": "summary", "按代收大厅": "by_hall", "按不动产所在县": "by_county", "超期清单": "overdue", "退回与补正": "returns", "纸质移交": "handover",
          "发证用时": "certificate_days"}
CERTIFICATE_DAYS_CAP = 15  # the histogram's last column: this many working days or more
CERTIFICATE_HEADINGS = {"wd_to_certificate": "收件至发证工作日(wd_to_certificate)", "certified": "证照已发(certified)"}
HALL_KEYS = {"hall": "代收大厅编码(SJDWDM)", "hall_name": "代收大厅(SJDWMC)", "hall_xzqh": "大厅所在县(SJXZQH)"}
COUNTY_KEYS = {"xzqh": "不动产所在县代码(XZQH)", "county_name": "不动产所在县(county_name)"}
LIST_HEADINGS = {
    "bwid": "报文编号(BWID)", "change_seq": "版本号(change_seq)", "hall": HALL_KEYS["hall"], "hall_name": HALL_KEYS["hall_name"],
    "xzqh": COUNTY_KEYS["xzqh"], "county_name": COUNTY_KEYS["county_name"], "business_type": "业务类型(YWLX)", "collected": "收件时间(SJSJ)",
    "delivered_local": "推送时间(delivered_at)", "due": "办理期限(due)", "due_provisional": "期限暂定(due_provisional)", "stage_label": "当前状态(stage)", "overdue_wd": "超期工作日(overdue_wd)",
    "reason": "原因(reason)", "detail": "所缺材料(missing)",
}
HANDOVER_HEADINGS = {
    "list_no": "移交清单编号(list_no)", "hall": HALL_KEYS["hall"], "hall_name": HALL_KEYS["hall_name"], "xzqh": COUNTY_KEYS["xzqh"],
    "county_name": COUNTY_KEYS["county_name"], "state": "状态(state)", "originals": "原件份数(originals)", "flagged": "超期未签收(flagged)",
    "oldest_days": "最早收件距今天数(oldest_days)", "received_at": "签收时间(received_at)", "received_by": "签收人(received_by)",
}


def heading(code: str) -> str:
    return f"{METRICS[code]}({code})"


def _metrics(frame: pd.DataFrame, handover: pd.DataFrame, keys: list[str], handover_keys: list[str]) -> pd.DataFrame:
    stage = frame["stage"]
    parts = pd.DataFrame({
        **{k: frame[k] for k in keys},
        "received": 1,
        "returned": (stage == "returned").astype(int),
        "not_sent": (stage.isin(NOT_SENT) & (frame["delivery_status"] != "delivered")).astype(int),
        "delivered": (frame["delivery_status"] == "delivered").astype(int),
        "accepted": stage.isin(ACCEPTED_STAGES).astype(int),
        "refused": (stage == "refused").astype(int),
        "correction": (stage == "correction").astype(int),
        "registered": stage.isin(("registered", "certificate_issued")).astype(int),
        "replaced": (stage == "replaced").astype(int),
        "withdrawn": ((stage == "withdrawn") & (frame["delivery_status"] == "delivered")).astype(int),  # by stage, as the balance counts (a certificate without a 登簿 event too)
        "certified": frame["certificate_issued_at"].notna().astype(int),
        "open": stage.isin(OPEN_STAGES).astype(int),
        "overdue": frame["overdue"].astype(int),
        "late": frame["late"].astype(int),
    })
    out = parts.groupby(keys, dropna=False, sort=True).sum(numeric_only=True).reset_index()
    medians = frame[frame["in_force"].astype(int) == 1].groupby(keys, dropna=False)["wd_to_certificate"].median().rename("certificate_median_wd")
    out = out.merge(medians.reset_index(), on=keys, how="left")
    decided = out["accepted"] + out["refused"] + out["correction"]
    out["acceptance_rate"] = np.where(decided > 0, out["accepted"] / decided.where(decided > 0, 1), np.nan)
    out["correction_rate"] = np.where(out["delivered"] > 0, out["correction"] / out["delivered"].where(out["delivered"] > 0, 1), np.nan)
    if len(handover):
        owed = handover[handover["state"] != "已签收"].groupby(handover_keys).size().rename("paper_owed")
        flagged = handover[handover["flagged"]].groupby(handover_keys).size().rename("paper_flagged")
        paper = pd.concat([owed, flagged], axis=1).reset_index().rename(columns=dict(zip(handover_keys, keys)))
        out = out.merge(paper, on=keys, how="outer")
    for column in ("paper_owed", "paper_flagged"):
        out[column] = pd.to_numeric(out.get(column, pd.Series(0, index=out.index)), errors="coerce").fillna(0).astype("int64")  # no originals owed: no column
    for column in COUNTS:
        out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0).astype("int64")
    return out.loc[:, [*keys, *METRICS]]


def remote_report_tables(tracked: pd.DataFrame, handover: pd.DataFrame, *, period: tuple[date, date], as_of: datetime,
                         county_names: Mapping[str, str], outstanding: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The report's tables. `tracked`: transforms.remote.package_tracking.track() for the versions collected in
    the period; `handover`: transforms.remote.package_tracking.handover_state() (every original owed, any period);
    `outstanding`: track() over every version (default `tracked`), for the overdue list, which names
    every version overdue at `as_of` whenever it was collected."""
    def named(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["county_name"] = frame["xzqh"].map(lambda x: county_names.get(x, f"外省（跨省通办）{x}" if isinstance(x, str) else ""))
        return frame

    frame = named(tracked)
    for column in ("hall_name", "hall_xzqh"):
        frame[column] = frame[column].fillna("")
    handover = handover.copy()
    if len(handover):
        handover["county_name"] = handover["xzqh"].map(lambda x: county_names.get(x, f"外省（跨省通办）{x}"))
    if len(handover):
        for column in ("hall_name", "hall_xzqh"):
            handover[column] = handover[column].fillna("")
    by_hall = _metrics(frame, handover, list(HALL_KEYS), list(HALL_KEYS))
    by_county = _metrics(frame, handover, list(COUNTY_KEYS), ["xzqh", "county_name"])
    check_adds_up(by_hall, by_county)
    total = {m: int(by_county[m].sum()) for m in COUNTS}
    decided = total["accepted"] + total["refused"] + total["correction"]
    total["acceptance_rate"] = total["accepted"] / decided if decided else np.nan
    total["correction_rate"] = total["correction"] / total["delivered"] if total["delivered"] else np.nan
    total["certificate_median_wd"] = float(frame.loc[frame["in_force"].astype(int) == 1, "wd_to_certificate"].median())
    summary = pd.DataFrame({
        SUMMARY_HEADINGS["item"]: [METRICS[m] for m in METRICS],
        SUMMARY_HEADINGS["code"]: list(METRICS),
        SUMMARY_HEADINGS["total"]: pd.Series([total[m] for m in METRICS], dtype=object),  # counts stay whole numbers
        SUMMARY_HEADINGS["note"]: [NOTES.get(m, "") for m in METRICS],
    })
    provisional = int(frame["due_provisional"].sum()) if "due_provisional" in frame else 0
    summary.loc[len(summary)] = ["期限暂定的包", "provisional_due", provisional,
                                 "办理期限落在尚无国务院节假日安排的年份，按周一至周五暂定计算。" if provisional else "无：所有办理期限均按已公布的节假日安排计算。"]
    everything = frame if outstanding is None else named(outstanding)
    overdue = everything[everything["overdue"]].sort_values(["overdue_wd", "xzqh", "change_seq"], ascending=[False, True, True])
    returns = frame[frame["stage"].isin(BACK_TO_HALL)].sort_values(["hall", "change_seq"]).copy()
    # A delivery the receiver refused or the gateway could not send: its reason is the delivery's.
    returns["reason"] = returns["reason"].where(returns["reason"].notna(), returns["delivery_reason"])
    lists = _handover_table(handover, as_of=as_of)
    tables = {
        "汇总": summary,
        "按代收大厅": _headed(by_hall, HALL_KEYS),
        "按不动产所在县": _headed(by_county, COUNTY_KEYS),
        "超期清单": _list_table(overdue, ["bwid", "change_seq", "hall", "hall_name", "xzqh", "county_name", "business_type", "collected", "delivered_local", "due",
                                      "due_provisional", "stage_label", "overdue_wd"]),
        "退回与补正": _list_table(returns, ["bwid", "change_seq", "hall", "hall_name", "xzqh", "county_name", "business_type", "stage_label", "reason", "detail"]),
        "纸质移交": lists,
        "发证用时": certificate_days(frame),
    }
    return tables


def certificate_days(frame: pd.DataFrame) -> pd.DataFrame:
    """Packages (the version in force of each BWID) by whole working days from first collection to certificate: one row
    per day 0 … CERTIFICATE_DAYS_CAP − 1 and one for CERTIFICATE_DAYS_CAP or more (the histogram of the page)."""
    days = pd.to_numeric(frame.loc[frame["in_force"].astype(int) == 1, "wd_to_certificate"], errors="coerce").dropna()
    bins = np.floor(days.clip(lower=0, upper=CERTIFICATE_DAYS_CAP)).astype(int)
    counts = bins.value_counts().reindex(range(CERTIFICATE_DAYS_CAP + 1), fill_value=0)
    labels = [str(d) for d in range(CERTIFICATE_DAYS_CAP)] + [f"{CERTIFICATE_DAYS_CAP}及以上"]
    return pd.DataFrame({CERTIFICATE_HEADINGS["wd_to_certificate"]: labels, CERTIFICATE_HEADINGS["certified"]: counts.to_numpy(dtype="int64")})


def check_adds_up(by_hall: pd.DataFrame, by_county: pd.DataFrame) -> None:
    """Both breakdowns hold the same totals, and each row balances; else ValueError (no report)."""
    for name, table in (("by_hall", by_hall), ("by_county", by_county)):
        stages = table["returned"] + table["not_sent"] + table["delivered"]
        if not (stages == table["received"]).all():
            raise ValueError(f"{name}: received != returned + not sent + delivered")
        after = table["open"] + table["refused"] + table["correction"] + table["registered"] + table["replaced"] + table["withdrawn"]
        if not (after == table["delivered"]).all():
            raise ValueError(f"{name}: delivered != open + refused + correction + registered + replaced + withdrawn")
    for m in COUNTS:
        if int(by_hall[m].sum()) != int(by_county[m].sum()):
            raise ValueError(f"{m}: by hall {int(by_hall[m].sum())} != by county {int(by_county[m].sum())}")


def _headed(table: pd.DataFrame, keys: dict[str, str]) -> pd.DataFrame:
    return table.rename(columns={**keys, **{m: heading(m) for m in METRICS}})


def _list_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.loc[:, columns].copy()
    if "business_type" in out:
        out["business_type"] = out["business_type"].map(lambda t: f"{BUSINESS_TYPES.get(t, '')}({t})" if isinstance(t, str) else t)
    for column in ("collected", "delivered_local"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.floor("min")
    if "due" in out:
        out["due"] = pd.to_datetime(out["due"]).dt.date
    if "due_provisional" in out:
        out["due_provisional"] = np.where(out["due_provisional"].fillna(False).astype(bool).to_numpy(), "暂定", "").astype(object)
    return out.rename(columns=LIST_HEADINGS).reset_index(drop=True)


def _handover_table(handover: pd.DataFrame, *, as_of: datetime) -> pd.DataFrame:
    if not len(handover):
        return pd.DataFrame(columns=list(HANDOVER_HEADINGS.values()))
    frame = handover.copy()
    frame["list_no"] = frame["list_no"].fillna("（未列入清单）")
    grouped = frame.groupby(["list_no", "hall", "hall_name", "xzqh", "county_name", "state"], dropna=False).agg(
        originals=("xh", "size"), flagged=("flagged", "sum"), oldest_days=("days", "max"), received_at=("received_at", "first"),
        received_by=("received_by", "first")).reset_index()
    grouped["flagged"] = grouped["flagged"].astype("int64")
    order = grouped["state"].map({"未列入移交清单": 0, "已列清单待签收": 1, "已签收": 2})
    grouped = grouped.assign(_o=order).sort_values(["_o", "oldest_days"], ascending=[True, False]).drop(columns="_o")
    return grouped.loc[:, list(HANDOVER_HEADINGS)].rename(columns=HANDOVER_HEADINGS).reset_index(drop=True)


def report_json(tables: dict[str, pd.DataFrame], *, period: tuple[date, date], as_of: datetime) -> dict:
    """Machine-readable figures: totals, by hall, by county (codes as keys)."""
    def rows(table: pd.DataFrame) -> list[dict]:
        renamed = table.rename(columns=code_of)
        return [{k: (None if isinstance(v, float) and np.isnan(v) else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()}
                for r in renamed.to_dict("records")]

    summary = tables["汇总"]
    totals = {code: (None if isinstance(v, float) and np.isnan(v) else (v.item() if hasattr(v, "item") else v))
              for code, v in zip(summary[SUMMARY_HEADINGS["code"]], summary[SUMMARY_HEADINGS["total"]])}
    return {"period": [period[0].isoformat(), period[1].isoformat()], "as_of": as_of.isoformat(), "totals": totals,
            "by_hall": rows(tables["按代收大厅"]), "by_county": rows(tables["按不动产所在县"]),
            "overdue": len(tables["超期清单"]), "returns": len(tables["退回与补正"])}
