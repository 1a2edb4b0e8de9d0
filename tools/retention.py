"""`python -m tools.cli retention purge …` — personal data past its retention (docs/security.md "Retention";
jobs/common/purge_personal.py, what the daily DAG's `purge_personal` task runs):

    python -m tools.cli retention purge --ledger URL [--dry-run] [--at "2027-06-01 06:00"] [--batch N] [--json]

Prints, per kind of unit and per table.column, what was purged (or, with --dry-run, what would be: the same work done
in transactions rolled back, nothing written, nothing audited). A real purge is audited (`personal_purged`). `--at`
(local Asia/Shanghai time, default now) is the clock retention is counted to. The field keys are the deployment's
(Connection gateway_field_keys, or $GATEWAY_FIELD_KEYS_FILE): the blind index kept in a purged value is made with them.
Exit status 0; 2 when refused (one line: a ledger not there or not migrated, a time that is not one).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def add_parser(sub) -> dict:
    """The `retention` command; its subcommands' parsers by name."""
    rt = sub.add_parser("retention", help="personal data past its retention (保存期限): purge it, or say what would be purged")
    what = rt.add_subparsers(dest="what", required=True)
    pg = what.add_parser("purge", help="replace personal fields past retention by their blind index and masked form (audited)")
    pg.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    pg.add_argument("--dry-run", action="store_true", help="say what would be purged; write and audit nothing")
    pg.add_argument("--at", help="local time (Asia/Shanghai) retention is counted to; default now")
    pg.add_argument("--batch", type=int, help="units examined per transaction (default $GATEWAY_PURGE_BATCH, 1000)")
    pg.add_argument("--json", action="store_true", help="print JSON instead of the table")
    return dict(what.choices)


def run(parser, args, refuse, open_ledger, show) -> int:
    """Run `retention purge`; the exit status."""
    from connectors.ledger import utcnow
    from jobs.common.purge_personal import purge_personal

    now = utcnow()
    if args.at:
        try:
            now = datetime.fromisoformat(args.at.strip()).replace(tzinfo=None) - timedelta(hours=8)
        except ValueError:
            refuse(parser, f"--at {args.at!r}: a date or date-time is expected (2027-06-01 or 2027-06-01 06:00)")
    if args.batch is not None and args.batch < 1:
        refuse(parser, f"--batch {args.batch}: at least 1 unit per transaction")
    ledger = open_ledger(parser, args.ledger)
    try:
        report = purge_personal(ledger, now=now, dry_run=args.dry_run, batch=args.batch, run_id=None if args.dry_run else f"cli__retention__{now:%Y%m%dT%H%M%S}")
    finally:
        ledger.dispose()
    show(report.as_dict(), args)  # the table flattens it: units.record, values.received_record.zrfzjhm, …
    if not args.json:
        print(report.line())
    return 0
