"""Runs that overlap: which ledger lock each stage holds, and the clocks that never go back.

**Locks.** Any mix of runs — scheduled, manual, a backfill of past days (Airflow gives backfills
their own max_active_runs), on any number of workers and hosts — may reach the same stage at
once. Each stage that writes rows another run's same or other stage could write holds one ledger
lock for its whole work (connectors/ledger/lock_store.py: a PostgreSQL advisory lock, or a lease
on SQLite), waiting at most `settings.lock_wait_s()` — 30 minutes, 20 for collect_results, 10 for
remote collection's stages and the inboxes: each below its task's execution timeout, so a long
wait ends with the holder named (LockTimeout), not with Airflow's timeout; $GATEWAY_LOCK_WAIT_S
sets them all:

| lock | held by |
|---|---|
| `extract:<source>` | jobs/common/incremental.run_batch: both lines' extracts, per change table |
| `cohandling.validate:<source>`, `cohandling.route`, `cohandling.deliver` | the daily push's stages (`cohandling.deliver` also a replay of a batch or work order, jobs/common/replay.py) |
| `cohandling.results` | collect_results (drop inboxes, feed cursors, outcomes, SMS queue) |
| `cohandling.remind` | remind_overdue (the week's reminders: planned once, each sent once) |
| `remote.validate:<source>`, `remote.deliver`, `remote.statuses`, `remote.handover` | remote collection's stages (`remote.deliver` also a package replay) |
| `inbox:<surface>` | jobs/common/inbox.load_inbox (registry forms, checklist forms: one loader per inbox, whichever host) |

Not locked: reports, hall return lists and the balance only read (each read is one statement or
one snapshot); their files are written by rename.

**Clocks.** Everything a stage decides by the run's day — the registry in force for validation and
routing, a DBSJ or a result "in the future", batch names, handover periods — concerns the live
state in the ledger, which already holds what newer runs did. So each flow keeps a clock in the
ledger (`stage_clock`): the newest as-of any of its stages has run with. A stage runs as of
max(its run's as-of, the clock) and moves the clock forward when its as-of is newer. A run as of an
older time (a backfill, a past "as of") is lifted to the clock — one warning line and an audit
row (`clock_lifted`: asked, used) — and still does its work (what is due comes from the ledger,
whichever run it was for), but never against a past registry or calendar: a backfill can no
longer quarantine held work orders by routing them against the registry of its day. A run as
of a future time (the demo's "ten days later") moves the clock there; later runs go by it until
the wall clock passes it.

| clock | stages |
|---|---|
| `cohandling` | extract moves it to its run's cut-off `until` once that has passed (its reading window keeps its own `until`: the watermark guards that, jobs/common/incremental.py); validate, route and deliver (`day`) run as of it |
| `cohandling.results` | collect_results (`as_of`: a result time after it is refused as in the future) |
| `remote` | checklist forms loaded with a `now`, extract (moves it), validate, deliver (`now`), statuses (`as_of`), handover (`today`) |

Registry forms go by the wall clock (or the `now` a caller passes): they have no clock.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from connectors.ledger import Ledger

log = logging.getLogger(__name__)

LOCAL = ZoneInfo("Asia/Shanghai")  # the clocks are Shandong local time, as DBSJ, deadlines and report days are


def local_from_utc(moment: datetime) -> datetime:
    """Naive UTC as naive Shandong local time."""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL).replace(tzinfo=None)


def utc_from_local(moment: datetime) -> datetime:
    """Naive Shandong local time as naive UTC."""
    return moment.replace(tzinfo=LOCAL).astimezone(UTC).replace(tzinfo=None)


def run_as_of(ledger: Ledger, clock: str, as_of: datetime, *, run_id: str | None, stage: str) -> datetime:
    """The time stage `stage` runs as: max(`as_of`, the clock `clock`), local; the clock moves forward to `as_of`."""
    used, before = ledger.advance_clock(clock, as_of, run_id=run_id)
    if used > as_of:
        _lifted(ledger, clock, as_of, used, before, run_id=run_id, stage=stage)
    return used


def _lifted(ledger: Ledger, clock: str, asked, used, before, *, run_id: str | None, stage: str) -> None:
    log.warning("%s %s: as of %s is before the %s clock (%s): runs as of %s (a backfill or a past 'as of' never goes back)",
                stage, run_id, f"{asked:%Y-%m-%d %H:%M}", clock, f"{before:%Y-%m-%d %H:%M}", f"{used:%Y-%m-%d %H:%M}")
    ledger.audit(run_id=run_id, actor=stage, action="clock_lifted", object_type="stage_clock", object_id=clock,
                 detail={"asked": asked.isoformat(), "used": used.isoformat()})


def run_as_of_utc(ledger: Ledger, clock: str, at: datetime, *, run_id: str | None, stage: str) -> datetime:
    """`run_as_of` for a stage that keeps time in UTC (naive in, naive out)."""
    return utc_from_local(run_as_of(ledger, clock, local_from_utc(at), run_id=run_id, stage=stage))


def run_day(ledger: Ledger, clock: str, day: date, *, run_id: str | None, stage: str) -> date:
    """`run_as_of` for a stage that goes by a day: the clock's day when `day` is before it."""
    used, before = ledger.advance_clock(clock, datetime.combine(day, time()), run_id=run_id)
    if used.date() > day:
        _lifted(ledger, clock, day, used.date(), before, run_id=run_id, stage=stage)
    return max(used.date(), day)


def advance(ledger: Ledger, clock: str, at_utc: datetime, *, run_id: str | None) -> None:
    """Move `clock` forward to `at_utc` (UTC) without lifting anything (an extract's cut-off: what it received is as of then)."""
    ledger.advance_clock(clock, local_from_utc(at_utc), run_id=run_id)
