"""Stages work from the ledger's state, not from their run — on SQLite and on real PostgreSQL.

A run that fails after `extract` (a crash, retries exhausted, a kill) leaves its changes
received but not validated, or validated but not routed. The next run — with nothing new of
its own — takes them: validation takes every change received and not yet validated, routing
every version in force not yet routed, the remote line every package version received and
not yet validated, whichever run brought them, in change order and in pages (a backlog is
worked through in chunks, nothing skipped). Afterwards the lifetime balance holds with
nothing left due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry, load_form
from simulators.platform import corrections, generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted(p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file())
REMOTE_SAMPLES = sorted((ROOT / "forms" / "samples" / "remote").iterdir())
AS_OF = datetime(2026, 11, 20, 6)


class Injected(RuntimeError):
    """The fault a test injects into a stage."""


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture
def daily(db_urls, tmp_path, registry):
    """(platform, source, ledger) with the sample forms loaded."""
    platform_url, ledger_url = db_urls
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for form in SAMPLES:
        load_form(ledger, form, now=datetime(2026, 1, 1))
    source = RecordSource(platform_url)
    yield platform, source, ledger
    for thing in (platform, source, ledger):
        thing.dispose()


def _validate(ledger, run_id: str, tmp_path: Path, **kw):
    return validate_run(ledger, run_id=run_id, as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp_path / run_id, data_docs=False, **kw)


def _fail_once(monkeypatch, cls, name: str) -> list[int]:
    """Make `cls.name` raise on its first call only (the way a crash stops a task); returns the call count."""
    calls = [0]
    original = getattr(cls, name)

    def failing(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 1:
            raise Injected(f"{name} failed (injected)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, failing)
    return calls


def _verdicts(ledger) -> dict[int, tuple[str, str]]:
    with ledger.engine.connect() as conn:
        return {int(r[0]): (r[1], r[2]) for r in conn.exec_driver_sql("SELECT change_seq, status, blocked FROM record_verdict")}


def _expected_work_orders(ledger) -> int:
    with ledger.engine.connect() as conn:
        states = pd.read_sql("SELECT s.status, v.requested FROM record_state s JOIN record_verdict v ON v.source = s.source AND v.change_seq = s.change_seq", conn)
    wanted = states[states["status"].isin(["passed", "partial"])]
    return sum(len(r.split(",")) for r in wanted["requested"] if r)


def _assert_nothing_due(ledger) -> None:
    from jobs.common.accounting import lifetime_balance

    report = lifetime_balance(ledger, now=datetime(2026, 11, 20))
    assert report.holds, report.text()
    changes = report.surface("exchange_change")
    assert changes.states.get("unvalidated", 0) == 0 and changes.states.get("unrouted", 0) == 0, report.text()


def test_the_next_run_validates_and_routes_what_a_run_left_after_extract(daily, tmp_path, monkeypatch):
    platform, source, ledger = daily
    platform.write(generate(240, seed=61, start="2026-10-01", end="2026-11-19", as_of=AS_OF, defect_rate=0.1, registry=build_registry()))
    extract_changes(source, ledger, run_id="r1")
    # Run 1's validate task fails (its retries too): nothing of it is saved.
    from connectors.ledger import Ledger as LedgerClass

    _fail_once(monkeypatch, LedgerClass, "save_validation")
    with pytest.raises(Injected):
        _validate(ledger, "r1", tmp_path)
    monkeypatch.undo()
    assert _verdicts(ledger) == {}

    # Run 2 extracts nothing new, and still validates and routes every change run 1 received.
    assert extract_changes(source, ledger, run_id="r2").rows_new == 0
    validated = _validate(ledger, "r2", tmp_path)
    assert len(_verdicts(ledger)) == 240
    assert validated.records_in == 240 == validated.passed + validated.partial + validated.quarantined + validated.withdrawn
    assert validated.carried_over == 240
    assert Path(validated.quarantine_csv).exists() and len(ledger.quarantine("r2")) > 0  # run 2's list holds what run 2 validated
    routed = route_run(ledger, run_id="r2", as_of=AS_OF)
    assert len(ledger.cohandling.work_orders()) == _expected_work_orders(ledger) > 200
    assert routed.records > 200 and routed.carried_over == 0  # run 2 validated them itself
    _assert_nothing_due(ledger)

    # Nothing is taken twice: a third run finds nothing due.
    assert _validate(ledger, "r3", tmp_path).records_in == 0
    assert route_run(ledger, run_id="r3", as_of=AS_OF).work_orders_written == 0


def test_the_next_run_routes_what_a_failed_route_left(daily, tmp_path, monkeypatch):
    platform, source, ledger = daily
    platform.write(generate(200, seed=62, start="2026-10-01", end="2026-11-19", as_of=AS_OF, defect_rate=0.05, registry=build_registry()))
    extract_changes(source, ledger, run_id="r1")
    assert _validate(ledger, "r1", tmp_path).records_in == 200
    from connectors.ledger.lines import CohandlingLedger

    _fail_once(monkeypatch, CohandlingLedger, "save_work_orders")
    with pytest.raises(Injected):
        route_run(ledger, run_id="r1", as_of=AS_OF)
    monkeypatch.undo()
    assert ledger.cohandling.work_orders() == []

    extract_changes(source, ledger, run_id="r2")
    assert _validate(ledger, "r2", tmp_path).records_in == 0  # nothing new to validate
    routed = route_run(ledger, run_id="r2", as_of=AS_OF)
    assert len(ledger.cohandling.work_orders()) == _expected_work_orders(ledger) > 150
    assert routed.carried_over == routed.records > 150
    _assert_nothing_due(ledger)


def test_a_backlog_is_worked_in_pages_with_the_same_outcome_as_in_one_go(db_urls, tmp_path, registry):
    """Pages of 37 changes (corrections and duplicates across page borders) give exactly the verdicts,
    record states and work orders one page gives; every page's records are counted once."""
    platform_url, ledger_url = db_urls
    platform = PlatformDB(platform_url)
    platform.create()
    batch = generate(180, seed=63, start="2026-10-01", end="2026-11-19", as_of=AS_OF, defect_rate=0.15, registry=registry)
    platform.write(batch)
    platform.write(corrections(batch, seed=64, registry=registry))
    outcomes = []
    for name, page in (("whole", 100_000), ("paged", 37)):
        url = ledger_url if name == "paged" else f"sqlite:///{tmp_path / 'whole.db'}"
        ledger = Ledger(url)
        ledger.migrate()
        for form in SAMPLES:
            load_form(ledger, form, now=datetime(2026, 1, 1))
        extract_changes(RecordSource(platform_url), ledger, run_id="r1")
        result = validate_run(ledger, run_id="r1", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp_path / name,
                              data_docs=False, page_size=page)
        routed = route_run(ledger, run_id="r1", as_of=AS_OF, page_size=page)
        with ledger.engine.connect() as conn:
            states = sorted(map(tuple, conn.exec_driver_sql("SELECT rowguid, change_seq, status, blocked FROM record_state").fetchall()))
        orders = sorted((w["rowguid"], w["utility"], w["version"], w["status"], w["change_seq"]) for w in ledger.cohandling.work_orders())
        outcomes.append((_verdicts(ledger), states, orders, result.records_in, result.passed, result.quarantined, routed.records))
        if name == "paged":
            _assert_nothing_due(ledger)
        ledger.dispose()
    whole, paged = outcomes
    assert paged == whole
    assert whole[3] == platform.count() > len(batch)  # the corrections too
    platform.dispose()


