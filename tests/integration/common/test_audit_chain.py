"""The tamper-evident audit log on SQLite and PostgreSQL (issue 15, item 4): every entry chained with SM3 under the
chain head's lock; `audit verify` names the entry after an UPDATE, a DELETE and a swap done with direct SQL (by
someone who can switch the append-only triggers off), and a seal finds a tail cut off even when the chain head was
moved back too. Migration 0017 chains the entries written before it; concurrent writers on PostgreSQL give one chain."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
import sqlalchemy as sa

from connectors.dburl import normalise
from connectors.ledger import Ledger
from jobs.common import audit_seal
from tools.cli import main


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_schema_url")()


@pytest.fixture
def ledger(ledger_url):
    ledger = Ledger(ledger_url)
    ledger.migrate()
    yield ledger
    ledger.dispose()


def write(ledger: Ledger, n: int) -> None:
    batch = ledger.begin_batch(run_id="run-1", source="platform", after_seq=0, before_time=datetime(2026, 12, 4))
    ledger.fail_batch(batch, run_id="run-1", error="机房断电")
    for i in range(n - 2):
        ledger.audit(run_id="run-1", actor="route", action=f"step_{i}", object_type="work_order", object_id=i, detail={"n": i, "名称": "协办"})


class Intruder:
    """Someone with the database's owner rights, around the gateway: switches the append-only triggers off and edits."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(normalise(url))
        self.pg = self.engine.dialect.name == "postgresql"  # the test schema's search_path comes with the URL

    def run(self, *sql: str, **params) -> None:
        with self.engine.begin() as conn:
            if self.pg:
                conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            else:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
            for s in sql:
                conn.execute(sa.text(s), params)
            if self.pg:
                conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def intruder(ledger_url):
    intruder = Intruder(ledger_url)
    yield intruder
    intruder.close()


def chain_of(ledger: Ledger) -> tuple[list[dict], tuple[int, str] | None]:
    with ledger.audit_chain() as (rows, head):
        return list(rows), head


def verify(url: str, capsys, *extra: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "verify", "--ledger", url, "--json", *extra])
    return exit_.value.code, json.loads(capsys.readouterr().out)


def test_the_database_still_refuses_changes_to_the_log(ledger, ledger_url):
    write(ledger, 3)
    engine = sa.create_engine(normalise(ledger_url))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET detail = 'x' WHERE seq = 1"))
    engine.dispose()


def test_entries_are_chained_and_verify_exits_0(ledger, ledger_url, capsys):
    write(ledger, 6)
    code, out = verify(ledger_url, capsys)
    assert code == 0 and out["ok"] and out["entries"] == 6 and out["head"]["seq"] == 6 and out["first_break"] is None
    rows, head = chain_of(ledger)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6] and head == (6, rows[-1]["hash"])
    assert [r["action"] for r in rows[:2]] == ["batch_started", "batch_failed"]


def test_an_update_with_direct_sql_is_named(ledger, ledger_url, intruder, capsys):
    write(ledger, 6)
    intruder.run("UPDATE audit_log SET detail = :d WHERE seq = 4", d='{"n": 99}')
    code, out = verify(ledger_url, capsys)
    assert code == 1 and out["first_break"]["kind"] == "altered" and out["first_break"]["seq"] == 4
    assert out["first_break"]["action"] == "step_1"


def test_a_delete_with_direct_sql_names_the_gap(ledger, ledger_url, intruder, capsys):
    write(ledger, 6)
    intruder.run("DELETE FROM audit_log WHERE seq = 3")
    code, out = verify(ledger_url, capsys)
    assert code == 1 and (out["first_break"]["kind"], out["first_break"]["seq"]) == ("removed", 4)
    assert "seq 3 missing" in out["first_break"]["reason"]


