"""`make run`: the gateway's daily job end to end on embedded defaults.

1. builds an embedded platform exchange database (SQLite, var/platform.db) with synthetic
   co-handling records (labelled defects included);
2. prepares an Airflow home inside the project (var/airflow, SQLite metadata database);
3. runs the daily DAG (`dag.test()`), then lets the platform write more — new records,
   late rows with old DBSJ, corrections — and runs it again: the second run takes only
   what is new;
4. prints a summary: counts per stage and where the outputs are, and the lifetime balance of the
   whole ledger per surface (received = final + waiting + due + quarantined + dead-lettered),
   which must hold.

Every file it writes is under var/; each `make run` starts afresh.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from jobs.common.settings import LEDGER_CONN_ID, PLATFORM_CONN_ID, ROOT, VAR
from tools.progress import Steps
from transforms.common import localtime

INITIAL_ROWS = int(os.environ.get("DEMO_ROWS", "5000"))
REMOTE_PACKAGES = int(os.environ.get("DEMO_PACKAGES", "600"))
APPEND_ROWS = INITIAL_ROWS // 5
LATE_ROWS = INITIAL_ROWS // 20


def _conn_env(name: str, path) -> dict[str, str]:
    return {f"AIRFLOW_CONN_{name.upper()}": json.dumps({"conn_type": "sqlite", "host": str(path)})}


STEPS = Steps()  # each step's start and elapsed seconds, a DAG run's tasks as they go (tools/progress.py)
_step = STEPS.say  # a note, not a timed step


def _run_dag(env: dict[str, str], log_path, dag_file: str = "cohandling_daily", *, as_of: datetime | None = None, text: str) -> None:
    """One `dag.test()` of a DAG in a child process, now, as a timed step (`text`) whose tasks are shown as they start and
    end; its log goes to a file. `as_of` (aware): the run's clock, through the DAG param every DAG has — the demo's later
    days are runs made now "as of" a later time, as an operator triggers them under a real scheduler
    (`airflow dags trigger <dag> -c '{"as_of": "…"}'`)."""
    conf = {} if as_of is None else {"as_of": as_of.replace(microsecond=0).isoformat()}
    code = (
        f"import sys; sys.path.insert(0, 'dags'); import {dag_file} as m; "
        f"r = m.dag.test(run_conf={conf!r}); "
        "sys.exit(0 if str(r.state) in ('success', 'DagRunState.SUCCESS') else 1)"
    )
    with STEPS.step(text, follow=log_path):
        with open(log_path, "w", encoding="utf-8") as log:
            done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            tail = log_path.read_text(encoding="utf-8").splitlines()[-40:]
            raise SystemExit(f"the DAG {dag_file} failed; the end of its log ({log_path}):\n" + "\n".join(tail))


def main() -> None:
    from connectors.ledger import Ledger
    from simulators.platform import default_period, fill
    from simulators.platform_db import PlatformDB
    from simulators.receivers.receiver_process import ReceiverProcess
    from simulators.sftp_server import EmbeddedSftp

    started = time.perf_counter()
    for name in ("platform.db", "ledger.db", "logs", "runs", "inbox", "drops", "receivers", "seals", "seal.pem", "seal.pem.pub"):
        target = VAR / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            for suffix in ("", "-wal", "-shm"):
                (VAR.parent / (str(target) + suffix)).unlink(missing_ok=True)
    (VAR / "logs").mkdir(parents=True, exist_ok=True)
    platform_path, ledger_path = VAR / "platform.db", VAR / "ledger.db"

    env = {**os.environ, "PYTHONPATH": str(ROOT), **_conn_env(PLATFORM_CONN_ID, platform_path), **_conn_env(LEDGER_CONN_ID, ledger_path)}
    env.setdefault("AIRFLOW_HOME", str(VAR / "airflow"))
    env.setdefault("AIRFLOW_CONFIG", str(ROOT / "airflow.cfg"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
    # dag.test() (Airflow 3.3.2) cannot finish a DAG with a Deadline Alert: the daily DAG's is off here (jobs/common/settings.daily_deadline)
    env.setdefault("GATEWAY_DAILY_DEADLINE_MINUTES", "0")
    # a throwaway audit seal key for this demo only (docs/audit.md): the daily run seals the audit chain into var/seals
    from jobs.common.audit_seal import make_key

    env["GATEWAY_AUDIT_SEAL_KEY"], env["GATEWAY_AUDIT_SEAL_DIR"] = str(make_key(VAR / "seal.pem")[0]), str(VAR / "seals")

    with STEPS.step(f"building the embedded platform database with {INITIAL_ROWS} synthetic records: {platform_path}"):
        platform = PlatformDB(f"sqlite:///{platform_path}")
        platform.create()
        start, end = default_period(30)
        fill(platform, INITIAL_ROWS, seed=2021, start=start, end=end)

    inbox = VAR / "inbox" / "registry"
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    samples = sorted(p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file())
    for form in samples:
        shutil.copy(form, inbox / form.name)
    env["GATEWAY_REGISTRY_INBOX"] = str(inbox)
    _step(f"dropping the counties' {len(samples)} sample Annex 2 / Annex 3 forms (forms/samples) into the registry inbox: {inbox}")

    drops_root, sftp_state = VAR / "drops", VAR / "sftp"
    sftp = EmbeddedSftp(drops_root, sftp_state).start()
    key_id, secret = "gateway-demo", secrets.token_hex(16)  # lives only in this run's Connections
    (VAR / "receivers").mkdir(parents=True, exist_ok=True)
    receivers = ReceiverProcess(VAR / "receivers" / "state.db", {key_id: secret}, rate_per_s=50)
    receivers.start()
    port = int(receivers.url.rsplit(":", 1)[1])
    http = {"conn_type": "http", "host": "127.0.0.1", "port": port, "login": key_id, "password": secret}
    env.update({
        "AIRFLOW_CONN_GATEWAY_SFTP": json.dumps(sftp.connection()),
        "AIRFLOW_CONN_COUNTY_SYSTEM_DEFAULT": json.dumps(http | {"extra": {"base_path": "/county/{xzqh}"}}),
        "AIRFLOW_CONN_GRID_MARKETING": json.dumps(http | {"extra": {"base_path": "/grid", "rate_per_s": 40}}),
        "AIRFLOW_CONN_CROSS_PROVINCE": json.dumps(http | {"extra": {"base_path": "/cross-province"}}),
    })
    _step(f"started the embedded SFTP drop server (asyncssh, drops in {drops_root}) on port {sftp.port}, "
          f"and the county-system and grid simulators on {receivers.url}")
    try:
        _runs(env, platform, start, end, inbox, INITIAL_ROWS)
        remote = _remote_first(env, f"sqlite:///{platform_path}")
        ledger = Ledger(f"sqlite:///{ledger_path}")
        report = _results(env, ledger, receivers, drops_root)
        remote.update(_remote_later(env, ledger, receivers, remote))
        _summary(platform, ledger, receivers, drops_root, report, time.perf_counter() - started)
        _remote_summary(ledger, receivers, remote)
        _balance_summary(ledger)
        _console_howto()
        print("\n" + STEPS.summary())
        print(f"done in {time.perf_counter() - started:.0f}s")
    finally:
        receivers.stop()
        sftp.stop()


def _runs(env: dict, platform, start, end, inbox, initial_rows: int) -> None:
    from simulators.forms import annex3_lines, late_counties, write_annex3
    from simulators.platform import corrections, fill, generate
    from simulators.registry import build_registry

    with STEPS.step("preparing the Airflow home (var/airflow) and its metadata database, and the ledger's schema (once, as a deployment does)"), \
            open(VAR / "logs" / "airflow-db-migrate.log", "w", encoding="utf-8") as log:
        subprocess.run([str(ROOT / ".venv" / "bin" / "airflow") if (ROOT / ".venv" / "bin" / "airflow").exists() else "airflow", "db", "migrate"],
                       env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
        subprocess.run([sys.executable, "-m", "tools.cli", "db", "upgrade", "--conn-id", LEDGER_CONN_ID], cwd=ROOT,
                       env=env, stdout=log, stderr=subprocess.STDOUT, check=True)

    _run_dag(env, VAR / "logs" / "run-1.log", text="run 1 of cohandling_daily (log: var/logs/run-1.log)")

    with STEPS.step(f"the platform writes more: {APPEND_ROWS} new records, {LATE_ROWS} late rows with old DBSJ, and corrections"):
        registry = build_registry()
        fill(platform, APPEND_ROWS, seed=3021, start=end - timedelta(days=1), end=end, first_index=initial_rows)
        late_start = start - timedelta(days=60)
        platform.write(generate(LATE_ROWS, seed=4021, start=late_start, end=start, as_of=end, registry=registry, first_index=initial_rows + APPEND_ROWS))
        platform.write(corrections(platform.truth(), seed=5021, registry=registry, fraction=0.5))

    tomorrow = localtime.local_today() + timedelta(days=1)  # Shandong's tomorrow
    late = late_counties(registry)
    for city in sorted({code[:4] + "00" for code in late}):
        lines = annex3_lines(registry, city, open_dates={x: tomorrow.isoformat() for x in late})
        lines = [line for line in lines if line["xzqh"] in late]
        write_annex3(lines, city, inbox / f"附件3_{city}_补充开通申请.xlsx", letter=False, applied=f"{tomorrow.year}年{tomorrow.month}月{tomorrow.day}日")
    _step(f"two counties that had not applied ({', '.join(late)}) send their Annex 3: account mode opens tomorrow, {tomorrow}")

    _run_dag(env, VAR / "logs" / "run-2.log", as_of=datetime.now(UTC) + timedelta(days=1),
             text="run 2 of cohandling_daily, as of tomorrow (DAG param as_of; log: var/logs/run-2.log): the two counties' waiting work orders are released")


def _results(env: dict, ledger, receivers, drops_root) -> dict:
    """Ten days on: institutions upload result files, the county systems and the grid publish
    theirs; the results DAG collects; an on-demand report covers the demo's deliveries."""
    from jobs.cohandling.collect_results import write_period_report
    from simulators.institutions import answers, held_in_force, upload

    local_now = localtime.local_now()
    later = local_now + timedelta(days=10)
    deliveries = [d for d in ledger.cohandling.deliveries() if d["channel"] == "account" and d["status"] == "delivered"]
    held = {k for drop in {d["destination"] for d in deliveries} for k in held_in_force(drops_root / drop / "outbox")}
    deliveries = [d for d in deliveries if f"{d['rowguid']}:{d['utility']}:{d['version']}" in held]  # what each still holds in force
    files, _ = answers(deliveries, seed=6021, delivered_on=local_now, late_days=8)
    for drop, (name, data) in files.items():
        upload(drops_root / drop / "inbox", name, data)  # the file, then its completion marker (docs/protocol/results.md)
    receivers.clock(later)
    _step(f"ten days later: {len(files)} institutions upload result files to their drops' inboxes; the county systems and the grid "
          "publish results (simulator clock moved on)")
    _run_dag(env, VAR / "logs" / "results.log", "cohandling_results", as_of=datetime.now(UTC) + timedelta(days=10),
             text="run of cohandling_results, as of ten days later (DAG param as_of; log: var/logs/results.log)")
    first = min(localtime.to_local(d["delivered_at"]).date() for d in ledger.cohandling.deliveries() if d["delivered_at"])
    out = VAR / "reports" / "demo"
    with STEPS.step(f"the reconciliation report for work orders delivered {first} – {local_now.date()}, as of {later:%Y-%m-%d %H:%M}: {out}"):
        return write_period_report(ledger, first=first, last=local_now.date(), as_of=later, out_dir=out)


