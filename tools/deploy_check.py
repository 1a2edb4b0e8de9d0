"""`make test-deploy`: the production deployment started, run, checked and stopped — not part of `make test`
(it takes longer than the suite's 15 minutes allow on two cores, and needs root, PostgreSQL and Redis).

1. A fresh deployment of its own (var/deploy-test, databases gwtest_*, Redis db 12, drop-host account
   gwdtest; tools/deploy.py), every process under supervisord, two Celery workers.
2. cohandling_daily, cohandling_results, remote_collection and cohandling_report triggered together (the
   REST API; unpausing them also starts each one's latest scheduled run); every run and every task
   instance green on the first try (no try_number above 1); the ledger's lifetime balance; the
   receivers' truth (tools/deploy_truth.py: each work order and package held exactly once, and what the
   drops and simulators hold equals what the ledger says they hold).
3. The platform writes its next day; a normal run of cohandling_daily and, while it is running, a 3-day
   backfill (`POST /api/v2/backfills`, what `airflow backfill create` does); checked the same way, and
   sampled meanwhile: the extract watermarks never go back, no work order becomes quarantined at a
   version that was held, ready or delivered.
4. Task instances ran on both workers (their hostnames, tools/deploy_hostname.py).
5. Screenshots of the Airflow UI from the run (--screenshots DIR; tools/deploy_shots.py).
6. Everything it started stopped (supervisorctl shutdown; no process left). Its databases, Redis db and
   account are removed when everything passed; on a failure they stay for a look (the next run starts afresh).

Prints one JSON summary last (also written to var/deploy-test/summary.json); exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tools import deploy, deploy_seed, deploy_truth
from tools.deploy import ROOT, Deployment
from transforms.common import localtime

FIRST_ROUND = ("cohandling_daily", "cohandling_results", "remote_collection", "cohandling_report")
TEST = Deployment(home=ROOT / "var" / "deploy-test", db_prefix="gwtest", redis_db=12, sftp_user="gwdtest")
FINISHED = {"success", "failed"}


def _step(text: str) -> None:
    print(f"[test-deploy] {text}", flush=True)


def trigger(dep: Deployment, dag_id: str) -> str:
    """A manual run as of now (its logical date: the cut-off its tasks read)."""
    now = datetime.now(UTC).isoformat()
    return deploy.api(dep, "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": now, "conf": {}})["dag_run_id"]


def runs(dep: Deployment, dag_id: str) -> list[dict]:
    return deploy.api(dep, "GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]


def wait_runs(dep: Deployment, dag_ids, *, timeout_s: float, expect: dict[str, int] | None = None) -> dict[str, list[dict]]:
    """Until every run of `dag_ids` has finished (and each DAG has at least `expect[dag]` runs)."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        found = {d: runs(dep, d) for d in dag_ids}
        open_ = [f"{d}:{r['dag_run_id']}:{r['state']}" for d, rs in found.items() for r in rs if r["state"] not in FINISHED]
        short = [d for d in dag_ids if len(found[d]) < (expect or {}).get(d, 1)]
        if not open_ and not short:
            return found
        status = f"waiting for {len(open_)} runs: " + ", ".join(sorted(open_))[:300]
        if status != last:
            _step(status)
            last = status
        time.sleep(5)
    raise TimeoutError(f"runs still open after {timeout_s:.0f}s: {last}")


