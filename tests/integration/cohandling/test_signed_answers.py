"""Signed answers (protocol 1.5, docs/protocol/receivers.md "Signed answers"): the gateway's client
(connectors/signed_http.py + connectors/answer_check.py) against the simulated receivers as a real
process, which sign every answer with their own answer key; and a replaying middleman that hands
the gateway a page the receiver really signed — for another request. Unsigned, forged, stale and
replayed answers are refused with a reason; nothing is taken from them and nothing is lost."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from connectors.http_receiver import HttpReceiver, make_item
from connectors.ledger import Ledger
from connectors.ledger.schema_cohandling import delivery
from jobs.cohandling.collect_results import collect_results
from simulators.receivers.receiver_process import ReceiverProcess

KEYS = {"gw": "answers-s3cret"}
ANSWER_KEYS = {"gw": "county-answer-key"}  # the key the receiver signs its answers with: not the gateway's request secret
COUNTY = "370102"
AS_OF = datetime(2026, 11, 30, 12, 0)
DELIVERED = datetime(2026, 11, 24, 1, 0)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with ReceiverProcess(tmp_path_factory.mktemp("answers") / "receivers.db", KEYS, answer_keys=ANSWER_KEYS) as proc:
        yield proc


@pytest.fixture
def receivers(sim):
    sim.reset(wipe=True)
    return sim


def client(url: str, **kw) -> HttpReceiver:
    kw = {"backoff_s": 0.01, "max_backoff_s": 0.05, "max_attempts": 2, "answer_secret": ANSWER_KEYS["gw"], **kw}
    return HttpReceiver(url, "gw", KEYS["gw"], **kw)


def item(n: int) -> dict:
    rowguid = f"s{n:04d}-7c1e-4d2a-9b3f-000000000000"
    return make_item(rowguid=rowguid, utility="water", version=1, correction=False,
                     record={"ROWGUID": rowguid, "XZQH": COUNTY, "FWZL": "济南市历下区经十路9号", "YSHH": f"{n:07d}1"})


def test_signed_answers_are_taken(receivers):
    with client(receivers.county_url(COUNTY)) as gw:
        assert [o.status for o in gw.deliver([item(1), item(2)])] == ["delivered", "delivered"]
        assert gw.status(item(1)["idempotency_key"])["receipt_id"]
        assert gw.status("never-sent:water:1") is None  # 404 unknown_work_order: signed too, taken as "not held"
        results, cursor = gw.results(None)  # the 0100 acknowledgements of both
        assert {r["idempotency_key"] for r in results} == {item(1)["idempotency_key"], item(2)["idempotency_key"]} and cursor


@pytest.mark.parametrize(("mode", "reason"), [
    ("unsigned", "answer not signed"),
    ("forged", "signature does not match"),
    ("stale", "stale or replayed"),
])
def test_a_bad_answer_to_a_batch_leaves_the_items_pending_and_the_next_send_takes_them(receivers, mode, reason):
    receivers.faults(answers=mode)
    with client(receivers.county_url(COUNTY)) as gw:
        refused = gw.deliver([item(3), item(4)])
        assert [o.status for o in refused] == ["pending", "pending"] and all(reason in o.reason for o in refused)
        assert len(receivers.accepted(f"county/{COUNTY}")) == 2  # the receiver stored them: the answer was refused, not the items
        with pytest.raises(Exception, match=reason):
            gw.results(None)
        receivers.faults()  # the receiver signs again: the same items are confirmed, once
        again = gw.deliver([item(3), item(4)])
    assert [(o.status, o.code) for o in again] == [("delivered", "0201")] * 2


def test_an_answer_signed_with_another_receivers_key_is_refused(receivers):
    with client(receivers.county_url(COUNTY), answer_secret="another-county-answer-key") as gw:
        [outcome] = gw.deliver([item(5)])
    assert outcome.status == "pending" and "signature does not match" in outcome.reason


def test_a_stale_signature_is_refused_even_when_only_one_receiver_is_faulty(receivers):
    receivers.faults(answers="stale", receivers=["grid"])
    with client(receivers.county_url(COUNTY)) as gw:
        assert gw.results(None) == ([], "0")  # the county still signs properly
    with client(receivers.grid_url()) as gw:
        with pytest.raises(Exception, match="stale or replayed"):
            gw.results(None)


# --- a middleman replaying pages the receiver really signed ----------------------------------------


class _Replayer(BaseHTTPRequestHandler):
    """Forwards each request to the receiver the first time; afterwards answers every request with
    the first answer it recorded (status, signature headers and body), as an attacker would."""

    upstream: str = ""
    recorded: tuple[int, dict, bytes] | None = None
    replays: int = 0

    def do_GET(self):  # noqa: N802 - the stdlib's name
        if _Replayer.recorded is None:
            got = httpx.get(self.upstream + self.path, headers={k: v for k, v in self.headers.items() if k.lower().startswith("x-")}, timeout=10)
            _Replayer.recorded = (got.status_code, {k: v for k, v in got.headers.items() if k.lower().startswith("x-receiver")}, got.content)
        else:
            _Replayer.replays += 1
        status, headers, body = _Replayer.recorded
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def replayer(receivers):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replayer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Replayer.upstream, _Replayer.recorded, _Replayer.replays = receivers.url, None, 0
    yield f"http://127.0.0.1:{server.server_port}/county/{COUNTY}"
    server.shutdown()
    server.server_close()


def fresh_ledger(url: str) -> Ledger:
    ledger = Ledger(url)
    ledger.migrate()
    with ledger.engine.begin() as conn:
        conn.execute(delivery.insert(), [{
            "rowguid": f"r{n:04d}", "utility": "water", "version": 1, "channel": "system", "destination": f"county_system_{COUNTY}",
            "status": "delivered", "attempts": 1, "planned_run_id": "run-1", "delivered_at": DELIVERED, "updated_at": DELIVERED,
        } for n in range(3)])
    return ledger


def result(n: int, seq: int) -> dict:
    rowguid = f"r{n:04d}"
    return {"idempotency_key": f"{rowguid}:water:1", "rowguid": rowguid, "utility": "water", "version": 1, "receipt_id": f"{COUNTY}-{n}",
            "result": "done", "code": "0000", "reason": None, "handled_at": "2026-11-25T10:15:00", "handler": "王丽", "seq": seq}


def test_a_replayed_feed_page_is_refused_and_dead_lettered_the_cursor_stays(receivers, replayer, db_urls):
    receivers.inject(f"county/{COUNTY}", result(1, 1))
    ledger = fresh_ledger(db_urls[1])
    source = f"feed:county/{COUNTY}"
    with client(replayer) as gw:
        first = collect_results(ledger, as_of=AS_OF, feeds={source: gw})  # the real page, signed for this request: taken
        assert first.results == 1 and ledger.cohandling.cursor(source) == "1"
        # The same page again, for the next request (another nonce, another cursor): refused, nothing taken.
        second = collect_results(ledger, as_of=AS_OF, feeds={source: gw})
    assert _Replayer.replays == 2 and second.results == 0 and ledger.cohandling.cursor(source) == "1"
    assert "signature does not match" in second.errors[0]
    letters = ledger.dead_letters("result_feed")
    assert letters["rule_id"].tolist() == ["FEED_PAGE_MALFORMED"]
    assert json.loads(ledger.dead_letter_payload(int(letters["dl_id"].iloc[0])))["results"][0]["seq"] == 1
