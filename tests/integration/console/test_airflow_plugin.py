"""The console inside Airflow 3.3's own API server app (airflow.api_fastapi.app.create_app): plugins/gateway_console.py
is found by Airflow's plugins manager and mounted at /gateway; the user is the one of the JWT Airflow's auth manager
issued (the `_token` cookie of the Airflow UI), scoped by the users file; no token or a forged one: Airflow's login.
Runs in a subprocess with its own AIRFLOW_HOME (a fresh metadata DB: Airflow checks revoked tokens there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROBE = r'''
import json
from airflow import plugins_manager
from airflow.api_fastapi.app import create_app, get_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from fastapi.testclient import TestClient

apps, _ = plugins_manager.get_fastapi_plugins()
app = create_app(apps="core")
client = TestClient(app)
out = {"plugins": [a["url_prefix"] for a in apps]}
out["nav"] = [v["href"] for info in plugins_manager.get_plugin_info() if info["name"] == "gateway_console" for v in info["external_views"]]

def get(path, user=None, token=None):
    client.cookies.clear()
    if user:
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=user, role="viewer"))
    if token:
        client.cookies.set("_token", token)
    r = client.get(path, follow_redirects=False)
    return [r.status_code, r.headers.get("location"), "协办网关控制台" in r.text]

out["anonymous"] = get("/gateway/")
out["forged"] = get("/gateway/", token="eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhdWRpdG9yIn0.c2lnbmF0dXJl")
out["auditor_home"] = get("/gateway/", user="auditor")
out["auditor_quarantine"] = get("/gateway/quarantine", user="auditor")
out["institution_quarantine"] = get("/gateway/quarantine", user="shizhong-heat")
out["institution_board"] = get("/gateway/board", user="shizhong-heat")
out["unknown_user"] = get("/gateway/", user="nobody")
print("RESULT " + json.dumps(out))
'''


def test_the_console_is_served_by_airflows_api_server_with_airflows_login(world, tmp_path):
    ledger_path = world.ledger.engine.url.database
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIRFLOW_HOME": str(tmp_path), "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__API_AUTH__JWT_SECRET": "console-test-secret",
           "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "auditor:viewer,shizhong-heat:viewer",
           "GATEWAY_CONSOLE_USERS": str(ROOT / "console" / "demo_users.json"),
           "AIRFLOW_CONN_GATEWAY_LEDGER": json.dumps({"conn_type": "sqlite", "host": ledger_path})}
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=600)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    out = json.loads(lines[-1][7:])
    assert out["plugins"] == ["/gateway"] and out["nav"] == ["/gateway/"]  # mounted, and in the Airflow UI's navigation
    for case in ("anonymous", "forged"):
        status, location, _ = out[case]
        assert status == 303 and location.startswith("/auth/login?next="), (case, out[case])
    assert out["auditor_home"][0] == 200 and out["auditor_home"][2]
    assert out["auditor_quarantine"][0] == 200
    assert out["institution_quarantine"][0] == 404
    assert out["institution_board"][0] == 200
    assert out["unknown_user"][0] == 403
