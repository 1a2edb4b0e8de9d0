"""tools/cli.py fails helpfully (issue 17, item 6): a ledger or platform that is not there, cannot be
opened or is not migrated, and a bad date, are refused in one line naming the argument, exit status 2,
no traceback — and a mistyped SQLite path is never created. Results print as a table, or JSON on request."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tools.cli import main, table

ROOT = Path(__file__).resolve().parents[2]


def _refused(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> str:
    from connectors.ledger import Ledger

    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
    ledger = Ledger(url)
    ledger.migrate()
    ledger.dispose()
    return url


def test_a_mistyped_sqlite_ledger_is_refused_by_name_and_not_created(tmp_path):
    missing = tmp_path / "legder.db"
    done = subprocess.run([sys.executable, "-m", "tools.cli", "balance", "--ledger", f"sqlite:///{missing}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "--ledger" in done.stderr and "no such file" in done.stderr and str(missing) in done.stderr
    assert not missing.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["balance"], ["report", "--from", "2026-11-01", "--to", "2026-11-02"],
                                     ["handover-receipt", "--list", "YJ-1", "--at", "2026-11-20 10:00", "--by", "李华"], ["trace", "X"]])
def test_every_command_refuses_a_missing_ledger_without_creating_it(command, tmp_path, capsys):
    missing = tmp_path / "nope" / "ledger.db"
    err = _refused([command[0], "--ledger", f"sqlite:///{missing}", *command[1:]], capsys)
    assert "--ledger" in err and "no such file" in err and not missing.parent.exists()


def test_an_unmigrated_or_unreadable_ledger_is_refused_naming_db_upgrade(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    err = _refused(["report", "--ledger", f"sqlite:///{empty}", "--from", "2026-11-01", "--to", "2026-11-02"], capsys)
    assert "--ledger" in err and "not migrated" in err and "db upgrade" in err
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)

    behind = tmp_path / "behind.db"
    with sqlite3.connect(behind) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0012_state')")
    err = _refused(["balance", "--ledger", f"sqlite:///{behind}"], capsys)
    assert "--ledger" in err and "at migration 0012_state" in err and "db upgrade" in err

    ahead = tmp_path / "ahead.db"
    with sqlite3.connect(ahead) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999_from_newer_code')")
    err = _refused(["balance", "--ledger", f"sqlite:///{ahead}"], capsys)
    assert "--ledger" in err and "9999_from_newer_code, which this code does not know" in err and "db upgrade" not in err

    text = tmp_path / "notes.db"
    text.write_text("not a database, a note\n" * 100, encoding="utf-8")
    err = _refused(["balance", "--ledger", f"sqlite:///{text}"], capsys)
    assert "--ledger" in err and "cannot be opened as a database" in err


def test_a_ledger_that_is_not_a_url_is_told_how_to_write_one(capsys):
    err = _refused(["balance", "--ledger", "var/ledger.db"], capsys)
    assert "--ledger 'var/ledger.db' is not a database URL" in err and "sqlite:///" in err


@pytest.mark.parametrize(("argv", "named"), [
    (["--from", "2026-13-01", "--to", "2026-11-02"], "argument --from"),
    (["--from", "2026-11-01", "--to", "yesterday"], "argument --to"),
    (["--from", "2026-11-01", "--to", "2026-11-02", "--as-of", "next tuesday"], "argument --as-of"),
    (["--from", "2026-11-03", "--to", "2026-11-02"], "--from 2026-11-03 is after --to 2026-11-02"),
])
def test_a_bad_date_is_refused_naming_the_argument(argv, named, migrated, capsys):
    err = _refused(["report", "--ledger", migrated, *argv], capsys)
    assert named in err


def test_a_platform_that_is_missing_or_not_the_exchange_database_is_refused(migrated, tmp_path, capsys):
    err = _refused(["extract", "--platform", f"sqlite:///{tmp_path / 'platfrom.db'}", "--ledger", migrated, "--run-id", "r"], capsys)
    assert "--platform" in err and "no such file" in err and not (tmp_path / "platfrom.db").exists()
    err = _refused(["extract", "--platform", migrated, "--ledger", migrated, "--run-id", "r"], capsys)
    assert "--platform" in err and "no table BDC_SDQR_XBXX" in err


def test_db_upgrade_creates_a_ledger_but_not_a_mistyped_folder_and_names_a_missing_connection(tmp_path, capsys, monkeypatch):
    err = _refused(["db", "upgrade", "--ledger", f"sqlite:///{tmp_path / 'nope' / 'ledger.db'}"], capsys)
    assert "--ledger" in err and "no such folder" in err and not (tmp_path / "nope").exists()
    monkeypatch.delenv("AIRFLOW_CONN_I17_NOWHERE", raising=False)
    err = _refused(["db", "upgrade", "--conn-id", "i17_nowhere"], capsys)
    assert "--conn-id i17_nowhere: no such Airflow connection" in err and "AIRFLOW_CONN_I17_NOWHERE" in err
    main(["db", "upgrade", "--ledger", f"sqlite:///{tmp_path / 'new.db'}"])
    assert "newest migration" in capsys.readouterr().out and (tmp_path / "new.db").is_file()


def test_a_report_prints_a_table_by_default_and_json_on_request(migrated, tmp_path, capsys):
    argv = ["report", "--ledger", migrated, "--from", "2026-11-01", "--to", "2026-11-02", "--as-of", "2026-11-03 10:00", "--out", str(tmp_path)]
    main(argv)
    shown = capsys.readouterr().out
    assert "统计时点 as_of" in shown and "2026-11-03 10:00:00" in shown and "收到记录 records.received" in shown
    assert "报告 files.html" in shown and str(tmp_path / "report.html") in shown
    with pytest.raises(json.JSONDecodeError):
        json.loads(shown)
    main([*argv, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2026-11-03 10:00:00" and data["records"]["received"] == 0 and data["files"]["html"] == str(tmp_path / "report.html")


def test_the_table_aligns_chinese_labels_and_flattens_nested_values():
    text = table({"list_no": "YJ-370102-0001", "statuses": {"done": 3, "overdue": 1}, "period": ["2026-11-01", "2026-11-02"], "note": None})
    lines = text.splitlines()
    assert lines[0].startswith("移交清单编号 list_no") and "按时办结 statuses.done" in text and "超期未办结 statuses.overdue" in text
    assert "2026-11-01 – 2026-11-02" in text and lines[-1].split() == ["note", "none"]
    # every value starts in the same terminal column (a CJK character is two columns)
    from tools.cli import _width

    columns = {_width(line[: line.index(value)]) for line, value in zip(lines, ["YJ-370102-0001", "3", "1", "2026-11-01", "none"], strict=True)}
    assert len(columns) == 1


def test_trace_of_an_unknown_key_exits_1_saying_where_it_looked(migrated, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["trace", "NO-SUCH-KEY", "--ledger", migrated])
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    said = [line for line in captured.err.splitlines() if line.startswith("python -m tools.cli trace: ")]
    assert len(said) == 1 and "未找到 'NO-SUCH-KEY'" in said[0] and all(k in said[0] for k in ("ROWGUID", "YCYWH", "BWID")), captured.err
    assert "未找到 not found" in captured.out
    with pytest.raises(SystemExit) as exit_:
        main(["trace", "NO-SUCH-KEY", "--ledger", migrated, "--json"])
    assert exit_.value.code == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["key"], data["kind"], data["matches"], data["events"]) == ("NO-SUCH-KEY", None, [], [])
    assert len(data["searched"]) == 4
    assert "KEY is empty" in _refused(["trace", "  ", "--ledger", migrated], capsys)

@pytest.fixture
def own_logging(monkeypatch):
    """No root handler left by an earlier command's logging.basicConfig (bound to a closed captured stream)."""
    import logging

    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.WARNING)


