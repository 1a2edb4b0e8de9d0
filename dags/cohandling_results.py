"""
### cohandling_results — handling results coming back (办理结果回收)

Every hour:

1. **collect** — result files the account-mode institutions uploaded to their drops'
   `/inbox/` (connection `gateway_sftp`; format in docs/protocol/results.md) and the results
   feeds of the county systems and the grid (`GET /v1/results`, docs/protocol/receivers.md),
   from where the last poll stopped. Every result is checked (a known, delivered work order,
   from the institution or system it was delivered to, a known code, a plausible time, not a
   duplicate or a contradiction); what cannot count goes to the exceptions list with its
   reason, the rest updates each work order's outcome, and a final outcome queues an SMS to
   the buyer (sms_outbox). Returns counts.
2. **balance** — the lifetime balance of the whole ledger (see `cohandling_daily`): the task
   fails, with counts per surface and the oldest stale units (masked), when it does not hold
   or a unit has been due longer than the stale age.

The daily report is `cohandling_report`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from jobs.common.alerts import on_failure
from jobs.common.settings import LEDGER_CONN_ID


@dag(
    dag_id="cohandling_results",
    schedule="17 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "execution_timeout": timedelta(minutes=30), "on_failure_callback": on_failure},
    on_failure_callback=on_failure,
    tags=["cohandling", "results"],
    doc_md=__doc__,
)
def cohandling_results():
    @task(execution_timeout=timedelta(minutes=45))  # hourly: a slow feed may not hold the next run back for long
    def collect(data_interval_end=None, run_id=None) -> dict:
        """Result files and feeds into the ledger; exceptions listed; SMS queued."""
        from connectors.delivery import Channels
        from connectors.ledger import Ledger
        from jobs.cohandling.collect_results import collect_results, result_feeds

        ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
        ledger.migrate()
        as_of = data_interval_end.in_timezone("Asia/Shanghai").naive()
        with Channels() as channels:
            return collect_results(ledger, as_of=as_of, drops=channels.drops(), feeds=result_feeds(ledger, channels), run_id=run_id).as_dict()

    @task(execution_timeout=timedelta(minutes=15), retries=0)
    def balance(collected: dict, data_interval_end=None, run_id=None) -> dict:
        """The lifetime balance of the whole ledger; fails when it does not hold or units are stale."""
        from connectors.ledger import Ledger, utcnow
        from jobs.common.accounting import check_balance

        now = max(data_interval_end.in_timezone("UTC").naive(), utcnow())
        return check_balance(Ledger.from_conn_id(LEDGER_CONN_ID), run_id=run_id, now=now).summary()

    balance(collect())


dag = cohandling_results()

if __name__ == "__main__":
    dag.test()
