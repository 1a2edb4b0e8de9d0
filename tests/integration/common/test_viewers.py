"""The viewers the report tests rely on measure what they claim: a page wider than the window is seen as
overflowing, a narrow one is not; the network is cut; a workbook prints to A4 with its Chinese font embedded."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_overflow_is_measured_and_the_network_cut(page_at, tmp_path):
    from tests.viewers import horizontal_overflow

    wide = tmp_path / "wide.html"
    wide.write_text('<html><body><table><tr><td style="min-width:2000px">宽表</td></tr></table>'
                    '<link rel="stylesheet" href="https://cdn.example.com/x.css"></body></html>', encoding="utf-8")
    narrow = tmp_path / "narrow.html"
    narrow.write_text("<html><body><p>窄页</p></body></html>", encoding="utf-8")
    page = page_at(1366)
    page.goto(wide.as_uri())
    assert horizontal_overflow(page)["overflow_px"] > 600
    assert any("cdn.example.com" in url for url in page.blocked)
    page.goto(narrow.as_uri())
    assert horizontal_overflow(page)["overflow_px"] <= 0


def test_a_workbook_prints_to_a_pdf_with_its_font_embedded(office, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "清单"
    for i in range(120):
        sheet.append([f"第{i}行", "济南市历下区", i])
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    book.save(tmp_path / "list.xlsx")
    pdf = office.to_pdf(tmp_path / "list.xlsx", tmp_path / "pdf")
    assert 1 <= office.pdf_pages(pdf) <= 4
    width, height = office.pdf_page_size_mm(pdf)
    assert (round(width), round(height)) == (297, 210)
    fonts = office.pdf_fonts(pdf)
    assert fonts and all(f["emb"] == "yes" for f in fonts)
