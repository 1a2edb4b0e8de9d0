"""The retention purge over a real ledger, on SQLite and on real PostgreSQL (jobs/common/purge_personal.py): after a run
delivered and closed part of its work orders and the clock moved past retention, the purge rewrites exactly the rows
due — no clear value nor token left in them —, leaves every count and balance as it was, does nothing the second time,
resumes after an interruption, and is audited without values."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.ledger import Ledger, utcnow
from connectors.ledger.personal import PERSONAL
from connectors.ledger.schema import metadata
from jobs.common.accounting import lifetime_balance
from jobs.common.purge_personal import purge_personal
from tests.integration.pipeline import close_orders, routed_ledger

PERSONAL_RECORD = PERSONAL["received_record"]
DAYS = {"record": 180, "record_unrouted": 90, "package": 180, "package_returned": 90, "result_exception": 180, "dead_letter": 90}


def _close_half(ledger: Ledger) -> None:
    """Every work order delivered, half the records closed (`done`), their SMS queued; a result exception, a dead letter
    resolved and one open."""
    close_orders(ledger, every=2)
    ledger.dead_letter(surface="result_file", unit_key="gone", origin="sftp", rule_id="X", reason="已更正", payload=b"13812345678")
    ledger.resolve_dead_letters("result_file", ["gone"], resolution="a corrected file entered")
    ledger.dead_letter(surface="result_file", unit_key="open", origin="sftp", rule_id="X", reason="待更正", payload=b"13812345678")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request, tmp_path_factory):
    """The routed ledger (200 records, seed 91), half its records closed, built once per database for the module."""
    where = tmp_path_factory.mktemp(f"retain-{request.param}")
    if request.param == "sqlite":
        ledger = routed_ledger(f"sqlite:///{where / 'ledger.db'}", where, rows=200, seed=91)
        _close_half(ledger)
        ledger.dispose()
        yield SimpleNamespace(kind="sqlite", path=where / "ledger.db")
        return
    server = sa.make_url(request.getfixturevalue("pg_server")).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"retain_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        ledger = routed_ledger(server.set(database=name).render_as_string(hide_password=False), where, rows=200, seed=91)
        _close_half(ledger)
        ledger.dispose()
        yield SimpleNamespace(kind="postgresql", admin=admin, server=server, name=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def ledger(built, tmp_path):
    """A copy of the module's ledger of its own for each test."""
    if built.kind == "sqlite":
        shutil.copyfile(built.path, tmp_path / "ledger.db")
        book = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
        yield book
        book.dispose()
        return
    name = f"retain_{uuid.uuid4().hex[:12]}"
    with built.admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{built.name}"')
    book = Ledger(built.server.set(database=name).render_as_string(hide_password=False))
    try:
        yield book
    finally:
        book.dispose()
        with built.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _raw(ledger: Ledger, table: str) -> list[dict]:
    t = metadata.tables[table]
    with ledger.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()]


def _counts(ledger: Ledger, at) -> dict:
    """Every count an operator or auditor reads: the lifetime balance, the ledger's counts, the validation run, the
    reconciliation's statuses, the console read model's counts, dead letters, SMS and exceptions, rows per table."""
    from jobs.cohandling.collect_results import reconcile_now
    from jobs.cohandling.order_status import refresh_order_status

    local = at + timedelta(hours=8)
    refresh_order_status(ledger, whole=True, as_of=local)
    statuses = reconcile_now(ledger, as_of=local)
    with ledger.engine.connect() as conn:
        rows = {t: conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[t])).scalar_one() for t in sorted(metadata.tables)}
    return {"balance": lifetime_balance(ledger, now=at).summary(), "counts": ledger.counts(), "validation": ledger.validation_run("r1"),
            "reconciled": statuses["status"].value_counts().sort_index().to_dict(), "rows": rows,
            "console": ledger.cohandling.console_counts(None, local.date()).to_dict("records"),
            "dead_letters": ledger.dead_letter_counts(), "sms": len(ledger.cohandling.sms()),
            "exceptions": len(ledger.cohandling.result_exceptions())}