def _remote_first(env: dict, platform_url: str) -> dict:
    """异地代收: the module's packages and the counties' checklists, then a run of remote_collection."""
    from simulators.remote_db import RemoteDB
    from simulators.remote_module import generate

    local_now = localtime.local_now().replace(microsecond=0)
    module = RemoteDB(platform_url)
    module.create()
    batch = generate(REMOTE_PACKAGES, seed=7021, start=local_now - timedelta(days=28), end=local_now - timedelta(hours=1), defect_rate=0.1,
                     cross_province_rate=0.05)
    module.write(batch)
    inbox = VAR / "inbox" / "checklists"
    inbox.mkdir(parents=True, exist_ok=True)
    forms = sorted(p for p in (ROOT / "forms" / "samples" / "remote").iterdir() if p.is_file())
    for form in forms:
        shutil.copy(form, inbox / form.name)
    env["GATEWAY_CHECKLIST_INBOX"] = str(inbox)
    env.setdefault("GATEWAY_REPORT_DIR", str(VAR / "reports"))
    _step(f"异地代收: the remote-collection module wrote {len(batch)} packages (halls collecting for other counties, some for other provinces, "
          f"labelled defects); {len(forms)} checklist forms dropped into {inbox}")
    _run_dag(env, VAR / "logs" / "remote-1.log", "remote_collection",
             text="run 1 of remote_collection (log: var/logs/remote-1.log): checklists, extract, validate, deliver to the property counties")
    module.dispose()
    return {"batch": batch, "platform_url": platform_url, "local_now": local_now}


