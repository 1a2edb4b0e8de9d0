"""Every DAG file imports fast with no heavy library at module level; the daily DAG runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlparse

import pytest

from tests.dags.conftest import base_env

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))  # dags/_common.py is shared, not a DAG
HEAVY = ["pandas", "pyarrow", "great_expectations", "paramiko", "asyncssh", "openpyxl", "faker", "connectors", "transforms", "simulators"]

# Airflow itself is imported first (the DAG processor has it loaded); what is timed is the
# DAG file, and what it drags in beyond Airflow.
PROBE = """
import importlib.util, json, os, sys, time, traceback
import airflow.sdk, pendulum
from airflow.timetables.trigger import CronTriggerTimetable
before = set(sys.modules)
out = {}
for path in sys.argv[1:]:
    sys.stdout.flush(); sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the DAG file imported in a copy of this process: Airflow loaded, nothing else
        os.close(r)
        try:
            t = time.perf_counter()
            spec = importlib.util.spec_from_file_location("dag_under_test", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            took = time.perf_counter() - t
            data = {"seconds": took, "new": sorted(m.split(".")[0] for m in set(sys.modules) - before)}
        except BaseException:
            data = {"error": traceback.format_exc()}
        os.write(w, json.dumps(data).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = f.read()
    os.waitpid(pid, 0)
    out[path] = json.loads(got) if got else {"error": "the probe's child died"}
print(json.dumps(out))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path)


@pytest.fixture(scope="module")
def imports() -> dict[str, dict]:
    """PROBE over every DAG file: one child imports Airflow, then forks once per file (each fork starts from a
    process with Airflow loaded and nothing of the gateway's, as a fresh process per file would, without paying
    Airflow's import again for each)."""
    with tempfile.TemporaryDirectory() as where:
        done = subprocess.run([sys.executable, "-c", PROBE, *map(str, DAG_FILES)], env=_env(Path(where)), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_fast_and_light(path, imports):
    probe = imports[str(path)]
    assert "error" not in probe, probe.get("error")
    assert probe["seconds"] < 2.0
    assert not set(probe["new"]) & set(HEAVY), f"imported at parse time: {set(probe['new']) & set(HEAVY)}"


# Every task of every DAG, as the scheduler sees it: its execution timeout and failure callbacks,
# and the DAG's own failure callback.
TASKS_PROBE = """
import importlib.util, json, sys
out = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("dag_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    callbacks = dag.on_failure_callback if isinstance(dag.on_failure_callback, list) else [dag.on_failure_callback]
    out[dag.dag_id] = {
        "callback": [f"{c.__module__}.{c.__name__}" for c in callbacks if c is not None],
        "params": {k: dag.params.get_param(k).dump() for k in dag.params},
        "tasks": {t.task_id: {"timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                              "callbacks": [f"{c.__module__}.{c.__name__}" for c in (t.on_failure_callback or [])],
                              "pool": t.pool, "priority": t.priority_weight, "weight_rule": str(getattr(t.weight_rule, "value", t.weight_rule))}
                  for t in dag.tasks},
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dags() -> dict[str, dict]:
    """TASKS_PROBE over every DAG file, once for the module."""
    with tempfile.TemporaryDirectory() as where:
        done = subprocess.run([sys.executable, "-c", TASKS_PROBE, *map(str, DAG_FILES)], env=_env(Path(where)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_task_has_an_execution_timeout_and_every_dag_a_failure_callback(dags):
    assert set(dags) == {p.stem for p in DAG_FILES}
    for dag_id, dag in dags.items():
        assert dag["callback"] == ["jobs.common.alerts.on_failure"], dag_id
        for task_id, task in dag["tasks"].items():
            assert task["timeout"] and 0 < task["timeout"] <= 3 * 3600, f"{dag_id}.{task_id}: execution_timeout {task['timeout']}"
            assert "jobs.common.alerts.on_failure" in task["callbacks"], f"{dag_id}.{task_id}: no failure callback"
    # The lines that take work from the ledger end with the lifetime balance.
    for dag_id in ("cohandling_daily", "cohandling_results", "remote_collection"):
        assert "balance" in dags[dag_id]["tasks"], dag_id


# Which external system each task talks to, hence its pool (dags/_common.py); every other task is in Airflow's default pool.
POOLS = {
    "cohandling_daily.extract": "gateway_platform_db",
    "cohandling_daily.deliver": "gateway_grid",  # the grid, the county systems and the drops: one task, the strictest pool
    "cohandling_reminders.remind": "gateway_grid",  # the weekly reminders reach the same three: the same pool
    "cohandling_results.collect_drops": "gateway_sftp_drops",
    "cohandling_results.collect_grid": "gateway_grid",
    "cohandling_results.collect_counties": "gateway_counties",
    "remote_collection.extract": "gateway_platform_db",
    "remote_collection.deliver": "gateway_counties",
    "remote_collection.statuses": "gateway_counties",
}


def test_every_dag_has_the_as_of_param_and_every_task_its_pool_and_priority(dags):
    """as_of on every DAG (optional, null by default); the pools the tasks use are the ones deploy/pools.json
    defines (the grid's with one slot) and each is used; the daily push ahead of everything, reports last."""
    for dag_id, dag in dags.items():
        as_of = dag["params"]["as_of"]
        assert as_of["value"] is None and as_of["schema"]["type"] == ["null", "string"] and "Asia/Shanghai" in as_of["description"], dag_id
    tasks = {f"{d}.{t}": task for d, dag in dags.items() for t, task in dag["tasks"].items()}
    assert {k: t["pool"] for k, t in tasks.items() if t["pool"] != "default_pool"} == POOLS
    pools = json.loads((ROOT / "deploy" / "pools.json").read_text(encoding="utf-8"))
    assert set(pools) == set(POOLS.values()) and pools["gateway_grid"]["slots"] == 1
    assert all(set(p) == {"slots", "description", "include_deferred"} and p["slots"] >= 1 for p in pools.values())  # `airflow pools import`
    assert {t["weight_rule"] for t in tasks.values()} == {"absolute"}
    daily = {t["priority"] for k, t in tasks.items() if k.startswith("cohandling_daily.")}
    reports = {t["priority"] for k, t in tasks.items() if k.split(".")[0] in ("cohandling_report", "remote_report")}
    others = {t["priority"] for k, t in tasks.items()} - daily
    assert len(daily) == 1 and min(daily) > max(others) and max(reports) == min(others)


def test_the_failure_callback_logs_one_line_writes_the_audit_log_and_never_raises(tmp_path, monkeypatch, caplog, capsys):
    from types import SimpleNamespace

    from connectors.ledger import Ledger
    from jobs.common.alerts import on_failure

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "ledger.db")}))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    ti = SimpleNamespace(dag_id="cohandling_daily", task_id="validate", run_id="scheduled__2026-11-20", try_number=3)
    with caplog.at_level("ERROR", logger="jobs.common.alerts"):
        on_failure({"ti": ti, "exception": ValueError("买方证件号码 370102199001011234 电话 13812345678 无效")})
    lines = [r.getMessage() for r in caplog.records if r.name == "jobs.common.alerts"]
    assert len(lines) == 1 and "dag=cohandling_daily task=validate try=3 run=scheduled__2026-11-20: ValueError" in lines[0]
    assert "370102199001011234" not in lines[0] and "13812345678" not in lines[0] and "370102********1234" in lines[0]
    entry = ledger.audit_trail("scheduled__2026-11-20")[-1]
    assert (entry["actor"], entry["action"], entry["object_id"]) == ("airflow", "task_failed", "cohandling_daily.validate")
    assert "370102199001011234" not in entry["detail"]

    on_failure({"dag_run": SimpleNamespace(dag_id="remote_collection", run_id="manual__1"), "reason": "task_failure"})  # a DAG run's
    assert ledger.audit_trail("manual__1")[-1]["action"] == "dag_run_failed"
    # A DAG's callback as Airflow 3 calls it: the context of the task that failed last, and the reason.
    caplog.clear()
    capsys.readouterr()
    with caplog.at_level("ERROR", logger="jobs.common.alerts"):
        on_failure({"ti": SimpleNamespace(dag_id="cohandling_daily", task_id="deliver", run_id="manual__2", try_number=3), "reason": "task_failure"})
    # (Airflow's logging is set up by now: the line goes to its handler on stdout rather than to pytest's, see below)
    assert "GATEWAY FAILURE dag=cohandling_daily dag run (last failed task: deliver) run=manual__2: task_failure" in caplog.text + capsys.readouterr().out
    entry = ledger.audit_trail("manual__2")[-1]
    assert (entry["action"], entry["object_id"], json.loads(entry["detail"])["failed_task"]) == ("dag_run_failed", "cohandling_daily", "deliver")
    # Never raises: no context at all, a context that breaks on reading, a ledger that cannot be reached.
    on_failure(None)
    on_failure({"ti": object(), "exception": object()})
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "missing" / "nowhere.db")}))
    capsys.readouterr()
    with caplog.at_level("WARNING", logger="jobs.common.alerts"):
        on_failure({"ti": ti, "exception": RuntimeError("ledger down")})
    # (once Airflow has set up its logging, the line goes to its handler on stdout rather than to pytest's)
    assert "not written to the ledger's audit log: OperationalError" in caplog.text + capsys.readouterr().out
    ledger.dispose()


