"""The lifetime balance's reads (part of `Ledger`): per surface, every unit the ledger holds in
exactly one state, counted over the whole ledger.

Each surface has two statements under sql/ledger/common/: `balance_units_<surface>` gives every unit
with its state and since when (columns unit, ref, state, since), and `balance_totals_<surface>`
counts the units on their own (`received`) beside what must never be (every other column: a
verdict without its change, a delivery without its version, ...), so the states are checked
against an independent count, not against themselves. `balance_states` and `balance_oldest` read
any surface's units as their derived table (statements.nested). The arithmetic is transforms/common/balance.py.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.statements import nested, statement

BALANCE_SURFACES: tuple[str, ...] = (
    "exchange_change", "work_order", "remote_package", "registry_form", "remote_checklist", "result_file", "result_feed", "package_event",
)


class BalanceStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine
    dialect: str

    def balance_counts(self, surface: str, *, stale_before: datetime) -> tuple[dict[str, int], dict[str, tuple[int, datetime | None, int]]]:
        """(totals, states) of one surface: totals = {"received": n, <check>: n, ...}; states =
        {state: (units, oldest since, units since before `stale_before`)} — one snapshot on PostgreSQL."""
        grouped = nested("balance_states", f"balance_units_{_surface(surface)}")
        with self._snapshot() as conn:
            totals = {k: int(v or 0) for k, v in conn.execute(statement(f"balance_totals_{surface}")).mappings().one().items()}
            states = {r.state: (int(r.n), r.oldest, int(r.stale or 0)) for r in conn.execute(grouped, {"stale_before": stale_before})}
        return totals, states

    def balance_oldest(self, surface: str, *, states: list[str], before: datetime, limit: int = 5) -> list[dict]:
        """The oldest units of `surface` in `states` since before `before`: unit, ref, state, since (oldest first)."""
        if not states:
            return []
        query = nested("balance_oldest", f"balance_units_{_surface(surface)}", expanding=("states",))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query, {"states": states, "before": before, "limit": limit}).mappings()]

    def _snapshot(self):
        """A connection whose statements see one snapshot (PostgreSQL REPEATABLE READ; SQLite reads as it reads)."""
        conn = self.engine.connect()
        if self.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn


def _surface(surface: str) -> str:
    if surface not in BALANCE_SURFACES:
        raise ValueError(f"no balance statements for surface {surface!r}")
    return surface
