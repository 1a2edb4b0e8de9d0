"""Hostile feeds: the results feed (surface result_feed) and the package-events feed (surface
package_event), read by the gateway from the simulators (simulators/receivers/, with their
injection hooks) and from a tiny hostile server of our own on loopback (bytes the simulators
cannot serve: invalid UTF-8, pages that are not pages, answers that trickle).

For every applicable hostile kind in every field of an entry, mixed with good entries, each
collection must complete; each bad entry gets exactly one outcome (a dead letter with one rule
naming the feed, cursor and field, an exception, or — text that only needed cleaning — stored
cleaned); every good entry is stored exactly as without the bad ones; a second collection stores
nothing twice; the cursor moves past everything read."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa

from connectors.answer_check import answer_headers
from connectors.http_receiver import HttpReceiver
from connectors.ledger import Ledger
from connectors.ledger.schema_cohandling import delivery, handling_result, result_exception, work_order_outcome
from connectors.ledger.schema_remote import remote_delivery, remote_event
from connectors.package_receiver import PackageReceiver
from connectors.signed_http import ReceiverError, signature
from jobs.cohandling.collect_results import MAX_PAGE_READS, collect_results
from jobs.remote.track_packages import collect_package_events
from simulators.receivers.receiver_process import ReceiverProcess
from tests.hostile import DEPTH, KINDS, covers

KEYS = {"gw": "hostile-s3cret"}
COUNTY = "370102"
SOURCE = f"feed:county/{COUNTY}"
AS_OF = datetime(2026, 11, 30, 12, 0)  # local
DELIVERED = datetime(2026, 11, 24, 1, 0)  # UTC
RESULT_FIELDS = ("version", "seq", "idempotency_key", "rowguid", "code", "result", "reason", "handled_at", "handler")
EVENT_FIELDS = ("change_seq", "seq", "idempotency_key", "bwid", "status", "at", "reason", "handler")
JSON_KINDS = [k for k in KINDS if k != "invalid_utf8"]  # a value a JSON body can carry; invalid_utf8 goes through our own server
HUGE_IN = {"reason", "rowguid", "bwid", "code", "status"}  # 3 MB values: in a few fields (every field with HOSTILE_DEPTH > 1)


def values(field: str, kind: str) -> list:
    """The catalogue's values of a kind for a field: two per kind by default, all of them deeper."""
    if kind == "huge_cell" and DEPTH == 1 and field not in HUGE_IN:
        return []
    return KINDS[kind] if DEPTH > 1 else KINDS[kind][:2]


class _Sim:
    """The simulator process with one kept-alive control client (its own helpers open a client per call)."""

    def __init__(self, proc: ReceiverProcess) -> None:
        self.proc = proc
        self.http = httpx.Client(base_url=proc.url, timeout=60)

    def __getattr__(self, name):
        return getattr(self.proc, name)

    def inject(self, receiver: str, entry: object) -> int:
        answer = self.http.post("/_sim/inject", json={"receiver": receiver, "result": entry})
        answer.raise_for_status()
        return answer.json()["seq"]

    def inject_package_event(self, receiver: str, entry: object) -> int:
        answer = self.http.post("/_sim/package-events", json={"receiver": receiver, "event": entry})
        answer.raise_for_status()
        return answer.json()["seq"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with ReceiverProcess(tmp_path_factory.mktemp("hostile") / "receivers.db", KEYS) as proc:
        wrapped = _Sim(proc)
        yield wrapped
        wrapped.http.close()


def receiver(url: str, kind=HttpReceiver, **kw):
    return kind(url, "gw", KEYS["gw"], backoff_s=0.01, max_backoff_s=0.05, **kw)


def fresh_ledger(url: str, orders: int) -> Ledger:
    ledger = Ledger(url)
    ledger.migrate()
    with ledger.engine.begin() as conn:
        conn.execute(delivery.insert(), [{
            "rowguid": f"r{n:04d}", "utility": "water", "version": 1, "channel": "system", "destination": f"county_system_{COUNTY}",
            "status": "delivered", "attempts": 1, "planned_run_id": "run-1", "delivered_at": DELIVERED, "updated_at": DELIVERED,
        } for n in range(orders)])
    return ledger


def result(n: int, **changes) -> dict:
    rowguid = f"r{n:04d}"
    entry = {"idempotency_key": f"{rowguid}:water:1", "rowguid": rowguid, "utility": "water", "version": 1, "receipt_id": f"370102-{n}",
             "result": "done", "code": "0000", "reason": None, "handled_at": "2026-11-25T10:15:00", "handler": "王丽"}
    entry.update(changes)
    return entry


def hostile_values():
    """(field, kind, value) for every applicable kind of every field of a result."""
    for field in RESULT_FIELDS:
        for kind in JSON_KINDS:
            for value in values(field, kind):
                yield field, kind, value


def stored(ledger: Ledger, rowguids: set[str]) -> tuple[list, list]:
    with ledger.engine.connect() as conn:
        results = sorted(tuple(r) for r in conn.execute(sa.select(
            handling_result.c.rowguid, handling_result.c.result, handling_result.c.code, handling_result.c.reason,
            handling_result.c.handled_at, handling_result.c.handler)) if r[0] in rowguids)
        outcomes = sorted(tuple(r) for r in conn.execute(sa.select(
            work_order_outcome.c.rowguid, work_order_outcome.c.result, work_order_outcome.c.code, work_order_outcome.c.handled_at)) if r[0] in rowguids)
    return results, outcomes


def counts(ledger: Ledger) -> tuple[int, int, int]:
    with ledger.engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in (handling_result, result_exception)) + (
            len(ledger.dead_letters("result_feed")),)