def test_daily_dag_runs_end_to_end(daily_runs):
    """The daily DAG's green run (tests/dags/conftest.py daily_runs: 300 records, the sample forms, no channel configured),
    judged on the ledger as that run left it."""
    from connectors.ledger import Ledger

    run = SimpleNamespace(stdout=daily_runs.green_out, stderr=daily_runs.green_err)
    assert "STATE success" in run.stdout, (run.stdout + run.stderr)[-4000:]
    # Quiet task logs (the tasks sit in pools no one created: dag.test() needs none): no Great Expectations chatter, no
    # progress bar, nothing on stderr — a worker logs a task's stderr as ERROR lines.
    assert "[great_expectations" not in run.stdout and "Calculating Metrics" not in run.stdout + run.stderr
    assert run.stderr == "", run.stderr[-3000:]
    ledger = Ledger(f"sqlite:///{daily_runs.green_ledger}")
    assert ledger.counts()["changes"] == 300
    orders = ledger.cohandling.work_order_counts()  # the forms were loaded first, then records routed by them
    assert orders[("grid", "ready")] > 0 and orders[("account", "ready")] > 0 and orders[("system", "ready")] > 0
    assert len(list((daily_runs.inbox / "processed").rglob("*.issues.csv"))) == 32
    checked = [a for a in ledger.audit_trail() if a["action"] == "balance_checked"]  # the last task: the lifetime balance held
    assert len(checked) == 1 and json.loads(checked[0]["detail"])["holds"] and checked[0]["run_id"] == daily_runs.green_id
    # The purge ran and was audited: nothing of this run is past retention yet, so it purged nothing (docs/security.md).
    purged = [json.loads(a["detail"]) for a in ledger.audit_trail(daily_runs.green_id) if a["action"] == "personal_purged"]
    assert len(purged) == 1 and purged[0]["units"] == {} and purged[0]["retention_days"]["record"] == 180
    # The last task sealed the audit chain outside the ledger (docs/audit.md): the seal checks with the public key.
    from jobs.common.audit_seal import read_public_key, verify

    assert len(list(daily_runs.seals.glob("seal_*.json"))) == 1
    verdict = verify(ledger, seals_dir=daily_runs.seals, public_key=read_public_key(daily_runs.seal_public.read_bytes()))
    assert verdict.ok and len(verdict.seals) == 1 and verdict.seals[0].seq == verdict.head_seq - 1  # the seal's own entry follows it
    ledger.dispose()
    # The run links to its validation page (dags/_links.py), read back as the API server reads it; the page is the offline one.
    link = daily_runs.links["校验结果 validation page"]
    path = unquote(urlparse(link).path)
    assert link.startswith("file://") and path.endswith("/validation.html") and path.startswith(str(daily_runs.tmp / "runs")), link
    assert "数据校验结果" in open(path, encoding="utf-8").read() and "data_docs" not in path