@pytest.mark.parametrize("what", [["order", "R-1"], ["package", "BW-1"], ["batch", "XB20261120_000001"]])
def test_a_replay_without_a_reason_is_refused_before_anything_opens(what, migrated, capsys, own_logging):
    err = _refused(["replay", *what, "--ledger", migrated], capsys)
    assert f"replay {what[0]}" in err and "--reason is required" in err
    err = _refused(["replay", *what, "--ledger", migrated, "--reason", "   "], capsys)
    assert "--reason is required" in err


@pytest.mark.parametrize("what", [["order", "R-NEVER", "--utility", "water"], ["package", "BW-NEVER"]])
def test_a_replay_of_what_was_never_delivered_is_refused_saying_what_to_do_and_audited(what, migrated, capsys, own_logging):
    from connectors.ledger import Ledger

    err = _refused(["replay", *what, "--ledger", migrated, "--reason", "县里说没收到", "--operator", "张工"], capsys)
    assert what[1] in err and "no delivery of it" in err and "trace" in err
    ledger = Ledger(migrated)
    [audit] = [a for a in ledger.audit_entries("replay_refused") if a["object_id"] == what[1]]
    detail = json.loads(audit["detail"])
    assert audit["actor"] == "replay" and detail["operator"] == "张工" and detail["reason"] == "县里说没收到"
    ledger.dispose()


