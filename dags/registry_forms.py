"""
### registry_forms — the institution registry's inbox (水气热机构名录)

Every 30 minutes: the Annex 2 (水气热机构信息摸底表) and Annex 3 (开通申请) forms dropped
into the registry inbox (`$GATEWAY_REGISTRY_INBOX`, default `var/inbox/registry`), as
`.xlsx` or `.csv`, are loaded into the ledger's registry — a changed institution becomes a
new version from the form's 生效日期 (or the load time), history kept — and filed under
`processed/<date>/` beside `<file>.issues.csv`, the list of every row that could not be
loaded or deserves a look (file, sheet, row, column, reason). A form already loaded is
skipped; a file that is not a form goes to `rejected/` with the reason.

The daily push (`cohandling_daily`) loads the inbox too, before it extracts, so a form
dropped before 06:00 is in force for that day's routing.

**As of** (DAG param `as_of`, optional, like every DAG's): accepted and checked (a malformed
value fails the task at once), but a form is always dated by when it is loaded — a form that
arrives today is never back-dated. Priority 50 (absolute); no pool (the ledger and the inbox).

The ledger's schema is migrated once per deployment, before the scheduler starts
(`python -m tools.cli db upgrade --conn-id gateway_ledger`; dags/_common.py), never by a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from dags._common import DAG_DEFAULTS, PRIORITY_LINES, clock, default_args, ledger, params


@dag(
    dag_id="registry_forms",
    schedule="*/30 * * * *",
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(minutes=20), priority=PRIORITY_LINES),
    tags=["cohandling", "registry"],
    doc_md=__doc__,
)
def registry_forms():
    @task(execution_timeout=timedelta(minutes=20))  # every 30 minutes: a stuck load must not hold the next one back
    def load_inbox(**context) -> list[str]:
        """Load every waiting form; one summary line per form (added / changed / unchanged, errors)."""
        clock(context)  # checks as_of; forms are dated when loaded, never by as_of
        from jobs.common.inbox import load_inbox as load
        from jobs.common.settings import registry_inbox
        from jobs.registry.form_intake import load_form

        return [s.line() for s in load(ledger(), registry_inbox(), load=load_form)]

    load_inbox()


dag = registry_forms()

if __name__ == "__main__":
    dag.test()
