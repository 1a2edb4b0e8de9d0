"""The HTTP push protocol end to end: the gateway's client (connectors/http_receiver.py) against the
simulated county systems and grid (simulators/receivers/), each a real uvicorn process on
loopback. No HTTP is mocked; faults come from the simulator's seeded control endpoints."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from connectors.channels import channel_for
from connectors.delivery import ItemOutcome
from connectors.http_receiver import HttpReceiver, make_item
from connectors.signed_http import signed_headers
from simulators.receivers.receiver_app import create_app
from simulators.receivers.receiver_process import ReceiverProcess
from transforms.cohandling.annex1 import FIELD_CODES

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "docs" / "protocol" / "receiver-openapi.yaml"
KEYS = {"gw": "s3cret-of-the-gateway", "qingdao": "another-s3cret"}
COUNTY = "370102"
ACCOUNT = {"electricity": "YDHH", "water": "YSHH", "gas": "YQHH", "heat": "YNHH"}


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with ReceiverProcess(tmp_path_factory.mktemp("receivers") / "receivers.db", KEYS) as proc:
        yield proc


@pytest.fixture
def receivers(sim):
    sim.reset(wipe=True)
    return sim


@pytest.fixture
def client():
    made: list[HttpReceiver] = []

    def make(base_url: str, *, key_id: str = "gw", secret: str | None = None, **kw) -> HttpReceiver:
        kw = {"backoff_s": 0.01, "max_backoff_s": 2, **kw}
        receiver = HttpReceiver(base_url, key_id, KEYS.get(key_id, "x") if secret is None else secret, **kw)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def item(n: int, utility: str = "water", *, xzqh: str = COUNTY, account: str | None = "default", tag: str = "t", version: int = 1) -> dict:
    rowguid = f"{tag}{n:04d}-5b7a-4c2d-8e3f-000000000000"
    account = f"{n:06d}1" if account == "default" else account  # ends in 1: never the 0002 rule
    record = {"ROWGUID": rowguid, "YCYWH": f"YW{n:08d}", "XZQH": xzqh, "FWZL": "济南市历下区泉城路1号", "DBSJ": "2024-03-01 10:00:00",
              ACCOUNT[utility]: account}
    return make_item(rowguid=rowguid, utility=utility, version=version, correction=version > 1, record=record)


def items(count: int, utility: str = "water", **kw) -> list[dict]:
    return [item(n, utility, **kw) for n in range(count)]


def deliver_until_done(receiver: HttpReceiver, batch: list[dict], *, runs: int = 3) -> list[list[ItemOutcome]]:
    """Deliver, then deliver what is still pending on the "next run", up to `runs` runs."""
    history: list[list[ItemOutcome]] = []
    todo = batch
    for _ in range(runs):
        outcomes = receiver.deliver(todo)
        history.append(outcomes)
        todo = [it for it, out in zip(todo, outcomes) if out.status == "pending"]
        if not todo:
            return history
    pytest.fail(f"still pending after {runs} runs: {[o.reason for o in history[-1] if o.status == 'pending'][:3]}")


def assert_exactly_once(sim: ReceiverProcess, batch: list[dict], receiver: str) -> list[dict]:
    held = sim.accepted(receiver)
    keys = [row["idempotency_key"] for row in held]
    assert sorted(keys) == sorted(it["idempotency_key"] for it in batch)  # each key once, none missing
    return held


def signed_post(url: str, path: str, body: bytes, *, key_id: str = "gw") -> httpx.Response:
    headers = {"Content-Type": "application/json", **signed_headers(key_id, KEYS[key_id], method="POST", path=path, body=body, timestamp=time.time())}
    return httpx.post(url + path, content=body, headers=headers, timeout=10)


def signed_get(url: str, path: str, *, params: dict | None = None, key_id: str = "gw") -> dict:
    """A signed GET of `path` (the signature covers the path only, not the query)."""
    headers = signed_headers(key_id, KEYS[key_id], method="GET", path=path, body=b"", timestamp=time.time())
    response = httpx.get(url + path, params=params, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


# --- the protocol --------------------------------------------------------------------------------


def test_a_batch_is_accepted_and_every_receipt_can_be_looked_up(receivers, client):
    county = client(receivers.county_url(COUNTY))
    water_gas = items(3, "water") + items(2, "gas", tag="g")
    outcomes = county.deliver(water_gas)
    assert [o.status for o in outcomes] == ["delivered"] * 5
    assert {o.code for o in outcomes} == {"0000"} and all(o.attempts == 1 for o in outcomes)
    assert len({o.receipt_id for o in outcomes}) == 5

    grid = client(receivers.grid_url())
    [power] = grid.deliver([item(1, "electricity", tag="e")])
    assert power.status == "delivered" and power.receipt_id.startswith("SGSD-")

    found = county.status(water_gas[0]["idempotency_key"])
    assert found["receipt_id"] == outcomes[0].receipt_id and found["status"] == "accepted"
    assert county.status("never-sent:water:1") is None
    assert grid.status(water_gas[0]["idempotency_key"]) is None  # the grid holds only what it was sent
    held = receivers.accepted(f"county/{COUNTY}")
    assert [(r["utility"], r["version"], r["times_submitted"]) for r in held] == [("water", 1, 1)] * 3 + [("gas", 1, 1)] * 2


def test_the_same_items_sent_twice_are_held_once_and_the_second_answer_is_duplicate(receivers, client):
    county = client(receivers.county_url(COUNTY), batch_size=2)
    batch = items(5)
    first = county.deliver(batch)
    second = county.deliver(batch)
    assert [o.code for o in first] == ["0000"] * 5
    assert [(o.status, o.code) for o in second] == [("delivered", "0201")] * 5
    assert [o.receipt_id for o in second] == [o.receipt_id for o in first]  # the ORIGINAL receipt ids
    held = assert_exactly_once(receivers, batch, f"county/{COUNTY}")
    assert {r["times_submitted"] for r in held} == {2}

    correction = item(0, version=2)  # a correction is a new version: a new key, accepted anew
    [again] = county.deliver([correction])
    assert again.code == "0000" and again.receipt_id != first[0].receipt_id
    assert receivers.accepted(f"county/{COUNTY}")[-1]["correction"] is True


def test_business_rejections_come_back_per_item_with_reasons(receivers, client):
    county = client(receivers.county_url(COUNTY))
    batch = [
        item(1),                                   # accepted
        item(2, "gas", account="88810002"),        # 0002 no such account
        item(3, "heat", account=None),             # 0101 account missing
        item(4, xzqh="370103"),                    # 0301 another county
        item(5, "electricity", tag="e"),           # 0301 a county does not take electricity
        item(6, "water", account=" "),             # 0101 blank is missing
    ]
    outcomes = county.deliver(batch)
    assert [(o.status, o.code) for o in outcomes] == [
        ("delivered", "0000"), ("rejected", "0002"), ("rejected", "0101"), ("rejected", "0301"), ("rejected", "0301"), ("rejected", "0101")]
    assert outcomes[1].reason == "no such account: YQHH (户号不存在)"
    assert outcomes[2].reason == "YNHH (用暖户号) is missing"
    assert outcomes[3].reason == "XZQH 370103 is not county 370102 served here (非本辖区)"
    assert all(o.receipt_id is None for o in outcomes[1:])
    assert_exactly_once(receivers, batch[:1], f"county/{COUNTY}")

    grid = client(receivers.grid_url())
    got = grid.deliver([item(7, "electricity", tag="e"), item(8, "electricity", tag="e", account="3700010002"), item(9, "water")])
    assert [(o.status, o.code) for o in got] == [("delivered", "0000"), ("rejected", "0002"), ("rejected", "0301")]


@pytest.mark.parametrize(("how", "error"), [
    ({"secret": "not-the-secret"}, "bad_signature"),
    ({"key_id": "nobody", "secret": "whatever"}, "unknown_key"),
    ({"clock": lambda: time.time() - 301}, "stale_timestamp"),
])
def test_a_request_that_fails_authentication_is_refused_and_nothing_is_held(receivers, client, how, error):
    county = client(receivers.county_url(COUNTY), batch_size=2, **how)
    outcomes = county.deliver(items(4))
    assert [o.status for o in outcomes] == ["pending"] * 4
    assert outcomes[0].reason.startswith(f"HTTP 401 {error}: ")
    assert outcomes[0].reason.endswith("check the connection's key id (login) and secret (password), and this host's clock")
    assert outcomes[0].attempts == 1  # a 401 is not retried ...
    assert [o.attempts for o in outcomes[2:]] == [0, 0] and outcomes[2].reason.startswith("not attempted: HTTP 401")  # ... nor the next batch
    assert receivers.accepted() == []
    assert receivers.stats()["responses"] == {"401": 1}


def test_requests_without_auth_or_malformed_batches_are_refused_whole(receivers):
    base = receivers.county_url(COUNTY)
    path = f"/county/{COUNTY}/v1/work-orders:batch"
    anonymous = httpx.post(base + "/v1/work-orders:batch", json={"batch_id": "b", "items": []}, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_auth"

    not_json = signed_post(receivers.url, path, b"{not json")
    assert not_json.status_code == 400 and not_json.json()["error"] == "malformed_batch"
    too_many = json.dumps({"batch_id": "b", "items": items(501)}).encode()
    assert signed_post(receivers.url, path, too_many).json()["message"] == "items must be a list of 1 to 500 items"
    one_bad = [*items(2), {**item(3), "utility": "telephone"}]
    answer = signed_post(receivers.url, path, json.dumps({"batch_id": "b", "items": one_bad}).encode())
    assert answer.status_code == 400 and answer.json()["message"] == "items[2].utility must be one of electricity, water, gas, heat"
    assert receivers.accepted() == []
    assert httpx.get(base + "/v1/health", timeout=10).json() == {"status": "ok", "receiver": f"county/{COUNTY}"}


# --- faults: every item ends up held exactly once ---------------------------------------------------


def test_server_errors_are_retried_and_every_item_is_held_once(receivers, client):
    receivers.faults(error_rate=0.5, seed=11)
    county = client(receivers.county_url(COUNTY), batch_size=2)
    batch = items(12)
    history = deliver_until_done(county, batch)
    assert receivers.stats()["responses"]["500"] >= 3
    assert max(o.attempts for o in history[0]) > 1
    assert_exactly_once(receivers, batch, f"county/{COUNTY}")


def test_timeouts_are_retried_and_every_item_is_held_once(receivers, client):
    # The receiver sleeps past the client's timeout and then still stores the batch, as an
    # overloaded one would: the retry must find those items as duplicates, not store them again.
    receivers.faults(timeout_rate=0.5, timeout_s=1.0, seed=3)
    county = client(receivers.county_url(COUNTY), batch_size=2, timeout_s=0.3)
    batch = items(6)
    history = deliver_until_done(county, batch)
    assert receivers.stats()["faults"]["timeout"] >= 1
    assert len(history) > 1 or max(o.attempts for o in history[0]) > 1
    time.sleep(1.1)  # let the requests that slept finish their (duplicate) work
    assert_exactly_once(receivers, batch, f"county/{COUNTY}")


def test_throttling_is_honoured_with_retry_after(receivers, client):
    receivers.faults(throttle_rate=0.5, retry_after_s=1, seed=5)
    sleeps: list[float] = []
    county = client(receivers.county_url(COUNTY), batch_size=1, max_attempts=8, sleep=sleeps.append)
    batch = items(10)
    deliver_until_done(county, batch)
    throttled = receivers.stats()["responses"]["429"]
    assert throttled >= 2
    assert sleeps == [1.0] * throttled  # every 429 waited exactly its Retry-After, and nothing else did
    assert_exactly_once(receivers, batch, f"county/{COUNTY}")


def test_a_retry_after_longer_than_the_client_may_wait_leaves_the_batch_for_the_next_run(receivers, client):
    receivers.faults(throttle_rate=1.0, retry_after_s=60)
    sleeps: list[float] = []
    county = client(receivers.county_url(COUNTY), batch_size=2, max_backoff_s=8, sleep=sleeps.append)
    outcomes = county.deliver(items(4))
    assert [o.status for o in outcomes] == ["pending"] * 4 and sleeps == []
    assert outcomes[0].reason == ("HTTP 429 rate_limited: busy, retry later (simulated); asked to retry after 60 s, "
                                  "longer than max_backoff_s (8 s): left for the next run")
    assert outcomes[2].attempts == 0


def test_a_receiver_that_stores_then_fails_is_answered_duplicate_on_retry(receivers, client):
    receivers.faults(fail_after_accept_rate=0.5, seed=2)
    county = client(receivers.county_url(COUNTY), batch_size=1)
    batch = items(10)
    history = deliver_until_done(county, batch)
    first = history[0]
    held = {r["idempotency_key"]: r for r in assert_exactly_once(receivers, batch, f"county/{COUNTY}")}
    retried = [o for o in first if o.code == "0201"]
    assert retried, "some batch should have been stored, answered 500, and retried"
    for outcome in retried:
        assert outcome.status == "delivered" and outcome.attempts >= 2
        assert held[outcome.idempotency_key]["receipt_id"] == outcome.receipt_id
        assert held[outcome.idempotency_key]["times_submitted"] >= 2


def test_an_outage_leaves_everything_pending_and_the_next_run_delivers_it_once(tmp_path, client):
    with ReceiverProcess(tmp_path / "county.db", KEYS) as sim:
        county = client(sim.county_url(COUNTY), batch_size=2, max_attempts=2)
        batch = items(8)
        before = county.deliver(batch[:4])
        assert [o.code for o in before] == ["0000"] * 4

        sim.faults(outage=True)  # up, but answering 503
        down = county.deliver(batch)
        assert [o.status for o in down] == ["pending"] * 8
        assert down[0].reason == "gave up after 2 attempts: HTTP 503 unavailable: receiver is down for maintenance (simulated outage)"
        sim.reset()

        url = sim.url
        sim.stop()  # the process is gone
        gone = county.deliver(batch)
        assert [o.status for o in gone] == ["pending"] * 8
        assert gone[0].reason.startswith("gave up after 2 attempts: cannot reach the receiver (ConnectError")
        assert [o.attempts for o in gone] == [2, 2, 0, 0, 0, 0, 0, 0]

        sim.start()  # back, same state file and port
        assert sim.url == url
        after = county.deliver(batch)
        assert [(o.status, o.code) for o in after] == [("delivered", "0201")] * 4 + [("delivered", "0000")] * 4
        assert [o.receipt_id for o in after[:4]] == [o.receipt_id for o in before]
        held = assert_exactly_once(sim, batch, f"county/{COUNTY}")
        assert [r["times_submitted"] for r in held] == [2, 2, 2, 2, 1, 1, 1, 1]


def test_the_grid_rate_limit_is_kept_by_the_clients_own_pacing(tmp_path, client):
    with ReceiverProcess(tmp_path / "grid.db", KEYS, rate_per_s=5) as sim:
        paced = client(sim.grid_url(), batch_size=1, rate_per_s=5)
        batch = items(10, "electricity", tag="e")
        started = time.monotonic()
        assert [o.status for o in paced.deliver(batch)] == ["delivered"] * 10
        assert time.monotonic() - started >= 1.7  # 10 requests, 0.2 s apart
        assert "429" not in sim.stats()["responses"]
        assert_exactly_once(sim, batch, "grid")

        sim.reset(wipe=True)  # refilled bucket; now a client that does not pace itself
        sleeps: list[float] = []
        eager = client(sim.grid_url(), batch_size=1, sleep=lambda s: (sleeps.append(s), time.sleep(s)))
        deliver_until_done(eager, batch)
        assert sim.stats()["responses"]["429"] >= 1 and 1.0 in sleeps  # refused, and waited as told
        assert_exactly_once(sim, batch, "grid")


# --- the spec and the connections --------------------------------------------------------------------


def test_the_openapi_spec_parses_and_covers_what_the_simulator_serves(tmp_path, receivers, client):
    import jsonschema
    import yaml

    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1")
    served = set()
    for route in create_app(keys=KEYS, state_path=tmp_path / "s.db").routes:
        for base in ("/county/{xzqh}", "/grid", "/cross-province"):
            if route.path.startswith(base + "/v1/"):
                served |= {(route.path.removeprefix(base), m.lower()) for m in route.methods - {"HEAD"}}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented == {("/v1/work-orders:batch", "post"), ("/v1/work-orders/{idempotency_key}", "get"), ("/v1/results", "get"),
                                    ("/v1/health", "get"), ("/v1/files/{sha256}", "put"), ("/v1/packages:batch", "post"), ("/v1/package-events", "get"),
                                    ("/v1/packages:withdraw", "post"), ("/v1/work-orders:cancel", "post"), ("/v1/reminders", "post")}
    assert list(spec["components"]["schemas"]["Record"]["properties"]) == list(FIELD_CODES)

    def validate(instance, schema: str) -> None:
        jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}).validate(instance)

    batch = [item(1), item(2, account="10002")]
    validate({"batch_id": "b1", "items": batch}, "Batch")
    validate(spec["paths"]["/v1/work-orders:batch"]["post"]["requestBody"]["content"]["application/json"]["example"], "Batch")
    path = f"/county/{COUNTY}/v1/work-orders:batch"
    validate(signed_post(receivers.url, path, json.dumps({"batch_id": "b1", "items": batch}).encode()).json(), "BatchResult")
    validate(signed_post(receivers.url, path, b"[]").json(), "Error")
    validate(spec["paths"]["/v1/work-orders:cancel"]["post"]["requestBody"]["content"]["application/json"]["example"], "CancelBatch")
    cancel = {"batch_id": "c1", "items": [{"idempotency_key": batch[0]["idempotency_key"] + ":cancel", "rowguid": batch[0]["rowguid"],
                                           "utility": "water", "version": 1, "reason_code": "RECORD_WITHDRAWN", "reason": "平台已撤回该记录"}]}
    validate(cancel, "CancelBatch")
    cancelled = signed_post(receivers.url, f"/county/{COUNTY}/v1/work-orders:cancel", json.dumps(cancel).encode()).json()
    validate(cancelled, "BatchResult")
    assert [r["code"] for r in cancelled["results"]] == ["0000"]
    validate(spec["paths"]["/v1/reminders"]["post"]["requestBody"]["content"]["application/json"]["example"], "ReminderBatch")
    remind = {"batch_id": "reminder:2026-W49:county_system_370102", "items": [
        {"idempotency_key": key + ":remind:2026-W49", "rowguid": it["rowguid"], "utility": "water", "version": 1, "week": "2026-W49",
         "due_date": "2026-11-27", "overdue_working_days": 3} for it, key in ((batch[0], batch[0]["idempotency_key"]), (batch[1], "nope:water:1"))]}
    validate(remind, "ReminderBatch")
    reminded = signed_post(receivers.url, f"/county/{COUNTY}/v1/reminders", json.dumps(remind).encode()).json()
    validate(reminded, "BatchResult")
    again = signed_post(receivers.url, f"/county/{COUNTY}/v1/reminders", json.dumps(remind).encode()).json()
    noted = [r["code"] for r in reminded["results"]]
    assert noted == ["0000", "0404"] and [r["code"] for r in again["results"]] == ["0201", "0404"]  # noted once; a key not held
    with pytest.raises(jsonschema.ValidationError):  # a reminder key names its week
        validate({**remind, "items": [{**remind["items"][0], "idempotency_key": batch[1]["idempotency_key"]}]}, "ReminderBatch")
    county = client(receivers.county_url(COUNTY))
    status = county.status(batch[0]["idempotency_key"])
    validate(status, "WorkOrderStatus")
    receivers.clock("2030-01-01T00:00:00")  # every planned handling result is due
    validate(county.status(batch[0]["idempotency_key"]), "WorkOrderStatus")
    page = signed_get(receivers.url, f"/county/{COUNTY}/v1/results", params={"limit": 500})
    assert page["results"], "the accepted item should have handling results by then"
    validate(page, "ResultPage")
    validate(spec["paths"]["/v1/results"]["get"]["responses"]["200"]["content"]["application/json"]["example"], "ResultPage")
    with pytest.raises(jsonschema.ValidationError):  # a refusal must say why
        validate({**page["results"][0], "result": "rejected", "code": "0009", "reason": None}, "HandlingResult")
    with pytest.raises(jsonschema.ValidationError):
        validate({"batch_id": "b", "items": [{**batch[0], "utility": "telephone"}]}, "Batch")


def test_receivers_are_built_from_airflow_connections_with_a_county_fallback(receivers, monkeypatch, tmp_path):
    host, port = receivers.url.removeprefix("http://").split(":")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_COUNTY_SYSTEM_DEFAULT", json.dumps({
        "conn_type": "http", "host": host, "port": int(port), "schema": "http", "login": "gw", "password": KEYS["gw"],
        "extra": {"base_path": "/county/{xzqh}", "batch_size": 50, "timeout_s": 5}}))
    monkeypatch.setenv("AIRFLOW_CONN_COUNTY_SYSTEM_370203", json.dumps({  # Qingdao's own system and key
        "conn_type": "http", "host": receivers.url, "login": "qingdao", "password": KEYS["qingdao"], "extra": {"base_path": "/county/370203"}}))
    monkeypatch.setenv("AIRFLOW_CONN_GRID_MARKETING", json.dumps({
        "conn_type": "http", "host": host, "port": int(port), "login": "gw", "password": KEYS["gw"], "extra": {"base_path": "/grid", "rate_per_s": 20}}))

    jinan, qingdao, grid = channel_for(f"county_system_{COUNTY}"), channel_for("county_system_370203"), channel_for("grid")
    try:
        assert (jinan.base_url, jinan.key_id, jinan.batch_size, jinan.timeout_s) == (f"{receivers.url}/county/{COUNTY}", "gw", 50, 5.0)
        assert (qingdao.base_url, qingdao.key_id) == (f"{receivers.url}/county/370203", "qingdao")
        assert (grid.base_url, grid.rate_per_s) == (f"{receivers.url}/grid", 20.0)
        assert "s3cret" not in repr(jinan)
        assert jinan.deliver([item(1)])[0].code == "0000"
        assert qingdao.deliver([item(2, xzqh="370203")])[0].code == "0000"
        assert grid.deliver([item(3, "electricity", tag="e")])[0].code == "0000"
    finally:
        for receiver in (jinan, qingdao, grid):
            receiver.close()
    assert [r["receiver"] for r in receivers.accepted()] == [f"county/{COUNTY}", "county/370203", "grid"]

    with pytest.raises(ValueError, match="not a county code: '3701'"):
        channel_for("county_system_3701")
    monkeypatch.setenv("AIRFLOW_CONN_GRID_MARKETING", json.dumps({"conn_type": "http", "host": host, "login": "gw"}))
    with pytest.raises(ValueError, match=r"connection 'grid_marketing': login \(the key id\) and password \(the secret\) are both required"):
        channel_for("grid")
