"""Faithful stand-ins for the receivers of the HTTP push protocol (docs/protocol/receivers.md).

One process plays every receiver the gateway pushes work orders to:

- every county registration system in system mode (系统对接), base `/county/{xzqh}`;
- State Grid Shandong's marketing system (总对总), base `/grid`.

It speaks the protocol as a receiver owned by another organisation would, and on purpose
implements it independently of the gateway's client (connectors/receivers.py): HMAC checks,
the 300 s clock window, 400 on malformed batches, idempotency by `idempotency_key` kept in a
SQLite file (a restarted receiver still answers a re-sent item "0201 duplicate" with its
original receipt id), a token bucket per receiver when a rate is set (the grid's limit).

Business rejections are deterministic, so tests know the truth:

- `0101` the item's account field (YDHH / YSHH / YQHH / YNHH) is missing or empty, the record's
  ROWGUID is not the item's, or (county) XZQH is missing;
- `0301` not this receiver's: a county receiver gets a record whose XZQH is another county, or
  an electricity item; the grid gets a water / gas / heat item;
- `0002` no such account: the account number (spaces removed) ends in "0002".

Faults for tests are set through loopback control endpoints (`/_sim/...`, no auth), drawn from
a seeded `random.Random` so a test sees the same sequence every time.

    python -m simulators.receivers --port 0 --state var/receivers.db --key gw:SECRET [--rate 20]

prints `LISTENING http://127.0.0.1:<port>` once it accepts connections. `ReceiverProcess` runs
that as a real separate process for tests and `make run`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request  # at module level: FastAPI resolves handler annotations from these globals

from transforms.annex1 import FIELD_CODES, LABELS, UTILITIES

MAX_ITEMS = 500
CLOCK_WINDOW_S = 300  # |receiver clock - X-Timestamp| beyond this is refused: bounds replays
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
COUNTY_PATTERN = re.compile(r"\d{6}")
ACCOUNT_FIELD = {utility: fields_[0] for utility, fields_ in UTILITIES.items()}
GRID_UTILITIES = frozenset({"electricity"})
COUNTY_UTILITIES = frozenset({"water", "gas", "heat"})
ROOT = Path(__file__).resolve().parents[1]

# The simulator's own table: it plays another organisation's system, so its SQL stays here
# rather than in the gateway's sql/ folder.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accepted (
    receiver        TEXT    NOT NULL,   -- 'grid' or 'county/<xzqh>'
    idempotency_key TEXT    NOT NULL,
    receipt_id      TEXT    NOT NULL UNIQUE,
    rowguid         TEXT    NOT NULL,
    utility         TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    correction      INTEGER NOT NULL,
    accepted_at     TEXT    NOT NULL,   -- UTC, ISO 8601
    times_submitted INTEGER NOT NULL,
    PRIMARY KEY (receiver, idempotency_key)
)
"""


@dataclass
class Faults:
    """What the receivers do wrong, until the next POST /_sim/faults or /_sim/reset."""

    error_rate: float = 0.0  # 500 before doing anything
    timeout_rate: float = 0.0  # sleep timeout_s, then carry on (the client has given up by then)
    timeout_s: float = 30.0
    latency_ms: int = 0  # added to every /v1 request
    outage: bool = False  # 503 to everything under /v1
    throttle_rate: float = 0.0  # 429 with Retry-After: retry_after_s
    retry_after_s: int = 1
    fail_after_accept_rate: float = 0.0  # accept and persist, then answer 500
    receivers: list[str] | None = None  # only these ('grid', 'county/370102'); None: all


