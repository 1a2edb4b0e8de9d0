"""Key rotation over the in-memory rows (jobs/common/key_rotation.py), and where the keys come from (jobs/common/field_keys.py)."""

from __future__ import annotations

import json

import pytest

from jobs.common.field_keys import add_active_key, load_keyring, read_keys_file, write_keys_file
from jobs.common.key_rotation import InMemoryTokenRows, RotationSpec, plan_batch, rotate
from transforms.common.fieldcrypt import PURGED, Keyring, blind_index_column, decrypt_column, encrypt_column, key_id_of, new_key

SPEC = RotationSpec("party", ("zjhm", "lxdh"), {"zjhm_bidx": ("zjhm", "id")})


def _ring(*ids: str) -> Keyring:
    return Keyring([new_key(k) for k in ids], ids[-1])


def _rows(ring: Keyring, n: int) -> list[dict]:
    """n rows under ring's active key; every fifth clear (legacy), one NULL and one purged phone."""
    rows = []
    for i in range(n):
        zjhm, lxdh = f"3701021990010{i:05d}", f"138{i:08d}"
        if i % 5:
            zjhm = encrypt_column([zjhm], ring, table="party", column="zjhm")[0]
            lxdh = encrypt_column([lxdh], ring, table="party", column="lxdh")[0]
        rows.append({"id": i, "zjhm": zjhm, "lxdh": lxdh, "zjhm_bidx": blind_index_column([zjhm], ring, kind="id", column="zjhm", table="party")[0]})
    rows[1]["lxdh"], rows[2]["lxdh"] = None, PURGED
    return rows


def _clear(rows: list[dict], ring: Keyring) -> list[tuple]:
    return [(r["id"], decrypt_column([r["zjhm"]], ring, table="party", column="zjhm")[0],
             decrypt_column([r["lxdh"]], ring, table="party", column="lxdh")[0]) for r in rows]


def test_rotation_brings_every_value_under_the_active_key_and_keeps_the_clear_values():
    old = _ring("k1")
    rows = _rows(old, 23)
    new = old.with_new_key("k2")
    clear_before = _clear(rows, new)
    seen = []
    report = rotate(InMemoryTokenRows(rows), new, SPEC, batch=5, progress=lambda r: seen.append(r.scanned))
    assert (report.scanned, report.rewritten, report.conflicts, report.batches) == (23, 23, 0, 5)
    assert seen == [5, 10, 15, 20, 23]
    assert _clear(rows, new) == clear_before
    for r in rows:
        assert key_id_of(r["zjhm"]) == "k2" and r["zjhm_bidx"].startswith("k2:")
        assert r["lxdh"] in (None, PURGED) or key_id_of(r["lxdh"]) == "k2"
        assert r["zjhm_bidx"] == blind_index_column([r["zjhm"]], new, kind="id", column="zjhm", table="party")[0]
    assert rows[1]["lxdh"] is None and rows[2]["lxdh"] == PURGED
    assert rotate(InMemoryTokenRows(rows), new, SPEC, batch=5).rewritten == 0  # nothing left to do


def test_an_interrupted_rotation_keeps_its_batches_and_a_re_run_does_only_the_rest():
    old = _ring("k1")
    rows = _rows(old, 20)
    new = old.with_new_key("k2")
    with pytest.raises(ConnectionError):
        rotate(InMemoryTokenRows(rows, fail_on_write=3), new, SPEC, batch=4)
    assert [key_id_of(r["zjhm"]) for r in rows[:8]] == ["k2"] * 8 and key_id_of(rows[9]["zjhm"]) == "k1"
    report = rotate(InMemoryTokenRows(rows), new, SPEC, batch=4)
    assert (report.scanned, report.rewritten) == (20, 12)


def test_a_row_changed_meanwhile_is_left_as_the_gateway_wrote_it():
    old = _ring("k1")
    rows = _rows(old, 3)
    new = old.with_new_key("k2")
    changes = plan_batch([dict(r) for r in rows], new, SPEC)
    rows[1]["zjhm"] = encrypt_column(["11010519491231002X"], new, table="party", column="zjhm")[0]  # the gateway, meanwhile
    store = InMemoryTokenRows(rows)
    assert store.write_batch(changes) == 2
    assert decrypt_column([rows[1]["zjhm"]], new, table="party", column="zjhm") == ["11010519491231002X"]


def test_a_blind_index_whose_source_is_missing_is_not_among_the_tokens():
    with pytest.raises(ValueError, match="not among the token columns"):
        RotationSpec("party", ("lxdh",), {"zjhm_bidx": ("zjhm", "id")})


def test_keys_come_from_the_connection_first(tmp_path, monkeypatch):
    ring = _ring("c1")
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", json.dumps({"conn_type": "generic", "extra": ring.to_json()}))
    monkeypatch.setenv("GATEWAY_FIELD_KEYS_FILE", str(tmp_path / "nowhere.json"))
    assert load_keyring().keys == ring.keys
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", json.dumps({"conn_type": "generic", "password": json.dumps(ring.to_json())}))
    assert load_keyring().active == "c1"
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", json.dumps({"conn_type": "generic", "login": "x"}))
    with pytest.raises(ValueError, match="gateway_field_keys: neither its extra nor its password"):
        load_keyring()


def test_keys_from_the_configured_file_and_a_missing_one_fails(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", raising=False)
    path = tmp_path / "keys.json"
    monkeypatch.setenv("GATEWAY_FIELD_KEYS_FILE", str(path))
    with pytest.raises(FileNotFoundError, match="GATEWAY_FIELD_KEYS_FILE="):
        load_keyring()
    write_keys_file(path, _ring("f1"))
    assert path.stat().st_mode & 0o077 == 0
    assert load_keyring().active == "f1"
    rotated = add_active_key(path, "f2")
    assert read_keys_file(path).active == "f2" and set(rotated.keys) == {"f1", "f2"}
    path.write_text('{"active": "f1"}')
    with pytest.raises(ValueError, match="keys.json"):
        load_keyring()


def test_without_configuration_a_throwaway_keyring_is_made_once(tmp_path, monkeypatch):
    import jobs.common.settings as settings

    monkeypatch.delenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", raising=False)
    monkeypatch.delenv("GATEWAY_FIELD_KEYS_FILE", raising=False)
    monkeypatch.setattr(settings, "VAR", tmp_path)
    first = load_keyring()
    assert (tmp_path / "keys" / "gateway-field-keys.json").exists()
    assert load_keyring().keys == first.keys


def test_a_connection_password_that_is_not_the_keys_json_is_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_GATEWAY_FIELD_KEYS", json.dumps({"conn_type": "generic", "password": "s3cret-not-json"}))
    with pytest.raises(ValueError, match="its password is not the keys' JSON") as err:
        load_keyring()
    assert "s3cret" not in str(err.value)
