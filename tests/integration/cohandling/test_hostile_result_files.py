"""Hostile result files in the institutions' drops, over the real OpenSSH sshd (chrooted accounts).

Hostile cell values, hostile file names (not UTF-8, `..`, spaces, very long), an upload that
stalls half-way, a file the gateway may not read, a future mtime, a million one-character
rows. For each: the collection completes; the bad unit gets one clear reason (rule + row, or
the file); every other file's results are what they are without it; a second collection
stores nothing twice; the institution finds one note (receipt) per refused or partly
refused file in its `inbox/receipts/`.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import paramiko
import pytest

from jobs.cohandling.collect_results import collect_results
from jobs.cohandling.deliver_orders import deliver_run
from tests.hostile import DEPTH, KINDS, covers
from tests.integration import openssh
from tests.integration.institutions import write_inbox
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.result_files import MAX_FILE_EXCEPTIONS, MAX_RESULT_ROWS
from transforms.common.text import needs_cleaning


@pytest.fixture
def world(sshd, db_urls, tmp_path):
    """A routed, delivered ledger on SQLite and on PostgreSQL, and two institutions with drops on the real sshd."""
    yield from _world(sshd, db_urls[1], tmp_path)


@pytest.fixture
def world_lite(sshd, tmp_path):
    """The same on SQLite only (the file-level cases: what they store is what the cells test stores on both)."""
    yield from _world(sshd, f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)


def _world(sshd, url, tmp_path):
    import pandas as pd

    ledger = routed_ledger(url, tmp_path, rows=300, seed=1207)  # drop accounts are system-wide: a seed no other test uses
    ready = pd.DataFrame([w for w in ledger.cohandling.work_orders() if w["channel"] == "account" and w["status"] == "ready"])
    chosen = []
    for drop in ready["destination"].value_counts().index:
        if drop in sshd.users:  # the sshd lives for the module; its accounts for as long
            chosen.append(drop)
        elif not _account_exists(drop):  # accounts are system-wide: one another test holds now is left to it
            sshd.add_drop(drop)
            chosen.append(drop)
        if len(chosen) == 2:
            break
    drops = openssh.drops_for(sshd)
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops)
    by_drop: dict[str, list[dict]] = {}
    for d in ledger.cohandling.deliveries():
        if d["channel"] == "account" and d["status"] == "delivered":
            by_drop.setdefault(d["destination"], []).append(d)
    a, b = sorted((d for d in by_drop if d in chosen), key=lambda k: -len(by_drop[k]))[:2]
    assert len(by_drop[a]) >= 4 and len(by_drop[b]) >= 1
    yield ledger, drops, a, b, by_drop[a], by_drop[b]
    drops.close()
    ledger.dispose()


def _account_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def key(d: dict) -> str:
    return f"{d['rowguid']}:{d['utility']}:{d['version']}"


def when(d: dict) -> str:
    return (d["delivered_at"] + timedelta(hours=8, days=1)).strftime("%Y-%m-%d %H:%M")


AS_OF_LATER = datetime.now() + timedelta(days=10)


def receipts(sshd, drop: str) -> list[str]:
    folder = sshd.root / drop / "inbox" / "receipts"
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".receipt.csv")) if folder.exists() else []  # not their .sig


def inbox_files(sshd, drop: str) -> list[bytes]:
    return sorted(n for n in os.listdir(os.fsencode(sshd.root / drop / "inbox")) if n != b"receipts")


def stored(ledger) -> tuple[int, int, int]:
    import sqlalchemy as sa

    with ledger.engine.connect() as conn:
        results = conn.execute(sa.text("SELECT COUNT(*) FROM handling_result")).scalar_one()
        files = conn.execute(sa.text("SELECT COUNT(*) FROM result_file")).scalar_one()
    return results, files, len(ledger.cohandling.result_exceptions())


def good_file(sshd, drop: str, orders: list[dict]) -> dict:
    """A well-behaved institution's file (with its completion marker): every order done. Returns key -> expected result."""
    write_inbox(sshd, drop, "result_good.csv", [[key(d), "", "", "0000", "", when(d), "王伟"] for d in orders], marker=True)
    return {(d["rowguid"], d["utility"]): "done" for d in orders}


def assert_outcomes(ledger, expected: dict) -> None:
    got = {(o["rowguid"], o["utility"]): o["result"] for o in ledger.cohandling.outcomes().to_dict("records")}
    assert {k: got.get(k) for k in expected} == expected


