"""Reading what counties wrote in Annex 2 (水气热机构信息摸底表) and Annex 3 (开通申请).

Input is a form as grids of cell text (connectors/form_inbox.py); output is the rows that can
be loaded and a `FormIssue` for everything else, naming the file, sheet, row and column
as the person who filled the form sees them. Pure: no I/O, no clock.

Annex 2, as the notice prints it, has seven columns: 县（市、区） | 业务类型（水/气/热） |
机构名称 | 机构编码 | 是否知晓10月1日全面开通协办过户 | 过户业务服务电话（区号+座机号码） |
联系人及电话（姓名+手机号及座机）, under a line `城市： 填表部门： 填表人： 电话：`, with a
`合计 燃气公司*个，热力公司*个，供水公司*个` row at the end. The gateway reads, when present,
four more columns the province asks for (docs/registry-forms.md): 协办方式 (配置账号 /
系统对接; blank = 配置账号), 文件格式 (blank = CSV UTF-8), 原机构编码 (the code this
institution had before, when it is re-coded) and, above the table, 生效日期 (the date the
form's contents take effect; blank = when it is loaded).

Annex 3 is a letter: `1. ___县（市、区）共有燃气公司___个、热力公司___个，供水公司___个，
共同申请于___月___日开通。` Both the letter's sentences and a table with the columns 县（市、区） |
燃气公司 | 热力公司 | 供水公司 | 开通日期 are read.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import numpy as np

from transforms.common.checkdigits import USCC_CHARSET, ascii_matrix, uscc_check_ok
from transforms.common.form_sheets import (
    FormIssue,
    ParsedForm,
    Places,
    column_letter,
    find_table_header,
    heading_text,
    map_columns,
    parse_form,
    plain_text,
    row_fault_issues,
    sheet_faults,
    table_under,
)

UTILITY_ALIASES = {
    "水": "water", "供水": "water", "自来水": "water", "water": "water",
    "气": "gas", "燃气": "gas", "天然气": "gas", "gas": "gas",
    "热": "heat", "供热": "heat", "暖": "heat", "供暖": "heat", "热力": "heat", "heat": "heat",
}
CHANNEL_ALIASES = {
    "": "account", "配置账号": "account", "配置帐号": "account", "账号": "account", "帐号": "account", "account": "account",
    "系统对接": "system", "系统": "system", "system": "system",
}
# 文件格式: an empty cell is no choice (None): a new institution gets `DEFAULT_FORMAT` (XLSX, for people), one already
# in the registry keeps its format (connectors/ledger/registry_store.py). CSV and the rest stay for machines that ask.
FORMAT_ALIASES = {
    "xlsx": "xlsx", "excel(xlsx)": "xlsx",
    "csv": "csv", "csv(utf-8)": "csv", "csvutf-8": "csv", "utf-8": "csv",
    "csv(gb18030)": "csv_gb18030", "csvgb18030": "csv_gb18030", "gb18030": "csv_gb18030", "csv(gbk)": "csv_gb18030", "gbk": "csv_gb18030",
    "jsonl": "jsonl", "jsonlines": "jsonl", "json": "jsonl",
    "parquet": "parquet",
}
FILE_FORMATS = ("xlsx", "csv", "csv_gb18030", "jsonl", "parquet")
DEFAULT_FORMAT = "xlsx"
YES = {"是", "已知晓", "知晓", "y", "yes", "√"}
NO = {"否", "未知晓", "不知晓", "n", "no", "×"}

# Annex 2 headings, matched after removing spaces and line breaks; the first match wins,
# so 原机构编码 comes before 机构编码.
ANNEX2_COLUMNS = (
    ("predecessor", ("原机构编码", "变更前机构编码")),
    ("county", ("县（市、区）", "县(市、区)", "县市区", "县（市区）")),
    ("utility", ("业务类型",)),
    ("name", ("机构名称",)),
    ("code", ("机构编码",)),
    ("informed", ("知晓",)),
    ("service_phone", ("服务电话",)),
    ("contact", ("联系人",)),
    ("channel", ("协办方式", "对接方式", "开通方式")),
    ("file_format", ("文件格式",)),
)
ANNEX2_REQUIRED = ("county", "utility", "name", "code")
ANNEX3_COLUMNS = (
    ("county", ("县（市、区）", "县(市、区)", "县市区")),
    ("gas", ("燃气",)),
    ("heat", ("热力", "供热")),
    ("water", ("供水", "自来水")),
    ("open_date", ("开通日期", "开通时间", "申请开通")),
)
LETTER_LINE = re.compile(
    r"(?P<county>[^\s\d.、,，:：]{2,}?)共有燃气公司(?P<gas>\S*?)个[、,，]热力公司(?P<heat>\S*?)个[、,，]供水公司(?P<water>\S*?)个[、,，]"
    r"共同申请于(?P<date>.+?)开通"
)
TOTALS = {"gas": r"燃气公司\s*(\d+)\s*个", "heat": r"热力公司\s*(\d+)\s*个", "water": r"供水公司\s*(\d+)\s*个"}


def parse_annex2(sheets, *, file: str, places: Places) -> ParsedForm:
    """Institutions from an Annex 2 survey form: one dict per loadable row, an issue per problem."""
    return parse_form("annex2", sheets, file=file, header=("机构名称", "机构编码"),
                      parse_sheet=lambda sheet, header_at, form: _parse_annex2_sheet(sheet, header_at, form, places),
                      no_header="找不到附件2表头（需有“机构名称”“机构编码”等列）")


def read_preamble(sheet, header_at: int, form: ParsedForm, places: Places, *, title_city=None, whole_form_waits: bool = False) -> None:
    """The lines above a sheet's header: `城市：…` (or a title naming the city, read by `title_city`;
    Annex 2's title by default) and `生效日期：…`, into `form.city_code` / `form.effective`, with an
    issue for an unknown city or an unreadable date. `whole_form_waits`: an unreadable date keeps
    the whole form out (`form.effective_invalid`)."""
    faults, _ = sheet_faults(sheet)
    unread = getattr(sheet, "faults", {})
    preamble = " ".join(" ".join(c for i, c in enumerate(cells) if (n, i) not in unread) for n, cells in sheet.rows[:header_at])
    for number, _cells in sheet.rows[:header_at + 1]:
        for col, rule, message in faults.get(number, [])[:1]:
            where = column_letter(col) if col is not None else None
            form.issues.append(FormIssue(form.file, sheet.name, number, where, "error", rule,
                                         message.replace("本行未载入", "表头以上的内容无法确认") + "；整张表未载入"))
            form.preamble_invalid = True
    city = _labelled(preamble, "城市") or (title_city or _title_city)(preamble)
    if city and form.city_code is None:
        form.city_code = places.city_by_name(city)
        if form.city_code is None:
            form.issues.append(FormIssue(form.file, sheet.name, None, None, "error", "FORM_CITY_UNKNOWN", f"城市“{city}”不是山东省的设区市"))
    effective = _labelled(preamble, "生效日期")
    if effective:
        parsed, why = parse_form_date(effective, year=None)
        if parsed is None:
            form.issues.append(FormIssue(form.file, sheet.name, None, None, "error", "FORM_DATE_INVALID",
                                         f"生效日期“{effective}”{why}" + ("；整张表未载入" if whole_form_waits else "")))
            form.effective_invalid = form.effective_invalid or whole_form_waits
        else:
            form.effective = parsed


def _parse_annex2_sheet(sheet, header_at: int, form: ParsedForm, places: Places) -> None:
    file = form.file
    table = table_under(sheet, header_at, form, ANNEX2_COLUMNS, ANNEX2_REQUIRED,
                        {"county": "县（市、区）", "utility": "业务类型", "name": "机构名称", "code": "机构编码"})
    if table is None:
        return
    header, columns, heading, cell = table.header, table.columns, table.heading, table.cell
    # Loading it "from today" could switch a channel or a code early: the whole form waits for a readable date.
    read_preamble(sheet, header_at, form, places, whole_form_waits=True)

    seen_codes: dict[str, int] = {}
    counted = {"water": 0, "gas": 0, "heat": 0}
    carry = {"county": "", "utility": ""}
    faults, cleaned = sheet_faults(sheet)
    for number, cells in sheet.rows[header_at + 1:]:
        values = [c for c in cells if c.strip()]
        if not values and number not in faults:
            continue  # a blank line
        if values and plain_text(values[0]).startswith("合计"):
            _check_totals(" ".join(values), counted, form, sheet.name, number)
            break
        if _is_subheader(cells, columns):
            continue
        county_text = cell(cells, "county") or carry["county"]
        utility_text = cell(cells, "utility") or carry["utility"]
        carry = {"county": county_text, "utility": utility_text}
        name, code_text = cell(cells, "name"), cell(cells, "code")
        unread, altered = row_fault_issues(file, sheet.name, number, faults, cleaned, header)
        if unread:
            form.issues.extend(unread)  # one reason for the row; its other cells are not judged
            continue
        if not name and not code_text:
            continue  # an empty slot the form leaves under each type
        form.issues.extend(altered)
        issues: list[FormIssue] = []

        def problem(key: str, rule: str, message: str, severity: str = "error", _n=number, _issues=issues) -> None:
            _issues.append(FormIssue(file, sheet.name, _n, heading.get(key), severity, rule, message))

        xzqh, why = (None, "未填写") if not county_text else places.county(county_text, form.city_code)
        if xzqh is None:
            problem("county", "FORM_COUNTY_UNKNOWN", f"县（市、区）{why}")
        utility = UTILITY_ALIASES.get(plain_text(utility_text).lower())
        if utility is None:
            problem("utility", "FORM_TYPE_UNKNOWN", f"业务类型“{utility_text}”应为 水、气 或 热")
        if not name:
            problem("name", "FORM_REQUIRED", "机构名称未填写")
        code = _code(code_text)
        if not code:
            problem("code", "FORM_REQUIRED", "机构编码未填写")
        elif len(code) == 18 and not uscc_ok(code):
            problem("code", "FORM_CODE_INVALID", f"机构编码“{code_text}”不是有效的统一社会信用代码（校验位不符）")
        elif not re.fullmatch(r"[0-9A-Z]{6,30}", code):
            problem("code", "FORM_CODE_INVALID", f"机构编码“{code_text}”只能由数字和大写字母组成（6–30位）")
        elif code in seen_codes:
            problem("code", "FORM_CODE_DUPLICATE", f"机构编码“{code}”与第{seen_codes[code]}行重复")
        channel = CHANNEL_ALIASES.get(plain_text(cell(cells, "channel")).lower())
        if channel is None:
            problem("channel", "FORM_CHANNEL_UNKNOWN", f"协办方式“{cell(cells, 'channel')}”应为 配置账号 或 系统对接")
        format_text = plain_text(cell(cells, "file_format")).lower().replace(" ", "")
        file_format = FORMAT_ALIASES.get(format_text) if format_text else None
        if format_text and file_format is None:
            problem("file_format", "FORM_FORMAT_UNKNOWN", f"文件格式“{cell(cells, 'file_format')}”应为 XLSX、CSV、CSV(GB18030)、JSONL 或 Parquet（留空：新机构为 XLSX）")
        informed_text = plain_text(cell(cells, "informed")).lower()
        informed = True if informed_text in YES else False if informed_text in NO else None
        if informed_text and informed is None:
            problem("informed", "FORM_YES_NO", f"“{cell(cells, 'informed')}”应为 是 或 否", "warning")
        service_phone, phone_why = parse_service_phone(cell(cells, "service_phone"))
        if phone_why:
            problem("service_phone", "FORM_PHONE_INVALID", f"过户业务服务电话“{cell(cells, 'service_phone')}”{phone_why}", "warning")
        contact_name, contact_mobile, contact_landline, contact_why = parse_contact(cell(cells, "contact"))
        if contact_why:
            problem("contact", "FORM_CONTACT_INCOMPLETE", f"联系人及电话“{cell(cells, 'contact')}”{contact_why}", "warning")
        predecessor = _code(cell(cells, "predecessor")) or None
        if predecessor and predecessor == code:
            problem("predecessor", "FORM_PREDECESSOR_SAME", "原机构编码与机构编码相同")
        if utility in counted:
            counted[utility] += 1
        if code and code not in seen_codes:
            seen_codes[code] = number
        form.issues.extend(issues)
        if any(i.severity == "error" for i in issues):
            continue
        form.rows.append({
            "sheet": sheet.name, "row": number, "xzqh": xzqh, "utility": utility, "name": _name(name), "code": code,
            "channel": channel, "file_format": file_format, "informed": informed,
            "service_phone": service_phone, "contact_name": contact_name, "contact_mobile": contact_mobile,
            "contact_landline": contact_landline, "predecessor": predecessor,
        })


def parse_annex3(sheets, *, file: str, places: Places) -> ParsedForm:
    """County openings from an Annex 3 application: as a table, or as the letter's numbered sentences."""
    form = ParsedForm("annex3", file)
    for sheet in sheets:
        text = " ".join(" ".join(cells) for _, cells in sheet.rows)
        city = _labelled(text, "城市") or _title_city(text)
        if city and form.city_code is None:
            form.city_code = places.city_by_name(city)
            if form.city_code is None:
                form.issues.append(FormIssue(file, sheet.name, None, None, "error", "FORM_CITY_UNKNOWN", f"城市“{city}”不是山东省的设区市"))
        year = _application_year(sheet.rows)
        header_at = find_table_header(sheet.rows, ANNEX3_COLUMNS, ("county", "open_date"))
        if header_at is not None:
            _parse_annex3_table(sheet, header_at, year, form, places)
        else:
            _parse_annex3_letter(sheet, year, form, places)
    if not form.rows and not form.errors:
        form.issues.append(FormIssue(file, sheets[0].name if sheets else "-", None, None, "error", "FORM_NO_HEADER",
                                     "找不到附件3内容（表头“县（市、区）… 开通日期”或“××县共有燃气公司×个…共同申请于×月×日开通”）"))
    return form


