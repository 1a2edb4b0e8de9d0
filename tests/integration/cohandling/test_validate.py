"""Validation against the ledger on SQLite and PostgreSQL: nothing lost, corrections flow on."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.validate_records import validate_run
from simulators.platform import corrections, generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry

AS_OF = datetime(2024, 12, 31, 23, 59)


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def test_runs_account_for_every_record_and_corrections_replace_quarantined_ones(db_urls, registry, tmp_path):
    platform_url, ledger_url = db_urls
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = RecordSource(platform_url)
    batch = generate(2000, seed=31, start="2024-06-01", end="2024-12-01", as_of=AS_OF, defect_rate=0.1, registry=registry)
    platform.write(batch)
    extract_changes(source, ledger, run_id="day1")
    first = validate_run(ledger, run_id="day1", as_of=AS_OF, registry=registry, out_dir=tmp_path / "day1", data_docs=False)
    assert first.records_in == 2000 == first.passed + first.partial + first.quarantined
    assert first.quarantined > 100 and first.partial > 0

    again = validate_run(ledger, run_id="day1", as_of=AS_OF, registry=registry, out_dir=tmp_path / "day1", data_docs=False)
    assert again == first  # a re-run of the same interval changes nothing
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM record_verdict").scalar_one() == 2000

    fixes = corrections(batch, seed=32, registry=registry)
    platform.write(fixes)
    extract_changes(source, ledger, run_id="day2")
    second = validate_run(ledger, run_id="day2", as_of=AS_OF, registry=registry, out_dir=tmp_path / "day2", data_docs=False)
    assert second.records_in == len(fixes) == second.passed
    with ledger.engine.connect() as conn:
        states = dict(conn.exec_driver_sql("SELECT status, count(*) FROM record_state GROUP BY status").fetchall())
        fixed = conn.exec_driver_sql("SELECT count(*) FROM record_state WHERE status = 'passed' AND run_id = 'day2'").scalar_one()
    assert fixed == len(fixes)
    left = batch[batch["defect"].isin(["unknown_county"])]
    assert states.get("quarantined", 0) == len(left)  # only what was not corrected stays in quarantine
    # every ROWGUID that entered has a state: nothing lost
    assert sum(states.values()) == batch["ROWGUID"].nunique()

    listing = pd.read_csv(first.quarantine_csv, encoding="utf-8-sig", dtype=str)
    assert "问题说明" in listing.columns and "买方证件号码(ZRFZJHM，已脱敏)" in listing.columns
    # An institution code (a company's USCC, e.g. 913706145941X799N7) is no personal data and is
    # shown whole; its digits may happen to look like a mobile (13706145941).
    personal = listing.loc[~listing["规则编号"].str.startswith("INSTITUTION_"), "原始值（已脱敏）"]
    shown = pd.concat([listing["买方证件号码(ZRFZJHM，已脱敏)"], listing["买方联系电话(ZRFLXDH，已脱敏)"], personal]).dropna()
    assert not shown.str.contains(r"\d{17}[\dXx]|1[3-9]\d{9}", regex=True).any()  # no whole ID or mobile shown
    assert shown.str.contains(r"\*").any()
    assert set(listing["规则编号"]) >= {"ID_CHECKSUM", "PHONE", "ROWGUID_DUPLICATE", "ACCOUNT_INSTITUTION"}
    for thing in (platform, ledger, source):
        thing.dispose()
