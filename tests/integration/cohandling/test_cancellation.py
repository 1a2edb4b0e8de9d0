"""A work order a receiver holds that the platform withdraws (OP D), or that a correction no longer
asks for, is cancelled at that receiver exactly once: a cancellation batch in the institution's
SFTP drop (real OpenSSH sshd), a cancel call to the county system or the grid (HTTP simulators).
Afterwards what every receiver holds in force equals the ledger's work orders in force."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.http_receiver import HttpReceiver
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry
from simulators.institutions import held_in_force, read_batch
from simulators.platform_db import EXCHANGE_TABLE, PlatformDB
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration import openssh
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.annex1 import FIELD_CODES

KEY, SECRET = "gw-cancel", "s3cret-cancel-tests"
DAY2 = AS_OF + timedelta(days=1)


@pytest.fixture
def receivers(tmp_path):
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as process:
        process.results_mix(mix={"silent": 1.0})  # nothing handled yet: every cancellation can stop its work order
        yield process


def _receiver_for(process: ReceiverProcess, **kw):
    options = {"timeout_s": 2, "max_attempts": 2, "backoff_s": 0.01, "max_backoff_s": 0.1} | kw
    clients: dict = {}

    def make(channel: str, destination: str) -> HttpReceiver:
        if destination not in clients:
            url = process.grid_url() if channel == "grid" else process.county_url(destination.removeprefix("county_system_"))
            clients[destination] = HttpReceiver(url, KEY, SECRET, **options)
        return clients[destination]

    return make


def _provision(server, ledger) -> list[str]:
    drops = sorted({w["destination"] for w in ledger.cohandling.work_orders(history=True) if w["channel"] == "account" and w["destination"]})
    for drop in drops:
        if not (server.root / drop).exists():
            server.add_drop(drop)
    return drops


def _platform_write(tmp_path: Path, rowguids: list[str], change) -> None:
    """The platform writes a new change (`change(row)` edits a copy of the record's latest row) for each ROWGUID."""
    platform = PlatformDB(f"sqlite:///{tmp_path / 'platform.db'}")
    with platform.engine.connect() as conn:
        rows = pd.read_sql(sa.text(f"SELECT * FROM {EXCHANGE_TABLE} ORDER BY CHANGE_SEQ"), conn)
    latest = rows[rows["ROWGUID"].isin(rowguids)].drop_duplicates("ROWGUID", keep="last")
    frame = latest[list(FIELD_CODES)].copy()
    frame.insert(0, "OP", "U")
    frame = pd.DataFrame([change(dict(r)) for r in frame.to_dict("records")])
    frame["defect"], frame["defect_field"], frame["oddity"] = "", "", ""
    platform.write(frame)
    platform.engine.dispose()


def _next_day(ledger, tmp_path: Path, run_id: str) -> None:
    extract_changes(RecordSource(f"sqlite:///{tmp_path / 'platform.db'}"), ledger, run_id=run_id)
    validate_run(ledger, run_id=run_id, as_of=DAY2, registry=current_registry(ledger, DAY2), out_dir=tmp_path / "out2", data_docs=False)
    route_run(ledger, run_id=run_id, as_of=DAY2)


def _ledger_in_force(ledger) -> set[tuple[str, str, str, int]]:
    """(destination, ROWGUID, utility, version) every receiver should hold, from the work orders in force."""
    return {(w["destination"], w["rowguid"], w["utility"], int(w["version"])) for w in ledger.cohandling.work_orders() if w["status"] == "delivered"}


def _receivers_in_force(server, drops: list[str], process: ReceiverProcess) -> set[tuple[str, str, str, int]]:
    """What the institutions (reading their outboxes) and the HTTP receivers say they hold in force."""
    held = set()
    for drop in drops:
        for gdbh in held_in_force(server.root / drop / "outbox"):
            rowguid, utility, version = gdbh.rsplit(":", 2)
            held.add((drop, rowguid, utility, int(version)))
    for item in process.in_force():
        destination = "grid" if item["receiver"] == "grid" else "county_system_" + item["receiver"].removeprefix("county/")
        held.add((destination, item["rowguid"], item["utility"], int(item["version"])))
    return held


def _cancel_batches(server, drops: list[str]) -> dict[str, list[dict]]:
    out = {}
    for drop in drops:
        for folder in sorted((server.root / drop / "outbox").glob("XBCX*")):
            kind, rows = read_batch(folder)
            assert kind == "cancel"
            out[f"{drop}/{folder.name}"] = rows
    return out


def _choose(ledger) -> tuple[list[str], str, str]:
    """ROWGUIDs to withdraw (together: a delivered account, system and grid work order) and one whose correction drops
    its delivered water work order (and which has another delivered work order)."""
    by_guid: dict[str, dict[str, dict]] = {}
    for w in ledger.cohandling.work_orders():
        by_guid.setdefault(w["rowguid"], {})[w["utility"]] = w
    withdraw, channels = [], set()
    for guid, orders in sorted(by_guid.items()):
        got = {w["channel"] for w in orders.values() if w["status"] == "delivered"}
        if got - channels:
            withdraw.append(guid)
            channels |= got
        if channels >= {"account", "system", "grid"}:
            break
    assert channels >= {"account", "system", "grid"}, channels
    drop_water = next(g for g, orders in sorted(by_guid.items()) if g not in withdraw and orders.get("water", {}).get("status") == "delivered"
                      and orders["water"]["channel"] == "account" and sum(w["status"] == "delivered" for w in orders.values()) >= 2)
    never = next((g for g, orders in sorted(by_guid.items()) if g not in withdraw and g != drop_water
                  and orders and all(w["status"] == "held" for w in orders.values())), None)
    return withdraw + ([never] if never else []), drop_water, never


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_schema_url")()


def test_a_withdrawal_after_delivery_reaches_each_kind_of_receiver_once(sshd, receivers, ledger_url, tmp_path):
    ledger = routed_ledger(ledger_url, tmp_path, rows=220, seed=71)
    drops = _provision(sshd, ledger)
    sftp = openssh.drops_for(sshd)
    first = deliver_run(ledger, run_id="r1", day=AS_OF, drops=sftp, receiver_for=_receiver_for(receivers))
    assert first.http_pending == 0 and first.account_pending == 0 and first.cancels_planned == 0
    assert _receivers_in_force(sshd, drops, receivers) == _ledger_in_force(ledger)
    before = {(w["rowguid"], w["utility"]): w for w in ledger.cohandling.work_orders()}

    withdraw, drop_water, never = _choose(ledger)
    _platform_write(tmp_path, withdraw, lambda r: {**r, "OP": "D"})
    _platform_write(tmp_path, [drop_water], lambda r: {**r, "YSHH": None, "GSJGBM": None, "GSJGMC": None})
    _next_day(ledger, tmp_path, "r2")

    told = {k for k, w in before.items() if k[0] in withdraw and w["status"] == "delivered"} | {(drop_water, "water")}
    after_route = {(w["rowguid"], w["utility"]): w for w in ledger.cohandling.work_orders()}
    assert {k for k, w in after_route.items() if w["status"] == "cancel_pending"} == told
    if never:  # never delivered: simply withdrawn, no message
        assert {w["status"] for k, w in after_route.items() if k[0] == never} == {"withdrawn"}

    second = deliver_run(ledger, run_id="r2", day=DAY2, drops=sftp, receiver_for=_receiver_for(receivers))
    assert second.cancels_planned == len(told) and second.cancels_sent == len(told)
    assert second.cancels_pending == 0 and second.cancels_refused == 0
    now = {(w["rowguid"], w["utility"]): w for w in ledger.cohandling.work_orders()}
    assert {k for k, w in now.items() if w["status"] == "cancelled"} >= told
    assert all(now[k]["status"] == "cancelled" for k in told)
    # The correction dropped water only: its other work orders are corrections delivered as version 2.
    others = [w for (g, u), w in now.items() if g == drop_water and u != "water"]
    assert others and all(w["version"] == 2 and w["correction"] for w in others)
    assert {w["status"] for w in others} <= {"delivered", "failed"}

    # Each receiver was told once: one cancellation batch per institution concerned, one cancel per HTTP work order.
    batches = _cancel_batches(sshd, drops)
    in_files = [r["GDBH"] for rows in batches.values() for r in rows]
    account_told = {k for k in told if before[k]["channel"] == "account"}
    assert sorted(in_files) == sorted(f"{g}:{u}:{before[(g, u)]['version']}" for g, u in account_told)
    assert {r["CXDM"] for rows in batches.values() for r in rows if r["GDBH"].startswith(drop_water)} == {"UTILITY_DROPPED"}
    http_told = {k for k in told if before[k]["channel"] in ("system", "grid")}
    cancelled = receivers.cancelled()
    assert sorted((c["rowguid"], c["utility"]) for c in cancelled) == sorted(http_told)
    assert all(c["times_submitted"] == 1 and c["reason_code"] == "RECORD_WITHDRAWN" for c in cancelled)

    assert _receivers_in_force(sshd, drops, receivers) == _ledger_in_force(ledger) == ledger.cohandling.in_force_at_receivers()

    again = deliver_run(ledger, run_id="r3", day=DAY2, drops=sftp, receiver_for=_receiver_for(receivers))
    assert again.cancels_planned == again.cancels_sent == again.cancel_batches == 0 and again.planned == 0
    assert _cancel_batches(sshd, drops) == batches
    assert [c["times_submitted"] for c in receivers.cancelled()] == [1] * len(cancelled)
    counts = ledger.cohandling.cancellation_counts()
    assert sum(counts.values()) == len(told) and set(s for _, s in counts) == {"cancelled"}
    sftp.close()


def test_a_receiver_answering_500_then_ok_still_holds_the_cancellation_once(sshd, receivers, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=160, seed=72)
    drops = _provision(sshd, ledger)
    sftp = openssh.drops_for(sshd)
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=sftp, receiver_for=_receiver_for(receivers))
    withdraw, _, _ = _choose(ledger)
    _platform_write(tmp_path, withdraw, lambda r: {**r, "OP": "D"})
    _next_day(ledger, tmp_path, "r2")

    receivers.faults(fail_after_accept_rate=1.0)  # stores the cancellation, then answers 500: the gateway cannot know
    failing = deliver_run(ledger, run_id="r2", day=DAY2, drops=sftp, receiver_for=_receiver_for(receivers))
    assert failing.cancels_pending > 0 and failing.cancels_sent == failing.cancels_planned - failing.cancels_pending
    assert {w["status"] for w in ledger.cohandling.work_orders() if w["status"].startswith("cancel")} >= {"cancel_pending"}
    receivers.reset()
    ok = deliver_run(ledger, run_id="r3", day=DAY2, drops=sftp, receiver_for=_receiver_for(receivers))
    assert ok.cancels_pending == 0 and ok.cancels_sent == failing.cancels_pending and ok.cancels_planned == 0
    cancelled = receivers.cancelled()
    assert len({(c["receiver"], c["idempotency_key"]) for c in cancelled}) == len(cancelled) == failing.cancels_pending
    assert all(c["times_submitted"] >= 2 for c in cancelled)  # sent again, answered "already cancelled", held once
    assert not [w for w in ledger.cohandling.work_orders() if w["status"] == "cancel_pending"]
    assert _receivers_in_force(sshd, drops, receivers) == _ledger_in_force(ledger)
    sftp.close()