def task_instances(dep: Deployment, dag_id: str, run_id: str) -> list[dict]:
    return deploy.api(dep, "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})["task_instances"]


def green_first_try(dep: Deployment, found: dict[str, list[dict]], hosts: set[str]) -> dict:
    """Every run success, every task instance success on try 1; collects the hostnames that ran them."""
    problems, tis = [], 0
    for dag_id, rs in found.items():
        for r in rs:
            if r["state"] != "success":
                problems.append(f"run {dag_id}/{r['dag_run_id']}: {r['state']}")
            for ti in task_instances(dep, dag_id, r["dag_run_id"]):
                tis += 1
                if ti["hostname"]:
                    hosts.add(ti["hostname"])
                if ti["task_id"] == "watcher" and ti["state"] == "skipped":  # cohandling_daily's watcher runs only when a task failed
                    continue
                if ti["state"] != "success" or ti["try_number"] > 1:
                    problems.append(f"{dag_id}/{r['dag_run_id']}/{ti['task_id']}: {ti['state']} on try {ti['try_number']} ({ti['hostname']})")
    return {"ok": not problems, "runs": sum(len(rs) for rs in found.values()), "task_instances": tis, "problems": problems[:20]}


def receivers_client(dep: Deployment):
    """The simulators' /_sim controls, on the port the deployment gave them (not a process of ours to start)."""
    from simulators.receivers.receiver_process import ReceiverProcess

    client = ReceiverProcess(dep.home / "receivers" / "state.db", {})
    client.url = f"http://127.0.0.1:{dep.state()['receivers_port']}"
    return client


def truth(dep: Deployment, ledger) -> dict:
    from simulators.platform_db import PlatformDB

    platform = PlatformDB(deploy_seed.pg_url(dep.databases["platform"]))
    try:
        changes = platform.count()
    finally:
        platform.dispose()
    sim = receivers_client(dep)
    return {
        "balance": deploy_truth.balance(ledger),
        "work_orders": deploy_truth.work_orders_at_receivers(ledger, dep.home / "drops", sim),
        "packages": deploy_truth.packages_at_receivers(ledger, sim),
        "extract": deploy_truth.extract_complete(ledger, changes),
    }


def _ok(section: dict) -> bool:
    return all(v.get("ok", True) for v in section.values() if isinstance(v, dict))


def round_one(dep: Deployment, ledger, hosts: set[str], timeout_s: float) -> dict:
    started = time.monotonic()
    triggered = {d: trigger(dep, d) for d in FIRST_ROUND}
    _step(f"triggered together: {', '.join(f'{d} ({r})' for d, r in triggered.items())}")
    found = wait_runs(dep, FIRST_ROUND, timeout_s=timeout_s)
    result = {"triggered": triggered, "green": green_first_try(dep, found, hosts), **truth(dep, ledger)}
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def round_two(dep: Deployment, ledger, hosts: set[str], rows: int, timeout_s: float) -> dict:
    started = time.monotonic()
    wrote = deploy_seed.platform_writes_more(dep.databases["platform"], rows=rows)
    _step(f"the platform writes its next day: {wrote}")
    watch = deploy_truth.Watch(ledger)
    watch.sample()
    before = {d: {r["dag_run_id"] for r in runs(dep, d)} for d in FIRST_ROUND}
    normal = trigger(dep, "cohandling_daily")
    _step(f"normal run {normal}; waiting until it runs")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        watch.sample()
        running = [t for t in task_instances(dep, "cohandling_daily", normal) if t["state"] == "running"]
        if running:
            break
        time.sleep(2)
    today = localtime.local_today()  # Shandong's day: the DAG's 06:00 runs of the three days before it
    body = {"dag_id": "cohandling_daily", "from_date": f"{today - timedelta(days=3)}T00:00:00+08:00",
            "to_date": f"{today - timedelta(days=1)}T12:00:00+08:00", "max_active_runs": 3, "reprocess_behavior": "none"}
    # the runs it will create: a day the scheduler already ran (the newest, once its 06:00 has passed) is not re-run
    # (reprocess_behavior none), so the count is the API's dry run's, not the number of days
    planned = deploy.api(dep, "POST", "/backfills/dry_run", json=body)["total_entries"]
    backfill = deploy.api(dep, "POST", "/backfills", json=body)
    _step(f"backfill {backfill['id']} of cohandling_daily from {body['from_date']} to {body['to_date']} while {normal} runs "
          f"({', '.join(t['task_id'] for t in running)})")
    stop = threading.Event()

    def sampler() -> None:
        while not stop.wait(2):
            try:
                watch.sample()
            except Exception as exc:  # a sample that fails is reported, the run goes on
                _step(f"sample failed: {exc}")

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        while deploy.api(dep, "GET", f"/backfills/{backfill['id']}")["completed_at"] is None and time.monotonic() < deadline:
            time.sleep(3)
        found = wait_runs(dep, FIRST_ROUND, timeout_s=max(deadline - time.monotonic(), 60),
                          expect={"cohandling_daily": len(before["cohandling_daily"]) + 1 + planned})
    finally:
        stop.set()
        thread.join()
    watch.sample()
    new = {d: [r for r in rs if r["dag_run_id"] not in before[d]] for d, rs in found.items()}  # scheduled runs of the others included
    kinds = sorted(r["run_type"] for r in new["cohandling_daily"])
    result = {"platform": wrote, "normal_run": normal, "backfill_id": backfill["id"], "runs": kinds,
              "backfill_runs": {"ok": planned >= 1 and kinds.count("backfill") == planned, "count": kinds.count("backfill"), "planned": planned},
              "green": green_first_try(dep, new, hosts), "watch": watch.result(), **truth(dep, ledger)}
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy_check", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="synthetic platform records at the start")
    parser.add_argument("--packages", type=int, default=300, help="synthetic remote-collection packages")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds each round may take")
    parser.add_argument("--screenshots", type=Path, help="write the Airflow UI screenshots there (e.g. docs/screenshots)")
    args = parser.parse_args(argv)
    from connectors.ledger import Ledger

    summary: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "timings": {}}
    hosts: set[str] = set()
    t0 = time.monotonic()
    _step(f"a fresh deployment in {TEST.home}")
    deploy.clean(TEST)
    ledger = None
    try:
        summary["deploy"] = deploy.up(TEST, rows=args.rows, packages=args.packages, unpause=list(FIRST_ROUND))
        summary["timings"]["deploy"] = summary["deploy"]["seconds"]
        ledger = Ledger(deploy_seed.pg_url(TEST.databases["ledger"]))
        summary["round_one"] = round_one(TEST, ledger, hosts, args.timeout)
        summary["timings"]["round_one"] = summary["round_one"]["seconds"]
        _step(f"round one: {'PASSED' if _ok(summary['round_one']) else 'FAILED'} in {summary['round_one']['seconds']}s")
        summary["round_two"] = round_two(TEST, ledger, hosts, args.rows // 5, args.timeout)
        summary["timings"]["round_two"] = summary["round_two"]["seconds"]
        _step(f"round two: {'PASSED' if _ok(summary['round_two']) else 'FAILED'} in {summary['round_two']['seconds']}s")
        workers = sorted({h.split(".")[0] for h in hosts})
        summary["workers"] = {"ok": {"worker-1", "worker-2"} <= set(workers), "hostnames": sorted(hosts)}
        if args.screenshots:
            from tools import deploy_shots

            t = time.monotonic()
            summary["screenshots"] = deploy_shots.capture(TEST, args.screenshots)
            summary["timings"]["screenshots"] = round(time.monotonic() - t, 1)
    except Exception as exc:  # the deployment is stopped and the failure reported either way
        summary["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if ledger is not None:
            ledger.dispose()
        t = time.monotonic()
        summary["stop"] = deploy.down(TEST)
        summary["timings"]["stop"] = round(time.monotonic() - t, 1)
    summary["timings"]["total"] = round(time.monotonic() - t0, 1)
    checks = [summary.get(k, {}) for k in ("round_one", "round_two")]
    passed = ("error" not in summary and all(c and _ok(c) for c in checks) and summary.get("workers", {}).get("ok", False)
              and not summary["stop"]["left"] and summary.get("screenshots", {}).get("ok", True))
    summary["passed"] = passed
    if passed:
        deploy.clean(TEST, keep_folder=True)  # its databases, Redis db and account; the folder keeps the logs
    deploy_truth.dump(TEST.home / "summary.json", summary)
    _step(f"{'PASSED' if passed else 'FAILED'} in {summary['timings']['total']}s; summary: {TEST.home / 'summary.json'}")
    print(deploy_truth.json.dumps(summary, ensure_ascii=False, default=str))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