def _parse_annex3_table(sheet, header_at: int, year: int | None, form: ParsedForm, places: Places) -> None:
    number, header = sheet.rows[header_at]
    columns = map_columns(header, ANNEX3_COLUMNS)
    if "county" not in columns or "open_date" not in columns:
        form.issues.append(FormIssue(form.file, sheet.name, number, None, "error", "FORM_COLUMN_MISSING", "表头缺少列：县（市、区）或 开通日期"))
        return
    heading = {k: f"{column_letter(i)} {heading_text(header[i])}" for k, i in columns.items()}
    faults, cleaned = sheet_faults(sheet)
    for number, cells in sheet.rows[header_at + 1:]:
        get = {k: (cells[i].strip() if i < len(cells) else "") for k, i in columns.items()}
        unread, altered = row_fault_issues(form.file, sheet.name, number, faults, cleaned, header)
        if unread:
            form.issues.extend(unread)
            continue
        if not get["county"] or plain_text(get["county"]).startswith(("部门", "联系人", "合计")):
            continue
        form.issues.extend(altered)
        _annex3_row(form, sheet.name, number, heading, get["county"], {k: get.get(k, "") for k in ("gas", "heat", "water")}, get["open_date"], year, places)


def _parse_annex3_letter(sheet, year: int | None, form: ParsedForm, places: Places) -> None:
    faults, _ = sheet_faults(sheet)
    for number, cells in sheet.rows:
        unread, _ = row_fault_issues(form.file, sheet.name, number, faults, {}, [])
        if unread:  # a line of the letter that could not be read may be a county's sentence: say so
            form.issues.extend(unread)
            continue
        for i, text in enumerate(cells):
            m = LETTER_LINE.search(plain_text(text))
            if not m:
                continue
            county = re.sub(r"^\d+[.、．]?", "", m["county"])
            heading = {k: f"{column_letter(i)}" for k in ("county", "gas", "heat", "water", "open_date")}
            _annex3_row(form, sheet.name, number, heading, county, {k: m[k] for k in ("gas", "heat", "water")}, m["date"], year, places)