# --- the results feed -------------------------------------------------------------------------------


def test_hostile_results_are_isolated_one_by_one_and_the_feed_goes_on(sim, db_urls):
    cases = list(hostile_values())
    goods = list(range(len(cases), len(cases) + 40))  # work orders with only good results
    orders = len(cases) + len(goods)
    # Baseline: only the good results, on a ledger and a feed of their own.
    sim.reset(wipe=True)
    for n in goods:
        sim.inject(f"county/{COUNTY}", result(n))
    base = fresh_ledger(db_urls[0], orders)
    with receiver(sim.county_url(COUNTY)) as client:
        collect_results(base, as_of=AS_OF, feeds={SOURCE: client})
    # The same good results with a hostile one (each about a work order of its own) after every few.
    sim.reset(wipe=True)
    seqs: dict[int, tuple[str, str, object]] = {}
    good_iter = iter(goods)
    for j, (field, kind, value) in enumerate(cases):
        if j % 7 == 0:
            n = next(good_iter, None)
            if n is not None:
                sim.inject(f"county/{COUNTY}", result(n))
        entry = result(j, **{field: value})
        seqs[sim.inject(f"county/{COUNTY}", entry)] = (field, kind, value)
    for n in good_iter:
        sim.inject(f"county/{COUNTY}", result(n))
    last = len(cases) + len(goods)  # every entry injected: the feed's last seq
    ledger = fresh_ledger(db_urls[1], orders)
    with receiver(sim.county_url(COUNTY)) as client:
        run = collect_results(ledger, as_of=AS_OF, feeds={SOURCE: client})
    assert not run.errors and not run.alerts and ledger.cohandling.cursor(SOURCE) is not None

    # Every good result is stored exactly as without the hostile ones.
    good_rowguids = {f"r{n:04d}" for n in goods}
    assert stored(ledger, good_rowguids) == stored(base, good_rowguids) and len(stored(base, good_rowguids)[0]) == len(goods)

    # Each hostile entry: exactly one outcome, and a dead letter names the feed, the cursor and the field.
    letters = ledger.dead_letters("result_feed")
    assert all(SOURCE in r and "游标" in r for r in letters["reason"]) and letters["owner"].eq(f"receiver:county/{COUNTY}").all()
    by_position = {feed_seq_of(o): (rule, loc) for o, rule, loc in zip(letters["origin"], letters["rule_id"], letters["location"])}
    with ledger.engine.connect() as conn:
        exceptions = [dict(r) for r in conn.execute(sa.select(result_exception)).mappings()]
        accepted = [dict(r) for r in conn.execute(sa.select(handling_result)).mappings()]
    assert run.results == len(accepted) and run.exceptions == len(exceptions) and run.dead_letters == len(letters)
    assert len(letters) + len(exceptions) + len(accepted) == len(cases) + len(goods)  # nothing lost, nothing twice
    for seq, (field, kind, value) in seqs.items():
        rowguid = f"r{seq_owner(seqs, seq):04d}"
        mine = (seq in by_position) + sum(e["rowguid"] == rowguid or (e["rowguid"] is None and e["row_number"] == seq) for e in exceptions) \
            + sum(a["rowguid"] == rowguid for a in accepted)
        if field not in ("rowguid", "idempotency_key", "version"):  # those may name another (or no) work order: counted in the total above
            assert mine == 1, (field, kind, value)
        if seq in by_position:
            assert by_position[seq][1] in (field, None), (field, kind, by_position[seq])
    for a in accepted:  # what was stored is clean text
        assert all("\x00" not in str(a[c]) and "\u202e" not in str(a[c]) for c in ("reason", "handler"))

    # The superscript version, a seq beyond BIGINT, an over-long key and a NUL in a reason (the cases).
    rules = {seqs[s][:2]: r for s, (r, _) in by_position.items()}
    assert rules[("version", "non_ascii_digits")] == "FEED_FIELD_TYPE"
    assert rules[("seq", "out_of_range_number")] in ("FEED_FIELD_TYPE", "FEED_FIELD_RANGE")
    assert rules[("rowguid", "huge_cell")] == "FEED_FIELD_TOO_LONG"
    assert "abcdef" in [a["reason"] for a in accepted]  # "abc\x00def", cleaned

    # A second collection stores nothing twice; the cursor has moved past everything.
    before = counts(ledger)
    with receiver(sim.county_url(COUNTY)) as client:
        again = collect_results(ledger, as_of=AS_OF, feeds={SOURCE: client})
    assert counts(ledger) == before and again.results == again.exceptions == again.dead_letters == 0
    assert int(ledger.cohandling.cursor(SOURCE)) == last
    for _field, kind, _ in cases:
        covers("result_feed", kind)


