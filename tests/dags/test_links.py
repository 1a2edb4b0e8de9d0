"""Each DAG run links to the pages it wrote, as Airflow's UI shows them: the task's extra links, read back the way
the API server reads them (the DAG serialized and deserialized, the link taken from the XCom the worker stored).
The report tasks link to report.html (validate of cohandling_daily to its validation page: test_dags.py's daily run) — under the
served URL when $GATEWAY_REPORT_URL is set, else as a file:// URL."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.dags.test_dags import ROOT

# Runs DAGs with dag.test() in one process, then each task's extra links as the API server resolves them.
PROBE = """
import json, sys
sys.path.insert(0, 'dags')
from sqlalchemy import select
from airflow.models.taskinstance import TaskInstance
from airflow.serialization.serialized_objects import DagSerialization
from airflow.utils.session import create_session
out = {}
for module, task_id in json.loads(sys.argv[1]):
    m = __import__(module)
    run = m.dag.test(logical_date=None)
    served = DagSerialization.from_dict(DagSerialization.to_dict(m.dag))
    op = served.get_task(task_id)
    with create_session() as session:
        ti = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == m.dag.dag_id, TaskInstance.run_id == run.run_id,
                                                         TaskInstance.task_id == task_id)).one()
        out[module] = {"state": str(getattr(run.state, 'value', run.state)), "links": {n: op.get_extra_links(ti, n) for n in op.extra_links}}
print('LINKS ' + json.dumps(out, ensure_ascii=False))
"""


def _links(env: dict, runs: list[tuple[str, str]]) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(runs)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    line = [x for x in done.stdout.splitlines() if x.startswith("LINKS ")]
    assert line, (done.stdout + done.stderr)[-4000:]
    return json.loads(line[-1].removeprefix("LINKS "))


def test_the_report_tasks_link_to_report_html_under_the_served_url(tmp_path, dag_env):
    env = dag_env(tmp_path)  # Airflow's metadata and the ledger migrated (tests/dags/conftest.py)
    env["GATEWAY_REPORT_DIR"] = str(tmp_path / "reports")
    env["GATEWAY_REPORT_URL"] = "https://gateway.example.gov.cn/reports/"
    runs = _links(env, [("cohandling_report", "report"), ("remote_report", "report")])
    day = next(p.name for p in (tmp_path / "reports").iterdir())
    assert runs["cohandling_report"]["links"] == {"报告 report": f"https://gateway.example.gov.cn/reports/{day}/report.html"}, runs
    assert runs["remote_report"]["links"] == {"报告 report": f"https://gateway.example.gov.cn/reports/{day}/remote/report.html"}, runs
    assert (tmp_path / "reports" / day / "remote" / "report.html").exists()