class _Answer(Exception):
    """Raised inside a handler to answer at once with an error body."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None, *, counted: bool = True) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}
        self.counted = counted  # False: an answer from before a reset, kept out of the new stats


class ReceiverState:
    """Accepted work orders (SQLite, survives restarts), faults, counters and rate buckets."""

    def __init__(self, *, keys: dict[str, str], state_path: str | Path, rate_per_s: float | None) -> None:
        self.keys = dict(keys)
        self.rate_per_s = rate_per_s
        self.db = sqlite3.connect(str(state_path), check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute(_SCHEMA)
        self.faults = Faults()
        self.rng = random.Random(0)
        self.epoch = 0  # bumped by reset: a request still sleeping from before must not write afterwards
        self.stats: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self.buckets: dict[str, tuple[float, float]] = {}

    # --- faults and rate ---------------------------------------------------------------------

    def applies(self, receiver: str) -> bool:
        return self.faults.receivers is None or receiver in self.faults.receivers

    def draw(self, rate: float) -> bool:
        # Draw only for faults that are on, so one fault's sequence does not depend on the others.
        return rate > 0 and self.rng.random() < rate

    def take_token(self, receiver: str) -> float | None:
        """None if the request may go on, else the seconds until a token is back."""
        if not self.rate_per_s:
            return None
        capacity = max(1.0, self.rate_per_s)  # bursts of up to one second's worth
        now = time.monotonic()
        tokens, last = self.buckets.get(receiver, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self.rate_per_s)
        if tokens >= 1.0:
            self.buckets[receiver] = (tokens - 1.0, now)
            return None
        self.buckets[receiver] = (tokens, now)
        return (1.0 - tokens) / self.rate_per_s

    # --- auth --------------------------------------------------------------------------------

    def authenticate(self, headers, method: str, raw_path: str, body: bytes) -> None:
        key_id, stamp, given = headers.get("x-gateway-key"), headers.get("x-timestamp"), headers.get("x-signature")
        if not key_id or not stamp or not given:
            raise _Answer(401, "missing_auth", "X-Gateway-Key, X-Timestamp and X-Signature are all required")
        secret = self.keys.get(key_id)
        if secret is None:
            raise _Answer(401, "unknown_key", f"key id {key_id!r} is not known to this receiver")
        if not re.fullmatch(r"\d{1,12}", stamp):
            raise _Answer(401, "bad_timestamp", "X-Timestamp must be whole unix seconds")
        skew = time.time() - int(stamp)
        if abs(skew) > CLOCK_WINDOW_S:
            raise _Answer(401, "stale_timestamp", f"X-Timestamp is {skew:+.0f} s from the receiver's clock (allowed ±{CLOCK_WINDOW_S} s)")
        canonical = f"{stamp}\n{method}\n{raw_path}\n{hashlib.sha256(body).hexdigest()}"
        expected = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            raise _Answer(401, "bad_signature", "X-Signature does not match the request")

    # --- the batch ---------------------------------------------------------------------------

    def process(self, receiver: str, county: str | None, items: list[dict]) -> list[dict]:
        """Every item's result, in order; accepted items persisted in one transaction."""
        results = []
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                key = item["idempotency_key"]
                seen = self.db.execute(
                    "SELECT receipt_id FROM accepted WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
                if seen is not None:
                    self.db.execute(
                        "UPDATE accepted SET times_submitted = times_submitted + 1 WHERE receiver = ? AND idempotency_key = ?", (receiver, key))
                    results.append(_result(key, "duplicate", seen["receipt_id"], "0201", "duplicate submission: already accepted (重复提交)"))
                    continue
                refusal = _business_rule(item, county)
                if refusal is not None:
                    results.append(_result(key, "rejected", None, *refusal))
                    continue
                seq = self.db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM accepted").fetchone()[0]
                prefix = "SGSD" if county is None else county
                receipt = f"{prefix}-{now[:10].replace('-', '')}-{seq:08d}"
                self.db.execute(
                    "INSERT INTO accepted (receiver, idempotency_key, receipt_id, rowguid, utility, version, correction, accepted_at, times_submitted)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    (receiver, key, receipt, item["rowguid"], item["utility"], item["version"], int(item["correction"]), now))
                results.append(_result(key, "accepted", receipt, "0000", None))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.stats.update(r["status"] for r in results)
        return results

    def lookup(self, receiver: str, key: str) -> dict | None:
        row = self.db.execute(
            "SELECT idempotency_key, receipt_id, accepted_at FROM accepted WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
        return None if row is None else {**dict(row), "status": "accepted"}

    def accepted(self, receiver: str | None) -> list[dict]:
        query = "SELECT * FROM accepted" + (" WHERE receiver = ?" if receiver else "") + " ORDER BY rowid"
        return [{**dict(r), "correction": bool(r["correction"])} for r in self.db.execute(query, (receiver,) if receiver else ())]

    def reset(self, *, wipe: bool) -> None:
        self.faults = Faults()
        self.rng = random.Random(0)
        self.epoch += 1
        self.stats.clear()
        self.responses.clear()
        self.buckets.clear()
        if wipe:
            self.db.execute("DELETE FROM accepted")


def _result(key: str, status: str, receipt: str | None, code: str, reason: str | None) -> dict:
    return {"idempotency_key": key, "status": status, "receipt_id": receipt, "code": code, "reason": reason}


def _business_rule(item: dict, county: str | None) -> tuple[str, str] | None:
    """(code, reason) when the receiver refuses the item, else None. See the module docstring."""
    record, utility = item["record"], item["utility"]
    account_field = ACCOUNT_FIELD[utility]
    account = (record.get(account_field) or "").replace(" ", "")
    if (record.get("ROWGUID") or "").strip() != item["rowguid"]:
        return "0101", f"ROWGUID ({LABELS['ROWGUID']}) does not match the item's rowguid"
    if not account:
        return "0101", f"{account_field} ({LABELS[account_field]}) is missing"
    if county is not None:
        xzqh = (record.get("XZQH") or "").strip()
        if not xzqh:
            return "0101", f"XZQH ({LABELS['XZQH']}) is missing"
        if utility not in COUNTY_UTILITIES:
            return "0301", f"{utility} is not handled by county system {county} (非本系统受理业务)"
        if xzqh != county:
            return "0301", f"XZQH {xzqh} is not county {county} served here (非本辖区)"
    elif utility not in GRID_UTILITIES:
        return "0301", f"{utility} is not handled by the grid marketing system (非本系统受理业务)"
    if account.endswith("0002"):
        return "0002", f"no such account: {account_field} (户号不存在)"
    return None


def parse_batch(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed batch, else _Answer(400) naming what is wrong."""
    def bad(message: str) -> _Answer:
        return _Answer(400, "malformed_batch", message)

    try:
        batch = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"body is not UTF-8 JSON: {exc}") from None
    if not isinstance(batch, dict) or set(batch) != {"batch_id", "items"}:
        raise bad("body must be an object with exactly the keys batch_id and items")
    batch_id, items = batch["batch_id"], batch["items"]
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= 128:
        raise bad("batch_id must be a string of 1 to 128 characters")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise bad(f"items must be a list of 1 to {MAX_ITEMS} items")
    wanted = {"idempotency_key", "rowguid", "utility", "version", "correction", "record"}
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) != wanted:
            raise bad(f"{where} must be an object with exactly the keys {', '.join(sorted(wanted))}")
        if not isinstance(item["idempotency_key"], str) or not KEY_PATTERN.fullmatch(item["idempotency_key"]):
            raise bad(f"{where}.idempotency_key must match {KEY_PATTERN.pattern}")
        if not isinstance(item["rowguid"], str) or not item["rowguid"]:
            raise bad(f"{where}.rowguid must be a non-empty string")
        if item["utility"] not in ACCOUNT_FIELD:
            raise bad(f"{where}.utility must be one of {', '.join(ACCOUNT_FIELD)}")
        if type(item["version"]) is not int or item["version"] < 1:
            raise bad(f"{where}.version must be an integer >= 1")
        if type(item["correction"]) is not bool:
            raise bad(f"{where}.correction must be true or false")
        record = item["record"]
        if not isinstance(record, dict):
            raise bad(f"{where}.record must be an object")
        unknown = sorted(set(record) - set(FIELD_CODES))
        if unknown:
            raise bad(f"{where}.record has fields that are not Annex 1 codes: {', '.join(unknown)}")
        for code, value in record.items():
            if value is not None and not isinstance(value, str):
                raise bad(f"{where}.record.{code} must be a string or null")
    return batch_id, items


# --- the app ---------------------------------------------------------------------------------


def create_app(*, keys: dict[str, str], state_path: str | Path, rate_per_s: float | None = None):
    """The FastAPI app serving /county/{xzqh}/v1/... and /grid/v1/..., and the /_sim controls."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    state = ReceiverState(keys=keys, state_path=state_path, rate_per_s=rate_per_s)
    app = FastAPI(title="co-handling receivers (simulated)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.receivers = state

    def answer(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
        state.responses[str(status)] += 1
        return JSONResponse(body, status_code=status, headers=headers)

    def error(exc: _Answer) -> JSONResponse:
        body = {"error": exc.error, "message": exc.message}
        return answer(exc.status, body, exc.headers) if exc.counted else JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        return JSONResponse({"error": "not_found" if exc.status_code == 404 else "http_error", "message": str(exc.detail)},
                            status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        return JSONResponse({"error": "bad_request", "message": str(exc.errors())}, status_code=400)

    def receiver_of(county: str | None) -> str:
        if county is None:
            return "grid"
        if not COUNTY_PATTERN.fullmatch(county):
            raise _Answer(404, "not_found", f"no county receiver {county!r}: a county is six digits")
        return f"county/{county}"

    async def before(receiver: str) -> None:
        """Outage, latency: whatever happens to a request before the receiver reads it."""
        if not state.applies(receiver):
            return
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        if state.faults.outage:
            state.stats["fault_outage"] += 1
            raise _Answer(503, "unavailable", "receiver is down for maintenance (simulated outage)")

    async def admitted(request: Request, receiver: str, body: bytes) -> None:
        """Auth, the rate limit and the injected faults up to the point where work starts."""
        epoch = state.epoch
        await before(receiver)
        state.authenticate(request.headers, request.method, request.scope["raw_path"].decode("latin-1"), body)
        wait = state.take_token(receiver)
        if wait is not None:
            state.stats["rate_limited"] += 1
            raise _Answer(429, "rate_limited", f"more than {state.rate_per_s:g} requests/s", {"Retry-After": str(max(1, math.ceil(wait)))})
        if not state.applies(receiver):
            return
        f = state.faults
        if state.draw(f.throttle_rate):
            state.stats["fault_throttle"] += 1
            raise _Answer(429, "rate_limited", "busy, retry later (simulated)", {"Retry-After": str(f.retry_after_s)})
        if state.draw(f.error_rate):
            state.stats["fault_error"] += 1
            raise _Answer(500, "server_error", "internal error (simulated)")
        if state.draw(f.timeout_rate):
            state.stats["fault_timeout"] += 1
            await asyncio.sleep(f.timeout_s)  # then carry on, as an overloaded receiver would
            if state.epoch != epoch:
                raise _Answer(503, "unavailable", "the simulator was reset while this request waited", counted=False)

    async def batch(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            batch_id, items = parse_batch(body)
            results = state.process(receiver, county, items)
            if state.applies(receiver) and state.draw(state.faults.fail_after_accept_rate):
                state.stats["fault_fail_after_accept"] += 1
                raise _Answer(500, "server_error", "internal error after the batch was stored (simulated)")
            return answer(200, {"batch_id": batch_id, "results": results})
        except _Answer as exc:
            return error(exc)

    async def work_order(request: Request, county: str | None, idempotency_key: str):
        try:
            receiver = receiver_of(county)
            await admitted(request, receiver, await request.body())
            found = state.lookup(receiver, idempotency_key)
            if found is None:
                raise _Answer(404, "unknown_work_order", f"no work order accepted under {idempotency_key!r}")
            return answer(200, found)
        except _Answer as exc:
            return error(exc)

    async def health(county: str | None):
        try:
            receiver = receiver_of(county)
            await before(receiver)
            return answer(200, {"status": "ok", "receiver": receiver})
        except _Answer as exc:
            return error(exc)

    # The same three endpoints under each base; the parameter names match the OpenAPI spec.
    @app.post("/county/{xzqh}/v1/work-orders:batch")
    async def county_batch(xzqh: str, request: Request):
        return await batch(request, xzqh)

    @app.get("/county/{xzqh}/v1/work-orders/{idempotency_key}")
    async def county_work_order(xzqh: str, idempotency_key: str, request: Request):
        return await work_order(request, xzqh, idempotency_key)

    @app.get("/county/{xzqh}/v1/health")
    async def county_health(xzqh: str):
        return await health(xzqh)

    @app.post("/grid/v1/work-orders:batch")
    async def grid_batch(request: Request):
        return await batch(request, None)

    @app.get("/grid/v1/work-orders/{idempotency_key}")
    async def grid_work_order(idempotency_key: str, request: Request):
        return await work_order(request, None, idempotency_key)

    @app.get("/grid/v1/health")
    async def grid_health():
        return await health(None)

    # --- test controls (loopback only: the server binds 127.0.0.1) ---------------------------

    @app.post("/_sim/faults")
    async def set_faults(request: Request):
        try:
            wanted = json.loads((await request.body()) or b"{}")
        except ValueError:
            return JSONResponse({"error": "bad_request", "message": "body must be JSON"}, status_code=400)
        seed = wanted.pop("seed", None)
        names = {f.name for f in fields(Faults)}
        unknown = sorted(set(wanted) - names)
        if unknown:
            return JSONResponse({"error": "bad_request", "message": f"unknown faults: {', '.join(unknown)}"}, status_code=400)
        faults = Faults(**wanted)
        for name in ("error_rate", "timeout_rate", "throttle_rate", "fail_after_accept_rate"):
            if not 0.0 <= float(getattr(faults, name)) <= 1.0:
                return JSONResponse({"error": "bad_request", "message": f"{name} must be between 0 and 1"}, status_code=400)
        state.faults = faults
        if seed is not None:
            state.rng = random.Random(seed)
        return asdict(faults)

    @app.post("/_sim/reset")
    async def reset(request: Request):
        wanted = json.loads((await request.body()) or b"{}")
        state.reset(wipe=bool(wanted.get("wipe", False)))
        return {"reset": True, "wiped": bool(wanted.get("wipe", False))}

    @app.get("/_sim/accepted")
    async def accepted(receiver: str | None = None):
        return {"items": state.accepted(receiver)}

    @app.get("/_sim/stats")
    async def stats():
        return {"responses": dict(state.responses), "items": {k: v for k, v in state.stats.items() if not k.startswith(("fault_", "rate_"))},
                "faults": {k.removeprefix("fault_"): v for k, v in state.stats.items() if k.startswith("fault_")},
                "rate_limited": state.stats["rate_limited"]}

    return app


# --- running it as a process -----------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.receivers", description="Simulated county systems and grid marketing API.")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--state", required=True, help="SQLite file of accepted work orders (kept across restarts)")
    parser.add_argument("--key", action="append", required=True, metavar="KEYID:SECRET", help="a client key; repeatable")
    parser.add_argument("--rate", type=float, default=None, help="requests per second per receiver (the grid's limit)")
    args = parser.parse_args(argv)
    keys = {}
    for pair in args.key:
        key_id, sep, secret = pair.partition(":")
        if not sep or not key_id or not secret:
            parser.error("--key must be KEYID:SECRET")
        keys[key_id] = secret

    import uvicorn

    app = create_app(keys=keys, state_path=args.state, rate_per_s=args.rate)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart takes its port back at once
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    # keep-alive longer than the client's idle pool, so a kept connection is not closed under it
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30))

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.01)
        print(f"LISTENING http://127.0.0.1:{port}", flush=True)
        await task

    asyncio.run(serve())


class ReceiverProcess:
    """The simulator as a real separate process on loopback; `stop()` is an outage (killed).

    `start()` again reuses the state file, and the port if it is still free.
    """

    def __init__(self, state_path: str | Path, keys: dict[str, str], rate_per_s: float | None = None, *, startup_timeout_s: float = 30) -> None:
        self.state_path = Path(state_path)
        self.keys = dict(keys)
        self.rate_per_s = rate_per_s
        self.startup_timeout_s = startup_timeout_s
        self.log_path = self.state_path.with_name(self.state_path.name + ".log")
        self.url: str | None = None
        self._port = 0
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> ReceiverProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> str:
        if self._proc is not None:
            return self.url
        try:
            return self._spawn(self._port)
        except RuntimeError:
            if not self._port:
                raise
            return self._spawn(0)  # the old port was taken meanwhile

    def stop(self) -> None:
        """Kill the process (no graceful shutdown: an outage, not a maintenance window)."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=10)
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- control helpers ---------------------------------------------------------------------

    def faults(self, **faults) -> dict:
        return self._control("POST", "/_sim/faults", json=faults)

    def reset(self, *, wipe: bool = False) -> dict:
        return self._control("POST", "/_sim/reset", json={"wipe": wipe})

    def accepted(self, receiver: str | None = None) -> list[dict]:
        return self._control("GET", "/_sim/accepted", params={"receiver": receiver} if receiver else None)["items"]

    def stats(self) -> dict:
        return self._control("GET", "/_sim/stats")

    def county_url(self, xzqh: str) -> str:
        return f"{self.url}/county/{xzqh}"

    def grid_url(self) -> str:
        return f"{self.url}/grid"

    # --- internals ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, **kw) -> dict:
        import httpx

        response = httpx.request(method, f"{self.url}{path}", timeout=10, **kw)
        response.raise_for_status()
        return response.json()

    def _spawn(self, port: int) -> str:
        command = [sys.executable, "-m", "simulators.receivers", "--port", str(port), "--state", str(self.state_path)]
        for key_id, secret in self.keys.items():
            command += ["--key", f"{key_id}:{secret}"]
        if self.rate_per_s:
            command += ["--rate", str(self.rate_per_s)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        ready = threading.Event()
        lines: list[str] = []

        def read() -> None:  # first line is LISTENING; keep draining so the pipe never fills
            for line in proc.stdout:
                if not lines:
                    lines.append(line.strip())
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(self.startup_timeout_s)
        if not lines or not lines[0].startswith("LISTENING "):
            proc.kill()
            proc.wait(timeout=10)
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"receiver simulator did not start on port {port}: {lines[:1]}\n{tail}")
        self._proc = proc
        self.url = lines[0].split(" ", 1)[1]
        self._port = int(self.url.rsplit(":", 1)[1])
        return self.url


if __name__ == "__main__":
    main()
