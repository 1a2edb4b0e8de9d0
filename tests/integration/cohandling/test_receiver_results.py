"""Handling results (办理结果) end to end: the gateway's client (`HttpReceiver.results`, `.status`)
against the simulated county systems and grid (simulators/receivers/) as a real process on
loopback. The simulator's truth (`GET /_sim/results`) says what every accepted item will produce
and when; the feed must show exactly the part of it that is due on the simulator's clock."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from connectors.answer_check import answer_headers
from connectors.http_receiver import HttpReceiver, make_item
from connectors.signed_http import ReceiverError, signed_headers
from simulators.receivers.handling_results import FINAL
from simulators.receivers.receiver_process import ReceiverProcess

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "docs" / "protocol" / "receiver-openapi.yaml"
KEYS = {"gw": "results-s3cret"}
COUNTY = "370102"
T0 = datetime(2026, 11, 23, 9, 0, 0)  # every item below is accepted at this (simulated) moment
RESULT_FIELDS = ("idempotency_key", "rowguid", "utility", "version", "receipt_id", "result", "code", "reason", "handled_at", "handler", "seq")
EVERY_KIND = {"done": 3, "duplicate": 1, "no_account": 1, "arrears": 1, "other": 1, "silent": 2, "late": 2}
ACCOUNT = {"electricity": "YDHH", "water": "YSHH"}


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with ReceiverProcess(tmp_path_factory.mktemp("results") / "receivers.db", KEYS) as proc:
        yield proc


@pytest.fixture
def receivers(sim):
    sim.reset(wipe=True)  # also: no results, default mix, real clock ...
    sim.clock(at(0))  # ... which every test fixes at T0
    return sim


@pytest.fixture
def client():
    made: list[HttpReceiver] = []

    def make(base_url: str, **kw) -> HttpReceiver:
        kw = {"backoff_s": 0.01, "max_backoff_s": 2, **kw}
        receiver = HttpReceiver(base_url, "gw", kw.pop("secret", KEYS["gw"]), **kw)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def item(n: int, utility: str = "water", *, tag: str = "r") -> dict:
    rowguid = f"{tag}{n:04d}-7c1e-4d2a-9b3f-000000000000"
    record = {"ROWGUID": rowguid, "XZQH": COUNTY, "FWZL": "济南市历下区经十路9号", ACCOUNT[utility]: f"{n:07d}1"}
    return make_item(rowguid=rowguid, utility=utility, version=1, correction=False, record=record)


def deliver(receiver: HttpReceiver, batch: list[dict]) -> None:
    assert [o.code for o in receiver.deliver(batch)] == ["0000"] * len(batch)


def served(row: dict) -> dict:
    """A truth row as the feed serves it."""
    return {name: row[name] for name in RESULT_FIELDS}


def visible(truth: list[dict]) -> list[dict]:
    return [served(r) for r in sorted((r for r in truth if r["visible"]), key=lambda r: r["seq"])]


def fates(truth: list[dict]) -> dict[str, str]:
    return {r["idempotency_key"]: r["fate"] for r in truth}


def signed_get(url: str, path: str, **params) -> httpx.Response:
    headers = signed_headers("gw", KEYS["gw"], method="GET", path=path, body=b"", timestamp=time.time())
    return httpx.get(url + path, params=params, headers=headers, timeout=10)


# --- the feed --------------------------------------------------------------------------------------


def test_the_feed_shows_exactly_the_visible_truth_as_the_clock_moves(receivers, client):
    receivers.results_mix(mix=EVERY_KIND)
    county, grid = client(receivers.county_url(COUNTY)), client(receivers.grid_url())
    deliver(county, [item(n) for n in range(60)])
    deliver(grid, [item(n, "electricity", tag="e") for n in range(20)])
    receiver = f"county/{COUNTY}"
    fate = fates(receivers.truth(receiver))
    assert len(fate) == 60 and set(fate.values()) == set(EVERY_KIND)  # every kind drawn at least once
    silent = {k for k, f in fate.items() if f == "silent"}
    late = {k for k, f in fate.items() if f == "late"}
    prompt = set(fate) - silent - late

    # At acceptance: a 0100 for every item but the silent ones, nothing final yet.
    first, cursor = county.results(None, limit=7)
    assert first == visible(receivers.truth(receiver))
    assert [r["seq"] for r in first] == list(range(1, len(first) + 1)) and cursor == str(len(first))
    assert {r["idempotency_key"] for r in first} == set(fate) - silent
    assert {(r["result"], r["code"], r["handled_at"], r["handler"]) for r in first} == {("received", "0100", at(0), None)}

    # Four days on: every final result due within delay_days [0, 3], none of the late ones.
    receivers.clock(at(4))
    second, cursor = county.results(cursor, limit=7)
    assert first + second == visible(receivers.truth(receiver))
    assert {r["idempotency_key"] for r in second} == prompt and len(second) == len(prompt)
    for result in second:
        assert (result["result"], result["code"]) == FINAL[fate[result["idempotency_key"]]]
        assert at(0) < result["handled_at"] <= at(4) and result["handler"]
        assert (result["reason"] is None) == (result["code"] == "0000")
    assert county.results(cursor) == ([], cursor)  # nothing new: the cursor stays

    receivers.clock(at(7.9))  # late_days [8, 15]: still nothing
    assert county.results(cursor) == ([], cursor)
    receivers.clock(at(16))
    third, cursor = county.results(cursor, limit=7)
    assert {r["idempotency_key"] for r in third} == late and {r["code"] for r in third} == {"0000"}
    assert all(r["handled_at"] >= at(8) for r in third)

    # Silent ones never appear; the whole feed read again is the same, in the same places.
    everything = first + second + third
    assert not silent & {r["idempotency_key"] for r in everything}
    assert all(r["kind"] == "silent" and r["code"] is None and not r["visible"] for r in receivers.truth(receiver) if r["fate"] == "silent")
    assert county.results(None) == (everything, str(len(everything)))
    assert [r["seq"] for r in everything] == list(range(1, len(everything) + 1))

    # A bounded call leaves the rest for the next one.
    some, middle = county.results(None, limit=5, max_pages=3)
    assert some == everything[:15] and middle == "15"
    assert county.results(middle, limit=500)[0] == everything[15:]

    # The grid has its own feed, numbered from 1, holding only what the grid accepted.
    grid_results, _ = grid.results(None)
    assert grid_results == visible(receivers.truth("grid")) and grid_results[0]["seq"] == 1
    assert {r["utility"] for r in grid_results} == {"electricity"}


def test_acknowledgements_come_first_and_fates_depend_only_on_the_key(receivers, client):
    county = client(receivers.county_url(COUNTY))
    batch = [item(n) for n in range(30)]
    deliver(county, batch)
    receivers.clock(at(16))
    results, _ = county.results(None)
    per_key: dict[str, list[dict]] = {}
    for result in results:
        per_key.setdefault(result["idempotency_key"], []).append(result)
    truth = receivers.truth(f"county/{COUNTY}")
    assert {k for k, f in fates(truth).items() if f != "silent"} == set(per_key)
    for got in per_key.values():
        assert [r["code"] for r in got][0] == "0100" and len(got) == 2  # received first, then final
        assert got[0]["handled_at"] == at(0) < got[1]["handled_at"]
    first_round = {(r["idempotency_key"], r["kind"], r["code"], r["reason"], r["handled_at"], r["handler"]) for r in truth}

    # Same keys, accepted at the same moment: the same fates, times, reasons and handlers.
    receivers.reset(wipe=True)
    receivers.clock(at(0))
    receivers.results_mix(acknowledge=False)
    deliver(county, batch)
    receivers.clock(at(16))
    again = receivers.truth(f"county/{COUNTY}")
    assert {(r["idempotency_key"], r["kind"], r["code"], r["reason"], r["handled_at"], r["handler"]) for r in again} == {
        row for row in first_round if row[1] != "acknowledged"}
    results, _ = county.results(None)
    assert "0100" not in {r["code"] for r in results} and len(results) == len(per_key)


def test_the_mix_decides_the_fates_and_is_checked(receivers, client):
    assert receivers.results_mix(mix={"silent": 1})["mix"]["silent"] == 1.0
    county = client(receivers.county_url(COUNTY))
    deliver(county, [item(n) for n in range(10)])
    receivers.results_mix(mix={"arrears": 2, "other": 2}, delay_days=[1, 1])  # applies to items accepted from now on
    deliver(county, [item(n) for n in range(10, 30)])
    receivers.clock(at(30))
    results, _ = county.results(None)
    assert {r["idempotency_key"] for r in results} == {item(n)["idempotency_key"] for n in range(10, 30)}
    finals = [r for r in results if r["code"] != "0100"]
    assert {r["code"] for r in finals} == {"0003", "0009"} and {r["result"] for r in finals} == {"rejected"}
    assert {r["reason"] for r in finals if r["code"] == "0003"} == {"存在欠费未结清，请结清后办理"}
    assert all(r["handled_at"][:10] == at(1)[:10] for r in finals)  # exactly one calendar day later

    for bad in ({"mix": {"lost": 1}}, {"mix": {"done": 0}}, {"delay_days": [3, 1]}, {"acknowledge": "yes"}, {"speed": 2}):
        with pytest.raises(httpx.HTTPStatusError) as failed:
            receivers.results_mix(**bad)
        assert failed.value.response.status_code == 400


def test_a_restarted_receiver_keeps_its_results_cursor_and_clock(tmp_path, client):
    with ReceiverProcess(tmp_path / "receivers.db", KEYS) as sim:
        sim.clock(at(0))
        county = client(sim.county_url(COUNTY), max_attempts=2)
        deliver(county, [item(n) for n in range(12)])
        before, cursor = county.results(None)
        truth = sim.truth()
        sim.stop()
        with pytest.raises(ReceiverError, match="cannot reach the receiver"):
            county.results(cursor)
        sim.start()
        assert httpx.get(f"{sim.url}/_sim/clock", timeout=10).json() == {"now": at(0), "fixed": True}
        assert sim.truth() == truth
        assert county.results(None) == (before, cursor) and county.results(cursor) == ([], cursor)
        sim.clock(at(16))
        after, end = county.results(cursor)
        assert before + after == visible(sim.truth()) and after and int(end) > int(cursor)


def test_the_status_query_shows_the_latest_result(receivers, client):
    import jsonschema
    import yaml

    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/WorkOrderStatus", "components": spec["components"]})
    receivers.results_mix(mix=EVERY_KIND)
    county = client(receivers.county_url(COUNTY))
    deliver(county, [item(n) for n in range(20)])
    fate = fates(receivers.truth(f"county/{COUNTY}"))
    done, late, silent = (next(k for k, f in fate.items() if f == wanted) for wanted in ("done", "late", "silent"))

    status = county.status(done)
    validator.validate(status)
    assert status["result"]["code"] == "0100" and county.status(silent)["result"] is None
    receivers.clock(at(4))
    final = next(served(r) for r in receivers.truth(f"county/{COUNTY}") if r["idempotency_key"] == done and r["kind"] == "done")
    assert county.status(done)["result"] == final
    assert county.status(late)["result"]["code"] == "0100"
    receivers.clock(at(16))
    validator.validate(county.status(late))
    assert county.status(late)["result"]["code"] == "0000" and county.status(silent)["result"] is None
    receivers.clock(at(0))  # setting the clock back takes nothing back
    assert county.status(late)["result"]["code"] == "0000"


def test_injected_results_are_served_verbatim_for_the_gateway_to_judge(receivers, client):
    county, grid = client(receivers.county_url(COUNTY)), client(receivers.grid_url())
    deliver(county, [item(1)])
    deliver(grid, [item(2, "electricity", tag="e")])
    receivers.clock(at(4))
    _, cursor = grid.results(None)
    honest = next(served(r) for r in receivers.truth("grid") if r["kind"] not in ("acknowledged", "silent"))
    county_result = next(served(r) for r in receivers.truth(f"county/{COUNTY}") if r["visible"])
    unsigned = {name: value for name, value in honest.items() if name != "seq"}
    conflict = ({"result": "done", "code": "0000", "reason": None} if honest["result"] == "rejected"
                else {"result": "rejected", "code": "0003", "reason": "存在欠费未结清，请结清后办理"})
    hostile = [
        {**unsigned, "idempotency_key": "never-sent:electricity:1"},                      # a key never sent
        {name: value for name, value in county_result.items() if name != "seq"},          # the county's result, in the grid's feed
        {**unsigned, "handled_at": "2020-01-01T00:00:00"},                                # dated before delivery
        {**unsigned, **conflict},                                                         # a second, different final result
        {**unsigned, "handled_at": "tomorrow", "colour": "red", "seq": "abc"},             # garbage, with a seq of its own
        "not even an object",
        [1, 2, 3],
        None,
    ]
    seqs = [receivers.inject("grid", result) for result in hostile]
    assert seqs == list(range(int(cursor) + 1, int(cursor) + 1 + len(hostile)))

    got, end = grid.results(cursor, limit=3)
    assert end == str(seqs[-1])
    assert got[:4] == [{**result, "seq": seq} for result, seq in zip(hostile[:4], seqs)]  # objects get their place as seq ...
    assert got[4:] == hostile[4:]  # ... unless they have one; anything else verbatim

    # The truth and the status query are the receiver's own results: injections stay apart.
    assert [served(r) for r in receivers.truth("grid")] == visible(receivers.truth("grid")) and len(receivers.truth("grid")) == 2
    assert [i["seq"] for i in receivers.injected("grid")] == seqs
    assert grid.status(honest["idempotency_key"])["result"] == honest
    with pytest.raises(httpx.HTTPStatusError):
        receivers.inject("county/3701", {})


# --- the transport: auth, retries, malformed pages -----------------------------------------------------


def test_reading_results_survives_errors_and_throttling(receivers, client):
    county = client(receivers.county_url(COUNTY))
    deliver(county, [item(n) for n in range(20)])
    receivers.clock(at(16))
    receivers.faults(error_rate=0.3, throttle_rate=0.3, retry_after_s=1, seed=7)
    sleeps: list[float] = []
    shaky = client(receivers.county_url(COUNTY), max_attempts=12, sleep=sleeps.append)
    got, cursor = shaky.results(None, limit=4)
    receivers.faults()
    assert got == visible(receivers.truth(f"county/{COUNTY}")) and cursor == str(len(got))
    responses = receivers.stats()["responses"]
    assert responses["500"] >= 1 and responses["429"] >= 1
    assert sleeps.count(1.0) == responses["429"]  # each 429 waited its Retry-After


def test_results_requests_are_signed_and_their_query_checked(receivers, client):
    path = f"/county/{COUNTY}/v1/results"
    anonymous = httpx.get(receivers.url + path, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_auth"
    with pytest.raises(ReceiverError, match="HTTP 401 bad_signature"):
        client(receivers.county_url(COUNTY), secret="wrong").results(None)
    for params, message in (({"after": "abc"}, "after must be a cursor"), ({"limit": "501"}, "limit must be"), ({"limit": "0"}, "limit must be")):
        answer = signed_get(receivers.url, path, **params)
        assert answer.status_code == 400 and answer.json()["error"] == "bad_request" and answer.json()["message"].startswith(message)
    assert signed_get(receivers.url, path, after="99").json() == {"results": [], "next": "99", "more": False}
    with pytest.raises(ReceiverError, match="HTTP 400 bad_request"):
        client(receivers.county_url(COUNTY)).results("not-a-cursor")
    with pytest.raises(ValueError, match="limit must be 1 to 500"):
        client(receivers.county_url(COUNTY)).results(None, limit=501)


class _Canned(BaseHTTPRequestHandler):
    """Answers GET {base}/v1/results with the body filed under {base}; counts requests."""

    pages: dict[str, bytes] = {}
    hits: Counter = Counter()

    def do_GET(self):  # noqa: N802 - the stdlib's name
        base = self.path.split("/v1/", 1)[0]
        self.hits[base] += 1
        body = self.pages[base]
        path, _, query = self.path.partition("?")
        after = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("after", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer_headers(KEYS["gw"], nonce=self.headers.get("X-Nonce", ""), status=200, method="GET", path=path, after=after,
                                          body=body, timestamp=time.time()).items():
            self.send_header(name, value)  # signed: the page is refused for its shape, not its signature
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("page", "error"), [
    (b"<html>busy</html>", "results page is not JSON"),
    (json.dumps({"items": []}).encode(), "200 without a results list"),
    (json.dumps({"results": {}, "next": "1", "more": False}).encode(), "200 without a results list"),
    (json.dumps({"results": [], "next": "1", "more": "no"}).encode(), "more must be true or false"),
    (json.dumps({"results": [{}], "more": False}).encode(), "results page without a next cursor"),
    (json.dumps({"results": [{}], "next": 7, "more": False}).encode(), "next must be a string cursor"),
    (json.dumps({"results": [{}], "next": "5", "more": True}).encode(), "cursor did not move"),
])
def test_a_malformed_page_raises_receiver_error(client, page, error):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Canned.pages["/bad"] = page
        _Canned.hits.clear()
        receiver = client(f"http://127.0.0.1:{server.server_port}/bad", max_attempts=2)
        with pytest.raises(ReceiverError, match=error):
            receiver.results("5")
        assert _Canned.hits["/bad"] == (1 if error == "cursor did not move" else 2)  # unreadable pages are retried
    finally:
        server.shutdown()
        server.server_close()
