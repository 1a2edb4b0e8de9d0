"""Stage locks on PostgreSQL (connectors/ledger/lock_store.py): session advisory locks that hold
between threads and processes, name their holder to a waiter, are released on exit — and by the
server when the holding process dies, whatever it was doing. Keys are per ledger (database and
schema): another ledger's lock of the same name is another lock."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from connectors.ledger import Ledger
from connectors.ledger.lock_store import LockTimeout
from tests.unit.connectors.test_ledger_locks import holder_process


@pytest.fixture
def ledger(pg_schema_url):
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    yield ledger
    ledger.dispose()


def test_threads_take_turns(ledger):
    inside, most = [0], [0]
    guard = threading.Lock()

    def stage(i: int) -> None:
        for _ in range(3):
            with ledger.stage_lock("cohandling.route", run_id=f"run-{i}", wait_s=30):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.02)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=stage, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert ledger.lock_holder("cohandling.route") is None


def test_a_killed_holder_releases_the_lock_and_a_waiter_names_it_until_then(ledger):
    child = holder_process(ledger, "extract:platform", "scheduled__2026-11-20", 600)
    try:
        with pytest.raises(LockTimeout) as caught:
            with ledger.stage_lock("extract:platform", run_id="backfill", wait_s=0.5):
                pytest.fail("entered a lock another process holds")
        assert f":{child.pid}:scheduled__2026-11-20" in str(caught.value) and "'extract:platform'" in str(caught.value)
        assert f":{child.pid}:scheduled__2026-11-20" in ledger.lock_holder("extract:platform")
    finally:
        child.send_signal(signal.SIGKILL)  # no `finally`, no unlock: only the server can release it
        child.wait()
    with ledger.stage_lock("extract:platform", run_id="after", wait_s=30) as held:
        assert held.waited_s < 10
        assert ledger.lock_holder("extract:platform").startswith(held.holder)


def test_the_lock_is_released_on_exit_and_its_session_goes_back_unnamed(ledger):
    with pytest.raises(RuntimeError):
        with ledger.stage_lock("remote.deliver", run_id="r1"):
            raise RuntimeError("the stage failed")
    assert ledger.lock_holder("remote.deliver") is None
    with ledger.engine.connect() as conn:  # no pooled session of this process keeps the holder's name
        names = {r[0] for r in conn.exec_driver_sql(
            "SELECT application_name FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()")}
    # Only this process's sessions: other processes on the same server (tests, deployments) may hold a lock for a run named r1.
    assert not any(n.startswith("gateway ") and f":{os.getpid()}:" in n and n.endswith(":r1") for n in names)


def test_a_lock_belongs_to_its_ledger(ledger, pg_schema_url):
    other = Ledger(pg_schema_url())
    try:
        with ledger.stage_lock("cohandling.deliver", run_id="here"):
            with other.stage_lock("cohandling.deliver", run_id="there", wait_s=0):  # same name, another ledger: free
                assert ledger.lock_holder("cohandling.deliver").split(" ")[0].endswith(":here")
    finally:
        other.dispose()
