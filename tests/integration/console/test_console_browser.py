"""The console in a real headless Chromium (offline): a province auditor, a city supervisor and an institution sign in;
the auditor filters the overdue list; the institution downloads its work orders, records one result, uploads a file
with one bad row (the good row counts, the bad one is reported) and cannot reach another institution's work order by
URL. With CONSOLE_SCREENSHOTS=docs/screenshots set, the main pages are saved there as console-*.png."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def served(world):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def shot(page, name: str) -> None:
    """Saved for a look (and into $CONSOLE_SCREENSHOTS); the page never needs a horizontal scroll bar (wide tables scroll inside)."""
    from tests import viewers

    assert viewers.horizontal_overflow(page)["overflow_px"] <= 0, (name, viewers.horizontal_overflow(page))
    page.screenshot(path=str(Path(os.environ.get("CONSOLE_SHOT_DIR", "/tmp")) / f"console-{name}.png"), full_page=False)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"console-{name}.png"), full_page=False)


def sign_in(page, base: str, user: str) -> None:
    from tests.integration.console.conftest import PASSWORD

    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD.format(user))
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_the_auditor_filters_the_overdue_list(world, served, page_at):
    page = page_at()
    sign_in(page, served, "auditor")
    assert "省级" in page.inner_text("header")
    shot(page, "home-province")
    page.click("text=超期清单（公示）")
    everything = int(page.inner_text("#total"))
    now = world.current()
    assert everything == int((now["status"] == "overdue").sum())
    county = world.ids["county"]
    page.select_option("select[name=county]", county)
    page.click("#filters button[type=submit]")
    page.wait_for_url(f"**county={county}**")
    expected = now[(now["status"] == "overdue") & (now["xzqh"] == county)]
    assert int(page.inner_text("#total")) == len(expected) < everything
    assert page.locator("#overdue tr").count() == len(expected) + 1
    shot(page, "overdue")
    first = page.locator("#overdue a[href*='/trace?key=']").first  # each line's platform number traces its record
    ycywh = first.inner_text()
    first.click()
    page.wait_for_url(f"**/trace?key={ycywh}")
    from jobs.common.trace import trace

    expected_trail = trace(world.ledger, ycywh, as_of=world.clock[0])
    assert int(page.inner_text("#trace-count")) == len(expected_trail.events) == page.locator("#trail tr[data-stage]").count()
    assert page.locator("#trail tr[data-stage='overdue']").count() >= 1
    shot(page, "trace")
    page.goto(served + "/quarantine")
    shot(page, "quarantine")
    assert page.blocked == []


def test_an_institution_traces_its_order_and_sees_only_its_part(world, served, page_at):
    page = page_at()
    sign_in(page, served, "inst_a")
    page.fill("input[name=key]", world.ids["rowguid_a"])
    page.click("form.box button[type=submit]")
    page.wait_for_url("**/trace?key=*")
    stages = {page.locator("#trail tr[data-stage]").nth(i).get_attribute("data-stage") for i in range(page.locator("#trail tr[data-stage]").count())}
    assert {"work_order", "delivery"} <= stages and not stages & {"received", "validated", "quarantine"}
    response = page.goto(served + f"/trace?key={world.ids['rowguid_b']}")
    assert response.status == 404 and "未找到" in page.inner_text("main")
    assert page.blocked == []


def test_the_city_supervisor_sees_the_city_only(world, served, page_at):
    page = page_at()
    sign_in(page, served, "city")
    assert "市级监督" in page.inner_text("header")
    mine = world.visible("city")
    assert page.locator("table").nth(1).locator("tr").count() == mine["xzqh"].nunique() + 1  # one line per county of the city
    shot(page, "home-city")
    page.click(f"a[href='/counties/{world.ids['county']}']")
    assert world.ids["county"] in page.inner_text("h1")
    shot(page, "county")
    response = page.goto(served + f"/counties/{world.ids['other_county']}")
    assert response.status == 404 and "不在您的权限范围内" in page.inner_text("main")


@pytest.fixture
def delivery_day(world):
    """The console's clock on the day of delivery for one test: the board's work orders are new, not overdue."""
    from console.app import local_now

    before = world.clock[0]
    world.clock[0] = local_now() + timedelta(hours=1)
    yield
    world.clock[0] = before


def test_the_institution_downloads_records_uploads_and_cannot_reach_anothers_order(world, served, page_at, tmp_path, delivery_day):
    page = page_at()
    sign_in(page, served, "inst_a")
    page.click("text=本单位工单 (board)")
    assert page.locator("table.orders[data-section=delivered] a").count() >= 3  # delivered today: new, none overdue
    assert page.locator("table.orders[data-section=overdue] a").count() == 0
    shot(page, "board")
    with page.expect_download() as download:
        page.click("#dl-xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    import openpyxl

    rows = list(openpyxl.load_workbook(saved).worksheets[0].iter_rows(min_row=3, values_only=True))
    keys = sorted(r[0] for r in rows)
    assert len(keys) >= 3
    first, good, bad = keys[:3]

    rowguid, utility, version = first.split(":")
    page.click(f"a[href='/board/orders/{rowguid}/{utility}/{version}']")
    page.select_option("select[name=JGDM]", "0000")
    page.fill("input[name=BLR]", "张工")
    page.click("#record button[type=submit]")
    assert "结果已记录" in page.inner_text("#record-result")
    shot(page, "order")

    when = world.clock[0].strftime("%Y-%m-%d %H:%M")
    upload = tmp_path / "results.csv"
    upload.write_text(f"GDBH,JGDM,JGSM,BLSJ,BLR\n{good},0000,,{when},李工\n{bad},0000,,2020-13-45,李工\n", encoding="utf-8")
    page.goto(served + "/board")
    page.set_input_files("input[name=file]", str(upload))
    page.click("form[action='/board/upload'] button")
    assert page.inner_text("#accepted") == "1" and page.inner_text("#refused") == "1"
    problems = page.inner_text("#problems")
    assert "RESULT_BAD_DATE" in problems and "\t3\t" in "\t" + problems.replace("\n", "\t") + "\t"
    shot(page, "upload")

    response = page.goto(served + f"/board/orders/{world.ids['order_b']}")
    assert response.status == 404 and world.ids["order_b"].split("/")[0] not in page.content()
    assert page.blocked == []
