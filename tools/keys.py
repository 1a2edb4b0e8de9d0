"""`python -m tools.cli keys rotate`: re-encrypt a table's token columns under the active field key (docs/security.md).

    python -m tools.cli keys rotate --ledger URL --table T --columns a,b [--index a_bidx=a:id ...] [--batch N] [--json]

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
    ky.add_argument("--table", required=True)
    ky.add_argument("--columns", required=True, type=lambda text: tuple(c.strip() for c in text.split(",") if c.strip()),
                    help="the token columns, comma-separated")
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
    from connectors.token_table import TokenTable
    from jobs.common.field_keys import load_keyring
    from jobs.common.key_rotation import RotationSpec, rotate

    if args.batch < 1:
        parser.error("--batch: at least 1")
    indexes = _indexes(parser, args.index)
    try:
        keyring = load_keyring(throwaway=False)
        spec = RotationSpec(args.table, args.columns, indexes)
        rows = TokenTable.reflected(args.ledger, args.table, columns=(*args.columns, *indexes))
    except (LookupError, ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    try:
        report = rotate(rows, keyring, spec, batch=args.batch)
    finally:
        rows.dispose()
    if args.json:
        print(json.dumps({"table": report.table, "key_id": report.key_id, "scanned": report.scanned, "rewritten": report.rewritten,
                          "conflicts": report.conflicts, "batches": report.batches}))
    else:
        print(report.line())
    return 1 if report.conflicts else 0
