"""PostgreSQL-only: a transaction that commits a lower sequence after a higher one was read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from simulators.platform import generate
from simulators.platform_db import PlatformDB


def test_a_change_committed_late_with_a_lower_sequence_is_not_lost(pg_schema_url):
    platform_url = pg_schema_url()
    platform = PlatformDB(platform_url)
    platform.create()
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    source = RecordSource(platform_url)
    rows = generate(2, seed=11)
    columns = ["OP", *[c for c in rows.columns if c.isupper() and c != "OP"]]
    insert = sa.text(f"INSERT INTO BDC_SDQR_XBXX ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})")
    values = [{c: (None if v != v else v) for c, v in zip(columns, r)} for r in rows[columns].itertuples(index=False)]

    slow = platform.engine.connect()
    try:
        slow_tx = slow.begin()
        slow.execute(insert, values[0])  # takes the lower sequence, does not commit yet
        with platform.engine.begin() as fast:
            fast.execute(insert, values[1])  # the higher sequence, committed first
        first = extract_changes(source, ledger, run_id="run-1")
        slow_tx.commit()
    finally:
        slow.close()
    assert first.rows_new == 1

    second = extract_changes(source, ledger, run_id="run-2")
    assert second.run_changes == 1  # found again: its writer was open when the first run read (the snapshot fence)
    with ledger.engine.connect() as conn:
        seqs = [r[0] for r in conn.exec_driver_sql("SELECT change_seq FROM received_record ORDER BY change_seq")]
    with platform.engine.connect() as conn:
        assert seqs == [r[0] for r in conn.exec_driver_sql("SELECT CHANGE_SEQ FROM BDC_SDQR_XBXX ORDER BY CHANGE_SEQ")]
    for thing in (platform, ledger, source):
        thing.dispose()


def test_parallel_writers_commit_in_order_and_stop_at_a_failure(pg_schema_url):
    platform_url = pg_schema_url()
    platform = PlatformDB(platform_url)
    platform.create()
    platform.write(generate(5000, seed=12))
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    source = RecordSource(platform_url)

    class Broken:
        name = source.name

        def __getattr__(self, item):
            return getattr(source, item)

        def read_changes(self, **kwargs):
            for i, chunk in enumerate(source.read_changes(**kwargs)):
                # chunk 4 breaks while it is being loaded (a column missing)
                yield chunk if i != 4 else chunk.drop_columns(["op"])

    with pytest.raises(KeyError):
        extract_changes(Broken(), ledger, run_id="run-1", chunk_rows=500, writers=2)
    with ledger.engine.connect() as conn:
        held = [r[0] for r in conn.exec_driver_sql("SELECT change_seq FROM received_record ORDER BY change_seq")]
    mark = ledger.watermark(source.name).last_seq
    # Whatever committed is a gap-free prefix, and the watermark is its end.
    assert held == list(range(1, len(held) + 1)) and mark == (held[-1] if held else 0)
    assert len(held) <= 2000
    again = extract_changes(source, ledger, run_id="run-1", chunk_rows=500, writers=2)
    assert again.run_changes == 5000
    for thing in (platform, ledger, source):
        thing.dispose()
