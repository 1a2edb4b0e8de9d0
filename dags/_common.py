"""What every DAG file shares: the DAG defaults, the task defaults, the run's clock, the pools
and priorities, and the ledger.

Not a DAG (no `dag_id` here). Imported by the DAG files at parse time, so it builds small
values only: connectors and jobs are imported inside the functions that tasks call.

**The ledger's schema is migrated once, not by tasks.** A deployment brings it to the newest
migration before the scheduler (re)starts, beside Airflow's own metadata migration:

    airflow db migrate                                  # Airflow's metadata database
    python -m tools.cli db upgrade --conn-id gateway_ledger   # the gateway ledger (idempotent)

(`--ledger URL` instead of `--conn-id` outside Airflow). No task runs migrations, so runs of
different DAGs never race on the schema, and a task never alters tables under another one.
`make run` (tools/demo.py) and the DAG tests (tests/dags) run the same command first.

**The run's clock** (`clock(context)`, every task): the DAG param `as_of` when given — an ISO
date or date-time, Asia/Shanghai unless it carries an offset (`2026-03-15` is that day's
00:00) — else the run's data interval (scheduled runs, backfills, manual runs with a logical
date), else the time the run was triggered (an Airflow 3 manual run without a logical date
has no data interval). Its `end` is the cut-off, where a task used `data_interval_end`; its
`start` the interval's start, or one day before `end` (a report's day is `start`'s date:
the day before as_of's date). A malformed as_of fails the task, without retries, naming
the value; the DAG's first task meets it first. Forms are still dated when loaded (never
back-dated by as_of); the balance and delivery times are never earlier than the wall clock.

**Pools** (deploy/pools.json, `airflow pools import deploy/pools.json` at deploy): one per
external system, so its limit holds across workers; a task sits in the pool of the system it
talks to. `dag.test()` ignores pools, so `make run` and the DAG tests need none.
**Priority**: absolute weights — the daily push first, then the hourly lines, then reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from jobs.common.alerts import on_failure

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.ledger import Ledger

log = logging.getLogger("dags.clock")

TIMEZONE = "Asia/Shanghai"  # Shandong local time: DBSJ, deadlines, reports and schedules are in it

# Every DAG: no back-filling of missed intervals (each run takes what is due from the ledger),
# one run at a time (runs share watermarks and cursors), the failure logged and audited.
DAG_DEFAULTS = {
    "start_date": pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    "catchup": False,
    "max_active_runs": 1,
    "on_failure_callback": on_failure,
}

# Pools, one per external system (deploy/pools.json holds their slots; tests/dags checks the two agree).
POOL_GRID = "gateway_grid"  # the grid's marketing API: 1 slot — its rate limit is per client process, so one task at a time
POOL_COUNTIES = "gateway_counties"  # the county systems' HTTP endpoints (work orders, results feeds, packages)
POOL_DROPS = "gateway_sftp_drops"  # the institutions' SFTP drops
POOL_PLATFORM = "gateway_platform_db"  # the platform's exchange database (read-only extraction)

# Priority weights (weight_rule "absolute": a task's weight is exactly this, whatever its place in the graph).
PRIORITY_PUSH = 100  # cohandling_daily: the day's work orders go out first
PRIORITY_LINES = 50  # the hourly lines (results, remote collection) and the registry inbox
PRIORITY_REPORTS = 10  # reports and the calendar check: they can wait for a free slot

AS_OF = "as_of"


def params() -> dict[str, Param]:
    """Every DAG's params: `as_of`, the run's clock (a fresh Param per DAG: a Param holds its value)."""
    return {AS_OF: Param(
        None, type=["null", "string"], title="as of (Asia/Shanghai)",
        description="The run's clock: an ISO date or date-time in Asia/Shanghai (2026-03-15, 2026-03-15T06:00, or with an offset). "
                    "Empty: the run's data interval, or the trigger time. A report covers the day before as_of's date.",
    )}


def default_args(*, execution_timeout: timedelta, priority: int, retries: int | None = None, retry_delay: timedelta | None = None, **more) -> dict:
    """Task defaults: a timeout, the failure callback and an absolute priority on every task, no returned dict dumped into the log; retries only
    where a DAG asks for them."""
    args: dict = {"execution_timeout": execution_timeout, "on_failure_callback": on_failure, "priority_weight": priority, "weight_rule": "absolute",
                  "show_return_value_in_logs": False}  # the XCom stays a dict; the job logs its outcome in one line (jobs/common/outcomes.py)
    if retries is not None:
        args["retries"] = retries
    if retry_delay is not None:
        args["retry_delay"] = retry_delay
    return args | more


@dataclass(frozen=True)
class Clock:
    """A run's clock: `end` the cut-off, `start` the interval's start (or a day before `end`), both aware; `source` what set it."""

    start: pendulum.DateTime
    end: pendulum.DateTime
    source: str  # "as_of", "data interval", "trigger time" or "wall clock"

    def local(self) -> datetime:
        """The cut-off as naive Shandong local time."""
        return local(self.end)

    def utc(self) -> datetime:
        """The cut-off as naive UTC."""
        return utc(self.end)

    def day(self) -> date:
        """The day a daily report covers: the local date of `start` (the day before the cut-off's)."""
        return local(self.start).date()


def clock(context: Mapping[str, Any]) -> Clock:
    """The run's clock from a task's context (`**context`): the `as_of` param, else the data interval, else the trigger time.

    A malformed as_of raises AirflowFailException (the task fails without retrying)."""
    raw = (context.get("params") or {}).get(AS_OF)
    as_of = parse_as_of(raw)
    interval_start, interval_end = context.get("data_interval_start"), context.get("data_interval_end")
    dag_run = context.get("dag_run")
    if as_of is not None:
        now = Clock(as_of - timedelta(days=1), as_of, "as_of")
    elif interval_end is not None:
        end = _aware(interval_end)
        now = Clock(_aware(interval_start) if interval_start is not None else end - timedelta(days=1), end, "data interval")
    elif getattr(dag_run, "run_after", None) is not None:
        end = _aware(dag_run.run_after)
        now = Clock(end - timedelta(days=1), end, "trigger time")
    else:  # no run at all (a task's callable called directly)
        end = pendulum.now("UTC")
        now = Clock(end - timedelta(days=1), end, "wall clock")
    log.info("the run's clock: %s Asia/Shanghai (from the %s)", now.end.in_timezone(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S"), now.source)
    return now


def parse_as_of(value: Any) -> pendulum.DateTime | None:
    """`as_of` as an aware time (naive input is Asia/Shanghai); None when not given (null or blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if not isinstance(value, str):
            raise TypeError(f"a {type(value).__name__}, not a string")
        moment = datetime.fromisoformat(value.strip())
    except (TypeError, ValueError) as exc:
        raise AirflowFailException(
            f"as_of 参数无效 / invalid DAG param as_of={value!r}: not an ISO date or date-time ({exc}). "
            f"Give e.g. 2026-03-15 or 2026-03-15T06:00 (Asia/Shanghai unless an offset is given), or leave it empty "
            f"for the run's data interval; then trigger the run again."
        ) from None
    return pendulum.instance(moment, tz=TIMEZONE) if moment.tzinfo is None else pendulum.instance(moment).in_timezone(TIMEZONE)


def _aware(moment) -> pendulum.DateTime:
    return moment if isinstance(moment, pendulum.DateTime) else pendulum.instance(moment)


def local(moment) -> datetime:
    """A pendulum time as naive Shandong local time (DBSJ, deadlines and report days are local)."""
    return moment.in_timezone(TIMEZONE).naive()


def utc(moment) -> datetime:
    """A pendulum time as naive UTC (the exchange database's and the ledger's clock)."""
    return moment.in_timezone("UTC").naive()


def ledger() -> Ledger:
    """The gateway ledger, from its Airflow Connection (`gateway_ledger`)."""
    from connectors.ledger import Ledger
    from jobs.common.settings import LEDGER_CONN_ID

    return Ledger.from_conn_id(LEDGER_CONN_ID)
