"""The reminder and stuck-delivery statements on PostgreSQL: a week's reminders planned once (a second plan, as from a
re-run or another worker, inserts nothing), recorded, superseded by the next week's when unsent; what deliver still owes
counted by receiver."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.ledger import Ledger


def test_reminders_are_planned_once_per_week_and_superseded_on_postgresql(pg_schema_url):
    ledger = Ledger(pg_schema_url())
    ledger.migrate()
    now = datetime(2026, 11, 30, 1, 0)
    plans = [{"channel": "account", "destination": "drop_a", "name": "CB2026W49", "file_format": "xlsx", "institution_code": "X", "xzqh": None,
              "items": [{"GDBH": "a:water:1"}]},
             {"channel": "system", "destination": "county_system_370102", "name": "reminder:2026-W49:county_system_370102", "items": [{"GDBH": "b:gas:1"}]}]
    assert ledger.cohandling.plan_reminders("2026-W49", plans, run_id="r1", now=now) == {"week": "2026-W49", "planned": 2, "already": 0, "superseded": 0}
    assert ledger.cohandling.plan_reminders("2026-W49", plans, run_id="r2", now=now)["planned"] == 0
    open_ = ledger.cohandling.open_reminders("2026-W49")
    assert [(r["channel"], r["items"]) for r in open_] == [("account", [{"GDBH": "a:water:1"}]), ("system", [{"GDBH": "b:gas:1"}])]
    ledger.cohandling.record_reminder(open_[0], run_id="r1", status="sent", error=None, receipt={"path": "/drop_a/outbox/CB2026W49"}, now=now)
    ledger.cohandling.record_reminder(open_[1], run_id="r1", status="pending", error="ConnectError", receipt=None, now=now)
    assert [(r["status"], r["attempts"]) for r in ledger.cohandling.reminders("2026-W49")] == [("sent", 1), ("pending", 1)]
    assert ledger.cohandling.plan_reminders("2026-W50", plans[:1], run_id="r3", now=now + timedelta(days=7))["superseded"] == 1
    assert {(r["week"], r["channel"]): r["status"] for r in ledger.cohandling.reminders()} == {
        ("2026-W49", "account"): "sent", ("2026-W49", "system"): "superseded", ("2026-W50", "account"): "pending"}
    assert ledger.cohandling.stuck_deliveries(now) == []  # nothing routed: nothing owed
    ledger.dispose()