def test_the_next_remote_run_validates_and_delivers_what_a_run_left(remote_flow, tmp_path, monkeypatch):
    from connectors.ledger.lines import RemoteLedger
    from jobs.remote.deliver_packages import deliver_packages
    from jobs.remote.package_intake import extract_packages, load_checklist_form, validate_packages
    from simulators.remote_module import generate as generate_packages
    from tests.integration.conftest import utc

    module, source, ledger, sim, receiver_for = remote_flow
    for path in REMOTE_SAMPLES:
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    as_of = datetime(2025, 6, 3, 9, 0)
    module.write(generate_packages(120, seed=81, start="2025-05-06", end="2025-06-02", defect_rate=0.1))
    extract_packages(source, ledger, run_id="p1", until=utc(as_of) + timedelta(days=3650))
    _fail_once(monkeypatch, RemoteLedger, "save_remote_verdicts")
    with pytest.raises(Injected):
        validate_packages(ledger, run_id="p1", as_of=as_of)
    monkeypatch.undo()
    assert ledger.remote.remote_verdicts() == []

    assert extract_packages(source, ledger, run_id="p2", until=utc(as_of) + timedelta(days=3650))["new"] == 0
    monkeypatch.setattr("jobs.remote.package_intake.PAGE_SIZE", 25, raising=False)  # in pages of 25
    two = validate_packages(ledger, run_id="p2", as_of=as_of)
    monkeypatch.undo()
    assert len(ledger.remote.remote_verdicts()) == 120 and len(ledger.remote.remote_returns("p2")) > 0
    assert two["packages_in"] == 120 == two["passed"] + two["returned"] + two["withdrawn"] and two["carried_over"] == 120
    sent = deliver_packages(ledger, source, run_id="p2", receiver_for=receiver_for, now=utc(as_of))
    assert sent["planned"] == two["passed"] and sent["delivered"] == two["passed"]
    assert validate_packages(ledger, run_id="p3", as_of=as_of)["packages_in"] == 0

    from jobs.common.accounting import lifetime_balance

    report = lifetime_balance(ledger, now=utc(as_of))
    assert report.holds, report.text()
    packages = report.surface("remote_package")
    assert packages.received == 120 and packages.states.get("unvalidated", 0) == 0 and packages.states.get("to_deliver", 0) == 0, report.text()
