"""Work orders in the ledger (part of `Ledger`).

Routing reads from state: the records whose version in force it has not taken yet
(`record_state.routed_seq`), whichever run validated them, and the records whose work orders
wait. `work_order` holds the version in force of each (ROWGUID, utility) — its primary key, so
re-routing can never make a second one; `work_order_version` keeps every version made
(a correction of a routed record makes version 2, 3, …). Writes go through a staging
table and set-based statements, in one transaction per page routed.

The writes are upserts (INSERT … ON CONFLICT … DO UPDATE, PostgreSQL and SQLite ≥ 3.24), never
delete-then-insert: two routings of the same held work orders at once (a backfill beside the
daily run) cannot fail on the key, and neither can make a work order go back — an older version
never replaces a newer one, and a version is updated in place only while routing still owns it
(sql/ledger/cohandling/upsert_staged_work_orders.sql). Routing also holds the ledger lock
`cohandling.route` (jobs/cohandling/route_records.py), so in practice the two take turns.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.schema_cohandling import work_order_version
from connectors.ledger.statements import nested, script, statement

WORK_ORDER_COLUMNS = tuple(c.name for c in work_order_version.columns)


class WorkOrderStore:
    """Mixed into `Ledger`: what routing reads and writes."""

    engine: sa.Engine
    dialect: str

    def route_records(self, kind: str = "due", *, after_seq: int = 0, page_size: int = 200_000):
        """A page of records to route, in change order, as pandas: `due` — versions in force routing has
        not taken yet, whichever run validated them; `waiting` — routed records whose work orders
        wait (held, or quarantined by the registry). Column `validated_by`: the run that validated it."""
        import pandas as pd

        with self.engine.connect() as conn:
            result = conn.execute(nested("select_route_records", f"route_states_{_kind(kind)}"), {"after": after_seq, "page_size": page_size})
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def route_work_orders(self, kind: str = "due", *, after_seq: int = 0, high_seq: int):
        """The work orders in force for the records `route_records(kind)` returned in (after_seq, high_seq], as pandas."""
        import pandas as pd

        from connectors.ledger.schema_cohandling import work_order

        with self.engine.connect() as conn:
            result = conn.execute(nested("select_route_work_orders", f"route_states_{_kind(kind)}"), {"after": after_seq, "high": high_seq})
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        frame["institution_version_id"] = frame["institution_version_id"].astype("Int64")
        frame["has_delivery"] = frame["has_delivery"].fillna(0).astype(bool)
        return frame[[c.name for c in work_order.columns] + ["has_delivery"]]

    def registry_blocked(self) -> set[tuple[str, str]]:
        """(ROWGUID, utility) of work orders blocked at validation only by an institution code unknown then."""
        with self.engine.connect() as conn:
            return {(r[0], r[1]) for r in conn.execute(statement("select_registry_blocked"))}

    def save_work_orders(self, planned, *, run_id: str, routed_at: datetime, summary: dict, routed=None, action: str = "run_routed") -> None:
        """Write planned work-order versions (transforms.cohandling.workorder_routing.plan_versions) and mark the record
        versions routing took (`routed`: ROWGUID, change_seq) as routed — one transaction."""
        import pyarrow as pa

        with self.engine.begin() as conn:
            if routed is not None and len(routed):
                for ddl in script("create_stage_routed", self.dialect):
                    conn.exec_driver_sql(ddl)
                self._insert(conn, "stage_routed", pa.table({
                    "rowguid": pa.array(routed["ROWGUID"].to_numpy(dtype=object), pa.string()),
                    "change_seq": pa.array(routed["change_seq"].to_numpy(dtype="int64"), pa.int64()),
                }), ["rowguid", "change_seq"])
                conn.execute(statement("update_routed_records"))
            if len(planned):
                table = pa.table({
                    "rowguid": pa.array(planned["rowguid"].to_numpy(dtype=object), pa.string()),
                    "utility": pa.array(planned["utility"].to_numpy(dtype=object), pa.string()),
                    "version": pa.array(planned["version"].to_numpy(dtype="int64"), pa.int32()),
                    "source": pa.array(planned["source"].to_numpy(dtype=object), pa.string()),
                    "change_seq": pa.array(planned["change_seq"].to_numpy(dtype="int64"), pa.int64()),
                    "correction": pa.array(planned["correction"].to_numpy(dtype=bool), pa.bool_()),
                    **{c: pa.array(_objects(planned[c]), pa.string()) for c in (
                        "account_no", "channel", "destination", "file_format", "status", "reason_code", "reason")},
                    # Codes as the record gave them may be anything when the work order is quarantined: the
                    # columns are sized for real codes (the reason text keeps the whole value).
                    "institution_code": pa.array([None if v is None else str(v)[:32] for v in _objects(planned["institution_code"])], pa.string()),
                    "xzqh": pa.array([None if v is None else str(v)[:6] for v in _objects(planned["xzqh"])], pa.string()),
                    "institution_version_id": pa.array(_objects(planned["institution_version_id"]), pa.int64()),
                    "hold_until": pa.array(_objects(planned["hold_until"]), pa.date32()),
                    "run_id": pa.array([run_id] * len(planned), pa.string()),
                    "routed_at": pa.array([routed_at] * len(planned), pa.timestamp("us")),
                })
                for ddl in script("create_stage_work_order", self.dialect):
                    conn.exec_driver_sql(ddl)
                self._insert(conn, "stage_work_order", table, list(WORK_ORDER_COLUMNS))
                for name in ("update_superseded_work_orders", "upsert_staged_work_orders", "upsert_staged_work_order_versions"):
                    conn.execute(statement(name))
            self._audit(conn, run_id, "route", action, "work_order", run_id, summary)

    def work_order_counts(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> work orders in force."""
        with self.engine.connect() as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(statement("select_work_order_counts"))}

    def work_orders(self, rowguid: str | None = None, *, history: bool = False) -> list[dict]:
        """Work orders in force (or every version, with `history`), optionally of one ROWGUID."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_work_order_versions" if history else "select_work_orders"), {"rowguid": rowguid}).mappings()]


def _kind(kind: str) -> str:
    if kind not in ("due", "waiting"):
        raise ValueError(f"route records are 'due' or 'waiting', not {kind!r}")
    return kind


def _objects(series) -> list:
    """A pandas column as Python values with None for every kind of missing."""
    import pandas as pd

    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in series.tolist()]
