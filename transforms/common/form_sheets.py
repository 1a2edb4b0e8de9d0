"""What every form the gateway reads shares, whoever sent it (institution registry forms,
remote-collection checklists): the issue a person acts on (`FormIssue`, naming file, sheet, row and
column as they see them), a parsed form, county and city names read against the divisions
(`Places`), headings found and mapped to columns by their text, and the cells the ingest could
not read or had to clean. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class FormIssue:
    file: str
    sheet: str
    row: int | None
    column: str | None  # "D 机构编码": the column letter and its heading
    severity: str  # error: the row is not loaded | warning: loaded, worth a look
    rule: str  # stable id, e.g. FORM_COUNTY_UNKNOWN
    message: str  # Chinese, names the value and what is wrong

    def where(self) -> str:
        parts = [self.file, f"工作表 {self.sheet}"]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"{self.column}列")
        return " ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: [{self.severity} {self.rule}] {self.message}"


@dataclass
class ParsedForm:
    kind: str  # annex2 | annex3
    file: str
    city_code: str | None = None
    effective: date | None = None
    rows: list[dict] = field(default_factory=list)
    issues: list[FormIssue] = field(default_factory=list)
    effective_invalid: bool = False
    preamble_invalid: bool = False  # a cell above (or in) the header could not be read: nothing of the form loads

    @property
    def errors(self) -> list[FormIssue]:
        return [i for i in self.issues if i.severity == "error"]


@dataclass(frozen=True)
class Places:
    """What form parsing needs to know of the divisions: code -> (name, level, parent)."""

    divisions: dict  # code -> Division (jobs.common.reference.divisions())

    def city_by_name(self, text: str) -> str | None:
        text = plain_text(text)
        for code, d in self.divisions.items():
            if d.level == "city" and (d.name == text or d.name.removesuffix("市") == text):
                return code
        return None

    def county(self, text: str, city_code: str | None) -> tuple[str | None, str | None]:
        """(county code, None) or (None, why not) for what a form wrote in 县（市、区）."""
        text = plain_text(text)
        if re.fullmatch(r"\d{6}", text):
            d = self.divisions.get(text)
            if d is None or d.level != "county":
                return None, f"“{text}”不是山东省县级行政区划代码"
            if city_code and d.parent_code != city_code:
                return None, f"“{text}”（{d.name}）不属于{self.divisions[city_code].name}"
            return text, None
        candidates = [c for c, d in self.divisions.items() if d.level == "county" and (city_code is None or d.parent_code == city_code)]
        exact = [c for c in candidates if self.divisions[c].name == text]
        if len(exact) == 1:
            return exact[0], None
        loose = [c for c in candidates if self.divisions[c].name[:-1] == text and len(text) >= 2]
        if len(loose) == 1:
            return loose[0], None
        where = self.divisions[city_code].name if city_code else "山东省"
        if len(exact) > 1:
            return None, f"“{text}”在{where}不唯一，请填写县级行政区划代码"
        return None, f"“{text}”不是{where}的县（市、区）"


def plain_text(text: str) -> str:
    """NFKC (full-width digits, letters, brackets), spaces and line breaks removed at the ends and inside labels."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def heading_text(text: str) -> str:
    """A column heading as printed, on one line."""
    return re.sub(r"\s+", "", text or "")


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_faults(sheet) -> tuple[dict, dict]:
    """A sheet's unread cells and cleaned cells by row: {row: [(column index | None, rule, message)]}, {row: [(column index, kinds)]}."""
    faults: dict[int, list] = {}
    for (row, col), (rule, message) in sorted(getattr(sheet, "faults", {}).items(), key=lambda kv: (kv[0][0], -1 if kv[0][1] is None else kv[0][1])):
        faults.setdefault(row, []).append((col, rule, message))
    cleaned: dict[int, list] = {}
    for (row, col), kinds in sorted(getattr(sheet, "cleaned", {}).items()):
        cleaned.setdefault(row, []).append((col, kinds))
    return faults, cleaned


CLEANED_LABELS = {"control": "控制字符", "bidi": "文字方向控制符", "zero_width": "零宽字符"}


