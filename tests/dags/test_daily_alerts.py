"""Operators told, not left to look: the daily DAG's Deadline Alert (Airflow 3.1+) and its callback, and the daily run ending
red when deliver leaves work pending past the set age (after the balance has run)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _daily(monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(ROOT / "dags"))
    sys.modules.pop("cohandling_daily", None)
    return importlib.import_module("cohandling_daily").dag


def test_the_daily_dag_carries_a_deadline_alert_with_the_gateway_callback(monkeypatch):
    from airflow.sdk import AsyncCallback, DeadlineReference
    from airflow.serialization.serialized_objects import DagSerialization

    monkeypatch.delenv("GATEWAY_DAILY_DEADLINE_MINUTES", raising=False)
    dag = _daily(monkeypatch)
    [alert] = dag.deadline
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT and alert.interval == timedelta(hours=3)
    assert isinstance(alert.callback, AsyncCallback) and alert.callback.path == "jobs.common.alerts.deadline_missed"
    assert alert.callback.kwargs == {"what": "the daily push (协办信息每日推送)", "interval_minutes": 180.0}
    serialized = json.dumps(DagSerialization.to_dict(dag), default=str)  # what the scheduler stores: the alert survives it
    assert "DagRunQueuedAtDeadline" in serialized and "jobs.common.alerts.deadline_missed" in serialized

    monkeypatch.setenv("GATEWAY_DAILY_DEADLINE_MINUTES", "90")
    [alert] = _daily(monkeypatch).deadline
    assert alert.interval == timedelta(minutes=90) and alert.callback.kwargs["interval_minutes"] == 90
    monkeypatch.setenv("GATEWAY_DAILY_DEADLINE_MINUTES", "0")  # off: for dag.test(), which cannot finish a DAG with one (Airflow 3.3.2)
    assert not _daily(monkeypatch).deadline
    # the watcher ends the run red when a task before it failed, the balance having run whatever deliver did
    dag = _daily(monkeypatch)
    assert dag.get_task("watcher").trigger_rule == "one_failed" and dag.get_task("balance").trigger_rule == "all_done"
    assert dag.get_task("watcher").upstream_task_ids == {"deliver", "balance", "purge_personal", "seal_audit"}
    assert dag.get_task("balance").upstream_task_ids == {"deliver"}
    # personal data past retention is purged after the balance, whatever came before (docs/security.md "Retention")
    assert dag.get_task("purge_personal").trigger_rule == "all_done" and dag.get_task("purge_personal").upstream_task_ids == {"balance"}
    # the audit chain is sealed last, whatever came before (docs/audit.md); a broken chain fails it and so ends the run red
    assert dag.get_task("seal_audit").trigger_rule == "all_done" and dag.get_task("seal_audit").upstream_task_ids == {"purge_personal"}


def test_the_deadline_callback_logs_one_line_writes_the_audit_log_and_never_raises(tmp_path, monkeypatch, caplog, capsys):
    from connectors.ledger import Ledger
    from jobs.common.alerts import deadline_missed

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "ledger.db")}))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    # the context as Airflow's scheduler builds it (airflow/models/deadline.py Deadline.handle_miss)
    context = {"dag_run": {"dag_id": "cohandling_daily", "dag_run_id": "scheduled__2026-12-03T22:00:00+00:00", "state": "running",
                           "queued_at": "2026-12-03T22:00:04Z"},
               "deadline": {"id": "0193", "deadline_time": "2026-12-04T01:00:04Z"}}
    with caplog.at_level("ERROR", logger="jobs.common.alerts"):
        asyncio.run(deadline_missed(context=context, what="the daily push (协办信息每日推送)", interval_minutes=180.0))
    line = "GATEWAY DEADLINE MISSED dag=cohandling_daily run=scheduled__2026-12-03T22:00:00+00:00: the daily push (协办信息每日推送) not finished " \
           "within 180 min of being queued: deadline 2026-12-04T01:00:04Z, queued at 2026-12-03T22:00:04Z, state running"
    assert line in caplog.text + capsys.readouterr().out
    entry = ledger.audit_trail("scheduled__2026-12-03T22:00:00+00:00")[-1]
    assert (entry["actor"], entry["action"], entry["object_type"], entry["object_id"]) == ("airflow", "deadline_missed", "dag_run", "cohandling_daily")
    assert json.loads(entry["detail"])["deadline_id"] == "0193"
    # never raises: no context, a context of the wrong shape, a ledger that cannot be reached
    asyncio.run(deadline_missed())
    asyncio.run(deadline_missed(context={"dag_run": "?"}))
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "missing" / "nowhere.db")}))
    capsys.readouterr()
    with caplog.at_level("WARNING", logger="jobs.common.alerts"):
        asyncio.run(deadline_missed(context=context))
    assert "GATEWAY DEADLINE MISSED not written to the ledger's audit log: OperationalError" in caplog.text + capsys.readouterr().out
    ledger.dispose()


def test_the_daily_run_ends_red_when_deliver_leaves_work_pending_past_the_age(daily_runs):
    """No channel configured (nothing can go out) and an age of 0 hours: deliver tries everything (the work orders the
    green run before it routed and left pending; tests/dags/conftest.py daily_runs), fails naming the receivers; the
    balance still runs; the watcher ends the run red; the failure is in the audit log."""
    from connectors.ledger import Ledger

    assert "STATE failed" in daily_runs.red_out, daily_runs.red_out[-4000:]
    tasks = daily_runs.red_tasks
    assert tasks["deliver"] == "failed" and tasks["balance"] == "success" and tasks["watcher"] == "failed", tasks
    assert tasks["route"] == "success" and tasks["purge_personal"] == "success"
    ledger = Ledger(f"sqlite:///{daily_runs.ledger}")
    trail = ledger.audit_trail(daily_runs.red_id)
    failed = [a for a in trail if a["action"] == "task_failed" and a["object_id"] == "cohandling_daily.deliver"]
    assert failed, [a["action"] for a in trail][-10:]
    error = json.loads(failed[-1]["detail"])["error"]
    assert error.startswith("DeliveryOverdue: 投递超时未完成 / deliveries unconfirmed longer than 0 h:")
    from connectors.ledger import utcnow

    first = ledger.cohandling.stuck_deliveries(utcnow() + timedelta(days=1))[0]  # the audit text is clipped: the first receiver named
    assert f"{first['channel']} {first['destination']}" in error and f": {first['units']} 工单 work orders pending since" in error
    assert [a for a in trail if a["action"] == "balance_checked"]
    assert not [a for a in ledger.audit_trail(daily_runs.green_id) if a["action"] == "task_failed"]  # the green run before it: no failure
    ledger.dispose()