def test_remote_collection_dag_runs_end_to_end(tmp_path, dag_env):
    """Checklists from the inbox, packages extracted, validated, delivered to the simulated property
    counties (each once), statuses polled, return lists written: one `dag.test()`."""
    from connectors.ledger import Ledger
    from simulators.receivers.receiver_process import ReceiverProcess
    from simulators.remote_db import RemoteDB
    from simulators.remote_module import generate

    module = RemoteDB(f"sqlite:///{tmp_path / 'platform.db'}")
    module.create()
    from datetime import UTC, datetime, timedelta

    local_now = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=8)
    # Collected over the last four weeks (the module stamps CHANGE_TIME now: the run's cut-off is now too).
    module.write(generate(150, seed=31, start=local_now - timedelta(days=27), end=local_now - timedelta(hours=1), defect_rate=0.1, cross_province_rate=0.05))
    module.dispose()
    inbox = tmp_path / "checklists"
    inbox.mkdir()
    for form in (ROOT / "forms" / "samples" / "remote").iterdir():
        shutil.copy(form, inbox / form.name)
    with ReceiverProcess(tmp_path / "receivers.db", {"gw": "dag-secret"}) as sim:
        port = int(sim.url.rsplit(":", 1)[1])
        http = {"conn_type": "http", "host": "127.0.0.1", "port": port, "login": "gw", "password": "dag-secret"}
        env = dag_env(tmp_path)  # Airflow's metadata and the ledger (tmp_path/ledger.db) migrated (tests/dags/conftest.py)
        env.update({
            "AIRFLOW_CONN_GATEWAY_PLATFORM": json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "platform.db")}),
            "AIRFLOW_CONN_COUNTY_SYSTEM_DEFAULT": json.dumps(http | {"extra": {"base_path": "/county/{xzqh}"}}),
            "AIRFLOW_CONN_CROSS_PROVINCE": json.dumps(http | {"extra": {"base_path": "/cross-province"}}),
            "GATEWAY_CHECKLIST_INBOX": str(inbox), "GATEWAY_OUTPUT_DIR": str(tmp_path / "runs"), "GATEWAY_REPORT_DIR": str(tmp_path / "reports"),
        })
        code = ("import sys, pendulum; sys.path.insert(0, 'dags'); import remote_collection as m; "
                "r = m.dag.test(logical_date=pendulum.now('UTC')); print('STATE', r.state)")
        run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert "STATE success" in run.stdout, (run.stdout + run.stderr)[-4000:]
        held = [a["idempotency_key"] for a in sim.packages_truth()["accepted"]]
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    counts = ledger.remote.remote_counts()
    assert counts["packages"] == 150 == counts["passed"] + counts["returned"] and counts["returned"] > 0
    delivered = [d["idempotency_key"] for d in ledger.remote.remote_deliveries() if d["status"] == "delivered"]
    assert sorted(held) == sorted(delivered) and len(delivered) == counts["passed"]
    assert len(list((inbox / "processed").rglob("*.issues.csv"))) == 18
    assert list((tmp_path / "runs").rglob("退回清单_*.xlsx"))  # the validation returns went back to their halls
    assert list((tmp_path / "reports" / "handover").glob("移交清单_*.pdf"))  # earlier weeks have ended
    checked = [a for a in ledger.audit_trail() if a["action"] == "balance_checked"]
    assert len(checked) == 1 and json.loads(checked[0]["detail"])["surfaces"]["remote_package"]["received"] == 150



