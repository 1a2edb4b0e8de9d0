"""Benchmark: the retention purge (jobs/common/purge_personal.py) on BENCH_PURGE_RECORDS (default 20,000) co-handling records
routed the way the daily DAG routes them, every work order delivered and half the records closed
(tests/integration/pipeline.py `close_orders`), against the lifetime balance over the same ledger in the same run — the
daily DAG's `balance` task, which already reads every unit each day: the reference.

Three measures: `scan` — the daily purge when nothing is past retention (a young ledger: every record looked at, none
written); `purge` — the purge past every retention (half the records, with their failures, originals and SMS,
rewritten batch by batch: SM4 decryption and HMAC-SM3 per value, ~20 µs each, bench_fieldcrypt.py, dominate); `rescan`
— the day after, nothing left to purge but every purged record still past retention (an old ledger's every day). The ledger is a fresh SQLite file, or BENCH_LEDGER (a PostgreSQL URL of a scratch database:
its tables are dropped). Last line: JSON — records, scan_s, rescan_s, purge_s, balance_s, scan_over_balance,
rescan_over_balance, purge_over_balance, values, values_per_s. Targets: scan_over_balance <= 1 and rescan_over_balance
<= 1 (a day with nothing to purge costs no more than the balance the same run already pays), purge_over_balance <= 10
(a backlog of half the ledger purged in at most ten balances' time: the crypto per value is its floor).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from connectors.ledger import Ledger, utcnow
    from jobs.common.accounting import lifetime_balance
    from jobs.common.purge_personal import purge_personal
    from tests.integration.pipeline import close_orders, routed_ledger

    n = int(os.environ.get("BENCH_PURGE_RECORDS", "20000"))
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_LEDGER") or f"sqlite:///{tmp}/ledger.db"
        if os.environ.get("BENCH_LEDGER"):
            Ledger(url).drop_all()
        ledger = routed_ledger(url, Path(tmp), rows=n, seed=97)
        try:
            close_orders(ledger, every=2)
            if ledger.dialect == "postgresql":  # what autovacuum does after a bulk load: without statistics the plans are guesses
                with ledger.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()
            now = utcnow()
            started = time.perf_counter()
            lifetime_balance(ledger, now=now)
            balance_s = time.perf_counter() - started
            started = time.perf_counter()
            scan = purge_personal(ledger, now=now)
            scan_s = time.perf_counter() - started
            assert not scan.units, scan.units
            started = time.perf_counter()
            purge = purge_personal(ledger, now=now + timedelta(days=400))
            purge_s = time.perf_counter() - started
            started = time.perf_counter()
            again = purge_personal(ledger, now=now + timedelta(days=400))
            rescan_s = time.perf_counter() - started
            assert not again.units, again.units
        finally:
            if os.environ.get("BENCH_LEDGER"):
                ledger.drop_all()
            ledger.dispose()
    values = sum(purge.values.values())
    print(json.dumps({"records": n, "scan_s": round(scan_s, 3), "rescan_s": round(rescan_s, 3), "purge_s": round(purge_s, 3), "balance_s": round(balance_s, 3),
                      "scan_over_balance": round(scan_s / balance_s, 2), "rescan_over_balance": round(rescan_s / balance_s, 2), "purge_over_balance": round(purge_s / balance_s, 2),
                      "units": dict(purge.units), "values": values, "values_per_s": round(values / purge_s)}))


if __name__ == "__main__":
    main()