def test_a_swap_with_direct_sql_is_named(ledger, ledger_url, intruder, capsys):
    write(ledger, 6)
    rows, _ = chain_of(ledger)
    two, five = rows[1]["audit_id"], rows[4]["audit_id"]
    # two entries change places: their ids and places swapped (through a free value, the keys are unique)
    intruder.run("UPDATE audit_log SET audit_id = -1, seq = -1 WHERE audit_id = :a",
                 "UPDATE audit_log SET audit_id = :a, seq = 2 WHERE audit_id = :b",
                 "UPDATE audit_log SET audit_id = :b, seq = 5 WHERE audit_id = -1", a=two, b=five)
    code, out = verify(ledger_url, capsys)
    assert code == 1 and (out["first_break"]["kind"], out["first_break"]["seq"]) == ("reordered", 2)
    assert out["first_break"]["action"] == "step_2" and "follows seq 4" in out["first_break"]["reason"]


def test_seals_find_a_tail_cut_off_and_a_chain_rewritten(ledger, ledger_url, intruder, tmp_path, capsys):
    key, pub = audit_seal.make_key(tmp_path / "keys" / "seal.pem")
    seals = tmp_path / "seals"
    write(ledger, 5)
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "seal", "--ledger", ledger_url, "--key", str(key), "--out", str(seals), "--json"])
    assert exit_.value.code == 0
    sealed = json.loads(capsys.readouterr().out)
    assert sealed["seq"] == 5 and (stat := (seals / sealed["seal"].rsplit("/", 1)[-1]).stat()) and stat.st_size
    ledger.audit(run_id=None, actor="x", action="after_seal")  # seq 7 (6 is the seal's own entry)
    args = ("--seals", str(seals), "--pubkey", str(pub))
    assert verify(ledger_url, capsys, *args)[0] == 0

    # the last three entries removed and the head moved back to seq 4: the chain alone looks whole
    rows, _ = chain_of(ledger)
    intruder.run("DELETE FROM audit_log WHERE seq >= 5", "UPDATE audit_chain_head SET seq = 4, hash = :h", h=rows[3]["hash"])
    code, out = verify(ledger_url, capsys, *args)
    assert code == 1 and out["first_break"] is None
    assert "truncated after the seal" in out["seals"][0]["problem"]
    # without the seals nothing shows: that is what seals are for
    assert verify(ledger_url, capsys)[0] == 0


def test_a_changed_seal_or_another_key_fails(ledger, ledger_url, tmp_path, capsys):
    key, pub = audit_seal.make_key(tmp_path / "seal.pem")
    _, other = audit_seal.make_key(tmp_path / "other.pem")
    write(ledger, 3)
    path = audit_seal.seal(ledger, audit_seal.read_private_key(key.read_bytes()), tmp_path / "seals")
    assert verify(ledger_url, capsys, "--seals", str(path.parent), "--pubkey", str(other))[1]["seals"][0]["problem"].startswith("sealed with another key")
    body = json.loads(path.read_text()) | {"seq": 2}
    path.write_text(json.dumps(body))
    code, out = verify(ledger_url, capsys, "--seals", str(path.parent), "--pubkey", str(pub))
    assert code == 1 and "signature does not match" in out["seals"][0]["problem"]


def test_a_broken_chain_is_not_sealed(ledger, ledger_url, intruder, tmp_path, capsys):
    key, _ = audit_seal.make_key(tmp_path / "seal.pem")
    write(ledger, 4)
    intruder.run("UPDATE audit_log SET actor = 'someone' WHERE seq = 2")
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "seal", "--ledger", ledger_url, "--key", str(key), "--out", str(tmp_path / "seals")])
    assert exit_.value.code == 1 and "seq 2" in capsys.readouterr().out and not (tmp_path / "seals").exists()