def _closed_rowguids(ledger: Ledger) -> set[str]:
    orders = pd.DataFrame(_raw(ledger, "work_order"))
    outcomes = {(o["rowguid"], o["utility"], o["version"]) for o in _raw(ledger, "work_order_outcome") if o["result"] == "done"}
    orders["final"] = [(r, u, v) in outcomes or status == "quarantined"  # a blocked utility: as a record never routed (90 days)
                       for r, u, v, status in zip(orders["rowguid"], orders["utility"], orders["version"], orders["status"], strict=True)]
    return set(orders.groupby("rowguid")["final"].all().loc[lambda s: s].index)


def _unrouted_rowguids(ledger: Ledger) -> set[str]:
    states = {s["rowguid"]: s for s in _raw(ledger, "record_state")}
    return {g for g, s in states.items() if s["status"] in ("quarantined", "withdrawn")} - {w["rowguid"] for w in _raw(ledger, "work_order")}


def _personal_values(row: dict) -> list:
    return [row[c] for c in PERSONAL_RECORD if row[c] not in (None, "")]


def test_the_purge_rewrites_exactly_the_due_rows_and_keeps_every_count(ledger):
    later = utcnow() + timedelta(days=200)  # past every retention for what was closed today
    closed, unrouted = _closed_rowguids(ledger), _unrouted_rowguids(ledger)
    assert closed and unrouted and len(_raw(ledger, "record_state")) > len(closed) + len(unrouted)  # some records stay: delivered, not closed
    before_rows, before = _raw(ledger, "received_record"), _counts(ledger, later)
    clear_ids = [r["zrfzjhm"] for r in before_rows if r["zrfzjhm"]]

    report = purge_personal(ledger, now=later, days=DAYS, batch=7, run_id="purge-1")

    assert report.units["record"] == len(closed) and report.units["record_unrouted"] == len(unrouted)
    assert report.units["result_exceptions"] == 1 and report.units["dead_letters"] == 1 and report.batches > 2
    after_rows = _raw(ledger, "received_record")
    due = closed | unrouted
    for old, new in zip(before_rows, after_rows, strict=True):
        assert {k: v for k, v in old.items() if k not in PERSONAL_RECORD} == {k: v for k, v in new.items() if k not in PERSONAL_RECORD}
        if new["rowguid"] in due:
            assert all(v.startswith("purged:") for v in _personal_values(new)), new["rowguid"]
        else:
            assert new == old
    assert sum(1 for r in after_rows if r["rowguid"] in due and _personal_values(r)) > 0
    assert report.values["received_record.zrfzjhm"] == sum(1 for r in before_rows if r["rowguid"] in due and r["zrfzjhm"])
    sms = _raw(ledger, "sms_outbox")
    assert sms and all(m["phone"].startswith("purged:") for m in sms if m["rowguid"] in due)
    assert all(f["value"] in (None, "") or f["value"].startswith("purged:") for f in _raw(ledger, "rule_failure")
               if f["change_seq"] in {r["change_seq"] for r in after_rows if r["rowguid"] in due})
    assert [e["value"][:7] for e in _raw(ledger, "result_exception")] == ["purged:"]
    letters = {d["unit_key"]: d for d in _raw(ledger, "dead_letter")}
    assert bytes(letters["gone"]["payload"]) == b"purged:" and bytes(letters["open"]["payload"]) != b"purged:"
    assert letters["gone"]["payload_sha256"] and letters["gone"]["payload_size"] == 11

    after = _counts(ledger, later)
    assert after["rows"].pop("audit_log") == before["rows"].pop("audit_log") + 1  # its own entry, and nothing else
    assert after == before  # purge keeps the balances
    shown = ledger.cohandling.reconciliation_input(later)
    buyers = shown.loc[shown["rowguid"].isin(closed), "buyer_id"].tolist()  # readers get the masked form, never the mark
    assert buyers and all(v in (None, "") or ("*" in v and not v.startswith("purged:") and v not in clear_ids) for v in buyers)

    audit = [a for a in ledger.audit_trail("purge-1") if a["action"] == "personal_purged"]
    assert len(audit) == 1
    detail = json.loads(audit[0]["detail"])
    assert detail["units"]["record"] == len(closed) and detail["values"]["received_record.zrfzjhm"] == report.values["received_record.zrfzjhm"]
    assert not any(v in audit[0]["detail"] for v in clear_ids)

    again = purge_personal(ledger, now=later, days=DAYS, batch=7, run_id="purge-2")
    assert (dict(again.units), dict(again.values), again.batches) == ({}, {}, 0)
    assert _raw(ledger, "received_record") == after_rows


