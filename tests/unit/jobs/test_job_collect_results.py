"""Collecting handling results against the in-memory channels: result files in a local-folder
drop and the receivers' results feeds, each read once, bad rows listed, cursors kept."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest

from connectors.ledger import utcnow
from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.collect_results import collect_results, result_feeds
from jobs.cohandling.deliver_orders import deliver_run
from tests.integration.pipeline import AS_OF, routed_ledger


@pytest.fixture
def delivered(tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=62)
    drops, made = LocalDrops(tmp_path / "drops"), {}
    channels = SimpleNamespace(receiver_for=lambda channel, destination: made.setdefault(destination, FakeReceiver(destination)))
    deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=channels.receiver_for)
    yield ledger, drops, made, channels
    ledger.dispose()


def _key(d: dict) -> str:
    return f"{d['rowguid']}:{d['utility']}:{d['version']}"


def test_result_files_and_feeds_are_each_read_once_with_bad_rows_listed(delivered, tmp_path):
    ledger, drops, made, channels = delivered
    local_now = utcnow() + timedelta(hours=8)
    handled = (local_now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    as_of = local_now + timedelta(hours=1)

    accounts = [d for d in ledger.cohandling.deliveries() if d["channel"] == "account"]
    drop = accounts[0]["destination"]
    mine = [d for d in accounts if d["destination"] == drop]
    rows = [f"{_key(d)},0000,,{handled},李娜" for d in mine] + [f"nobody:water:1,0000,,{handled},李娜"]
    drops.put_result(drop, "result_1.csv", ("GDBH,JGDM,JGSM,BLSJ,BLR\n" + "\n".join(rows) + "\n").encode(), mtime=time.time() - 3600)

    feeds = result_feeds(ledger, channels)
    assert set(feeds) == {"feed:grid"} | {f"feed:county/{d.removeprefix('county_system_')}" for d in made if d != "grid"}
    published = 0
    for receiver in made.values():
        for key in list(receiver.held)[:3]:
            receiver.publish_result(key, handled_at=handled.replace(" ", "T") + ":00")
            published += 1
    withheld = next(r for d, r in made.items() if d != "grid")
    withheld.withhold_results = True

    out = collect_results(ledger, as_of=as_of, drops=drops, feeds=feeds, run_id="c1")
    from_withheld = min(3, len(withheld.held))
    assert (out.files, out.files_refused, out.exceptions, out.errors) == (1, 0, 1, [])
    assert out.results == len(mine) + published - from_withheld
    assert drops.list_inbox(drop) == []  # read, then moved out of the institution's view
    assert list((tmp_path / "drops" / ".results" / drop).rglob("result_1.csv"))
    assert list((tmp_path / "drops" / drop / "inbox" / "receipts").glob("result_1.*.receipt.csv"))  # the bad row told
    outcomes = ledger.cohandling.outcomes()
    assert {_key(d) for d in mine} <= set(outcomes["idempotency_key"] if "idempotency_key" in outcomes else
                                          outcomes["rowguid"] + ":" + outcomes["utility"] + ":" + outcomes["version"].astype(str))

    withheld.withhold_results = False
    again = collect_results(ledger, as_of=as_of, drops=drops, feeds=result_feeds(ledger, channels), run_id="c2")
    assert (again.files, again.exceptions) == (0, 0) and again.results == from_withheld  # the cursors moved; the withheld come now


def test_an_unreadable_feed_is_that_feeds_trouble_only(delivered):
    ledger, drops, made, channels = delivered
    grid = made["grid"]
    key = next(iter(grid.held))
    grid.publish_result(key, handled_at=(utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S"))
    county = next(r for d, r in made.items() if d != "grid")
    county.unreachable = True
    out = collect_results(ledger, as_of=utcnow() + timedelta(hours=9), drops=drops, feeds=result_feeds(ledger, channels), run_id="c1")
    assert out.results == 1 and len(out.errors) == 1 and "cannot reach" in out.errors[0] and out.dead_letters == 0


def test_a_collection_reads_what_its_files_and_pages_name_not_the_whole_ledger(delivered, monkeypatch):
    """A year's ledger holds millions of work orders: collecting a day's results must not load them all (issue 18). The
    whole-ledger readers fail here; what is read is the ROWGUIDs the results name, each once; a result for a work order
    delivered elsewhere is still told apart from one for a work order never delivered."""
    ledger, drops, made, channels = delivered
    store = type(ledger.cohandling)
    monkeypatch.setattr(store, "delivered_versions", lambda self: pytest.fail("read every delivered version"))
    monkeypatch.setattr(store, "outcomes", lambda self: pytest.fail("read every outcome"))
    asked: list[list[str]] = []
    real = store.known_of
    monkeypatch.setattr(store, "known_of", lambda self, rowguids: asked.append(list(rowguids)) or real(self, rowguids))

    local_now = utcnow() + timedelta(hours=8)
    handled = (local_now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    accounts = [d for d in ledger.cohandling.deliveries() if d["channel"] == "account"]
    drop = accounts[0]["destination"]
    mine = [d for d in accounts if d["destination"] == drop][:2]
    elsewhere = next(d for d in accounts if d["destination"] != drop)
    rows = [f"{_key(d)},0000,,{handled},李娜" for d in mine] + [f"{_key(elsewhere)},0000,,{handled},李娜", f"nobody:water:1,0000,,{handled},李娜"]
    drops.put_result(drop, "result_1.csv", ("GDBH,JGDM,JGSM,BLSJ,BLR\n" + "\n".join(rows) + "\n").encode(), mtime=time.time() - 3600)
    grid = made["grid"]
    published = list(grid.held)[:2]
    for key in published:
        grid.publish_result(key, handled_at=handled.replace(" ", "T") + ":00")

    out = collect_results(ledger, as_of=local_now + timedelta(hours=1), drops=drops, feeds=result_feeds(ledger, channels), run_id="c1")
    assert out.errors == [] and out.results == len(mine) + len(published) and out.exceptions == 2
    reasons = {e["reason_code"] for e in ledger.cohandling.result_exceptions().to_dict("records")}
    assert {"RESULT_WRONG_SOURCE", "RESULT_UNKNOWN_WORK_ORDER"} <= reasons
    named = {d["rowguid"] for d in [*mine, elsewhere]} | {"nobody"} | {key.split(":")[0] for key in published}
    flat = [r for part in asked for r in part]
    assert set(flat) == named and len(flat) == len(set(flat))  # what the results named, each once


def test_a_run_holds_one_file_at_a_time_and_a_failed_store_leaves_no_false_duplicate(delivered, monkeypatch):
    """What a collection reads for a file is let go once the file is stored or given up (issue 18: a day's results at a
    million work orders are not held at once). So a file whose store failed leaves nothing behind: the next file with
    the same results is accepted, not called a repeat; a later file repeating results stored earlier in the same run is
    told a repeat, from the ledger; and a file naming other work orders holds only those."""
    from transforms.cohandling import result_files

    ledger, drops, _, _ = delivered
    held: list[set] = []  # at each let-go: the ROWGUIDs held
    real_forget = result_files.KnownWorkOrders.forget
    monkeypatch.setattr(result_files.KnownWorkOrders, "forget", lambda self: held.append({k[0] for k in self.delivered}) or real_forget(self))
    store = type(ledger.cohandling)
    real_save = store.save_results

    def save(self, **kw):
        if kw.get("file", {}).get("name") == "result_1.csv":
            raise OSError("ledger went away")
        return real_save(self, **kw)

    monkeypatch.setattr(store, "save_results", save)
    local_now = utcnow() + timedelta(hours=8)
    handled = (local_now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    accounts = [d for d in ledger.cohandling.deliveries() if d["channel"] == "account"]
    drop = max({d["destination"] for d in accounts}, key=lambda x: len({d["rowguid"] for d in accounts if d["destination"] == x}))
    at_drop = [d for d in accounts if d["destination"] == drop]
    mine, others = at_drop[:2], [d for d in at_drop if d["rowguid"] not in {m["rowguid"] for m in at_drop[:2]}][:2]
    assert others

    def body(rows, hand):
        return ("GDBH,JGDM,JGSM,BLSJ,BLR\n" + "".join(f"{_key(d)},0000,,{handled},{hand}\n" for d in rows)).encode()

    for name, rows, hand in (("result_1.csv", mine, "李娜"), ("result_2.csv", mine, "李娜"), ("result_3.csv", mine, "王强"), ("result_4.csv", others, "李娜")):
        drops.put_result(drop, name, body(rows, hand), mtime=time.time() - 3600)

    out = collect_results(ledger, as_of=local_now + timedelta(hours=1), drops=drops, run_id="c1")
    assert len(out.errors) == 1 and "result_1.csv" in out.errors[0] and "ledger went away" in out.errors[0]
    assert out.files == 3 and out.results == len(mine) + len(others)  # result_2 stored its results, not taken as repeats
    assert [e["reason_code"] for e in ledger.cohandling.result_exceptions().to_dict("records")] == ["RESULT_DUPLICATE"] * len(mine)  # result_3
    assert held[:4] == [{d["rowguid"] for d in rows} for rows in (mine, mine, mine, others)]  # one file's work orders at a time
