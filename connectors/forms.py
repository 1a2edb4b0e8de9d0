"""Reading the forms counties fill in (Annex 2 / Annex 3) as grids of cell text.

A form arrives as `.xlsx` (Excel / WPS, openpyxl) or `.csv` (UTF-8, with or without BOM,
or GB18030 as Chinese Excel saves it). Either way it becomes a list of `Sheet`s: every
row with its number as the person filling it sees it (1-based, blank rows included), and
every cell as text. A merged cell's value is repeated over the cells it covers, which is
what the eye reads; a CSV cannot merge, so the parser carries a blank county / type cell
down from the row above instead.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

FORM_SUFFIXES = (".xlsx", ".csv")
MAX_FORM_BYTES = 20 * 1024 * 1024  # a county's form is a few kB; anything this big is not one


class FormReadError(ValueError):
    """A file that cannot be read as a form at all (names the file and why)."""


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[tuple[int, list[str]]]  # (row number as shown, cell texts)


def read_form(path: str | Path) -> list[Sheet]:
    """Every sheet of an .xlsx (hidden ones skipped) or the one 'sheet' of a .csv."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORM_SUFFIXES:
        raise FormReadError(f"{path.name}: not a form file (expected {' or '.join(FORM_SUFFIXES)})")
    size = path.stat().st_size
    if size > MAX_FORM_BYTES:
        raise FormReadError(f"{path.name}: {size} bytes is too large for a form (limit {MAX_FORM_BYTES})")
    if suffix == ".csv":
        return [Sheet("csv", _csv_rows(path))]
    return _xlsx_sheets(path)


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string that is not broken mid-character
        raise FormReadError(f"{path.name}: neither UTF-8 nor GB18030 text")
    reader = csv.reader(io.StringIO(text, newline=""))
    return [(number, [cell.strip() for cell in row]) for number, row in enumerate(reader, start=1)]


def _xlsx_sheets(path: Path) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken or foreign file
        raise FormReadError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    sheets = []
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        grid = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        for merged in ws.merged_cells.ranges:
            value = grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row - 1 < len(grid) else ""
            for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
                row = grid[r]
                row.extend([""] * (merged.max_col - len(row)))
                for c in range(merged.min_col - 1, merged.max_col):
                    row[c] = value
        sheets.append(Sheet(ws.title, [(i, row) for i, row in enumerate(grid, start=1)]))
    return sheets


def _cell_text(value) -> str:
    """A cell as the text a person reads; dates as ISO, whole-number floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
