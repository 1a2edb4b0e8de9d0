"""The quarantine list says where each record stands, as the ledger knew it at the list's cutoff: quarantined records
corrected and passed in a later run read 已更正通过（版本2，日期） on a list made after that run, and 仍在隔离 on one made
as of before it (SQLite and PostgreSQL: the window query runs on both)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import openpyxl

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger, utcnow
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.validate_records import validate_run
from simulators.platform import corrections, generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry
from transforms.cohandling.quarantine import HEADINGS, quarantine_list

AS_OF = datetime(2024, 12, 31, 23, 59)


def test_corrected_records_show_as_passed_from_the_run_that_passed_them(db_urls, tmp_path):
    platform_url, ledger_url = db_urls
    registry = build_registry()
    platform, ledger = PlatformDB(platform_url), Ledger(ledger_url)
    platform.create()
    ledger.migrate()
    source = RecordSource(platform_url)
    try:
        batch = generate(400, seed=71, start="2024-06-01", end="2024-12-01", as_of=AS_OF, defect_rate=0.15, registry=registry)
        platform.write(batch)
        extract_changes(source, ledger, run_id="day1")
        validate_run(ledger, run_id="day1", as_of=AS_OF, registry=registry, out_dir=tmp_path / "day1", data_docs=False)
        time.sleep(0.05)
        between = utcnow()
        time.sleep(0.05)
        fixes = corrections(batch, seed=72, registry=registry, fraction=0.5)
        assert len(fixes) > 5
        platform.write(fixes)
        extract_changes(source, ledger, run_id="day2")
        validate_run(ledger, run_id="day2", as_of=AS_OF, registry=registry, out_dir=tmp_path / "day2", data_docs=False)

        before = quarantine_list(ledger.quarantine(known_by=between))
        now = quarantine_list(ledger.quarantine())
    finally:
        for thing in (platform, ledger, source):
            thing.dispose()

    guid, state, status = HEADINGS["rowguid"], HEADINGS["state"], HEADINGS["status"]
    assert len(before) == len(now) > 0  # the same quarantined versions and failures; only their state moved on
    assert set(before[state]) <= {"仍在隔离", "仍在隔离（标识码重复）"}
    fixed = set(fixes["ROWGUID"])
    today = (utcnow() + timedelta(hours=8)).date().isoformat()
    corrected = now[now[guid].isin(fixed) & (now[status] != "标识码重复（隔离）")]
    assert len(corrected) > 0 and set(corrected[state]) == {f"已更正通过（版本2，{today}）"}
    assert set(corrected["记录版本"]) == {1}
    left = now[~now[guid].isin(fixed)]
    assert len(left) > 0 and set(left[state]) <= {"仍在隔离", "仍在隔离（标识码重复）"}
    # the rule's Chinese name beside its id, and no buyer's name whole
    assert (now[HEADINGS["rule_name"]] != "").all()
    assert now.loc[now[HEADINGS["rule_id"]] == "ID_CHECKSUM", HEADINGS["rule_name"]].str.startswith("证件号码校验位错误").all()
    shown_names = now[HEADINGS["zrfxm"]].dropna()
    assert shown_names.str.contains(r"\*").all()
    # the run's own quarantine workbook prints as the reports do: A4 landscape, one page wide, heading row on each page
    sheet = openpyxl.load_workbook(tmp_path / "day1" / "quarantine.xlsx")["隔离清单"]
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.fitToWidth) == 1 and sheet.print_title_rows == "$1:$1"
    assert [c.value for c in sheet[1]] == list(HEADINGS.values())
