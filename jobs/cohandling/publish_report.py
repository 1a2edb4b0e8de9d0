"""Writing the reconciliation reports: report.html, report.xlsx (one sheet per table) and csv/<table>.csv.

The tables and the page come from transforms/reporting/ (pure: cohandling_tables.py and cohandling_html.py for the
reconciliation reports, remote_tables.py for the remote-collection report); this module only writes them.
Each file is written beside its final name and renamed into place, so a county or an auditor
opening the folder mid-run sees the previous complete file or the new one, never half of one.
The temporary name is the writer's own: two runs writing the same report at once (a manual run
beside the scheduled one, workers on several hosts sharing the report folder) never write into
each other's file; the last rename wins, whole.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.reporting.cells import RATES, WORKING_DAYS, PrintLayout, code_of
from transforms.reporting.cohandling_tables import CSV_DIR, HTML_NAME, SUMMARY_HEADINGS, XLSX_NAME

MIN_WIDTH, MAX_WIDTH, HEADING_WIDTH, NUMBER_HEADING_WIDTH = 8, 40, 26, 12  # in Excel character widths; a CJK character counts two
NOTES_SHEET = "说明"  # the workbook's account of what the report was computed from (not a table: no CSV)
WIDTH_SAMPLE = 2000  # rows looked at to size a column: enough to be representative, cheap on a big list


def write_reports(tables: dict[str, pd.DataFrame], page: str, *, out_dir: Path, notes: pd.DataFrame | None = None,
                  title: str | None = None, layouts: Mapping[str, PrintLayout] | None = None) -> dict[str, str]:
    """Write a report's files under out_dir — `page` as report.html, `tables` as report.xlsx (one sheet each) and
    csv/<table>.csv; returns {"html": path, "xlsx": path, "csv:<table>": path, ...}. Both reports (reconciliation, remote) write so.
    `notes` (what the report was computed from: transforms/reporting/provenance.py) is the workbook's last sheet, 说明.
    `title` heads every printed page of the workbook (default: the page's <title>); `layouts`: sheets that print only
    some columns or break pages by a column (write_workbook)."""
    out_dir = Path(out_dir)
    (out_dir / CSV_DIR).mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}

    html_path = out_dir / HTML_NAME
    with _replacing(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    paths["html"] = str(html_path)

    xlsx_path = out_dir / XLSX_NAME
    with _replacing(xlsx_path) as tmp:
        write_workbook(tables if notes is None else {**tables, NOTES_SHEET: notes}, tmp, title=title if title is not None else page_title(page),
                       layouts=layouts)
    paths["xlsx"] = str(xlsx_path)

    for name, table in tables.items():
        csv_path = out_dir / CSV_DIR / f"{name}.csv"
        with _replacing(csv_path) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")  # BOM: Excel/WPS open it as UTF-8, not GBK
        paths[f"csv:{name}"] = str(csv_path)
    return paths


def page_title(page: str) -> str:
    """The text of a page's <title> (the report's name and period), '' if it has none."""
    import html
    import re

    match = re.search(r"<title>(.*?)</title>", page, flags=re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def write_workbook(tables: dict[str, pd.DataFrame], path: Path, *, title: str = "", layouts: Mapping[str, PrintLayout] | None = None) -> None:
    """One sheet per table (Chinese sheet names), header row frozen and filterable, columns sized (long text wrapped),
    rates as %; each sheet set up to print (print_setup)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, band = Font(bold=True), PatternFill("solid", start_color="F2F2F2")
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    with pd.ExcelWriter(path, engine="openpyxl", date_format="YYYY-MM-DD", datetime_format="YYYY-MM-DD HH:MM:SS") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            if len(table):
                sheet.auto_filter.ref = sheet.dimensions
            for cell in sheet[1]:
                cell.font, cell.fill = bold, band
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            heading_lines = 2
            lines = np.ones(len(table), dtype=int)  # text lines per row: a wrapped cell's row is made tall enough to show it all
            for index, heading in enumerate(table.columns, start=1):
                letter = sheet.cell(row=1, column=index).column_letter
                width, wrapped = _width(heading, table[heading])
                sheet.column_dimensions[letter].width = width
                heading_lines = max(heading_lines, math.ceil(_display_width(str(heading)) / max(width - 3, 1)) + 1)  # + 1: breaks fall short
                if wrapped:
                    texts = table[heading].astype(object).where(table[heading].notna(), "").map(str)
                    lines = np.maximum(lines, np.ceil(texts.map(_display_width).to_numpy(dtype=float) / max(width - 3, 1)).astype(int))
                number_format = "0.0%" if code_of(heading) in RATES else "0.0" if code_of(heading) in WORKING_DAYS else None
                if number_format or wrapped:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                        if number_format:
                            cell.number_format = number_format
                        if wrapped:
                            cell.alignment = wrap
            sheet.row_dimensions[1].height = 15 * min(heading_lines, 6)
            for row_index in np.flatnonzero(lines > 1):
                sheet.row_dimensions[int(row_index) + 2].height = 15 * int(min(lines[row_index], 12))
                for cell in sheet[int(row_index) + 2]:  # a tall row reads from its top
                    cell.alignment = wrap if cell.alignment.wrap_text else top
            if name == "汇总":  # one row per metric: format the rate and working-day rows
                codes = table[SUMMARY_HEADINGS["code"]].tolist()
                for row_index, code in enumerate(codes, start=2):
                    number_format = "0.0%" if code in RATES else "0.0" if code in WORKING_DAYS else None
                    if number_format:
                        for cell in sheet[row_index][2:]:
                            cell.number_format = number_format
            print_setup(sheet, table, title=title, layout=(layouts or {}).get(name))


