"""`python -m tools.cli keys rotate`: re-encrypt a table's token columns under the active field key (docs/security.md).

    python -m tools.cli keys rotate --ledger URL --table T --columns a,b [--index a_bidx=a:id ...] [--batch N] [--json]
    python -m tools.cli keys rotate --ledger URL --all [--batch N] [--json]

`--all`: every personal column of the gateway's ledger (connectors/ledger/personal.py PERSONAL and PERSONAL_BYTES), table
by table — what to run after adding a key, and once over a ledger written before migration 0019 to encrypt it. Byte
columns (read from the database) hold their tokens as ASCII bytes.

Keys: the Connection `gateway_field_keys`, else $GATEWAY_FIELD_KEYS_FILE — never a throwaway key (a rotation under a
key that lives only in var/ would lock the data away). Each batch commits; interrupted, run it again: it goes on where
the table is not yet under the active key. Exit status 0 when every row was brought under the key, 1 when rows changed
meanwhile (run again), 2 for a usage error (no keys, no such table or column).
"""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> argparse.ArgumentParser:
    ky = sub.add_parser("keys", help="field encryption keys: rotate a table's tokens to the active key (docs/security.md)")
    ky.add_argument("action", choices=["rotate"], help="rotate: re-encrypt every token (and legacy clear value) not under the active key")
    ky.add_argument("--ledger", required=True, help="SQLAlchemy URL of the database holding the table")
    ky.add_argument("--table")
    ky.add_argument("--columns", type=lambda text: tuple(c.strip() for c in text.split(",") if c.strip()),
                    help="the token columns, comma-separated")
    ky.add_argument("--all", action="store_true", help="every personal column of the gateway's ledger (instead of --table/--columns)")
    ky.add_argument("--index", action="append", default=[], metavar="COLUMN=SOURCE:KIND",
                    help="a blind index column, its token column and its kind (id, phone, text); repeatable")
    ky.add_argument("--batch", type=int, default=1000, help="rows per committed batch (default 1000)")
    ky.add_argument("--json", action="store_true", help="print JSON instead of the line")
    return ky


def _indexes(parser, items: list[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for item in items:
        column, _, rest = item.partition("=")
        source, _, kind = rest.partition(":")
        if not (column and source and kind):
            parser.error(f"--index {item!r}: COLUMN=SOURCE:KIND expected, e.g. zjhm_bidx=zjhm:id")
        out[column.strip()] = (source.strip(), kind.strip())
    return out


def rotate_command(parser, args) -> int:
    from connectors.ledger.personal import PERSONAL, PERSONAL_BYTES
    from jobs.common.field_keys import load_keyring

    if args.batch < 1:
        parser.error("--batch: at least 1")
    if args.all == bool(args.table or args.columns) or (not args.all and not (args.table and args.columns)):
        parser.error("either --all, or --table with --columns")
    indexes = _indexes(parser, args.index)
    if args.all and indexes:
        parser.error("--index goes with --table")
    try:
        keyring = load_keyring(throwaway=False)
    except (LookupError, ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    targets = [(t, c, {}) for t, c in {**PERSONAL, **PERSONAL_BYTES}.items()] if args.all else [(args.table, args.columns, indexes)]
    conflicts = 0
    for table, columns, table_indexes in targets:
        report = _rotate_table(parser, args, keyring, table, tuple(columns), table_indexes)
        conflicts += report.conflicts
        if args.json:
            print(json.dumps({"table": report.table, "key_id": report.key_id, "scanned": report.scanned, "rewritten": report.rewritten,
                              "conflicts": report.conflicts, "batches": report.batches}))
        else:
            print(report.line())
    return 1 if conflicts else 0


def _rotate_table(parser, args, keyring, table: str, columns: tuple[str, ...], indexes: dict):
    from connectors.token_table import TokenTable
    from jobs.common.key_rotation import RotationSpec, rotate

    try:
        rows = TokenTable.reflected(args.ledger, table, columns=(*columns, *indexes))
        text = tuple(c for c in columns if c not in rows.binary)
        spec = RotationSpec(table, text, indexes, byte_tokens=tuple(c for c in columns if c in rows.binary))
    except (LookupError, ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    try:
        return rotate(rows, keyring, spec, batch=args.batch)
    finally:
        rows.dispose()
