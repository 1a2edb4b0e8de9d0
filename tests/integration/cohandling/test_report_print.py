"""The reconciliation report opened as its readers open it, at a realistic size (tests/integration/cohandling/report_data.py:
1,327 overdue orders over six cities): the page in Debian's headless Chromium at 1366 px — nothing wider than the
screen, every overdue order present, print CSS that starts each city on a new A4 landscape page — and the workbook
printed to PDF by LibreOffice — A4 landscape, one page wide, each city of the 公示 list on pages of its own, within a
page count worked out from the rows, fonts embedded."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from jobs.cohandling.publish_report import write_reports
from tests.integration.cohandling import report_data
from transforms.reporting.cohandling_html import render_html
from transforms.reporting.cohandling_tables import OVERDUE_HEADINGS, OVERDUE_PUBLIC, PRINT_LAYOUTS, report_tables

ROWS_PER_PAGE = 25  # a bound, not a target: an A4 landscape page of the list holds more than this at any sane scale


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("printable")
    statuses = report_data.statuses()
    daily = report_data.daily(statuses)
    tables = report_tables(statuses, report_data.exceptions(), report_data.quarantine(), daily, period=report_data.PERIOD, as_of=report_data.AS_OF)
    assert len(tables["超期清单"]) == report_data.OVERDUE > 1000
    page = render_html(tables, statuses, daily, period=report_data.PERIOD, as_of=report_data.AS_OF)
    return out, write_reports(tables, page, out_dir=out, layouts=PRINT_LAYOUTS), tables


@pytest.fixture(scope="module")
def workbook_pdf(written, office, tmp_path_factory) -> Path:
    _, paths, _ = written
    return office.to_pdf(Path(paths["xlsx"]), tmp_path_factory.mktemp("pdf"))


def _pages_text(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def test_the_page_fits_1366_px_and_holds_every_overdue_order(written, page_at):
    from tests import viewers

    out, paths, tables = written
    page = page_at(1366)
    page.goto(Path(paths["html"]).as_uri())
    overflow = viewers.horizontal_overflow(page)
    assert overflow["overflow_px"] == 0, overflow
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")  # the drill-down unfolded too
    overflow = viewers.horizontal_overflow(page)
    assert overflow["overflow_px"] == 0, overflow
    wide = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => {
        const r = t.getBoundingClientRect(), p = t.parentElement.getBoundingClientRect();
        return {section: t.closest('section[id]')?.id, width: r.width, container: p.width, right: r.right};
    }).filter(t => t.width > t.container + 1 || t.right > document.documentElement.clientWidth)""")
    assert wide == [], wide
    # every overdue order, by its platform number, in the list's order: no cut at 1,000
    shown = page.eval_on_selector_all("#overdue td.id", "cells => cells.map(c => c.textContent)")
    listed = pd.read_csv(paths["csv:超期清单"], encoding="utf-8-sig", dtype=str)
    assert shown == listed[OVERDUE_HEADINGS["platform_no"]].tolist() == tables["超期清单"][OVERDUE_HEADINGS["platform_no"]].tolist()
    assert len(shown) == report_data.OVERDUE
    # one section per city, headed by it, with its own count
    cities = page.eval_on_selector_all("#overdue section.city h3", "hs => hs.map(h => h.textContent)")
    counts = listed.groupby(OVERDUE_HEADINGS["city_code"], sort=True).size()
    names = listed.drop_duplicates(OVERDUE_HEADINGS["city_code"]).set_index(OVERDUE_HEADINGS["city_code"])[OVERDUE_HEADINGS["city_name"]]
    assert [h.split("　")[0] for h in cities] == [names[c] for c in counts.index]
    assert [int(re.search(r"超期未办结 ([\d,]+) 件", h)[1].replace(",", "")) for h in cities] == counts.tolist()
    # the public list shows no ROWGUID and no buyer
    text = page.inner_text("#overdue")
    assert not any(guid in text for guid in listed[OVERDUE_HEADINGS["rowguid"]].head(50))
    assert "买方" not in text
    assert page.blocked == []


