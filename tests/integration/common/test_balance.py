"""The lifetime balance over a real ledger, on SQLite and on real PostgreSQL: every surface's
units counted once, stale units make the check fail loudly (identifiers masked), a broken
ledger does not balance, and the command line prints it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from connectors.ledger import Ledger, utcnow
from jobs.common.accounting import BalanceError, check_balance, lifetime_balance
from tests.integration.pipeline import routed_ledger

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request, tmp_path_factory):
    """The routed ledger (tests/integration/pipeline.py: 200 records, seed 91) built once per database for the module:
    a SQLite file, or a PostgreSQL database of its own (dropped afterwards) that each test's database is created from."""
    where = tmp_path_factory.mktemp(f"balance-{request.param}")
    if request.param == "sqlite":
        routed_ledger(f"sqlite:///{where / 'ledger.db'}", where, rows=200, seed=91).dispose()
        yield SimpleNamespace(kind="sqlite", path=where / "ledger.db")
        return
    import sqlalchemy as sa

    server = sa.make_url(request.getfixturevalue("pg_server")).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"balance_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        routed_ledger(server.set(database=name).render_as_string(hide_password=False), where, rows=200, seed=91).dispose()
        yield SimpleNamespace(kind="postgresql", admin=admin, server=server, name=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def routed(built, tmp_path):
    """(ledger, URL): a copy of the module's routed ledger of its own for each test (the tests change it)."""
    if built.kind == "sqlite":
        shutil.copyfile(built.path, tmp_path / "ledger.db")
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        ledger = Ledger(url)
        yield ledger, url
        ledger.dispose()
        return
    name = f"balance_{uuid.uuid4().hex[:12]}"
    with built.admin.connect() as conn:  # nothing is connected to the template: its ledger was disposed once built
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{built.name}"')
    url = built.server.set(database=name).render_as_string(hide_password=False)
    ledger = Ledger(url)
    try:
        yield ledger, url
    finally:
        ledger.dispose()
        with built.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_surface_is_counted_once_over_the_whole_ledger(routed):
    ledger, _ = routed
    ledger.dead_letter(surface="exchange_row", unit_key="platform:999999", origin="BDC_SDQR_XBXX CHANGE_SEQ 999999", rule_id="ROW_UNREADABLE",
                       reason="第999999行无法读取", payload=b"\x00bad")
    ledger.dead_letter(surface="feed_oddity", unit_key="k1", origin="a feed", rule_id="X", reason="不可读")
    ledger.dead_letter(surface="result_file", unit_key="gone", origin="sftp", rule_id="X", reason="已更正")
    ledger.resolve_dead_letters("result_file", ["gone"], resolution="a corrected file entered")
    report = lifetime_balance(ledger)
    assert report.ok, report.text()
    changes = report.surface("exchange_change")
    assert changes.received == ledger.counts()["changes"] + 1 == 201
    assert changes.categories["dead_lettered"] == 1 and changes.categories["due"] == 0
    assert changes.states["routed"] + changes.states.get("superseded", 0) + changes.states["quarantined"] + changes.states.get("duplicate", 0) == 200
    orders = report.surface("work_order")
    assert orders.received == len(ledger.cohandling.work_orders()) > 300
    assert orders.states["to_deliver"] == sum(1 for w in ledger.cohandling.work_orders() if w["status"] == "ready")  # routed, not yet delivered
    assert orders.categories["waiting"] == sum(1 for w in ledger.cohandling.work_orders() if w["status"] == "held")
    assert report.surface("registry_form").received == report.surface("registry_form").categories["final"] == 32
    assert report.surface("feed_oddity").received == 1  # a surface only the dead letters know
    assert report.surface("result_file").received == 0  # a resolved dead letter is no longer held


def test_units_due_for_longer_than_the_stale_age_fail_the_check_loudly_and_masked(routed, monkeypatch):
    ledger, _ = routed
    now = utcnow()
    check_balance(ledger, run_id="r1", now=now + timedelta(days=1))  # ready work orders a day old: not stale yet
    assert ledger.audit_trail("r1")[-1]["action"] == "balance_checked"
    with pytest.raises(BalanceError) as failed:
        check_balance(ledger, run_id="r2", now=now + timedelta(days=3))
    message = str(failed.value)
    assert "work_order 工单 work orders" in message and "to_deliver" in message and "oldest stale units:" in message
    assert "exchange_change 平台变更 exchange changes" in message and "registry_form" in message  # counts per surface
    rowguids = {w["rowguid"] for w in ledger.cohandling.work_orders()}
    assert not any(g in message for g in rowguids) and "****" in message  # identifiers masked
    detail = json.loads(ledger.audit_trail("r2")[-1]["detail"])
    assert detail["stale"] == detail["surfaces"]["work_order"]["stale"] > 0

    monkeypatch.setenv("GATEWAY_BALANCE_STALE_HOURS_WORK_ORDER", "12")  # one surface's own age
    with pytest.raises(BalanceError):
        check_balance(ledger, now=now + timedelta(days=1))
    monkeypatch.setenv("GATEWAY_BALANCE_STALE_HOURS_WORK_ORDER", "200")
    check_balance(ledger, now=now + timedelta(days=3))


def test_a_ledger_that_lost_something_does_not_balance(routed):
    ledger, _ = routed
    import sqlalchemy as sa

    with ledger.engine.begin() as conn:
        seq = conn.execute(sa.text("SELECT min(change_seq) FROM record_verdict WHERE status = 'passed'")).scalar_one()
        guid = conn.execute(sa.text("SELECT rowguid FROM record_verdict WHERE change_seq = :seq"), {"seq": seq}).scalar_one()
        conn.execute(sa.text("DELETE FROM received_record WHERE change_seq = :seq"), {"seq": seq})  # a change lost after validation
        other = conn.execute(sa.text("SELECT rowguid FROM record_state WHERE status = 'passed' AND rowguid <> :guid ORDER BY rowguid LIMIT 1"),
                             {"guid": guid}).scalar_one()
        conn.execute(sa.text("DELETE FROM record_state WHERE rowguid = :guid"), {"guid": other})  # a record's state lost
    report = lifetime_balance(ledger)
    assert not report.holds and not report.ok
    assert "verdicts without change: 1" in report.surface("exchange_change").problems
    assert "1 units in no consistent state" in report.surface("exchange_change").problems
    assert any(p.startswith("work orders without record") for p in report.surface("work_order").problems)
    with pytest.raises(BalanceError, match="exchange_change does not balance"):
        check_balance(ledger)


def test_the_command_line_prints_the_balance_and_says_by_its_status_whether_it_holds(routed, capsys):
    """`python -m tools.cli balance` as a process of its own once (its exit status); the stale and relaxed variants through
    the same entry point in this process (tools.cli.main: the SystemExit code is the process's exit status)."""
    from tools.cli import main

    _, url = routed
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "tools.cli", "balance", "--ledger", url], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "lifetime balance" in ok.stdout and "work_order 工单 work orders" in ok.stdout
    later = (utcnow() + timedelta(days=3)).isoformat(sep=" ")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stale:
        main(["balance", "--ledger", url, "--json", "--at", later])
    out = capsys.readouterr().out
    assert stale.value.code == 1, out[-2000:]
    data = json.loads(out)
    assert data["holds"] and not data["ok"] and data["oldest_stale"] and all("****" in u["unit"] for u in data["oldest_stale"])
    with pytest.raises(SystemExit) as relaxed:
        main(["balance", "--ledger", url, "--at", later, "--stale", "work_order=100"])
    assert relaxed.value.code == 0, capsys.readouterr().out[-2000:]


