"""Command line for data engineers and auditors:

    python -m tools.cli db upgrade (--ledger URL | --conn-id gateway_ledger)
    python -m tools.cli extract --platform URL --ledger URL --run-id ID [--json]
    python -m tools.cli report --ledger URL --from 2026-11-01 --to 2026-11-21 [--as-of ...] [--out DIR] [--json]
    python -m tools.cli remote-report --ledger URL --from 2026-11-01 --to 2026-11-21 [--as-of ...] [--out DIR] [--json]
    python -m tools.cli handover-receipt --ledger URL --list YJ-... --at "2026-11-20 10:00" --by "档案室 李华" [--note ...] [--json]
    python -m tools.cli balance --ledger URL [--json] [--stale-hours 48] [--stale work_order=72 ...] [--at "2026-11-20 06:00"]
    python -m tools.cli trace KEY --ledger URL [--as-of "2026-11-20 06:00"] [--json]
    python -m tools.cli replay batch <batch no> --ledger URL --reason "…" [--force] [--operator NAME] [--dry-run] [--json]
    python -m tools.cli replay order <ROWGUID> --ledger URL --reason "…" [--utility U] [--version N] [--operator NAME] [--dry-run] [--json]
    python -m tools.cli replay package <BWID> --ledger URL --reason "…" [--platform URL] [--operator NAME] [--dry-run] [--json]
    python -m tools.cli audit verify --ledger URL [--seals DIR --pubkey FILE] [--json]   (tools/cli_audit.py: exit status 1 = broken)
    python -m tools.cli audit seal --ledger URL --key FILE --out DIR [--json]  |  audit keygen --key FILE
    python -m tools.cli verify-batch DIR --pubkey gateway-signing.pub.pem
    python -m tools.cli verify-receipt FILE --pubkey gateway-signing.pub.pem
    python -m tools.cli retention purge --ledger URL [--dry-run] [--at TIME] [--json]   (tools/retention.py; docs/security.md)
    python -m tools.cli keys rotate --ledger URL --table T --columns a,b [--index a_bidx=a:id] [--batch N] [--json] (tools/keys.py)

The same jobs the DAG tasks run, without Airflow: for a manual catch-up, a check, or a
reconciliation report for any date range (on demand). `balance` prints the lifetime balance
of the whole ledger per surface and exits with status 1 when it does not hold or units are
stale (identifiers masked). `trace` prints the whole trail of a record (its ROWGUID, or the platform's
business number YCYWH: each record that carries it) or a remote-collection package (its BWID), in time
order, personal data masked (jobs/common/trace.py); a key the ledger does not know exits with status 1
and says where it was looked for. `replay` sends a delivered account batch, work order or package again
on purpose, with the original idempotency keys (jobs/common/replay.py): a receiver that holds it
answers duplicate, one that lost it takes it again; who (--operator, else the OS user), why
(--reason, required), what and the outcome go into the ledger's audit log. Receivers and the SFTP
drops are the Airflow Connections the DAGs use; `package --platform` re-reads, checks and uploads
its files from the platform's file store. Exit status 1 when a receiver could not be reached. `verify-batch` and
`verify-receipt` check a batch folder or a receipt downloaded from a drop against the gateway's public key: the
signature (origin) and every file's size and SHA-256 (content), exit status 1 when it does not verify
(tools/verify_evidence.py). Each command prints a table (labels in Chinese with their codes
where officials read them); `--json` prints the same as JSON, for machines.

`db upgrade` brings the ledger's schema to the newest migration (idempotent). It is run once
per deployment — beside `airflow db migrate`, before the scheduler starts — and before any
other command against a new ledger: no command or task migrates on its own, and it is the only
command that creates a database. Every other command refuses, with one line naming the argument
and exit status 2, a ledger or platform that does not exist (a mistyped SQLite path is never
created), cannot be opened or is not at the newest migration, and a date that is not one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path

from tools import keys, retention, verify_evidence

UPGRADE = "python -m tools.cli db upgrade"


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake told in one line (`<prog>: error: …`, exit status 2) and no usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (--help for usage)\n")


def refuse(parser: argparse.ArgumentParser, message: str):
    """What is wrong with an argument, in one line; exit status 2 (as argparse's own errors)."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def day(text: str) -> date:
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or date-time (YYYY-MM-DD or \"YYYY-MM-DD HH:MM\")") from None


def build_parser() -> Parser:
    parser = Parser(prog="python -m tools.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="the ledger's schema")
    db.add_argument("action", choices=["upgrade"], help="upgrade: bring the schema to the newest migration (idempotent; creates a new SQLite file)")
    target = db.add_mutually_exclusive_group(required=True)
    target.add_argument("--ledger", help="SQLAlchemy URL of the gateway ledger")
    target.add_argument("--conn-id", help="Airflow Connection id of the gateway ledger (gateway_ledger)")
    ex = sub.add_parser("extract", help="load the platform's new changes into the ledger")
    ex.add_argument("--platform", required=True, help="SQLAlchemy URL of the exchange database")
    ex.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    ex.add_argument("--run-id", required=True)
    ex.add_argument("--until", type=moment, help="UTC cut-off (default: the database clock)")
    ex.add_argument("--settle-minutes", type=float, default=10.0)
    ex.add_argument("--chunk-rows", type=int, default=50_000)
    ex.add_argument("--writers", type=int, default=2)
    rp = sub.add_parser("report", help="the reconciliation report (HTML, XLSX, CSV) for work orders delivered in a date range")
    rr = sub.add_parser("remote-report", help="the remote-collection (异地代收) report for packages collected in a date range")
    for p, default in ((rp, "<from>_<to>"), (rr, "remote_<from>_<to>")):
        p.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
        p.add_argument("--from", dest="first", required=True, type=day, help="first day (YYYY-MM-DD)")
        p.add_argument("--to", dest="last", required=True, type=day, help="last day (YYYY-MM-DD), inclusive")
        p.add_argument("--as-of", type=moment, help="Shandong local time: the report shows what the ledger had recorded by then (default: now)")
        p.add_argument("--out", help=f"output folder (default: $GATEWAY_REPORT_DIR/{default})")
    hr = sub.add_parser("handover-receipt", help="record that a property county signed for a handover list (移交清单)")
    hr.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    hr.add_argument("--list", dest="list_no", required=True, help="the list number printed on it (YJ-...)")
    hr.add_argument("--at", required=True, type=moment, help="Shandong local time it was signed for")
    hr.add_argument("--by", required=True, help="who signed")
    hr.add_argument("--note")
    bl = sub.add_parser("balance", help="the lifetime balance of the whole ledger per surface (exit status 1: does not hold, or stale units)")
    bl.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    bl.add_argument("--stale-hours", type=float, help="how long a unit may stay due, all surfaces (default: the settings, 48)")
    bl.add_argument("--stale", action="append", default=[], metavar="SURFACE=HOURS", help="the same for one surface (repeatable)")
    bl.add_argument("--at", type=moment, help="UTC time the balance is taken at (default: now)")
    tr = sub.add_parser("trace", help="the whole trail of a record (ROWGUID or YCYWH) or a remote package (BWID), in time order (exit status 1: unknown key)")
    tr.add_argument("key", help="a ROWGUID, a platform business number (YCYWH) or a package's BWID")
    tr.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
    tr.add_argument("--as-of", type=moment, help="Shandong local time: the trail up to then and the state then (default: now)")
    rl = sub.add_parser("replay", help="send a delivered batch, work order or package again, same idempotency keys, audited")
    what = rl.add_subparsers(dest="what", required=True)
    rb = what.add_parser("batch", help="an account-mode batch file, into its institution's SFTP drop (byte-identical)")
    rb.add_argument("ref", metavar="BATCH", help="the batch number (its name, e.g. XB20261120_000003) or its id")
    rb.add_argument("--force", action="store_true", help="replace the batch if it is still in the drop (default: say so, leave it)")
    ro = what.add_parser("order", help="a work order, to its county system (system mode) or the grid (electricity)")
    ro.add_argument("ref", metavar="ROWGUID")
    ro.add_argument("--utility", help="only this utility's work order (water, gas, heat, electricity codes as in the ledger)")
    ro.add_argument("--version", type=int, help="only this version (default: the newest delivered)")
    rk = what.add_parser("package", help="a remote-collection package, to the property county or the cross-province receiver")
    rk.add_argument("ref", metavar="BWID")
    rk.add_argument("--platform", help="SQLAlchemy URL of the platform's database (file store): files re-read, checked and uploaded again")
    for p in (rb, ro, rk):
        p.add_argument("--ledger", required=True, help="SQLAlchemy URL of the gateway ledger")
        p.add_argument("--reason", help="why it is sent again (required; kept in the audit log)")
        p.add_argument("--operator", help="who sends it again (default: the OS user)")
        p.add_argument("--dry-run", action="store_true", help="check and say what would be sent; send and record nothing")
    from tools.cli_audit import add_parser as add_audit

    audit = add_audit(sub)
    verify_evidence.add_parser(sub)
    for p in (ex, rp, rr, hr, bl, tr, rb, ro, rk, audit["verify"], audit["seal"]):
        p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    keys.add_parser(sub)
    purge = retention.add_parser(sub)
    # name -> the subcommand's parser: its errors name it
    parser.commands = sub.choices | {f"replay {k}": v for k, v in what.choices.items()} | {f"audit {k}": v for k, v in audit.items()} | {f"retention {k}": v for k, v in purge.items()}
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = parser.commands[args.command if args.command not in ("replay", "audit", "retention") else f"{args.command} {args.what}"]
    if args.command == "replay":
        raise SystemExit(replay(command, args))
    if args.command == "audit":
        from tools.cli_audit import run as audit

        raise SystemExit(audit(command, args, refuse, open_ledger, show))
    if args.command == "retention":
        raise SystemExit(retention.run(command, args, refuse, open_ledger, show))
    if args.command == "keys":
        raise SystemExit(keys.rotate_command(command, args))
    if args.command == "db":
        upgrade(command, args)
        return
    if args.command in ("verify-batch", "verify-receipt"):
        raise SystemExit(verify_evidence.run(args, lambda message: refuse(command, message)))
    if getattr(args, "first", None) and args.first > args.last:
        refuse(command, f"--from {args.first} is after --to {args.last}")
    if args.command == "balance":
        raise SystemExit(balance(command, args))
    if args.command == "trace":
        raise SystemExit(trace(command, args))
    if args.command == "extract":
        source = open_platform(command, args.platform)
    ledger = open_ledger(command, args.ledger)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if args.command == "report":
            report(ledger, args)
        elif args.command in ("remote-report", "handover-receipt"):
            remote(ledger, args)
        else:
            extract(source, ledger, args)
    finally:
        ledger.dispose()


# --- refusing what is not a ledger or a platform ---------------------------------------------------


def _engine_url(parser: Parser, option: str, url: str):
    """The URL parsed; a SQLite file that is not there is refused before any engine opens (and creates) it."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        refuse(parser, f"{option} {url!r} is not a database URL: write sqlite:///path/to/file.db or postgresql://user@host/db")
    if parsed.get_backend_name() == "sqlite":
        name = (parsed.database or "").removeprefix("file:").split("?")[0]
        if name in ("", ":memory:"):
            refuse(parser, f"{option} {url!r} names no database file")
        path = Path(name)
        if not path.exists():
            hint = f" (a new ledger is made by `{UPGRADE} --ledger URL`)" if option == "--ledger" else ""
            refuse(parser, f"{option}: no such file: {path.resolve()} — mistyped?{hint}")
        if not path.is_file():
            refuse(parser, f"{option}: {path.resolve()} is not a file")
    return parsed


def _unreadable(parser: Parser, option: str, address: str, exc: Exception):
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    refuse(parser, f"{option} {address}: cannot be opened as a database: {detail}")


def open_ledger(parser: Parser, url: str):
    """The ledger at `url`, refused (exit status 2, one line naming --ledger) unless it exists and is at the newest migration."""
    import sqlalchemy as sa

    from connectors.ledger import Ledger

    ledger = Ledger(_engine_url(parser, "--ledger", url))
    try:
        current, head = ledger.schema_revision()
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        ledger.dispose()
        _unreadable(parser, "--ledger", ledger.address, exc)
    if current != head:
        ledger.dispose()
        if current is not None and current not in _known_migrations():
            refuse(parser, f"--ledger {ledger.address} is at migration {current}, which this code does not know (the newest here is {head}): "
                           "newer code migrated it — run that code")
        state = "has no ledger schema (not migrated)" if current is None else f"is at migration {current}, the newest is {head}"
        refuse(parser, f"--ledger {ledger.address} {state}: run `{UPGRADE} --ledger URL` first")
    return ledger


def _known_migrations() -> set[str]:
    from alembic.script import ScriptDirectory

    from connectors.ledger import MIGRATIONS

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def open_platform(parser: Parser, url: str):
    """The platform's exchange database at `url`, refused unless it exists and holds the co-handling change table."""
    import sqlalchemy as sa

    from connectors.exchange_db import RecordSource

    source = RecordSource(_engine_url(parser, "--platform", url))
    try:
        found = source.holds_changes()
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        source.dispose()
        _unreadable(parser, "--platform", source.address, exc)
    if not found:
        source.dispose()
        refuse(parser, f"--platform {source.address} has no table {source.TABLE}: not the platform's exchange database?")
    return source


# --- the commands ----------------------------------------------------------------------------------


def upgrade(parser: Parser, args) -> None:
    import sqlalchemy as sa

    from connectors.ledger import Ledger

    if args.conn_id:
        try:
            ledger = Ledger.from_conn_id(args.conn_id)
        except Exception as exc:  # noqa: BLE001 - AirflowNotFoundException, or a connection of another type (ValueError)
            found = type(exc).__name__ != "AirflowNotFoundException"
            refuse(parser, f"--conn-id {args.conn_id}: " + (str(exc) if found else
                         f"no such Airflow connection (define AIRFLOW_CONN_{args.conn_id.upper()} or add it with `airflow connections add`)"))
    else:
        ledger = Ledger(_engine_url_for_upgrade(parser, args.ledger))
    try:
        before, _ = ledger.schema_revision()
        ledger.migrate()
        after, _ = ledger.schema_revision()
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        _unreadable(parser, "--conn-id" if args.conn_id else "--ledger", ledger.address, exc)
    finally:
        ledger.dispose()
    moved = "already there" if before == after else f"was at {before or 'no schema'}"
    print(f"ledger schema at the newest migration {after} ({moved}): {ledger.address}")


def _engine_url_for_upgrade(parser: Parser, url: str):
    """`db upgrade` may create a SQLite file, but not its folder (a mistyped folder is told, not made)."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        refuse(parser, f"--ledger {url!r} is not a database URL: write sqlite:///path/to/file.db or postgresql://user@host/db")
    if parsed.get_backend_name() == "sqlite" and parsed.database and not parsed.database.startswith("file:"):
        folder = Path(parsed.database).resolve().parent
        if not folder.is_dir():
            refuse(parser, f"--ledger: no such folder: {folder}")
    return parsed


def balance(parser: Parser, args) -> int:
    from connectors.ledger.balance_store import BALANCE_SURFACES
    from jobs.common.accounting import lifetime_balance

    stale = {}
    for item in args.stale:
        surface, _, hours = item.partition("=")
        try:
            stale[surface.strip()] = timedelta(hours=float(hours))
        except ValueError:
            refuse(parser, f"--stale {item!r}: SURFACE=HOURS expected (e.g. work_order=72)")
        if surface.strip() not in BALANCE_SURFACES:
            refuse(parser, f"--stale {item!r}: no surface {surface.strip()!r} (one of {', '.join(BALANCE_SURFACES)})")
    if args.stale_hours is not None:
        stale = {s: timedelta(hours=args.stale_hours) for s in BALANCE_SURFACES} | stale
    ledger = open_ledger(parser, args.ledger)
    try:
        report = lifetime_balance(ledger, now=args.at, stale=stale or None)
    finally:
        ledger.dispose()
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) if args.json else report.text())
    return 0 if report.ok else 1


def trace(parser: Parser, args) -> int:
    import sys

    from jobs.common.trace import trace as trail

    if not args.key.strip():
        refuse(parser, "KEY is empty: give a ROWGUID, a YCYWH or a BWID")
    ledger = open_ledger(parser, args.ledger)
    try:
        found = trail(ledger, args.key, as_of=args.as_of)
    finally:
        ledger.dispose()
    print(json.dumps(found.as_dict(), ensure_ascii=False, indent=1, default=str) if args.json else trace_table(found))
    if not found.found:
        print(f"{parser.prog}: {found.not_found_message()}", file=sys.stderr)
        return 1
    return 0


def trace_table(found) -> str:
    """The trail for a terminal: a heading, then per event its time, stage and subject on one line, what happened and the evidence beneath."""
    lines = [f"追溯 trace {found.key}  类型 {found.kind_zh}  截至 as_of {found.as_of:%Y-%m-%d %H:%M}（北京时间）"]
    if not found.found:
        lines.append("未找到 not found — 已查 searched:")
        lines += [f"  - {where}" for where in found.searched]
        return "\n".join(lines)
    lines.append(f"匹配 matches ({len(found.matches)}): {', '.join(found.matches)}")
    lines.append(f"事件 events: {len(found.events)}")
    for e in found.events.itertuples(index=False):
        stage = f"{e.stage_zh}({e.stage})"
        lines.append(f"{e.time:%Y-%m-%d %H:%M:%S}  {stage}{' ' * max(1, 24 - _width(stage))}{e.subject}")
        lines.append(f"    {e.what}")
        if e.evidence:
            lines.append(f"    证据 evidence: {e.evidence}")
    return "\n".join(lines)
def replay(parser: Parser, args) -> int:
    """Send one thing again (jobs/common/replay.py); refused in one line (exit status 2) without a reason or when it
    was never delivered; exit status 1 when its receiver could not be reached."""
    from connectors.channels import Channels
    from jobs.common.replay import ReplayRefused, replay_batch, replay_order, replay_package

    if not (args.reason or "").strip():
        refuse(parser, "--reason is required: say why it is sent again (kept in the audit log with who sent it)")
    source = open_package_source(parser, args.platform) if getattr(args, "platform", None) else None
    ledger = open_ledger(parser, args.ledger)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    common = {"reason": args.reason, "operator": args.operator, "dry_run": args.dry_run}
    # The channels come from Airflow Connections, and Airflow's logging writes to stdout: while they work, what is
    # logged goes to stderr, so stdout holds the result alone (--json stays one JSON document).
    try:
        with contextlib.redirect_stdout(sys.stderr):
            if args.what == "batch":
                with Channels() as channels:
                    out = replay_batch(ledger, args.ref, drops=channels.drops(), force=args.force, **common)
            elif args.what == "order":
                with Channels() as channels:
                    out = replay_order(ledger, args.ref, receiver_for=channels.receiver_for, utility=args.utility, version=args.version, **common)
            else:
                with Channels(packages=True) as channels:
                    out = replay_package(ledger, args.ref, receiver_for=channels, source=source, **common)
    except ReplayRefused as exc:
        refuse(parser, str(exc))
    finally:
        ledger.dispose()
        if source is not None:
            source.dispose()
    answers = out.get("answers") or [out]
    failed = any(a.get("outcome") in ("pending", "failed", "rejected") for a in answers)
    if not args.json:  # one line per key in the table
        for name in ("items", "answers"):
            if name in out:
                out[name] = {a["key"]: " ".join(str(a[k]) for k in ("outcome", "code", "receipt_id", "destination", "channel", "error") if a.get(k))
                             for a in out[name]}
    show(out, args)
    return 1 if failed else 0


def open_package_source(parser: Parser, url: str):
    """The platform's remote-collection file store at `url` (connectors.exchange_db.PackageSource)."""
    from connectors.exchange_db import PackageSource

    return PackageSource(_engine_url(parser, "--platform", url))


def extract(source, ledger, args) -> None:
    from jobs.cohandling.extract_records import extract_changes

    try:
        result = extract_changes(source, ledger, run_id=args.run_id, until=args.until, settle=timedelta(minutes=args.settle_minutes),
                                 chunk_rows=args.chunk_rows, writers=args.writers)
    finally:
        source.dispose()
    show(result.as_dict(), args)


def report(ledger, args) -> None:
    from jobs.cohandling.collect_results import write_period_report
    from jobs.common.inbox import local_now
    from jobs.common.settings import report_dir

    out = Path(args.out) if args.out else report_dir() / f"{args.first}_{args.last}"
    show(write_period_report(ledger, first=args.first, last=args.last, as_of=args.as_of or local_now(), out_dir=out), args)


def remote(ledger, args) -> None:
    from jobs.common.inbox import local_now
    from jobs.common.settings import report_dir
    from jobs.remote.handover import record_handover_receipt
    from jobs.remote.publish_remote_report import write_remote_report

    if args.command == "handover-receipt":
        try:
            row = record_handover_receipt(ledger, args.list_no, received_at=args.at, received_by=args.by, note=args.note)
        except ValueError as exc:
            raise SystemExit(f"handover-receipt: {exc}") from None
        show({"list_no": row["list_no"], "originals": row["originals"], "received_at": args.at.isoformat(sep=" "), "received_by": args.by}, args)
        return
    out = Path(args.out) if args.out else report_dir() / f"remote_{args.first}_{args.last}"
    show(write_remote_report(ledger, first=args.first, last=args.last, as_of=args.as_of or local_now(), out_dir=out), args)


# --- output ----------------------------------------------------------------------------------------

LABELS = {  # key (nested keys joined by ".") -> label; what is not here is shown by its key
    "period": "期间 period", "as_of": "统计时点 as_of", "exceptions": "异常结果 exceptions",
    "records.received": "收到记录 records.received", "records.quarantined": "隔离 records.quarantined",
    "records.work_ordered": "已生成工单 records.work_ordered", "records.withdrawn": "已撤回 records.withdrawn",
    "files.html": "报告 files.html", "files.xlsx": "工作簿 files.xlsx", "files.csv": "CSV files.csv", "html": "报告 html", "xlsx": "工作簿 xlsx",
    "json": "JSON json", "csv": "CSV csv",
    "list_no": "移交清单编号 list_no", "originals": "原件份数 originals", "received_at": "签收时间 received_at", "received_by": "签收人 received_by",
    "run_id": "run", "batch_id": "extraction batch", "after_seq": "read after CHANGE_SEQ", "before_time": "written before (UTC)",
    "rows_read": "rows read", "rows_new": "new rows", "rows_known": "already held (settle window)", "run_changes": "changes this run holds",
    "rows_dead_lettered": "refused, dead-lettered",
    "outcome": "结果 outcome", "reason": "重发原因 reason", "operator": "操作人 operator", "still_in_drop": "仍在发件箱 still_in_drop",
    "receipt_id": "回执 receipt_id", "code": "应答码 code", "destination": "接收方 destination", "drop": "机构投递目录 drop", "records.records_with_work_orders": "有工单的记录 records.records_with_work_orders",
}


def _status_labels() -> dict[str, str]:
    try:
        from transforms.reporting.cohandling_tables import STATUSES
    except ImportError:  # pragma: no cover - the labels are a nicety
        return {}
    return {f"statuses.{code}": f"{name} statuses.{code}" for code, name in STATUSES.items()}


def _rows(data, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _rows(value, name + ".")
        elif isinstance(value, list | tuple):
            rows.append((name, " – ".join(map(str, value)) if len(value) <= 3 else f"{len(value)} items"))
        else:
            rows.append((name, "none" if value is None or value == {} else str(value)))
    return rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(data: dict) -> str:
    """Two columns, label and value, aligned for a terminal (a CJK character is two columns wide)."""
    labels = LABELS | _status_labels()
    rows = [(labels.get(key, f"CSV {key.partition('csv:')[2]}" if "csv:" in key else key), value) for key, value in _rows(data)]
    wide = max((_width(label) for label, _ in rows), default=0)
    return "\n".join(f"{label}{' ' * (wide - _width(label))}  {value}" for label, value in rows)


def show(data: dict, args) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str) if args.json else table(data))


if __name__ == "__main__":
    main()