PAGE_WIDTH_MM = 297.0  # A4 landscape
MARGINS_IN = {"left": 0.4, "right": 0.4, "top": 0.75, "bottom": 0.75, "header": 0.3, "footer": 0.3}


def print_setup(sheet, table: pd.DataFrame, *, title: str, layout: PrintLayout | None = None) -> None:
    """A sheet as a clerk prints it: A4 landscape, the heading row on every page, gridlines, margins, the report's name
    and the sheet's in the header, 第 x 页，共 y 页 in the footer; one page wide (fitToWidth 1, fitToHeight 0: as many
    pages tall as it takes). A sheet with a `layout` prints its first `layout.columns` columns, and starts a new page
    wherever `layout.break_by` changes: it is scaled to fit the width instead (Excel ignores manual page breaks on a
    sheet set to fit to a page), the scale worked out from the column widths."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.pagebreak import Break

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_margins = PageMargins(**MARGINS_IN)
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.oddHeader.center.text = f"{_header_text(title)} — &A" if title else "&A"
    sheet.oddHeader.center.size = 9
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.oddFooter.center.size = 9
    columns = len(table.columns) if layout is None or layout.columns is None else min(layout.columns, len(table.columns))
    last = get_column_letter(max(columns, 1))
    if layout is not None and layout.break_by is not None and layout.break_by in table.columns and len(table):
        # one print area per run of equal values (Excel and LibreOffice start each print area on a new page), and a
        # manual break there too (for a reader that prints one area)
        values = table[layout.break_by].astype(str).to_numpy()
        starts = [0, *(i for i in range(1, len(values)) if values[i] != values[i - 1])]
        ends = [*starts[1:], len(values)]
        sheet.print_area = [f"A{2 + a}:{last}{1 + b}" for a, b in zip(starts, ends)]
        for start in starts[1:]:
            sheet.row_breaks.append(Break(id=start + 1))  # after sheet row start + 1 (row 1 is the heading)
    elif columns < len(table.columns):
        sheet.print_area = f"A1:{last}{len(table) + 1}"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def _header_text(text: str) -> str:
    """Text for a print header: & doubled (a lone & starts a header code) and cut to stay within Excel's 255 characters."""
    return text.replace("&", "&&")[:200]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _width(heading: str, values: pd.Series) -> tuple[float, bool]:
    """(the column's width in Excel characters, whether its text wraps): wide enough for its widest value up to
    MAX_WIDTH (longer text wraps there), and for its heading wrapped over a few lines (HEADING_WIDTH; a number's
    heading over more, NUMBER_HEADING_WIDTH: a sheet of 30 figures still prints one page wide, legibly)."""
    sample = values.head(WIDTH_SAMPLE).dropna()
    # a number as the sheet shows it (0.0% / 0.0 / 1,234.56), not as Python would print a float (0.38830409356725146)
    widest = max((_display_width(f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in sample), default=0)
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    cap = NUMBER_HEADING_WIDTH if numeric else HEADING_WIDTH
    width = float(min(MAX_WIDTH, max(MIN_WIDTH, widest + 2, min(cap, _display_width(heading) // 2 + 2))))
    return width, widest + 2 > MAX_WIDTH


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path of this writer's own beside `path`, renamed onto it if the block succeeds, removed if it fails."""
    import uuid

    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