def _remote_later(env: dict, ledger, receivers, remote: dict) -> dict:
    """Ten days on (the simulators' clock already moved): statuses come back, the halls resubmit what
    the counties sent back for correction, handover lists are made, counties sign for some of them."""
    from jobs.remote.handover import record_handover_receipt
    from jobs.remote.publish_remote_report import write_remote_report
    from simulators.remote_db import RemoteDB
    from simulators.remote_module import resubmissions, withdrawals

    later = remote["local_now"] + timedelta(days=10)
    # Six applicants withdraw: three whose county has not decided yet, three already recorded (登簿: too late).
    truth = receivers.packages_truth()
    seen: dict[str, set] = {}
    for e in truth["events"]:
        if e["visible"]:
            seen.setdefault(e["idempotency_key"], set()).add(e["status"])
    delivered = [d for d in ledger.remote.remote_deliveries() if d["status"] == "delivered"]
    undecided = [d["bwid"] for d in delivered if not seen.get(d["idempotency_key"], set()) & {"registered", "refused", "correction"}]
    recorded = [d["bwid"] for d in delivered if "registered" in seen.get(d["idempotency_key"], set())]
    gone = undecided[:3] + recorded[:3]
    module = RemoteDB(remote["platform_url"])
    module.write(withdrawals(gone))
    module.dispose()
    _run_dag(env, VAR / "logs" / "remote-2.log", "remote_collection", as_of=datetime.now(UTC) + timedelta(days=10),
             text=f"applicants withdraw {len(gone)} delivered packages (three the county has not decided yet, three already 登簿); run 2 of "
                  "remote_collection, as of ten days later (DAG param as_of; log: var/logs/remote-2.log): withdrawals to the counties that hold "
                  "them, statuses from the counties, 补正 and 不予受理 back to the halls, weekly handover lists")
    corrections = [e for e in ledger.remote.remote_events() if e["status"] == "correction"]
    bwids = sorted({e["bwid"] for e in corrections} - set(gone))  # a withdrawn application is not resubmitted
    module = RemoteDB(remote["platform_url"])
    module.write(resubmissions(remote["batch"], bwids))
    module.dispose()
    _run_dag(env, VAR / "logs" / "remote-3.log", "remote_collection", as_of=datetime.now(UTC) + timedelta(days=10, minutes=30),
             text=f"the halls resubmit the {len(bwids)} packages the counties asked to correct; run 3 of remote_collection, as of half an hour "
                  "after run 2 (log: var/logs/remote-3.log)")
    lists = ledger.remote.handover_lists()
    for lst in lists[::2]:
        record_handover_receipt(ledger, lst["list_no"], received_at=later, received_by="档案室 王芳", note="原件齐全", now=later)
    first = (remote["local_now"] - timedelta(days=28)).date()
    out = VAR / "reports" / "demo-remote"
    with STEPS.step("the remote-collection report"):
        paths = write_remote_report(ledger, first=first, last=later.date(), as_of=later + timedelta(hours=1), out_dir=out)
    _step(f"the remote-collection report by collecting hall and property county: {out}; {len(lists[::2])} of {len(lists)} handover lists signed for")
    return {"resubmitted": len(bwids), "report": paths, "later": later}


