"""The retention purge's reads and writes (part of `Ledger`; the policy is jobs/common/purge_personal.py, the value rewrite
transforms/common/purge.py, the design docs/security.md "Retention").

A batch is one transaction over a window of units: the next `limit` units in key order after `after`
(select_purge_window_*.sql: an index range, so a purge walks the ledger once, however many batches — a LIMIT over the
due units instead would make every batch filter the whole rest of the ledger again), of which it takes those due
(select_purge_due_*.sql), reads their personal columns (connectors/ledger/personal.py PERSONAL / PERSONAL_BYTES) by primary
key, and writes them back purged — nothing else: no key, state, count, time or hash is written. A batch interrupted
rolls back whole; the next run finds its units still due (a unit is due while one of its values is not purged), so
a purge resumes where it stopped and a second purge finds nothing. `dry_run` does the same work and rolls it back.

Units: `records` (a ROWGUID: every version received, its failing values, originals and SMS), `packages` (a BWID: every
version's applicants, failing values and originals), `result_exceptions` and `dead_letters` (one row each). Every
statement is a file: `select_purge_<what>.sql` reads a table's rows of a batch's units, `update_purged_<table>.sql`
writes one row's personal columns back (the columns are PERSONAL's: a column added there needs its update file too).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.personal import PERSONAL, PERSONAL_BYTES
from connectors.ledger.schema import metadata
from connectors.ledger.statements import statement

UNITS: tuple[str, ...] = ("records", "packages", "result_exceptions", "dead_letters")
_KEYS_PER_QUERY = 500  # keys bound in one IN (...): far below SQLite's and PostgreSQL's limits on bound values
_DUE = {"records": "select_purge_due_records", "packages": "select_purge_due_packages",
        "result_exceptions": "select_purge_due_exceptions", "dead_letters": "select_purge_due_dead_letters"}
_WINDOW = {"records": "select_purge_window_records", "packages": "select_purge_window_packages",
           "result_exceptions": "select_purge_window_exceptions", "dead_letters": "select_purge_window_dead_letters"}
_TYPES = (("unrouted_before", sa.DateTime), ("before_any", sa.DateTime), ("purged_mark", sa.LargeBinary))


@dataclass
class PurgeBatch:
    """What one batch purged: its units by kind, the values rewritten per `table.column`, those left without a blind index
    (a token that did not decrypt), and the last unit's key (where the next batch starts)."""

    units: Counter = field(default_factory=Counter)
    values: Counter = field(default_factory=Counter)
    unindexed: int = 0
    last: object = None


class RetentionStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine

    def purge_batch(self, unit: str, *, before: datetime, unrouted_before: datetime | None = None, after=None, limit: int = 500,
                    dry_run: bool = False) -> PurgeBatch:
        """Examine the next window of `limit` units of `unit` after the key `after` and purge those due in it (final before
        `before`; never routed / returned before `unrouted_before`), in one transaction (rolled back when `dry_run`).
        `last` is the window's last key (where the next batch starts), None when no unit is left after `after`."""
        from transforms.common.purge import PURGED_BYTES

        if unit not in _DUE:
            raise ValueError(f"unit {unit!r}: one of {', '.join(UNITS)}")
        numeric = unit in ("result_exceptions", "dead_letters")
        after = (-1 if numeric else "") if after is None else after
        batch = PurgeBatch()
        with self.engine.connect() as conn, conn.begin() as tx:
            upto, n = conn.execute(statement(_WINDOW[unit]), {"after": after, "limit": limit}).one()
            if not n:
                return batch
            batch.last = upto
            unrouted_before = unrouted_before or before
            params = {"before": before, "unrouted_before": unrouted_before, "before_any": max(before, unrouted_before), "purged_mark": PURGED_BYTES,
                      "after": after, "upto": upto}
            due = conn.execute(statement(_DUE[unit], types=_TYPES), params).all()
            if due:
                batch.units.update(row[1] if len(row) > 1 else unit for row in due)
                getattr(self, f"_purge_{unit}")(conn, [row[0] for row in due], batch)
            if dry_run:
                tx.rollback()
        return batch

    def purged_rowguids(self, rowguids: list[str]) -> set[str]:
        """Those of `rowguids` whose personal data was purged (in one of their versions)."""
        return self._purged("select_purged_rowguids", "rowguids", rowguids)

    def purged_bwids(self, bwids: list[str]) -> set[str]:
        """Those of `bwids` whose applicants' personal data was purged (in one of their versions)."""
        return self._purged("select_purged_bwids", "bwids", bwids)

    # --- the units: (table, the statement reading its rows of the units by primary key) ------------

    def _purge_records(self, conn: sa.Connection, rowguids: list[str], batch: PurgeBatch) -> None:
        for table, read in (("received_record", "select_purge_received_record"), ("rule_failure", "select_purge_rule_failure"),
                            ("received_original", "select_purge_record_originals"), ("sms_outbox", "select_purge_sms_outbox")):
            self._purge_rows(conn, table, read, rowguids, batch)

    def _purge_packages(self, conn: sa.Connection, bwids: list[str], batch: PurgeBatch) -> None:
        for table, read in (("remote_applicant", "select_purge_remote_applicant"), ("remote_failure", "select_purge_remote_failure"),
                            ("received_original", "select_purge_package_originals")):
            self._purge_rows(conn, table, read, bwids, batch)

    def _purge_result_exceptions(self, conn: sa.Connection, ids: list[int], batch: PurgeBatch) -> None:
        self._purge_rows(conn, "result_exception", "select_purge_result_exception", ids, batch)

    def _purge_dead_letters(self, conn: sa.Connection, ids: list[int], batch: PurgeBatch) -> None:
        self._purge_rows(conn, "dead_letter", "select_purge_dead_letter", ids, batch)

    # --- the rows ---------------------------------------------------------------------------------

    def _purge_rows(self, conn: sa.Connection, name: str, read: str, keys: list, batch: PurgeBatch) -> None:
        """The personal columns of `name`'s rows of the units `keys` (read by `read`: primary key and personal columns),
        written back purged by `update_purged_<name>` (bound `k_<key column>`, `v_<personal column>`)."""
        from transforms.common.purge import purge_bytes, purge_values

        text, raw = PERSONAL.get(name, ()), PERSONAL_BYTES.get(name, ())
        pk = [c.name for c in metadata.tables[name].primary_key.columns]
        update = statement(f"update_purged_{name}", types=tuple((f"v_{c}", sa.LargeBinary) for c in raw))
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            rows = conn.execute(statement(read, expanding=("keys",)), {"keys": list(keys[start:start + _KEYS_PER_QUERY])}).mappings().all()
            if not rows:
                continue
            new = {c: [r[c] for r in rows] for c in (*text, *raw)}
            changed: set[int] = set()
            for c in text:
                purged = purge_values(new[c], self.keyring, table=name, column=c)
                new[c], batch.unindexed = purged.values, batch.unindexed + purged.unindexed
                batch.values[f"{name}.{c}"] += purged.changed
                changed.update(purged.positions)
            for c in raw:
                purged = purge_bytes(new[c])
                new[c] = purged.values
                batch.values[f"{name}.{c}"] += purged.changed
                changed.update(purged.positions)
            if changed:
                conn.execute(update, [{**{f"k_{c}": rows[i][c] for c in pk}, **{f"v_{c}": new[c][i] for c in (*text, *raw)}} for i in sorted(changed)])

    def _purged(self, name: str, param: str, keys: list[str]) -> set[str]:
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(keys), _KEYS_PER_QUERY):
                found.update(r[0] for r in conn.execute(statement(name, expanding=(param,)), {param: list(keys[start:start + _KEYS_PER_QUERY])}))
        return found

