"""Replay (issue 16, item 2): a batch, a work order or a package sent again on purpose, with a reason, audited,
with the original idempotency keys — against the receiver simulator in its own process and the drops' layout
(LocalDrops, and the real OpenSSH sshd for --force), on SQLite and PostgreSQL. A receiver that holds it answers
duplicate and keeps one copy; one that lost it accepts it again; the ledger's statuses and balance do not move."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest

from connectors.http_receiver import HttpReceiver
from connectors.ledger import Ledger
from connectors.testing import LocalDrops
from jobs.cohandling.deliver_orders import deliver_run
from jobs.common.accounting import lifetime_balance
from jobs.common.replay import ReplayRefused, replay_batch, replay_order, replay_package
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration.conftest import load_packages, utc
from tests.integration.pipeline import AS_OF, routed_ledger

KEY, SECRET = "gw-test", "s3cret-for-tests-only"
AT = datetime(2026, 11, 20, 7)  # UTC: the balance is taken at the same moment before and after


@pytest.fixture
def receivers(tmp_path):
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as process:
        yield process


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_schema_url")()


def _receiver_for(process: ReceiverProcess):
    def make(channel: str, destination: str) -> HttpReceiver:
        url = process.grid_url() if channel == "grid" else process.county_url(destination.removeprefix("county_system_"))
        return HttpReceiver(url, KEY, SECRET, timeout_s=2, max_attempts=2, backoff_s=0.01, max_backoff_s=0.1)

    return make


def _state(ledger: Ledger) -> dict:
    """What a replay must not move: every delivery's status, receipt and time, every work order, the lifetime balance."""
    deliveries = [{k: d[k] for k in ("rowguid", "utility", "version", "status", "receipt", "delivered_at", "batch_id")}
                  for d in ledger.cohandling.deliveries()]
    orders = [{k: w[k] for k in ("rowguid", "utility", "version", "status")} for w in ledger.cohandling.work_orders()]
    balance = lifetime_balance(ledger, now=AT).as_dict()
    return {"deliveries": deliveries, "orders": orders, "balance": balance}


def _held(process: ReceiverProcess, key: str) -> list[dict]:
    return [a for a in process.accepted() if a["idempotency_key"] == key]


def test_a_work_order_the_county_holds_is_answered_duplicate_and_one_it_lost_is_accepted_once(receivers, ledger_url, tmp_path):
    ledger = routed_ledger(ledger_url, tmp_path, rows=120, seed=161)
    deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    system = [d for d in ledger.cohandling.deliveries() if d["channel"] == "system" and d["status"] == "delivered"]
    assert system
    target = system[0]
    key = f"{target['rowguid']}:{target['utility']}:{target['version']}"
    original_receipt = json.loads(target["receipt"])["receipt_id"]
    before = _state(ledger)

    held = replay_order(ledger, target["rowguid"], utility=target["utility"], receiver_for=_receiver_for(receivers),
                        reason="县系统称未收到工单，核对后重发", operator="张工")
    assert held["outcome"] == "duplicate"
    assert [(a["key"], a["code"], a["receipt_id"]) for a in held["answers"]] == [(key, "0201", original_receipt)]
    assert len(_held(receivers, key)) == 1  # no second copy at the county
    assert _state(ledger) == before

    receivers.reset(wipe=True)  # the county lost everything it held
    lost = replay_order(ledger, target["rowguid"], utility=target["utility"], receiver_for=_receiver_for(receivers),
                        reason="县系统数据恢复后重发", operator="张工")
    assert lost["outcome"] == "accepted" and lost["answers"][0]["code"] == "0000"
    assert len(_held(receivers, key)) == 1 and len(receivers.accepted()) == 1  # accepted again, once, and nothing else sent
    assert _state(ledger) == before  # the first delivery's receipt stays; the new one is in the audit log

    audit = ledger.audit_entries("order_replayed")
    assert len(audit) == 2 and {a["actor"] for a in audit} == {"replay"}
    details = [json.loads(a["detail"]) for a in audit]
    assert [d["reason"] for d in details] == ["县系统称未收到工单，核对后重发", "县系统数据恢复后重发"]
    assert {d["operator"] for d in details} == {"张工"}
    assert [d["answers"][0]["outcome"] for d in details] == ["duplicate", "accepted"]
    assert all(d["answers"][0]["key"] == key for d in details)
    attempts = {(d["rowguid"], d["utility"], d["version"]): d["attempts"] for d in ledger.cohandling.deliveries()}
    assert attempts[(target["rowguid"], target["utility"], target["version"])] > target["attempts"]  # the attempts counted


