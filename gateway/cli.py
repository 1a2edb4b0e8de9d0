"""Command line for data engineers: `python -m gateway.cli extract --platform URL --ledger URL`.

The same jobs the DAG tasks run, without Airflow: for a manual catch-up, or a check.
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

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


if __name__ == "__main__":
    main()
