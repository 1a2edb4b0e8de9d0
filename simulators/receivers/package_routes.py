"""The property side's endpoints (simulators/registration.py) in the receivers' app: files, package
batches, withdrawals and the package-events feed under /county/{xzqh}/v1 and /cross-province/v1,
and their /_sim controls.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict

from fastapi import Request  # at module level: FastAPI resolves handler annotations from these globals

from simulators.batch_envelope import CROSS_PROVINCE
from simulators.receivers.work_order_wire import Answer, parse_feed_query


def add_package_routes(app, desk, *, served) -> None:
    """The package endpoints (simulators/registration.py) under /county/{xzqh} and /cross-province; `served(request, county,
    work, stored=)` admits a request and answers what `work(receiver, body)` gives (receiver_app.py)."""
    from fastapi.responses import JSONResponse

    from simulators.registration import PackageConfig, PackageError, parse_packages, parse_withdrawals

    def refusing(work):
        """`work`, with the desk's refusals (PackageError) answered as they say."""
        def run(receiver, body):
            try:
                return work(receiver, body)
            except PackageError as exc:
                raise Answer(exc.status, exc.error, exc.message) from exc
        return run

    def put_file(request: Request, county: str | None, sha256: str):
        return served(request, county, refusing(lambda receiver, body: desk.put_file(receiver, sha256, body)))

    def packages(request: Request, county: str | None):
        def work(receiver, body):
            batch_id, items = parse_packages(body)
            return {"batch_id": batch_id, "results": desk.process(receiver, None if county == CROSS_PROVINCE else county, items)}
        return served(request, county, refusing(work), stored="the packages were stored")

    def withdraw(request: Request, county: str | None):
        def work(receiver, body):
            batch_id, items = parse_withdrawals(body)
            return {"batch_id": batch_id, "results": desk.withdraw(receiver, items)}
        return served(request, county, refusing(work))

    def events(request: Request, county: str | None):
        def work(receiver, body):
            after, limit = parse_feed_query(request.query_params)
            return desk.feed(receiver, after, limit)
        return served(request, county, work)

    @app.put("/county/{xzqh}/v1/files/{sha256}")
    async def county_file(xzqh: str, sha256: str, request: Request):
        return await put_file(request, xzqh, sha256)

    @app.post("/county/{xzqh}/v1/packages:batch")
    async def county_packages(xzqh: str, request: Request):
        return await packages(request, xzqh)

    @app.post("/county/{xzqh}/v1/packages:withdraw")
    async def county_withdraw(xzqh: str, request: Request):
        return await withdraw(request, xzqh)

    @app.post("/cross-province/v1/packages:withdraw")
    async def cross_withdraw(request: Request):
        return await withdraw(request, CROSS_PROVINCE)

    @app.get("/county/{xzqh}/v1/package-events")
    async def county_events(xzqh: str, request: Request):
        return await events(request, xzqh)

    @app.put("/cross-province/v1/files/{sha256}")
    async def cross_file(sha256: str, request: Request):
        return await put_file(request, CROSS_PROVINCE, sha256)

    @app.post("/cross-province/v1/packages:batch")
    async def cross_packages(request: Request):
        return await packages(request, CROSS_PROVINCE)

    @app.get("/cross-province/v1/package-events")
    async def cross_events(request: Request):
        return await events(request, CROSS_PROVINCE)

    @app.get("/_sim/packages")
    async def package_truth():
        return desk.truth()

    @app.post("/_sim/packages")
    async def package_config(request: Request):
        try:
            desk.set_config(PackageConfig.parse(json.loads((await request.body()) or b"{}")))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": "bad_request", "message": str(exc)}, status_code=400)
        return asdict(desk.config)

    @app.post("/_sim/package-events")
    async def package_inject(request: Request):
        wanted = json.loads((await request.body()) or b"{}")
        receiver = wanted.get("receiver") if isinstance(wanted, dict) else None
        if not isinstance(receiver, str) or not (receiver == CROSS_PROVINCE or re.fullmatch(r"county/\d{6}", receiver)) or "event" not in wanted:
            return JSONResponse({"error": "bad_request", "message": "body must be {receiver: 'county/<xzqh>' | 'cross-province', event: ...}"},
                                status_code=400)
        return {"receiver": receiver, "seq": desk.inject(receiver, wanted["event"])}
