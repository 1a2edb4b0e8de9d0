"""Benchmark: append BENCH_AUDIT_ENTRIES (default 2,000) chained audit entries (connectors/ledger/audit_store.py: head
row locked, SM3 link, insert) against the same entries inserted plainly into an unchained copy of the table, each in
its own transaction, in the same run; then `audit verify`'s recomputation over them.

The ledger is a fresh SQLite file, or BENCH_LEDGER (a PostgreSQL URL; the bench makes and drops its own schema-less
tables there — use a scratch database). The gateway writes one entry per batch, page or run, never per record: a
daily run writes tens to a few hundred, so the ratio matters, not the absolute time. The last line printed is a JSON
object: entries, chained_per_s, plain_per_s, chained_over_plain (time ratio), verify_per_s. Target: chained_over_plain <= 5.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import sqlalchemy as sa

    from connectors.ledger import Ledger
    from jobs.common.audit_seal import verify

    n = int(os.environ.get("BENCH_AUDIT_ENTRIES", "2000"))
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_LEDGER") or f"sqlite:///{tmp}/ledger.db"
        ledger = Ledger(url)
        ledger.drop_all()
        ledger.migrate()
        detail = {"rows_read": 200_000, "rows_new": 199_870, "note": "基准 bench"}
        plain = sa.Table("bench_audit_plain", sa.MetaData(), *(sa.Column(c.name, c.type) for c in ledger_columns()))
        plain.create(ledger.engine)
        try:
            started = time.perf_counter()
            for i in range(n):
                with ledger.engine.begin() as conn:
                    conn.execute(plain.insert(), {"audit_id": i + 1, "at": datetime.now(UTC).replace(tzinfo=None), "run_id": "bench", "actor": "bench",
                                                  "action": "batch", "object_type": "batch", "object_id": str(i), "detail": json.dumps(detail)})
            plain_s = time.perf_counter() - started
            started = time.perf_counter()
            for i in range(n):
                ledger.audit(run_id="bench", actor="bench", action="batch", object_type="batch", object_id=i, detail=detail)
            chained_s = time.perf_counter() - started
            started = time.perf_counter()
            assert verify(ledger).ok
            verify_s = time.perf_counter() - started
        finally:
            plain.drop(ledger.engine)
            ledger.drop_all()
            ledger.dispose()
    print(json.dumps({"entries": n, "chained_per_s": round(n / chained_s), "plain_per_s": round(n / plain_s),
                      "chained_over_plain": round(chained_s / plain_s, 2), "verify_per_s": round(n / verify_s)}))


def ledger_columns():
    from connectors.ledger.schema_common import audit_log

    return [c for c in audit_log.columns if c.name not in ("seq", "prev", "hash")]


if __name__ == "__main__":
    main()
