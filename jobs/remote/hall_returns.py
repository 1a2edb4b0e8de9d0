"""Remote collection (异地代收): what goes back to the collecting halls.

`write_hall_returns`: per collecting hall, what came back in a run — the gateway's validation
returns with every reason, the authorities' 补正 / 不予受理 with what is missing, and the
deliveries refused or not sent — one workbook per hall that a clerk can read and print: a title
with the hall's name and code, the run and the time it was drawn up, the columns in Chinese with
their codes in brackets, Chinese text with codes only in brackets, ID numbers, phones and
applicants' names masked; A4 landscape, fitted to the width, the heading row on every page.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from connectors.ledger import Ledger

SHEET = "退回清单"
HEADER_ROW = 5  # the column headings' row in each workbook: title, run and time, how to use it, a blank row above
RETURN_HEADINGS = {
    "bwid": "报文编号(BWID)", "change_seq": "版本号(CHANGE_SEQ)", "collected": "收件时间(SJSJ)", "xzqh": "不动产所在县(XZQH)",
    "business_type": "业务类型(YWLX)", "who": "退回方", "rule": "退回情况(rule)", "item": "涉及对象", "value": "报送值（已脱敏）",
    "message": "原因（请据此补正）",
}
# Column widths (characters): about 180 in all, fitted to A4 landscape at about 80 %; long texts wrap.
WIDTHS = {"bwid": 20, "change_seq": 11, "collected": 17, "xzqh": 9, "business_type": 14, "who": 16, "rule": 22, "item": 18, "value": 18, "message": 40}
_APPLICANT_NAMED = re.compile(r"申请人(\d+)（([^（）]*)）")  # 申请人1（周洁）: the validation message names the applicant
_MATERIAL_CODE_FIRST = re.compile(r"材料 ([A-Za-z0-9_]+) ([^：，。]*)")  # 材料 WSPZ 完税凭证 → 材料 完税凭证（WSPZ）
_MATERIAL_NUMBERED = re.compile(r"材料(\d+)（([A-Za-z0-9_]+) (.*?)）：")  # 材料3（QSZS 不动产权属证书）： → 材料3（不动产权属证书，QSZS）：


def hall_returns(ledger: Ledger, run_id: str):
    """What goes back to the collecting halls for a run (pandas): validation failures of returned
    versions, the authorities' 补正 / 不予受理 received in the run, and deliveries the receiver refused
    or the gateway could not send (a file changed). ID numbers, phones and applicants' names masked in every text;
    codes in brackets after the Chinese they stand for."""
    import pandas as pd

    from transforms.common.mask import mask_in_text, mask_names
    from transforms.remote.package_rules import BUSINESS_TYPES, LABELS, RULES
    from transforms.remote.package_tracking import EVENT_STATUSES, missing_text

    returns = ledger.remote.remote_returns(run_id)
    frames = []
    if len(returns):
        errors = returns[returns["severity"] == "error"]
        frames.append(pd.DataFrame({
            "hall": errors["hall"], "hall_name": errors["hall_name"], "bwid": errors["bwid"], "change_seq": errors["change_seq"],
            "collected": errors["collected"], "xzqh": errors["xzqh"], "business_type": errors["business_type"], "who": "网关校验",
            "rule": [f"{_plain(_short(RULES[r].zh)) if r in RULES else '校验未通过'}({r})" for r in errors["rule_id"]],
            "item": [_plain(_where(i, f, LABELS)) for i, f in zip(errors["item"], errors["field"])],
            "value": errors["value"].where(errors["value"] != "nan"), "message": errors["message_zh"],
        }))
    notices = ledger.remote.remote_hall_notices(run_id)
    if len(notices):
        events = notices["kind"] == "event"
        missing = [missing_text(d) for d in notices["detail"]]
        labels = {"rejected": "属地系统拒收", "failed": "未推送（文件已变化）", "withdrawal_refused": "撤回未成功"}
        frames.append(pd.DataFrame({
            "hall": notices["hall"], "hall_name": notices["hall_name"], "bwid": notices["bwid"], "change_seq": notices["change_seq"],
            "collected": notices["collected"], "xzqh": notices["xzqh"], "business_type": notices["business_type"],
            "who": np.where(events, [f"属地登记机构：{_county(x)}" for x in notices["xzqh"]], "网关推送"),
            "rule": [f"{EVENT_STATUSES[s]}({s})" if e else f"{labels[s]}({s}" + (f"，{c}" if isinstance(c, str) and c else "") + ")"
                     for s, e, c in zip(notices["status"], events, notices["code"])],
            "item": [m or "" for m in missing], "value": None,
            "message": [r if isinstance(r, str) and r else ("请补充：" + m if m else "") for r, m in zip(notices["reason"], missing)],
        }))
    if not frames:
        return pd.DataFrame(columns=["hall", "hall_name", *RETURN_HEADINGS])
    out = pd.concat(frames, ignore_index=True)
    out["message"] = out["message"].map(lambda t: _chinese_first(_APPLICANT_NAMED.sub(lambda m: f"申请人{m.group(1)}（{mask_names(pd.Series([m.group(2)])).iloc[0]}）"
                                                                                       if m.group(2) else m.group(0), t)) if isinstance(t, str) else t)
    for column in ("value", "message", "item"):
        out[column] = mask_in_text(out[column].astype(object))
    out["business_type"] = out["business_type"].map(lambda t: f"{BUSINESS_TYPES.get(t, '')}({t})" if isinstance(t, str) else t)
    return out.sort_values(["hall", "change_seq", "who", "rule"]).reset_index(drop=True)


def write_hall_returns(ledger: Ledger, *, run_id: str, out_dir: Path, now: datetime | None = None) -> dict[str, str]:
    """One workbook per collecting hall with something coming back in this run: {hall: path}. `now` (local, default the
    clock): when the list was drawn up, printed under its title."""
    from jobs.cohandling.publish_report import _replacing
    from jobs.common.inbox import local_now
    from jobs.common.settings import safe_name
    from transforms.common.mask import neutralise_formula

    returns = hall_returns(ledger, run_id)
    stamp = (now or local_now()).strftime("%Y-%m-%d %H:%M")
    paths = {}
    out_dir = Path(out_dir)
    for hall, group in returns.groupby("hall", sort=True):
        table = group.loc[:, list(RETURN_HEADINGS)].copy()
        for column in table.columns:
            if table[column].dtype == object:
                text = table[column].map(lambda v: isinstance(v, str) and v != "").astype(bool)
                table.loc[text, column] = neutralise_formula(table.loc[text, column])
        name = next((n for n in group["hall_name"] if isinstance(n, str) and n.strip()), "代收大厅")
        collected = group["collected"].dropna().astype(str).str[:10]
        span = f"，收件时间 {collected.min()} 至 {collected.max()}" if len(collected) else ""
        title = f"异地代收退回清单：{name}（{hall}）"
        info = [
            f"代收大厅：{name}（{hall}）　批次（run_id）：“{run_id}”　截至：{stamp}（北京时间）",
            f"共 {len(table)} 条，涉及报文 {group['bwid'].nunique()} 件{span}。",
            "网关校验未通过的报文未推送属地；属地不予受理或要求补正的，请按“原因”补正后重新提交（生成新版本）。证件号码、电话和申请人姓名已脱敏。",
        ]
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"退回清单_{safe_name(hall)}_{safe_name(run_id)}.xlsx"
        with _replacing(path) as tmp:
            _write_list(tmp, title, info, table)
        paths[hall] = str(path)
    if paths:
        ledger.audit(run_id=run_id, actor="remote", action="hall_returns_written", object_type="remote_verdict", object_id=None,
                     detail={"halls": len(paths), "rows": len(returns)})
    return paths


def _write_list(path: Path, title: str, info: list[str], table) -> None:
    """The list as a workbook: title and information rows above the headings (row HEADER_ROW), frozen below them, filterable,
    codes kept as text; printed A4 landscape, fitted to the width, the headings repeated on each page, page numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    from transforms.reporting.handover_sheets import row_height

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    width = len(table.columns)
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    for line in info:
        ws.append([line])
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    for row in range(1, len(info) + 2):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.row_dimensions[len(info) + 1].height = 30  # the explanation wraps onto a second line when printed
    while ws.max_row < HEADER_ROW - 1:
        ws.append([])
    ws.append([RETURN_HEADINGS[c] for c in table.columns])
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    widths = [WIDTHS.get(c, 14) for c in table.columns]
    for cell in ws[HEADER_ROW]:
        cell.font, cell.fill, cell.border = Font(bold=True), PatternFill("solid", start_color="F2F2F2"), box
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[HEADER_ROW].height = row_height([RETURN_HEADINGS[c] for c in table.columns], widths)
    for values in table.itertuples(index=False):
        ws.append([_cell(v) for v in values])
        for cell in ws[ws.max_row]:
            cell.border, cell.alignment = box, Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, str):
                cell.number_format = "@"  # codes stay text
        # Neither openpyxl nor LibreOffice sizes a row to its wrapped text: each row as high as its longest cell needs.
        ws.row_dimensions[ws.max_row].height = row_height([c.value for c in ws[ws.max_row]], widths)
    for index, w in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=HEADER_ROW, column=index).column_letter].width = w
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{ws.cell(row=ws.max_row, column=width).coordinate}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    wb.save(path)