def test_hostile_cells_cost_their_row_alone_and_the_institution_is_told_once(sshd, world):
    ledger, drops, a, b, mine, theirs = world
    expected = good_file(sshd, b, theirs)  # the other institution's file: untouched by a's
    expected[(mine[0]["rowguid"], mine[0]["utility"])] = "done"
    rows = [[key(mine[0]), "", "", "0000", "", when(mine[0]), "李娜"]]
    hostile_rows = []  # (row number, kind, column)
    for kind, values in KINDS.items():
        if kind == "wrong_json_type":
            continue
        for value in values[:DEPTH]:
            short = value[:2000] if kind == "huge_cell" else value  # one 3 MB cell per file: the file stays under its size bound
            for column, cells in (("GDBH", [value, "", "", "0000", "", when(mine[1]), ""]),
                                  ("JGSM", [key(mine[2]), "", "", "0100", short, when(mine[2]), short])):
                hostile_rows.append((len(rows) + 2, kind, column))
                rows.append(cells)
    data = b"GDBH,ROWGUID,XBLX,JGDM,JGSM,BLSJ,BLR\r\n"
    for cells in rows:
        data += b",".join(_csv_bytes(c) for c in cells) + b"\r\n"
    write_inbox(sshd, a, "result_hostile.csv", [], raw=data, marker=True)

    collected = collect_results(ledger, as_of=AS_OF_LATER, drops=drops)
    assert collected.errors == []
    assert collected.files == 2
    assert_outcomes(ledger, expected)
    problems = ledger.cohandling.result_exceptions()
    per_row = problems.dropna(subset=["row_number"]).groupby("row_number").size()
    assert (per_row <= 1).all(), per_row[per_row > 1]  # one reason per row
    for number, kind, column in hostile_rows:
        mine_rows = problems[problems["row_number"] == number]
        if column == "GDBH":
            assert len(mine_rows) == 1, (kind, column)  # a hostile key is never a work order
        covers("result_file", kind)
    import sqlalchemy as sa

    with ledger.engine.connect() as conn:
        texts = [t for row in conn.execute(sa.text("SELECT reason, handler FROM handling_result")) for t in row if t]
    assert texts and all(not needs_cleaning(t.replace(" ", "")) and len(t) <= 500 for t in texts)
    assert inbox_files(sshd, a) == [] and inbox_files(sshd, b) == []
    assert len(receipts(sshd, a)) == 1 and len(receipts(sshd, b)) == 1  # a receipt for every file read: a's partly refused, b's not
    assert "全部采用 / all accepted" in (sshd.root / b / "inbox" / "receipts" / receipts(sshd, b)[0]).read_text(encoding="utf-8-sig")
    note = (sshd.root / a / "inbox" / "receipts" / receipts(sshd, a)[0]).read_text(encoding="utf-8-sig")
    assert "result_hostile.csv" in note and "SHA-256" in note
    assert all(not line.split(",", 1)[0].startswith(("=", "+", "-", "@")) for line in note.splitlines())

    before = stored(ledger)
    write_inbox(sshd, a, "result_hostile.csv", [], raw=data, marker=True)  # sent again, the same bytes
    again = collect_results(ledger, as_of=AS_OF_LATER, drops=drops)
    assert (again.files, again.results, again.exceptions, again.errors) == (0, 0, 0, [])
    assert stored(ledger) == before and len(receipts(sshd, a)) == 1


def _csv_bytes(cell) -> bytes:
    if cell is None:
        return b""
    raw = cell if isinstance(cell, bytes) else cell.encode("utf-8")
    return b'"' + raw.replace(b'"', b'""') + b'"'


BAD_NAMES = [b"\xff\xfe_result.csv", b"a..b.csv", b"my result.csv", b"r" * 240 + b".csv", b"$(reboot).csv", b"result.csv\xe2\x80\xae.txt"]


def test_hostile_names_are_refused_one_by_one_and_never_block_the_good_file(sshd, world_lite):
    ledger, drops, a, b, mine, theirs = world_lite
    for n, name in enumerate(BAD_NAMES):
        write_inbox(sshd, a, name, [[key(mine[n % len(mine)]), "", "", "0000", "", when(mine[0]), ""]])
    expected = good_file(sshd, a, mine[:2])

    collected = collect_results(ledger, as_of=AS_OF_LATER, drops=drops)
    assert collected.errors == []
    assert (collected.files, collected.files_refused) == (1, len(BAD_NAMES))
    assert_outcomes(ledger, expected)
    held = ledger.dead_letters("result_file")
    assert sorted(held["rule_id"]) == ["FILE_NAME_UNSAFE"] * len(BAD_NAMES)
    assert any("\\xff\\xfe_result.csv" in r for r in held["reason"])  # the raw bytes, escaped
    assert inbox_files(sshd, a) == []  # moved aside, every one
    assert len(receipts(sshd, a)) == len(BAD_NAMES) + 1  # each refused name, and the good file's receipt
    for name in receipts(sshd, a):
        assert name.isascii() or name.encode("utf-8")
    covers("result_file", "invalid_utf8")

    before = stored(ledger)
    again = collect_results(ledger, as_of=AS_OF_LATER, drops=drops)
    assert (again.files, again.files_refused, again.errors) == (0, 0, [])
    assert stored(ledger) == before and len(ledger.dead_letters("result_file")) == len(BAD_NAMES)


def _institution_sftp(sshd, drop: str) -> paramiko.SFTPClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(sshd.known_hosts))
    client.connect("127.0.0.1", port=sshd.port, username=drop, key_filename=str(sshd.client_key), look_for_keys=False, allow_agent=False)
    return client.open_sftp()


