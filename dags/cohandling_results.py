"""
### cohandling_results — handling results coming back (办理结果回收)

Every hour:

1. **collect** — from where the last poll stopped, one task per external system, each in
   that system's pool, one after the other (each runs even when the one before failed: one
   system's trouble is its own):
   - **collect_drops** — result files the account-mode institutions uploaded to their drops'
     `/inbox/` (connection `gateway_sftp`; format in docs/protocol/results.md);
   - **collect_grid** — the grid's results feed (`GET /v1/results`, docs/protocol/receivers.md);
   - **collect_counties** — the county systems' results feeds (same protocol).

   Every result is checked (a known, delivered work order, from the institution or system it
   was delivered to, a known code, a plausible time, not a duplicate or a contradiction); what
   cannot count goes to the exceptions list with its reason, the rest updates each work order's
   outcome, and a final outcome queues an SMS to the buyer (sms_outbox). Each returns counts.
2. **balance** — the lifetime balance of the whole ledger (see `cohandling_daily`): the task
   fails, with counts per surface and the oldest stale units (masked), when it does not hold
   or a unit has been due longer than the stale age.

**As of** (DAG param `as_of`, optional; an ISO date or date-time in Asia/Shanghai): the time
results are judged against (a result dated after it is implausible) instead of the data
interval's end (empty: the interval, or the trigger time for a manual run without a logical
date). A malformed value fails `collect_drops` at once, without retries.

**Pools and priority** (dags/_common.py, deploy/pools.json): `collect_drops` in
`gateway_sftp_drops`, `collect_grid` in `gateway_grid` (one slot across all workers: the
grid's rate limit), `collect_counties` in `gateway_counties`; priority 50 (absolute), behind
the daily push (100).

The daily report is `cohandling_report`.

The ledger's schema is migrated once per deployment, before the scheduler starts
(`python -m tools.cli db upgrade --conn-id gateway_ledger`; dags/_common.py), never by a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from dags._common import DAG_DEFAULTS, POOL_COUNTIES, POOL_DROPS, POOL_GRID, PRIORITY_LINES, clock, default_args, ledger, params

GRID_FEED = "feed:grid"  # jobs.cohandling.collect_results.result_feeds: "feed:grid", "feed:county/<XZQH>"


def _collect(context: dict, *, run_id, drops: bool, feeds) -> dict:
    """One system's results into the ledger: the drops' inboxes (`drops`), or the feeds `feeds(source)` picks."""
    from connectors.channels import Channels
    from jobs.cohandling.collect_results import collect_results, result_feeds

    as_of = clock(context).local()
    book = ledger()
    with Channels() as channels:
        if drops:
            return collect_results(book, as_of=as_of, drops=channels.drops(), feeds={}, run_id=run_id).as_dict()
        chosen = {source: channel for source, channel in result_feeds(book, channels).items() if feeds(source)}
        return collect_results(book, as_of=as_of, drops=None, feeds=chosen, run_id=run_id).as_dict()


@dag(
    dag_id="cohandling_results",
    schedule="17 * * * *",
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(minutes=30), priority=PRIORITY_LINES, retries=2, retry_delay=timedelta(minutes=5)),
    tags=["cohandling", "results"],
    doc_md=__doc__,
)
def cohandling_results():
    # hourly: each system has 30 minutes a try (default_args); a slow one holds only the next run back, not the others
    @task(pool=POOL_DROPS)
    def collect_drops(run_id=None, **context) -> dict:
        """Result files from the drops' inboxes into the ledger; exceptions listed; SMS queued."""
        return _collect(context, run_id=run_id, drops=True, feeds=None)

    @task(pool=POOL_GRID, trigger_rule="all_done")
    def collect_grid(run_id=None, **context) -> dict:
        """The grid's results feed into the ledger."""
        return _collect(context, run_id=run_id, drops=False, feeds=lambda source: source == GRID_FEED)

    @task(pool=POOL_COUNTIES, trigger_rule="all_done")
    def collect_counties(run_id=None, **context) -> dict:
        """The county systems' results feeds into the ledger."""
        return _collect(context, run_id=run_id, drops=False, feeds=lambda source: source != GRID_FEED)

    @task(execution_timeout=timedelta(minutes=15), retries=0)
    def balance(run_id=None, **context) -> dict:
        """The lifetime balance of the whole ledger; fails when it does not hold or units are stale."""
        from connectors.ledger import utcnow
        from jobs.common.accounting import check_balance

        return check_balance(ledger(), run_id=run_id, now=max(clock(context).utc(), utcnow())).summary()

    collected = [collect_drops(), collect_grid(), collect_counties()]
    collected[0] >> collected[1] >> collected[2]  # one after the other: never two of them on the ledger's outcomes at once
    collected >> balance()  # after all three, and only when all three succeeded (a failed collect fails the run anyway)


dag = cohandling_results()

if __name__ == "__main__":
    dag.test()
