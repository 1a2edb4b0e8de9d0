"""The console's read model (`order_status`, `order_status_count`; migration 0016) and the console's reads over it
(part of `Ledger.cohandling`). Written by jobs/cohandling/order_status.py; read by console/pages.py — every page in
its scope with one statement (sql/ledger/cohandling/console_*.sql), counts from the counts table, lists with
ORDER BY … LIMIT. "overdue" is derived in SQL from the stored open status and due date against the reader's `today`.

`scope` arguments: a dict of optional equality filters — city_code, xzqh, institution_code, utility (None: any).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa

from connectors.ledger.personal import BUYER_AS
from connectors.ledger.statements import nested, statement

CHUNK = 1000  # keys per IN list
FILTERS = ("city_code", "xzqh", "institution_code", "utility")
ROW_TYPES = (("today", sa.Date),)
DAY_TYPES = (("cutoff", sa.Date), ("past", sa.Date))
PAST = date(2000, 1, 1)  # the counts' due date of open work orders already overdue when counted


def _filters(scope: dict | None) -> dict:
    return {k: (scope or {}).get(k) or None for k in FILTERS}


def _frame(result) -> pd.DataFrame:
    # plain tuples: pandas probing SQLAlchemy's Row objects one by one costs more than the query
    return pd.DataFrame.from_records([tuple(r) for r in result], columns=list(result.keys()))


def _chunks(keys: list) -> list[list]:
    return [keys[i:i + CHUNK] for i in range(0, len(keys), CHUNK)]


class ConsoleStore:
    """Mixed into the co-handling line's store (`ledger.cohandling`)."""

    engine: sa.Engine

    # --- the refresh --------------------------------------------------------------------------

    def read_model_state(self) -> tuple[datetime | None, bool]:
        """(when the read model was last refreshed, UTC — None: it is empty; whether the ledger has any work order)."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("console_refreshed_at")).mappings().one()
        return row["refreshed_at"], bool(row["has_orders"])

    def read_model_rowguids(self) -> int:
        """How many ROWGUIDs the read model holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(statement("console_model_rowguids")).scalar_one())

    def touched_rowguids(self, since: datetime) -> list[str]:
        """ROWGUIDs whose work orders were routed, delivered, cancelled or had a result or outcome recorded after `since` (UTC)."""
        with self.engine.connect() as conn:
            return sorted({r[0] for r in conn.execute(statement("console_touched"), {"since": since}) if r[0] is not None})

    def work_order_rowguids(self) -> list[str]:
        """Every ROWGUID with a work order, sorted."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(statement("console_all_rowguids"))]

    def reconciliation_input_of(self, rowguids: list[str], known_by: datetime, *, between: tuple[str, str] | None = None) -> pd.DataFrame:
        """`reconciliation_input` for some ROWGUIDs only (the trace's statement, by work_order_version's key) — or for those
        in the range `between` (low, high), one statement —, same columns and times."""
        from transforms.common.localtime import LOCAL_OFFSET

        with self.engine.connect() as conn:
            if between is not None:
                parts = [_frame(conn.execute(nested("reconciliation_of_versions", "reconciliation_in_force_range"), {"low": between[0], "high": between[1], "known_by": known_by}))]
            else:
                query = nested("reconciliation_of_versions", "reconciliation_in_force_rowguids", expanding=("rowguids",))
                parts = [_frame(conn.execute(query, {"rowguids": part, "known_by": known_by})) for part in _chunks(list(rowguids)) or [[""]]]
        frame = self.unseal(pd.concat(parts, ignore_index=True), "received_record", names=BUYER_AS)
        frame["delivered_at"] = pd.to_datetime(frame["delivered_at"]) + LOCAL_OFFSET
        for column in ("handled_at", "acknowledged_at"):
            frame[column] = pd.to_datetime(frame[column])
        return frame

    def write_order_status(self, rows, *, rowguids: list[str] | None, today: date) -> None:
        """Replace the read model's rows of `rowguids` (None: all of them) by `rows` (Arrow, order_status's columns, or an
        iterable of such tables, written as they come) and recount the counties touched (before and after) —
        one transaction. `today`: the refresh's (local) date; the counts
        hold open work orders due before it under one date (PAST), overdue for every reader from then on."""
        from connectors.ledger.schema_cohandling import order_status

        names = [c.name for c in order_status.columns]
        days = {"cutoff": today, "past": PAST}
        with self.engine.begin() as conn:
            if rowguids is None:
                conn.execute(statement("console_status_delete_all"))
                for part in [rows] if hasattr(rows, "num_rows") else rows:
                    self._insert(conn, "order_status", part, names)
                conn.execute(statement("console_count_delete_all"))
                conn.execute(statement("console_count_all", types=DAY_TYPES), days)
                return
            counties = set()
            find = statement("console_status_counties", expanding=("rowguids",))
            forget = statement("console_status_delete", expanding=("rowguids",))
            for part in _chunks(list(rowguids)):
                counties |= {r[0] for r in conn.execute(find, {"rowguids": part})}
                conn.execute(forget, {"rowguids": part})
            for part in [rows] if hasattr(rows, "num_rows") else rows:
                counties |= set(part.column("xzqh").to_pylist())
                self._insert(conn, "order_status", part, names)
            forget_counts = statement("console_count_delete", expanding=("counties",))
            count = statement("console_count_counties", expanding=("counties",), types=DAY_TYPES)
            for part in _chunks(sorted(counties)):
                conn.execute(forget_counts, {"counties": part})
                conn.execute(count, {"counties": part} | days)

    # --- the pages' reads ---------------------------------------------------------------------

    def console_counts(self, scope: dict | None, today: date) -> pd.DataFrame:
        """Work orders in scope by city, county, utility, institution, channel and status (overdue as of `today`): column n."""
        with self.engine.connect() as conn:
            return _frame(conn.execute(statement("console_counts", types=ROW_TYPES), _filters(scope) | {"today": today}))

    def console_overdue(self, scope: dict | None, today: date, limit: int) -> pd.DataFrame:
        """The first `limit` overdue work orders in scope, in the overdue list's order (one county's by its own index)."""
        filters = _filters(scope)
        name = "console_overdue_rows_county" if filters["xzqh"] else "console_overdue_rows"
        rank = {"electricity": 0, "water": 1, "gas": 2, "heat": 3}.get(filters["utility"]) if filters["utility"] else None  # utility_rank
        with self.engine.connect() as conn:
            return _frame(conn.execute(statement(name, types=ROW_TYPES), filters | {"today": today, "limit": limit, "utility_rank": rank}))

    def console_orders(self, scope: dict | None, today: date, status: str, limit: int) -> pd.DataFrame:
        """The first `limit` work orders in scope with `status` as of `today`, soonest due first."""
        with self.engine.connect() as conn:
            return _frame(conn.execute(statement("console_orders", types=ROW_TYPES),
                                       _filters(scope) | {"today": today, "status": status, "limit": limit}))

    def console_order(self, scope: dict | None, today: date, rowguid: str, utility: str, version: int) -> pd.DataFrame:
        """One work order by its key, in scope (no row: not there, or not this scope's)."""
        with self.engine.connect() as conn:
            return _frame(conn.execute(statement("console_order", types=ROW_TYPES),
                                       _filters(scope) | {"today": today, "rowguid": rowguid, "utility": utility, "version": int(version)}))

    def console_drops(self, institution_code: str) -> list[str]:
        """The account-mode drops an institution's work orders went to."""
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(statement("console_drops"), {"institution_code": institution_code}))

    def console_open_keys(self, institution_code: str) -> set[tuple[str, str, int]]:
        """(ROWGUID, utility, version) of an institution's open work orders."""
        with self.engine.connect() as conn:
            return {(r[0], r[1], int(r[2])) for r in conn.execute(statement("console_open_keys"), {"institution_code": institution_code})}

    def console_own_rowguids(self, rowguids, scope: dict | None) -> set[str]:
        """Which of `rowguids` have a work order in scope."""
        query = statement("console_own_rowguids", expanding=("rowguids",))
        keys = sorted({str(r) for r in rowguids if isinstance(r, str) and r})
        with self.engine.connect() as conn:
            return {r[0] for part in _chunks(keys) for r in conn.execute(query, _filters(scope) | {"rowguids": part})}

    def console_people(self, rowguids) -> pd.DataFrame:
        """rowguid, utility, version, correction and the applicant's fields (clear text: the caller masks) of the work orders of `rowguids`."""
        query = statement("console_people", expanding=("rowguids",))
        keys = sorted(set(rowguids))
        with self.engine.connect() as conn:
            parts = [_frame(conn.execute(query, {"rowguids": part})) for part in _chunks(keys)]
        columns = ["rowguid", "utility", "version", "correction", "buyer_name", "buyer_phone", "buyer_id", "address"]
        return self.unseal(pd.concat(parts, ignore_index=True), "received_record", names=BUYER_AS) if parts else pd.DataFrame(columns=columns)

    def console_quarantine(self, *, area: str | None, limit: int) -> tuple[pd.DataFrame, int]:
        """(the quarantine list's first `limit` lines in `area` — a LIKE pattern on the record's XZQH, None: all — as
        `Ledger.quarantine` gives them, masked by the page; how many lines in all)."""
        types = (("latest_validated_at", sa.DateTime),)
        with self.engine.connect() as conn:
            rows = _frame(conn.execute(statement("console_quarantine", types=types), {"area": area, "limit": limit}))
            total = int(conn.execute(statement("console_quarantine_count"), {"area": area}).scalar_one())
        return self.unseal(self.unseal(rows, "received_record"), "rule_failure"), total

    def console_exceptions(self, *, source: str | None, scope: dict | None, limit: int) -> tuple[pd.DataFrame, int]:
        """(the newest `limit` results exceptions — from `source` when given, about work orders in `scope` when given —, how many in all)."""
        from connectors.ledger.schema_cohandling import result_exception

        scoped = {k: v for k, v in _filters(scope).items() if k in ("city_code", "xzqh")}
        params = {"source": source, "scoped": int(any(scoped.values())), **scoped}
        with self.engine.connect() as conn:
            rows = conn.execute(statement("console_exceptions"), params | {"limit": limit}).mappings().all()
            total = int(conn.execute(statement("console_exceptions_count"), params).scalar_one())
        return self.unseal(pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in result_exception.columns]), "result_exception"), total
