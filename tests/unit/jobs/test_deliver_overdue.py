"""Deliver does all it can, then fails when work stays unconfirmed by its receivers past the set age, naming each
receiver and its count (jobs/cohandling/deliver_orders.py `stuck_after`); the age is a setting with a default."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.ledger import utcnow
from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.deliver_orders import DeliveryOverdue, deliver_run
from jobs.common.settings import deliver_pending_after
from tests.integration.pipeline import AS_OF, routed_ledger

DAY = timedelta(hours=24)


@pytest.fixture
def ledger(tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=61)
    yield ledger
    ledger.dispose()


def _pending(ledger) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in ledger.cohandling.deliveries():
        if d["status"] == "pending":
            counts[d["destination"]] = counts.get(d["destination"], 0) + 1
    return counts


def test_work_left_pending_past_the_age_fails_deliver_after_everything_else_went_out(ledger, tmp_path):
    orders = ledger.cohandling.work_orders()
    dead_county = sorted({w["destination"] for w in orders if w["channel"] == "system" and w["status"] == "ready"})[0]
    dead_drop = sorted({w["destination"] for w in orders if w["channel"] == "account" and w["status"] == "ready"})[0]
    (tmp_path / "drops" / dead_drop).mkdir(parents=True)
    (tmp_path / "drops" / dead_drop / "outbox").write_text("not a folder")  # the drop cannot take a batch: OSError, pending
    made: dict[str, FakeReceiver] = {}

    def receiver_for(channel: str, destination: str) -> FakeReceiver:
        return made.setdefault(destination, FakeReceiver(destination, unreachable=destination == dead_county))

    drops = LocalDrops(tmp_path / "drops")
    fresh = deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=receiver_for, stuck_after=DAY)  # just routed: green
    assert fresh.stuck == [] and fresh.http_pending > 0 and fresh.account_pending == 1
    pending = _pending(ledger)
    assert set(pending) == {dead_county, dead_drop}  # one bad receiver stopped nobody else

    with pytest.raises(DeliveryOverdue) as failed:
        deliver_run(ledger, run_id="r2", day=AS_OF, drops=drops, receiver_for=receiver_for, stuck_after=DAY, now=utcnow() + timedelta(hours=25))
    text = str(failed.value)
    assert text.startswith("投递超时未完成 / deliveries unconfirmed longer than 24 h:")
    assert f"system {dead_county}: {pending[dead_county]} 工单 work orders pending since" in text
    assert f"account {dead_drop} " in text and f": {pending[dead_drop]} 工单 work orders pending since" in text
    assert "at 2 receivers" in text and "cannot reach the receiver" in text and "FileExistsError" in text
    stuck = {s["destination"]: int(s["units"]) for s in failed.value.result.stuck}
    assert stuck == pending
    held = {k for r in made.values() for k in r.held}
    delivered = {f"{d['rowguid']}:{d['utility']}:{d['version']}" for d in ledger.cohandling.deliveries()
                 if d["channel"] != "account" and d["status"] == "delivered"}
    assert held == delivered and len(delivered) > 0

    made[dead_county].unreachable = False  # both come back: the next run delivers and is green
    (tmp_path / "drops" / dead_drop / "outbox").unlink()
    back = deliver_run(ledger, run_id="r3", day=AS_OF, drops=drops, receiver_for=receiver_for, stuck_after=DAY, now=utcnow() + timedelta(hours=49))
    assert back.stuck == [] and _pending(ledger) == {}


def test_the_age_is_a_setting_with_a_default(monkeypatch):
    monkeypatch.delenv("GATEWAY_DELIVER_PENDING_HOURS", raising=False)
    assert deliver_pending_after() == timedelta(hours=24)
    monkeypatch.setenv("GATEWAY_DELIVER_PENDING_HOURS", "6.5")
    assert deliver_pending_after() == timedelta(hours=6.5)
    monkeypatch.setenv("GATEWAY_DELIVER_PENDING_HOURS", "a day")
    with pytest.raises(ValueError, match="GATEWAY_DELIVER_PENDING_HOURS='a day': a number of hours"):
        deliver_pending_after()