@pytest.mark.parametrize("what", [["verify"], ["seal", "--key", "KEY", "--out", "OUT"]])
def test_audit_refuses_a_missing_ledger_without_creating_it(what, tmp_path, capsys):
    from jobs.common.audit_seal import make_key

    key, _ = make_key(tmp_path / "seal.pem")
    missing = tmp_path / "nope" / "ledger.db"
    argv = ["audit", what[0], "--ledger", f"sqlite:///{missing}", *what[1:]]
    err = _refused([str(key) if a == "KEY" else str(tmp_path / "out") if a == "OUT" else a for a in argv], capsys)
    assert "--ledger" in err and "no such file" in err and not missing.parent.exists() and not (tmp_path / "out").exists()


def test_audit_verify_wants_seals_and_their_key_together_and_keygen_never_overwrites(migrated, tmp_path, capsys):
    assert "--seals and --pubkey go together" in _refused(["audit", "verify", "--ledger", migrated, "--seals", str(tmp_path)], capsys)
    key = tmp_path / "seal.pem"
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "keygen", "--key", str(key)])
    assert exit_.value.code == 0 and oct(key.stat().st_mode & 0o777) == "0o600" and (tmp_path / "seal.pem.pub").exists()
    before = key.read_bytes()
    assert "already exists" in _refused(["audit", "keygen", "--key", str(key)], capsys) and key.read_bytes() == before
    assert "cannot be read as a PEM Ed25519 private key" in _refused(
        ["audit", "seal", "--ledger", migrated, "--key", str(tmp_path / "seal.pem.pub"), "--out", str(tmp_path / "s")], capsys)


def test_verify_batch_says_ok_or_each_problem_and_refuses_a_bad_key_file(tmp_path, capsys):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from transforms.cohandling.batchfiles import BatchFile
    from transforms.common.signing import public_pem, with_signature

    key = Ed25519PrivateKey.generate()
    (tmp_path / "pub.pem").write_bytes(public_pem(key.public_key()))
    folder = tmp_path / "XB_1"
    folder.mkdir()
    data = BatchFile("XB_1.csv", b"GDBH\nr1:water:1\n")
    manifest = BatchFile("XB_1.manifest.json", json.dumps({"files": [{"name": data.name, "size": data.size, "sha256": data.sha256}]}).encode())
    for f in with_signature([data, manifest], key):
        (folder / f.name).write_bytes(f.data)
    argv = ["verify-batch", str(folder), "--pubkey", str(tmp_path / "pub.pem")]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("OK XB_1: manifest signed by the gateway (SHA256:")
    (folder / "XB_1.manifest.json").write_bytes((folder / "XB_1.manifest.json").read_bytes().replace(b'"size": 16', b'"size": 17'))
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 1 and "FAILED XB_1.manifest.json: signature does not verify" in capsys.readouterr().out
    (tmp_path / "bad.pem").write_text("not a key")
    assert "not the gateway's public key" in _refused(["verify-batch", str(folder), "--pubkey", str(tmp_path / "bad.pem")], capsys)
    assert "not a folder" in _refused(["verify-batch", str(tmp_path / "nope"), "--pubkey", str(tmp_path / "pub.pem")], capsys)
