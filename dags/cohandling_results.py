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

The ledger's schema is migrated once per deployment, before the scheduler starts
(`python -m tools.cli db upgrade --conn-id gateway_ledger`; dags/_common.py), never by a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from dags._common import DAG_DEFAULTS, default_args, ledger, local, utc


@dag(
    dag_id="cohandling_results",
    schedule="17 * * * *",
    **DAG_DEFAULTS,
    default_args=default_args(execution_timeout=timedelta(minutes=30), retries=2, retry_delay=timedelta(minutes=5)),
    tags=["cohandling", "results"],
    doc_md=__doc__,
)
def cohandling_results():
    @task(execution_timeout=timedelta(minutes=45))  # hourly: a slow feed may not hold the next run back for long
    def collect(data_interval_end=None, run_id=None) -> dict:
        """Result files and feeds into the ledger; exceptions listed; SMS queued."""
        from connectors.channels import Channels
        from jobs.cohandling.collect_results import collect_results, result_feeds

        book = ledger()
        with Channels() as channels:
            return collect_results(book, as_of=local(data_interval_end), drops=channels.drops(), feeds=result_feeds(book, channels), run_id=run_id).as_dict()

    @task(execution_timeout=timedelta(minutes=15), retries=0)
    def balance(collected: dict, data_interval_end=None, run_id=None) -> dict:
        """The lifetime balance of the whole ledger; fails when it does not hold or units are stale."""
        from connectors.ledger import utcnow
        from jobs.common.accounting import check_balance

        return check_balance(ledger(), run_id=run_id, now=max(utc(data_interval_end), utcnow())).summary()

    balance(collect())


dag = cohandling_results()

if __name__ == "__main__":
    dag.test()
