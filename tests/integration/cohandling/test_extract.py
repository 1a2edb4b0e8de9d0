"""Incremental extraction on SQLite and on real PostgreSQL: everything once, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from simulators.platform import corrections, generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture
def setup(db_urls):
    platform_url, ledger_url = db_urls
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = RecordSource(platform_url)
    yield platform, source, ledger
    for thing in (platform, source, ledger):
        thing.dispose()


def _ledger_changes(ledger: Ledger) -> list[int]:
    with ledger.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT change_seq FROM received_record ORDER BY change_seq")]


def _platform_changes(platform: PlatformDB) -> list[int]:
    with platform.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT CHANGE_SEQ FROM BDC_SDQR_XBXX ORDER BY CHANGE_SEQ")]


def test_first_run_takes_everything_and_a_second_nothing_new(setup, registry):
    platform, source, ledger = setup
    platform.write(generate(3000, seed=1, registry=registry))
    first = extract_changes(source, ledger, run_id="run-1", chunk_rows=700)
    assert (first.rows_read, first.rows_new, first.rows_known) == (3000, 3000, 0)
    second = extract_changes(source, ledger, run_id="run-2", chunk_rows=700)
    assert second.rows_new == 0 and second.run_changes == 0
    assert _ledger_changes(ledger) == _platform_changes(platform)
    counts = ledger.counts()
    with platform.engine.connect() as conn:
        distinct = conn.exec_driver_sql("SELECT count(DISTINCT ROWGUID) FROM BDC_SDQR_XBXX").scalar_one()
    assert counts["changes"] == 3000 and counts["records"] == distinct


def test_appended_and_late_rows_are_each_taken_exactly_once(setup, registry):
    platform, source, ledger = setup
    batch = generate(1000, seed=2, start="2024-06-01", end="2024-06-30", registry=registry)
    platform.write(batch)
    extract_changes(source, ledger, run_id="run-1")
    # Written after run 1, with DBSJ before anything run 1 saw: late rows, plus corrections.
    late = generate(200, seed=3, start="2024-01-01", end="2024-02-01", registry=registry, first_index=1000)
    platform.write(late)
    platform.write(corrections(batch, seed=4, registry=registry))
    second = extract_changes(source, ledger, run_id="run-2")
    fixes = int((batch["defect"].isin(["", "duplicate_rowguid", "unknown_county"]) == False).sum())  # noqa: E712
    assert second.run_changes == 200 + fixes
    third = extract_changes(source, ledger, run_id="run-3")
    assert third.run_changes == 0
    assert _ledger_changes(ledger) == _platform_changes(platform)
    with ledger.engine.connect() as conn:
        ops = dict(conn.exec_driver_sql("SELECT op, count(*) FROM received_record WHERE run_id = 'run-2' GROUP BY op").fetchall())
    assert ops == {"I": 200, "U": fixes}


def test_the_same_interval_run_again_changes_nothing(setup, registry):
    platform, source, ledger = setup
    platform.write(generate(500, seed=5, registry=registry))
    cut = source.clock() + timedelta(seconds=1)
    a = extract_changes(source, ledger, run_id="scheduled__day1", until=cut)
    b = extract_changes(source, ledger, run_id="scheduled__day1", until=cut)
    assert a.rows_new == 500 and b.rows_new == 0
    assert b.run_changes == 500  # the run still owns exactly what it took
    assert len(_ledger_changes(ledger)) == 500


def test_changes_written_after_the_cut_off_wait_for_the_next_run(setup, registry):
    platform, source, ledger = setup
    platform.write(generate(100, seed=6, registry=registry))
    time.sleep(0.05)
    cut = source.clock()
    time.sleep(0.05)
    platform.write(generate(50, seed=7, registry=registry, first_index=100))
    day1 = extract_changes(source, ledger, run_id="day1", until=cut)
    assert day1.rows_new == 100
    day2 = extract_changes(source, ledger, run_id="day2")
    assert day2.run_changes == 50


def test_a_backfill_with_an_older_cut_off_moves_neither_the_watermark_nor_its_reread_window_back(setup, registry):
    """A backfill run (a past day, beside the normal runs) passes its own, older, `until`: it reads only what the
    ledger lacks up to it, and the next normal run does not read the table again from the old cut-off."""
    platform, source, ledger = setup
    settle = timedelta(seconds=1)
    platform.write(generate(300, seed=11, registry=registry))
    time.sleep(1.3)
    old_cut = source.clock()  # the backfilled day's cut-off: after the first 300, before the next 200
    time.sleep(1.3)
    platform.write(generate(200, seed=12, registry=registry, first_index=300))
    time.sleep(1.3)
    new_cut = source.clock()
    today = extract_changes(source, ledger, run_id="scheduled__today", until=new_cut, settle=settle)
    assert today.rows_new == 500
    mark = ledger.watermark(source.name)
    pg = source.dialect == "postgresql"  # fenced on snapshots there: the re-read time is the cut-off itself, no settle window
    assert mark.reread_from == (new_cut if pg else new_cut - settle)

    backfill = extract_changes(source, ledger, run_id="backfill__past_day", until=old_cut, settle=settle)
    assert backfill.rows_new == 0 and backfill.before_time == old_cut  # its own cut-off, nothing the ledger lacks
    after = ledger.watermark(source.name)
    assert (after.last_seq, after.reread_from) == (mark.last_seq, mark.reread_from)  # neither the sequence nor the re-read window went back
    assert ledger.clock("cohandling") is not None and ledger.clock("cohandling") > old_cut  # the line's clock did not go back either

    time.sleep(1.3)
    platform.write(generate(50, seed=13, registry=registry, first_index=500))
    following = extract_changes(source, ledger, run_id="scheduled__tomorrow", settle=settle)
    assert following.rows_new == 50
    if not pg:  # not the 200 (or 500) an old re-read window would read again
        assert following.rows_read == 50
    # (On PostgreSQL what is read again also depends on the cluster's other sessions: a change whose writer was still
    # open, anywhere on the server, when the last snapshot was taken is read again, counted as held.)
    assert _ledger_changes(ledger) == _platform_changes(platform)


class _Dying:
    """A source that breaks after `n` chunks, as a dropped connection would."""

    def __init__(self, source: RecordSource, n: int) -> None:
        self._source, self._n, self.name = source, n, source.name

    def __getattr__(self, item):
        return getattr(self._source, item)

    def read_changes(self, **kwargs):
        for i, chunk in enumerate(self._source.read_changes(**kwargs)):
            if i == self._n:
                raise ConnectionError("server closed the connection unexpectedly")
            yield chunk


def test_a_failed_run_keeps_what_committed_and_the_retry_completes(setup, registry):
    platform, source, ledger = setup
    platform.write(generate(2000, seed=8, registry=registry))
    with pytest.raises(ConnectionError):
        extract_changes(_Dying(source, 3), ledger, run_id="run-1", chunk_rows=250)
    held = len(_ledger_changes(ledger))
    assert 0 < held < 2000 and held % 250 == 0
    assert ledger.watermark(source.name).last_seq == max(_ledger_changes(ledger))
    retry = extract_changes(source, ledger, run_id="run-1", chunk_rows=250)
    assert retry.rows_new == 2000 - held and retry.run_changes == 2000
    assert _ledger_changes(ledger) == _platform_changes(platform)
    trail = [e["action"] for e in ledger.audit_trail("run-1")]
    assert trail.count("batch_failed") == 1 and trail[-1] == "batch_finished"


def test_a_run_killed_mid_way_loses_and_duplicates_nothing(setup, registry):
    platform, source, ledger = setup
    platform.write(generate(60_000, seed=9, registry=registry))
    platform_url = str(platform.engine.url.render_as_string(hide_password=False))
    ledger_url = str(ledger.engine.url.render_as_string(hide_password=False))
    cmd = [sys.executable, "-m", "tools.cli", "extract", "--platform", platform_url, "--ledger", ledger_url, "--run-id", "run-1", "--chunk-rows", "2000"]
    child = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        if len(_ledger_changes(ledger)) >= 6000:
            break
        time.sleep(0.05)
    assert child.poll() is None, "the extraction finished before it could be killed: " + child.stderr.read().decode()[-2000:]
    child.send_signal(signal.SIGKILL)
    child.wait()
    held = _ledger_changes(ledger)
    assert len(held) < 60_000 and len(held) == len(set(held))
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _ledger_changes(ledger) == _platform_changes(platform)
    assert ledger.run_changes("run-1", source.name) == 60_000


def test_the_audit_log_is_append_only(setup):
    _, _, ledger = setup
    ledger.audit(run_id="r", actor="test", action="noted")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE audit_log SET action = 'changed'")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log")


def test_migrations_build_exactly_the_schema_in_code(setup):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from connectors.ledger.schema import metadata

    _, _, ledger = setup
    with ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