def _annex3_row(form, sheet_name, number, heading, county_text, counts_text, date_text, year, places) -> None:
    issues = []
    xzqh, why = places.county(county_text, form.city_code)
    if xzqh is None:
        issues.append(FormIssue(form.file, sheet_name, number, heading["county"], "error", "FORM_COUNTY_UNKNOWN", f"县（市、区）{why}"))
    elif any(r["xzqh"] == xzqh for r in form.rows):
        first = next(r["row"] for r in form.rows if r["xzqh"] == xzqh)
        issues.append(FormIssue(form.file, sheet_name, number, heading["county"], "error", "FORM_COUNTY_DUPLICATE", f"“{county_text}”与第{first}行重复"))
    counts = {}
    for kind, text in counts_text.items():
        text = plain_text(text)
        if text in ("", "/", "-", "无"):
            counts[kind] = 0
        elif re.fullmatch(r"\d{1,3}", text):
            counts[kind] = int(text)
        else:
            issues.append(FormIssue(form.file, sheet_name, number, heading.get(kind), "error", "FORM_COUNT_INVALID", f"公司数“{text}”应为整数"))
    opened, date_why = parse_form_date(date_text, year=year)
    if opened is None:
        issues.append(FormIssue(form.file, sheet_name, number, heading["open_date"], "error", "FORM_DATE_INVALID", f"开通日期“{date_text}”{date_why}"))
    form.issues.extend(issues)
    if not issues:
        form.rows.append({"sheet": sheet_name, "row": number, "xzqh": xzqh, "open_date": opened, **counts})


