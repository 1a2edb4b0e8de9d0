"""
### remote_report — the daily remote-collection report (异地代收报告)

Every day at 07:30 Asia/Shanghai, for the day that just ended: where every package version
collected in the last 30 days stands as of the run (jobs/remote/publish_remote_report.py), by
collecting hall and by property county. Written to `$GATEWAY_REPORT_DIR/<day>/remote/` as
report.html, report.xlsx, csv/ and report.json. Any date range on demand: `python -m tools.cli remote-report --from … --to …`.

**As of** (DAG param `as_of`, optional; an ISO date or date-time in Asia/Shanghai): the report
for the 30 days ending the day before as_of's date, statuses as of as_of, instead of the data
interval (empty: the interval, or the trigger time for a manual run without a logical date).
A malformed value fails the task at once, without retries.
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

REPORT_DAYS = 30  # the report's window: the day that ended and the 29 before it


@dag(
    dag_id="remote_report",
    schedule=CronTriggerTimetable("30 7 * * *", timezone=TIMEZONE, interval=timedelta(days=1)),
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(hours=1), priority=PRIORITY_REPORTS, retries=1, retry_delay=timedelta(minutes=10)),
    tags=["remote-collection", "report"],
    doc_md=__doc__,
)
def remote_report():
    # The task's extra link opens report.html (dags/_links.py). One XCom, not one per returned key (`-> dict` would split
    # it): the keys name the CSV files in Chinese, which an XCom key cannot carry.
    @page_task(ReportPageTask, multiple_outputs=False, execution_timeout=timedelta(hours=1))
    def report(**context) -> dict:
        """异地代收: the last 30 days' packages by collecting hall and by property county; returns the files' paths."""
        from jobs.common.settings import report_dir
        from jobs.remote.publish_remote_report import write_remote_report

        now = clock(context)
        day = now.day()
        return write_remote_report(ledger(), first=day - timedelta(days=REPORT_DAYS - 1), last=day, as_of=now.local(),
                                   out_dir=report_dir() / day.isoformat() / "remote")

    report()


dag = remote_report()

if __name__ == "__main__":
    dag.test()
