"""
### cohandling_daily — the daily co-handling push (协办信息每日推送)

Every day at 06:00 Asia/Shanghai, for the day that just ended:

1. **extract** — the platform's new changes to co-handling records (Annex 1) from the
   exchange database (connection `gateway_platform`) into the gateway ledger
   (connection `gateway_ledger`): only what the ledger lacks, late rows included, each
   change exactly once. Returns counts; the rows stay in the ledger.

2. **validate** — every record the run received against the Annex 1 rules (a Great
   Expectations suite plus vectorised checks): a verdict per record in the ledger
   (passed / partial / quarantined), every failed rule with a reason in Chinese and
   English, the quarantine list (CSV/XLSX, IDs masked) and the GX Data Docs in the
   run's output folder. Returns counts and paths.

Later stages (route, deliver) are added as they are built.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from gateway.settings import LEDGER_CONN_ID, PLATFORM_CONN_ID


@dag(
    dag_id="cohandling_daily",
    # A run starting at 06:00 covers the 24 hours before it: data_interval_end is its cut-off.
    schedule=CronTriggerTimetable("0 6 * * *", timezone="Asia/Shanghai", interval=timedelta(days=1)),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    # One run at a time: runs share the watermark, and chunks commit in order.
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["cohandling", "daily"],
    doc_md=__doc__,
)
def cohandling_daily():
    @task
    def extract(data_interval_end=None, run_id=None) -> dict:
        """New platform changes up to the interval's end into the ledger; returns counts."""
        from connectors.ledger import Ledger
        from connectors.platform import PlatformSource
        from gateway.extract import extract_changes

        ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
        ledger.migrate()
        source = PlatformSource.from_conn_id(PLATFORM_CONN_ID)
        until = data_interval_end.in_timezone("UTC").naive()
        return extract_changes(source, ledger, run_id=run_id, until=until).as_dict()

    @task
    def validate(extracted: dict, data_interval_end=None, run_id=None) -> dict:
        """Annex 1 rules over the run's records; verdicts to the ledger, files to the run's folder."""
        from connectors.ledger import Ledger
        from gateway.registry import current_registry
        from gateway.settings import run_output_dir
        from gateway.validate import validate_run

        ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
        as_of = data_interval_end.in_timezone("Asia/Shanghai").naive()  # DBSJ is Shandong local time
        result = validate_run(ledger, run_id=run_id, as_of=as_of, registry=current_registry(), out_dir=run_output_dir(run_id))
        return result.as_dict()

    validate(extract())


dag = cohandling_daily()

if __name__ == "__main__":
    dag.test()