def test_a_replay_without_a_reason_or_of_what_was_never_delivered_is_refused_and_sends_nothing(receivers, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=162)
    receivers.stop()  # nothing was delivered over HTTP: every work order is pending
    deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    receivers.start()
    pending = next(d for d in ledger.cohandling.deliveries() if d["channel"] in ("system", "grid"))
    with pytest.raises(ReplayRefused, match="reason"):
        replay_order(ledger, pending["rowguid"], receiver_for=_receiver_for(receivers), reason="  ")
    assert ledger.audit_entries("replay_refused") == []
    with pytest.raises(ReplayRefused, match="pending: the next deliver run"):
        replay_order(ledger, pending["rowguid"], receiver_for=_receiver_for(receivers), reason="测试", operator="李工")
    with pytest.raises(ReplayRefused, match="no delivery of it"):
        replay_order(ledger, "NOT-A-ROWGUID", receiver_for=_receiver_for(receivers), reason="测试", operator="李工")
    account = next(d for d in ledger.cohandling.deliveries() if d["channel"] == "account")
    with pytest.raises(ReplayRefused, match=r"account mode: replay its batch \(`replay batch XB\d{8}_\d{6}`\)"):
        replay_order(ledger, account["rowguid"], utility=account["utility"], receiver_for=_receiver_for(receivers), reason="测试", operator="李工")
    with pytest.raises(ReplayRefused, match="never published|no account-mode batch"):
        replay_batch(ledger, "XB20261120_000001", drops=LocalDrops(tmp_path / "drops"), reason="测试", operator="李工")
    assert receivers.accepted() == []
    refused = [json.loads(a["detail"]) for a in ledger.audit_entries("replay_refused")]
    assert len(refused) == 4 and {r["operator"] for r in refused} == {"李工"} and all(r["reason"] == "测试" for r in refused)


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_batch_replayed_is_byte_identical_and_one_still_in_the_drop_is_left_unless_forced(ledger_url, tmp_path):
    ledger = routed_ledger(ledger_url, tmp_path, rows=150, seed=163)
    drops = LocalDrops(tmp_path / "drops")
    result = deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops)
    assert result.account_delivered > 0
    batch = next(b for b in _account_batches(ledger) if b["status"] == "delivered" and b["records"] > 0)
    folder = tmp_path / "drops" / batch["destination"] / "outbox" / batch["name"]
    original = _files(folder)
    before = _state(ledger)

    there = replay_batch(ledger, batch["name"], drops=drops, reason="机构称批次文件损坏", operator="王工")
    assert there["outcome"] == "still_in_drop" and there["still_in_drop"] and _files(folder) == original

    shutil.rmtree(folder)  # the institution took it away (and lost it)
    again = replay_batch(ledger, batch["name"], drops=drops, reason="机构称未下载到批次", operator="王工")
    assert again["outcome"] == "published" and again["seq"] == batch["seq"]
    assert _files(folder) == original  # same name, same manifest, same number, same bytes
    manifest = json.loads(original[f"{batch['name']}.manifest.json"])
    assert manifest["sequence"] == batch["seq"] and batch["name"].endswith(f"_{batch['seq']:06d}")
    assert not list((tmp_path / "drops" / ".staging" / batch["destination"]).iterdir())  # staged, then renamed: nothing left behind

    (folder / next(n for n in original if n.endswith(".csv") or n.endswith(".xlsx"))).write_bytes(b"tampered")
    forced = replay_batch(ledger, str(batch["batch_id"]), drops=drops, reason="机构文件被改动，强制覆盖", operator="王工", force=True)
    assert forced["outcome"] == "replaced" and _files(folder) == original
    assert _state(ledger) == before

    audit = [json.loads(a["detail"]) for a in ledger.audit_entries("batch_replayed")]
    assert [a["outcome"] for a in audit] == ["still_in_drop", "published", "replaced"]
    assert {a["operator"] for a in audit} == {"王工"} and audit[1]["reason"] == "机构称未下载到批次"
    assert next(b for b in _account_batches(ledger) if b["batch_id"] == batch["batch_id"])["attempts"] == batch["attempts"] + 2


def _account_batches(ledger: Ledger) -> list[dict]:
    names = {d["batch_id"] for d in ledger.cohandling.deliveries() if d["channel"] == "account"}
    return [b for i in sorted(names) for b in ledger.cohandling.delivery_batches_named(str(i)) if b["channel"] == "account"]


