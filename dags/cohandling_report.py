"""
### cohandling_report — the daily reconciliation report (对账报告)

Every day at 07:30 Asia/Shanghai, for the day that just ended: the status of every work
order delivered that day, and of everything not delivered yet, as of the run — done, done
late, rejected (with the receiver's reason), overdue (no final result within the utility's
deadline in working days, Chinese holidays and adjusted weekends counted), still open —
by city, county and institution, with the overdue list the province would publish (公示),
the exceptions list and the quarantine list. Written to `$GATEWAY_REPORT_DIR/<day>/` as
report.html (charts), report.xlsx and csv/, in Chinese with codes alongside, ID numbers and
phones masked. Any date range on demand: `python -m tools.cli report --from … --to …`.
The remote-collection (异地代收) report is its own DAG, `remote_report`.

**As of** (DAG param `as_of`, optional; an ISO date or date-time in Asia/Shanghai): the report
as an operator would have seen it then — the day before as_of's date, statuses and overdue as
of as_of — instead of the data interval (empty: the interval, or the trigger time for a manual
run without a logical date). E.g. `{"as_of": "2026-03-25T07:30"}` reports 24 March as of 07:30
on the 25th. A malformed value fails the task at once, without retries.
Priority 10 (absolute): behind the daily push and the hourly lines; no pool (the ledger only).

The ledger's schema is migrated once per deployment, before the scheduler starts
(`python -m tools.cli db upgrade --conn-id gateway_ledger`; dags/_common.py), never by a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag
from airflow.timetables.trigger import CronTriggerTimetable

from dags._common import DAG_DEFAULTS, PRIORITY_REPORTS, TIMEZONE, clock, default_args, ledger, params
from dags._links import ReportPageTask, page_task


@dag(
    dag_id="cohandling_report",
    schedule=CronTriggerTimetable("30 7 * * *", timezone=TIMEZONE, interval=timedelta(days=1)),
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(hours=1), priority=PRIORITY_REPORTS, retries=1, retry_delay=timedelta(minutes=10)),
    tags=["cohandling", "report"],
    doc_md=__doc__,
)
def cohandling_report():
    # The task's extra link opens report.html (dags/_links.py).
    @page_task(ReportPageTask, execution_timeout=timedelta(hours=1))
    def report(**context) -> dict:
        """The day's report files; returns their paths and the status counts."""
        from jobs.cohandling.collect_results import write_period_report
        from jobs.common.settings import report_dir

        now = clock(context)
        day = now.day()
        return write_period_report(ledger(), first=day, last=day, as_of=now.local(), out_dir=report_dir() / day.isoformat())

    report()


dag = cohandling_report()

if __name__ == "__main__":
    dag.test()
