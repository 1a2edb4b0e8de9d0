"""Reading the remote-collection checklists (异地代收材料清单) the property counties publish.

Seed 2, 三(一): the materials a collecting window takes are the ones the *property's*
authority lists for that business type. Counties (or their city, for all its counties)
send the list as a form (.xlsx or .csv, read by connectors/form_inbox.py) with the columns

    县（市、区） | 业务类型 | 材料编码 | 材料名称 | 是否必须 | 是否需要纸质原件 | 备注

under a line `城市：济南市  生效日期：2024-07-01` (both optional: without 城市 a county must be
unique in the province or given by its code; without 生效日期 the form takes effect when it is
loaded). 县（市、区） is a name or a 6-digit code; a county of another province is given by its
code (the cross-province 跨省通办 lists). 业务类型 is a name (预告登记, 抵押登记, 变更登记（更名
更址）, 补换证, 新建商品房转移登记) or its code (01–05). County and type cells may be merged
down their rows (.xlsx) or left blank under the first row (.csv): a blank carries down.

A county's list for one business type is loaded whole or not at all: one bad row keeps the
list in force unchanged (CHECKLIST_INCOMPLETE names it), because a list loaded without a row
would stop asking for that material. Every problem is a `FormIssue` naming the file, sheet,
row and column. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re

import pandas as pd

from transforms.common.form_sheets import (
    FormIssue,
    ParsedForm,
    Places,
    parse_form,
    plain_text,
    row_fault_issues,
    sheet_faults,
    table_under,
)
from transforms.registry.institution_forms import read_preamble
from transforms.remote.package_rules import BUSINESS_TYPES, REMOTE_TYPES, county_code_ok

CHECKLIST_COLUMNS = (
    ("county", ("县（市、区）", "县(市、区)", "县市区", "县（市区）", "行政区划")),
    ("business_type", ("业务类型", "登记类型")),
    ("code", ("材料编码", "材料代码")),
    ("name", ("材料名称",)),
    ("required", ("是否必须", "是否必需", "必须提供", "必要")),
    ("paper", ("纸质原件", "纸质")),
    ("note", ("备注",)),
)
CHECKLIST_REQUIRED_COLUMNS = ("county", "business_type", "code", "name", "required")
COLUMN_LABELS = {"county": "县（市、区）", "business_type": "业务类型", "code": "材料编码", "name": "材料名称", "required": "是否必须", "paper": "是否需要纸质原件"}
TYPE_ALIASES: dict[str, str] = {name: code for code, name in BUSINESS_TYPES.items()} | {
    "变更": "03", "更名更址": "03", "补证": "04", "换证": "04", "补证换证": "04", "补换证登记": "04",
    "新建商品房转移": "05", "新建商品房首次转移登记": "05", "预告": "01", "抵押": "02",
}
YES = {"是", "必须", "必需", "需要", "y", "yes", "√", "1"}
NO = {"否", "不需要", "非必须", "可选", "选填", "n", "no", "×", "0"}
MATERIAL_CODE = re.compile(r"[A-Z0-9_-]{2,20}")


def parse_business_type(text: str) -> tuple[str | None, str | None]:
    """(code, None) or (None, why not) for what a form wrote in 业务类型."""
    t = plain_text(text)
    if not t:
        return None, "业务类型未填写"
    if t in BUSINESS_TYPES:
        return t, None
    bare = re.sub(r"\(.*?\)", "", t)
    code = TYPE_ALIASES.get(t) or TYPE_ALIASES.get(bare)
    if code is None:
        return None, f"业务类型“{text}”不是已知的业务类型（预告登记、抵押登记、变更登记、补换证、新建商品房转移登记）"
    return code, None


def parse_county(text: str, places: Places, city_code: str | None) -> tuple[str | None, str | None]:
    """(county code, None) or (None, why not): a Shandong county by name or code, or another province's county by code."""
    t = plain_text(text)
    m = re.match(r"(\d{6})", t)
    if m and not m[1].startswith("37"):
        if county_code_ok(pd.Series([m[1]], dtype="string"), frozenset())[0]:
            return m[1], None
        return None, f"“{t}”不是县级行政区划代码"
    return places.county(m[1] if m else t, city_code)


def _yes_no(text: str) -> bool | None:
    t = plain_text(text).lower()
    return True if t in YES else False if t in NO else None


def parse_checklist(sheets, *, file: str, places: Places) -> ParsedForm:
    """Checklist rows from a form: one dict per loadable row, an issue per problem (kind 'checklist')."""
    return parse_form("checklist", sheets, file=file, header=("材料编码", "材料名称"),
                      parse_sheet=lambda sheet, header_at, form: _parse_sheet(sheet, header_at, form, places),
                      no_header="找不到材料清单表头（需有“县（市、区）”“业务类型”“材料编码”“材料名称”“是否必须”等列）")


