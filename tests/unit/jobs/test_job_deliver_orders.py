"""The daily delivery job against the in-memory channels (connectors/testing.py): account mode
into a local-folder drop, system mode and the grid into fake receivers, exactly once in effect
when an answer is lost after the receiver (or the drop) took the batch."""

from __future__ import annotations

import json

import pytest

from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.deliver_orders import deliver_run
from tests.integration.pipeline import AS_OF, routed_ledger


@pytest.fixture
def ledger(tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=61)
    yield ledger
    ledger.dispose()


def _receivers(**kw):
    made: dict[str, FakeReceiver] = {}

    def receiver_for(channel: str, destination: str) -> FakeReceiver:
        return made.setdefault(destination, FakeReceiver(destination, **kw))

    return made, receiver_for


def _http(ledger, status=None) -> list[dict]:
    return [d for d in ledger.cohandling.deliveries() if d["channel"] in ("system", "grid") and (status is None or d["status"] == status)]


def test_every_channel_gets_its_work_orders_once_and_a_rerun_sends_nothing(ledger, tmp_path):
    drops = LocalDrops(tmp_path / "drops")
    made, receiver_for = _receivers(reject=lambda item: ("0002", "户号不存在") if item["version"] == 1 and item["rowguid"] < "1" else None)
    result = deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=receiver_for)

    accounts = [d for d in ledger.cohandling.deliveries() if d["channel"] == "account"]
    assert {d["status"] for d in accounts} == {"delivered"}
    batches = {(d["destination"], d["batch_id"], json.loads(d["receipt"])["path"].rsplit("/", 1)[1]) for d in accounts}
    assert result.account_batches == result.account_delivered == len(batches) > 0
    for drop, _, name in batches:
        assert drops.list_outbox(drop).count(name) == 1  # published under its planned name
        assert (tmp_path / "drops" / drop / "outbox" / name / f"{name}.manifest.json").is_file()
    assert not list((tmp_path / "drops" / ".staging").rglob("*.csv"))  # nothing left half-published

    assert {"grid"} < set(made) and any(d.startswith("county_system_") for d in made)
    held = {key for r in made.values() for key in r.held}
    delivered = {f"{d['rowguid']}:{d['utility']}:{d['version']}" for d in _http(ledger, "delivered")}
    assert held == delivered and result.http_delivered == len(delivered) > 0
    refused = _http(ledger, "failed")
    assert len(refused) == result.http_rejected > 0 and all(d["last_error"].startswith("0002") for d in refused)
    assert all(json.loads(d["receipt"])["receipt_id"].startswith(f"FAKE-{d['destination']}-") for d in _http(ledger, "delivered"))
    assert all(item["utility"] == "electricity" for item in made["grid"].received)

    again = deliver_run(ledger, run_id="r2", day=AS_OF, drops=drops, receiver_for=receiver_for)
    assert (again.planned, again.account_delivered, again.http_delivered) == (0, 0, 0)
    assert sum(len(r.received) for r in made.values()) == len(delivered) + len(refused)  # nothing sent twice


def test_an_answer_lost_after_the_receiver_took_the_batch_is_sent_again_and_held_once(ledger, tmp_path):
    made, receiver_for = _receivers(lose_answers=1)
    drops = LocalDrops(tmp_path / "drops", lose_answers=2)
    first = deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=receiver_for)
    assert first.http_delivered == 0 and first.http_pending == len(_http(ledger)) > 0
    assert first.account_pending == 2 and first.account_delivered == first.account_batches - 2
    assert {d["status"] for d in _http(ledger)} == {"pending"}

    second = deliver_run(ledger, run_id="r2", day=AS_OF, drops=drops, receiver_for=receiver_for)
    assert second.http_pending == 0 and second.http_delivered == len(_http(ledger))
    assert second.account_delivered == 2 and second.account_pending == 0  # found in the outbox, verified, not written again
    for receiver in made.values():
        keys = [item["idempotency_key"] for item in receiver.received]
        assert len(keys) == 2 * len(receiver.held) and set(keys) == set(receiver.held)  # sent twice, held once
    receipts = [json.loads(d["receipt"]) for d in _http(ledger)]
    assert {r["code"] for r in receipts} == {"0201"}  # the retry was answered "duplicate" with the original receipt
    assert all(r["receipt_id"] == made[d["destination"]].held[f"{d['rowguid']}:{d['utility']}:{d['version']}"]["receipt_id"]
               for r, d in zip(receipts, _http(ledger)))
    assert [json.loads(d["receipt"])["already_there"] for d in ledger.cohandling.deliveries() if d["channel"] == "account"].count(True) >= 2


