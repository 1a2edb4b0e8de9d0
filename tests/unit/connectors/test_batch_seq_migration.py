"""Migration 0014_batch_seq numbers the batches already planned: per institution drop, in batch_id order; they keep their names."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from connectors.ledger import MIGRATIONS, Ledger
from transforms.cohandling.batchfiles import batch_name, batch_sequence

NOW = datetime(2026, 11, 22, 3, 0)


def _upgrade(ledger: Ledger, to: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, to)


def test_existing_batches_are_numbered_per_drop_in_batch_id_order(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    _upgrade(ledger, "0013_locks")
    old = [("account", "xba"), ("account", "xbb"), ("system", "county_system_370102"), ("account", "xba"), ("account", "xbb"), ("account", "xba")]
    batch = sa.table("delivery_batch", *(sa.column(c) for c in ("batch_id", "run_id", "channel", "destination", "name", "file_format", "records",
                                                                  "status", "attempts", "created_at", "updated_at")))
    cancel = sa.table("cancel_batch", *(sa.column(c) for c in ("batch_id", "run_id", "destination", "name", "file_format", "records", "status",
                                                                 "attempts", "created_at", "updated_at")))
    with ledger.engine.begin() as conn:
        conn.execute(batch.insert(), [{"batch_id": i, "run_id": "old", "channel": ch, "destination": d, "name": f"XB20261120_{i:08d}",
                                       "file_format": "csv", "records": 1, "status": "delivered", "attempts": 1, "created_at": NOW, "updated_at": NOW}
                                      for i, (ch, d) in enumerate(old, start=1)])
        conn.execute(cancel.insert(), [{"batch_id": i, "run_id": "old", "destination": d, "name": f"XBCX20261120_{i:08d}", "file_format": "csv",
                                        "records": 1, "status": "delivered", "attempts": 1, "created_at": NOW, "updated_at": NOW}
                                       for i, d in ((3, "xbb"), (5, "xba"), (8, "xbb"))])
    _upgrade(ledger, "head")
    with ledger.engine.connect() as conn:
        got = conn.exec_driver_sql("SELECT batch_id, destination, name, seq FROM delivery_batch ORDER BY batch_id").all()
        cancels = conn.exec_driver_sql("SELECT batch_id, seq FROM cancel_batch ORDER BY batch_id").all()
    assert [(r[0], r[3]) for r in got] == [(1, 1), (2, 1), (3, None), (4, 2), (5, 2), (6, 3)]
    assert [r[2] for r in got] == [f"XB20261120_{i:08d}" for i in range(1, 7)]  # names kept
    assert cancels == [(3, 1), (5, 1), (8, 2)]
    # an old batch keeps its manifest (no sequence: its hash was fixed without one); the next batch at xba is number 4
    assert batch_sequence({"name": got[5][2], "seq": got[5][3]}) is None
    assert batch_sequence({"name": batch_name(NOW, 4), "seq": 4}) == 4 and batch_name(NOW, 4) == "XB20261122_000004"
    ledger.dispose()
