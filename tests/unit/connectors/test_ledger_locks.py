"""Stage locks and line clocks on a SQLite ledger (connectors/ledger/lock_store.py): one holder at
a time across threads and processes, a bounded wait that names the holder (masked), release on
exit, a dead holder's lease taken over (at once on this host, after its lease from elsewhere), the
lease renewed while the block runs, a lost lease noticed; clocks that never go back.
The same on PostgreSQL (advisory locks, process death): tests/integration/common/test_ledger_locks_postgres.py."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.ledger import Ledger, utcnow
from connectors.ledger.lock_store import LockLost, LockTimeout
from connectors.ledger.statements import statement

ROOT = Path(__file__).resolve().parents[3]

# A holder in another process: takes the lock, says so, holds it, releases it.
CHILD = """
import sys, time
from connectors.ledger import Ledger
ledger = Ledger(sys.argv[1])
with ledger.stage_lock(sys.argv[2], run_id=sys.argv[3], wait_s=60):
    print("held", flush=True)
    time.sleep(float(sys.argv[4]))
print("released", flush=True)
"""


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    yield ledger
    ledger.dispose()


def holder_process(ledger: Ledger, name: str, run_id: str, hold_s: float) -> subprocess.Popen:
    """A process holding `name` for `hold_s` seconds, once it has said "held"."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, ledger.address, name, run_id, str(hold_s)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    assert line.strip() == "held", child.stderr.read()
    return child


def test_threads_take_turns_and_other_names_do_not_wait(ledger):
    inside, most, entries = [0], [0], []
    guard = threading.Lock()

    def stage(i: int) -> None:
        for _ in range(3):
            with ledger.stage_lock("cohandling.route", run_id=f"run-{i}", wait_s=30):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.02)
                entries.append(i)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=stage, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    with ledger.stage_lock("cohandling.deliver", wait_s=0):  # another stage's lock is free while route's is busy
        pass
    for t in threads:
        t.join()
    assert most[0] == 1 and sorted(entries) == sorted([0, 1, 2, 3] * 3)
    assert ledger.lock_holder("cohandling.route") is None


def test_a_waiter_gives_up_after_its_wait_naming_the_lock_and_the_holder_masked(ledger, caplog):
    child = holder_process(ledger, "extract:platform", "manual__13812345678", 30)  # a run id with a phone in it: never logged as such
    try:
        start = time.monotonic()
        with caplog.at_level(logging.INFO, logger="connectors.ledger.lock_store"):
            with pytest.raises(LockTimeout) as caught:
                with ledger.stage_lock("extract:platform", run_id="backfill__d3", wait_s=0.6):
                    pytest.fail("entered a lock another process holds")
        waited = time.monotonic() - start
    finally:
        child.kill()
        child.wait()
    message = str(caught.value)
    assert 0.6 <= waited < 10
    assert "'extract:platform'" in message and f":{child.pid}:manual__138****5678" in message and "13812345678" not in message
    waiting = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waiting) == 1 and "\n" not in waiting[0] and f":{child.pid}:manual__138****5678" in waiting[0] and "13812345678" not in caplog.text


def test_the_lock_is_released_on_exit_even_when_the_block_fails(ledger):
    with pytest.raises(ZeroDivisionError):
        with ledger.stage_lock("cohandling.validate:platform", run_id="r1"):
            assert ledger.lock_holder("cohandling.validate:platform").split(" ")[0].endswith(":r1")
            1 / 0  # noqa: B018
    assert ledger.lock_holder("cohandling.validate:platform") is None
    with ledger.stage_lock("cohandling.validate:platform", run_id="r2", wait_s=0) as held:
        assert held.waited_s < 0.5 and not held.lost


def test_a_process_waits_for_another_and_enters_when_it_leaves(ledger):
    child = holder_process(ledger, "remote.deliver", "run-a", 1.5)
    with ledger.stage_lock("remote.deliver", run_id="run-b", wait_s=30) as held:
        assert child.poll() is not None or child.stdout.readline().strip() == "released"  # it left before we entered
        assert 0.5 < held.waited_s < 10
    child.wait()