def row_fault_issues(file: str, sheet_name: str, number: int, faults: dict, cleaned: dict, header: list[str]) -> tuple[list[FormIssue], list[FormIssue]]:
    """(errors, warnings) for one data row: the first cell that could not be read (the row is not
    loaded: one reason), and a warning per cell whose invisible characters were removed."""
    def column(col):
        if col is None:
            return None
        return f"{column_letter(col)} {heading_text(header[col])}" if col < len(header) and heading_text(header[col]) else column_letter(col)

    errors = [FormIssue(file, sheet_name, number, column(col), "error", rule, message) for col, rule, message in faults.get(number, [])[:1]]
    warnings = [FormIssue(file, sheet_name, number, column(col), "warning", "FORM_TEXT_CLEANED",
                          "单元格中的" + "、".join(CLEANED_LABELS.get(k, k) for k in kinds) + "已删除（按删除后的内容载入）")
                for col, kinds in cleaned.get(number, [])]
    return errors, warnings


def parse_form(kind: str, sheets, *, file: str, header: tuple[str, ...], parse_sheet, no_header: str) -> ParsedForm:
    """A form of `kind` read sheet by sheet: each sheet with a header row naming all of `header` is parsed into it by
    `parse_sheet(sheet, header_at, form)`; a FORM_NO_HEADER error (message `no_header`) when no sheet has one. A form
    whose effective date or preamble could not be read loads no rows."""
    form = ParsedForm(kind, file)
    found = False
    for sheet in sheets:
        header_at = find_header(sheet.rows, header)
        if header_at is None:
            continue
        found = True
        parse_sheet(sheet, header_at, form)
    if not found:
        form.issues.append(FormIssue(file, sheets[0].name if sheets else "-", None, None, "error", "FORM_NO_HEADER", no_header))
    if form.effective_invalid or form.preamble_invalid:
        form.rows = []
    return form


def find_header(rows, all_of: tuple[str, ...]) -> int | None:
    for i, (_, cells) in enumerate(rows):
        joined = plain_text("".join(cells))
        if all(k in joined for k in all_of):
            return i
    return None


def find_table_header(rows, spec, required: tuple[str, ...]) -> int | None:
    """The first row whose short cells name every required column."""
    for i, (_, cells) in enumerate(rows):
        short = [c if len(plain_text(c)) <= 20 else "" for c in cells]
        if all(k in map_columns(short, spec) for k in required):
            return i
    return None


def map_columns(header: list[str], spec) -> dict[str, int]:
    """Which column holds what, by heading text; merged heading cells map to their first column."""
    columns: dict[str, int] = {}
    for i, text in enumerate(header):
        h = plain_text(text)
        if not h:
            continue
        for key, needles in spec:
            if any(plain_text(n) in h for n in needles):
                if key not in columns and i not in columns.values():
                    columns[key] = i
                break
    return columns


@dataclass(frozen=True)
class Table:
    """A form's table under its header row: which column holds what (`columns`, key -> index) and
    each column as the person who filled it sees it (`heading`, key -> "D 机构编码")."""

    header: list[str]
    columns: dict[str, int]
    heading: dict[str, str]

    def cell(self, cells: list[str], key: str) -> str:
        """The cell of column `key` in a data row, trimmed ("" when the column or the cell is absent)."""
        i = self.columns.get(key)
        return cells[i].strip() if i is not None and i < len(cells) else ""


def table_under(sheet, header_at: int, form: ParsedForm, spec, required: tuple[str, ...], labels: dict[str, str]) -> Table | None:
    """The table whose header is row `header_at` of `sheet`, its columns found by `spec`; None, with
    a FORM_COLUMN_MISSING error on `form` naming every `required` column (by `labels`) it lacks."""
    number, header = sheet.rows[header_at]
    columns = map_columns(header, spec)
    missing = [k for k in required if k not in columns]
    if missing:
        form.issues.append(FormIssue(form.file, sheet.name, number, None, "error", "FORM_COLUMN_MISSING",
                                     "表头缺少列：" + "、".join(labels[k] for k in missing)))
        return None
    return Table(header, columns, {k: f"{column_letter(i)} {heading_text(header[i])}" for k, i in columns.items()})

