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

from connectors import sqlfiles
from connectors.ledger.schema import cancel_batch, delivery, work_order, work_order_cancel, work_order_version

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
        query = sa.text(sqlfiles.load("ledger/select_at_receiver")).bindparams(sa.bindparam("rowguids", expanding=True))
        with self.engine.connect() as conn:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                for rowguid, utility in conn.execute(query, {"rowguids": chunk}):
                    flags[(rowguid, utility)] = (True, False)
                c, w = work_order_cancel, work_order
                settled = conn.execute(
                    sa.select(w.c.rowguid, w.c.utility).distinct()
                    .join(c, sa.and_(c.c.rowguid == w.c.rowguid, c.c.utility == w.c.utility, c.c.cause_version == w.c.version))
                    .where(w.c.rowguid.in_(chunk), w.c.status.in_(("cancelled", "cancel_refused"))))
                for rowguid, utility in settled:
                    flags[(rowguid, utility)] = (flags.get((rowguid, utility), (False, False))[0], True)
        return flags

    # --- planning ------------------------------------------------------------------------------

    def plan_cancellations(self, *, run_id: str, day: datetime, now: datetime) -> dict:
        """Plan every cancellation due (transforms.cohandling.workorder_routing.plan_cancellations); batch the account-mode ones. One transaction."""
        import pandas as pd

        from transforms.cohandling.workorder_routing import plan_cancellations

        with self.engine.begin() as conn:
            result = conn.execute(sa.text(sqlfiles.load("ledger/select_cancel_candidates")))
            rows = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            told = pd.DataFrame(conn.execute(sa.select(work_order_cancel.c.rowguid, work_order_cancel.c.utility, work_order_cancel.c.version,
                                                       work_order_cancel.c.destination)).fetchall(),
                                columns=["rowguid", "utility", "version", "destination"])
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
                    batch_id = conn.execute(cancel_batch.insert().returning(cancel_batch.c.batch_id), {
                        "run_id": run_id, "destination": destination, "name": "-", "file_format": file_format, "records": len(items),
                        "status": "planned", "attempts": 0, "created_at": now, "updated_at": now}).scalar_one()
                    conn.execute(cancel_batch.update().where(cancel_batch.c.batch_id == batch_id).values(name=f"XBCX{day:%Y%m%d}_{batch_id:08d}"))
                    conn.execute(work_order_cancel.update().where(
                        work_order_cancel.c.rowguid == sa.bindparam("r"), work_order_cancel.c.utility == sa.bindparam("u"),
                        work_order_cancel.c.version == sa.bindparam("v")).values(batch_id=batch_id),
                        [{"r": p.rowguid, "u": p.utility, "v": int(p.version)} for p in items])
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
        query = sa.select(cancel_batch).where(cancel_batch.c.status.in_(("planned", "pending"))).order_by(cancel_batch.c.batch_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def cancel_batch_items(self, batch_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sqlfiles.load("ledger/select_cancel_batch_items")), {"batch_id": batch_id}).mappings()]

    def fix_cancel_batch_hash(self, batch_id: int, sha256: str) -> str:
        """The cancellation batch's manifest hash: set at its first render, returned unchanged after."""
        with self.engine.begin() as conn:
            current = conn.execute(sa.select(cancel_batch.c.sha256).where(cancel_batch.c.batch_id == batch_id)).scalar_one()
            if current is None:
                conn.execute(cancel_batch.update().where(cancel_batch.c.batch_id == batch_id).values(sha256=sha256))
                return sha256
            return current

    def pending_http_cancels(self) -> list[dict]:
        """HTTP cancellations not yet answered, by destination."""
        c = work_order_cancel
        query = sa.select(c).where(c.c.status == "pending", c.c.channel.in_(("system", "grid"))).order_by(c.c.destination, c.c.rowguid, c.c.utility)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # --- what happened ---------------------------------------------------------------------------

    def record_cancel_batch(self, batch_id: int, *, run_id: str, published: bool, error: str | None, receipt: dict | None, now: datetime,
                            permanent: bool = False) -> None:
        """A cancellation batch attempt: published (its cancellations done: the institution has them) or still pending / failed."""
        status = "delivered" if published else "failed" if permanent else "pending"
        with self.engine.begin() as conn:
            conn.execute(cancel_batch.update().where(cancel_batch.c.batch_id == batch_id).values(
                status=status, attempts=cancel_batch.c.attempts + 1, last_error=error, updated_at=now, delivered_at=now if published else None))
            values = {"attempts": work_order_cancel.c.attempts + 1, "last_error": error, "updated_at": now}
            if published:
                values |= {"status": "cancelled", "cancelled_at": now, "receipt": json.dumps(receipt, ensure_ascii=False) if receipt else None}
            elif permanent:
                values |= {"status": "refused"}
            conn.execute(work_order_cancel.update().where(work_order_cancel.c.batch_id == batch_id, work_order_cancel.c.status == "pending").values(**values))
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
                           "at": now if status == "cancelled" else None})
        c = work_order_cancel
        with self.engine.begin() as conn:
            conn.execute(c.update().where(c.c.idempotency_key == sa.bindparam("k"), c.c.status == "pending").values(
                status=sa.bindparam("s"), attempts=c.c.attempts + sa.bindparam("n"), last_error=sa.bindparam("e"),
                receipt=sa.bindparam("receipt"), cancelled_at=sa.bindparam("at"), updated_at=sa.bindparam("now")), params)
            self._settle(conn)
            self._audit(conn, run_id, "deliver", "http_cancels_sent", "work_order_cancel", destination, {"destination": destination, **counts})
        return counts

    def cancellation_counts(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> cancellations."""
        with self.engine.connect() as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(sa.text(sqlfiles.load("ledger/select_cancel_counts")))}

    def cancellations(self) -> list[dict]:
        with self.engine.connect() as conn:
            c = work_order_cancel
            return [dict(r) for r in conn.execute(sa.select(c).order_by(c.c.rowguid, c.c.utility, c.c.version)).mappings()]

    def in_force_at_receivers(self) -> set[tuple[str, str, str, int]]:
        """(destination, ROWGUID, utility, version) each receiver should hold now: per receiver the latest version
        delivered there, unless a cancellation of it (or of a later one) was sent there and confirmed."""
        d, c = delivery, work_order_cancel
        with self.engine.connect() as conn:
            delivered = conn.execute(sa.select(d.c.destination, d.c.rowguid, d.c.utility, d.c.version).where(d.c.status == "delivered")).all()
            told = conn.execute(sa.select(c.c.destination, c.c.rowguid, c.c.utility, c.c.version).where(c.c.status == "cancelled")).all()
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
        for table in (work_order, work_order_version):
            conn.execute(table.update().where(table.c.rowguid == sa.bindparam("r"), table.c.utility == sa.bindparam("u"),
                                              table.c.version == sa.bindparam("v"), sa.or_(*(table.c.status == s for s in only)))
                         .values(status=sa.bindparam("s")), keys)

    def _settle(self, conn) -> int:
        """Work orders `cancel_pending` whose cancellations are all answered: `cancelled`, or `cancel_refused` when a receiver
        had already handled it. One that no receiver turned out to hold (its send failed for good): withdrawn / cancelled."""
        w, c = work_order, work_order_cancel
        waiting = conn.execute(sa.select(w.c.rowguid, w.c.utility, w.c.version, w.c.reason_code).where(w.c.status == "cancel_pending")).all()
        if not waiting:
            return 0
        updates = []
        for start in range(0, len(waiting), _CHUNK):
            chunk = waiting[start:start + _CHUNK]
            guids = sorted({r[0] for r in chunk})
            cancels: dict[tuple[str, str], list] = {}
            for row in conn.execute(sa.select(c.c.rowguid, c.c.utility, c.c.cause_version, c.c.status).where(c.c.rowguid.in_(guids))):
                cancels.setdefault((row[0], row[1]), []).append(row)
            maybe_out = {(r[0], r[1]) for r in conn.execute(
                sa.select(delivery.c.rowguid, delivery.c.utility).where(delivery.c.rowguid.in_(guids), delivery.c.status == "pending"))}
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