def test_a_holder_killed_on_this_host_is_taken_over_at_once(ledger):
    child = holder_process(ledger, "inbox:registry_form", "scheduled__x", 600)  # a 5-minute lease: not what frees it
    child.send_signal(signal.SIGKILL)
    child.wait()
    with ledger.stage_lock("inbox:registry_form", run_id="next", wait_s=10) as held:
        assert held.waited_s < 3
        assert ledger.lock_holder("inbox:registry_form").startswith(held.holder)


def _foreign_lease(ledger: Ledger, name: str, holder: str, seconds: float) -> None:
    """A lease row as a process on another host would leave it: its pid cannot be checked from here."""
    now = utcnow()
    with ledger.engine.begin() as conn:
        conn.execute(statement("upsert_lock_lease"), {"name": name, "holder": holder, "token": "f" * 32, "acquired_at": now,
                                                      "expires_at": now + timedelta(seconds=seconds)})


def test_a_dead_holder_from_elsewhere_frees_the_lock_when_its_lease_expires(ledger):
    _foreign_lease(ledger, "cohandling.results", "otherhost:4242:scheduled__2026-11-20", 2.0)
    with pytest.raises(LockTimeout, match="otherhost:4242:scheduled__2026-11-20"):
        with ledger.stage_lock("cohandling.results", wait_s=0.3):
            pass
    start = time.monotonic()
    with ledger.stage_lock("cohandling.results", run_id="after", wait_s=30):
        assert 1.0 < time.monotonic() - start < 10


def test_the_lease_is_renewed_while_the_block_runs(ledger):
    entered, leave = threading.Event(), threading.Event()

    def long_stage() -> None:
        with ledger.stage_lock("remote.handover", run_id="long", lease_s=0.5):
            entered.set()
            leave.wait(10)

    t = threading.Thread(target=long_stage)
    t.start()
    entered.wait(10)
    try:
        with pytest.raises(LockTimeout, match=":long"):  # 3 leases long: only a renewed lease keeps it
            with ledger.stage_lock("remote.handover", wait_s=1.5):
                pass
    finally:
        leave.set()
        t.join()


def test_a_lease_taken_away_is_noticed(ledger, caplog):
    with caplog.at_level(logging.ERROR, logger="connectors.ledger.lock_store"):
        with ledger.stage_lock("remote.statuses", run_id="mine", lease_s=0.5) as held:
            with ledger.engine.begin() as conn:  # as if the keeper had been stalled past the lease and another run took it
                conn.exec_driver_sql("UPDATE ledger_lock SET token = 'someone-else'")
            deadline = time.monotonic() + 5
            while not held.lost and time.monotonic() < deadline:
                time.sleep(0.05)
            with pytest.raises(LockLost, match="remote.statuses"):
                held.check()
    assert "was lost" in caplog.text


def test_a_line_clock_moves_forward_only(ledger):
    from jobs.common.stage_clock import run_as_of, run_as_of_utc, run_day

    assert ledger.clock("cohandling") is None
    assert run_as_of(ledger, "cohandling", datetime(2026, 11, 20, 6), run_id="d20", stage="route") == datetime(2026, 11, 20, 6)
    assert run_as_of(ledger, "cohandling", datetime(2026, 11, 17, 6), run_id="backfill-17", stage="route") == datetime(2026, 11, 20, 6)
    assert ledger.clock("cohandling") == datetime(2026, 11, 20, 6)
    assert run_as_of(ledger, "cohandling", datetime(2026, 11, 21, 6), run_id="d21", stage="route") == datetime(2026, 11, 21, 6)
    assert ledger.clock("remote") is None  # one clock per line
    assert run_as_of_utc(ledger, "cohandling", datetime(2026, 11, 19, 22), run_id="x", stage="deliver") == datetime(2026, 11, 20, 22)
    assert run_day(ledger, "cohandling", datetime(2026, 11, 21).date(), run_id="y", stage="handover") == datetime(2026, 11, 21).date()
    lifted = [a for a in ledger.audit_trail() if a["action"] == "clock_lifted"]
    assert [(a["run_id"], a["actor"]) for a in lifted] == [("backfill-17", "route"), ("x", "deliver")]
