"""
### cohandling_reminders — weekly overdue reminders (超期工单每周催办)

Every Monday at 09:00 Asia/Shanghai, once per ISO week: every institution, county system and the grid
that holds overdue work orders (delivered, no final result, past the due date in working days) is
reminded of them, and every county gets the list of its overdue work orders across institutions:

- account mode: a reminder folder `CB<year>W<week>` in the institution's drop outbox, published like a
  batch (its batch format, XLSX by default: Chinese header with the codes, platform number, ROWGUID,
  account number, due date, days overdue, the buyer's name masked; `.sha256`; manifest `"kind": "reminder"`)
  — docs/protocol/sftp-drop.md;
- system mode and the grid: `POST /v1/reminders` of the receiver protocol, one item per work order —
  docs/protocol/receivers.md;
- each county: `催办清单_<XZQH><county>_<week>.xlsx` and `.csv` in `$GATEWAY_REPORT_DIR/reminders/<week>/`.

Once per week, not twice: the week's reminders are planned in the ledger (`overdue_reminder`, one per
week and recipient) under the ledger lock `cohandling.remind`, so a re-run, a retry or two workers send
each once. A recipient that cannot be reached stays pending and never stops the others; the task then
fails after trying everything, and Airflow's retries (hourly, 3) send what is left. The job:
jobs/cohandling/remind_overdue.py.

**As of** (DAG param `as_of`, optional; an ISO date or date-time in Asia/Shanghai): overdue as of then,
the reminders of its ISO week (empty: the run's data interval, or the trigger time). A malformed value
fails the task at once, without retries. `remind` sits in the grid's pool (it reaches the grid, the
county systems and the drops in one task, as `cohandling_daily.deliver` does).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from dags._common import DAG_DEFAULTS, POOL_GRID, PRIORITY_LINES, TIMEZONE, clock, default_args, ledger, params


@dag(
    dag_id="cohandling_reminders",
    schedule=CronTriggerTimetable("0 9 * * 1", timezone=TIMEZONE, interval=timedelta(days=7)),
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(hours=1), priority=PRIORITY_LINES, retries=3, retry_delay=timedelta(hours=1)),
    tags=["cohandling", "weekly"],
    doc_md=__doc__,
)
def cohandling_reminders():
    @task(execution_timeout=timedelta(hours=1), pool=POOL_GRID)
    def remind(run_id=None, **context) -> dict:
        """The week's overdue reminders, each recipient once; fails after trying all when some could not be sent."""
        from connectors.channels import Channels
        from jobs.cohandling.remind_overdue import remind_run
        from jobs.common.settings import report_dir

        now = clock(context)
        with Channels() as channels:
            return remind_run(ledger(), run_id=run_id, as_of=now.local(), county_dir=report_dir() / "reminders", drops=channels.drops(),
                              receiver_for=channels.receiver_for, fail_if_unsent=True).as_dict()

    remind()


dag = cohandling_reminders()

if __name__ == "__main__":
    dag.test()