def feed_seq_of(origin: str) -> int:
    """The simulator's seq of a dead-lettered entry, from its origin `<feed> after='<cursor>' #<position>` (cursor = last seq)."""
    where, _, position = origin.rpartition(" #")
    after = where.rpartition("after=")[2]
    return (0 if after == "None" else int(after.strip("'"))) + int(position)


def seq_owner(seqs: dict, seq: int) -> int:
    """The work order a hostile entry is about: its index among the hostile cases."""
    return sorted(seqs).index(seq)


def test_one_feed_down_or_garbled_never_stops_another(sim, db_urls):
    sim.reset(wipe=True)
    sim.inject(f"county/{COUNTY}", result(1))
    ledger = fresh_ledger(db_urls[1], 3)
    with receiver(sim.county_url(COUNTY)) as good, receiver("http://127.0.0.1:9/none", max_attempts=1) as down:
        run = collect_results(ledger, as_of=AS_OF, feeds={"feed:county/370199": down, SOURCE: good})
    assert run.results == 1 and len(run.errors) == 1 and "370199" in run.errors[0]


# --- the package-events feed -----------------------------------------------------------------------------


def fresh_remote_ledger(url: str, versions: int) -> Ledger:
    ledger = Ledger(url)
    ledger.migrate()
    with ledger.engine.begin() as conn:
        conn.execute(remote_delivery.insert(), [{
            "source": "hall", "change_seq": n, "bwid": f"YD{n:06d}", "idempotency_key": f"YD{n:06d}:{n}", "channel": "county_system",
            "destination": f"county_system_{COUNTY}", "correction": False, "status": "delivered", "attempts": 1, "files": 0,
            "planned_run_id": "run-1", "planned_at": DELIVERED, "first_sent_at": DELIVERED, "delivered_at": DELIVERED, "updated_at": DELIVERED,
        } for n in range(1, versions + 1)])
    return ledger


def event(n: int, **changes) -> dict:
    entry = {"idempotency_key": f"YD{n:06d}:{n}", "bwid": f"YD{n:06d}", "change_seq": n, "receipt_id": f"YDDS-{n}", "status": "accepted",
             "at": "2026-11-25T10:15:00", "reason": None, "missing": None, "certificate": None, "fee": None, "handler": "周敏"}
    entry.update(changes)
    return entry


