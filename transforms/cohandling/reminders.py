"""Weekly overdue reminders (催办提醒): which work orders are overdue, who is reminded of which, and the files
and protocol items they get. Pure: frames in, dicts and bytes out (the job: jobs/cohandling/remind_overdue.py).

Overdue is reconciliation's `overdue` (transforms/cohandling/reconcile.py): delivered, no final result, its due
date (N working days after delivery) passed. Once per ISO week (Asia/Shanghai), each recipient with overdue work
orders gets one reminder:

- an account-mode institution: a reminder folder `CB<year>W<week>` in its drop's outbox (published like a batch:
  data file in its batch format, `.sha256`, manifest with `"kind": "reminder"`);
- a county system (system mode) and the grid: `POST /v1/reminders` of the receiver protocol, one item per work
  order, keyed `<work-order key>:remind:<week>`;
- each county (XZQH of the record): a list of its overdue work orders across every institution and the grid,
  XLSX and CSV, in the report folder.

Rows name a work order by its key (工单编号 GDBH = ROWGUID:utility:version) and platform number (YCYWH) with the account number,
due date and days overdue (working and calendar days); the buyer's name is masked, nothing else personal is
shown. Chinese headers with the codes beneath (XLSX), as the batch files (transforms/cohandling/batch_xlsx.py).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import pandas as pd
import pyarrow as pa

from transforms.cohandling.annex1 import UTILITY_LABELS
from transforms.cohandling.batchfiles import EXTENSIONS, BatchFile, render
from transforms.common.mask import mask_names

SCHEMA_VERSION = "1"
# ROWGUID and the version are in the work order's key (GDBH = ROWGUID:utility:version): one column, so a list prints on A4.
COLUMNS = ("GDBH", "YCYWH", "XBLX", "HH", "MFXM", "XZQH", "XZMC", "JGDM", "JGMC", "TSFS", "TSRQ", "BLQX", "CQGZR", "CQTS")
LABELS = {
    "GDBH": "工单编号（标识码ROWGUID:类型:版本）", "YCYWH": "“一网通办”平台业务号", "XBLX": "协办类型", "HH": "户号",
    "MFXM": "买方姓名（脱敏）", "XZQH": "行政区划代码", "XZMC": "县（市、区）", "JGDM": "办理机构代码", "JGMC": "办理机构",
    "TSFS": "推送方式", "TSRQ": "推送日期", "BLQX": "办理期限", "CQGZR": "超期工作日", "CQTS": "超期天数（自然日）",
}
CHANNEL_LABELS = {"account": "账号对接（SFTP）", "system": "系统对接", "grid": "国网营销系统"}
REMINDER_PATH = "/v1/reminders"


def iso_week(day: date) -> str:
    """The ISO week of `day`: `2026-W49` (weeks start on Monday)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def folder_name(week: str) -> str:
    """An institution's reminder folder in its outbox: `CB2026W49` (催办, the week)."""
    return "CB" + week.replace("-", "")


def overdue_items(statuses: pd.DataFrame, facts: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """One row per overdue work order: the reminder columns (text) plus `channel`, `destination` and `file_format`.

    `statuses`: reconcile() output; `facts`: rowguid, utility, version, account_no, ycywh, file_format of the work orders."""
    od = statuses[statuses["status"] == "overdue"]
    if len(facts):
        od = od.merge(facts, on=["rowguid", "utility", "version"], how="left")
    else:
        od = od.assign(account_no=None, ycywh=None, file_format=None)
    due = pd.to_datetime(od["due_date"])
    out = pd.DataFrame({
        "GDBH": od["rowguid"].astype(str) + ":" + od["utility"].astype(str) + ":" + od["version"].astype(int).astype(str),
        "YCYWH": _text(od["ycywh"]),
        "XBLX": od["utility"].map(lambda u: f"{u} {UTILITY_LABELS.get(u, '')}".strip()),
        "HH": _text(od["account_no"]),
        "MFXM": _text(mask_names(od["buyer_name"])),
        "XZQH": _text(od["xzqh"]),
        "XZMC": _text(od["county_name"]),
        "JGDM": _text(od["institution_code"]),
        "JGMC": _text(od["institution_name"]),
        "TSFS": od["channel"].map(lambda c: CHANNEL_LABELS.get(c, c)),
        "TSRQ": pd.to_datetime(od["delivered_at"]).dt.strftime("%Y-%m-%d"),
        "BLQX": due.dt.strftime("%Y-%m-%d"),
        "CQGZR": od["overdue_working_days"].fillna(0).astype(int).astype(str),
        "CQTS": (pd.Timestamp(as_of) - due).dt.days.astype(int).astype(str),
        "channel": od["channel"].astype(str),
        "destination": od["destination"].astype(str),
        "file_format": _text(od["file_format"]),
    }, index=od.index)
    return out.sort_values(["XZQH", "JGDM", "GDBH"], kind="stable").reset_index(drop=True)


def _text(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))


