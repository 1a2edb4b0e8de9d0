"""The paper-handover list (移交清单) laid out for print (pure: rows in, a file written at the path given).

`handover_xlsx` and `handover_pdf` take the title, the information lines, the column headings,
the rows and the signature lines; `printable` makes a value safe for a printed cell.
"""

from __future__ import annotations

from pathlib import Path

# The Chinese font the PDF embeds (a subset): WenQuanYi Micro Hei, shipped with its licence (fonts/README.md).
PDF_FONT_FILE = Path(__file__).with_name("fonts") / "wqy-microhei.ttc"
PDF_FONT = "WenQuanYiMicroHei"


def pdf_font() -> str:
    """The registered name of the embedded Chinese font for reportlab (registered once per process)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT, str(PDF_FONT_FILE), subfontIndex=0))
    return PDF_FONT


def printable(value) -> str:
    """Text for a printed cell: a value starting with = + - @ is prefixed with ' (never a formula in Excel/WPS)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def row_height(values: list, widths: list[float]) -> float:
    """Points for a worksheet row whose cells wrap within their column widths (in characters; a Chinese character takes two):
    neither openpyxl nor LibreOffice sizes a row to its wrapped text."""
    def lines(value, width: float) -> int:
        text = "" if value is None else str(value)
        units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
        return max(1, -(-units // max(int(width * 0.8), 1)))

    return 2.0 + 15.0 * max(lines(v, w) for v, w in zip(values, widths))


def handover_xlsx(path: Path, title: str, info: list[str], headings: list[str], rows: list[list], signatures: list[str]) -> None:
    """The list as an XLSX at `path`: A4 landscape, title and signature rows, the header repeated on each page."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "移交清单"
    width = len(headings)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font, ws["A1"].alignment = Font(bold=True, size=16), Alignment(horizontal="center")
    for line in info:
        ws.append([line])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
    ws.append(headings)
    head_row = ws.max_row
    widths = (6, 21, 21, 17, 16, 31, 34, 10, 22, 8)
    thin = Side(style="thin")
    for cell in ws[head_row]:
        cell.font, cell.alignment = Font(bold=True), Alignment(wrap_text=True, horizontal="center", vertical="center")
    ws.row_dimensions[head_row].height = row_height(headings, widths)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[ws.max_row].height = row_height(row, widths)
    for r in ws.iter_rows(min_row=head_row, max_row=ws.max_row, max_col=width):
        for cell in r:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([])
    for line in signatures:
        ws.append([line])
        ws.row_dimensions[ws.max_row].height = 24  # room to sign
    for letter, w in zip("ABCDEFGHIJ", widths):
        ws.column_dimensions[letter].width = w
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    wb.save(path)


def handover_pdf(path: Path, title: str, info: list[str], headings: list[str], rows: list[list], signatures: list[str]) -> None:
    """The list as a PDF at `path` (reportlab), every glyph from the embedded font (pdf_font(): no font of the reader's machine
    needed, no Helvetica either — the canvas starts in it too)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font()
    heading = ParagraphStyle("h", fontName=font, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    cell = ParagraphStyle("c", fontName=font, fontSize=7.5, leading=9.5)

    def footer(canvas, doc) -> None:
        canvas.setFont(font, 8)
        canvas.drawCentredString(landscape(A4)[0] / 2, 8 * mm, f"第 {doc.page} 页")

    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm, topMargin=12 * mm, bottomMargin=14 * mm,
                            title=title, author="协办网关", initialFontName=font, initialFontSize=9)
    data = [[Paragraph(h, cell) for h in headings]] + [[Paragraph(_pdf_text(v), cell) for v in row] for row in rows]
    widths = [x * mm for x in (10, 32, 32, 26, 26, 46, 44, 16, 30, 12)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 7.5), ("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    signed = Table([[Paragraph(s, body) for s in signatures[:2]], [Paragraph(s, body) for s in signatures[2:4]],
                    [Paragraph(signatures[4], body), Paragraph("", body)]], colWidths=[130 * mm, 130 * mm])
    signed.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 9)]))  # a table's own font (Helvetica by default) for any plain cell
    story = [Paragraph(title, heading), Spacer(1, 4 * mm), *(Paragraph(_pdf_text(line), body) for line in info), Spacer(1, 3 * mm), table,
             Spacer(1, 8 * mm), signed]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _pdf_text(value) -> str:
    from xml.sax.saxutils import escape

    return escape("" if value is None else str(value))
