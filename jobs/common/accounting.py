"""The lifetime balance over the whole ledger, after every run (transforms/common/balance.py has the
arithmetic, connectors/ledger/balance_store.py the reads).

`lifetime_balance` counts, per surface — exchange changes, work orders, remote packages,
registry forms, checklist forms, result files, results-feed entries, package events, and
every surface's open dead letters — each unit in exactly one state, and checks that
received = final + waiting + due + quarantined + dead-lettered against an independent count.
A unit the gateway owes a step (due) for longer than the surface's stale age is stale.

`check_balance` is the `balance` task at the end of cohandling_daily, cohandling_results and
remote_collection: it records the balance in the audit log and raises `BalanceError` — the
task fails, with the counts per surface and the oldest stale units (identifiers masked) in
its message — when the balance does not hold or anything is stale.

The stale age: `GATEWAY_BALANCE_STALE_HOURS` (default 48), per surface
`GATEWAY_BALANCE_STALE_HOURS_<SURFACE>` (e.g. `..._WORK_ORDER=72`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=2)
OLDEST_SHOWN = 5  # stale units listed per surface


class BalanceError(RuntimeError):
    """The lifetime balance does not hold, or units are stale: the message says where."""


def stale_after(surface: str, default: timedelta | None = None) -> timedelta:
    """How long a unit of `surface` may stay due: the surface's setting, else the general one, else 2 days."""
    for name in (f"GATEWAY_BALANCE_STALE_HOURS_{surface.upper()}", "GATEWAY_BALANCE_STALE_HOURS"):
        value = os.environ.get(name)
        if value:
            try:
                hours = float(value)
            except ValueError:
                raise ValueError(f"{name}={value!r}: a number of hours is expected") from None
            if not 0 < hours < 24 * 3650:
                raise ValueError(f"{name}={value!r}: hours between 0 and 87600 are expected")
            return timedelta(hours=hours)
    return default or STALE_AFTER


def lifetime_balance(ledger: Ledger, *, now: datetime | None = None, stale: Mapping[str, timedelta] | timedelta | None = None):
    """The balance of every surface at `now` (UTC, naive; default the clock). `stale`: one age for all
    surfaces, or per surface (others from the settings)."""
    from connectors.ledger.balance_store import BALANCE_SURFACES
    from transforms.common.balance import LifetimeBalance, StateCount, dead_letter_surfaces, due_states, stale_unit, surface_balance

    now = now or utcnow()
    dead = dead_letter_surfaces({s: c.get("open", 0) for s, c in ledger.dead_letter_counts().items()})
    surfaces, oldest = [], []
    for name in (*BALANCE_SURFACES, *sorted(set(dead) - set(BALANCE_SURFACES))):
        age = stale if isinstance(stale, timedelta) else (stale or {}).get(name) or stale_after(name)
        if name in BALANCE_SURFACES:
            totals, rows = ledger.balance_counts(name, stale_before=now - age)
            states = {k: StateCount(n, first, old) for k, (n, first, old) in rows.items()}
        else:  # a surface only the dead letters know
            totals, states = {"received": 0}, {}
        balance = surface_balance(name, totals=totals, states=states, dead_lettered=dead.get(name, 0), stale_after=age)
        surfaces.append(balance)
        if balance.stale:
            stale_states = [s for s in due_states(name, states) if states[s].stale]
            oldest += [stale_unit(name, row) for row in ledger.balance_oldest(name, states=stale_states, before=now - age, limit=OLDEST_SHOWN)]
    return LifetimeBalance(now, surfaces, oldest)


def check_balance(ledger: Ledger, *, run_id: str | None = None, now: datetime | None = None, stale: Mapping[str, timedelta] | timedelta | None = None):
    """The balance task: compute, record in the audit log, and raise BalanceError unless it holds with nothing stale."""
    report = lifetime_balance(ledger, now=now, stale=stale)
    detail = report.summary()
    for s in report.surfaces:
        if s.problems:
            detail["surfaces"][s.surface]["problems"] = s.problems
    ledger.audit(run_id=run_id, actor="balance", action="balance_checked", object_type="ledger", object_id=None, detail=detail)
    text = report.text()
    if not report.ok:
        log.error("%s", text)
        raise BalanceError(text)
    log.info("%s", text)
    return report
