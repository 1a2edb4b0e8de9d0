"""The remote-collection (异地代收) outputs opened as their users open them, after a month of packages
delivered to a simulated property side (SQLite ledger, the receivers simulator in its own process):

- report.html in headless Chromium at 1366 px: no horizontal scroll bar, every table cell holds its
  content (no hall name squeezed to a few characters a line), a contents list whose links land on
  its sections, the charts drawn (SVG);
- report.xlsx and a handover list's XLSX printed to PDF by LibreOffice within a page count worked
  out from their rows;
- the handover PDF (reportlab) with every font embedded, A4 landscape;
- each hall's return list titled with the hall's name and code and the run, Chinese text without
  English words in it, personal data masked.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.integration.conftest import load_packages, utc

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
DAY1 = datetime(2025, 6, 3, 9, 0)  # local: delivery
DAY2 = datetime(2025, 6, 20, 9, 0)  # statuses back, hall returns, handover lists
DAY3 = datetime(2025, 7, 21, 9, 0)  # the rest of the statuses; the report


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """{"report": paths of write_remote_report, "halls": {hall: xlsx}, "lists": handover lists with their files, "ledger": …}."""
    from connectors.exchange_db import PackageSource
    from connectors.ledger import Ledger
    from connectors.package_receiver import PackageReceiver
    from jobs.remote.deliver_packages import deliver_packages
    from jobs.remote.hall_returns import write_hall_returns
    from jobs.remote.handover import make_handover_lists
    from jobs.remote.package_intake import load_checklist_form
    from jobs.remote.publish_remote_report import write_remote_report
    from jobs.remote.track_packages import collect_package_events
    from simulators.receivers.receiver_process import ReceiverProcess
    from simulators.remote_db import RemoteDB
    from simulators.remote_module import generate

    tmp = tmp_path_factory.mktemp("remote-outputs")
    module = RemoteDB(f"sqlite:///{tmp / 'platform.db'}")
    module.create()
    ledger = Ledger(f"sqlite:///{tmp / 'ledger.db'}")
    ledger.migrate()
    source = PackageSource(f"sqlite:///{tmp / 'platform.db'}")
    sim = ReceiverProcess(tmp / "receivers.db", {"gateway": "s3cret-remote"})
    sim.start()
    clients: dict = {}

    def receiver_for(destination: str):
        if destination not in clients:
            url = sim.cross_province_url() if destination == "cross_province" else sim.county_url(destination.removeprefix("county_system_"))
            clients[destination] = PackageReceiver(url, "gateway", "s3cret-remote", max_attempts=2, backoff_s=0.01, max_backoff_s=0.05, timeout_s=5)
        return clients[destination]

    try:
        for path in SAMPLES:
            load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
        batch = generate(400, seed=73, start="2025-05-06", end="2025-06-02", defect_rate=0.12, cross_province_rate=0.06)
        load_packages(module, source, ledger, batch, run_id="run-1", as_of=DAY1)
        sim.clock(DAY1)
        sim.packages_mix(mix={"certified": 0.55, "late": 0.08, "refused": 0.08, "correction": 0.14, "silent": 0.15})
        deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY1))
        sim.clock(DAY2)
        collect_package_events(ledger, receiver_for=receiver_for, run_id="run-2", as_of=DAY2, now=utc(DAY2))
        halls = (write_hall_returns(ledger, run_id="run-1", out_dir=tmp / "halls", now=DAY1)
                 | write_hall_returns(ledger, run_id="run-2", out_dir=tmp / "halls", now=DAY2))
        lists = make_handover_lists(ledger, run_id="run-2", today=DAY2.date(), out_dir=tmp / "handover", now=utc(DAY2))
        sim.clock(DAY3)
        collect_package_events(ledger, receiver_for=receiver_for, run_id="run-3", as_of=DAY3, now=utc(DAY3))
        report = write_remote_report(ledger, first=date(2025, 5, 1), last=date(2025, 6, 30), as_of=DAY3, out_dir=tmp / "report")
        yield {"report": report, "halls": halls, "lists": lists, "batch": batch, "tmp": tmp}
    finally:
        for client in clients.values():
            client.close()
        sim.stop()
        for thing in (module, source, ledger):
            thing.dispose()


def test_the_report_page_fits_1366_px_with_its_contents_and_charts(outputs, page_at):
    from tests import viewers

    html = Path(outputs["report"]["html"])
    page = page_at(1366, 900)
    page.goto(html.as_uri())
    page.screenshot(path=str(outputs["tmp"] / "report-1366.png"), full_page=True)
    assert page.blocked == []
    overflow = viewers.horizontal_overflow(page)
    assert overflow["overflow_px"] == 0, overflow

    # Every table cell holds its content: nothing sticks out of its column.
    spilled = page.evaluate(
        """() => [...document.querySelectorAll('td, th')].filter(c => c.scrollWidth > c.clientWidth + 1)
                  .slice(0, 5).map(c => c.textContent)""")
    assert spilled == []
    # A hall's (and a county's) name is on one line, not squeezed into a narrow column.
    names = page.evaluate(
        """() => [...document.querySelectorAll('td.name > .label')].map(el => {
                 const r = document.createRange(); r.selectNodeContents(el);
                 const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                 return [el.textContent, lines.size, el.getBoundingClientRect().width]; })""")
    halls = outputs["batch"].packages["SJDWDM"].nunique()
    assert len(names) >= halls and all(lines == 1 for _, lines, _ in names), [n for n in names if n[1] != 1][:5]

    # 目录: every link lands on a section that is there, with a heading.
    links = page.evaluate("() => [...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))")
    assert len(links) >= 8 and all(h.startswith("#") for h in links)
    for href in links:
        assert page.evaluate(f"() => !!document.getElementById({href[1:]!r}) && !!document.getElementById({href[1:]!r}).querySelector('h2')"), href
    page.click(f"nav a[href='{links[-1]}']")
    assert page.evaluate("() => location.hash") == links[-1]
    assert page.evaluate(f"() => Math.abs(document.getElementById({links[-1][1:]!r}).getBoundingClientRect().top) < 5 || "
                         "window.scrollY + innerHeight >= document.documentElement.scrollHeight - 2")

    # Charts: inline SVG with bars, each labelled; no chart wider than the page.
    charts = page.evaluate("() => [...document.querySelectorAll('figure svg')].map(s => [s.getAttribute('aria-label'), s.querySelectorAll('rect').length, "
                           "s.getBoundingClientRect().right])")
    assert len(charts) >= 3 and all(bars > 3 and right <= 1366 for _, bars, right in charts), charts
    labels = " ".join(label for label, _, _ in charts)
    assert "不动产所在县" in labels and "发证" in labels and "代收大厅" in labels


def test_the_report_page_prints_on_a4_landscape(outputs, page_at, tmp_path, office):
    """Chromium's print (the @page rule and @media print): A4 landscape, and at its printable width — 297 mm less 2 × 12 mm
    margins = 273 mm = 1032 CSS px — nothing wider than the page."""
    from tests import viewers

    html = Path(outputs["report"]["html"])
    page = page_at(1032, 900)
    page.goto(html.as_uri())
    page.emulate_media(media="print")
    overflow = viewers.horizontal_overflow(page)
    assert overflow["overflow_px"] == 0, overflow
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    assert office.pdf_page_size_mm(pdf) == pytest.approx((297, 210), abs=1)
    rows = page.evaluate("() => document.querySelectorAll('tr').length")
    assert office.pdf_pages(pdf) <= math.ceil(rows / 20) + 6  # 20 rows a page at least, and a page per chart


def test_the_report_workbook_prints_within_a_page_bound(outputs, office, tmp_path):
    """LibreOffice prints report.xlsx to PDF; the pages stay within what the rows need on A4 landscape fitted to the width
    (at most 30 rows a page, each sheet starting a page), not a sheet's columns spread over several pages. Needs the
    workbook print setup of jobs/cohandling/publish_report.write_workbook."""
    xlsx = Path(outputs["report"]["xlsx"])
    book = load_workbook(xlsx, read_only=True)
    bound = sum(max(1, math.ceil(sheet.max_row / 30)) for sheet in book.worksheets)
    pages = office.pdf_pages(office.to_pdf(xlsx, tmp_path / "report"))
    assert pages <= bound, (pages, bound)


def test_a_handover_list_workbook_prints_on_a4_landscape_within_a_page_bound(outputs, office, tmp_path):
    lst = max(outputs["lists"], key=lambda x: x["originals"])
    sheet_pdf = office.to_pdf(Path(lst["files"]["xlsx"]), tmp_path / "handover")
    assert office.pdf_page_size_mm(sheet_pdf) == pytest.approx((297, 210), abs=1)
    rows = lst["originals"] + 12  # title, information, heading, signature lines
    assert office.pdf_pages(sheet_pdf) <= math.ceil(rows / 25)


def test_the_handover_pdf_embeds_its_chinese_font_and_is_a4_landscape(outputs, office, tmp_path):
    assert outputs["lists"]
    for lst in outputs["lists"]:
        pdf = Path(lst["files"]["pdf"])
        fonts = office.pdf_fonts(pdf)
        assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
        assert office.pdf_page_size_mm(pdf) == pytest.approx((297, 210), abs=1)
        assert office.pdf_pages(pdf) <= math.ceil(lst["originals"] / 20) + 1
    # What a clerk sees: the Chinese title drawn from the embedded font (pdftotext reads it back).
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "异地代收纸质材料移交清单" in text and lst["list_no"] in text and "接收人（签字）" in text


ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def _outside_brackets(text: str) -> str:
    """The text with codes in brackets (（CODE）, (CODE)) and values quoted as sent (“…”) taken out: what must read as Chinese."""
    while (shorter := re.sub(r"[（(][^（）()]*[）)]|“[^”]*”", "", text)) != text:  # brackets within brackets: innermost first
        text = shorter
    return text


def test_each_hall_return_list_is_titled_with_its_hall_and_reads_in_chinese(outputs):
    from jobs.common.settings import safe_name

    halls = outputs["halls"]
    assert len(halls) >= 3
    names = dict(zip(outputs["batch"].packages["SJDWDM"], outputs["batch"].packages["SJDWMC"]))
    for hall, path in halls.items():
        assert safe_name(hall) in Path(path).name
        sheet = load_workbook(path).active
        title = str(sheet["A1"].value)
        assert "退回清单" in title and names[hall] in title and f"（{hall}）" in title, title
        info = " ".join(str(sheet.cell(row=r, column=1).value or "") for r in range(2, 5))
        assert re.search(r"“run-\d”", info) and re.search(r"截至：2025-06-(03|20) 09:00", info), info
        # The sheet is laid out for print: A4 landscape, fitted to the width, the heading row repeated.
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1 and sheet.print_title_rows
        for row in sheet.iter_rows(min_row=1, values_only=True):
            for value in row:
                if isinstance(value, str) and re.search(r"[\u4e00-\u9fff]", value):  # text a clerk reads (a code or value alone is not)
                    assert not ENGLISH_WORD.search(_outside_brackets(value)), value
                    assert not re.search(r"\d{17}[\dXx]", value), value  # no ID number in clear
                    assert not re.search(r"1[3-9]\d{9}", value), value  # no mobile number in clear