def test_a_result_file_refused_whole_is_one_unit_dead_lettered_not_two(routed):
    """jobs/cohandling/collect_results.py keeps a file refused whole both as a dead letter and as a `rejected` result_file
    row: the balance counts it once, as dead-lettered; resolved, it is a rejected file (quarantined)."""
    from connectors.ledger.deadletter_store import unit_key
    from jobs.cohandling.collect_results import _empty
    from transforms.cohandling.result_files import exception

    ledger, _ = routed
    source, sha = "sftp:xb370102w01", "ab" * 32
    problem = exception(source, "FILE_INCOMPLETE", value="r.csv")
    ledger.dead_letter(surface="result_file", unit_key=unit_key(source, sha), origin=f"{source}/inbox/r.csv", rule_id="FILE_INCOMPLETE",
                       reason="r.csv: incomplete", payload=b"ROWGUID,")
    ledger.cohandling.save_results(source=source, accepted=_empty(), problems=[problem], now=utcnow(),
                        file={"name": "r.csv", "sha256": sha, "size": 8, "reason": problem["reason"]})
    ledger.cohandling.save_results(source=source, accepted=_empty(), problems=[], now=utcnow(), file={"name": "ok.csv", "sha256": "cd" * 32, "size": 9, "rows": 0})
    files = lifetime_balance(ledger).surface("result_file")
    assert files.holds and files.received == 2 and files.categories["dead_lettered"] == 1 and files.categories["final"] == 1
    ledger.resolve_dead_letters("result_file", [unit_key(source, sha)], resolution="the institution uploaded it again, complete")
    files = lifetime_balance(ledger).surface("result_file")
    assert files.holds and files.received == 2 and files.categories["quarantined"] == 1 and files.categories["dead_lettered"] == 0
