"""The XLSX batch format (the default for institutions whose Annex 2 form does not choose one):
a workbook a clerk double-clicks in Excel or WPS without losing a digit.

- every cell is text (number format "@", a string value): 18-digit platform numbers and ID
  numbers, account numbers and landlines with leading zeros stay exactly as sent;
- row 1 the Chinese labels (Annex 1), row 2 the field codes beneath them; both frozen and
  repeated on every printed page;
- column widths from the content, an auto-filter on the code row;
- print setup: A4 landscape, fit to one page wide, a page header with the institution and the
  batch, a footer with page numbers;
- the cells are those of the CSV (`batchfiles.spreadsheet_safe`: the same apostrophe before a
  value that starts like a formula, the same clean text) — nothing added, nothing masked;
- deterministic bytes: the workbook's created/modified properties are the batch's own time and
  every zip entry carries that time, so a re-render gives the same SHA-256 (the ledger fixes a
  batch's manifest hash at its first render: jobs/cohandling/deliver_orders.py).
Pure: bytes out, no I/O.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import datetime

import pyarrow as pa

EPOCH = datetime(2000, 1, 1)  # the workbook time when the caller gives none (never the clock)
MAX_WIDTH, MIN_WIDTH = 44, 6
HEADER_FILL = "DDEBF7"


def display_width(text: str) -> int:
    """Columns a text takes on screen: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _header_text(text: str) -> str:
    """A page header/footer text with its control character `&` doubled (Excel reads `&P`, `&N`, … as fields)."""
    return text.replace("&", "&&")


def render_xlsx(table: pa.Table, *, labels: dict[str, str], sheet: str, title: str, created: datetime | None = None) -> bytes:
    """`table` (every cell already spreadsheet-safe) as one worksheet: labels row, codes row, then the rows, all text.

    `labels` maps a column code to its Chinese label; `title` is the page header (institution and batch);
    `created` the batch's time, written as the workbook's created/modified time and every zip entry's time.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    stamp = (created or EPOCH).replace(tzinfo=None, microsecond=0)
    wb = Workbook()
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "协办网关"
    wb.properties.lastModifiedBy = "协办网关"
    wb.properties.title = title
    ws = wb.active
    ws.title = sheet[:31]

    codes = table.column_names
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    thin = Side(style="thin", color="999999")
    for col, code in enumerate(codes, start=1):
        for row, text in ((1, labels.get(code, code)), (2, code)):
            cell = ws.cell(row=row, column=col, value=text)
            cell.data_type, cell.number_format = "s", "@"
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=row == 1)
            cell.border = Border(bottom=thin)

    widths = [max(display_width(labels.get(c, c)) // 2 + 2, display_width(c) + 2) for c in codes]
    for r, values in enumerate(zip(*(table[c].to_pylist() for c in codes)), start=3):
        for col, value in enumerate(values, start=1):
            text = None if value is None else str(value)
            cell = ws.cell(row=r, column=col, value=text)
            cell.number_format = "@"
            if text is not None:
                cell.data_type = "s"  # never a formula, never a number
                widths[col - 1] = max(widths[col - 1], display_width(text) + 2)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    ws.row_dimensions[1].height = 30

    last = get_column_letter(max(len(codes), 1))
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{last}{table.num_rows + 2}"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.center.text = _header_text(title)
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.evenHeader.center.text = ws.oddHeader.center.text
    ws.evenFooter.center.text = ws.oddFooter.center.text

    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue(), stamp)


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """The same archive with every entry dated `stamp` and the workbook modified at `stamp` (both otherwise the time of writing)."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second - stamp.second % 2)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=date_time)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps `modified` with the clock on save
                iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + iso + rb"\g<2>", data)
            dst.writestr(fixed, data)
    return out.getvalue()