def _remote_summary(ledger, receivers, remote: dict) -> None:
    counts = ledger.remote.remote_counts()
    deliveries = ledger.remote.remote_deliveries()
    delivered = {d["idempotency_key"] for d in deliveries if d["status"] == "delivered"}
    truth = receivers.packages_truth()
    held = [a["idempotency_key"] for a in truth["accepted"]]
    by_status: dict[str, int] = {}
    withdrawals: dict[str, int] = {}
    for d in deliveries:
        by_status[d["status"]] = by_status.get(d["status"], 0) + 1
        if d["withdrawal"]:
            withdrawals[d["withdrawal"]] = withdrawals.get(d["withdrawal"], 0) + 1
    with open(remote["report"]["json"], encoding="utf-8") as fh:
        report = json.load(fh)
    t = report["totals"]
    balanced = counts["packages"] == counts["passed"] + counts["returned"] + counts["withdrawn"]
    lines = [
        "",
        "remote collection (异地代收: routed by the property's county, never the collecting hall):",
        f"  package versions received {counts['packages']} = passed {counts['passed']} + returned to halls {counts['returned']} + withdrawn "
        f"{counts['withdrawn']} ({'balanced' if balanced else 'NOT BALANCED'})",
        "  deliveries: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) + f"; receivers hold {len(held)} package versions "
        f"(each once: {len(set(held)) == len(held)}), ledger delivered {len(delivered)}; corrected versions resubmitted {remote['resubmitted']}",
        f"  statuses: accepted {t['accepted']}, refused {t['refused']}, correction {t['correction']}, registered {t['registered']}, "
        f"certificate issued {t['certified']}, withdrawn after delivery {t['withdrawn']}, open {t['open']}, overdue {t['overdue']}",
        f"  withdrawals: done {withdrawals.get('done', 0)} (the counties hold {len(truth['withdrawn'])}), refused as already 登簿 "
        f"{withdrawals.get('refused', 0)} (told to the halls)",
        f"  paper originals not signed for {t['paper_owed']} (flagged {t['paper_flagged']}); handover lists {len(ledger.remote.handover_lists())} in "
        f"{VAR / 'reports' / 'handover'}",
        f"  report  {remote['report']['html']}",
        f"          {remote['report']['xlsx']}  (and csv/, report.json)",
        f"  hall return lists  {VAR / 'runs'}/<run>/halls/",
    ]
    print("\n".join(lines))
    if not balanced or set(held) != delivered or len(set(held)) != len(held) or withdrawals.get("done", 0) != len(truth["withdrawn"]):
        raise SystemExit("remote collection: what the counties hold differs from what the ledger says was delivered")