def test_forcing_a_batch_over_sftp_replaces_it_atomically(sshd, tmp_path):
    from tests.integration import openssh

    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=164)
    for drop in sorted({w["destination"] for w in ledger.cohandling.work_orders() if w["channel"] == "account" and w["status"] == "ready"}):
        if not (sshd.root / drop).exists():
            sshd.add_drop(drop)
    sftp = openssh.drops_for(sshd)
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=sftp)
    batch = next(b for b in _account_batches(ledger) if b["status"] == "delivered" and b["records"] > 0)
    folder = sshd.root / batch["destination"] / "outbox" / batch["name"]
    original = _files(folder)
    assert replay_batch(ledger, batch["name"], drops=sftp, reason="核对", operator="王工")["outcome"] == "still_in_drop"
    forced = replay_batch(ledger, batch["name"], drops=sftp, reason="强制重发", operator="王工", force=True)
    assert forced["outcome"] == "replaced" and _files(folder) == original
    assert sftp.list_outbox(batch["destination"]).count(batch["name"]) == 1


SAMPLES_DAY = datetime(2025, 6, 3, 9, 0)


def test_a_package_the_county_holds_is_answered_duplicate_and_one_it_lost_is_accepted_with_its_files(remote_flow):
    from pathlib import Path

    from jobs.remote.deliver_packages import deliver_packages
    from jobs.remote.package_intake import load_checklist_form
    from simulators.remote_module import generate

    module, source, ledger, sim, receiver_for = remote_flow
    for path in sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir()):
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    batch = generate(12, seed=165, start="2025-05-12", end="2025-06-02", defect_rate=0.0, cross_province_rate=0.0)
    load_packages(module, source, ledger, batch, run_id="run-1", as_of=SAMPLES_DAY)
    sim.clock(SAMPLES_DAY)
    deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(SAMPLES_DAY))
    deliveries = ledger.remote.remote_deliveries()
    target = next(d for d in deliveries if d["status"] == "delivered")
    before = ([{k: d[k] for k in ("idempotency_key", "status", "receipt_id", "delivered_at")} for d in deliveries],
              lifetime_balance(ledger, now=utc(SAMPLES_DAY)).as_dict())

    out = replay_package(ledger, target["bwid"], receiver_for=receiver_for, source=source, reason="不动产登记系统称材料缺失", operator="赵工")
    assert out["outcome"] == "duplicate" and out["code"] == "0201" and out["receipt_id"] == target["receipt_id"]
    assert out["key"] == target["idempotency_key"] and out["files_uploaded"] == 0  # every file already held: none stored twice
    accepted = [a for a in sim.packages_truth()["accepted"] if a["idempotency_key"] == target["idempotency_key"]]
    assert len(accepted) == 1 and accepted[0]["times_submitted"] == 2
    after = ledger.remote.remote_deliveries()
    assert ([{k: d[k] for k in ("idempotency_key", "status", "receipt_id", "delivered_at")} for d in after],
            lifetime_balance(ledger, now=utc(SAMPLES_DAY)).as_dict()) == before
    [audit] = ledger.audit_entries("package_replayed")
    detail = json.loads(audit["detail"])
    assert audit["actor"] == "replay" and detail["operator"] == "赵工" and detail["reason"] == "不动产登记系统称材料缺失"
    assert detail["outcome"] == "duplicate" and audit["object_id"] == target["idempotency_key"]
    with pytest.raises(ReplayRefused, match="no delivery of it"):
        replay_package(ledger, "NO-SUCH-BWID", receiver_for=receiver_for, reason="测试", operator="赵工")

    sim.reset(wipe=True)  # the registration system lost its packages and files
    lost = replay_package(ledger, target["bwid"], receiver_for=receiver_for, source=source, reason="登记系统恢复后重发", operator="赵工")
    truth = sim.packages_truth()
    assert lost["outcome"] == "accepted" and lost["files_uploaded"] == lost["files"] > 0
    assert [a["idempotency_key"] for a in truth["accepted"]] == [target["idempotency_key"]]  # one copy, and nothing else sent
    assert len(truth["files"]) == lost["files"]
    assert [{k: d[k] for k in ("idempotency_key", "status", "receipt_id", "delivered_at")} for d in ledger.remote.remote_deliveries()] == before[0]


