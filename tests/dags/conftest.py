"""What the DAG tests share, built once per session (the tier's cost is Airflow's start-up, not the tests' own work).

- `migrated`: what a deployment runs before the scheduler starts (dags/_common.py) — `airflow db migrate` and
  `python -m tools.cli db upgrade --conn-id gateway_ledger` — run once, for real, into a template Airflow home and a
  SQLite ledger; `dag_env(tmp_path)` gives each test its own copies of both files (copying is ~instant, migrating
  ~30 s), so every test still starts from a fresh metadata database and a fresh ledger of its own.
- `daily_runs`: the daily DAG (cohandling_daily) run by `dag.test()` twice on one ledger in one child process: a
  green run, then a red one (deliver's pending age 0 h, no channel configured: deliver fails, balance runs, the watcher
  ends the run red). The ledger after the green run is kept as a copy, so the green run's assertions read what it left.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    }


def sqlite_conn(path: Path) -> str:
    return json.dumps({"conn_type": "sqlite", "host": str(path)})


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> SimpleNamespace:
    """(airflow.db, ledger.db) as the deployment's two migrate commands leave them, once for the session."""
    where = tmp_path_factory.mktemp("migrated")
    env = base_env(where)
    env["AIRFLOW_CONN_GATEWAY_LEDGER"] = sqlite_conn(where / "ledger.db")
    for command in (["airflow", "db", "migrate"], ["tools.cli", "db", "upgrade", "--conn-id", "gateway_ledger"]):
        done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    airflow_db, ledger_db = where / "airflow" / "airflow.db", where / "ledger.db"
    assert airflow_db.stat().st_size > 0 and ledger_db.stat().st_size > 0
    return SimpleNamespace(airflow_db=airflow_db, ledger_db=ledger_db)


@pytest.fixture(scope="session")
def dag_env(migrated):
    """dag_env(tmp_path, ledger=True) -> the child's environment: its own Airflow home under tmp_path with a copy of the
    migrated metadata database and, with ledger=True, a copy of the migrated ledger at tmp_path/ledger.db (connection
    gateway_ledger). What the deployment would have run before its scheduler started, without running it again."""

    def make(tmp_path: Path, *, ledger: bool = True) -> dict[str, str]:
        env = base_env(tmp_path)
        (tmp_path / "airflow").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated.airflow_db, tmp_path / "airflow" / "airflow.db")
        if ledger:
            shutil.copyfile(migrated.ledger_db, tmp_path / "ledger.db")
            env["AIRFLOW_CONN_GATEWAY_LEDGER"] = sqlite_conn(tmp_path / "ledger.db")
        return env

    return make


# Two runs of the daily DAG in one child process (Airflow imported once). Each run's output goes to files of its own
# (fd 1 and 2 redirected), so what the green run printed is judged apart from the red run's. Between the runs the
# ledger is copied (SQLite's backup API); after them, the green run's extra links as the API server resolves them
# (the DAG serialized and deserialized, each link from the XCom the worker stored).
DAILY_RUNNER = """
import json, os, sqlite3, sys
sys.path.insert(0, 'dags')
out = sys.argv[1]

def to(name):
    sys.stdout.flush(); sys.stderr.flush()
    for fd, ext in ((1, 'out'), (2, 'err')):
        f = os.open(f'{out}/{name}.{ext}', os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(f, fd); os.close(f)

to('green')
import cohandling_daily as m
green = m.dag.test()
print('STATE', green.state)
to('between')
src, dst = sqlite3.connect(sys.argv[2]), sqlite3.connect(sys.argv[3])
src.backup(dst); dst.close(); src.close()
to('red')
os.environ['GATEWAY_AUDIT_SEAL_DIR'] = sys.argv[4]  # the red run's seal apart: the green copy verifies against the green run's seals
# deliver's retries off: dag.test() would wait out its retry delays; what is tested is the run's end state
os.environ['GATEWAY_DELIVER_PENDING_HOURS'] = '0'
m.dag.get_task('deliver').retries = 0
red = m.dag.test()
print('STATE', red.state)
print('TASKS', json.dumps({t.task_id: str(t.state) for t in red.get_task_instances()}))
to('links')
from sqlalchemy import select
from airflow.models.taskinstance import TaskInstance
from airflow.serialization.serialized_objects import DagSerialization
from airflow.utils.session import create_session
op = DagSerialization.from_dict(DagSerialization.to_dict(m.dag)).get_task('validate')
with create_session() as session:
    ti = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == m.dag.dag_id, TaskInstance.run_id == green.run_id,
                                                     TaskInstance.task_id == 'validate')).one()
    print('LINKS ' + json.dumps({n: op.get_extra_links(ti, n) for n in op.extra_links}, ensure_ascii=False))
print('RUNS ' + json.dumps([green.run_id, red.run_id]))
"""


