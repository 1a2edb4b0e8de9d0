"""Screenshots of the deployment's Airflow UI (docs/screenshots/; `make test-deploy` takes them from its run):
the grid of cohandling_daily and a task log with the identifiers masked.

Debian's chromium in headless mode (`--screenshot`, a virtual-time budget so the React UI has rendered),
a fresh profile each time, nothing fetched but the loopback UI. The task log is also read through the
REST API and checked: resident ID numbers appear only masked (370102********123X), never in full.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--virtual-time-budget=15000"]
FULL_ID = re.compile(r"(?<![0-9*])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[0-9Xx](?![0-9*])")
MASKED_ID = re.compile(r"\d{6}\*{8}\d{3}[0-9X]")
RECORDS_IN = re.compile(r"'records_in': (\d+)")


def shoot(url: str, target: Path, *, width: int = 1600, height: int = 1000) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gateway-shot-") as profile:
        subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", f"--screenshot={target}", url],
                       check=True, capture_output=True, timeout=180)
    return target


def log_text(dep, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
    """The task's log as the API serves it (structured lines joined as text)."""
    from tools.deploy import api

    body = api(dep, "GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/logs/{try_number}",
               params={"full_content": "true"}, headers={"Accept": "application/json"})
    content = body.get("content", []) if isinstance(body, dict) else body
    return "\n".join(line if isinstance(line, str) else " ".join(str(v) for v in line.values()) for line in content)


def capture(dep, out_dir: Path, *, dag_id: str = "cohandling_daily") -> dict:
    """The grid of `dag_id` and a task log of its successful manual run that validated the most records:
    deliver's when its log shows masked identifiers, else validate's."""
    from tools.deploy import api

    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        return {"ok": False, "error": f"{CHROMIUM} missing (Debian's chromium)"}
    if not _has_cjk_font():  # the logs and the UI's Chinese would be drawn as empty boxes
        return {"ok": False, "error": "no Chinese font: install Debian's fonts-noto-cjk for the screenshots"}
    runs = api(dep, "GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
    done = [r["dag_run_id"] for r in runs if r["state"] == "success" and r["run_type"] == "manual"]
    if not done:
        return {"ok": False, "error": f"no successful manual run of {dag_id} to show"}
    logs = {run_id: log_text(dep, dag_id, run_id, "validate") for run_id in done}
    run_id = max(done, key=lambda r: max(map(int, RECORDS_IN.findall(logs[r])), default=-1))
    chosen, text = "validate", logs[run_id]
    deliver = log_text(dep, dag_id, run_id, "deliver")
    if MASKED_ID.search(deliver) and not MASKED_ID.search(text):
        chosen, text = "deliver", deliver
    base = dep.api_url()
    files = [shoot(f"{base}/dags/{dag_id}", Path(out_dir) / f"airflow-grid-{dag_id}.png"),
             shoot(f"{base}/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{chosen}", Path(out_dir) / f"airflow-log-{dag_id}-{chosen}.png",
                   width=1900, height=1000)]
    full = FULL_ID.findall(text)
    return {"ok": not full, "run_id": run_id, "task": chosen, "files": [str(f) for f in files],
            "masked_ids_in_log": len(MASKED_ID.findall(text)), "full_ids_in_log": len(full)}


def _has_cjk_font() -> bool:
    """A font with Chinese glyphs is installed (fontconfig's `fc-list :lang=zh`)."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())
