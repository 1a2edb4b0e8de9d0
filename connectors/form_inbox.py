"""Reading the forms counties fill in (Annex 2 / Annex 3, checklists) as grids of cell text.

A form arrives as `.xlsx` (Excel / WPS, openpyxl) or `.csv` (UTF-8, with or without BOM,
or GB18030 as Chinese Excel saves it). Either way it becomes a list of `Sheet`s: every
row with its number as the person filling it sees it (1-based, blank rows included), and
every cell as text. A merged cell's value is repeated over the cells it covers, which is
what the eye reads; a CSV cannot merge, so the parser carries a blank county / type cell
down from the row above instead.

Bounds, checked before the expensive step they protect (docs/registry-forms.md, "Limits"):
the file's size before it is read; for an `.xlsx`, the zip's members — how many, their
declared unpacked sizes and each large member's compression ratio — before openpyxl opens
it (Python's zipfile never inflates a member past its declared size, so the declared sizes
bound the work); rows, columns and sheets before the grid is built. A file over a bound is
not a form (`FormReadError`, with a rule id). Every cell passes `transforms.common.text.clean_text`
(NUL, controls, bidi and zero-width marks out); a cell longer than `MAX_CELL_CHARS`, or a CSV
line that is not valid in the file's encoding, is not read: it is recorded in the sheet's
`faults` and the parsers refuse that row only (transforms/registry/institution_forms.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from transforms.common.text import clean_text

FORM_SUFFIXES = (".xlsx", ".csv")
MAX_FORM_BYTES = 10 * 1024 * 1024  # a county's form is a few kB (with a logo, a few hundred)
MAX_XLSX_UNPACKED = 16 * 1024 * 1024  # all members of an .xlsx, as declared in its zip directory
MAX_XLSX_MEMBERS = 500
XLSX_RATIO_FROM = 4 * 1024 * 1024  # a member larger than this unpacked ...
MAX_XLSX_RATIO = 200  # ... may not be more than this many times its packed size (worksheet XML packs 5–30×)
MAX_SHEETS = 50
MAX_SHEET_ROWS = 5_000  # a city's Annex 2 has some hundred rows, a checklist form under 2,000
MAX_COLUMNS = 60
MAX_CELL_CHARS = 1_000
TOO_LONG_MARK = "〔单元格过长，未读取〕"  # what stands in an over-long cell: it matches no county, type or code
BAD_ENCODING_RULE = "FORM_ENCODING"
CLEAN_WARN_KINDS = ("control", "bidi", "zero_width")  # line breaks and odd spaces in a cell are ordinary


class FormReadError(ValueError):
    """A file that cannot be read as a form at all (names the file, where, and why; `rule` is its id)."""

    def __init__(self, message: str, rule: str = "FORM_UNREADABLE", location: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.location = location


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[tuple[int, list[str]]]  # (row number as shown, cell texts)
    # (row number, column index or None for the whole row) -> (rule, message): cells not read
    faults: dict = field(default_factory=dict)
    # (row number, column index) -> kinds of character clean_text removed (transforms.common.text.KINDS)
    cleaned: dict = field(default_factory=dict)


def read_form(path: str | Path) -> list[Sheet]:
    """Every sheet of an .xlsx (hidden ones skipped) or the one 'sheet' of a .csv."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORM_SUFFIXES:
        raise FormReadError(f"{path.name}: 不是表格文件（应为 .xlsx 或 .csv）/ not a form file", "FORM_FILE_TYPE")
    size = path.stat().st_size
    if size > MAX_FORM_BYTES:
        raise FormReadError(f"{path.name}: 文件 {size} 字节，超过上限 {MAX_FORM_BYTES} 字节 / too large for a form", "FORM_TOO_LARGE")
    if suffix == ".csv":
        return [_csv_sheet(path)]
    return _xlsx_sheets(path)


def _grid_cell(sheet_faults: dict, cleaned: dict, number: int, col: int, raw: str) -> str:
    out = clean_text(raw)
    text = (out.value or "").strip()
    if len(text) > MAX_CELL_CHARS:
        sheet_faults[(number, col)] = ("FORM_CELL_TOO_LONG", f"单元格有 {len(text)} 个字符，超过上限 {MAX_CELL_CHARS}：未读取，本行未载入")
        return TOO_LONG_MARK
    kinds = tuple(k for k in out.changes if k in CLEAN_WARN_KINDS)
    if kinds:
        cleaned[(number, col)] = kinds
    return text