def test_hostile_package_events_are_isolated_one_by_one(sim, db_urls):
    cases = [(f, k, v) for f in EVENT_FIELDS for k in JSON_KINDS for v in values(f, k)]
    goods = list(range(len(cases) + 1, len(cases) + 31))
    feed = f"county_system_{COUNTY}"

    def run(url: str, hostile: bool):
        sim.reset(wipe=True)
        for j, (field, _kind, value) in enumerate(cases if hostile else [], start=1):
            sim.inject_package_event(f"county/{COUNTY}", event(j, **{field: value}))
        for n in goods:
            sim.inject_package_event(f"county/{COUNTY}", event(n))
        ledger = fresh_remote_ledger(url, len(cases) + len(goods) + 1)
        with receiver(sim.county_url(COUNTY), kind=PackageReceiver) as client:
            summary = collect_package_events(ledger, receiver_for=lambda _: client, run_id="run-2", as_of=AS_OF, now=DELIVERED + timedelta(days=6))
            again = collect_package_events(ledger, receiver_for=lambda _: client, run_id="run-3", as_of=AS_OF, now=DELIVERED + timedelta(days=6))
        return ledger, summary, again

    base, _, _ = run(db_urls[0], hostile=False)
    ledger, summary, again = run(db_urls[1], hostile=True)
    assert not summary["errors"] and not summary["alerts"]
    assert summary["events"] + summary["dead_letters"] == len(cases) + len(goods)
    assert again["events"] == again["dead_letters"] == 0  # nothing read twice: the cursor moved

    def good_events(led: Ledger):
        with led.engine.connect() as conn:
            return sorted((r.idempotency_key, r.status, r.at, r.reason, r.accepted) for r in conn.execute(sa.select(remote_event))
                          if r.change_seq is not None and r.change_seq in goods)

    assert good_events(ledger) == good_events(base) and len(good_events(base)) == len(goods)
    letters = ledger.dead_letters("package_event")
    assert len(letters) == summary["dead_letters"] and all(feed in r and "游标" in r for r in letters["reason"])
    with ledger.engine.connect() as conn:
        for r in conn.execute(sa.select(remote_event)):
            assert "\x00" not in (r.reason or "") and "\x00" not in r.raw
    for _, kind, _ in cases:
        covers("package_event", kind)


# --- a hostile server of our own: bytes, pages that are not pages, answers that trickle -------------------