def test_working_calendar_dag_fails_before_a_year_with_no_arrangement_and_passes_with_one(monkeypatch):
    """December 2026 with no 2027 arrangement (chinese-calendar ends at 2026): the check fails loudly,
    naming the year and where to add it; the operator's file for 2027 makes it pass. The task's own
    callable, as the DAG file defines it (no Airflow database needed)."""
    import importlib

    import pendulum

    from jobs.common import reference
    from transforms.common.workdays import parse_arrangements

    monkeypatch.syspath_prepend(str(ROOT / "dags"))
    check = importlib.import_module("working_calendar").dag.get_task("check_arrangements").python_callable
    december = pendulum.datetime(2026, 12, 1, 22, tz="UTC")  # 2 December, 06:00 in Shandong
    monkeypatch.setattr(reference, "calendar_arrangements", lambda: parse_arrangements([], []))
    with pytest.raises(RuntimeError, match="2027 年的节假日安排尚未录入.*reference/calendar/years.csv"):
        check(data_interval_end=december)
    assert check(data_interval_end=pendulum.datetime(2026, 10, 1, tz="UTC"))["today"] == "2026-10-01"  # more than 45 days ahead: quiet
    data = parse_arrangements([{"year": "2027", "published": "2026-11-10", "source": "test"}], [{"date": "2027-01-01", "kind": "holiday", "name": "x"}])
    monkeypatch.setattr(reference, "calendar_arrangements", lambda: data)
    assert check(data_interval_end=december)["operator_years"] == [2027]
