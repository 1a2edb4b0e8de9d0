"""Command line for data engineers and auditors:

    python -m tools.cli db upgrade (--ledger URL | --conn-id gateway_ledger)
    python -m tools.cli extract --platform URL --ledger URL --run-id ID
    python -m tools.cli report --ledger URL --from 2026-11-01 --to 2026-11-21 [--as-of ...] [--out DIR]
    python -m tools.cli remote-report --ledger URL --from 2026-11-01 --to 2026-11-21 [--as-of ...] [--out DIR]
    python -m tools.cli handover-receipt --ledger URL --list YJ-... --at "2026-11-20 10:00" --by "档案室 李华" [--note ...]
    python -m tools.cli balance --ledger URL [--json] [--stale-hours 48] [--stale work_order=72 ...] [--at "2026-11-20 06:00"]

The same jobs the DAG tasks run, without Airflow: for a manual catch-up, a check, or a
reconciliation report for any date range (on demand). `balance` prints the lifetime balance
of the whole ledger per surface and exits with status 1 when it does not hold or units are
stale (identifiers masked).

`db upgrade` brings the ledger's schema to the newest migration (idempotent). It is run once
per deployment — beside `airflow db migrate`, before the scheduler starts — and before any
other command against a new ledger: no command or task migrates on its own.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import datetime, timedelta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="the ledger's schema")
    db.add_argument("action", choices=["upgrade"], help="upgrade: bring the schema to the newest migration (idempotent)")
    target = db.add_mutually_exclusive_group(required=True)
    target.add_argument("--ledger", help="SQLAlchemy URL of the gateway ledger")
    target.add_argument("--conn-id", help="Airflow Connection id of the gateway ledger (gateway_ledger)")
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
    rr = sub.add_parser("remote-report", help="the remote-collection (异地代收) report for packages collected in a date range")
    rr.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    rr.add_argument("--from", dest="first", required=True, type=lambda s: datetime.fromisoformat(s).date())
    rr.add_argument("--to", dest="last", required=True, type=lambda s: datetime.fromisoformat(s).date())
    rr.add_argument("--as-of", type=datetime.fromisoformat, help="Shandong local time the statuses are taken at (default: now)")
    rr.add_argument("--out", help="output folder (default: $GATEWAY_REPORT_DIR/remote_<from>_<to>)")
    hr = sub.add_parser("handover-receipt", help="record that a property county signed for a handover list (移交清单)")
    hr.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    hr.add_argument("--list", dest="list_no", required=True, help="the list number printed on it (YJ-...)")
    hr.add_argument("--at", required=True, type=datetime.fromisoformat, help="Shandong local time it was signed for")
    hr.add_argument("--by", required=True, help="who signed")
    hr.add_argument("--note")
    bl = sub.add_parser("balance", help="the lifetime balance of the whole ledger per surface (exit status 1: does not hold, or stale units)")
    bl.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    bl.add_argument("--json", action="store_true", help="print JSON instead of the table")
    bl.add_argument("--stale-hours", type=float, help="how long a unit may stay due, all surfaces (default: the settings, 48)")
    bl.add_argument("--stale", action="append", default=[], metavar="SURFACE=HOURS", help="the same for one surface (repeatable)")
    bl.add_argument("--at", type=datetime.fromisoformat, help="UTC time the balance is taken at (default: now)")
    args = parser.parse_args(argv)
    if args.command == "db":
        upgrade(args)
        return
    if args.command == "balance":
        raise SystemExit(balance(args))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "report":
        report(args)
        return
    if args.command in ("remote-report", "handover-receipt"):
        remote(args)
        return

    from connectors.exchange_db import RecordSource
    from connectors.ledger import Ledger
    from jobs.cohandling.extract_records import extract_changes

    ledger = Ledger(args.ledger)
    result = extract_changes(
        RecordSource(args.platform), ledger, run_id=args.run_id, until=args.until,
        settle=timedelta(minutes=args.settle_minutes), chunk_rows=args.chunk_rows, writers=args.writers,
    )
    print(json.dumps(result.as_dict(), ensure_ascii=False))


def upgrade(args) -> None:
    from connectors.ledger import Ledger

    ledger = Ledger.from_conn_id(args.conn_id) if args.conn_id else Ledger(args.ledger)
    try:
        ledger.migrate()
    finally:
        ledger.dispose()
    print(f"ledger schema at the newest migration: {ledger.address}")


def balance(args) -> int:
    from connectors.ledger import Ledger
    from jobs.common.accounting import lifetime_balance

    stale = {}
    for item in args.stale:
        surface, _, hours = item.partition("=")
        try:
            stale[surface.strip()] = timedelta(hours=float(hours))
        except ValueError:
            raise SystemExit(f"balance: --stale {item!r}: SURFACE=HOURS expected") from None
    if args.stale_hours is not None:
        default = timedelta(hours=args.stale_hours)
        from connectors.ledger.balance_store import BALANCE_SURFACES

        stale = {s: default for s in BALANCE_SURFACES} | stale
    ledger = Ledger(args.ledger)
    try:
        report = lifetime_balance(ledger, now=args.at, stale=stale or None)
    finally:
        ledger.dispose()
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) if args.json else report.text())
    return 0 if report.ok else 1


def report(args) -> None:
    from pathlib import Path

    from connectors.ledger import Ledger
    from jobs.cohandling.collect_results import write_period_report
    from jobs.common.inbox import local_now
    from jobs.common.settings import report_dir

    out = Path(args.out) if args.out else report_dir() / f"{args.first}_{args.last}"
    meta = write_period_report(Ledger(args.ledger), first=args.first, last=args.last, as_of=args.as_of or local_now(), out_dir=out)
    print(json.dumps(meta, ensure_ascii=False))


def remote(args) -> None:
    from pathlib import Path

    from connectors.ledger import Ledger
    from jobs.common.inbox import local_now
    from jobs.common.settings import report_dir
    from jobs.remote.handover import record_handover_receipt
    from jobs.remote.publish_remote_report import write_remote_report

    ledger = Ledger(args.ledger)
    if args.command == "handover-receipt":
        try:
            row = record_handover_receipt(ledger, args.list_no, received_at=args.at, received_by=args.by, note=args.note)
        except ValueError as exc:
            raise SystemExit(f"handover-receipt: {exc}") from None
        print(json.dumps({"list_no": row["list_no"], "originals": row["originals"], "received_at": args.at.isoformat(), "received_by": args.by},
                         ensure_ascii=False))
        return
    out = Path(args.out) if args.out else report_dir() / f"remote_{args.first}_{args.last}"
    print(json.dumps(write_remote_report(ledger, first=args.first, last=args.last, as_of=args.as_of or local_now(), out_dir=out), ensure_ascii=False))


if __name__ == "__main__":
    main()