class _Hostile(BaseHTTPRequestHandler):
    """Speaks the feed protocol (checks the HMAC signature of every request) with canned pages:
    `pages[after]` is the body for that cursor; `trickle` sends it one byte every `trickle` s."""

    pages: dict[str, bytes] = {}
    trickle: float = 0.0
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        expected = signature(KEYS["gw"], self.headers["X-Timestamp"], "GET", path, b"")
        if self.headers.get("X-Signature") != expected:
            self.send_response(401)
            self.end_headers()
            return
        after = params.get("after", "")
        self.hits.append(after)
        body = self.pages.get(after, b'{"results": [], "events": [], "next": "%s", "more": false}' % after.encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer_headers(KEYS["gw"], nonce=self.headers.get("X-Nonce", ""), status=200, method="GET", path=path,
                                          after=after, body=body, timestamp=time.time()).items():
            self.send_header(name, value)  # a hostile server that is still the receiver: its pages are signed
        self.end_headers()
        try:
            if self.trickle:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(self.trickle)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hostile.pages, _Hostile.trickle, _Hostile.hits = {}, 0.0, []
    yield f"http://127.0.0.1:{server.server_port}/county/{COUNTY}"
    server.shutdown()
    server.server_close()


def page(key: str, entries: list[bytes], next_cursor: str) -> bytes:
    return b'{"%s": [' % key.encode() + b",".join(entries) + b'], "next": "%s", "more": false}' % next_cursor.encode()


def test_bytes_that_are_not_utf8_spoil_only_their_entry(hostile, db_urls):
    ledger = fresh_ledger(db_urls[1], 10)
    good = [json.dumps(result(n, seq=n), ensure_ascii=False).encode() for n in (1, 2)]
    bad = [json.dumps(result(n, seq=n, reason="@@")).encode().replace(b"@@", raw) for n, raw in zip((3, 4, 5), KINDS["invalid_utf8"])]
    _Hostile.pages[""] = page("results", [good[0], *bad, good[1]], "5")
    with receiver(hostile) as client:
        run = collect_results(ledger, as_of=AS_OF, feeds={SOURCE: client})
    assert run.results == 2 and run.dead_letters == 3 and ledger.cohandling.cursor(SOURCE) == "5"
    letters = ledger.dead_letters("result_feed")
    assert set(letters["rule_id"]) == {"FEED_FIELD_ENCODING"} and set(letters["location"]) == {"reason"}
    assert ledger.dead_letter_payload(int(letters["dl_id"].min())) .count(b"\xfa") + ledger.dead_letter_payload(int(letters["dl_id"].max())).count(b"\xff") >= 1
    covers("result_feed", "invalid_utf8")

    events = fresh_remote_ledger(db_urls[0], 5)
    ok = json.dumps(event(1, seq=1)).encode()
    _Hostile.pages[""] = page("events", [ok, json.dumps(event(2, seq=2, reason="@@")).encode().replace(b"@@", b"\xff\xfe")], "2")
    with receiver(hostile, kind=PackageReceiver) as client:
        summary = collect_package_events(events, receiver_for=lambda _: client, run_id="r", as_of=AS_OF, now=DELIVERED + timedelta(days=6))
    assert summary["accepted"] == 1 and summary["dead_letters"] == 1 and events.dead_letters("package_event")["rule_id"].tolist() == ["FEED_FIELD_ENCODING"]
    covers("package_event", "invalid_utf8")


def test_a_page_that_is_not_a_page_is_dead_lettered_once_re_read_a_bounded_number_of_runs_then_alerted(hostile, db_urls):
    ledger = fresh_ledger(db_urls[1], 10)
    _Hostile.pages[""] = page("results", [json.dumps(result(1, seq=1)).encode()], "1")
    _Hostile.pages["1"] = b"<html>maintenance</html>"
    with receiver(hostile, max_attempts=2) as client:
        runs = [collect_results(ledger, as_of=AS_OF, feeds={SOURCE: client}) for _ in range(MAX_PAGE_READS + 2)]  # the first reads only page 1
    assert runs[0].results == 1 and ledger.cohandling.cursor(SOURCE) == "1"  # the good page before it is kept
    letters = ledger.dead_letters("result_feed")
    assert len(letters) == 1 and letters["rule_id"].iloc[0] == "FEED_PAGE_MALFORMED" and letters["seen_count"].iloc[0] == MAX_PAGE_READS
    assert ledger.dead_letter_payload(int(letters["dl_id"].iloc[0])) == b"<html>maintenance</html>"
    assert [bool(r.alerts) for r in runs] == [False] * MAX_PAGE_READS + [True, True]
    assert _Hostile.hits.count("1") == 2 * MAX_PAGE_READS  # 2 attempts a run, then left alone
    # The receiver fixes its page and the operator resolves the dead letter: the feed goes on.
    _Hostile.pages["1"] = page("results", [json.dumps(result(2, seq=2)).encode()], "2")
    ledger.resolve_dead_letters("result_feed", letters["unit_key"].tolist(), resolution="receiver fixed")
    with receiver(hostile) as client:
        fixed = collect_results(ledger, as_of=AS_OF, feeds={SOURCE: client})
    assert fixed.results == 1 and not fixed.alerts and ledger.cohandling.cursor(SOURCE) == "2"


def test_a_feed_that_trickles_is_cut_at_the_total_deadline(hostile, db_urls):
    _Hostile.pages[""] = page("results", [json.dumps(result(1, seq=1)).encode()], "1")
    _Hostile.trickle = 0.02  # ~250 bytes: about 5 s in all, every byte well inside the per-read timeout
    with receiver(hostile, timeout_s=2, deadline_s=1, max_attempts=2) as client:
        started = time.monotonic()
        with pytest.raises(ReceiverError, match="deadline of 1 s"):
            client.results(None)
        assert time.monotonic() - started < 4
    ledger = fresh_ledger(db_urls[1], 3)
    with receiver(hostile, timeout_s=2, deadline_s=1, max_attempts=1) as client:
        started = time.monotonic()
        run = collect_results(ledger, as_of=AS_OF, feeds={SOURCE: client})
    assert time.monotonic() - started < 3 and run.results == 0 and "deadline" in run.errors[0] and ledger.cohandling.cursor(SOURCE) is None


def test_an_answer_beyond_the_size_bound_is_not_read_whole(hostile):
    _Hostile.pages[""] = page("results", [json.dumps(result(1, seq=1, reason="x" * 5000)).encode()], "1")
    with receiver(hostile, max_answer_bytes=1000, max_attempts=1) as client:
        with pytest.raises(ReceiverError, match="larger than 1000 bytes"):
            client.results(None)