def test_an_unreachable_receiver_leaves_its_work_orders_pending(ledger, tmp_path):
    made, receiver_for = _receivers(unreachable=True)
    down = deliver_run(ledger, run_id="r1", day=AS_OF, drops=LocalDrops(tmp_path / "drops"), receiver_for=receiver_for)
    assert down.http_delivered == 0 and down.http_pending == len(_http(ledger)) > 0
    assert not any(r.held for r in made.values())
    for r in made.values():
        r.unreachable = False
    up = deliver_run(ledger, run_id="r2", day=AS_OF, drops=LocalDrops(tmp_path / "drops"), receiver_for=receiver_for)
    assert up.http_pending == 0 and up.http_delivered == len(_http(ledger))


def _more_work(ledger, offset: int, destinations: set[str], status: str = "delivered") -> None:
    """A later run's work for `destinations`: every account-mode work order there corrected (a new version `offset` on, in force)."""
    import sqlalchemy as sa

    from connectors.ledger.schema_cohandling import work_order, work_order_version

    wo, wov = work_order, work_order_version
    with ledger.engine.begin() as conn:
        rows = conn.execute(sa.select(wo).where(wo.c.channel == "account", wo.c.status == status, wo.c.destination.in_(destinations))).mappings().all()
        for row in rows:
            version = conn.execute(sa.select(wov).where(wov.c.rowguid == row["rowguid"], wov.c.utility == row["utility"],
                                                        wov.c.version == row["version"])).mappings().one()
            conn.execute(wov.insert(), [dict(version) | {"version": row["version"] + offset, "correction": True, "status": "ready"}])
            conn.execute(wo.update().where(wo.c.rowguid == row["rowguid"], wo.c.utility == row["utility"]).values(
                version=row["version"] + offset, correction=True, status="ready"))


def test_batches_are_numbered_per_institution_without_gaps_across_runs(ledger, tmp_path):
    from transforms.cohandling.batchfiles import EXTENSIONS

    drops = LocalDrops(tmp_path / "drops")
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops)
    account = sorted({d["destination"] for d in ledger.cohandling.deliveries() if d["channel"] == "account"})
    two = set(account[:2])
    assert len(two) == 2
    assert all(len(drops.list_outbox(drop)) == 1 for drop in two)
    _more_work(ledger, 100, two)
    deliver_run(ledger, run_id="r2", day=AS_OF, drops=drops)
    _more_work(ledger, 200, {account[0]})
    deliver_run(ledger, run_id="r3", day=AS_OF, drops=drops)

    for drop in account:
        folders = sorted(drops.list_outbox(drop))
        manifests = [json.loads((tmp_path / "drops" / drop / "outbox" / f / f"{f}.manifest.json").read_text(encoding="utf-8")) for f in folders]
        numbers = sorted(m["sequence"] for m in manifests)
        assert numbers == list(range(1, len(numbers) + 1)), drop  # 1, 2, 3, … at every institution: no gap, no repeat
        for folder, manifest in zip(folders, manifests):
            assert folder.endswith(f"_{manifest['sequence']:06d}") and folder.startswith("XB")
            assert manifest["files"][0]["name"].endswith("." + EXTENSIONS[manifest["format"]])
    runs = {drop: len(drops.list_outbox(drop)) for drop in account}
    assert runs[account[0]] >= 3 and runs[account[1]] >= 2  # several runs each, numbered separately
    assert all(n >= 1 for n in runs.values())


