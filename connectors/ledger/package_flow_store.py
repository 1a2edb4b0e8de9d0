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

from connectors.ledger.schema_remote import remote_delivery, remote_event, remote_handover, remote_handover_item
from connectors.ledger.statements import statement
from transforms.common.localtime import to_local

FEED_PREFIX = "packages:"
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
        import pandas as pd

        from connectors.package_receiver import package_key
        from transforms.remote.delivery_plan import plan_unsent, plan_withdrawals

        d = remote_delivery
        with self.engine.begin() as conn:
            new = conn.execute(statement("select_remote_deliveries_to_plan")).all()
            if new:
                conn.execute(d.insert(), [
                    {"source": r.source, "change_seq": r.change_seq, "bwid": r.bwid, "idempotency_key": package_key(r.bwid, r.change_seq),
                     "channel": r.channel, "destination": r.destination, "correction": bool(r.correction), "status": "pending",
                     "attempts": 0, "files": 0, "planned_run_id": run_id, "planned_at": now, "updated_at": now}
                    for r in new
                ])
            result = conn.execute(statement("select_remote_deliveries_left"))
            left = plan_unsent(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
            for r in left.to_dict("records"):
                conn.execute(statement("update_remote_delivery_stopped"), {**r, "change_seq": int(r["change_seq"]), "now": now})
            # Versions a receiver may hold that must stop there (transforms/remote/delivery_plan.py) — unless the
            # receiver already closed the version itself (不予受理 / 补正): then there is nothing to stop.
            result = conn.execute(statement("select_remote_deliveries_stale"))
            stale = plan_withdrawals(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
            for r in stale.to_dict("records"):
                conn.execute(statement("update_remote_withdrawal_planned"), {**r, "change_seq": int(r["change_seq"]), "now": now})
            summary = {"planned": len(new), "superseded": int((left["status"] != "withdrawn").sum()), "withdrawn": int((left["status"] == "withdrawn").sum()),
                       "withdrawals": len(stale)}
            self._audit(conn, run_id, "remote", "package_deliveries_planned", "remote_delivery", None, summary)
        return summary

    def mark_remote_sending(self, keys: list[str], *, now: datetime) -> None:
        """Before a batch goes: from now on the receiver may hold these (committed on its own, so a crash after sending keeps it)."""
        with self.engine.begin() as conn:
            for start in range(0, len(keys), _CHUNK):
                conn.execute(statement("update_remote_sending", expanding=("keys",)), {"keys": keys[start:start + _CHUNK], "now": now})

    def pending_remote_deliveries(self) -> list[dict]:
        """Every pending delivery with its package (upper-case exchange names), applicants and materials."""
        with self.engine.connect() as conn:
            deliveries = [dict(r) for r in conn.execute(statement("select_pending_remote_deliveries")).mappings()]
            return self._with_contents(conn, deliveries)

    def bwid_deliveries(self, bwid: str) -> list[dict]:
        """Every delivery of `bwid`'s package versions (any status), oldest version first, with its package, applicants and
        materials as `pending_remote_deliveries` gives them (replay: jobs/common/replay.py)."""
        with self.engine.connect() as conn:
            deliveries = [dict(r) for r in conn.execute(statement("select_remote_deliveries_of_bwid"), {"bwid": bwid}).mappings()]
            return self._with_contents(conn, deliveries)

    def record_remote_replay(self, *, run_id: str, operator: str, idempotency_key: str, attempts: int, detail: dict, now: datetime) -> None:
        """A package version sent again on purpose: its audit row (actor `replay`; who, why, the outcome in `detail`) and the
        attempts it spent, the way deliver counts them; status, receipt and delivery time stay as the first delivery left them."""
        with self.engine.begin() as conn:
            conn.execute(statement("update_remote_delivery_replayed"), {"idempotency_key": idempotency_key, "attempts": int(attempts)})
            self._audit(conn, run_id, "replay", "package_replayed", "remote_delivery", idempotency_key, {"operator": operator} | detail)

    def _with_contents(self, conn, deliveries: list[dict]) -> list[dict]:
        """`deliveries` each with its package (upper-case exchange names), applicants and materials."""
        seqs = [x["change_seq"] for x in deliveries]
        packages = self._rows_by_seq(conn, "select_remote_packages_of", seqs)
        applicants = self._rows_by_seq(conn, "select_remote_applicants_of", seqs, many=True)
        materials = self._rows_by_seq(conn, "select_remote_materials_of", seqs, many=True)
        for x in deliveries:
            key = (x["source"], x["change_seq"])
            # The codes as validation read them (NFKC, no spaces, upper case): what routed it is what the receiver gets.
            x["package"] = {**{k.upper(): val for k, val in packages[key].items()}, "BWID": x["bwid"], "XZQH": x.pop("v_xzqh"),
                            "SJDWDM": x.pop("v_sjdwdm"), "YWLX": x.pop("v_business_type")}
            x["applicants"] = [{k.upper(): val for k, val in a.items()} for a in self.unseal(applicants.get(key, []), "remote_applicant")]
            x["materials"] = [{k.upper(): val for k, val in m.items()} for m in materials.get(key, [])]
        return deliveries

    @staticmethod
    def _rows_by_seq(conn, name: str, seqs: list[int], *, many: bool = False) -> dict:
        out: dict = {}
        for start in range(0, len(seqs), _CHUNK):
            for r in conn.execute(statement(name, expanding=("seqs",)), {"seqs": seqs[start:start + _CHUNK]}).mappings():
                row = {k: v for k, v in r.items() if k not in ("source", "change_seq", "run_id", "received_at")}
                key = (r["source"], r["change_seq"])
                if many:
                    out.setdefault(key, []).append(row)
                else:
                    out[key] = row
        return out

    def pending_remote_withdrawals(self) -> list[dict]:
        """Withdrawals to tell the receivers (sent versions whose BWID was withdrawn or moved)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_pending_remote_withdrawals")).mappings()]

    def record_remote_withdrawals(self, outcomes: list[dict], *, run_id: str, now: datetime) -> None:
        """`outcomes`: idempotency_key, status (delivered: withdrawn | rejected: refused | pending), code, reason."""
        with self.engine.begin() as conn:
            for o in outcomes:
                if o["status"] == "pending":
                    continue
                key = {"idempotency_key": o["idempotency_key"], "now": now, "run_id": run_id}
                if o["status"] == "delivered":
                    conn.execute(statement("update_remote_withdrawal_done"), key)
                else:
                    conn.execute(statement("update_remote_withdrawal_refused"),
                                 key | {"withdrawal_reason": f"{o.get('code') or ''} {o.get('reason') or ''}".strip()})
            counts: dict[str, int] = {}
            for o in outcomes:
                counts[o["status"]] = counts.get(o["status"], 0) + 1
            self._audit(conn, run_id, "remote", "package_withdrawals_sent", "remote_delivery", None, counts)

    def record_remote_outcomes(self, outcomes: list[dict], *, run_id: str, now: datetime) -> None:
        """`outcomes`: idempotency_key, status (delivered | rejected | pending | failed), receipt_id, code, reason, attempts, files."""
        with self.engine.begin() as conn:
            for o in outcomes:
                status = o["status"] if o["status"] in ("delivered", "rejected", "failed") else "pending"
                conn.execute(statement("update_remote_delivery_outcome"), {
                    "idempotency_key": o["idempotency_key"], "attempts": int(o.get("attempts") or 0), "code": o.get("code"), "reason": o.get("reason"),
                    "now": now, "run_id": run_id, "receipt_id": o.get("receipt_id"), "files": int(o.get("files") or 0),
                    "status": status, "delivered": int(status == "delivered"), "closed": int(status in ("rejected", "failed")),
                    # "duplicate": the receiver has held it since an earlier attempt, whose answer was lost.
                    "duplicate": int(o.get("code") == "0201"),
                })
            counts: dict[str, int] = {}
            for o in outcomes:
                counts[o["status"]] = counts.get(o["status"], 0) + 1
            self._audit(conn, run_id, "remote", "packages_sent", "remote_delivery", None, counts)

    def remote_deliveries(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_remote_deliveries")).mappings()]

    # --- status events ------------------------------------------------------------------------

    def remote_feeds(self) -> list[str]:
        """Destinations something was sent to (delivered, or attempted: a receiver may hold what it did not confirm): the feeds to poll."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(statement("select_remote_feeds"))]

    def remote_feed_cursor(self, feed: str) -> str | None:
        return self.cohandling.cursor(FEED_PREFIX + feed)

    def remote_event_context(self, keys: list[str]) -> tuple[dict, set]:
        """({key: delivery}, {(key, status, at)} already accepted) for the keys a page of events names."""
        wanted = sorted({k for k in keys if isinstance(k, str)})
        deliveries, held = {}, set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start:start + _CHUNK]
                deliveries.update({r["idempotency_key"]: dict(r) for r in conn.execute(
                    statement("select_remote_deliveries_by_key", expanding=("keys",)), {"keys": part}).mappings()})
                held |= {(r[0], r[1], r[2]) for r in conn.execute(statement("select_remote_events_held", expanding=("keys",)), {"keys": part})}
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
                conn.execute(statement("upsert_cursor"), {"source": source, "cursor": cursor, "updated_at": now})
            issues: dict[str, int] = {}
            for r in rows:
                if not r["accepted"]:
                    issues[r["issue"]] = issues.get(r["issue"], 0) + 1
            self._audit(conn, run_id, "remote", "package_events_received", "result_source", FEED_PREFIX + feed,
                        {"events": len(rows), "accepted": sum(bool(r["accepted"]) for r in rows), "issues": issues})

    def remote_events(self, *, accepted: bool | None = True, run_id: str | None = None) -> list[dict]:
        query = statement("select_remote_events", types=(("accepted", sa.Boolean),))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query, {"accepted": accepted, "run_id": run_id}).mappings()]

    def remote_hall_notices(self, run_id: str):
        """Besides validation returns, what goes back to the halls for a run (pandas): the authorities'
        补正 / 不予受理 received in it, and deliveries refused or not sendable recorded in it."""
        import pandas as pd

        with self.engine.connect() as conn:
            result = conn.execute(statement("select_remote_run_hall_notices"), {"run_id": run_id})
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def remote_tracking_input(self, known_by: datetime | None = None):
        """(packages, events) as pandas frames: every package version in force or delivered, with its
        delivery and what tracking and the reports need; every accepted event. With `known_by` (UTC): the
        deliveries and status events as the ledger knew them then (package versions and verdicts: all)."""
        import pandas as pd

        from connectors.ledger.result_store import EVER

        bound = {"known_by": known_by or EVER}
        with self.engine.connect() as conn:
            result = conn.execute(statement("select_remote_tracking"), bound)
            packages = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            result = conn.execute(statement("select_remote_accepted_events"), bound)
            events = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        return packages, events

    def report_provenance(self, known_by: datetime) -> dict:
        """The newest package change the ledger holds and the newest status event it had received by `known_by` (UTC),
        with their recording times (UTC), and the ledger's URL with its password masked: what a remote-collection report saw."""
        types = (("newest_package_received_at", sa.DateTime), ("newest_event_received_at", sa.DateTime))
        with self.engine.connect() as conn:
            row = dict(conn.execute(statement("select_remote_report_provenance", types=types), {"known_by": known_by}).mappings().one())
        return {"ledger": self.engine.url.render_as_string(hide_password=True), **row}

    # --- paper handover -----------------------------------------------------------------------

    def paper_originals(self):
        """Every paper original the halls owe (delivered package versions with SFZZYJ = 1), with
        its list and receipt if any (pandas; one row per original)."""
        import pandas as pd

        with self.engine.connect() as conn:
            result = conn.execute(statement("select_paper_originals"))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def create_handover_lists(self, lists: list[dict], *, run_id: str, now: datetime) -> list[dict]:
        """Insert lists (each with `items`: source, change_seq, xh, bwid, clbm, clmc, ys) in one transaction;
        returns them with their list_id. An original already on a list makes the whole call fail."""
        created = []
        with self.engine.begin() as conn:
            for lst in lists:
                items = lst["items"]
                head = {k: v for k, v in lst.items() if k != "items"}
                list_id = conn.execute(statement("insert_remote_handover"),
                                       {c.name: head.get(c.name) for c in remote_handover.c} | {"created_at": now, "run_id": run_id}).scalar_one()
                conn.execute(remote_handover_item.insert(), [{**i, "list_id": list_id} for i in items])
                created.append({**lst, "list_id": list_id})
            self._audit(conn, run_id, "remote", "handover_lists_created", "remote_handover", None,
                        {"lists": [c["list_no"] for c in created], "originals": sum(len(c["items"]) for c in created)})
        return created

    def handover_lists(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_remote_handovers")).mappings()]

    def handover_items(self, list_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_remote_handover_items"), {"list_id": list_id}).mappings()]

    def record_handover_receipt(self, list_no: str, *, received_at: datetime, received_by: str, note: str | None, now: datetime) -> dict:
        """Record that the property county signed for a list. A second receipt for the same list is refused (ValueError)."""
        with self.engine.begin() as conn:
            row = conn.execute(statement("select_remote_handover_by_no"), {"list_no": list_no}).mappings().first()
            if row is None:
                raise ValueError(f"no handover list {list_no!r}")
            if row["received_at"] is not None:
                raise ValueError(f"handover list {list_no} was already signed for on {row['received_at']:%Y-%m-%d %H:%M} by {row['received_by']}")
            if received_at < to_local(row["created_at"]) - timedelta(minutes=1):
                raise ValueError(f"handover list {list_no}: receipt time {received_at:%Y-%m-%d %H:%M} is before the list was made")
            conn.execute(statement("update_remote_handover_received"), {"list_id": row["list_id"], "received_at": received_at, "received_by": received_by,
                                                                         "receipt_note": note, "receipt_recorded_at": now})
            self._audit(conn, None, "remote", "handover_received", "remote_handover", list_no,
                        {"received_at": received_at.isoformat(), "received_by": received_by, "note": note})
            return {**dict(row), "received_at": received_at, "received_by": received_by, "receipt_note": note}


def detail_json(value: dict | None) -> str | None:
    return None if not value else json.dumps(value, ensure_ascii=False, sort_keys=True)
