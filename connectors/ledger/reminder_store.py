"""Weekly overdue reminders in the ledger (part of `Ledger.cohandling`): one row per ISO week and recipient
(`overdue_reminder`, key week + channel + destination), planned once — a re-run, a retry or a second worker
planning the same week inserts nothing (ON CONFLICT DO NOTHING) — with its overdue work orders fixed as JSON
when planned, so a retry sends exactly what the first attempt did. Unsent reminders of earlier weeks are
superseded by the new week's. Every plan and attempt is in the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.statements import statement


class ReminderStore:
    """Mixed into the co-handling line: plan, hand out and record overdue reminders."""

    engine: sa.Engine

    def reminder_order_facts(self) -> list[dict]:
        """rowguid, utility, version, account_no and YCYWH of every delivered work order in force."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_reminder_order_facts")).mappings()]

    def plan_reminders(self, week: str, reminders: list[dict], *, run_id: str, now: datetime) -> dict:
        """Plan this week's reminders (each: channel, destination, name, file_format, institution_code, xzqh, items) that are not
        planned yet, and supersede earlier weeks' unsent ones — one transaction. Returns {"planned", "already", "superseded"}."""
        with self.engine.begin() as conn:
            superseded = conn.execute(statement("update_reminders_superseded"), {"week": week, "now": now}).rowcount
            planned = 0
            for r in reminders:
                planned += conn.execute(statement("insert_overdue_reminder"), {
                    "week": week, "channel": r["channel"], "destination": r["destination"], "name": r["name"], "file_format": r.get("file_format"),
                    "institution_code": r.get("institution_code"), "xzqh": r.get("xzqh"), "records": len(r["items"]),
                    "items": json.dumps(r["items"], ensure_ascii=False, sort_keys=True), "run_id": run_id, "now": now,
                }).rowcount
            summary = {"week": week, "planned": planned, "already": len(reminders) - planned, "superseded": superseded}
            self._audit(conn, run_id, "remind", "reminders_planned", "overdue_reminder", week, summary)
        return summary

    def open_reminders(self, week: str) -> list[dict]:
        """The week's reminders not sent yet, their items decoded, by channel and destination."""
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(statement("select_open_reminders"), {"week": week}).mappings()]
        for r in rows:
            r["items"] = json.loads(r["items"])
        return rows

    def record_reminder(self, reminder: dict, *, run_id: str, status: str, error: str | None, receipt: dict | None, now: datetime) -> None:
        """One attempt: `sent`, `pending` (sent again next run) or `failed` (for good)."""
        key = {"week": reminder["week"], "channel": reminder["channel"], "destination": reminder["destination"]}
        with self.engine.begin() as conn:
            conn.execute(statement("update_reminder_attempt"), key | {
                "status": status, "last_error": error, "receipt": json.dumps(receipt, ensure_ascii=False) if receipt else None,
                "sent_at": now if status == "sent" else None, "now": now})
            self._audit(conn, run_id, "remind", f"reminder_{status}", "overdue_reminder", f"{key['week']}:{key['channel']}:{key['destination']}",
                        {"error": error, "receipt": receipt, "records": reminder.get("records")})

    def reminders(self, week: str | None = None) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_reminders"), {"week": week}).mappings()]
