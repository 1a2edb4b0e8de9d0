"""PostgreSQL-only: exactly once without the settle window — transactions open for (simulated) hours, rollbacks,
and the package table read by the same reader (jobs/common/incremental.py, transforms/common/fence.py).

"Hours" are simulated the way they show in the table: a transaction stamps CHANGE_TIME with its start, so a row
written by one open for five hours carries a CHANGE_TIME five hours old, far behind any settle window, and its
CHANGE_SEQ lies below everything committed since. Every other session on the server only ever makes the fence more
careful (its transactions hold the cluster's xmin back), never less: the assertions are on what the ledger holds.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from connectors.exchange_db import PackageSource, RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.common.incremental import DEFAULT_SETTLE
from jobs.remote.package_intake import extract_packages
from simulators.platform import generate
from simulators.platform_db import PlatformDB
from simulators.remote_db import APPLICANT_FIELDS, MATERIAL_FIELDS, PACKAGE_FIELDS, RemoteDB
from simulators.remote_module import generate as generate_packages
from transforms.common import fence as fences

HOURS = timedelta(hours=5)


def _record_writer(rows):
    columns = ["OP", *[c for c in rows.columns if c.isupper() and c != "OP"]]
    values = [{c: (None if v != v else v) for c, v in zip(columns, r)} for r in rows[columns].itertuples(index=False)]
    insert = sa.text(f"INSERT INTO BDC_SDQR_XBXX (CHANGE_TIME, {', '.join(columns)}) VALUES (:change_time, {', '.join(':' + c for c in columns)}) "
                     "RETURNING CHANGE_SEQ")
    return lambda conn, i, at: int(conn.execute(insert, {"change_time": at, **values[i]}).scalar_one())


def _held(ledger: Ledger, table: str) -> list[int]:
    with ledger.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(f"SELECT change_seq FROM {table} ORDER BY change_seq")]


def _platform(engine, table: str) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(f"SELECT CHANGE_SEQ FROM {table} ORDER BY CHANGE_SEQ")]


def _fence(ledger: Ledger, source: str) -> fences.Fence:
    return fences.loads(ledger.watermark(source).fence)


def test_a_transaction_held_open_for_hours_is_extracted_exactly_once(pg_schema_url):
    platform_url = pg_schema_url()
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    source = RecordSource(platform_url)
    write = _record_writer(generate(40, seed=21))
    clock = source.clock()
    long_ago, not_so_long = clock - HOURS, clock - HOURS / 2

    slow, slower = platform.engine.connect(), platform.engine.connect()
    try:
        slower_tx = slower.begin()
        oldest = write(slower, 0, long_ago)  # began five hours ago, still open: the lowest sequence of all
        with platform.engine.begin() as fast:
            write(fast, 1, long_ago + timedelta(minutes=1))
        slow_tx = slow.begin()
        middle = write(slow, 2, not_so_long)  # another long one, opened later, committed first
        n = 3
        for run in range(6):  # runs every few "minutes", the two transactions open throughout
            with platform.engine.begin() as fast:
                for _ in range(4):
                    write(fast, n, source.clock())
                    n += 1
            result = extract_changes(source, ledger, run_id=f"run-{run}", settle=DEFAULT_SETTLE)
            assert result.rows_new == (5 if run == 0 else 4)
            assert _fence(ledger, "platform").seq < oldest  # an open writer holds the fence, however long
        slow_tx.commit()
        assert extract_changes(source, ledger, run_id="run-6").rows_new == 1  # the middle one, 2.5 hours old
        assert _fence(ledger, "platform").seq < oldest
        slower_tx.commit()
    finally:
        slow.close()
        slower.close()
    last = extract_changes(source, ledger, run_id="run-7")
    assert last.rows_new == 1 and last.run_changes == 1  # the five-hour-old change, once
    for run in range(8, 11):
        assert extract_changes(source, ledger, run_id=f"run-{run}").rows_new == 0
    held = _held(ledger, "received_record")
    assert held == _platform(platform.engine, "BDC_SDQR_XBXX") and oldest in held and middle in held
    assert len(held) == len(set(held)) == n
    for thing in (platform, ledger, source):
        thing.dispose()


def test_a_rolled_back_transaction_leaves_nothing_stuck(pg_schema_url):
    platform_url = pg_schema_url()
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    source = RecordSource(platform_url)
    write = _record_writer(generate(12, seed=22))
    doomed = platform.engine.connect()
    try:
        tx = doomed.begin()
        gap = write(doomed, 0, source.clock() - HOURS)
        with platform.engine.begin() as fast:
            for i in range(1, 6):
                write(fast, i, source.clock())
        assert extract_changes(source, ledger, run_id="run-0").rows_new == 5
        assert _fence(ledger, "platform").seq < gap
        tx.rollback()
    finally:
        doomed.close()
    # The fence passes the gap once every transaction that was open when it was read has ended: this one rolled back,
    # but the server's other sessions may keep one open longer (the snapshot's xmin is cluster-wide). So after every run
    # either the fence has passed the gap, or each checkpoint above the gap is still waiting for an id its snapshot's
    # xmin has not reached — a transaction really still open, never the rolled-back one's gap itself.
    passed = False
    for run in range(1, 31):
        assert extract_changes(source, ledger, run_id=f"run-{run}").rows_new == 0
        state = _fence(ledger, "platform")
        if state.seq >= gap:
            passed = True
            break
        waiting = [until for top, until in state.checkpoints if top >= gap]
        assert waiting and all(until is None or until > state.xmin for until in waiting)
        assert run < 2 or any(until is not None for until in waiting)
        time.sleep(0.2)
    with platform.engine.begin() as fast:
        for i in range(6, 12):
            write(fast, i, source.clock())
    after = extract_changes(source, ledger, run_id="run-after")
    assert after.rows_new == 6
    assert not passed or after.after_seq >= gap  # once passed, the next run reads from above the gap, not from before it
    assert _held(ledger, "received_record") == _platform(platform.engine, "BDC_SDQR_XBXX")
    for thing in (platform, ledger, source):
        thing.dispose()


def _write_package(conn, batch, index: int, at) -> int:
    """One package of a generated batch, with its applicants, materials and files, on `conn` (its transaction)."""
    package = batch.packages.iloc[index]
    clean = lambda v: None if pd.isna(v) else (int(v) if hasattr(v, "item") and not isinstance(v, (bytes, str)) else v)  # noqa: E731
    seq = int(conn.execute(sa.text(f"INSERT INTO BDC_YDDS_BWXX (CHANGE_TIME, OP, {', '.join(PACKAGE_FIELDS)}) "
                                   f"VALUES (:at, :OP, {', '.join(':' + f for f in PACKAGE_FIELDS)}) RETURNING CHANGE_SEQ"),
                           {"at": at, "OP": package["OP"], **{f: clean(package[f]) for f in PACKAGE_FIELDS}}).scalar_one())
    for table, fields, frame in (("BDC_YDDS_SQR", APPLICANT_FIELDS, batch.applicants), ("BDC_YDDS_CL", MATERIAL_FIELDS, batch.materials)):
        for _, child in frame[frame["CHANGE_SEQ"] == package["CHANGE_SEQ"]].iterrows():
            conn.execute(sa.text(f"INSERT INTO {table} (CHANGE_SEQ, XH, {', '.join(fields)}) VALUES (:seq, :XH, {', '.join(':' + f for f in fields)})"),
                         {"seq": seq, "XH": int(child["XH"]), **{f: clean(child[f]) for f in fields}})
            if table == "BDC_YDDS_CL" and child["WJDZ"] in set(batch.files["WJDZ"]):
                file = batch.files[batch.files["WJDZ"] == child["WJDZ"]].iloc[0]
                conn.execute(sa.text("INSERT INTO BDC_YDDS_WJ (WJDZ, WJNR, WJDX) VALUES (:a, :b, :c) ON CONFLICT DO NOTHING"),
                             {"a": file["WJDZ"], "b": bytes(file["WJNR"]), "c": int(file["WJDX"])})
    return seq


def test_a_package_written_in_a_transaction_open_for_hours_is_extracted_exactly_once(pg_schema_url):
    platform_url = pg_schema_url()
    module = RemoteDB(platform_url)
    module.create()
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    source = PackageSource(platform_url)
    slow_batch = generate_packages(1, seed=31, first_index=10_000, defect_rate=0, oddity_rate=0)
    slow = module.engine.connect()
    try:
        tx = slow.begin()
        late = _write_package(slow, slow_batch, 0, source.clock() - HOURS)
        total = 1
        for run in range(4):
            module.write(generate_packages(20, seed=32 + run, first_index=100 * run, defect_rate=0, oddity_rate=0))
            total += 20
            result = extract_packages(source, ledger, run_id=f"run-{run}", chunk_rows=7)
            assert (result["new"], result["dead_lettered"]) == (20, 0)
            assert _fence(ledger, "remote").seq < late
        tx.commit()
    finally:
        slow.close()
    last = extract_packages(source, ledger, run_id="run-4", chunk_rows=7)
    assert (last["new"], last["dead_lettered"]) == (1, 0)  # the five-hour-old package, once
    assert extract_packages(source, ledger, run_id="run-5")["new"] == 0
    held = _held(ledger, "remote_package")
    assert held == _platform(module.engine, "BDC_YDDS_BWXX") and len(held) == len(set(held)) == total and late in held
    with ledger.engine.connect() as conn:
        children = conn.execute(sa.text("SELECT count(*) FROM remote_applicant WHERE change_seq = :s"), {"s": late}).scalar_one()
    assert children == len(slow_batch.applicants) > 0  # the package came whole, its applicants with it
    for thing in (module, ledger, source):
        thing.dispose()


def test_the_first_run_after_the_upgrade_starts_from_the_settle_window_once_then_fences(pg_schema_url):
    platform_url = pg_schema_url()
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    source = RecordSource(platform_url)
    write = _record_writer(generate(10, seed=23))
    with platform.engine.begin() as fast:
        for i in range(5):
            write(fast, i, source.clock())
    assert extract_changes(source, ledger, run_id="before-upgrade").rows_new == 5
    with ledger.engine.begin() as conn:  # a watermark as a ledger before migration 0018 left it
        conn.exec_driver_sql("UPDATE extract_watermark SET fence = NULL, reread_from = reread_from - interval '10 minutes'")
    with platform.engine.begin() as fast:
        for i in range(5, 10):
            write(fast, i, source.clock())
    first = extract_changes(source, ledger, run_id="upgraded", settle=DEFAULT_SETTLE)
    assert first.rows_new == 5 and first.rows_known == 5  # the settle window's five, read again once and counted as held
    state = _fence(ledger, "platform")
    assert state is not None and state.xmin is not None and state.seq == 0
    assert extract_changes(source, ledger, run_id="fenced").rows_new == 0
    assert _held(ledger, "received_record") == _platform(platform.engine, "BDC_SDQR_XBXX")
    for thing in (platform, ledger, source):
        thing.dispose()