def test_a_replay_waits_for_the_deliver_of_its_flow_and_sends_nothing_beside_it(receivers, tmp_path, monkeypatch):
    from connectors.ledger.lock_store import LockTimeout

    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=166)
    deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    target = next(d for d in ledger.cohandling.deliveries() if d["channel"] in ("system", "grid") and d["status"] == "delivered")
    monkeypatch.setenv("GATEWAY_LOCK_WAIT_S", "1")
    other = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")  # another process's deliver, on its own engine
    with other.stage_lock("cohandling.deliver", run_id="r2"):
        with pytest.raises(LockTimeout, match="cohandling.deliver"):
            replay_order(ledger, target["rowguid"], receiver_for=_receiver_for(receivers), reason="核对", operator="王工")
        with pytest.raises(LockTimeout):
            replay_batch(ledger, "XB20261120_000001", drops=LocalDrops(tmp_path / "drops"), reason="核对", operator="王工")
    other.dispose()
    assert ledger.audit_entries("order_replayed") == [] and len(receivers.accepted()) == len(
        [d for d in ledger.cohandling.deliveries() if d["channel"] in ("system", "grid") and d["status"] == "delivered"])
    assert replay_order(ledger, target["rowguid"], utility=target["utility"], receiver_for=_receiver_for(receivers),
                        reason="核对", operator="王工")["outcome"] == "duplicate"


def test_the_command_line_replays_a_work_order_through_the_airflow_connections(receivers, tmp_path, monkeypatch, capsys):
    from tools.cli import main

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = routed_ledger(url, tmp_path, rows=120, seed=167)
    deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    target = next(d for d in ledger.cohandling.deliveries() if d["channel"] == "system" and d["status"] == "delivered")
    host, port = receivers.url.removeprefix("http://").split(":")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_COUNTY_SYSTEM_DEFAULT", json.dumps({
        "conn_type": "http", "host": host, "port": int(port), "schema": "http", "login": KEY, "password": SECRET,
        "extra": {"base_path": "/county/{xzqh}", "timeout_s": 5}}))
    argv = ["replay", "order", target["rowguid"], "--utility", target["utility"], "--ledger", url, "--reason", "县系统称未收到", "--operator", "张工"]
    with pytest.raises(SystemExit) as done:
        main([*argv, "--dry-run", "--json"])
    assert done.value.code == 0 and json.loads(capsys.readouterr().out)["outcome"] == "dry_run"
    assert ledger.audit_entries("order_replayed") == []  # a dry run sends and records nothing
    with pytest.raises(SystemExit) as done:
        main([*argv, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert done.value.code == 0 and out["outcome"] == "duplicate" and out["operator"] == "张工"
    assert [a["key"] for a in out["answers"]] == [f"{target['rowguid']}:{target['utility']}:{target['version']}"]
    with pytest.raises(SystemExit) as done:
        main(argv)  # the table: labels in Chinese with their codes
    table = capsys.readouterr().out
    assert done.value.code == 0 and "结果 outcome" in table and "duplicate 0201" in table and "重发原因 reason" in table
    assert len(ledger.audit_entries("order_replayed")) == 2


def test_a_record_purged_past_retention_is_never_replayed_with_its_masked_values(receivers, ledger_url, tmp_path):
    import pandas as pd

    from connectors.ledger import utcnow
    from jobs.common.purge_personal import purge_personal

    ledger = routed_ledger(ledger_url, tmp_path, rows=120, seed=164)
    drops = LocalDrops(tmp_path / "drops")
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=_receiver_for(receivers))
    delivered = [d for d in ledger.cohandling.deliveries() if d["status"] == "delivered"]
    system = next(d for d in delivered if d["channel"] == "system")
    batch = next(b for b in _account_batches(ledger) if b["status"] == "delivered" and b["records"] > 0)
    in_batch = next(d["rowguid"] for d in delivered if d["batch_id"] == batch["batch_id"])
    now = utcnow()
    done = [d for d in delivered if d["rowguid"] in (system["rowguid"], in_batch)]
    ledger.cohandling.save_results(source="test", problems=[], now=now, accepted=pd.DataFrame([
        {"rowguid": d["rowguid"], "utility": d["utility"], "version": d["version"], "result": "done", "code": "0000", "reason": None,
         "handled_at": AS_OF, "handler": "x", "row": i} for i, d in enumerate(done)]))
    assert purge_personal(ledger, now=now + pd.Timedelta(days=200).to_pytimedelta()).units["record"] >= 1
    held = len(receivers.accepted())

    with pytest.raises(ReplayRefused, match=r"purged past retention .*nothing was sent"):
        replay_order(ledger, system["rowguid"], utility=system["utility"], receiver_for=_receiver_for(receivers), reason="县系统丢失", operator="张工")
    shutil.rmtree(tmp_path / "drops" / batch["destination"] / "outbox" / batch["name"])
    with pytest.raises(ReplayRefused, match=rf"batch {batch['name']}: its personal data was purged"):
        replay_batch(ledger, batch["name"], drops=drops, reason="机构未下载", operator="张工")
    assert len(receivers.accepted()) == held and not (tmp_path / "drops" / batch["destination"] / "outbox" / batch["name"]).exists()
    assert len(ledger.audit_entries("replay_refused")) == 2
