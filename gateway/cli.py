"""Command line for data engineers and auditors:

    python -m gateway.cli extract --platform URL --ledger URL --run-id ID
    python -m gateway.cli report --ledger URL --from 2026-11-01 --to 2026-11-21 [--as-of ...] [--out DIR]

The same jobs the DAG tasks run, without Airflow: for a manual catch-up, a check, or a
reconciliation report for any date range (on demand).
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import datetime, timedelta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="load the platform's new changes into the ledger")
    ex.add_argument("--platform", required=True, help="SQLAlchemy URL of the exchange database")
    ex.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    ex.add_argument("--run-id", required=True)
    ex.add_argument("--until", type=datetime.fromisoformat, help="UTC cut-off (default: the database clock)")
    ex.add_argument("--settle-minutes", type=float, default=10.0)
    ex.add_argument("--chunk-rows", type=int, default=50_000)
    ex.add_argument("--writers", type=int, default=2)
    rp = sub.add_parser("report", help="the reconciliation report (HTML, XLSX, CSV) for work orders delivered in a date range")
    rp.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    rp.add_argument("--from", dest="first", required=True, type=lambda s: datetime.fromisoformat(s).date())
    rp.add_argument("--to", dest="last", required=True, type=lambda s: datetime.fromisoformat(s).date())
    rp.add_argument("--as-of", type=datetime.fromisoformat, help="Shandong local time the statuses are taken at (default: now)")
    rp.add_argument("--out", help="output folder (default: $GATEWAY_REPORT_DIR/<from>_<to>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "report":
        report(args)
        return

    from connectors.ledger import Ledger
    from connectors.platform import PlatformSource
    from gateway.extract import extract_changes

    ledger = Ledger(args.ledger)
    ledger.migrate()
    result = extract_changes(
        PlatformSource(args.platform), ledger, run_id=args.run_id, until=args.until,
        settle=timedelta(minutes=args.settle_minutes), chunk_rows=args.chunk_rows, writers=args.writers,
    )
    print(json.dumps(result.as_dict(), ensure_ascii=False))


def report(args) -> None:
    from pathlib import Path

    from connectors.ledger import Ledger
    from gateway.registry import local_now
    from gateway.results import write_period_report
    from gateway.settings import report_dir

    out = Path(args.out) if args.out else report_dir() / f"{args.first}_{args.last}"
    meta = write_period_report(Ledger(args.ledger), first=args.first, last=args.last, as_of=args.as_of or local_now(), out_dir=out)
    print(json.dumps(meta, ensure_ascii=False))


if __name__ == "__main__":
    main()