def _csv_sheet(path: Path) -> Sheet:
    from transforms.common.csvtext import csv_records, decode_lines

    decoded = decode_lines(path.read_bytes())
    if decoded is None:
        raise FormReadError(f"{path.name}: 既不是 UTF-8 也不是 GB18030 文本（或是二进制文件）/ neither UTF-8 nor GB18030 text", "FORM_ENCODING")
    faults: dict = {}
    cleaned: dict = {}
    rows = []
    for number, first, last, cells in csv_records(decoded, max_records=MAX_SHEET_ROWS, field_limit=MAX_FORM_BYTES):
        if number > MAX_SHEET_ROWS:
            raise FormReadError(f"{path.name}: 超过 {MAX_SHEET_ROWS} 行 / more than {MAX_SHEET_ROWS} rows", "FORM_TOO_MANY_ROWS", f"第{number}行")
        if len(cells) > MAX_COLUMNS:
            raise FormReadError(f"{path.name} 第{number}行: {len(cells)} 列，超过上限 {MAX_COLUMNS} 列 / too many columns", "FORM_TOO_MANY_COLUMNS", f"第{number}行")
        if any(line in decoded.bad_lines for line in range(first, last + 1)):
            faults[(number, None)] = (BAD_ENCODING_RULE, f"本行含有不是 {decoded.encoding.upper()} 编码的字节：本行未载入")
        rows.append((number, [_grid_cell(faults, cleaned, number, c, cell) for c, cell in enumerate(cells)]))
    return Sheet("csv", rows, faults, cleaned)


def check_xlsx_zip(path: Path) -> None:
    """Refuse an .xlsx whose zip directory promises more than a form can be, before anything is inflated."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FormReadError(f"{path.name}: 不是可读的 .xlsx 文件（{type(exc).__name__}）/ not a readable .xlsx workbook", "FORM_XLSX_BROKEN") from exc
    if len(members) > MAX_XLSX_MEMBERS:
        raise FormReadError(f"{path.name}: 压缩包内有 {len(members)} 个部件，超过上限 {MAX_XLSX_MEMBERS}", "FORM_XLSX_TOO_BIG")
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNPACKED:
        raise FormReadError(f"{path.name}: 解压后 {total} 字节，超过上限 {MAX_XLSX_UNPACKED} 字节 / unpacks to too much", "FORM_XLSX_TOO_BIG")
    for m in members:
        if m.file_size > XLSX_RATIO_FROM and m.file_size > MAX_XLSX_RATIO * max(m.compress_size, 1):
            raise FormReadError(f"{path.name}: 部件 {clean_text(m.filename).value} 压缩比 {m.file_size // max(m.compress_size, 1)}:1，超过上限 {MAX_XLSX_RATIO}:1 "
                                "/ compression ratio of a zip bomb", "FORM_XLSX_TOO_BIG", clean_text(m.filename).value)


def _xlsx_sheets(path: Path) -> list[Sheet]:
    from openpyxl import load_workbook

    check_xlsx_zip(path)
    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken or foreign file
        raise FormReadError(f"{path.name}: 不是可读的 .xlsx 工作簿（{type(exc).__name__}）/ not a readable .xlsx workbook", "FORM_XLSX_BROKEN") from exc
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    if len(visible) > MAX_SHEETS:
        raise FormReadError(f"{path.name}: {len(visible)} 个工作表，超过上限 {MAX_SHEETS}", "FORM_TOO_MANY_SHEETS")
    sheets = []
    for ws in visible:
        title = clean_text(ws.title).value or ""
        if ws.max_row > MAX_SHEET_ROWS:
            raise FormReadError(f"{path.name} 工作表 {title}: {ws.max_row} 行，超过上限 {MAX_SHEET_ROWS} 行", "FORM_TOO_MANY_ROWS", f"工作表 {title}")
        if ws.max_column > MAX_COLUMNS:
            raise FormReadError(f"{path.name} 工作表 {title}: {ws.max_column} 列，超过上限 {MAX_COLUMNS} 列", "FORM_TOO_MANY_COLUMNS", f"工作表 {title}")
        faults: dict = {}
        cleaned: dict = {}
        grid = [[_grid_cell(faults, cleaned, r, c, _cell_text(v)) for c, v in enumerate(row)]
                for r, row in enumerate(ws.iter_rows(values_only=True), start=1)]
        for merged in ws.merged_cells.ranges:
            value = grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row - 1 < len(grid) else ""
            for r in range(merged.min_row - 1, min(merged.max_row, len(grid), MAX_SHEET_ROWS)):
                row = grid[r]
                row.extend([""] * (min(merged.max_col, MAX_COLUMNS) - len(row)))
                for c in range(merged.min_col - 1, min(merged.max_col, MAX_COLUMNS)):
                    row[c] = value
        sheets.append(Sheet(title, [(i, row) for i, row in enumerate(grid, start=1)], faults, cleaned))
    return sheets


_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _cell_text(value) -> str:
    """A cell as the text a person reads; dates as ISO, whole-number floats without '.0'.

    Text keeps Excel's `_xHHHH_` escapes (how a workbook carries a control character XML cannot
    hold) when openpyxl leaves them: they are turned back into the character, which
    `clean_text` then removes, with a warning, like any other."""
    if isinstance(value, str) and "_x" in value:
        value = _XML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
