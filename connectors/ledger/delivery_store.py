"""Delivery state in the ledger (part of `Ledger`).

Every ready work-order version gets one `delivery` row (pending → delivered | failed; or
superseded when a correction replaced it before it left); account-mode ones are grouped
into `delivery_batch`es — one per institution and file format — whose contents are fixed
when planned, so a retry publishes exactly the same files under the same names. Each batch
takes the next number of its institution drop (`seq`: 1, 2, 3, … without gaps, in its name
and manifest) when planned, under the `cohandling.deliver` stage lock; a batch whose work
orders were all replaced before it went out is still published (empty), so no number is
missing at the institution. Every attempt is in the audit log. A delivered work order no longer wanted is cancelled at its
receiver: connectors/ledger/cancellation_store.py.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.cancellation_store import CancelStore
from connectors.ledger.statements import nested, statement


class DeliveryStore(CancelStore):
    """Mixed into `Ledger`: plan deliveries, hand out what to send, record what happened (and cancellations: CancelStore)."""

    engine: sa.Engine

    def plan_deliveries(self, *, run_id: str, day: datetime, now: datetime) -> dict:
        """Plan every ready work-order version not planned yet; batch the account-mode ones. One transaction."""
        from transforms.cohandling.batchfiles import batch_name

        with self.engine.begin() as conn:
            planned = conn.execute(statement("insert_new_deliveries"), {"run_id": run_id, "now": now}).rowcount
            superseded = conn.execute(statement("update_superseded_deliveries"), {"now": now}).rowcount
            batches = []
            for destination, file_format, records in conn.execute(statement("select_unbatched_account")).all():
                seq = conn.execute(statement("select_next_batch_seq"), {"destination": destination}).scalar_one()
                batch_id = conn.execute(
                    statement("insert_account_batch"),
                    {"run_id": run_id, "destination": destination, "file_format": file_format, "records": records, "seq": seq, "now": now},
                ).scalar_one()
                conn.execute(statement("update_batch_name"), {"batch_id": batch_id, "name": batch_name(day, seq)})
                conn.execute(statement("update_batch_assignment"),
                             {"batch_id": batch_id, "now": now, "destination": destination, "file_format": file_format})
                batches.append(batch_id)
            summary = {"planned": planned, "account_batches": len(batches), "superseded": superseded}
            self._audit(conn, run_id, "deliver", "deliveries_planned", "delivery", run_id, summary)
        return summary

    def open_account_batches(self) -> list[dict]:
        """Account-mode batches not yet confirmed (this run's and earlier runs'), oldest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_open_account_batches")).mappings()]

    def batch_orders(self, batch_id: int):
        """The work-order versions of a batch with their Annex 1 fields, as Arrow."""
        import pyarrow as pa

        with self.engine.connect() as conn:
            result = conn.execute(nested("select_delivery_orders", "delivery_orders_batch"), {"batch_id": batch_id})
            rows = result.fetchall()
            names = list(result.keys())
        columns = list(zip(*rows)) if rows else [[] for _ in names]
        types = {"version": pa.int32(), "correction": pa.bool_()}
        table = pa.table({n: pa.array([bool(v) if n == "correction" else v for v in c], types.get(n, pa.string())) for n, c in zip(names, columns)})
        return self.unseal(table, "received_record")  # the receiver gets the clear values it needs

    def destination_orders(self, destination: str):
        """The work-order versions delivered to `destination` (an institution's drop) with their Annex 1 fields, as Arrow."""
        import pyarrow as pa

        with self.engine.connect() as conn:
            result = conn.execute(nested("select_delivery_orders", "delivery_orders_destination"), {"destination": destination})
            rows = result.fetchall()
            names = list(result.keys())
        columns = list(zip(*rows)) if rows else [[] for _ in names]
        types = {"version": pa.int32(), "correction": pa.bool_()}
        table = pa.table({n: pa.array([bool(v) if n == "correction" else v for v in c], types.get(n, pa.string())) for n, c in zip(names, columns)})
        return self.unseal(table, "received_record")  # the receiver gets the clear values it needs

    def pending_http_receivers(self) -> list[dict]:
        """The HTTP receivers with deliveries not yet confirmed: channel, destination, n — by destination."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_pending_http_receivers")).mappings()]

    def pending_http_page(self, channel: str, destination: str, *, after: tuple[str, str, int] | None, limit: int) -> list[dict]:
        """Up to `limit` of one receiver's HTTP deliveries not yet confirmed, after the work-order key `after` (None: from
        the first), with their Annex 1 fields, in key order."""
        rowguid, utility, version = after or ("", "", -1)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(nested("select_delivery_orders", "delivery_orders_pending_http_page"), {
                "channel": channel, "destination": destination, "after_rowguid": rowguid, "after_utility": utility,
                "after_version": version, "page_size": limit}).mappings()]
        return self.unseal(rows, "received_record")

    def fix_batch_hash(self, batch_id: int, sha256: str) -> str:
        """The batch's manifest hash: set at its first render, returned unchanged after."""
        with self.engine.begin() as conn:
            current = conn.execute(statement("select_batch_hash"), {"batch_id": batch_id}).scalar_one()
            if current is None:
                conn.execute(statement("update_batch_hash"), {"batch_id": batch_id, "sha256": sha256})
                return sha256
            return current

    def record_batch(self, batch_id: int, *, run_id: str, delivered: bool, error: str | None, receipt: dict | None, now: datetime,
                     permanent: bool = False) -> None:
        """An account-mode batch attempt: its work orders delivered (receipt: path, files, hashes), or still pending / failed."""
        status = "delivered" if delivered else "failed" if permanent else "pending"
        with self.engine.begin() as conn:
            attempt = {"batch_id": batch_id, "status": status, "last_error": error, "now": now, "delivered_at": now if delivered else None}
            conn.execute(statement("update_batch_attempt"), attempt)
            conn.execute(statement("update_batch_deliveries"), attempt | {"receipt": json.dumps(receipt, ensure_ascii=False) if receipt else None})
            if status != "pending":
                keys = conn.execute(statement("select_batch_delivery_keys"), {"batch_id": batch_id}).all()
                self._mark_work_orders(conn, [{"r": k[0], "u": k[1], "v": k[2], "s": status} for k in keys])
            self._audit(conn, run_id, "deliver", f"batch_{status}", "delivery_batch", batch_id, {"error": error, "receipt": receipt})

    def record_http(self, outcomes: list[dict], *, run_id: str, destination: str, channel: str, batch_name: str, now: datetime) -> None:
        """Per-item outcomes of one HTTP push: rowguid, utility, version, status (delivered | rejected | pending), receipt, code, reason, attempts."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                statement("insert_http_batch"),
                {"run_id": run_id, "channel": channel, "destination": destination, "name": batch_name, "records": len(outcomes),
                 "status": "delivered" if all(o["status"] == "delivered" for o in outcomes) else "pending",
                 "attempts": max(o["attempts"] for o in outcomes), "now": now},
            ).scalar_one()
            params = []
            for o in outcomes:
                status = {"delivered": "delivered", "rejected": "failed"}.get(o["status"], "pending")
                params.append({
                    "r": o["rowguid"], "u": o["utility"], "v": o["version"], "s": status, "b": batch_id, "n": o["attempts"],
                    "e": None if status == "delivered" else f"{o.get('code') or ''} {o.get('reason') or ''}".strip() or None,
                    "receipt": json.dumps({"receipt_id": o.get("receipt_id"), "code": o.get("code")}) if status != "pending" else None,
                    "delivered_at": now if status == "delivered" else None, "now": now,
                })
            conn.execute(statement("update_http_delivery"), params)
            self._mark_work_orders(conn, [p for p in params if p["s"] != "pending"])
            counts = {s: sum(1 for p in params if p["s"] == s) for s in ("delivered", "failed", "pending")}
            self._audit(conn, run_id, "deliver", "http_pushed", "delivery_batch", batch_id,
                        {"destination": destination, "channel": channel, "batch": batch_name, **counts})

    # --- replay (jobs/common/replay.py): what was delivered, sent again on purpose -------------------

    def delivery_batches_named(self, ref: str) -> list[dict]:
        """The delivery batches named `ref` (an account batch's directory name), or whose id it is."""
        batch_id = int(ref) if ref.strip().isdigit() else -1
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_delivery_batch_by_name"), {"name": ref.strip(), "batch_id": batch_id}).mappings()]

    def record_deliveries(self, rowguid: str) -> list[dict]:
        """Every delivery of `rowguid`'s work orders, with the Annex 1 fields of its version and `cancelled_since` (1: a
        cancellation at that receiver covers it), in work-order key order."""
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(nested("select_delivery_orders", "delivery_orders_of_record"), {"rowguid": rowguid}).mappings()]
        return self.unseal(rows, "received_record")

    def record_replay(self, *, run_id: str, operator: str, action: str, object_type: str, object_id: object, detail: dict,
                      batch_id: int | None = None, http: dict | None = None, now: datetime) -> None:
        """A replay's audit row (actor `replay`; who, why, what and the outcome in `detail`), and the attempt it made, the way
        deliver records one: an account batch published again (`batch_id`) counts one more attempt; an HTTP push (`http`:
        channel, destination, name, items [{rowguid, utility, version, status, attempts}]) is a delivery batch of its own and
        adds its attempts to each delivered version. Statuses, receipts and delivery times stay as the first delivery left them."""
        with self.engine.begin() as conn:
            if batch_id is not None:
                conn.execute(statement("update_batch_replayed"), {"batch_id": batch_id})
            if http is not None and http["items"]:
                items = http["items"]
                detail = detail | {"push_batch_id": conn.execute(statement("insert_http_batch"), {
                    "run_id": run_id, "channel": http["channel"], "destination": http["destination"], "name": http["name"], "records": len(items),
                    "status": "delivered" if all(i["status"] == "delivered" for i in items) else "pending",
                    "attempts": max(int(i["attempts"]) for i in items), "now": now}).scalar_one()}
                conn.execute(statement("update_delivery_replayed"),
                             [{"r": i["rowguid"], "u": i["utility"], "v": int(i["version"]), "n": int(i["attempts"])} for i in items])
            self._audit(conn, run_id, "replay", action, object_type, object_id, {"operator": operator} | detail)

    @staticmethod
    def _mark_work_orders(conn, keys: list[dict]) -> None:
        """The work-order versions just delivered / refused take that status (in force and in the history)."""
        if not keys:
            return
        params = [{"r": k["r"], "u": k["u"], "v": k["v"], "s": k["s"]} for k in keys]
        for name in ("update_work_order_delivered", "update_work_order_version_delivered"):
            conn.execute(statement(name), params)

    def stuck_deliveries(self, before: datetime) -> list[dict]:
        """What delivery still owes since before `before` (UTC), by kind (work_order | cancel), channel and receiver: units and
        the oldest time (the work order's routing, the cancellation's planning). Work orders in force not confirmed by their
        receiver (account: batch not published; system / grid: no 0000 / 0201 answer) and cancellations not confirmed."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_stuck_deliveries"), {"before": before}).mappings()]

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        with self.engine.connect() as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(statement("select_delivery_counts"))}

    def deliveries(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_deliveries")).mappings()]

