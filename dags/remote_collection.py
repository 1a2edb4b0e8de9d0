"""
### remote_collection — 异地代收: packages to the property's county, statuses back

Every hour (docs/domain.md §6; docs/remote-collection.md):

1. **checklists** — counties' checklist forms (材料清单) waiting in `$GATEWAY_CHECKLIST_INBOX`
   load into the versioned lists (issues per row beside each filed form).
2. **extract** — the remote-collection module's new package versions (applicants, materials,
   each file hashed from the file store) from the exchange database, exactly once.
3. **validate** — each version against the property county's list in force at collection,
   identity checks, 不动产单元号, remote-ness; routed by the property's county.
4. **deliver** — passed versions with their files to `county_system_<XZQH>` or
   `cross_province` (key `{BWID}:{change_seq}`; docs/protocol/packages.md).
5. **statuses** — each destination's status feed (受理 / 不予受理 / 补正 / 审核 / 缴费通知 /
   登簿 / 证照已发), checked and stored.
6. **returns** — per collecting hall, what came back in this run (the gateway's reasons, the
   counties' 补正 and 不予受理): `$GATEWAY_OUTPUT_DIR/<run>/halls/`.
7. **handover** — once a week has ended, the paper originals owed per hall and property
   county as printable handover lists (移交清单, XLSX + PDF) under
   `$GATEWAY_REPORT_DIR/handover/`; receipts: `python -m tools.cli handover-receipt`.

8. **balance** — the lifetime balance of the whole ledger (see `cohandling_daily`): the task
   fails, with counts per surface and the oldest stale units (masked), when it does not hold
   or a unit has been due longer than the stale age.

Validation takes every package version not yet validated, whichever run received it; delivery
every passed version in force not yet delivered. The report by hall and property county is
written by `remote_report` every morning.

**As of** (DAG param `as_of`, optional; an ISO date or date-time in Asia/Shanghai): the run's
clock — the extraction's cut-off, the checklists' load time, the day validation and the
handover lists work for, the earliest delivery and status time — instead of the data
interval's end (empty: the interval, or the trigger time for a manual run without a logical
date). A malformed value fails `checklists` at once, without retries.

**Pools and priority** (dags/_common.py, deploy/pools.json): `extract` in
`gateway_platform_db`; `deliver` (which also reads the packages' files from the platform) and
`statuses` in `gateway_counties`; priority 50 (absolute), behind the daily push (100).

The ledger's schema is migrated once per deployment, before the scheduler starts
(`python -m tools.cli db upgrade --conn-id gateway_ledger`; dags/_common.py), never by a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from dags._common import DAG_DEFAULTS, POOL_COUNTIES, POOL_PLATFORM, PRIORITY_LINES, clock, default_args, ledger, params
from jobs.common.settings import PLATFORM_CONN_ID


@dag(
    dag_id="remote_collection",
    schedule="41 * * * *",
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(minutes=30), priority=PRIORITY_LINES, retries=2, retry_delay=timedelta(minutes=5)),
    tags=["remote-collection"],
    doc_md=__doc__,
)
def remote_collection():
    @task(execution_timeout=timedelta(minutes=15))
    def checklists(**context) -> dict:
        """Checklist forms from the inbox into the ledger."""
        from jobs.common.inbox import load_inbox
        from jobs.common.settings import checklist_inbox
        from jobs.remote.package_intake import load_checklist_form

        loaded = load_inbox(ledger(), checklist_inbox(), now=clock(context).local(), load=load_checklist_form)
        return {"forms": len(loaded), "errors": sum(s.errors for s in loaded), "lines": [s.line() for s in loaded]}

    @task(execution_timeout=timedelta(minutes=30), pool=POOL_PLATFORM)
    def extract(_loaded: dict, run_id=None, **context) -> dict:
        """New package versions into the ledger (cut-off: the run's clock)."""
        from connectors.exchange_db import PackageSource
        from jobs.remote.package_intake import extract_packages

        source = PackageSource.from_conn_id(PLATFORM_CONN_ID)
        try:
            return extract_packages(source, ledger(), run_id=run_id, until=clock(context).utc())
        finally:
            source.dispose()

    @task(execution_timeout=timedelta(minutes=30))
    def validate(_extracted: dict, run_id=None, **context) -> dict:
        """Verdict and route per package version; nothing lost (asserted)."""
        from jobs.remote.package_intake import validate_packages

        summary = validate_packages(ledger(), run_id=run_id, as_of=clock(context).local())
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in summary.items()}

    @task(execution_timeout=timedelta(minutes=40), pool=POOL_COUNTIES)
    def deliver(_validated: dict, run_id=None, **context) -> dict:
        """Passed versions (and files) to the property's authority, exactly once in effect."""
        from connectors.channels import Channels
        from connectors.exchange_db import PackageSource
        from connectors.ledger import utcnow
        from jobs.remote.deliver_packages import deliver_packages

        source = PackageSource.from_conn_id(PLATFORM_CONN_ID)
        try:
            with Channels(packages=True) as channels:
                # Delivery time: the wall clock, or the run's clock if it is set ahead (as_of: the demo's ten days later).
                return deliver_packages(ledger(), source, run_id=run_id, receiver_for=channels, now=max(clock(context).utc(), utcnow()))
        finally:
            source.dispose()

    @task(execution_timeout=timedelta(minutes=20), pool=POOL_COUNTIES)
    def statuses(_delivered: dict, run_id=None, **context) -> dict:
        """Each destination's status feed from its cursor."""
        from connectors.channels import Channels
        from jobs.common.inbox import local_now
        from jobs.remote.track_packages import collect_package_events

        # An event may not be dated after "now": the later of the run's clock and the wall clock (a late or re-run task).
        as_of = max(clock(context).local(), local_now())
        with Channels(packages=True) as channels:
            return collect_package_events(ledger(), receiver_for=channels, run_id=run_id, as_of=as_of)

    @task(trigger_rule="all_done", execution_timeout=timedelta(minutes=15))
    def returns(_validated, _statuses, run_id=None) -> dict:
        """One return list per collecting hall with something coming back in this run — written even
        when delivery or the status poll failed, so validation's returns are never held back."""
        from jobs.common.settings import run_output_dir
        from jobs.remote.hall_returns import write_hall_returns
        return write_hall_returns(ledger(), run_id=run_id, out_dir=run_output_dir(run_id) / "halls")

    @task(execution_timeout=timedelta(minutes=20))
    def handover(_statuses: dict, run_id=None, **context) -> list[str]:
        """Handover lists for the weeks that have ended."""
        from jobs.common.settings import report_dir
        from jobs.remote.handover import make_handover_lists

        lists = make_handover_lists(ledger(), run_id=run_id, today=clock(context).local().date(), out_dir=report_dir() / "handover")
        return [f"{x['list_no']}: {x['originals']} originals" for x in lists]

    @task(execution_timeout=timedelta(minutes=15), retries=0)
    def balance(_returned, _handed, run_id=None, **context) -> dict:
        """The lifetime balance of the whole ledger; fails when it does not hold or units are stale."""
        from connectors.ledger import utcnow
        from jobs.common.accounting import check_balance

        return check_balance(ledger(), run_id=run_id, now=max(clock(context).utc(), utcnow())).summary()

    validated = validate(extract(checklists()))
    polled = statuses(deliver(validated))
    balance(returns(validated, polled), handover(polled))


dag = remote_collection()

if __name__ == "__main__":
    dag.test()