@pytest.fixture(scope="session")
def daily_runs(dag_env, tmp_path_factory) -> SimpleNamespace:
    """The daily DAG's green run, then its red run, on one ledger (300 synthetic records, the sample forms in the inbox,
    no channel configured). The Deadline Alert is off (dag.test() cannot finish a DAG that has one)."""
    from simulators.platform import generate
    from simulators.platform_db import PlatformDB

    tmp = tmp_path_factory.mktemp("daily")
    platform = PlatformDB(f"sqlite:///{tmp / 'platform.db'}")
    platform.create()
    platform.write(generate(300, seed=21))
    platform.dispose()
    env = dag_env(tmp)
    env["AIRFLOW_CONN_GATEWAY_PLATFORM"] = sqlite_conn(tmp / "platform.db")
    env["GATEWAY_OUTPUT_DIR"] = str(tmp / "runs")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for form in (p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file()):
        shutil.copy(form, inbox / form.name)
    env["GATEWAY_REGISTRY_INBOX"] = str(inbox)
    env["GATEWAY_DAILY_DEADLINE_MINUTES"] = "0"  # dag.test() cannot finish a DAG with a Deadline Alert (jobs/common/settings.daily_deadline)
    env.pop("GATEWAY_DELIVER_PENDING_HOURS", None)  # the default (24 h) for the green run
    from jobs.common.audit_seal import make_key

    seal_key, seal_public = make_key(tmp / "seal.pem")  # the last task seals the audit chain (docs/audit.md)
    env["GATEWAY_AUDIT_SEAL_KEY"], env["GATEWAY_AUDIT_SEAL_DIR"] = str(seal_key), str(tmp / "seals")
    logs = tmp / "logs"
    logs.mkdir()
    done = subprocess.run([sys.executable, "-c", DAILY_RUNNER, str(logs), str(tmp / "ledger.db"), str(tmp / "ledger-green.db"), str(tmp / "seals-red")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    read = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in logs.iterdir()}
    last = "".join(read.get(f"{n}.{e}", "") for n in ("green", "between", "red", "links") for e in ("out", "err"))
    assert done.returncode == 0 and "RUNS " in read.get("links.out", ""), (done.stdout + done.stderr + last)[-4000:]
    line = {x.split(" ", 1)[0]: x.split(" ", 1)[1] for x in read["links.out"].splitlines() + read["red.out"].splitlines()
            if x.startswith(("LINKS ", "RUNS ", "TASKS "))}
    green_id, red_id = json.loads(line["RUNS"])
    return SimpleNamespace(tmp=tmp, env=env, inbox=inbox, green_out=read["green.out"], green_err=read["green.err"],
                           red_out=read["red.out"] + read["red.err"], red_tasks=json.loads(line["TASKS"]), links=json.loads(line["LINKS"]),
                           green_ledger=tmp / "ledger-green.db", ledger=tmp / "ledger.db", green_id=green_id, red_id=red_id,
                           seals=tmp / "seals", seal_public=seal_public)