# --- cell helpers ---------------------------------------------------------------------------


def parse_form_date(text: str, *, year: int | None) -> tuple[date | None, str | None]:
    """A date as forms write it: 2021-07-15, 2021/7/15, 2021.7.15, 2021年7月15日, 20210715, 7月15日 (+ year)."""
    t = plain_text(text).replace(" ", "")
    if not t:
        return None, "未填写"
    m = (re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\d{2}:\d{2}(?::\d{2})?)?", t)
         or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", t))
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = re.fullmatch(r"(\d{1,2})[月/.-](\d{1,2})日?", t)
        if not m:
            return None, "不是日期（应如 2021-07-15 或 7月15日）"
        if year is None:
            return None, "没有年份，表中也没有申请日期可推断年份"
        y, (mo, d) = year, (int(g) for g in m.groups())
    try:
        return date(y, mo, d), None
    except ValueError:
        return None, "不是有效日期"


def parse_service_phone(text: str) -> tuple[str | None, str | None]:
    """'区号+座机号码' as written (0531-8xxxxxxx, (0531)8xxxxxxx, 0531 8xxx xxxx, 400…, mobile) -> normalised, why-not."""
    t = plain_text(text)
    if not t:
        return None, "未填写"
    found = []
    for part in re.split(r"[,，、;；/]", t):
        p = re.sub(r"[\s\-－—()（）]", "", part)
        m = re.fullmatch(r"(0\d{2,3})(\d{7,8})(?:转(\d{1,6}))?", p) if not p.startswith(("400", "800")) else None
        if m:
            found.append(f"{m[1]}-{m[2]}" + (f"-{m[3]}" if m[3] else ""))
        elif re.fullmatch(r"(?:400|800)\d{7}|95\d{3,6}|1[3-9]\d{9}|12345", p):
            found.append(p)
        else:
            return None, "不是“区号+座机号码”（如 0531-88001234）或手机号"
    return ",".join(found), None


