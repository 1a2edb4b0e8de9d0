"""What every DAG file shares: the DAG defaults, the task defaults, the clock and the ledger.

Not a DAG (no `dag_id` here). Imported by the DAG files at parse time, so it builds small
values only: connectors and jobs are imported inside the functions that tasks call.

**The ledger's schema is migrated once, not by tasks.** A deployment brings it to the newest
migration before the scheduler (re)starts, beside Airflow's own metadata migration:

    airflow db migrate                                  # Airflow's metadata database
    python -m tools.cli db upgrade --conn-id gateway_ledger   # the gateway ledger (idempotent)

(`--ledger URL` instead of `--conn-id` outside Airflow). No task runs migrations, so runs of
different DAGs never race on the schema, and a task never alters tables under another one.
`make run` (tools/demo.py) and the DAG tests (tests/dags) run the same command first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pendulum

from jobs.common.alerts import on_failure

if TYPE_CHECKING:
    from connectors.ledger import Ledger

TIMEZONE = "Asia/Shanghai"  # Shandong local time: DBSJ, deadlines, reports and schedules are in it

# Every DAG: no back-filling of missed intervals (each run takes what is due from the ledger),
# one run at a time (runs share watermarks and cursors), the failure logged and audited.
DAG_DEFAULTS = {
    "start_date": pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    "catchup": False,
    "max_active_runs": 1,
    "on_failure_callback": on_failure,
}


def default_args(*, execution_timeout: timedelta, retries: int | None = None, retry_delay: timedelta | None = None, **more) -> dict:
    """Task defaults: a timeout and the failure callback on every task; retries only where a DAG asks for them."""
    args: dict = {"execution_timeout": execution_timeout, "on_failure_callback": on_failure}
    if retries is not None:
        args["retries"] = retries
    if retry_delay is not None:
        args["retry_delay"] = retry_delay
    return args | more


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
