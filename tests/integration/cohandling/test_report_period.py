"""A period's report keeps the work orders delivered before the period that are still open: an order sent last
month and overdue today is on today's overdue list (公示), not lost for having been sent early. Settled orders
delivered before the period stay in their own period. A SQLite ledger built by tests/integration/pipeline.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd

from connectors.ledger import utcnow
from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.collect_results import period_orders, reconcile_now, write_period_report
from jobs.cohandling.deliver_orders import deliver_run
from tests.integration.pipeline import AS_OF, routed_ledger


def test_open_orders_delivered_before_the_period_stay_on_the_overdue_list(tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=80, seed=17)
    try:
        drops, made = LocalDrops(tmp_path / "drops"), {}
        deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops,
                    receiver_for=lambda channel, destination: made.setdefault(destination, FakeReceiver(destination)))
        delivered = [d for d in ledger.cohandling.deliveries() if d["status"] == "delivered"]
        assert len(delivered) > 20
        # Three weeks on, nothing answered: every delivered order is overdue; the period starts after they were sent.
        as_of = utcnow() + timedelta(hours=8) + timedelta(days=21)
        first, last = (as_of - timedelta(days=6)).date(), as_of.date()
        statuses = reconcile_now(ledger, as_of=as_of)
        overdue = statuses[statuses["status"] == "overdue"]
        assert len(overdue) == len(delivered)
        assert (pd.to_datetime(overdue["delivered_at"]) < pd.Timestamp(first)).all()

        meta = write_period_report(ledger, first=first, last=last, as_of=as_of, out_dir=tmp_path / "report")
    finally:
        ledger.dispose()

    listed = pd.read_csv(meta["files"]["csv:超期清单"], encoding="utf-8-sig", dtype=str)
    assert len(listed) == len(delivered)
    assert sorted(listed["标识码(ROWGUID)"] + ":" + listed["业务类型(utility)"].str.extract(r"（(\w+)）")[0]) == sorted(
        f"{d['rowguid']}:{d['utility']}" for d in delivered)
    assert meta["statuses"]["overdue"] == len(delivered)
    summary = pd.read_csv(meta["files"]["csv:汇总"], encoding="utf-8-sig", dtype=str).set_index("代码(code)")
    # the balance holds with them in: delivered = done + done_late + rejected + open
    assert int(summary.at["delivered_total", "合计(total)"]) == int(summary.at["open", "合计(total)"]) == len(delivered)
    assert json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))["statuses"]["overdue"] == len(delivered)


def test_settled_orders_delivered_before_the_period_are_left_to_their_own_period():
    before, inside = pd.Timestamp("2026-11-03 10:00"), pd.Timestamp("2026-11-12 10:00")
    statuses = pd.DataFrame({
        "rowguid": ["A", "B", "C", "D", "E", "F", "G"],
        "status": ["overdue", "acknowledged", "done", "rejected", "done", "pending", "delivered"],
        "delivered_at": [before, before, before, before, inside, pd.NaT, pd.Timestamp("2026-12-02 10:00")],
    })
    kept = period_orders(statuses, first=pd.Timestamp("2026-11-10").date(), last=pd.Timestamp("2026-11-30").date())
    # open and early: kept; settled and early: not; in the period: kept; not delivered: kept; after the period: not
    assert kept["rowguid"].tolist() == ["A", "B", "E", "F"]
