"""Runs that overlap — the daily run and a backfill of past days (issue 19) — on SQLite and on real
PostgreSQL: two routings of the same held work orders at once never fail on the key (upserts, and
the stage lock makes them take turns), and a routing as of a past day never re-plans live work
orders against the registry of that day."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from datetime import datetime, timedelta

import pandas as pd
import pytest

from connectors.ledger import Ledger
from jobs.cohandling.route_records import route_run
from jobs.registry.form_intake import load_form
from simulators.forms import annex3_lines, late_counties, write_annex3
from simulators.registry import build_registry
from tests.integration.pipeline import AS_OF, routed_ledger

OPENS = (AS_OF + timedelta(days=1)).date()  # the late counties' account mode opens the day after the first run


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_schema_url")()


@pytest.fixture
def routed(ledger_url, tmp_path):
    """A ledger routed as of AS_OF with work orders held for counties that had not applied: (ledger, the held work orders)."""
    ledger = routed_ledger(ledger_url, tmp_path, rows=400, seed=57)
    held = {(w["rowguid"], w["utility"]): w for w in ledger.cohandling.work_orders() if w["status"] == "held"}
    yield ledger, held
    ledger.dispose()


@pytest.fixture
def opening(routed, tmp_path):
    """`routed`, and since then the late counties' Annex 3 (account mode from OPENS): the next routing releases them."""
    ledger, held = routed
    registry = build_registry()
    late = late_counties(registry)
    for city in sorted({code[:4] + "00" for code in late}):
        lines = [line for line in annex3_lines(registry, city, open_dates={x: OPENS.isoformat() for x in late}) if line["xzqh"] in late]
        load_form(ledger, write_annex3(lines, city, tmp_path / f"附件3_{city}.xlsx", letter=False), now=AS_OF + timedelta(hours=4))
    assert len(held) > 5 and {w["reason_code"] for w in held.values()} == {"COUNTY_NOT_APPLIED"}
    return ledger, held


def _released_once(ledger: Ledger, held: dict) -> None:
    orders = pd.DataFrame(ledger.cohandling.work_orders())
    history = pd.DataFrame(ledger.cohandling.work_orders(history=True))
    assert orders.groupby(["rowguid", "utility"]).size().max() == 1 and history.groupby(["rowguid", "utility", "version"]).size().max() == 1
    now = orders.set_index(["rowguid", "utility"])
    assert set(now.loc[list(held), "status"]) == {"ready"}  # released in place, once
    assert (now.loc[list(held), "version"] == pd.Series({k: w["version"] for k, w in held.items()})).all()


def _at_once(*calls):
    """Run the calls in threads started together; re-raise the first error."""
    start, errors, results = threading.Barrier(len(calls)), [], [None] * len(calls)

    def run(i, call):
        try:
            start.wait(30)
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]
    return results


def test_two_runs_routing_the_same_held_work_orders_at_once_both_succeed(opening):
    ledger, held = opening
    as_of = datetime.combine(OPENS, datetime.min.time()).replace(hour=6)
    daily, backfill = _at_once(lambda: route_run(ledger, run_id="scheduled__d2", as_of=as_of),
                               lambda: route_run(ledger, run_id="backfill__d2", as_of=as_of))
    assert sorted([daily.released, backfill.released]) == [0, len(held)]  # one released them, the other found nothing left to do
    _released_once(ledger, held)


def test_without_the_stage_lock_two_routings_still_never_collide_on_the_key(opening, monkeypatch):
    """The issue's failure (`UniqueViolation pk_work_order`, two runs re-planning the same held work orders with
    delete-then-insert) with the lock taken away and both writes forced into the same moment: upserts hold. (On
    PostgreSQL the old delete-then-insert fails exactly so here; SQLite serialises the two transactions.)"""
    from connectors.ledger.workorder_store import WorkOrderStore

    ledger, held = opening
    monkeypatch.setattr(Ledger, "stage_lock", lambda self, name, **kw: nullcontext())
    together, save = threading.Barrier(2), WorkOrderStore.save_work_orders

    def save_together(self, planned, **kw):
        if len(planned):
            together.wait(60)
        return save(self, planned, **kw)

    monkeypatch.setattr(WorkOrderStore, "save_work_orders", save_together)
    as_of = datetime.combine(OPENS, datetime.min.time()).replace(hour=6)
    first, second = _at_once(lambda: route_run(ledger, run_id="scheduled__d2", as_of=as_of),
                             lambda: route_run(ledger, run_id="backfill__d2", as_of=as_of))
    assert first.released == second.released == len(held)  # both planned the release, neither failed
    _released_once(ledger, held)


def test_a_backfill_never_routes_live_work_orders_against_the_registry_of_its_day(routed, monkeypatch):
    ledger, held = routed
    before = {(w["rowguid"], w["utility"]): (w["status"], w["version"]) for w in ledger.cohandling.work_orders()}
    past = datetime(2025, 12, 1, 6)  # the forms took effect in 2026: the registry in force then is empty
    assert len(ledger.registry.registry_at(past)) == 0

    backfill = route_run(ledger, run_id="backfill__2025-12-01", as_of=past)
    assert backfill.work_orders_written == 0  # not one held (or ready) work order re-planned, let alone quarantined
    assert {(w["rowguid"], w["utility"]): (w["status"], w["version"]) for w in ledger.cohandling.work_orders()} == before
    lifted = [a for a in ledger.audit_trail("backfill__2025-12-01") if a["action"] == "clock_lifted"]
    assert len(lifted) == 1 and '"used": "2026-11-20T06:00:00"' in lifted[0]["detail"]

    # What the clock prevents: the same routing as of its own day quarantines what waits.
    import jobs.common.stage_clock as stage_clock

    monkeypatch.setattr(stage_clock, "run_as_of", lambda ledger, clock, as_of, **kw: as_of)
    blind = route_run(ledger, run_id="blind__2025-12-01", as_of=past)
    after = {(w["rowguid"], w["utility"]): w["status"] for w in ledger.cohandling.work_orders()}
    assert blind.work_orders_written >= len(held) and {after[k] for k in held} == {"quarantined"}