def test_a_pending_xlsx_batch_renders_to_the_hash_fixed_at_its_first_render(ledger, tmp_path):
    import time

    drops = LocalDrops(tmp_path / "drops", lose_answers=10_000)  # every publication's answer lost: the batches stay pending
    first = deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops)
    xlsx = [b for b in ledger.cohandling.open_account_batches() if b["file_format"] == "xlsx"]
    assert xlsx and first.account_pending == first.account_batches  # the new default: most institutions get XLSX
    time.sleep(2.1)  # a re-render later (zip entries and workbook times would move with the clock if not fixed)
    second = deliver_run(ledger, run_id="r2", day=AS_OF, drops=LocalDrops(tmp_path / "drops"))
    assert second.account_failed == 0 and second.account_delivered == first.account_batches, second.errors


def test_a_numbered_batch_emptied_by_corrections_before_it_left_goes_out_empty(ledger, tmp_path):
    planned = deliver_run(ledger, run_id="r1", day=AS_OF, drops=None)  # planned and numbered, not sent (no drop connection)
    drop = sorted(b["destination"] for b in ledger.cohandling.open_account_batches())[0]
    assert planned.account_batches > 0
    _more_work(ledger, 100, {drop}, status="ready")  # every work order in it corrected before it left
    drops = LocalDrops(tmp_path / "drops")
    deliver_run(ledger, run_id="r2", day=AS_OF, drops=drops)
    manifests = [json.loads((tmp_path / "drops" / drop / "outbox" / f / f"{f}.manifest.json").read_text(encoding="utf-8"))
                 for f in sorted(drops.list_outbox(drop))]
    assert [(m["sequence"], m["records"] > 0) for m in manifests] == [(1, False), (2, True)]  # number 1 is there (empty): no gap


def test_a_receivers_backlog_goes_a_page_at_a_time_and_a_halt_leaves_the_rest_for_the_next_run(ledger, tmp_path, monkeypatch):
    """A backfill can leave a million work orders pending for the grid: read, sent and recorded HTTP_PAGE at a time (issue
    18: all of them in one list was the deliver stage's 6.8 GB at 1,000,000 records), each page its own batch name, in
    work-order key order; a receiver that halts part-way (a real one gives up after its retries: the rest "not attempted")
    keeps the rest of its backlog pending, not tried page by page."""
    from connectors.delivery import ItemOutcome
    from jobs.cohandling import deliver_orders

    monkeypatch.setattr(deliver_orders, "HTTP_PAGE", 7)
    made, receiver_for = _receivers()
    halting = {}

    def flaky(channel, destination):
        receiver = receiver_for(channel, destination)
        if destination != "grid":
            return receiver

        class Halting:  # the grid takes its first page, then gives up on the second half-way
            def deliver(self, items, *, batch_id=None):
                halting.setdefault("calls", []).append((batch_id, len(items)))
                if len(halting["calls"]) == 1:
                    return receiver.deliver(items, batch_id=batch_id)
                return ([ItemOutcome(i["idempotency_key"], "pending", None, None, "HTTP 503 after 3 attempts", 3) for i in items[:2]]
                        + [ItemOutcome(i["idempotency_key"], "pending", None, None, "not attempted: HTTP 503", 0) for i in items[2:]])

        return Halting()

    result = deliver_run(ledger, run_id="r1", day=AS_OF, drops=LocalDrops(tmp_path / "drops"), receiver_for=flaky)
    pending, grid = len(_http(ledger)), len([d for d in _http(ledger) if d["channel"] == "grid"])
    assert grid > 14
    assert [n for _, n in halting["calls"]] == [7, 7]  # the third page never asked for
    assert [b for b, _ in halting["calls"]] == ["r1:grid", "r1:grid:2"]
    assert result.http_pending == grid - 7 and result.http_delivered + result.http_rejected == pending - grid + 7
    for name, receiver in made.items():
        if name != "grid":
            assert len(set(receiver.batches)) == len(receiver.batches)  # a name per page
            assert len(receiver.batches) == -(-len(receiver.received) // 7)
            keys = [tuple(item["idempotency_key"].rsplit(":", 2)) for item in receiver.received]
            assert keys == sorted(keys, key=lambda k: (k[0], k[1], int(k[2])))  # work-order key order
    again = deliver_run(ledger, run_id="r2", day=AS_OF, drops=LocalDrops(tmp_path / "drops"), receiver_for=receiver_for)
    assert again.http_pending == 0 and again.http_delivered == grid - 7
    assert {d["status"] for d in _http(ledger)} <= {"delivered", "failed"}