def parse_contact(text: str) -> tuple[str | None, str | None, str | None, str | None]:
    """'姓名+手机号及座机' -> (name, mobile, landline, what is missing)."""
    t = plain_text(text)
    name_match = re.match(r"([^\d\s,，、;；/:：()（）+-]+)", t)
    name = name_match[1] if name_match else None
    digits = re.sub(r"[\s\-()（）]", "", t)
    mobile = re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", digits)
    landline = re.search(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)", re.sub(r"[\s()（）]", "", t).replace("—", "-"))
    why = None
    if not name:
        why = "缺少姓名"
    elif not mobile and not landline:
        why = "缺少电话"
    return name, mobile[0] if mobile else None, landline[0] if landline else None, why


def uscc_ok(code: str) -> bool:
    """Is one 18-character code a unified social credit code with the right check character?"""
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        return False
    return bool(uscc_check_ok(ascii_matrix(np.array([code]), 18))[0])


def _code(text: str) -> str:
    return plain_text(text).upper()


def _name(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().replace("（", "(").replace("）", ")")


def _is_subheader(cells: list[str], columns: dict[str, int]) -> bool:
    """The second heading line under merged heading cells ('区号+座机号码', '姓名+手机号及座机')."""
    joined = plain_text("".join(cells))
    return "区号" in joined or "姓名+手机" in joined or "机构名称" in joined


def _labelled(text: str, label: str) -> str | None:
    """The value after '城市：' (up to the next label) in a form's heading line."""
    labels = "城市|填表部门|填表人|电话|生效日期|申请日期"
    m = re.search(label + r"\s*[:：]\s*(.*?)(?=\s{2,}|\s*(?:" + labels + r")\s*[:：]|$)", unicodedata.normalize("NFKC", text))
    value = m[1].strip() if m else ""
    return value or None


def _title_city(text: str) -> str | None:
    m = re.search(r"([^\s_:：]{2,6}市)(?:不动产登记与水气热|水气热机构信息)", unicodedata.normalize("NFKC", text))
    return m[1] if m else None


def _application_year(rows) -> int | None:
    """The year of an Annex 3 application: its 申请日期, or the date line at its foot (2021 年 6 月 20 日)."""
    for _, cells in rows:
        text = plain_text(" ".join(cells))
        m = re.search(r"申请日期[:：]?(20\d{2})", text) or re.fullmatch(r"(20\d{2})年(\d{1,2}月(\d{1,2}日)?)?", text)
        if m:
            return int(m[1])
    return None


def _check_totals(text: str, counted: dict[str, int], form: ParsedForm, sheet: str, number: int) -> None:
    labels = {"gas": "燃气公司", "heat": "热力公司", "water": "供水公司"}
    for kind, pattern in TOTALS.items():
        m = re.search(pattern, plain_text(text))
        if m and int(m[1]) != counted[kind]:
            form.issues.append(FormIssue(form.file, sheet, number, None, "warning", "FORM_TOTAL_MISMATCH",
                                         f"合计写{labels[kind]}{m[1]}个，表中填了{counted[kind]}个"))
