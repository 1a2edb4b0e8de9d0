"""Cancellations in the ledger (part of `Ledger`, through DeliveryStore).

A work-order version a receiver holds (delivered, or sent over HTTP and not confirmed) whose
work order was since withdrawn by the platform, dropped by a correction, or sent by a correction
to another receiver, gets one `work_order_cancel` row — planned before anything is sent, keyed
`<key of the version held>:cancel` — and is told once: account mode in a cancellation batch
(`cancel_batch`, contents and name fixed when planned, so a retry publishes the same bytes under
the same name), HTTP in a cancel call the receiver de-duplicates by key. The work order in force
goes `cancel_pending` → `cancelled` (every receiver told) or `cancel_refused` (a receiver had
already handled it). Every step is in the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.schema_cohandling import work_order_cancel
from connectors.ledger.statements import statement

_CHUNK = 500


class CancelStore:
    """Plan cancellations, hand out what to send, record what happened."""

    engine: sa.Engine

    # --- routing: which work orders a receiver may hold --------------------------------------

    def cancellation_flags(self, rowguids) -> dict[tuple[str, str], tuple[bool, bool]]:
        """(ROWGUID, utility) -> (at_receiver, messaged) for the given ROWGUIDs: a receiver holds or may hold a
        version of it; the version in force was settled by a cancellation (final)."""
        keys = sorted({g for g in rowguids if isinstance(g, str)})
        flags: dict[tuple[str, str], tuple[bool, bool]] = {}
        query = statement("select_at_receiver", expanding=("rowguids",))
        with self.engine.connect() as conn:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                for rowguid, utility in conn.execute(query, {"rowguids": chunk}):
                    flags[(rowguid, utility)] = (True, False)
                settled = conn.execute(statement("select_cancel_settled", expanding=("rowguids",)), {"rowguids": chunk})
                for rowguid, utility in settled:
                    flags[(rowguid, utility)] = (flags.get((rowguid, utility), (False, False))[0], True)
        return flags

    # --- planning ------------------------------------------------------------------------------

    def plan_cancellations(self, *, run_id: str, day: datetime, now: datetime) -> dict:
        """Plan every cancellation due (transforms.cohandling.workorder_routing.plan_cancellations); batch the account-mode ones. One transaction."""
        import pandas as pd

        from transforms.cohandling.batchfiles import batch_name
        from transforms.cohandling.workorder_routing import plan_cancellations

        with self.engine.begin() as conn:
            result = conn.execute(statement("select_cancel_candidates"))
            rows = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            told = pd.DataFrame(conn.execute(statement("select_cancels_told")).fetchall(), columns=["rowguid", "utility", "version", "destination"])
            planned = pd.DataFrame()
            if len(rows):
                held = rows[["rowguid", "utility", "version", "channel", "destination"]]
                in_force = rows[["rowguid", "utility", "version_now", "status_now", "destination_now", "reason_code_now"]].drop_duplicates(
                    ["rowguid", "utility"]).rename(columns=lambda c: c.removesuffix("_now"))
                planned = plan_cancellations(held, in_force, told)
            batches = 0
            if len(planned):
                formats = {(r, u, int(v)): f for r, u, v, f in zip(rows["rowguid"], rows["utility"], rows["version"], rows["file_format"])}
                conn.execute(work_order_cancel.insert(), [
                    {"rowguid": p.rowguid, "utility": p.utility, "version": int(p.version), "idempotency_key": p.idempotency_key,
                     "cause_version": int(p.cause_version), "channel": p.channel, "destination": p.destination, "reason_code": p.reason_code,
                     "reason": p.reason, "status": "pending", "batch_id": None, "attempts": 0, "planned_run_id": run_id,
                     "created_at": now, "updated_at": now}
                    for p in planned.itertuples(index=False)])
                account = planned[planned["channel"] == "account"]
                groups: dict[tuple[str, str], list] = {}
                for p in account.itertuples(index=False):
                    groups.setdefault((p.destination, formats.get((p.rowguid, p.utility, int(p.version))) or "csv"), []).append(p)
                for (destination, file_format), items in sorted(groups.items()):
                    seq = conn.execute(statement("select_next_cancel_batch_seq"), {"destination": destination}).scalar_one()
                    batch_id = conn.execute(statement("insert_cancel_batch"), {
                        "run_id": run_id, "destination": destination, "file_format": file_format, "records": len(items), "seq": seq,
                        "now": now}).scalar_one()
                    conn.execute(statement("update_cancel_batch_name"), {"batch_id": batch_id, "name": batch_name(day, seq, "XBCX")})
                    conn.execute(statement("update_cancel_batch_assignment"),
                                 [{"r": p.rowguid, "u": p.utility, "v": int(p.version), "batch_id": batch_id} for p in items])
                    batches += 1
                # A work order withdrawn or dropped while routing did not know a receiver held it: it waits for the message too.
                causes = planned[planned["reason_code"] != "DESTINATION_CHANGED"]
                self._set_work_order_status(conn, [{"r": r, "u": u, "v": int(v), "s": "cancel_pending"}
                                                   for r, u, v in zip(causes["rowguid"], causes["utility"], causes["cause_version"])],
                                            only=("withdrawn", "cancelled"))
            settled = self._settle(conn)
            summary = {"planned": len(planned), "cancel_batches": batches, "settled": settled,
                       "by_reason": {str(k): int(n) for k, n in planned["reason_code"].value_counts().items()} if len(planned) else {}}
            self._audit(conn, run_id, "deliver", "cancellations_planned", "work_order_cancel", run_id, summary)
        return summary

    # --- what to send ----------------------------------------------------------------------------

    def open_cancel_batches(self) -> list[dict]:
        """Account-mode cancellation batches not yet published, oldest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_open_cancel_batches")).mappings()]

    def cancel_batch_items(self, batch_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_cancel_batch_items"), {"batch_id": batch_id}).mappings()]

    def fix_cancel_batch_hash(self, batch_id: int, sha256: str) -> str:
        """The cancellation batch's manifest hash: set at its first render, returned unchanged after."""
        with self.engine.begin() as conn:
            current = conn.execute(statement("select_cancel_batch_hash"), {"batch_id": batch_id}).scalar_one()
            if current is None:
                conn.execute(statement("update_cancel_batch_hash"), {"batch_id": batch_id, "sha256": sha256})
                return sha256
            return current

    def pending_http_cancel_receivers(self) -> list[dict]:
        """The HTTP receivers with cancellations not yet answered: channel, destination, n — by destination."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_pending_http_cancel_receivers")).mappings()]

    def pending_http_cancels_page(self, channel: str, destination: str, *, after: tuple[str, str, int] | None, limit: int) -> list[dict]:
        """Up to `limit` of one receiver's HTTP cancellations not yet answered, after the work-order key `after` (None: from
        the first), in key order."""
        rowguid, utility, version = after or ("", "", -1)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_pending_http_cancels_page"), {
                "channel": channel, "destination": destination, "after_rowguid": rowguid, "after_utility": utility,
                "after_version": version, "page_size": limit}).mappings()]

    # --- what happened ---------------------------------------------------------------------------

    def record_cancel_batch(self, batch_id: int, *, run_id: str, published: bool, error: str | None, receipt: dict | None, now: datetime,
                            permanent: bool = False) -> None:
        """A cancellation batch attempt: published (its cancellations done: the institution has them) or still pending / failed."""
        status = "delivered" if published else "failed" if permanent else "pending"
        with self.engine.begin() as conn:
            attempt = {"batch_id": batch_id, "last_error": error, "now": now}
            conn.execute(statement("update_cancel_batch_attempt"), attempt | {"status": status, "delivered_at": now if published else None})
            if published:
                conn.execute(statement("update_cancels_of_batch_published"), attempt | {"receipt": json.dumps(receipt, ensure_ascii=False) if receipt else None})
            else:
                conn.execute(statement("update_cancels_of_batch_attempt"), attempt | {"status": "refused" if permanent else "pending"})
            self._settle(conn)
            self._audit(conn, run_id, "deliver", f"cancel_batch_{status}", "cancel_batch", batch_id, {"error": error, "receipt": receipt})

    def record_http_cancels(self, outcomes: list[dict], *, run_id: str, destination: str, now: datetime) -> dict[str, int]:
        """Per-item answers of one cancel call: idempotency_key, status (delivered | rejected | pending), code, reason, receipt_id, attempts.

        `delivered` (0000 cancelled, 0201 already cancelled) and 0404 (the receiver holds nothing: nothing to stop) → cancelled;
        any other refusal (0409: already handled) → refused; pending → tried again next run.
        """
        counts = {"cancelled": 0, "refused": 0, "pending": 0}
        if not outcomes:
            return counts
        params = []
        for o in outcomes:
            status = "cancelled" if o["status"] == "delivered" or (o["status"] == "rejected" and o.get("code") == "0404") else \
                "refused" if o["status"] == "rejected" else "pending"
            counts[status] += 1
            params.append({"k": o["idempotency_key"], "s": status, "n": o.get("attempts") or 0, "now": now,
                           "e": None if status == "cancelled" and o["status"] == "delivered" else f"{o.get('code') or ''} {o.get('reason') or ''}".strip() or None,
                           "receipt": json.dumps({"receipt_id": o.get("receipt_id"), "code": o.get("code")}) if status != "pending" else None,
                           "cancelled_at": now if status == "cancelled" else None})
        with self.engine.begin() as conn:
            conn.execute(statement("update_http_cancel"), params)
            self._settle(conn)
            self._audit(conn, run_id, "deliver", "http_cancels_sent", "work_order_cancel", destination, {"destination": destination, **counts})
        return counts

    def cancellation_counts(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> cancellations."""
        with self.engine.connect() as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(statement("select_cancel_counts"))}

    def cancellations(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_cancellations")).mappings()]

    def in_force_at_receivers(self) -> set[tuple[str, str, str, int]]:
        """(destination, ROWGUID, utility, version) each receiver should hold now: per receiver the latest version
        delivered there, unless a cancellation of it (or of a later one) was sent there and confirmed."""
        with self.engine.connect() as conn:
            delivered = conn.execute(statement("select_delivered_at_receivers")).all()
            told = conn.execute(statement("select_cancelled_at_receivers")).all()
        latest: dict[tuple[str, str, str], int] = {}
        for dest, rowguid, utility, version in delivered:
            latest[(dest, rowguid, utility)] = max(latest.get((dest, rowguid, utility), 0), int(version))
        cancelled: dict[tuple[str, str, str], int] = {}
        for dest, rowguid, utility, version in told:
            cancelled[(dest, rowguid, utility)] = max(cancelled.get((dest, rowguid, utility), 0), int(version))
        return {(*k, v) for k, v in latest.items() if cancelled.get(k, 0) < v}

    # --- internals -------------------------------------------------------------------------------

    @staticmethod
    def _set_work_order_status(conn, keys: list[dict], *, only: tuple[str, ...]) -> None:
        if not keys:
            return
        if not 1 <= len(only) <= 2:
            raise ValueError(f"a work order leaves one or two states here, not {only!r}")
        states = {"from_1": only[0], "from_2": only[-1]}
        for name in ("update_work_order_cancel_status", "update_work_order_version_cancel_status"):
            conn.execute(statement(name), [k | states for k in keys])

    def _settle(self, conn) -> int:
        """Work orders `cancel_pending` whose cancellations are all answered: `cancelled`, or `cancel_refused` when a receiver
        had already handled it. One that no receiver turned out to hold (its send failed for good): withdrawn / cancelled."""
        waiting = conn.execute(statement("select_cancel_pending_work_orders")).all()
        if not waiting:
            return 0
        updates = []
        for start in range(0, len(waiting), _CHUNK):
            chunk = waiting[start:start + _CHUNK]
            guids = sorted({r[0] for r in chunk})
            cancels: dict[tuple[str, str], list] = {}
            for row in conn.execute(statement("select_cancels_of", expanding=("rowguids",)), {"rowguids": guids}):
                cancels.setdefault((row[0], row[1]), []).append(row)
            maybe_out = {(r[0], r[1]) for r in conn.execute(statement("select_pending_deliveries_of", expanding=("rowguids",)), {"rowguids": guids})}
            for rowguid, utility, version, reason_code in chunk:
                mine = cancels.get((rowguid, utility), [])
                if any(r[3] == "pending" for r in mine):
                    continue
                caused = [r for r in mine if r[2] == version]
                if caused:
                    status = "cancel_refused" if any(r[3] == "refused" for r in caused) else "cancelled"
                elif (rowguid, utility) in maybe_out:
                    continue  # a rendered batch may still take it out: cancelled once it has
                else:
                    status = "withdrawn" if reason_code == "RECORD_WITHDRAWN" else "cancelled"
                updates.append({"r": rowguid, "u": utility, "v": int(version), "s": status})
        self._set_work_order_status(conn, updates, only=("cancel_pending",))
        return len(updates)