def test_migration_0017_chains_the_entries_written_before_it(ledger_url, capsys):
    from alembic import command
    from alembic.config import Config

    from connectors.ledger import MIGRATIONS

    ledger = Ledger(ledger_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0015_reminders")
    with ledger.engine.begin() as conn:  # three entries as the gateway wrote them before 0017
        for i in range(3):
            conn.execute(sa.text("INSERT INTO audit_log (at, run_id, actor, action, detail) VALUES (:at, 'old', 'extract', :a, NULL)")
                         .bindparams(sa.bindparam("at", type_=sa.DateTime)),
                         {"at": datetime(2026, 11, 1, 6, 0, i, 123456), "a": f"old_{i}"})
    ledger.migrate()
    ledger.audit(run_id="new", actor="route", action="after_migration")
    rows, head = chain_of(ledger)
    assert [(r["seq"], r["action"]) for r in rows] == [(1, "old_0"), (2, "old_1"), (3, "old_2"), (4, "after_migration")]
    assert head[0] == 4
    code, out = verify(ledger_url, capsys)
    assert code == 0 and out["ok"]
    ledger.dispose()


def test_concurrent_writers_make_one_chain(ledger, ledger_url, capsys):
    """Four threads, each on its own connection, appending at once (PostgreSQL: the head row's lock orders them;
    SQLite: its write lock, taken by the head's UPDATE before anything is read — no reader turns writer)."""
    errors = []

    def writer(w: int) -> None:
        try:
            for i in range(25):
                ledger.audit(run_id=f"w{w}", actor="load", action="chunk", object_id=i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows, head = chain_of(ledger)
    assert [r["seq"] for r in rows] == list(range(1, 101)) and head[0] == 100
    assert [r["audit_id"] for r in rows] == sorted(r["audit_id"] for r in rows)
    code, out = verify(ledger_url, capsys)
    assert code == 0 and out["ok"]


def test_the_daily_seal_uses_the_configured_key_and_seals_nothing_without_one(ledger, tmp_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_AUDIT_SEAL_KEY", raising=False)
    monkeypatch.setenv("GATEWAY_AUDIT_SEAL_DIR", str(tmp_path / "seals"))
    write(ledger, 3)
    warned = []
    monkeypatch.setattr(audit_seal.log, "warning", lambda msg, *args: warned.append(msg % args))  # Airflow's logging set-up replaces caplog's
    assert audit_seal.seal_daily(ledger, run_id="r") is None
    assert "not sealed" in warned[0] and not (tmp_path / "seals").exists()
    key, pub = audit_seal.make_key(tmp_path / "seal.pem")
    monkeypatch.setenv("GATEWAY_AUDIT_SEAL_KEY", str(key))
    path = audit_seal.seal_daily(ledger, run_id="r")
    assert path and json.loads(open(path, encoding="utf-8").read())["seq"] == 3
    sealed = [e for e in ledger.audit_trail("r") if e["action"] == "audit_sealed"]
    assert len(sealed) == 1 and sealed[0]["seq"] == 4 and json.loads(sealed[0]["detail"])["seq"] == 3
    assert audit_seal.verify(ledger, seals_dir=tmp_path / "seals", public_key=audit_seal.read_public_key(pub.read_bytes())).ok


def test_the_seal_key_comes_from_the_connection_before_the_file(tmp_path, monkeypatch):
    from_file, _ = audit_seal.make_key(tmp_path / "file.pem")
    from_conn, conn_pub = audit_seal.make_key(tmp_path / "conn.pem")
    monkeypatch.setenv("GATEWAY_AUDIT_SEAL_KEY", str(from_file))
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_AUDIT_SEAL", json.dumps({"conn_type": "generic", "password": from_conn.read_text()}))
    expected = audit_seal.key_id(audit_seal.read_public_key(conn_pub.read_bytes()))
    assert audit_seal.key_id(audit_seal.load_signing_key().public_key()) == expected
    monkeypatch.delenv("AIRFLOW_CONN_GATEWAY_AUDIT_SEAL")
    assert audit_seal.key_id(audit_seal.load_signing_key().public_key()) != expected