def _console_howto() -> None:
    """How to open the web console on this demo's ledger and sign in as each role (README.md, "The web console")."""
    from console.scopes import ROLES, load_users

    lines = ["", "网关控制台 web console on this demo's ledger (README.md, \"The web console\"):",
             "  .venv/bin/python -m console        then open http://127.0.0.1:8765/ and sign in as:"]
    for name, scope in load_users().items():
        lines.append(f"    {name:<14} password {scope.password:<14} {ROLES[scope.role]}{' ' + scope.code if scope.code else ''}")
    lines.append("  (inside Airflow: the API server's /gateway/, Airflow's own login; plugins/gateway_console.py)")
    print("\n".join(lines))


def _balance_summary(ledger) -> None:
    """The lifetime balance of the whole ledger (the `balance` task's, and `python -m tools.cli balance`'s)."""
    from jobs.common.accounting import lifetime_balance

    report = lifetime_balance(ledger)
    print("\n" + report.text())
    if not report.ok:
        raise SystemExit("the lifetime balance does not hold, or units are stale (above)")


def _summary(platform, ledger, receivers, drops_root, report: dict, seconds: float) -> None:
    from jobs.common.settings import run_output_dir

    forms = ledger.registry_forms()
    routes = ledger.audit_entries("run_routed")
    registry_counts = ledger.registry_counts()
    batches = [b for b in ledger.extract_batches("success") if b["source"] == "platform"]
    validations = ledger.validation_runs()
    states = ledger.record_state_counts()
    orders = ledger.cohandling.work_order_counts()
    counts = ledger.counts()
    truth = platform.truth()
    platform_rows = platform.count()
    defects = truth[truth["defect"] != ""]["defect"].value_counts()
    lines = [
        "",
        "协办网关 co-handling gateway — make run summary",
        "=" * 60,
        f"platform exchange table BDC_SDQR_XBXX: {platform_rows} changes "
        f"({int((truth['OP'] == 'U').sum())} corrections), labelled defects: {int(defects.sum())}",
        "",
        "extraction (每次运行只取新增变更 / each run takes only what is new):",
    ]
    for b in batches:
        lines.append(
            f"  {b['run_id']}: read {b['rows_read']}, new {b['rows_new']}, already held {b['rows_known']} "
            f"(re-read in the settle window, not loaded again)"
        )
    lines += ["", "validation (附件1规则校验；进入 = 通过 + 部分通过 + 隔离 / in = passed + partial + quarantined):"]
    for run_id, v in validations.items():
        total = v["passed"] + v["partial"] + v["quarantined"]
        check = "balanced" if total == v["records_in"] else "NOT BALANCED"
        out = run_output_dir(run_id)
        lines += [
            f"  {run_id}: in {v['records_in']} = passed {v['passed']} + partial {v['partial']} + quarantined {v['quarantined']} ({check}); "
            f"records with warnings {v['warnings']}",
            f"    quarantine list  {out / 'quarantine.xlsx'}  (and .csv)",
            f"    validation page  {out / 'validation.html'}  (offline, Chinese; all runs: {out.parent / 'validation_index.html'})",
            f"    GX Data Docs     {v['docs_path']}  (load their styles from CDNs: online only)",
        ]
    lines.append("  records now: " + ", ".join(f"{k} {n}" for k, n in sorted(states.items())) + "  (a corrected record replaces its quarantined version)")
    lines += ["", "registry (附件2 机构名录 / 附件3 开通申请, loaded from the inbox; history kept):"]
    for f in forms:
        lines.append(f"  {f['file_name']}: {f['rows_loaded']} rows — added {f['added']}, changed {f['changed']}, unchanged {f['unchanged']}; "
                     f"errors {f['errors']}, warnings {f['warnings']}")
    lines.append(f"  institutions in force: {registry_counts['institutions']} ({registry_counts['account']} account mode, "
                 f"{registry_counts['system']} system mode); counties open for account mode: {registry_counts['open_counties']}")
    lines += ["", "routing (工单: one per requested utility; by channel and status, versions in force):"]
    for run in routes:
        d = json.loads(run["detail"])
        lines.append(f"  {run['run_id']}: {d['records']} records routed → {d['work_orders_written']} work orders written "
                     f"(new {d['new']}, corrections {d['corrections']}, released from held {d['released']}); "
                     + ", ".join(f"{k} {v}" for k, v in sorted(d["by_status"].items())))
    channel_names = {"grid": "grid (国网营销系统, 总对总)", "account": "account (SFTP drops, 配置账号)", "system": "system (county endpoints, 系统对接)",
                     "": "none (not routable)"}
    lines.append("  in force by channel:")
    for channel in sorted({c for c, _ in orders}):
        per = {s: n for (c, s), n in orders.items() if c == channel}
        lines.append(f"    {channel_names.get(channel, channel)}: " + ", ".join(f"{s} {n}" for s, n in sorted(per.items())))
    held = sum(n for (c, s), n in orders.items() if s == "held")
    lines.append(f"  work orders in force: {sum(orders.values())}; waiting for a county's opening: {held}")
    deliveries = ledger.cohandling.delivery_counts()
    accepted = receivers.accepted()
    by_receiver: dict[str, int] = {}
    for item in accepted:
        kind = "grid" if item["receiver"] == "grid" else "system"
        by_receiver[kind] = by_receiver.get(kind, 0) + 1
    twice = sum(1 for item in accepted if item.get("times_submitted", 1) > 1)
    batches = sorted(drops_root.glob("*/outbox/*"))
    published = sum(json.loads(next(b.glob("*.manifest.json")).read_text(encoding="utf-8"))["records"] for b in batches)
    lines += ["", "delivery (投递: exactly once in effect; pending goes with the next run):"]
    for channel in ("account", "system", "grid"):
        per = {s: n for (c, s), n in deliveries.items() if c == channel}
        lines.append(f"  {channel_names[channel]}: " + (", ".join(f"{s} {n}" for s, n in sorted(per.items())) or "nothing"))
    delivered = {c: n for (c, s), n in deliveries.items() if s == "delivered"}
    from simulators.institutions import held_in_force

    cancel_batches = [b for b in batches if b.name.startswith("XBCX")]
    published -= sum(json.loads(next(b.glob("*.manifest.json")).read_text(encoding="utf-8"))["records"] for b in cancel_batches)
    in_force = ledger.cohandling.in_force_at_receivers()  # what each receiver should hold now: delivered, less what was cancelled there
    held = {(drop.name, *k.rsplit(":", 2)) for drop in {b.parent.parent for b in batches} for k in held_in_force(drop / "outbox")}
    held = {(d, g, u, int(v)) for d, g, u, v in held}
    held |= {("grid" if i["receiver"] == "grid" else "county_system_" + i["receiver"].removeprefix("county/"), i["rowguid"], i["utility"], int(i["version"]))
             for i in receivers.in_force()}
    cancels = ledger.cohandling.cancellation_counts()
    lines += [
        f"  SFTP drops: {len(batches) - len(cancel_batches)} batches in {len({b.parent.parent for b in batches})} institutions' outboxes holding {published} work orders "
        f"(ledger: {delivered.get('account', 0)} delivered) — {drops_root}/<drop>/outbox/<batch>/ (data, .sha256, .manifest.json)",
        f"  receivers accepted: county systems {by_receiver.get('system', 0)} (ledger: {delivered.get('system', 0)}), "
        f"grid {by_receiver.get('grid', 0)} (ledger: {delivered.get('grid', 0)}); submitted more than once and answered 'duplicate': {twice}",
        "  cancellations (撤销: delivered, then withdrawn, dropped or sent elsewhere by a correction): "
        + (", ".join(f"{c} {s} {n}" for (c, s), n in sorted(cancels.items())) or "none")
        + f"; {len(cancel_batches)} cancellation batches in the drops",
        f"  in force at the receivers (drops and simulators hold = ledger delivered less cancelled): {len(held)} = {len(in_force)} "
        f"({'equal' if held == in_force else 'DIFFERENT'})",
    ]
    balanced = "balanced" if counts["changes"] == platform_rows else "NOT BALANCED"
    result_files = ledger.result_file_counts()
    st = report["statuses"]
    delivered_total = sum(st.get(k, 0) for k in ("delivered", "acknowledged", "done", "done_late", "rejected", "overdue"))
    lines += [
        "",
        "results and reconciliation (办理结果与对账, deadline 5 working days):",
        f"  result files from drops: processed {result_files.get('processed', 0)}, refused {result_files.get('refused', 0)}; "
        f"exceptions listed {report['exceptions']}; SMS queued for applicants {len(ledger.cohandling.sms())}",
        f"  delivered {delivered_total} = done {st.get('done', 0)} + done late {st.get('done_late', 0)} + rejected {st.get('rejected', 0)} "
        f"+ open {st.get('delivered', 0) + st.get('acknowledged', 0)} + overdue {st.get('overdue', 0)}",
        f"  records: received {report['records']['received']} = quarantined {report['records']['quarantined']} + work-ordered "
        f"{report['records']['work_ordered']} + withdrawn {report['records']['withdrawn']}",
        f"  report  {report['files']['html']}",
        f"          {report['files']['xlsx']}  (and csv/)",
    ]
    lines += [
        "",
        f"ledger: {counts['changes']} changes received = platform's {platform_rows} ({balanced}); "
        f"{counts['records']} distinct records (ROWGUID)",
        "  labelled defects injected by kind: " + ", ".join(f"{k} {v}" for k, v in defects.items()),
        "",
        "outputs:",
        f"  platform database  {VAR / 'platform.db'}",
        f"  gateway ledger     {VAR / 'ledger.db'}  (received_record, record_verdict, rule_failure, record_state, institution, county_opening, work_order, work_order_version, audit_log, ...)",
        f"  registry inbox     {VAR / 'inbox' / 'registry'}  (processed/<date>/<form> with <form>.issues.csv)",
        f"  run folders        {VAR / 'runs'}",
        f"  run logs           {VAR / 'logs'}",
        f"  Airflow home       {VAR / 'airflow'}",
    ]
    print("\n".join(lines))
    if counts["changes"] != platform_rows:
        raise SystemExit("the ledger does not hold every platform change")
    if published != delivered.get("account", 0) or by_receiver.get("grid", 0) != delivered.get("grid", 0) or by_receiver.get("system", 0) != delivered.get("system", 0):
        raise SystemExit("what the receivers hold differs from what the ledger says was delivered")
    if held != in_force:
        raise SystemExit("what the receivers hold in force differs from the ledger's work orders in force")


if __name__ == "__main__":
    main()
