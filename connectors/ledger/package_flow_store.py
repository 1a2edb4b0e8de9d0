"""Remote collection after the verdict (part of `Ledger`): delivery of each passed package
version to the property's authority, the status events it sends back, and the paper
handover lists (移交清单).

- Delivery: `plan_remote_deliveries` gives every package version in force that passed one
  `remote_delivery` row (pending), keyed `{BWID}:{change_seq}`, before anything is sent; a
  pending delivery whose BWID has a newer version in force is `superseded` (or `withdrawn`)
  and never leaves. Outcomes are recorded by key as soon as they are known.
- Events: each poll of a feed stores every event as received — accepted for tracking, or
  with the issue that keeps it out — and moves the feed's cursor (`result_source`,
  `packages:<destination>`) in the same transaction.
- Handover: each paper original of a delivered package version goes on exactly one list
  (primary key on the original), lists are created in one transaction, and a list's
  receipt is recorded once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa

from connectors.ledger.schema import (
    remote_applicant,
    remote_delivery,
    remote_event,
    remote_handover,
    remote_handover_item,
    remote_material,
    remote_package,
    remote_package_state,
    remote_verdict,
    result_source,
)

FEED_PREFIX = "packages:"
LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai: the ledger's stamps are UTC, a receipt's time is local
_CHUNK = 500


class RemoteFlowStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine

    # --- delivery -----------------------------------------------------------------------------

    def plan_remote_deliveries(self, *, run_id: str, now: datetime) -> dict[str, int]:
        """Plan a delivery for every passed version in force that has none; supersede pending ones left behind. One transaction.

        Only a delivery never attempted is superseded: one that was sent and not confirmed (the answer
        was lost) may be held by the receiver, so it is sent again as it was until the receiver confirms
        or refuses it, and the newer version goes as its correction.
        """
        from connectors.package_receiver import package_key

        d, s = remote_delivery, remote_package_state
        earlier = sa.alias(remote_delivery, "earlier")
        with self.engine.begin() as conn:
            sent_before = sa.exists().where(earlier.c.bwid == s.c.bwid, earlier.c.first_sent_at.is_not(None))
            new = conn.execute(
                sa.select(s.c.source, s.c.change_seq, s.c.bwid, s.c.channel, s.c.destination, sent_before.label("correction"))
                .where(s.c.status == "passed", ~sa.exists().where(d.c.source == s.c.source, d.c.change_seq == s.c.change_seq))
                .order_by(s.c.change_seq)
            ).all()
            if new:
                conn.execute(d.insert(), [
                    {"source": r.source, "change_seq": r.change_seq, "bwid": r.bwid, "idempotency_key": package_key(r.bwid, r.change_seq),
                     "channel": r.channel, "destination": r.destination, "correction": bool(r.correction), "status": "pending",
                     "attempts": 0, "files": 0, "planned_run_id": run_id, "planned_at": now, "updated_at": now}
                    for r in new
                ])
            left = conn.execute(
                sa.select(d.c.source, d.c.change_seq, s.c.status)
                .join(s, s.c.bwid == d.c.bwid)
                .where(d.c.status == "pending", d.c.first_sent_at.is_(None), s.c.change_seq != d.c.change_seq)
            ).all()
            for r in left:
                status = "withdrawn" if r.status == "withdrawn" else "superseded"
                conn.execute(d.update().where(d.c.source == r.source, d.c.change_seq == r.change_seq)
                             .values(status=status, reason="a later version of the package replaced it before it was sent", updated_at=now))
            # A version the receiver may hold whose BWID was withdrawn since, or whose version in force goes
            # to another authority (a corrected XZQH): that receiver is told, so it stops — unless it
            # already closed the version itself (不予受理 / 补正): then there is nothing to stop.
            e = remote_event
            closed = sa.exists().where(e.c.source == d.c.source, e.c.change_seq == d.c.change_seq, e.c.accepted,
                                       e.c.status.in_(("refused", "correction", "withdrawn")))
            stale = conn.execute(
                sa.select(d.c.source, d.c.change_seq, s.c.status, s.c.destination)
                .join(s, s.c.bwid == d.c.bwid)
                .where(d.c.first_sent_at.is_not(None), d.c.withdrawal.is_(None), d.c.status.in_(("pending", "delivered")), ~closed,
                       sa.or_(s.c.status == "withdrawn", sa.and_(s.c.change_seq != d.c.change_seq, s.c.destination != d.c.destination)))
            ).all()
            for r in stale:
                why = "申请人撤回申请" if r.status == "withdrawn" else f"更正后改由 {r.destination} 办理"
                conn.execute(d.update().where(d.c.source == r.source, d.c.change_seq == r.change_seq)
                             .values(withdrawal="pending", withdrawal_reason=why, updated_at=now))
            summary = {"planned": len(new), "superseded": sum(r.status != "withdrawn" for r in left), "withdrawn": sum(r.status == "withdrawn" for r in left),
                       "withdrawals": len(stale)}
            self._audit(conn, run_id, "remote", "package_deliveries_planned", "remote_delivery", None, summary)
        return summary

    def mark_remote_sending(self, keys: list[str], *, now: datetime) -> None:
        """Before a batch goes: from now on the receiver may hold these (committed on its own, so a crash after sending keeps it)."""
        d = remote_delivery
        with self.engine.begin() as conn:
            for start in range(0, len(keys), _CHUNK):
                conn.execute(d.update().where(d.c.idempotency_key.in_(keys[start:start + _CHUNK]), d.c.first_sent_at.is_(None))
                             .values(first_sent_at=now, updated_at=now))

    def pending_remote_deliveries(self) -> list[dict]:
        """Every pending delivery with its package (upper-case exchange names), applicants and materials."""
        d, v = remote_delivery, remote_verdict
        with self.engine.connect() as conn:
            deliveries = [dict(r) for r in conn.execute(
                sa.select(d, v.c.xzqh.label("v_xzqh"), v.c.sjdwdm.label("v_sjdwdm"), v.c.business_type.label("v_business_type"))
                .join(v, sa.and_(v.c.source == d.c.source, v.c.change_seq == d.c.change_seq))
                .where(d.c.status == "pending").order_by(d.c.destination, d.c.change_seq)).mappings()]
            seqs = [x["change_seq"] for x in deliveries]
            packages = self._rows_by_seq(conn, remote_package, seqs)
            applicants = self._rows_by_seq(conn, remote_applicant, seqs, many=True)
            materials = self._rows_by_seq(conn, remote_material, seqs, many=True)
        for x in deliveries:
            key = (x["source"], x["change_seq"])
            # The codes as validation read them (NFKC, no spaces, upper case): what routed it is what the receiver gets.
            x["package"] = {**{k.upper(): val for k, val in packages[key].items()}, "BWID": x["bwid"], "XZQH": x.pop("v_xzqh"),
                            "SJDWDM": x.pop("v_sjdwdm"), "YWLX": x.pop("v_business_type")}
            x["applicants"] = [{k.upper(): val for k, val in a.items()} for a in applicants.get(key, [])]
            x["materials"] = [{k.upper(): val for k, val in m.items()} for m in materials.get(key, [])]
        return deliveries

    @staticmethod
    def _rows_by_seq(conn, table, seqs: list[int], *, many: bool = False) -> dict:
        out: dict = {}
        order = [table.c.change_seq] + ([table.c.xh] if "xh" in table.c else [])
        for start in range(0, len(seqs), _CHUNK):
            for r in conn.execute(sa.select(table).where(table.c.change_seq.in_(seqs[start:start + _CHUNK])).order_by(*order)).mappings():
                row = {k: v for k, v in r.items() if k not in ("source", "change_seq", "run_id", "received_at")}
                key = (r["source"], r["change_seq"])
                if many:
                    out.setdefault(key, []).append(row)
                else:
                    out[key] = row
        return out

    def pending_remote_withdrawals(self) -> list[dict]:
        """Withdrawals to tell the receivers (sent versions whose BWID was withdrawn or moved)."""
        d = remote_delivery
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(d.c.idempotency_key, d.c.bwid, d.c.change_seq, d.c.destination, d.c.withdrawal_reason)
                .where(d.c.withdrawal == "pending").order_by(d.c.destination, d.c.change_seq)).mappings()]

    def record_remote_withdrawals(self, outcomes: list[dict], *, run_id: str, now: datetime) -> None:
        """`outcomes`: idempotency_key, status (delivered: withdrawn | rejected: refused | pending), code, reason."""
        d = remote_delivery
        with self.engine.begin() as conn:
            for o in outcomes:
                if o["status"] == "pending":
                    continue
                done = o["status"] == "delivered"
                values = {"withdrawal": "done" if done else "refused", "updated_at": now, "outcome_run_id": run_id}
                if done:
                    values["withdrawn_at"] = now
                else:
                    values["withdrawal_reason"] = f"{o.get('code') or ''} {o.get('reason') or ''}".strip()
                conn.execute(d.update().where(d.c.idempotency_key == o["idempotency_key"], d.c.withdrawal == "pending").values(**values))
            counts: dict[str, int] = {}
            for o in outcomes:
                counts[o["status"]] = counts.get(o["status"], 0) + 1
            self._audit(conn, run_id, "remote", "package_withdrawals_sent", "remote_delivery", None, counts)

    def record_remote_outcomes(self, outcomes: list[dict], *, run_id: str, now: datetime) -> None:
        """`outcomes`: idempotency_key, status (delivered | rejected | pending | failed), receipt_id, code, reason, attempts, files."""
        d = remote_delivery
        with self.engine.begin() as conn:
            for o in outcomes:
                attempts = int(o.get("attempts") or 0)
                values = {"attempts": d.c.attempts + attempts, "code": o.get("code"), "reason": o.get("reason"), "updated_at": now}
                if attempts:
                    values["first_sent_at"] = sa.func.coalesce(d.c.first_sent_at, now)
                if o["status"] == "delivered":
                    # "duplicate": the receiver has held it since an earlier attempt, whose answer was lost.
                    since = sa.func.coalesce(d.c.first_sent_at, now) if o.get("code") == "0201" else now
                    values.update(status="delivered", receipt_id=o.get("receipt_id"), files=int(o.get("files") or 0), delivered_at=since)
                elif o["status"] in ("rejected", "failed"):
                    values.update(status=o["status"], outcome_run_id=run_id)
                conn.execute(d.update().where(d.c.idempotency_key == o["idempotency_key"], d.c.status == "pending").values(**values))
            counts: dict[str, int] = {}
            for o in outcomes:
                counts[o["status"]] = counts.get(o["status"], 0) + 1
            self._audit(conn, run_id, "remote", "packages_sent", "remote_delivery", None, counts)

    def remote_deliveries(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(remote_delivery).order_by(remote_delivery.c.change_seq)).mappings()]

    # --- status events ------------------------------------------------------------------------

    def remote_feeds(self) -> list[str]:
        """Destinations something was sent to (delivered, or attempted: a receiver may hold what it did not confirm): the feeds to poll."""
        d = remote_delivery
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(d.c.destination).where(d.c.first_sent_at.is_not(None)).distinct().order_by(d.c.destination))]

    def remote_feed_cursor(self, feed: str) -> str | None:
        return self.cursor(FEED_PREFIX + feed)

    def remote_event_context(self, keys: list[str]) -> tuple[dict, set]:
        """({key: delivery}, {(key, status, at)} already accepted) for the keys a page of events names."""
        d, e = remote_delivery, remote_event
        wanted = sorted({k for k in keys if isinstance(k, str)})
        deliveries, held = {}, set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start:start + _CHUNK]
                deliveries.update({r["idempotency_key"]: dict(r) for r in conn.execute(
                    sa.select(d.c.idempotency_key, d.c.source, d.c.change_seq, d.c.bwid, d.c.destination, d.c.status, d.c.first_sent_at)
                    .where(d.c.idempotency_key.in_(part))).mappings()})
                held |= {(r[0], r[1], r[2]) for r in conn.execute(
                    sa.select(e.c.idempotency_key, e.c.status, e.c.at).where(e.c.accepted, e.c.idempotency_key.in_(part)))}
        return deliveries, held

    def save_remote_events(self, *, feed: str, rows: list[dict], cursor: str | None, run_id: str, now: datetime,
                           dead_letters: list[dict] = (), resolved: list[tuple[str, str]] = ()) -> None:
        """Store a page's events (as checked) and its dead letters, and move the feed's cursor — one transaction."""
        with self.engine.begin() as conn:
            for letter in dead_letters:
                self.dead_letter(**letter, run_id=run_id, conn=conn)
            for surface, key in resolved:
                self.resolve_dead_letters(surface, [key], resolution="read again and recorded", conn=conn)
            if rows:
                conn.execute(remote_event.insert(), [{**r, "feed": feed, "run_id": run_id, "received_at": now} for r in rows])
            if cursor is not None:
                source = FEED_PREFIX + feed
                if not conn.execute(result_source.update().where(result_source.c.source == source).values(cursor=cursor, updated_at=now)).rowcount:
                    conn.execute(result_source.insert(), {"source": source, "cursor": cursor, "updated_at": now})
            issues: dict[str, int] = {}
            for r in rows:
                if not r["accepted"]:
                    issues[r["issue"]] = issues.get(r["issue"], 0) + 1
            self._audit(conn, run_id, "remote", "package_events_received", "result_source", FEED_PREFIX + feed,
                        {"events": len(rows), "accepted": sum(bool(r["accepted"]) for r in rows), "issues": issues})

    def remote_events(self, *, accepted: bool | None = True, run_id: str | None = None) -> list[dict]:
        e = remote_event
        query = sa.select(e).order_by(e.c.event_id)
        if accepted is not None:
            query = query.where(e.c.accepted == accepted)
        if run_id is not None:
            query = query.where(e.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def remote_hall_notices(self, run_id: str):
        """Besides validation returns, what goes back to the halls for a run (pandas): the authorities'
        补正 / 不予受理 received in it, and deliveries refused or not sendable recorded in it."""
        import pandas as pd

        from connectors import sqlfiles

        with self.engine.connect() as conn:
            result = conn.execute(sa.text(sqlfiles.load("ledger/select_remote_run_hall_notices")), {"run_id": run_id})
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def remote_tracking_input(self):
        """(packages, events) as pandas frames: every package version in force or delivered, with its
        delivery and what tracking and the reports need; every accepted event."""
        import pandas as pd

        from connectors import sqlfiles

        with self.engine.connect() as conn:
            result = conn.execute(sa.text(sqlfiles.load("ledger/select_remote_tracking")))
            packages = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            result = conn.execute(sa.select(remote_event.c.source, remote_event.c.change_seq, remote_event.c.status, remote_event.c.at,
                                            remote_event.c.reason, remote_event.c.detail).where(remote_event.c.accepted))
            events = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        return packages, events

    # --- paper handover -----------------------------------------------------------------------

    def paper_originals(self):
        """Every paper original the halls owe (delivered package versions with SFZZYJ = 1), with
        its list and receipt if any (pandas; one row per original)."""
        import pandas as pd

        from connectors import sqlfiles

        with self.engine.connect() as conn:
            result = conn.execute(sa.text(sqlfiles.load("ledger/select_paper_originals")))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def create_handover_lists(self, lists: list[dict], *, run_id: str, now: datetime) -> list[dict]:
        """Insert lists (each with `items`: source, change_seq, xh, bwid, clbm, clmc, ys) in one transaction;
        returns them with their list_id. An original already on a list makes the whole call fail."""
        created = []
        with self.engine.begin() as conn:
            for lst in lists:
                items = lst["items"]
                head = {k: v for k, v in lst.items() if k != "items"}
                list_id = conn.execute(remote_handover.insert().returning(remote_handover.c.list_id),
                                       {**head, "created_at": now, "run_id": run_id}).scalar_one()
                conn.execute(remote_handover_item.insert(), [{**i, "list_id": list_id} for i in items])
                created.append({**lst, "list_id": list_id})
            self._audit(conn, run_id, "remote", "handover_lists_created", "remote_handover", None,
                        {"lists": [c["list_no"] for c in created], "originals": sum(len(c["items"]) for c in created)})
        return created

    def handover_lists(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(remote_handover).order_by(remote_handover.c.list_id)).mappings()]

    def handover_items(self, list_id: int) -> list[dict]:
        i, p = remote_handover_item, remote_package
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(i, p.c.sjsj, p.c.bdcdyh, p.c.zl, p.c.ywlx, p.c.sqbh)
                .join(p, sa.and_(p.c.source == i.c.source, p.c.change_seq == i.c.change_seq))
                .where(i.c.list_id == list_id).order_by(i.c.change_seq, i.c.xh)).mappings()]

    def record_handover_receipt(self, list_no: str, *, received_at: datetime, received_by: str, note: str | None, now: datetime) -> dict:
        """Record that the property county signed for a list. A second receipt for the same list is refused (ValueError)."""
        h = remote_handover
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(h).where(h.c.list_no == list_no)).mappings().first()
            if row is None:
                raise ValueError(f"no handover list {list_no!r}")
            if row["received_at"] is not None:
                raise ValueError(f"handover list {list_no} was already signed for on {row['received_at']:%Y-%m-%d %H:%M} by {row['received_by']}")
            if received_at < row["created_at"] + LOCAL_OFFSET - timedelta(minutes=1):
                raise ValueError(f"handover list {list_no}: receipt time {received_at:%Y-%m-%d %H:%M} is before the list was made")
            conn.execute(h.update().where(h.c.list_id == row["list_id"]).values(received_at=received_at, received_by=received_by, receipt_note=note,
                                                                               receipt_recorded_at=now))
            self._audit(conn, None, "remote", "handover_received", "remote_handover", list_no,
                        {"received_at": received_at.isoformat(), "received_by": received_by, "note": note})
            return {**dict(row), "received_at": received_at, "received_by": received_by, "receipt_note": note}


def detail_json(value: dict | None) -> str | None:
    return None if not value else json.dumps(value, ensure_ascii=False, sort_keys=True)
