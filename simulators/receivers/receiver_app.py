"""The simulated receivers' HTTP app (simulators/receivers/__init__.py): the work-order routes under
/county/{xzqh}/v1 and /grid/v1, the package routes beside them (package_routes.py), and the
loopback /_sim controls tests use to set faults, clocks and result mixes and to read the truth.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path

from fastapi import Request  # at module level: FastAPI resolves handler annotations from these globals

from simulators.batch_envelope import CROSS_PROVINCE, LOCAL, local_text
from simulators.receivers.handling_results import ResultsConfig
from simulators.receivers.package_routes import add_package_routes
from simulators.receivers.receiver_state import Faults, ReceiverState
from simulators.receivers.signed_answers import ANSWER_MODES, sign_answer
from simulators.receivers.work_order_wire import (
    COUNTY_PATTERN,
    RECEIVER_PATTERN,
    Answer,
    parse_batch,
    parse_cancels,
    parse_feed_query,
    parse_reminders,
)


def create_app(*, keys: dict[str, str], state_path: str | Path, rate_per_s: float | None = None, answer_keys: dict[str, str] | None = None):
    """The FastAPI app serving /county/{xzqh}/v1/... and /grid/v1/..., and the /_sim controls."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    from simulators.registration import RegistrationDesk

    state = ReceiverState(keys=keys, state_path=state_path, rate_per_s=rate_per_s, answer_keys=answer_keys)
    desk = RegistrationDesk(state.db, state.now)
    app = FastAPI(title="co-handling receivers (simulated)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.receivers = state

    def answer(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
        state.responses[str(status)] += 1
        return JSONResponse(body, status_code=status, headers=headers)

    def error(exc: Answer) -> JSONResponse:
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
        if county == CROSS_PROVINCE:
            return CROSS_PROVINCE
        if not COUNTY_PATTERN.fullmatch(county):
            raise Answer(404, "not_found", f"no county receiver {county!r}: a county is six digits")
        return f"county/{county}"

    async def before(receiver: str) -> None:
        """Outage, latency: whatever happens to a request before the receiver reads it."""
        if not state.applies(receiver):
            return
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        if state.faults.outage:
            state.stats["fault_outage"] += 1
            raise Answer(503, "unavailable", "receiver is down for maintenance (simulated outage)")

    async def admitted(request: Request, receiver: str, body: bytes) -> None:
        """Auth, the rate limit and the injected faults up to the point where work starts."""
        epoch = state.epoch
        await before(receiver)
        raw_path = request.scope["raw_path"].decode("latin-1").split("?", 1)[0]  # the query is not signed
        state.authenticate(request.headers, request.method, raw_path, body)
        wait = state.take_token(receiver)
        if wait is not None:
            state.stats["rate_limited"] += 1
            raise Answer(429, "rate_limited", f"more than {state.rate_per_s:g} requests/s", {"Retry-After": str(max(1, math.ceil(wait)))})
        if not state.applies(receiver):
            return
        f = state.faults
        if state.draw(f.throttle_rate):
            state.stats["fault_throttle"] += 1
            raise Answer(429, "rate_limited", "busy, retry later (simulated)", {"Retry-After": str(f.retry_after_s)})
        if state.draw(f.error_rate):
            state.stats["fault_error"] += 1
            raise Answer(500, "server_error", "internal error (simulated)")
        if state.draw(f.timeout_rate):
            state.stats["fault_timeout"] += 1
            await asyncio.sleep(f.timeout_s)  # then carry on, as an overloaded receiver would
            if state.epoch != epoch:
                raise Answer(503, "unavailable", "the simulator was reset while this request waited", counted=False)

    async def served(request: Request, county: str | None, work, *, stored: str | None = None):
        """One request to a receiver's endpoint: admitted (auth, rate limit, faults), then `work(receiver, body)`, whose dict is
        answered 200; an `Answer` raised anywhere is answered as it says. `stored` names what `work` stored, for the
        simulated failure after it was accepted (`fail_after_accept_rate`). The answer is signed (signed_answers.py)."""
        response = await _served(request, county, work, stored)
        mode = state.faults.answers if state.applies(receiver_or_none(county)) else "signed"
        return sign_answer(response, request, secret=state.answer_key(request.headers.get("x-gateway-key")), mode=mode)

    def receiver_or_none(county: str | None) -> str | None:
        try:
            return receiver_of(county)
        except Answer:
            return None

    async def _served(request: Request, county: str | None, work, stored: str | None):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            out = work(receiver, body)
            if stored is not None and state.applies(receiver) and state.draw(state.faults.fail_after_accept_rate):
                state.stats["fault_fail_after_accept"] += 1
                raise Answer(500, "server_error", f"internal error after {stored} (simulated)")
            return answer(200, out)
        except Answer as exc:
            return error(exc)

    def batch(request: Request, county: str | None):
        def work(receiver, body):
            batch_id, items = parse_batch(body)
            return {"batch_id": batch_id, "results": state.process(receiver, county, items)}
        return served(request, county, work, stored="the batch was stored")

    def cancel(request: Request, county: str | None):
        def work(receiver, body):
            batch_id, items = parse_cancels(body)
            return {"batch_id": batch_id, "results": state.cancel(receiver, items)}
        return served(request, county, work, stored="the cancellations were stored")

    def remind(request: Request, county: str | None):
        def work(receiver, body):
            batch_id, items = parse_reminders(body)
            return {"batch_id": batch_id, "results": state.remind(receiver, items)}
        return served(request, county, work, stored="the reminders were noted")

    def work_order(request: Request, county: str | None, idempotency_key: str):
        def work(receiver, body):
            found = state.lookup(receiver, idempotency_key)
            if found is None:
                raise Answer(404, "unknown_work_order", f"no work order accepted under {idempotency_key!r}")
            return found
        return served(request, county, work)

    def results(request: Request, county: str | None):
        def work(receiver, body):
            after, limit = parse_feed_query(request.query_params)
            return state.feed(receiver, after, limit)
        return served(request, county, work)

    async def health(county: str | None):
        try:
            receiver = receiver_of(county)
            await before(receiver)
            return answer(200, {"status": "ok", "receiver": receiver})
        except Answer as exc:
            return error(exc)

    # The same four endpoints under each base; the parameter names match the OpenAPI spec.
    @app.post("/county/{xzqh}/v1/work-orders:batch")
    async def county_batch(xzqh: str, request: Request):
        return await batch(request, xzqh)

    @app.post("/county/{xzqh}/v1/work-orders:cancel")
    async def county_cancel(xzqh: str, request: Request):
        return await cancel(request, xzqh)

    @app.post("/grid/v1/work-orders:cancel")
    async def grid_cancel(request: Request):
        return await cancel(request, None)

    @app.post("/county/{xzqh}/v1/reminders")
    async def county_remind(xzqh: str, request: Request):
        return await remind(request, xzqh)

    @app.post("/grid/v1/reminders")
    async def grid_remind(request: Request):
        return await remind(request, None)

    @app.get("/county/{xzqh}/v1/work-orders/{idempotency_key}")
    async def county_work_order(xzqh: str, idempotency_key: str, request: Request):
        return await work_order(request, xzqh, idempotency_key)

    @app.get("/county/{xzqh}/v1/results")
    async def county_results(xzqh: str, request: Request):
        return await results(request, xzqh)

    @app.get("/county/{xzqh}/v1/health")
    async def county_health(xzqh: str):
        return await health(xzqh)

    @app.post("/grid/v1/work-orders:batch")
    async def grid_batch(request: Request):
        return await batch(request, None)

    @app.get("/grid/v1/work-orders/{idempotency_key}")
    async def grid_work_order(idempotency_key: str, request: Request):
        return await work_order(request, None, idempotency_key)

    @app.get("/grid/v1/results")
    async def grid_results(request: Request):
        return await results(request, None)

    @app.get("/grid/v1/health")
    async def grid_health():
        return await health(None)

    # --- remote collection (异地代收): packages to the property's registration system ----------
    add_package_routes(app, desk, served=served)

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
        if faults.answers not in ANSWER_MODES:
            return JSONResponse({"error": "bad_request", "message": f"answers must be one of {', '.join(ANSWER_MODES)}"}, status_code=400)
        state.faults = faults
        if seed is not None:
            state.rng = random.Random(seed)
        return asdict(faults)

    @app.post("/_sim/reset")
    async def reset(request: Request):
        wanted = json.loads((await request.body()) or b"{}")
        state.reset(wipe=bool(wanted.get("wipe", False)))
        if wanted.get("wipe", False):
            desk.wipe()
        return {"reset": True, "wiped": bool(wanted.get("wipe", False))}

    @app.get("/_sim/accepted")
    async def accepted(receiver: str | None = None):
        return {"items": state.accepted(receiver)}

    @app.get("/_sim/in-force")
    async def in_force(receiver: str | None = None):
        return {"items": state.in_force(receiver)}

    @app.get("/_sim/reminded")
    async def reminded(receiver: str | None = None):
        return {"items": state.reminded(receiver)}

    @app.get("/_sim/cancelled")
    async def cancelled(receiver: str | None = None):
        return {"items": state.cancelled(receiver)}

    def bad_request(message: str) -> JSONResponse:
        return JSONResponse({"error": "bad_request", "message": message}, status_code=400)

    async def json_body(request: Request) -> object:
        try:
            return json.loads((await request.body()) or b"{}")
        except ValueError:
            raise Answer(400, "bad_request", "body must be JSON") from None

    @app.post("/_sim/results")
    async def set_results(request: Request):
        try:
            state.set_results_config(ResultsConfig.parse(await json_body(request)))
        except Answer as exc:
            return bad_request(exc.message)
        except (TypeError, ValueError) as exc:
            return bad_request(str(exc))
        return asdict(state.results_config)

    @app.get("/_sim/results")
    async def truth(receiver: str | None = None):
        return state.truth(receiver)

    @app.get("/_sim/clock")
    async def get_clock():
        return {"now": local_text(state.now()), "fixed": state.fixed_now is not None}

    @app.post("/_sim/clock")
    async def set_clock(request: Request):
        try:
            wanted = await json_body(request)
        except Answer as exc:
            return bad_request(exc.message)
        if not isinstance(wanted, dict) or set(wanted) != {"now"}:
            return bad_request('body must be {"now": "YYYY-MM-DDTHH:MM:SS"} (local time) or {"now": null} (real time)')
        now = wanted["now"]
        if now is None:
            state.set_clock(None)
        else:
            try:
                moment = datetime.fromisoformat(now)
            except (TypeError, ValueError):
                return bad_request(f"now must be an ISO 8601 local time or null, not {now!r}")
            state.set_clock(moment if moment.tzinfo else moment.replace(tzinfo=LOCAL))
        return await get_clock()

    @app.post("/_sim/inject")
    async def inject(request: Request):
        try:
            wanted = await json_body(request)
        except Answer as exc:
            return bad_request(exc.message)
        if not isinstance(wanted, dict) or set(wanted) != {"receiver", "result"}:
            return bad_request("body must be an object with exactly the keys receiver and result")
        receiver = wanted["receiver"]
        if not isinstance(receiver, str) or not RECEIVER_PATTERN.fullmatch(receiver):
            return bad_request("receiver must be 'grid' or 'county/<six digits>'")
        try:
            seq = state.inject(receiver, wanted["result"])
        except ValueError as exc:
            return bad_request(f"result cannot be served as JSON: {exc}")
        return {"receiver": receiver, "seq": seq}

    @app.get("/_sim/stats")
    async def stats():
        return {"responses": dict(state.responses), "items": {k: v for k, v in state.stats.items() if not k.startswith(("fault_", "rate_"))},
                "faults": {k.removeprefix("fault_"): v for k, v in state.stats.items() if k.startswith("fault_")},
                "rate_limited": state.stats["rate_limited"]}

    return app
