"""Handling results in the ledger (part of `Ledger`): files and feed cursors, every accepted
result, the exceptions list, each work-order version's outcome, and the SMS outbox."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.personal import BUYER_AS
from connectors.ledger.schema_cohandling import handling_result, result_exception, sms_outbox, work_order_outcome
from connectors.ledger.statements import nested, statement
from transforms.common.localtime import to_local

EVER = datetime(9999, 12, 31)  # `known_by` when not given: everything the ledger holds
_EXCEPTION_LIMITS = {"rowguid": 64, "utility": 16}  # result_exception's bounded columns: a longer value stays in `value` only
_INT32 = 2**31 - 1
CHUNK = 1000  # ROWGUIDs per IN list


def _fit_exception(problem: dict) -> dict:
    """An exceptions-list row the database always takes: text cleaned (no NUL, no lone surrogates),
    bounded columns emptied when the value does not fit (the value as sent stays in `value`), a row
    number beyond the column dropped (the position is in the reason)."""
    from transforms.common.text import clean

    out = dict(problem)
    for column in ("source", "rowguid", "utility", "reason_code", "reason", "value"):
        value = out.get(column)
        if isinstance(value, str):
            out[column] = clean(value.encode("utf-8", errors="replace").decode("utf-8"))
    for column, limit in _EXCEPTION_LIMITS.items():
        if isinstance(out.get(column), str) and len(out[column]) > limit:
            out[column] = None
    out["reason_code"] = (out.get("reason_code") or "")[:40]
    row = out.get("row_number")
    if not (isinstance(row, int) and -_INT32 - 1 <= row <= _INT32):
        out["row_number"] = None
    return out


class ResultStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine

    def delivered_versions(self):
        """Every delivered work-order version: rowguid, utility, version, channel, destination, delivered_at (local time)."""
        import pandas as pd

        with self.engine.connect() as conn:
            result = conn.execute(statement("select_delivered_versions"))
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        if len(frame):
            frame["delivered_at"] = to_local(pd.to_datetime(frame["delivered_at"]))
            frame["version"] = frame["version"].astype(int)
        return frame

    def outcomes(self):
        import pandas as pd

        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_outcomes")).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in work_order_outcome.columns])

    def known_of(self, rowguids: list[str]):
        """`delivered_versions()` and `outcomes()` for these ROWGUIDs only (IN lists of CHUNK): what a results file or feed
        page naming them is checked against (transforms/cohandling/result_files.py `KnownWorkOrders`)."""
        import pandas as pd

        keys = sorted({r for r in rowguids if isinstance(r, str) and r})
        found, outcomes = [], []
        with self.engine.connect() as conn:
            for start in range(0, len(keys), CHUNK):
                part = {"rowguids": keys[start:start + CHUNK]}
                result = conn.execute(statement("select_delivered_versions_of", expanding=("rowguids",)), part)
                columns = list(result.keys())
                found += result.fetchall()
                outcomes += [dict(r) for r in conn.execute(statement("select_outcomes_of", expanding=("rowguids",)), part).mappings()]
        deliveries = pd.DataFrame(found, columns=columns if keys else
                                  ["rowguid", "utility", "version", "channel", "destination", "delivered_at", "order_status", "order_version"])
        if len(deliveries):
            deliveries["delivered_at"] = to_local(pd.to_datetime(deliveries["delivered_at"]))
            deliveries["version"] = deliveries["version"].astype(int)
        return deliveries, pd.DataFrame(outcomes, columns=[c.name for c in work_order_outcome.columns])

    def delivered_destinations(self) -> list[tuple[str, str]]:
        """Every (channel, destination) a work-order version was or may have been sent to: the drops results files are
        collected from, the feeds polled."""
        with self.engine.connect() as conn:
            return sorted((r[0], r[1]) for r in conn.execute(statement("select_delivered_destinations")))

    def result_file_seen(self, source: str, sha256: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(statement("select_result_file_seen"), {"source": source, "sha256": sha256}).first() is not None

    def sight_inbox_file(self, source: str, name_key: str, *, size: int, mtime: int, now: datetime) -> tuple[datetime, datetime]:
        """Note a file seen in a drop's inbox; returns (first seen under this name, first seen with this size and mtime)."""
        with self.engine.begin() as conn:
            row = conn.execute(statement("select_inbox_sighting"), {"source": source, "name_key": name_key}).mappings().first()
            if row is None:
                if conn.execute(statement("insert_inbox_sighting"), {"source": source, "name_key": name_key, "size": size, "mtime": mtime, "now": now}).rowcount:
                    return now, now
                row = conn.execute(statement("select_inbox_sighting"), {"source": source, "name_key": name_key}).mappings().one()
            stable = row["stable_since"] if (row["size"], row["mtime"]) == (size, mtime) else now
            conn.execute(statement("update_inbox_sighting"),
                         {"source": source, "name_key": name_key, "size": size, "mtime": mtime, "stable_since": stable, "last_seen_at": now})
            return row["first_seen_at"], stable

    def forget_inbox_file(self, source: str, name_key: str) -> None:
        """The file left the inbox (read, refused, or moved aside): its sightings go."""
        with self.engine.begin() as conn:
            conn.execute(statement("delete_inbox_sighting"), {"source": source, "name_key": name_key})

    def cursor(self, source: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(statement("select_cursor"), {"source": source}).scalar_one_or_none()

    def save_results(self, *, source: str, accepted, problems: list[dict], now: datetime, file: dict | None = None, cursor: str | None = None,
                     run_id: str | None = None, dead_letters: list[dict] = (), resolved: list[tuple[str, str]] = ()) -> int | None:
        """Record one file's or one feed page's results, exceptions and outcomes — one transaction. Returns the file id.

        `dead_letters`: units set aside (DeadLetterStore.dead_letter's keywords), kept in the same
        transaction as the cursor that moves past them; `resolved`: (surface, unit_key) dead letters
        that this save settles (a feed page read at last)."""
        with self.engine.begin() as conn:
            for letter in dead_letters:
                self.dead_letter(**letter, run_id=run_id, conn=conn)
            for surface, key in resolved:
                self.resolve_dead_letters(surface, [key], resolution="read again and recorded", conn=conn)
            file_id = None
            if file is not None:
                file_id = conn.execute(statement("insert_result_file"), {
                    "source": source, "name": file["name"], "sha256": file["sha256"], "size": file["size"],
                    "status": "rejected" if file.get("reason") else "processed", "rows": file.get("rows", 0), "accepted": len(accepted),
                    "exceptions": len(problems), "reason": file.get("reason"), "received_at": now,
                }).scalar_one()
            if len(accepted):
                accepted = accepted.astype(object).where(accepted.notna(), None)  # NaN would reach PostgreSQL as the text 'NaN'
                conn.execute(handling_result.insert(), [
                    {"rowguid": a["rowguid"], "utility": a["utility"], "version": int(a["version"]), "source": source, "result": a["result"],
                     "code": a["code"], "reason": a["reason"], "handled_at": a["handled_at"], "handler": a["handler"], "file_id": file_id,
                     "feed_seq": a["row"] if file is None else None, "received_at": now}
                    for a in accepted.to_dict("records")
                ])
                self._apply_outcomes(conn, accepted, source=source, now=now)
            if problems:
                conn.execute(result_exception.insert(),
                             self.seal([{**_fit_exception(p), "file_id": file_id, "received_at": now} for p in problems], "result_exception"))
            if cursor is not None:
                conn.execute(statement("upsert_cursor"), {"source": source, "cursor": cursor, "updated_at": now})
            self._audit(conn, run_id, "results", "results_received", "result_file" if file else "result_source", file_id or source,
                        {"source": source, "accepted": len(accepted), "exceptions": len(problems), **({"file": file["name"]} if file else {})})
        return file_id

    @staticmethod
    def _apply_outcomes(conn, accepted, *, source: str, now: datetime) -> None:
        """First acknowledgement and first final result of each version win (later ones were screened
        out as duplicates or conflicts). Set-based: one read of the versions concerned, then bulk writes."""
        rows = accepted.sort_values("handled_at").to_dict("records")
        keys = {(a["rowguid"], a["utility"], int(a["version"])) for a in rows}
        current: dict[tuple, dict] = {}
        rowguids = sorted({k[0] for k in keys})
        for start in range(0, len(rowguids), 500):
            for r in conn.execute(statement("select_outcomes_of", expanding=("rowguids",)), {"rowguids": rowguids[start:start + 500]}).mappings():
                if (r["rowguid"], r["utility"], r["version"]) in keys:
                    current[(r["rowguid"], r["utility"], r["version"])] = dict(r)
        new: dict[tuple, dict] = {}
        for a in rows:
            key = (a["rowguid"], a["utility"], int(a["version"]))
            state = current.get(key) or new.setdefault(key, {"rowguid": key[0], "utility": key[1], "version": key[2], "acknowledged_at": None, "result": None,
                                                           "code": None, "reason": None, "handled_at": None, "handler": None, "source": None, "updated_at": now})
            if state["acknowledged_at"] is None:
                state["acknowledged_at"] = a["handled_at"]
                state["_changed"] = True
            if a["result"] != "received" and state["result"] is None:
                state.update(result=a["result"], code=a["code"], reason=a["reason"], handled_at=a["handled_at"], handler=a["handler"], source=source, _changed=True)
        columns = [c.name for c in work_order_outcome.columns]
        if new:
            conn.execute(work_order_outcome.insert(), [{c: s.get(c) for c in columns} | {"updated_at": now} for s in new.values()])
        changed = [s for s in current.values() if s.pop("_changed", False)]
        if changed:
            conn.execute(
                statement("update_outcome", types=(("v_acknowledged_at", sa.DateTime), ("v_handled_at", sa.DateTime), ("v_updated_at", sa.DateTime))),
                [{"k_rowguid": s["rowguid"], "k_utility": s["utility"], "k_version": s["version"],
                  **{f"v_{name}": s.get(name) for name in ("acknowledged_at", "result", "code", "reason", "handled_at", "handler", "source")}, "v_updated_at": now}
                 for s in changed],
            )

    def open_dead_letter_seen(self, surface: str, unit_key: str) -> int:
        """How often an open dead letter was met (0: none open): how many reads a feed page has failed."""
        from connectors.ledger.deadletter_store import _clip_key

        with self.engine.connect() as conn:
            return int(conn.execute(statement("select_open_dead_letter_seen"), {"surface": surface, "unit_key": _clip_key(unit_key)}).scalar() or 0)

    def feed_page_unreadable(self, *, surface: str, unit_key: str, **letter) -> int:
        """Keep (or count again) an unreadable feed page as a dead letter; returns how many reads it has
        failed. One an operator had resolved (to have it read again) is reopened, counting from 1."""
        from connectors.ledger.deadletter_store import _clip_key

        with self.engine.begin() as conn:
            new = self.dead_letter(surface=surface, unit_key=unit_key, conn=conn, **letter)
            key = {"surface": surface, "unit_key": _clip_key(unit_key)}
            if not new:
                conn.execute(statement("update_dead_letter_reopened"), key)
            return int(conn.execute(statement("select_dead_letter_seen"), key).scalar_one())

    def notification_candidates(self, *, after: tuple[str, str, int] | None = None, page: int = 50_000):
        """Final outcomes with no SMS queued yet, with what the text needs (buyer phone, certificate, institution): the
        `page` after the key `after` (rowguid, utility, version; None: from the first), in key order — a day's million
        results are not read at once."""
        import pandas as pd

        rowguid, utility, version = after or ("", "", -1)
        with self.engine.connect() as conn:
            result = conn.execute(statement("select_notification_candidates"), {"rowguid": rowguid, "utility": utility, "version": version, "page": page})
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        return self.unseal(frame, "received_record", names=BUYER_AS)  # the SMS goes to the buyer's clear number

    def queue_sms(self, messages: list[dict], *, now: datetime) -> int:
        if not messages:
            return 0
        with self.engine.begin() as conn:
            conn.execute(sms_outbox.insert(), self.seal([{**m, "status": "queued", "created_at": now} for m in messages], "sms_outbox"))
        return len(messages)

    def result_exceptions(self, since: datetime | None = None, *, known_by: datetime | None = None):
        """The results exceptions list (received since `since`, by `known_by`; both UTC, None: no bound)."""
        import pandas as pd

        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_result_exceptions"), {"since": since, "known_by": known_by or EVER}).mappings().all()
        return self.unseal(pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in result_exception.columns]), "result_exception")

    def reconciliation_input(self, known_by: datetime | None = None):
        """Every work order in force with its delivery, outcome, place and applicant fields (reconciliation's input) — as the
        ledger knew them at `known_by` (UTC; None: now): the newest version routed by then, and only the deliveries,
        cancellations and handling results recorded by then (a result counts from its `received_at`, not its `handled_at`)."""
        import pandas as pd

        return pd.concat(list(self.reconciliation_input_parts(known_by)), ignore_index=True)

    def reconciliation_input_parts(self, known_by: datetime | None = None, *, rows: int = 200_000):
        """`reconciliation_input` as frames of at most `rows` work orders, read as they are used (a server-side cursor on
        PostgreSQL): what a reconciliation of millions of work orders holds at once is one part, not the statement's whole
        answer. Each row stands alone (transforms/cohandling/reconcile.py), so any split reconciles the same. At least one
        frame, empty when there is nothing. The read transaction stays open while the caller works on each part (seconds
        for a part of 50,000; a report or reminder run, never a DAG's writers' lock): `close()` the generator on error."""
        import pandas as pd

        with self.engine.connect() as conn:
            if self.dialect == "postgresql":  # a cursor is planned for its first rows unless told: this one is read whole
                conn.execute(statement("set_cursor_whole_answer"))
            result = conn.execution_options(stream_results=True, yield_per=rows).execute(
                nested("reconciliation_of_versions", "reconciliation_in_force_all"), {"known_by": known_by or EVER})
            columns, given = list(result.keys()), False
            for part in result.partitions(rows):
                given = True
                yield self._reconciliation_frame(pd.DataFrame(part, columns=columns))
            if not given:
                yield self._reconciliation_frame(pd.DataFrame([], columns=columns))

    def _reconciliation_frame(self, frame):
        import pandas as pd

        frame = self.unseal(frame, "received_record", names=BUYER_AS)
        frame["delivered_at"] = to_local(pd.to_datetime(frame["delivered_at"]))
        for column in ("handled_at", "acknowledged_at"):
            frame[column] = pd.to_datetime(frame[column])
        return frame

    def report_provenance(self, known_by: datetime) -> dict:
        """The newest platform change (change_seq) and handling result (result_id) recorded by `known_by` (UTC), with
        their recording times (UTC), and the ledger's URL with its password masked: what a report as of then saw."""
        types = (("newest_change_received_at", sa.DateTime), ("newest_result_received_at", sa.DateTime))
        with self.engine.connect() as conn:
            row = dict(conn.execute(statement("select_report_provenance", types=types), {"known_by": known_by}).mappings().one())
        return {"ledger": self.engine.url.render_as_string(hide_password=True), **row}

    def record_counts_at(self, known_by: datetime) -> tuple[dict[str, int], int]:
        """(records by the state of their version in force, records with a work order) as the ledger knew them at `known_by` (UTC)."""
        with self.engine.connect() as conn:
            states = {status: int(n) for status, n in conn.execute(statement("select_record_state_counts_at"), {"known_by": known_by})}
            ordered = int(conn.execute(statement("count_records_with_work_orders_at"), {"known_by": known_by}).scalar_one())
        return states, ordered

    def sms(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(statement("select_sms")).mappings()]
        return self.unseal(rows, "sms_outbox")  # the sender's queue: the clear number it sends to
