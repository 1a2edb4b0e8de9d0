"""
### cohandling_report — the daily reconciliation report (对账报告)

Every day at 07:30 Asia/Shanghai, for the day that just ended: the status of every work
order delivered that day, and of everything not delivered yet, as of the run — done, done
late, rejected (with the receiver's reason), overdue (no final result within the utility's
deadline in working days, Chinese holidays and adjusted weekends counted), still open —
by city, county and institution, with the overdue list the province would publish (公示),
the exceptions list and the quarantine list; and the remote-collection (异地代收) report for
the last 30 days by collecting hall and by property county (`<day>/remote/`). Written to
`$GATEWAY_REPORT_DIR/<day>/` as report.html (charts), report.xlsx and csv/, in Chinese
with codes alongside, ID numbers and phones masked. Any date range on demand:
`python -m tools.cli report --from … --to …`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from jobs.common.alerts import on_failure
from jobs.common.settings import LEDGER_CONN_ID


@dag(
    dag_id="cohandling_report",
    schedule=CronTriggerTimetable("30 7 * * *", timezone="Asia/Shanghai", interval=timedelta(days=1)),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10), "execution_timeout": timedelta(hours=1), "on_failure_callback": on_failure},
    on_failure_callback=on_failure,
    tags=["cohandling", "report"],
    doc_md=__doc__,
)
def cohandling_report():
    @task(execution_timeout=timedelta(hours=1))
    def report(data_interval_start=None, data_interval_end=None) -> dict:
        """The day's report files; returns their paths and the status counts."""
        from connectors.ledger import Ledger
        from jobs.cohandling.collect_results import write_period_report
        from jobs.common.settings import report_dir

        ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
        ledger.migrate()
        start = data_interval_start.in_timezone("Asia/Shanghai")
        end = data_interval_end.in_timezone("Asia/Shanghai")
        day = start.date()
        out = report_dir() / day.isoformat()
        return write_period_report(ledger, first=day, last=day, as_of=end.naive(), out_dir=out)

    @task(execution_timeout=timedelta(hours=1))
    def remote_report(data_interval_start=None, data_interval_end=None) -> dict:
        """异地代收: the last 30 days' packages by collecting hall and by property county."""
        from connectors.ledger import Ledger
        from jobs.common.settings import report_dir
        from jobs.remote.publish_remote_report import write_remote_report

        ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
        ledger.migrate()
        day = data_interval_start.in_timezone("Asia/Shanghai").date()
        as_of = data_interval_end.in_timezone("Asia/Shanghai").naive()
        return write_remote_report(ledger, first=day - timedelta(days=29), last=day, as_of=as_of, out_dir=report_dir() / day.isoformat() / "remote")

    report()
    remote_report()


dag = cohandling_report()

if __name__ == "__main__":
    dag.test()
