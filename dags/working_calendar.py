"""
### working_calendar — is next year's holiday arrangement loaded? (节假日安排检查)

Every day at 08:00 Asia/Shanghai. Deadlines count in working days (docs/domain.md §5): China's
public holidays and adjusted working weekends, from the `chinese-calendar` package and the
operator's own file (`reference/calendar/`, see its README). A year that neither covers is
computed Monday–Friday and every due date in it is marked provisional (期限暂定) in the reports.

This DAG **fails** from 45 days before such a year starts (and throughout it) until the State
Council's arrangement is added to `reference/calendar/` — so the operator is told in time, not
left to notice provisional dates in January. It also fails when the operator's file is wrong
(the error names file, row and column). It never touches the daily push.

**As of** (DAG param `as_of`, optional; an ISO date or date-time in Asia/Shanghai): the day the
check is made for, instead of the data interval's end (empty: the interval, or the trigger
time) — e.g. `{"as_of": "2026-12-01"}` shows what the check will say in December. A malformed
value fails the task at once, without retries. Priority 10 (absolute); no pool.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from dags._common import DAG_DEFAULTS, PRIORITY_REPORTS, clock, default_args, params


@dag(
    dag_id="working_calendar",
    schedule="0 8 * * *",
    **DAG_DEFAULTS,
    params=params(),
    default_args=default_args(execution_timeout=timedelta(minutes=5), priority=PRIORITY_REPORTS),
    tags=["cohandling", "calendar"],
    doc_md=__doc__,
)
def working_calendar():
    @task(execution_timeout=timedelta(minutes=5))
    def check_arrangements(**context) -> dict:
        """Fail when a year due within 45 days (or under way) has no known holiday arrangement."""
        from jobs.common import reference
        from transforms.common.workdays import calendar_alert, library_years

        arrangements = reference.calendar_arrangements()  # raises CalendarDataError naming file/row/column
        today = clock(context).local().date()
        message = calendar_alert(today, arrangements)
        if message:
            raise RuntimeError(message)
        return {"today": today.isoformat(), "library_years": max(library_years()), "operator_years": sorted(arrangements.years)}

    check_arrangements()


dag = working_calendar()

if __name__ == "__main__":
    dag.test()