def plan(items: pd.DataFrame, *, week: str) -> list[dict]:
    """The week's reminders: one per account-mode drop, county system and the grid that has overdue work orders, and one list
    per county (XZQH) across them all. Each: channel, destination, name, file_format, institution_code, xzqh, items (rows as
    dicts of the reminder columns, longest overdue first)."""
    reminders = []
    rows = items.assign(_days=items["CQGZR"].astype(int))
    for (channel, destination), group in rows.groupby(["channel", "destination"], sort=True):
        group = group.sort_values(["_days", "GDBH"], ascending=[False, True], kind="stable")
        name = folder_name(week) if channel == "account" else f"reminder:{week}:{destination}"
        fmt = group["file_format"].dropna()
        reminders.append({"channel": channel, "destination": destination, "name": name,
                          "file_format": (fmt.iloc[0] if len(fmt) else "xlsx") if channel == "account" else None,
                          "institution_code": group["JGDM"].dropna().iloc[0] if group["JGDM"].notna().any() else None,
                          "xzqh": group["XZQH"].iloc[0] if channel == "system" else None, "items": _records(group)})
    for xzqh, group in rows.groupby(rows["XZQH"].fillna(""), sort=True):
        group = group.sort_values(["_days", "JGDM", "GDBH"], ascending=[False, True, True], kind="stable")
        county = group["XZMC"].dropna().iloc[0] if group["XZMC"].notna().any() else ""
        reminders.append({"channel": "county", "destination": f"county:{xzqh or 'unknown'}", "name": f"催办清单_{xzqh or 'unknown'}{county}_{week}",
                          "file_format": "xlsx", "institution_code": None, "xzqh": xzqh or None, "items": _records(group)})
    return reminders


def _records(group: pd.DataFrame) -> list[dict]:
    return [{c: (None if v is None or (isinstance(v, float) and pd.isna(v)) else v) for c, v in row.items()}
            for row in group[list(COLUMNS)].to_dict("records")]


def reminder_table(items: list[dict]) -> pa.Table:
    """The rows of a reminder file: every reminder column, all text."""
    return pa.table({c: pa.array([i.get(c) for i in items], pa.string()) for c in COLUMNS})


def reminder_files(items: list[dict], *, base_name: str, file_format: str, week: str, institution: str, created: datetime | None) -> list[BatchFile]:
    """An institution's reminder folder: `<base>.<ext>` in its batch format, `<base>.sha256`, then `<base>.manifest.json`
    (`"kind": "reminder"`) — published like a batch; the same items and time give the same bytes."""
    table = reminder_table(items)
    data = BatchFile(f"{base_name}.{EXTENSIONS[file_format]}", render(table, file_format, labels=LABELS, sheet="超期催办",
                                                                      title=f"{institution} 超期工单催办提醒 {week}", created=created))
    sums = BatchFile(f"{base_name}.sha256", f"{data.sha256}  {data.name}\n".encode("ascii"))
    manifest = {"schema_version": SCHEMA_VERSION, "kind": "reminder", "week": week, "institution": institution, "format": file_format,
                "columns": list(COLUMNS), "records": table.num_rows,
                "files": [{"name": data.name, "records": table.num_rows, "size": data.size, "sha256": data.sha256}],
                "checksums": {"name": sums.name, "sha256": sums.sha256}}
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return [data, sums, BatchFile(f"{base_name}.manifest.json", text.encode("utf-8"))]


def county_files(items: list[dict], *, base_name: str, week: str, county: str, created: datetime | None) -> list[BatchFile]:
    """A county's list: XLSX for people (print setup, Chinese header with codes) and CSV (UTF-8 with BOM) for machines."""
    table = reminder_table(items)
    title = f"{county} 超期未办结工单清单 {week}（共 {table.num_rows} 件）"
    return [BatchFile(f"{base_name}.xlsx", render(table, "xlsx", labels=LABELS, sheet="超期清单", title=title, created=created)),
            BatchFile(f"{base_name}.csv", render(table, "csv"))]


def http_items(items: list[dict], *, week: str) -> list[dict]:
    """The items of `POST /v1/reminders` (docs/protocol/receivers.md, Reminders): one per overdue work order."""
    out = []
    for i in items:
        rowguid, utility, version = i["GDBH"].rsplit(":", 2)
        out.append({"idempotency_key": f"{_safe_key(i['GDBH'])}:remind:{week}", "rowguid": rowguid, "utility": utility, "version": int(version),
                    "week": week, "due_date": i["BLQX"], "overdue_working_days": int(i["CQGZR"])})
    return out


def _safe_key(gdbh: str) -> str:
    """The work order's idempotency key as the HTTP protocol writes it (connectors/http_receiver.idempotency_key)."""
    import re

    rowguid, utility, version = gdbh.rsplit(":", 2)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}", rowguid):
        return gdbh
    return f"h{hashlib.sha256(rowguid.encode('utf-8')).hexdigest()[:32]}:{utility}:{version}"
