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

import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from transforms.reporting.cells import RATES, WORKING_DAYS, code_of
from transforms.reporting.cohandling_tables import CSV_DIR, HTML_NAME, SUMMARY_HEADINGS, XLSX_NAME

MIN_WIDTH, MAX_WIDTH, HEADING_WIDTH = 8, 60, 26  # in Excel character widths; a CJK character counts two
NOTES_SHEET = "说明"  # the workbook's account of what the report was computed from (not a table: no CSV)
WIDTH_SAMPLE = 2000  # rows looked at to size a column: enough to be representative, cheap on a big list


def write_reports(tables: dict[str, pd.DataFrame], page: str, *, out_dir: Path, notes: pd.DataFrame | None = None) -> dict[str, str]:
    """Write a report's files under out_dir — `page` as report.html, `tables` as report.xlsx (one sheet each) and
    csv/<table>.csv; returns {"html": path, "xlsx": path, "csv:<table>": path, ...}. Both reports (reconciliation, remote) write so.
    `notes` (what the report was computed from: transforms/reporting/provenance.py) is the workbook's last sheet, 说明."""
    out_dir = Path(out_dir)
    (out_dir / CSV_DIR).mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}

    html_path = out_dir / HTML_NAME
    with _replacing(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    paths["html"] = str(html_path)

    xlsx_path = out_dir / XLSX_NAME
    with _replacing(xlsx_path) as tmp:
        write_workbook(tables if notes is None else {**tables, NOTES_SHEET: notes}, tmp)
    paths["xlsx"] = str(xlsx_path)

    for name, table in tables.items():
        csv_path = out_dir / CSV_DIR / f"{name}.csv"
        with _replacing(csv_path) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")  # BOM: Excel/WPS open it as UTF-8, not GBK
        paths[f"csv:{name}"] = str(csv_path)
    return paths


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table (Chinese sheet names), header row frozen and filterable, columns sized, rates as %."""
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, band = Font(bold=True), PatternFill("solid", start_color="F2F2F2")
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
            sheet.row_dimensions[1].height = 32
            for index, heading in enumerate(table.columns, start=1):
                letter = sheet.cell(row=1, column=index).column_letter
                sheet.column_dimensions[letter].width = _width(heading, table[heading])
                number_format = "0.0%" if code_of(heading) in RATES else "0.0" if code_of(heading) in WORKING_DAYS else None
                if number_format:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                        cell.number_format = number_format
            if name == "汇总":  # one row per metric: format the rate and working-day rows
                codes = table[SUMMARY_HEADINGS["code"]].tolist()
                for row_index, code in enumerate(codes, start=2):
                    number_format = "0.0%" if code in RATES else "0.0" if code in WORKING_DAYS else None
                    if number_format:
                        for cell in sheet[row_index][2:]:
                            cell.number_format = number_format


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _width(heading: str, values: pd.Series) -> float:
    sample = values.head(WIDTH_SAMPLE).dropna()
    widest = max((_display_width(str(v)) for v in sample), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, widest + 2, min(HEADING_WIDTH, _display_width(heading) // 2 + 2))))


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
