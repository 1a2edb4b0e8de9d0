"""Key rotation on a real table (connectors/token_table.py), SQLite and PostgreSQL: a throwaway table made here (the
ledger's schema is not touched), rotated in batches, interrupted half-way, resumed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from connectors.dburl import engine_for
from connectors.token_table import TokenTable
from jobs.common.key_rotation import RotationSpec, rotate
from transforms.common.fieldcrypt import PURGED, Keyring, blind_index_column, decrypt_column, encrypt_column, key_id_of, new_key

SPEC = RotationSpec("crypt_probe", ("zjhm", "lxdh"), {"zjhm_bidx": ("zjhm", "id")})
N = 57


@pytest.fixture
def probe(db_urls):
    """(engine, table, keyring k1): N rows under k1, every seventh legacy clear, one NULL phone, one purged, one ''."""
    engine = engine_for(db_urls[1])
    meta = sa.MetaData()
    table = sa.Table("crypt_probe", meta, sa.Column("region", sa.String(6), primary_key=True), sa.Column("seq", sa.Integer, primary_key=True),
                     sa.Column("zjhm", sa.Text), sa.Column("lxdh", sa.Text), sa.Column("zjhm_bidx", sa.String(80)))
    meta.create_all(engine)
    ring = Keyring([new_key("k1")], "k1")
    zjhm = [f"3701021990{i:07d}X" for i in range(N)]
    lxdh = [f"139{i:08d}" for i in range(N)]
    lxdh[3], lxdh[4], lxdh[5] = None, PURGED, ""
    enc_z = encrypt_column(zjhm, ring, table="crypt_probe", column="zjhm")
    enc_l = encrypt_column(lxdh, ring, table="crypt_probe", column="lxdh")
    rows = [{"region": "370102" if i % 2 else "370203", "seq": i, "zjhm": zjhm[i] if i % 7 == 0 else enc_z[i],
             "lxdh": lxdh[i] if i % 7 == 0 else enc_l[i]} for i in range(N)]
    for row in rows:
        row["zjhm_bidx"] = blind_index_column([row["zjhm"]], ring, kind="id", column="zjhm", table="crypt_probe")[0]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    yield engine, table, ring, dict(zip(range(N), zip(zjhm, lxdh, strict=True), strict=True))
    engine.dispose()


def _read(engine, table) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.seq)).mappings()]


class _Crash(TokenTable):
    """Fails its `crash_on`-th batch write before committing it, as a killed process would."""

    crash_on, writes = 0, 0

    def write_batch(self, changes):
        self.writes += 1
        if self.writes == self.crash_on:
            raise ConnectionError("killed")
        return super().write_batch(changes)


def test_rotation_interrupted_half_way_resumes_and_ends_under_the_new_key(probe):
    engine, table, old, clear = probe
    ring = Keyring([*old.keys.values(), new_key("k2")], "k2")
    rows = _Crash(engine, "crypt_probe", key=("region", "seq"), columns=("zjhm", "lxdh", "zjhm_bidx"))
    rows.crash_on = 4
    with pytest.raises(ConnectionError):
        rotate(rows, ring, SPEC, batch=8)
    half = _read(engine, table)
    moved = [r["seq"] for r in half if key_id_of(r["zjhm"]) == "k2"]
    assert len(moved) == 3 * 8, "the three committed batches stay rotated, the fourth is not"
    assert any(key_id_of(r["zjhm"]) == "k1" for r in half)

    report = rotate(TokenTable(engine, "crypt_probe", key=("region", "seq"), columns=("zjhm", "lxdh", "zjhm_bidx")), ring, SPEC, batch=8)
    assert (report.scanned, report.rewritten, report.conflicts) == (N, N - 24, 0)
    after = _read(engine, table)
    for r in after:
        z, lx = clear[r["seq"]]
        assert key_id_of(r["zjhm"]) == "k2" and decrypt_column([r["zjhm"]], ring, table="crypt_probe", column="zjhm") == [z]
        # a purged value is kept as it is by the rotation (readers show its masked part: '' for a bare PURGED)
        assert r["lxdh"] == lx if lx == PURGED else decrypt_column([r["lxdh"]], ring, table="crypt_probe", column="lxdh") == [lx]
        assert lx in (None, PURGED, "") or key_id_of(r["lxdh"]) == "k2"
        assert r["zjhm_bidx"] == blind_index_column([z], ring, kind="id", column="zjhm")[0]
    again = rotate(TokenTable(engine, "crypt_probe", key=("region", "seq"), columns=("zjhm", "lxdh", "zjhm_bidx")), ring, SPEC, batch=8)
    assert (again.scanned, again.rewritten) == (N, 0)


def test_a_row_the_gateway_rewrote_meanwhile_is_not_overwritten(probe):
    engine, table, old, _ = probe
    ring = Keyring([*old.keys.values(), new_key("k2")], "k2")
    rows = TokenTable(engine, "crypt_probe", key=("seq",), columns=("zjhm", "lxdh", "zjhm_bidx"))
    batch = rows.read_batch(None, 5)
    from jobs.common.key_rotation import plan_batch

    changes = plan_batch(batch, ring, SPEC)
    fresh = encrypt_column(["11010519491231002X"], ring, table="crypt_probe", column="zjhm")[0]
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.seq == 2).values(zjhm=fresh))
    assert rows.write_batch(changes) == len(changes) - 1
    row2 = [r for r in _read(engine, table) if r["seq"] == 2][0]
    assert row2["zjhm"] == fresh


def test_the_cli_rotates_the_table_with_the_configured_keys(probe, db_urls, tmp_path, monkeypatch, capsys):
    import json

    from jobs.common.field_keys import read_keys_file, write_keys_file
    from tools.cli import main

    engine, table, old, clear = probe
    monkeypatch.delenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", raising=False)
    monkeypatch.setenv("GATEWAY_FIELD_KEYS_FILE", str(tmp_path / "keys.json"))
    argv = ["keys", "rotate", "--ledger", db_urls[1], "--table", "crypt_probe", "--columns", "zjhm,lxdh", "--batch", "10"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and "GATEWAY_FIELD_KEYS_FILE=" in capsys.readouterr().err  # configured, not there: no throwaway
    write_keys_file(tmp_path / "keys.json", old.with_new_key("k3"))
    ring = read_keys_file(tmp_path / "keys.json")
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--index", "zjhm_bidx=zjhm:id", "--json"])
    assert exit_.value.code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {k: out[k] for k in ("scanned", "rewritten", "conflicts", "key_id")} == {"scanned": N, "rewritten": N, "conflicts": 0, "key_id": "k3"}
    for r in _read(engine, table):
        assert key_id_of(r["zjhm"]) == "k3" and decrypt_column([r["zjhm"]], ring, table="crypt_probe", column="zjhm") == [clear[r["seq"]][0]]
        assert r["zjhm_bidx"] == blind_index_column([clear[r["seq"]][0]], ring, kind="id", column="zjhm")[0]
    with pytest.raises(SystemExit) as exit_:
        main(["keys", "rotate", "--ledger", db_urls[1], "--table", "crypt_probe", "--columns", "zjhm,nope"])
    assert exit_.value.code == 2 and "no column nope" in capsys.readouterr().err


def test_all_rotates_every_personal_column_of_a_ledger_bytes_included(db_urls, tmp_path, monkeypatch, capsys):
    """`keys rotate --all` over a migrated ledger: a dead letter sealed under the old key and one written before
    migration 0019 (clear bytes) — both under the new key after, readable with the new key alone (the old one can then be
    dropped); every personal table is gone through; a second run rewrites nothing."""
    import json
    from datetime import datetime

    from connectors.ledger import Ledger
    from connectors.ledger.schema_common import dead_letter
    from jobs.common.field_keys import write_keys_file
    from tools.cli import main

    ledger = Ledger(db_urls[1])
    ledger.migrate()
    old = Keyring([new_key("k1")], "k1")
    ledger.use_keyring(old)
    payload = b"370102199001011234,13800001111"
    ledger.dead_letter(surface="exchange_row", unit_key="a", origin="o", rule_id="R", reason="r", payload=payload)
    with ledger.engine.begin() as conn:  # written before migration 0019: clear
        when = datetime(2026, 1, 1)
        conn.execute(dead_letter.insert(), {"surface": "exchange_row", "unit_key": "b", "origin": "o", "rule_id": "R", "reason": "r", "payload": payload,
                                            "first_seen_at": when, "last_seen_at": when, "seen_count": 1, "status": "open"})
    monkeypatch.delenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", raising=False)
    monkeypatch.setenv("GATEWAY_FIELD_KEYS_FILE", str(tmp_path / "keys.json"))
    new = old.with_new_key("k2")
    write_keys_file(tmp_path / "keys.json", new)
    for expected in ("rewritten", "nothing"):
        with pytest.raises(SystemExit) as exit_:
            main(["keys", "rotate", "--ledger", db_urls[1], "--all", "--batch", "1", "--json"])
        assert exit_.value.code == 0
        reports = {r["table"]: r for r in map(json.loads, capsys.readouterr().out.strip().splitlines())}
        assert {"received_record", "dead_letter", "received_original", "sms_outbox", "remote_applicant"} <= set(reports)
        assert reports["dead_letter"]["rewritten"] == (2 if expected == "rewritten" else 0)
    only_new = Keyring([new.keys["k2"]], "k2")
    ledger.use_keyring(only_new)
    with ledger.engine.connect() as conn:
        stored = [(r[0], bytes(r[1])) for r in conn.exec_driver_sql("SELECT dl_id, payload FROM dead_letter ORDER BY dl_id")]
    assert [s.startswith(b"sm4g1:k2:") for _, s in stored] == [True, True]
    assert [ledger.dead_letter_payload(dl_id) for dl_id, _ in stored] == [payload, payload]
    ledger.dispose()
