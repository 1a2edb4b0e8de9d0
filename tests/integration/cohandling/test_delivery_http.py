"""System-mode and grid delivery over HTTP against the receiver simulators, through the
ledger: every work order accepted exactly once on the receiving side, whatever fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from connectors.http_receiver import HttpReceiver
from jobs.cohandling.deliver_orders import deliver_run
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration.pipeline import AS_OF, ROOT, routed_ledger

KEY, SECRET = "gw-test", "s3cret-for-tests-only"


@pytest.fixture
def receivers(tmp_path):
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as process:
        yield process


def _receiver_for(process: ReceiverProcess, **kw):
    options = {"timeout_s": 0.5, "max_attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.2} | kw

    def make(channel: str, destination: str) -> HttpReceiver:
        url = process.grid_url() if channel == "grid" else process.county_url(destination.removeprefix("county_system_"))
        return HttpReceiver(url, KEY, SECRET, **options)

    return make


def _http(ledger) -> list[dict]:
    return [d for d in ledger.cohandling.deliveries() if d["channel"] in ("system", "grid")]


def _assert_exactly_once(ledger, process: ReceiverProcess) -> None:
    """What the receivers hold is exactly what the ledger says was delivered: each key once."""
    accepted = process.accepted()
    keys = [a["idempotency_key"] for a in accepted]
    assert len(keys) == len(set(keys))
    delivered = {f"{d['rowguid']}:{d['utility']}:{d['version']}" for d in _http(ledger) if d["status"] == "delivered"}
    assert set(keys) == delivered
    assert not [d for d in _http(ledger) if d["status"] == "pending"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_everything_delivered_once_and_refusals_recorded_with_the_receivers_reason(receivers, backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'ledger.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schema_url")()
    ledger = routed_ledger(url, tmp_path, rows=200, seed=61)
    result = deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    assert result.http_pending == 0 and result.http_delivered > 0
    _assert_exactly_once(ledger, receivers)
    for d in _http(ledger):
        receipt = json.loads(d["receipt"])
        if d["status"] == "delivered":
            assert receipt["receipt_id"] and receipt["code"] == "0000"
        else:
            assert d["status"] == "failed" and d["last_error"].startswith(("0002", "0101", "0301"))
    orders = {(w["rowguid"], w["utility"]): w["status"] for w in ledger.cohandling.work_orders() if w["channel"] in ("system", "grid")}
    assert set(orders.values()) <= {"delivered", "failed", "quarantined", "cancelled"}
    again = deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    assert again.planned == 0 and again.http_delivered == 0  # a re-run sends nothing twice


@pytest.mark.parametrize("faults", [
    {"error_rate": 0.5},
    {"timeout_rate": 0.4, "timeout_s": 1.0},
    {"throttle_rate": 0.5, "retry_after_s": 0},
    {"fail_after_accept_rate": 0.6},
], ids=["500s", "timeouts", "429s", "accepted-then-500"])
def test_a_failing_receiver_leaves_work_orders_pending_and_the_next_run_completes_them_once(receivers, faults, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=150, seed=62)
    receivers.faults(seed=7, **faults)
    first = deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers, max_attempts=2, batch_size=20))
    receivers.reset()
    second = deliver_run(ledger, run_id="r2", day=AS_OF, receiver_for=_receiver_for(receivers))
    assert first.http_delivered + second.http_delivered + first.http_rejected + second.http_rejected == len(_http(ledger))
    _assert_exactly_once(ledger, receivers)


def test_receivers_down_for_a_whole_run(receivers, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=63)
    receivers.stop()
    down = deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers, max_attempts=2))
    assert down.http_delivered == 0 and down.http_pending == len(_http(ledger)) > 0
    assert {d["status"] for d in _http(ledger)} == {"pending"} and all(d["last_error"] for d in _http(ledger))
    receivers.start()
    up = deliver_run(ledger, run_id="r2", day=AS_OF, receiver_for=_receiver_for(receivers))
    assert up.http_pending == 0
    _assert_exactly_once(ledger, receivers)


KILL = """
import os
from connectors.ledger import Ledger
from connectors.http_receiver import HttpReceiver
from jobs.cohandling.deliver_orders import deliver_run
from tests.integration.pipeline import AS_OF
url = {url!r}
def receiver_for(channel, destination):
    base = url + ("/grid" if channel == "grid" else "/county/" + destination.removeprefix("county_system_"))
    return HttpReceiver(base, {key!r}, {secret!r})
deliver_run(Ledger({ledger!r}), run_id="r1", day=AS_OF, receiver_for=receiver_for, after_send=lambda label: os._exit(9))
"""


def test_the_deliver_task_killed_after_sending_and_before_recording_does_not_duplicate(receivers, tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = routed_ledger(url, tmp_path, rows=120, seed=64)
    code = KILL.format(url=receivers.url, key=KEY, secret=SECRET, ledger=url)
    killed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr[-2000:]
    sent = receivers.accepted()
    assert sent and {d["status"] for d in _http(ledger)} == {"pending"}  # accepted over there, not written down here

    retry = deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    assert retry.http_pending == 0
    _assert_exactly_once(ledger, receivers)
    resent = {a["idempotency_key"]: a["times_submitted"] for a in receivers.accepted()}
    assert all(resent[a["idempotency_key"]] == 2 for a in sent)  # sent again, answered "duplicate", kept once
