"""The weekly reminders DAG (dags/cohandling_reminders.py) as Airflow runs it: Monday 09:00 Asia/Shanghai, the as_of
param setting the week, channels from Airflow Connections. The `remind` task's own callable against the receiver
simulator (county systems and the grid from their connections) with no SFTP connection: the HTTP reminders go out
once, the county lists are written to the report folder, and the task fails naming the drops it could not reach —
after sending everything else; run again, it sends nothing twice."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.http_receiver import HttpReceiver
from connectors.ledger import utcnow
from connectors.testing import LocalDrops
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.remind_overdue import RemindersUnsent
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.reminders import iso_week

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "gw-dag", "dag-secret"


def _dag(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "dags"))
    sys.modules.pop("cohandling_reminders", None)
    return importlib.import_module("cohandling_reminders").dag


def test_the_weekly_dag_is_monday_nine_in_shandong_with_retries(monkeypatch):
    dag = _dag(monkeypatch)
    assert dag.timetable.summary == "0 9 * * 1" and str(dag.timetable._timezone) == "Asia/Shanghai"
    task = dag.get_task("remind")
    assert task.retries == 3 and task.retry_delay == timedelta(hours=1) and task.pool == "gateway_grid"


def test_the_remind_task_sends_what_it_can_writes_the_county_lists_and_fails_naming_the_rest(tmp_path, monkeypatch):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=80, seed=65)
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as sim:
        def receiver_for(channel: str, destination: str) -> HttpReceiver:
            url = sim.grid_url() if channel == "grid" else sim.county_url(destination.removeprefix("county_system_"))
            return HttpReceiver(url, KEY, SECRET, timeout_s=2, max_attempts=2, backoff_s=0.01, max_backoff_s=0.2)

        deliver_run(ledger, run_id="d1", day=AS_OF, drops=LocalDrops(tmp_path / "drops"), receiver_for=receiver_for)
        port = int(sim.url.rsplit(":", 1)[1])
        http = {"conn_type": "http", "host": "127.0.0.1", "port": port, "login": KEY, "password": SECRET}
        monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
        monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "ledger.db")}))
        monkeypatch.setenv("AIRFLOW_CONN_COUNTY_SYSTEM_DEFAULT", json.dumps(http | {"extra": {"base_path": "/county/{xzqh}"}}))
        monkeypatch.setenv("AIRFLOW_CONN_GRID_MARKETING", json.dumps(http | {"extra": {"base_path": "/grid"}}))
        monkeypatch.delenv("AIRFLOW_CONN_GATEWAY_SFTP", raising=False)
        monkeypatch.setenv("GATEWAY_REPORT_DIR", str(tmp_path / "reports"))
        remind = _dag(monkeypatch).get_task("remind").python_callable
        monday = (utcnow() + timedelta(hours=8, days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
        monday -= timedelta(days=monday.weekday())
        week = iso_week(monday.date())

        with pytest.raises(RemindersUnsent) as unsent:
            remind(run_id="scheduled__w1", params={"as_of": monday.isoformat()})
        assert f"reminders unsent for week {week}: pending {{'account':" in str(unsent.value)
        assert "no SFTP drop connection configured" in str(unsent.value)
        noted = sim.reminded()
        assert noted and {n["week"] for n in noted} == {week} and "grid" in {n["receiver"] for n in noted}
        lists = sorted((tmp_path / "reports" / "reminders" / week).glob("催办清单_*.xlsx"))
        assert lists and len(lists) == len(list((tmp_path / "reports" / "reminders" / week).glob("催办清单_*.csv")))

        with pytest.raises(RemindersUnsent):  # the retry: the drops still cannot be reached; nothing else is sent again
            remind(run_id="scheduled__w1", params={"as_of": (monday + timedelta(hours=1)).isoformat()})
        assert [n["times_submitted"] for n in sim.reminded()] == [1] * len(noted)
        state = {r["channel"]: r["status"] for r in ledger.cohandling.reminders(week) if r["channel"] != "account"}
        assert set(state.values()) == {"sent"} and {r["status"] for r in ledger.cohandling.reminders(week) if r["channel"] == "account"} == {"pending"}
    ledger.dispose()
