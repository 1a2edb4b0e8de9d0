"""Reading one record's or one package's whole trail for `trace` (jobs/common/trace.py): every lookup by the
key's own index where the ledger has one — record_state, work_order(_version), delivery, work_order_cancel,
work_order_outcome, sms_outbox by ROWGUID (primary keys or unique keys), handling_result by its
(rowguid, utility, version) index, rule_failure / remote_failure / remote_event / remote_handover_item by
(source, change_seq), remote_package_state by BWID.

received_record by ROWGUID (all versions of a record, including quarantined ones that were never routed) and by
YCYWH, result_exception by ROWGUID and remote_package by BWID have their indexes since migration 0016. One lookup
has none and scans its table (`UNINDEXED`): the weekly reminders' items (JSON) by a LIKE on the ROWGUID (one row per
recipient and week).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from connectors.ledger.personal import BUYER_AS
from connectors.ledger.statements import nested, statement

# What a lookup of the trace reads without an index (the report and README say so; a migration may add them).
UNINDEXED: tuple[str, ...] = ("overdue_reminder(items LIKE)",)


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching itself only (escape character '!')."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _frame(result) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class TraceStore:
    """The trace's reads (mixed into Ledger)."""

    def trace_find(self, key: str) -> tuple[str | None, list[str]]:
        """(kind, matches) for `key`: ("rowguid", [key]) | ("ycywh", [ROWGUID, …]) | ("bwid", [key]) | (None, [])."""
        with self.engine.connect() as conn:
            if conn.execute(statement("trace_find_record"), {"key": key}).first():
                return "rowguid", [key]
            if conn.execute(statement("trace_find_package"), {"key": key}).first():
                return "bwid", [key]
            rows = conn.execute(statement("trace_find_received"), {"key": key}).fetchall()
            if any(r[0] == key for r in rows):
                return "rowguid", [key]
            if rows:
                return "ycywh", sorted({r[0] for r in rows if r[1] == key})
            if conn.execute(statement("trace_find_package_received"), {"key": key}).first():
                return "bwid", [key]
        return None, []

    def trace_record_frames(self, rowguids: list[str], *, known_by: datetime) -> dict[str, pd.DataFrame]:
        """Every row of the records' trail, one frame per kind (transforms/common/trail.py `assemble` reads them);
        `known_by` (UTC) bounds the work-order status (`reconciliation`), as reports as of a time see it."""
        keys = {"rowguids": list(rowguids)}
        out: dict[str, pd.DataFrame] = {}
        with self.engine.connect() as conn:
            for name in ("received", "work_orders", "deliveries", "cancels", "results", "exceptions", "sms"):
                out[name] = _frame(conn.execute(statement(f"trace_{name}", expanding=("rowguids",)), keys))
            failures = []
            for source, seqs in out["received"].groupby("source")["change_seq"] if len(out["received"]) else []:
                failures.append(_frame(conn.execute(statement("trace_rule_failures", expanding=("seqs",)),
                                                    {"source": source, "seqs": [int(s) for s in seqs]})))
            out["failures"] = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
            reminders = [_frame(conn.execute(statement("trace_reminders"), {"pattern": f"%{_like(rowguid)}%"})) for rowguid in rowguids]
            out["reminders"] = pd.concat(reminders, ignore_index=True).drop_duplicates(["week", "channel", "destination"]) if reminders else pd.DataFrame()
            out["reconciliation"] = _frame(conn.execute(nested("reconciliation_of_versions", "reconciliation_in_force_rowguids", expanding=("rowguids",)),
                                                        {**keys, "known_by": known_by}))
        # clear values for the trail, which masks them (transforms/common/trail.py) — never shown as stored
        for name, table in (("received", "received_record"), ("failures", "rule_failure"), ("exceptions", "result_exception"), ("sms", "sms_outbox")):
            out[name] = self.unseal(out[name], table)
        out["reconciliation"] = self.unseal(out["reconciliation"], "received_record", names=BUYER_AS)
        return out

    def trace_package_frames(self, bwids: list[str]) -> dict[str, pd.DataFrame]:
        """Every row of the packages' trail: versions with verdict and delivery, failures, status events, handover."""
        out: dict[str, pd.DataFrame] = {}
        with self.engine.connect() as conn:
            out["packages"] = _frame(conn.execute(statement("trace_packages", expanding=("bwids",)), {"bwids": list(bwids)}))
            parts: dict[str, list[pd.DataFrame]] = {"package_failures": [], "package_events": [], "package_handover": []}
            for source, seqs in out["packages"].groupby("source")["change_seq"] if len(out["packages"]) else []:
                params = {"source": source, "seqs": [int(s) for s in seqs]}
                for name in parts:
                    parts[name].append(_frame(conn.execute(statement(f"trace_{name}", expanding=("seqs",)), params)))
            for name, frames in parts.items():
                out[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        out["package_failures"] = self.unseal(out["package_failures"], "remote_failure")
        return out
