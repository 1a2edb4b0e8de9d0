"""`cohandling_report` as Airflow runs it (`dag.test()` in a child process), on an empty and on a
full ledger, on SQLite and on PostgreSQL (a database per ledger, dropped afterwards); and the
DAG param `as_of`, which sets the run's clock: the report's day and the time statuses are
judged at. The runs are manual runs without a logical date (as Airflow 3 makes them), so
without as_of the clock is the trigger time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.dags.test_dags import ROOT

# Several runs of the report DAG in one child process (Airflow is imported once); each run's
# state on the last line.
RUNNER = """
import json, sys
sys.path.insert(0, 'dags')
import cohandling_report as m
states = []
for conf in json.loads(sys.argv[1]):
    run = m.dag.test(logical_date=None, run_conf=conf)
    states.append(getattr(run.state, 'value', str(run.state)))
print('STATES ' + json.dumps(states))
"""
RESULTS = {"0000": 2, "0003": 1}  # per receiver with something delivered: two done, one refused (欠费未结清)


@contextmanager
def _ledger_database(kind: str, where: Path, request) -> Iterator[tuple[str, dict]]:
    """(SQLAlchemy URL, Airflow connection) of a new, empty database: a SQLite file, or a PostgreSQL database of its own."""
    if kind == "sqlite":
        path = where / "ledger.db"
        yield f"sqlite:///{path}", {"conn_type": "sqlite", "host": str(path)}
        return
    import sqlalchemy as sa

    server = sa.make_url(request.getfixturevalue("pg_server").replace("postgresql://", "postgresql+psycopg://"))
    name = f"dagtest_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield (server.set(database=name).render_as_string(hide_password=False),
               {"conn_type": "postgres", "host": server.host, "port": server.port, "login": server.username, "password": server.password, "schema": name})
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory, dag_env) -> dict[str, str]:
    """One Airflow home (a copy of the session's migrated metadata database, tests/dags/conftest.py) for the module's runs;
    the ledgers are the tests' own (the empty one migrated by the CLI, as a deployment does)."""
    return dag_env(tmp_path_factory.mktemp("airflow"), ledger=False)


def _report_runs(env: dict, conn: dict, reports: Path, confs: list[dict]) -> tuple[list[str], str]:
    env = {**env, "AIRFLOW_CONN_GATEWAY_LEDGER": json.dumps(conn), "GATEWAY_REPORT_DIR": str(reports)}
    run = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(confs)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    line = [x for x in run.stdout.splitlines() if x.startswith("STATES ")]
    assert line, (run.stdout + run.stderr)[-4000:]
    return json.loads(line[-1].removeprefix("STATES ")), run.stdout + run.stderr


def _local_now() -> datetime:
    return datetime.utcnow() + timedelta(hours=8)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_report_dag_on_an_empty_ledger_and_a_malformed_as_of(kind, airflow_env, tmp_path, request, migrated):
    """A fresh, migrated ledger: the report is green and its files are written, for the day before
    the trigger time. A malformed as_of fails the task at once (no retry), saying what is wrong,
    and both failure callbacks (the task's and the run's) write the audit log. The ledger is migrated by the
    deployment's command (`tools.cli db upgrade --conn-id gateway_ledger`): here on PostgreSQL, and for SQLite
    once for the session (tests/dags/conftest.py `migrated`), copied."""
    from connectors.ledger import Ledger

    with _ledger_database(kind, tmp_path, request) as (url, conn):
        if kind == "sqlite":
            shutil.copyfile(migrated.ledger_db, conn["host"])
        else:
            env = {**airflow_env, "AIRFLOW_CONN_GATEWAY_LEDGER": json.dumps(conn)}
            done = subprocess.run([sys.executable, "-m", "tools.cli", "db", "upgrade", "--conn-id", "gateway_ledger"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        before = (_local_now() - timedelta(days=1)).date()
        states, log = _report_runs(airflow_env, conn, tmp_path / "reports", [{}, {"as_of": "next tuesday"}])
        after = (_local_now() - timedelta(days=1)).date()
        assert states == ["success", "failed"], log[-4000:]

        days = [p.name for p in (tmp_path / "reports").iterdir()]
        assert days in ([before.isoformat()], [after.isoformat()])  # the trigger time's day before
        out = tmp_path / "reports" / days[0]
        meta = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert meta["statuses"] == {} and meta["records"]["received"] == 0 and meta["exceptions"] == 0
        assert (out / "report.html").stat().st_size > 0 and (out / "report.xlsx").stat().st_size > 0
        assert {p.name for p in (out / "csv").glob("*.csv")} >= {"汇总.csv", "超期清单.csv", "隔离清单.csv"}

        assert "invalid DAG param as_of='next tuesday': not an ISO date or date-time" in log
        failures = [x for x in log.splitlines() if "GATEWAY FAILURE dag=cohandling_report" in x]
        assert len(failures) == 2, log[-4000:]
        assert "task=report try=1 " in failures[0] and "AirflowFailException" in failures[0]  # failed for good on the first try
        assert "dag run (last failed task: report)" in failures[1] and ": task_failure" in failures[1]
        ledger = Ledger(url)
        try:
            actions = {(a["action"], a["object_id"]) for a in ledger.audit_trail()}
        finally:
            ledger.dispose()
        assert {("task_failed", "cohandling_report.report"), ("dag_run_failed", "cohandling_report")} <= actions


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def full_ledger(request, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A ledger after a day's work, built once per database: sample forms, 200 records extracted,
    validated and routed (tests/integration/pipeline.py, as the daily DAG does), every ready work order
    delivered (a local-folder drop, in-memory receivers), results published by the receivers and collected."""
    from connectors.testing import FakeReceiver, LocalDrops
    from jobs.cohandling.collect_results import collect_results, result_feeds
    from jobs.cohandling.deliver_orders import deliver_run
    from tests.integration.pipeline import AS_OF, routed_ledger

    where = tmp_path_factory.mktemp(f"full-{request.param}")
    with _ledger_database(request.param, where, request) as (url, conn):
        ledger = routed_ledger(url, where, rows=200, seed=91)
        receivers: dict[str, FakeReceiver] = {}
        channels = SimpleNamespace(receiver_for=lambda channel, destination: receivers.setdefault(destination, FakeReceiver(destination)))
        deliver_run(ledger, run_id="r1", day=AS_OF, drops=LocalDrops(where / "drops"), receiver_for=channels.receiver_for)
        handled = (_local_now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
        published: dict[str, int] = {}
        for receiver in receivers.values():
            keys = iter(list(receiver.held))
            for code, n in RESULTS.items():
                for key in [k for _, k in zip(range(n), keys)]:
                    receiver.publish_result(key, code=code, handled_at=handled, reason=None if code == "0000" else "欠费未结清")
                    published[code] = published.get(code, 0) + 1
        collected = collect_results(ledger, as_of=_local_now() + timedelta(hours=1), drops=None, feeds=result_feeds(ledger, channels), run_id="c1")
        assert collected.errors == [] and collected.results == sum(published.values())
        try:
            yield SimpleNamespace(ledger=ledger, conn=conn, published=published)
        finally:
            ledger.dispose()


def test_report_dag_on_a_full_ledger_counts_what_the_ledger_holds_as_of_the_param(full_ledger, airflow_env, tmp_path):
    """as_of the morning after the deliveries: the report is of the delivery day, and its counts are the
    ledger's — delivered, done, refused, still open, held, quarantined, records. As of ten days later: the
    report is of that later day (nothing was delivered then), its statuses judged at that time: the orders still open
    are overdue then, and in it."""
    ledger = full_ledger.ledger
    delivered = [d for d in ledger.cohandling.deliveries() if d["status"] == "delivered"]
    day = max((d["delivered_at"] + timedelta(hours=8)).date() for d in delivered)
    on_day = [d for d in delivered if (d["delivered_at"] + timedelta(hours=8)).date() == day]
    morning = datetime(day.year, day.month, day.day, 7, 30) + timedelta(days=1)
    later = morning + timedelta(days=10)
    states, log = _report_runs(airflow_env, full_ledger.conn, tmp_path / "reports",
                               [{"as_of": morning.isoformat()}, {"as_of": later.strftime("%Y-%m-%d %H:%M")}])
    assert states == ["success", "success"], log[-4000:]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [day.isoformat(), (later - timedelta(days=1)).date().isoformat()]

    meta = json.loads((tmp_path / "reports" / day.isoformat() / "report.json").read_text(encoding="utf-8"))
    st = meta["statuses"]
    assert meta["as_of"] == morning.isoformat(sep=" ") and meta["period"] == [day.isoformat()] * 2
    orders = ledger.cohandling.work_order_counts()
    done, refused = full_ledger.published["0000"], full_ledger.published["0003"]
    assert (st.get("done", 0), st.get("rejected", 0)) == (done, refused)
    assert st.get("delivered", 0) + st.get("acknowledged", 0) == len(on_day) - done - refused and st.get("overdue", 0) == 0
    for status in ("held", "quarantined"):
        assert st.get(status, 0) == sum(n for (_, s), n in orders.items() if s == status)
    assert meta["records"]["received"] == sum(ledger.record_state_counts().values()) == 200
    assert (tmp_path / "reports" / day.isoformat() / "report.xlsx").stat().st_size > 0

    ten = json.loads((tmp_path / "reports" / (later - timedelta(days=1)).date().isoformat() / "report.json").read_text(encoding="utf-8"))
    assert ten["as_of"] == later.isoformat(sep=" ")
    # nothing was delivered that day: the settled orders stay in their own day's report; those still open ten days on
    # are overdue and listed (期间前推送、仍未办结的也列入) — the 公示 list must not lose them for having been sent early
    assert not {"delivered", "acknowledged", "done", "rejected"} & set(ten["statuses"])
    assert ten["statuses"].get("overdue", 0) == st.get("delivered", 0) + st.get("acknowledged", 0) > 0
    assert ten["statuses"].get("held", 0) == st.get("held", 0)  # what never went out is listed every day, as of the run


def test_report_before_anything_is_delivered(tmp_path, monkeypatch):
    """Work orders routed, none delivered yet (a first day, or no channel configured): the report is
    written, every work order in it as pending, held or quarantined. As of a time before they were
    routed, the ledger knew none of them: the report of then holds none. The report task's own
    callable, as the DAG file defines it, with the run's params (the DAG runs above take 15 s each)."""
    import importlib

    from tests.integration.pipeline import routed_ledger

    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=60, seed=93)
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "ledger.db")}))
    monkeypatch.setenv("GATEWAY_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.syspath_prepend(str(ROOT / "dags"))
    report = importlib.import_module("cohandling_report").dag.get_task("report").python_callable
    tomorrow = (_local_now() + timedelta(days=1)).date()
    try:
        meta = report(params={"as_of": f"{tomorrow.isoformat()}T07:30"})
        earlier = report(params={"as_of": "2026-11-21T07:30"})  # before the ledger was built (routed_at is the wall clock)
        orders = ledger.cohandling.work_order_counts()
    finally:
        ledger.dispose()
    today = (tomorrow - timedelta(days=1)).isoformat()
    assert meta["period"] == [today, today] and (tmp_path / "reports" / today / "report.html").exists()
    assert sum(meta["statuses"].values()) == sum(orders.values()) and set(meta["statuses"]) <= {"pending", "held", "quarantined"}
    assert earlier["period"] == ["2026-11-20", "2026-11-20"] and earlier["statuses"] == {} and earlier["provenance"]["newest_change_seq"] is None
