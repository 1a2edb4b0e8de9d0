"""Delivery state in the ledger (part of `Ledger`).

Every ready work-order version gets one `delivery` row (pending → delivered | failed; or
superseded when a correction replaced it before it left); account-mode ones are grouped
into `delivery_batch`es — one per institution and file format — whose contents are fixed
when planned, so a retry publishes exactly the same files under the same names. Every
attempt is in the audit log. A delivered work order no longer wanted is cancelled at its
receiver: connectors/ledger/cancellation_store.py.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from connectors import sqlfiles
from connectors.ledger.cancellation_store import CancelStore
from connectors.ledger.schema import delivery, delivery_batch, work_order, work_order_version


class DeliveryStore(CancelStore):
    """Mixed into `Ledger`: plan deliveries, hand out what to send, record what happened (and cancellations: CancelStore)."""

    engine: sa.Engine

    def plan_deliveries(self, *, run_id: str, day: datetime, now: datetime) -> dict:
        """Plan every ready work-order version not planned yet; batch the account-mode ones. One transaction."""
        with self.engine.begin() as conn:
            planned = conn.execute(sa.text(sqlfiles.load("ledger/insert_new_deliveries")), {"run_id": run_id, "now": now}).rowcount
            superseded = conn.execute(sa.text(sqlfiles.load("ledger/update_superseded_deliveries")), {"now": now}).rowcount
            emptied = conn.execute(
                delivery_batch.update()
                .where(delivery_batch.c.status.in_(("planned", "pending")), delivery_batch.c.sha256.is_(None), delivery_batch.c.channel == "account",
                       ~sa.exists().where(delivery.c.batch_id == delivery_batch.c.batch_id))
                .values(status="cancelled", updated_at=now)
            ).rowcount
            batches = []
            for destination, file_format, records in conn.execute(sa.text(sqlfiles.load("ledger/select_unbatched_account"))).all():
                batch_id = conn.execute(
                    delivery_batch.insert().returning(delivery_batch.c.batch_id),
                    {"run_id": run_id, "channel": "account", "destination": destination, "name": "-", "file_format": file_format,
                     "records": records, "status": "planned", "attempts": 0, "created_at": now, "updated_at": now},
                ).scalar_one()
                name = f"XB{day:%Y%m%d}_{batch_id:08d}"
                conn.execute(delivery_batch.update().where(delivery_batch.c.batch_id == batch_id, delivery_batch.c.status.in_(("planned", "pending"))).values(name=name))
                conn.execute(sa.text(sqlfiles.load("ledger/update_batch_assignment")),
                             {"batch_id": batch_id, "now": now, "destination": destination, "file_format": file_format})
                batches.append(batch_id)
            summary = {"planned": planned, "account_batches": len(batches), "superseded": superseded, "batches_emptied": emptied}
            self._audit(conn, run_id, "deliver", "deliveries_planned", "delivery", run_id, summary)
        return summary

    def open_account_batches(self) -> list[dict]:
        """Account-mode batches not yet confirmed (this run's and earlier runs'), oldest first."""
        query = sa.select(delivery_batch).where(delivery_batch.c.channel == "account", delivery_batch.c.status.in_(("planned", "pending")))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(delivery_batch.c.batch_id)).mappings()]

    def batch_orders(self, batch_id: int):
        """The work-order versions of a batch with their Annex 1 fields, as Arrow."""
        import pyarrow as pa

        with self.engine.connect() as conn:
            result = conn.execute(sa.text(sqlfiles.load("ledger/select_batch_orders")), {"batch_id": batch_id})
            rows = result.fetchall()
            names = list(result.keys())
        columns = list(zip(*rows)) if rows else [[] for _ in names]
        types = {"version": pa.int32(), "correction": pa.bool_()}
        return pa.table({n: pa.array([bool(v) if n == "correction" else v for v in c], types.get(n, pa.string())) for n, c in zip(names, columns)})

    def pending_http(self):
        """HTTP deliveries not yet confirmed, with their Annex 1 fields, as a list of dicts."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sqlfiles.load("ledger/select_pending_http"))).mappings()]

    def fix_batch_hash(self, batch_id: int, sha256: str) -> str:
        """The batch's manifest hash: set at its first render, returned unchanged after."""
        with self.engine.begin() as conn:
            current = conn.execute(sa.select(delivery_batch.c.sha256).where(delivery_batch.c.batch_id == batch_id)).scalar_one()
            if current is None:
                conn.execute(delivery_batch.update().where(delivery_batch.c.batch_id == batch_id).values(sha256=sha256))
                return sha256
            return current

    def record_batch(self, batch_id: int, *, run_id: str, delivered: bool, error: str | None, receipt: dict | None, now: datetime,
                     permanent: bool = False) -> None:
        """An account-mode batch attempt: its work orders delivered (receipt: path, files, hashes), or still pending / failed."""
        status = "delivered" if delivered else "failed" if permanent else "pending"
        with self.engine.begin() as conn:
            conn.execute(delivery_batch.update().where(delivery_batch.c.batch_id == batch_id).values(
                status=status, attempts=delivery_batch.c.attempts + 1, last_error=error, updated_at=now, delivered_at=now if delivered else None))
            conn.execute(delivery.update().where(delivery.c.batch_id == batch_id, delivery.c.status == "pending").values(
                status=status, attempts=delivery.c.attempts + 1, last_error=error,
                receipt=json.dumps(receipt, ensure_ascii=False) if receipt else None, delivered_at=now if delivered else None, updated_at=now))
            if status != "pending":
                keys = conn.execute(sa.select(delivery.c.rowguid, delivery.c.utility, delivery.c.version).where(delivery.c.batch_id == batch_id)).all()
                self._mark_work_orders(conn, [{"r": k[0], "u": k[1], "v": k[2], "s": status} for k in keys])
            self._audit(conn, run_id, "deliver", f"batch_{status}", "delivery_batch", batch_id, {"error": error, "receipt": receipt})

    def record_http(self, outcomes: list[dict], *, run_id: str, destination: str, channel: str, batch_name: str, now: datetime) -> None:
        """Per-item outcomes of one HTTP push: rowguid, utility, version, status (delivered | rejected | pending), receipt, code, reason, attempts."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                delivery_batch.insert().returning(delivery_batch.c.batch_id),
                {"run_id": run_id, "channel": channel, "destination": destination, "name": batch_name, "records": len(outcomes),
                 "status": "delivered" if all(o["status"] == "delivered" for o in outcomes) else "pending",
                 "attempts": max(o["attempts"] for o in outcomes), "created_at": now, "updated_at": now},
            ).scalar_one()
            params = []
            for o in outcomes:
                status = {"delivered": "delivered", "rejected": "failed"}.get(o["status"], "pending")
                params.append({
                    "r": o["rowguid"], "u": o["utility"], "v": o["version"], "s": status, "b": batch_id, "n": o["attempts"],
                    "e": None if status == "delivered" else f"{o.get('code') or ''} {o.get('reason') or ''}".strip() or None,
                    "receipt": json.dumps({"receipt_id": o.get("receipt_id"), "code": o.get("code")}) if status != "pending" else None,
                    "at": now if status == "delivered" else None, "now": now,
                })
            conn.execute(
                delivery.update()
                .where(delivery.c.rowguid == sa.bindparam("r"), delivery.c.utility == sa.bindparam("u"), delivery.c.version == sa.bindparam("v"),
                       delivery.c.status == "pending")
                .values(status=sa.bindparam("s"), batch_id=sa.bindparam("b"), attempts=delivery.c.attempts + sa.bindparam("n"),
                        last_error=sa.bindparam("e"), receipt=sa.bindparam("receipt"), delivered_at=sa.bindparam("at"), updated_at=sa.bindparam("now")),
                params,
            )
            self._mark_work_orders(conn, [p for p in params if p["s"] != "pending"])
            counts = {s: sum(1 for p in params if p["s"] == s) for s in ("delivered", "failed", "pending")}
            self._audit(conn, run_id, "deliver", "http_pushed", "delivery_batch", batch_id,
                        {"destination": destination, "channel": channel, "batch": batch_name, **counts})

    @staticmethod
    def _mark_work_orders(conn, keys: list[dict]) -> None:
        """The work-order versions just delivered / refused take that status (in force and in the history)."""
        if not keys:
            return
        for table in (work_order, work_order_version):
            conn.execute(
                table.update()
                .where(table.c.rowguid == sa.bindparam("r"), table.c.utility == sa.bindparam("u"), table.c.version == sa.bindparam("v"),
                       sa.or_(table.c.status == "ready", table.c.status == "superseded") if table is work_order_version else table.c.status == "ready")
                .values(status=sa.bindparam("s")),
                [{"r": k["r"], "u": k["u"], "v": k["v"], "s": k["s"]} for k in keys],
            )

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        with self.engine.connect() as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(sa.text(sqlfiles.load("ledger/select_delivery_counts")))}

    def deliveries(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(delivery).order_by(delivery.c.rowguid, delivery.c.utility, delivery.c.version)).mappings()]