def test_an_upload_that_stalls_half_way_is_not_read_until_whole(sshd, world_lite):
    ledger, drops, a, b, mine, theirs = world_lite
    data = ("GDBH,JGDM,BLSJ\n" + "".join(f"{key(d)},0000,{when(d)}\n" for d in mine)).encode()
    cut = len(data) // 2 + 3
    while data[cut - 1:cut] == b"\n":
        cut += 1  # mid-row
    sftp = _institution_sftp(sshd, a)
    fh = sftp.open("/inbox/result_slow.csv", "wb")
    fh.write(data[:cut])
    fh.flush()  # the upload stalls here, the handle still open
    time.sleep(1.2)
    stalled = collect_results(ledger, as_of=AS_OF_LATER, drops=drops, settle_s=1)
    assert (stalled.files, stalled.files_refused, stalled.results, stalled.errors) == (0, 0, 0, [])
    assert inbox_files(sshd, a) == [b"result_slow.csv"] and ledger.cohandling.result_exceptions().empty
    fh.write(data[cut:])
    fh.close()
    sftp.close()
    time.sleep(1.2)
    whole = collect_results(ledger, as_of=AS_OF_LATER, drops=drops, settle_s=1)
    assert (whole.files, whole.results, whole.errors) == (1, len(mine), [])
    assert_outcomes(ledger, {(d["rowguid"], d["utility"]): "done" for d in mine})


def test_a_marker_whose_hash_does_not_match_waits_and_is_refused_after_the_bound(sshd, world_lite):
    ledger, drops, a, b, mine, theirs = world_lite
    data = ("GDBH,JGDM,BLSJ\n" + f"{key(mine[0])},0000,{when(mine[0])}\n").encode()
    write_inbox(sshd, a, "result_cut.csv", [], raw=data[:-10])
    write_inbox(sshd, a, "result_cut.csv.done", [], raw=f"{__import__('hashlib').sha256(data).hexdigest()}  result_cut.csv\n".encode())
    first = collect_results(ledger, as_of=AS_OF_LATER, drops=drops)
    assert (first.files, first.files_refused, first.errors) == (0, 0, [])
    bound = collect_results(ledger, as_of=AS_OF_LATER, drops=drops, wait_bound_s=0)
    assert (bound.files, bound.files_refused, bound.errors) == (0, 1, [])
    assert list(ledger.dead_letters("result_file")["rule_id"]) == ["FILE_INCOMPLETE"]
    assert len(receipts(sshd, a)) == 1


def test_an_unreadable_file_is_refused_after_the_bound_and_a_future_mtime_is_settled_by_our_clock(sshd, world_lite):
    ledger, drops, a, b, mine, theirs = world_lite
    write_inbox(sshd, a, "result_locked.csv", [[key(mine[0]), "", "", "0000", "", when(mine[0]), ""]], mode=0o600)  # the gateway's group may not read
    write_inbox(sshd, a, "result_future.csv", [[key(mine[1]), "", "", "0000", "", when(mine[1]), ""]], mtime=time.time() + 86400)
    first = collect_results(ledger, as_of=AS_OF_LATER, drops=drops, settle_s=1)
    assert (first.files, first.files_refused, first.errors) == (0, 0, [])  # both wait: neither stays for ever, below
    time.sleep(1.2)
    second = collect_results(ledger, as_of=AS_OF_LATER, drops=drops, settle_s=1, wait_bound_s=1)
    assert (second.files, second.files_refused, second.errors) == (1, 1, [])
    assert_outcomes(ledger, {(mine[1]["rowguid"], mine[1]["utility"]): "done"})
    assert list(ledger.dead_letters("result_file")["rule_id"]) == ["FILE_UNREADABLE"]
    assert inbox_files(sshd, a) == [] and len(receipts(sshd, a)) == 2  # the refused file's, and the one read later


def test_a_million_one_character_rows_is_one_refusal_and_many_bad_rows_are_capped(sshd, world_lite):
    ledger, drops, a, b, mine, theirs = world_lite
    assert MAX_RESULT_ROWS < 1_000_000
    write_inbox(sshd, a, "result_million.csv", [], raw=b"GDBH,JGDM,BLSJ\n" + b"a\n" * 1_000_000, marker=True)
    write_inbox(sshd, a, "result_noise.csv", [], raw=b"GDBH,JGDM,BLSJ\n" + b"x,0000,2026-01-01\n" * (MAX_FILE_EXCEPTIONS * 3), marker=True)
    expected = good_file(sshd, b, theirs)
    collected = collect_results(ledger, as_of=AS_OF_LATER, drops=drops)
    assert collected.errors == [] and collected.files_refused == 1 and collected.files == 2
    assert_outcomes(ledger, expected)
    problems = ledger.cohandling.result_exceptions()
    assert list(problems[problems["value"] == "result_million.csv"]["reason_code"]) == ["FILE_TOO_MANY_ROWS"]
    assert len(problems) == 1 + MAX_FILE_EXCEPTIONS + 1  # the million: one line; the noise: the first N and one that counts the rest
    assert problems["reason_code"].iloc[-1] == "RESULT_MORE_EXCEPTIONS"
    assert len(receipts(sshd, a)) == 2