def _cell(value):
    """A value as the cell holds it: missing → empty, a time → its text to the minute, numpy numbers → Python."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?", value):
        return value[:16].replace("T", " ")
    return value.item() if hasattr(value, "item") else value


def _short(text: str) -> str:
    """A rule's Chinese text up to its first explanation: 不动产单元号不符合28位编码结构（GB/T 37346…） → 不动产单元号不符合28位编码结构."""
    return re.split(r"[（：(]", text, maxsplit=1)[0]


def _where(item, field, labels: dict[str, str]) -> str:
    """申请人1 / 材料3 / 材料 WSPZ, and the field in Chinese with its code: 材料3 是否收取纸质原件(SFZZYJ)."""
    item = item if isinstance(item, str) else ""
    field = field if isinstance(field, str) else ""
    where = f"申请人{item[4:]}" if item.startswith("SQR#") else f"材料{item[3:]}" if item.startswith("CL#") else (f"材料({item})" if item else "")
    what = f"{labels.get(field, '')}({field})" if field else ""
    return " ".join(p for p in (where, what) if p)


def _chinese_first(text: str) -> str:
    """A material named code first (材料 WSPZ 完税凭证) named Chinese first, the code in brackets (材料 完税凭证（WSPZ）); the
    file's SHA-256 is its 校验值."""
    text = _MATERIAL_NUMBERED.sub(lambda m: f"材料{m.group(1)}（{m.group(3)}，{m.group(2)}）：", text)
    text = _MATERIAL_CODE_FIRST.sub(lambda m: f"材料 {m.group(2).strip()}（{m.group(1)}）" if m.group(2).strip() else f"材料（{m.group(1)}）", text)
    return _plain(text)


def _plain(text: str) -> str:
    return text.replace("SHA-256", "校验值")


@functools.lru_cache(maxsize=512)
def _county(xzqh) -> str:
    """济南市历下区(370102); a county outside Shandong by its code (跨省通办)."""
    from jobs.common import reference
    from jobs.remote.handover import _county_name

    if not isinstance(xzqh, str) or not xzqh:
        return ""
    name = _county_name(reference.divisions(), xzqh)
    return f"{name}({xzqh})" if not name.endswith(xzqh) else name