def _parse_sheet(sheet, header_at: int, form: ParsedForm, places: Places) -> None:
    file = form.file
    table = table_under(sheet, header_at, form, CHECKLIST_COLUMNS, CHECKLIST_REQUIRED_COLUMNS, COLUMN_LABELS)
    if table is None:
        return
    header, columns, heading, cell = table.header, table.columns, table.heading, table.cell
    read_preamble(sheet, header_at, form, places, title_city=_title_city)

    carry = {"county": "", "business_type": ""}
    seen: dict[tuple[str, str, str], int] = {}
    rows: list[dict] = []
    broken: dict[tuple[str, str], int] = {}  # (xzqh, type) -> first row with an error
    first_row: dict[tuple[str, str], int] = {}
    faults, cleaned = sheet_faults(sheet)
    unplaced: int | None = None  # first unread row whose list cannot be told: every list of the sheet waits
    for number, cells in sheet.rows[header_at + 1:]:
        if not any(c.strip() for c in cells) and number not in faults:
            continue  # a blank line
        if plain_text(cells[0] if cells else "").startswith(("填表说明", "说明", "注：", "注:")):
            continue
        county_text = cell(cells, "county") or carry["county"]
        type_text = cell(cells, "business_type") or carry["business_type"]
        carry = {"county": county_text, "business_type": type_text}
        code_text, name = cell(cells, "code"), cell(cells, "name")
        unread, altered = row_fault_issues(file, sheet.name, number, faults, cleaned, header)
        if unread:
            # One reason for the row. Its list must not load without it (a list loaded short of a
            # row would stop asking for that material): the list it belongs to waits, or, when
            # its county or type cell is the unread one, every list of the sheet.
            form.issues.extend(unread)
            unread_cols = {col for col, _, _ in faults.get(number, [])}

            def readable(key: str, text: str, _unread=unread_cols) -> bool:  # a line in another encoding: its cells with U+FFFD
                return columns[key] not in _unread and "\ufffd" not in text

            xzqh = parse_county(county_text, places, form.city_code)[0] if county_text and readable("county", county_text) else None
            business_type = parse_business_type(type_text)[0] if readable("business_type", type_text) else None
            if xzqh is None or business_type not in REMOTE_TYPES:
                unplaced = unplaced or number
            else:
                broken.setdefault((xzqh, business_type), number)
                first_row.setdefault((xzqh, business_type), number)
            continue
        form.issues.extend(altered)
        issues: list[FormIssue] = []

        def problem(key: str | None, rule: str, message: str, severity: str = "error", _n=number, _issues=issues) -> None:
            _issues.append(FormIssue(file, sheet.name, _n, heading.get(key) if key else None, severity, rule, message))

        xzqh, why = (None, "未填写") if not county_text else parse_county(county_text, places, form.city_code)
        if xzqh is None:
            problem("county", "FORM_COUNTY_UNKNOWN", f"县（市、区）{why}")
        business_type, why = parse_business_type(type_text)
        if business_type is None:
            problem("business_type", "FORM_TYPE_UNKNOWN", why)
        elif business_type not in REMOTE_TYPES:
            problem("business_type", "CHECKLIST_TYPE_NOT_REMOTE", f"业务类型“{type_text}”不在异地代收范围（预告登记、抵押登记、变更登记、补换证、新建商品房转移登记）")
        code = plain_text(code_text).upper()
        if not code:
            problem("code", "FORM_REQUIRED", "材料编码未填写")
        elif not MATERIAL_CODE.fullmatch(code):
            problem("code", "FORM_CODE_INVALID", f"材料编码“{code_text}”只能由大写字母、数字、-、_组成（2–20位）")
        elif (xzqh, business_type, code) in seen and xzqh and business_type:
            problem("code", "FORM_CODE_DUPLICATE", f"材料编码“{code}”在该县该业务类型下与第{seen[(xzqh, business_type, code)]}行重复")
        if not name:
            problem("name", "FORM_REQUIRED", "材料名称未填写")
        required_text = cell(cells, "required")
        required = _yes_no(required_text)
        if not plain_text(required_text):
            problem("required", "FORM_REQUIRED", "是否必须未填写（应为 是 或 否）")
        elif required is None:
            problem("required", "FORM_YES_NO", f"是否必须“{required_text}”应为 是 或 否")
        paper_text = cell(cells, "paper")
        paper = _yes_no(paper_text) if plain_text(paper_text) else False
        if paper is None:
            problem("paper", "FORM_YES_NO", f"是否需要纸质原件“{paper_text}”应为 是 或 否")
        group = (xzqh, business_type) if xzqh and business_type in REMOTE_TYPES else None
        if group is not None:
            first_row.setdefault(group, number)
        if code and xzqh and business_type and (xzqh, business_type, code) not in seen:
            seen[(xzqh, business_type, code)] = number
        form.issues.extend(issues)
        if issues:
            if group is not None:
                broken.setdefault(group, number)
            continue
        rows.append({"sheet": sheet.name, "row": number, "xzqh": xzqh, "business_type": business_type, "material_code": code,
                     "material_name": re.sub(r"\s+", " ", name).strip(), "required": bool(required), "paper_original": bool(paper),
                     "note": cell(cells, "note")})
    if unplaced is not None:
        for group in {(r["xzqh"], r["business_type"]) for r in rows}:
            broken.setdefault(group, unplaced)
            first_row.setdefault(group, unplaced)
    for (xzqh, business_type), at in broken.items():
        form.issues.append(FormIssue(file, sheet.name, first_row[(xzqh, business_type)], None, "error", "CHECKLIST_INCOMPLETE",
                                     f"{xzqh} {BUSINESS_TYPES[business_type]}的材料清单第{at}行有错误：整张清单未载入，原清单继续有效"))
    form.rows.extend(r for r in rows if (r["xzqh"], r["business_type"]) not in broken)


def _title_city(text: str) -> str | None:
    m = re.search(r"([^\s_:：]{2,6}市)(?:不动产登记)?异地代收", text)
    return m[1] if m else None


def checklist_groups(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Loadable rows grouped by (county, business type), in form order: one checklist each."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["xzqh"], r["business_type"]), []).append(r)
    return groups