def test_records_not_final_or_not_yet_past_retention_are_untouched(ledger):
    soon = utcnow() + timedelta(days=100)  # past the 90 days of records never routed, not the 180 of closed ones
    before = _raw(ledger, "received_record")
    report = purge_personal(ledger, now=soon, days=DAYS, run_id="purge-soon")
    assert report.units["record_unrouted"] > 0 and report.units["record"] == 0 and report.units["result_exceptions"] == 0
    purged = {r["rowguid"] for r in _raw(ledger, "received_record") if any(str(v).startswith("purged:") for v in _personal_values(r))}
    assert purged and not purged & _closed_rowguids(ledger)
    assert len(purged) == report.units["record_unrouted"] and len(before) == len(_raw(ledger, "received_record"))


def test_a_dry_run_says_what_a_purge_would_do_and_writes_nothing(ledger):
    later = utcnow() + timedelta(days=200)
    before = {t: _raw(ledger, t) for t in ("received_record", "rule_failure", "sms_outbox", "received_original")}
    trail = len(ledger.audit_trail())
    dry = purge_personal(ledger, now=later, days=DAYS, batch=9, dry_run=True)
    assert {t: _raw(ledger, t) for t in before} == before and len(ledger.audit_trail()) == trail
    real = purge_personal(ledger, now=later, days=DAYS, batch=9)
    assert (dry.units, dry.values) == (real.units, real.values) and dry.units["record"] > 0


def test_an_interrupted_purge_keeps_its_batches_says_so_and_the_next_run_resumes(ledger):
    later = utcnow() + timedelta(days=200)

    def stop(unit, batch):
        raise RuntimeError("the worker was killed")

    with pytest.raises(RuntimeError, match="killed"):
        purge_personal(ledger, now=later, days=DAYS, batch=5, run_id="cut", after_batch=stop)
    cut = json.loads(next(a for a in ledger.audit_trail("cut") if a["action"] == "personal_purged")["detail"])
    assert cut["interrupted"] == "RuntimeError" and 0 < sum(cut["units"].values()) <= 5 and cut["batches"] == 1
    first = {r["rowguid"] for r in _raw(ledger, "received_record") if any(str(v).startswith("purged:") for v in _personal_values(r))}
    assert len(first) == sum(cut["units"].values())  # the first batch committed, whole, and nothing after it

    rest = purge_personal(ledger, now=later, days=DAYS, batch=5, run_id="resume")
    records = rest.units["record"] + rest.units["record_unrouted"] + cut["units"].get("record", 0) + cut["units"].get("record_unrouted", 0)
    assert records == len(_closed_rowguids(ledger) | _unrouted_rowguids(ledger))
    assert purge_personal(ledger, now=later, days=DAYS, batch=5).batches == 0


def test_the_command_line_says_what_would_be_purged_then_purges_it(ledger, capsys):
    from tools.cli import main

    url = ledger.engine.url.render_as_string(hide_password=False)
    at = (utcnow() + timedelta(days=200, hours=8)).isoformat(sep=" ", timespec="minutes")
    before = _raw(ledger, "received_record")
    with pytest.raises(SystemExit) as dry:
        main(["retention", "purge", "--ledger", url, "--dry-run", "--at", at, "--json"])
    would = json.loads(capsys.readouterr().out)
    assert dry.value.code == 0 and would["dry_run"] and would["units"]["record"] > 0 and _raw(ledger, "received_record") == before
    with pytest.raises(SystemExit) as real:
        main(["retention", "purge", "--ledger", url, "--at", at])
    out = capsys.readouterr().out
    assert real.value.code == 0 and f"retention: purged dead_letters 1, record {would['units']['record']}," in out
    assert re.search(rf"\nvalues\.received_record\.zrfzjhm +{would['values']['received_record.zrfzjhm']}\n", out)
    assert not any(r["zrfzjhm"] and r["zrfzjhm"] in out for r in before)
    with pytest.raises(SystemExit) as bad:
        main(["retention", "purge", "--ledger", url, "--at", "tomorrow"])
    assert bad.value.code == 2 and "--at 'tomorrow': a date or date-time is expected" in capsys.readouterr().err