def test_the_page_prints_a4_landscape_each_city_on_a_new_page(written, page_at, office, tmp_path):
    _, paths, _ = written
    page = page_at(1366)
    page.goto(Path(paths["html"]).as_uri())
    page.emulate_media(media="print")
    style = page.evaluate("""() => {
        const cities = [...document.querySelectorAll('#overdue section.city')];
        return {breaks: cities.map(c => getComputedStyle(c).breakBefore),
                thead: getComputedStyle(document.querySelector('#overdue thead')).display,
                sections: [...document.querySelectorAll('body > section')].map(s => getComputedStyle(s).breakBefore)};
    }""")
    assert style["breaks"][1:] == ["page"] * (len(style["breaks"]) - 1) and len(style["breaks"]) == len(report_data.CITIES)
    assert style["thead"] == "table-header-group"  # the heading row again on every page
    assert style["sections"][1:] == ["page"] * (len(style["sections"]) - 1)
    pdf = tmp_path / "page.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    assert office.pdf_page_size_mm(pdf) == pytest.approx((297.0, 210.0), abs=0.5)  # A4 landscape (Chromium rounds to the point)
    fonts = office.pdf_fonts(pdf)
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
    # each city's list starts a page: no printed page holds the orders of two cities
    texts = _pages_text(pdf)
    printed = re.findall(r"\b20261101\d{10}\b", "\n".join(texts))
    assert sorted(printed) == sorted(listed_numbers(paths)), "every overdue order printed, once"
    cities_per_page = [set(re.findall(r"山东省(\S+?市)", text)) for text in texts]
    assert all(len(c) <= 1 for c in cities_per_page), [c for c in cities_per_page if len(c) > 1][:3]
    assert len([c for c in cities_per_page if c]) >= len(report_data.CITIES)


def listed_numbers(paths: dict[str, str]) -> list[str]:
    return pd.read_csv(paths["csv:超期清单"], encoding="utf-8-sig", dtype=str)[OVERDUE_HEADINGS["platform_no"]].tolist()


def test_every_sheet_is_set_up_to_print(written):
    _, paths, tables = written
    book = openpyxl.load_workbook(paths["xlsx"])
    assert book.sheetnames == list(tables)
    for sheet in book:
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", int(sheet.PAPERSIZE_A4)), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), sheet.title
        assert sheet.print_title_rows == "$1:$1" and sheet.print_options.gridLines, sheet.title
        assert "水电气热过户协同办理对账报告" in sheet.oddHeader.center.text and "&A" in sheet.oddHeader.center.text
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
        assert sheet.page_margins.left > 0 and sheet.page_margins.top > sheet.page_margins.header
    overdue = book["超期清单"]
    last = openpyxl.utils.get_column_letter(len(OVERDUE_PUBLIC))
    areas = overdue.print_area if isinstance(overdue.print_area, list) else str(overdue.print_area).split(",")
    assert len(areas) == len(report_data.CITIES)  # one print area (a new page) per city
    assert all(re.fullmatch(rf"'超期清单'!\$A\$\d+:\${last}\$\d+", a) for a in areas), areas
    assert [c.value for c in overdue[1][: len(OVERDUE_PUBLIC)]] == [OVERDUE_HEADINGS[k] for k in OVERDUE_PUBLIC]  # ROWGUID not among them


def test_the_workbook_prints_a4_landscape_within_its_page_bound(written, workbook_pdf, office):
    _, _, tables = written
    assert office.pdf_page_size_mm(workbook_pdf) == pytest.approx((297.0, 210.0), abs=0.5)
    rows = sum(len(t) for t in tables.values())
    pages = office.pdf_pages(workbook_pdf)
    bound = math.ceil(rows / ROWS_PER_PAGE) + len(tables)
    assert len(report_data.CITIES) + len(tables) - 1 <= pages <= bound, (pages, bound)
    fonts = office.pdf_fonts(workbook_pdf)
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts


def test_the_summary_prints_labels_and_numbers_on_one_page_wide(written, workbook_pdf):
    _, _, tables = written
    pages = _pages_text(workbook_pdf)
    summary = [p for p in pages if "— 汇总" in p]
    assert summary, "the 汇总 sheet printed"
    first = summary[0]
    received = tables["汇总"].set_index("代码(code)").loc["received"]
    line = next(line for line in first.splitlines() if "协办工单数" in line)
    # the label, its code, the total and every utility's figure on one printed line: one page wide
    assert "received" in line and all(str(received[c]) in line for c in tables["汇总"].columns[2:7]), line
    assert "说明" in first and "第 1 页" in first


def test_each_city_of_the_overdue_list_prints_on_pages_of_its_own(written, workbook_pdf):
    _, _, tables = written
    pages = [p for p in _pages_text(workbook_pdf) if "— 超期清单" in p]
    overdue = tables["超期清单"]
    assert len(report_data.CITIES) <= len(pages) <= math.ceil(len(overdue) / ROWS_PER_PAGE) + len(report_data.CITIES)
    seen = []
    for text in pages:
        cities = set(re.findall(r"山东省(\S+?市)", text))
        assert len(cities) == 1, cities  # one city per page
        assert "标识码" not in text and "买方" not in text  # the public columns only
        seen.append(cities.pop())
    assert list(dict.fromkeys(seen)) == list(dict.fromkeys(overdue[OVERDUE_HEADINGS["city_name"]]))
    # every order printed, once
    printed = re.findall(r"\b20261101\d{10}\b", "\n".join(pages))
    assert sorted(printed) == sorted(overdue[OVERDUE_HEADINGS["platform_no"]])