def test_a_receiver_that_already_handled_the_work_order_refuses_and_the_ledger_says_so(receivers, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=73)
    receivers.results_mix(mix={"done": 1.0}, delay_days=[0, 0], acknowledge=False)
    receivers.clock(AS_OF)  # accepted on AS_OF's day, handled the same day
    deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    grid = [w for w in ledger.cohandling.work_orders() if w["channel"] == "grid" and w["status"] == "delivered"][:3]
    assert grid
    receivers.clock(AS_OF + timedelta(days=2))  # handled: the results are out
    _platform_write(tmp_path, [w["rowguid"] for w in grid], lambda r: {**r, "OP": "D"})
    _next_day(ledger, tmp_path, "r2")
    result = deliver_run(ledger, run_id="r2", day=DAY2, receiver_for=_receiver_for(receivers))
    assert result.cancels_refused >= len(grid) and result.cancels_pending == 0
    now = {(w["rowguid"], w["utility"]): w["status"] for w in ledger.cohandling.work_orders()}
    assert all(now[(w["rowguid"], "electricity")] == "cancel_refused" for w in grid)
    refused = [c for c in ledger.cohandling.cancellations() if c["status"] == "refused"]
    assert refused and all(c["last_error"].startswith("0409") for c in refused)


def test_http_cancellations_go_a_page_at_a_time_and_an_unreachable_receiver_is_tried_once_a_run(receivers, tmp_path, monkeypatch):
    import jobs.cohandling.deliver_orders as deliver_orders

    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=160, seed=74)
    deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=_receiver_for(receivers))
    grid = sorted({w["rowguid"] for w in ledger.cohandling.work_orders() if w["channel"] == "grid" and w["status"] == "delivered"})[:7]
    assert len(grid) == 7
    _platform_write(tmp_path, grid, lambda r: {**r, "OP": "D"})
    _next_day(ledger, tmp_path, "r2")
    http_told = sorted((w["rowguid"], w["utility"]) for w in ledger.cohandling.work_orders()
                       if w["status"] == "cancel_pending" and w["channel"] in ("system", "grid"))
    assert len(http_told) >= 7
    monkeypatch.setattr(deliver_orders, "HTTP_PAGE", 2)
    calls: list[tuple[str, int, str]] = []

    def counting(make):
        def receiver_for(channel, destination):
            real = make(channel, destination)

            class Counting:
                def deliver(self, items, **kw):
                    return real.deliver(items, **kw)

                def cancel(self, items, *, batch_id):
                    calls.append((destination, len(items), batch_id))
                    return real.cancel(items, batch_id=batch_id)
            return Counting()
        return receiver_for

    def down(channel, destination):
        raise ConnectionRefusedError(f"{destination} is down")

    unreachable = deliver_run(ledger, run_id="r2", day=DAY2, receiver_for=counting(down))
    assert unreachable.cancels_planned == len(http_told) and unreachable.cancels_pending == len(http_told)
    assert unreachable.cancels_sent == 0 and not calls  # nothing reached a receiver: every cancellation waits
    per_receiver = [e for e in unreachable.errors if "cancellations:" in e]
    assert len(per_receiver) == len({c["destination"] for c in ledger.cohandling.cancellations() if c["channel"] in ("system", "grid")})

    sent = deliver_run(ledger, run_id="r3", day=DAY2, receiver_for=counting(_receiver_for(receivers)))
    assert sent.cancels_sent == len(http_told) and sent.cancels_pending == 0
    assert calls and max(n for _, n, _ in calls) <= 2 and sum(n for _, n, _ in calls) == len(http_told)
    assert len({b for _, _, b in calls}) == len(calls)  # each page under its own batch name
    cancelled = receivers.cancelled()
    assert sorted((c["rowguid"], c["utility"]) for c in cancelled) == http_told
    assert all(c["times_submitted"] == 1 for c in cancelled)
    again = deliver_run(ledger, run_id="r4", day=DAY2, receiver_for=counting(_receiver_for(receivers)))
    assert again.cancels_sent == again.cancels_pending == 0 and sum(n for _, n, _ in calls) == len(http_told)
