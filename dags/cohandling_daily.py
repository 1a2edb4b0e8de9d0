"""
### cohandling_daily — the daily co-handling push (协办信息每日推送)

Every day at 06:00 Asia/Shanghai, for the day that just ended:

0. **load_forms** — institution forms (Annex 2 / Annex 3) waiting in the registry inbox
   are loaded first, so what a county sent before the run is in force for it (the
   `registry_forms` DAG loads them during the day as well).

1. **extract** — the platform's new changes to co-handling records (Annex 1) from the
   exchange database (connection `gateway_platform`) into the gateway ledger
   (connection `gateway_ledger`): only what the ledger lacks, late rows included, each
   change exactly once. Returns counts; the rows stay in the ledger.

2. **validate** — every record the run received against the Annex 1 rules (a Great
   Expectations suite plus vectorised checks): a verdict per record in the ledger
   (passed / partial / quarantined), every failed rule with a reason in Chinese and
   English, the quarantine list (CSV/XLSX, IDs masked), the validation page (validation.html,
   offline, Chinese; the task's extra link opens it) and the GX Data Docs in the
   run's output folder. Returns counts and paths.

3. **route** — every record that passed (or passed in part) becomes one work order per
   requested utility, by the registry version in force on the run's day: electricity to
   the grid, water / gas / heat to the institution's SFTP drop (account mode) or the
   county system (system mode). Work orders of counties not yet open for account mode
   wait and are released by the first run on or after the opening date. Returns counts.

4. **deliver** — every ready work order, exactly once in effect: account mode as one
   batch per institution (its chosen format, with a manifest and SHA-256 sums) published
   atomically into its SFTP drop (connection `gateway_sftp`); system mode and electricity
   pushed over the documented HTTP protocol (docs/protocol/) to the county systems
   (`county_system_<XZQH>` / `county_system_default`) and the grid (`grid_marketing`),
   idempotent per work-order version. What cannot be sent stays pending for the next run.
   After everything was tried (one unreachable receiver never stops the others), the task
   **fails** when work orders or cancellations have stayed unconfirmed by their receiver longer
   than `GATEWAY_DELIVER_PENDING_HOURS` (default 24), naming each receiver (drop or endpoint,
   institution), its count and since when; the failure callback logs and audits it.

5. **balance** — (runs whether deliver passed or failed; `watcher` then ends the run red if a task
   failed) the lifetime balance of the whole ledger: every change, work order, package,
   form, file, feed entry and event in exactly one state, the states adding up, per surface.
   The task fails — counts per surface and the oldest stale units, masked, in its error —
   when it does not hold or a unit has been due longer than the stale age (48 h by default).

6. **purge_personal** — (runs whatever came before) personal data past its retention (保存期限; PIPL §19/§47)
   purged: ID numbers, phones and names of records whose every work order is final, of packages closed, of records
   never routed, result exceptions and resolved dead letters become their blind index and masked form, batch by batch
   (`GATEWAY_RETENTION_DAYS_<KIND>`, docs/security.md "Retention"). Keys, states and counts are never written: the
   balance holds the same. One audit entry per run (counts per table and column, never a value).

7. **seal_audit** — (runs whatever came before) a signed checkpoint of the audit log's SM3 chain head,
   written outside the ledger to `GATEWAY_AUDIT_SEAL_DIR` with the key of Connection `gateway_audit_seal`
   or `GATEWAY_AUDIT_SEAL_KEY` (none configured: a warning, nothing sealed). It **fails** when the chain
   does not hold — the audit log was changed around the database — naming the first entry (docs/audit.md).

Stages 2–4 take what is due from the ledger, not what their run brought: a run that failed
after extract leaves nothing behind, the next one finishes it. Every task has an execution
timeout; a failed task or run is logged in one line and written to the ledger's audit log.

**Deadline** (Airflow Deadline Alert): a run not finished `GATEWAY_DAILY_DEADLINE_MINUTES` (default
180) after it was queued — 09:00 for the 06:00 run, when the halls open — is reported while it still
runs: `jobs/common/alerts.deadline_missed` (an AsyncCallback, run by the triggerer) logs `GATEWAY
DEADLINE MISSED` and writes `deadline_missed` to the ledger's audit log. `0` turns it off: `make run`
and the DAG tests do, as `dag.test()` (Airflow 3.3.2) cannot finish a DAG that has a Deadline Alert.

**As of** (DAG param `as_of`, optional): an ISO date or date-time in Asia/Shanghai that sets
the run's clock — the extraction's cut-off and the day validation, routing and delivery work
for — instead of the data interval's end (`2026-03-15` is that day's 00:00; empty: the
interval, or the trigger time for a manual run without a logical date). A malformed value
fails `load_forms` at once, without retries. Forms are loaded as of when they are loaded,
whatever as_of says; the balance's stale age counts from the later of as_of and now.
E.g. `airflow dags trigger cohandling_daily -c '{"as_of": "2026-03-15T06:00"}'`.

**Pools and priority** (dags/_common.py, deploy/pools.json): `extract` in `gateway_platform_db`;
`deliver` in `gateway_grid` (one slot across all workers: it talks to the grid, and to the
county systems and SFTP drops too, in one task — deliveries are planned once per run and
cancellations follow them, so it is not split by channel); the rest need no external system.
Every task at priority 100 (absolute), ahead of the hourly lines (50) and the reports (10).

The ledger's schema is migrated once per deployment, before the scheduler starts
(`python -m tools.cli db upgrade --conn-id gateway_ledger`; dags/_common.py), never by a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from dags._common import DAG_DEFAULTS, POOL_GRID, POOL_PLATFORM, PRIORITY_PUSH, TIMEZONE, clock, default_args, ledger, params
from dags._links import ValidationPageTask, page_task
from jobs.common.alerts import deadline_missed
from jobs.common.settings import PLATFORM_CONN_ID, daily_deadline

DEADLINE = daily_deadline()


@dag(
    dag_id="cohandling_daily",
    # A run starting at 06:00 covers the 24 hours before it: data_interval_end (or as_of) is its cut-off.
    schedule=CronTriggerTimetable("0 6 * * *", timezone=TIMEZONE, interval=timedelta(days=1)),
    # One run at a time (DAG_DEFAULTS): runs share the watermark, and chunks commit in order.
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(hours=1), priority=PRIORITY_PUSH, retries=2, retry_delay=timedelta(minutes=5), retry_exponential_backoff=True),
    tags=["cohandling", "daily"],
    doc_md=__doc__,
    deadline=None if DEADLINE is None else DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=DEADLINE,
        callback=AsyncCallback(deadline_missed, kwargs={"what": "the daily push (协办信息每日推送)", "interval_minutes": DEADLINE.total_seconds() / 60}),
        name="daily_push_done",
    ),
)
def cohandling_daily():
    @task(execution_timeout=timedelta(minutes=30))
    def load_forms(**context) -> list[str]:
        """Annex 2 / Annex 3 forms waiting in the registry inbox into the ledger; one line per form."""
        clock(context)  # the first task: a malformed as_of stops the run here (forms are dated when loaded, not by as_of)
        from jobs.common.inbox import load_inbox
        from jobs.common.settings import registry_inbox
        from jobs.registry.form_intake import load_form

        return [s.line() for s in load_inbox(ledger(), registry_inbox(), load=load_form)]

    @task(execution_timeout=timedelta(hours=3), pool=POOL_PLATFORM)  # generous: a catch-up after an outage reads a backlog of millions of changes
    def extract(forms: list[str], run_id=None, **context) -> dict:
        """New platform changes up to the run's cut-off into the ledger; returns counts."""
        from connectors.exchange_db import RecordSource
        from jobs.cohandling.extract_records import extract_changes

        source = RecordSource.from_conn_id(PLATFORM_CONN_ID)
        return extract_changes(source, ledger(), run_id=run_id, until=clock(context).utc()).as_dict()

    # The task's extra link opens the validation page it wrote (dags/_links.py).
    @page_task(ValidationPageTask, execution_timeout=timedelta(hours=3))
    def validate(extracted: dict, run_id=None, **context) -> dict:
        """Annex 1 rules over every change not yet validated (whichever run received it); verdicts to the ledger, files to the run's folder."""
        from jobs.cohandling.validate_records import validate_run
        from jobs.common.settings import run_output_dir
        from jobs.registry.form_intake import current_registry

        book = ledger()
        as_of = clock(context).local()  # DBSJ is Shandong local time
        result = validate_run(book, run_id=run_id, as_of=as_of, registry=current_registry(book, as_of), out_dir=run_output_dir(run_id))
        return result.as_dict()

    @task(execution_timeout=timedelta(hours=2))
    def route(validated: dict, run_id=None, **context) -> dict:
        """Work orders for every valid record not yet routed (and those waiting), by the registry in force."""
        from jobs.cohandling.route_records import route_run

        return route_run(ledger(), run_id=run_id, as_of=clock(context).local()).as_dict()

    @task(execution_timeout=timedelta(hours=2), pool=POOL_GRID)  # the grid's one slot (it also reaches the counties and the drops)
    def deliver(routed: dict, run_id=None, **context) -> dict:
        """Send what is ready (and what earlier runs left pending); record every outcome; fail when work stays unconfirmed past the age."""
        from connectors.channels import Channels
        from connectors.ledger import utcnow
        from jobs.cohandling.deliver_orders import deliver_run
        from jobs.common.settings import deliver_pending_after

        now = clock(context)
        with Channels() as channels:
            return deliver_run(ledger(), run_id=run_id, day=now.local(), drops=channels.drops(), receiver_for=channels.receiver_for,
                               stuck_after=deliver_pending_after(), now=max(now.utc(), utcnow())).as_dict()

    # a balance that fails, fails again: no retry; it runs whether deliver passed or failed (work left pending fails deliver)
    @task(execution_timeout=timedelta(minutes=20), retries=0, trigger_rule="all_done")
    def balance(run_id=None, **context) -> dict:
        """The lifetime balance of the whole ledger; fails when it does not hold or units are stale."""
        from connectors.ledger import utcnow
        from jobs.common.accounting import check_balance

        return check_balance(ledger(), run_id=run_id, now=max(clock(context).utc(), utcnow())).summary()

    @task(execution_timeout=timedelta(minutes=30), retries=1, trigger_rule="all_done")  # a retry resumes: each batch commits alone
    def purge_personal(run_id=None, **context) -> dict:
        """Personal data past its retention purged (docs/security.md "Retention"); counts per unit and column."""
        from connectors.ledger import utcnow
        from jobs.common.purge_personal import purge_personal as purge

        return purge(ledger(), run_id=run_id, now=max(clock(context).utc(), utcnow())).as_dict()

    @task(execution_timeout=timedelta(minutes=10), retries=0, trigger_rule="all_done")
    def seal_audit(run_id=None, **context) -> str | None:
        """A signed seal of the audit chain's head, outside the ledger (docs/audit.md); fails when the chain is broken."""
        from jobs.common.audit_seal import seal_daily

        return seal_daily(ledger(), run_id=run_id)

    # Watcher: a run's state comes from its last tasks, and balance runs whatever deliver did — so a failed task before it
    # (deliver leaving work pending past the age, or any other) ends the run red through this one.
    @task(execution_timeout=timedelta(minutes=5), retries=0, trigger_rule="one_failed")
    def watcher(**context) -> None:
        """Runs only when a task of the run failed: fails, so the run ends red after the balance has run."""
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("a task of this run failed (its GATEWAY FAILURE line says which and why): the run ends red")

    delivered = deliver(route(validate(extract(load_forms()))))
    checked = balance()
    purged = purge_personal()
    sealed = seal_audit()
    delivered >> checked >> purged >> sealed
    [delivered, checked, purged, sealed] >> watcher()


dag = cohandling_daily()

if __name__ == "__main__":
    dag.test()
