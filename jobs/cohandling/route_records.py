"""Routing validated records into work orders (transforms/cohandling/workorder_routing.py), against the registry
version in force on the run's day, and keeping them in the ledger.

Routing works from the ledger's state, not from its run: each run routes every record whose
version in force routing has not taken yet — whichever run validated it, so what a run that
failed after validation left is routed by the next — in change order, page by page; then,
again, every record whose work orders still wait — held for a county's opening date, or
quarantined because the registry lacked its institution — so a county that opens, or an
institution added by a later form, is picked up by the next run without anyone touching the
records. A page's work orders and its records' "routed" mark commit in one transaction.

Overlapping runs (jobs/common/stage_clock.py): routing holds the ledger lock `cohandling.route`,
and runs as of max(its as-of, the `cohandling` clock). A backfill of a past day therefore re-routes
the waiting work orders against the registry in force *now*, never against its day's: held or
registry-blocked work orders are never quarantined, or released, by a past registry. The
writes are upserts (connectors/ledger/workorder_store.py), so even two routings of the same work
orders at once cannot collide on the key.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from connectors.ledger import Ledger, utcnow
from jobs.common.outcomes import route_line

log = logging.getLogger(__name__)

PAGE_SIZE = 200_000  # records routed per transaction: a backlog is worked through in bounded memory


@dataclass(frozen=True)
class RouteResult:
    run_id: str
    records: int
    work_orders_written: int
    new: int
    corrections: int
    released: int
    by_status: dict
    by_channel: dict
    carried_over: int = 0  # of the records routed, those another run validated (it failed or stopped before routing)
    rechecked: int = 0  # routed records whose waiting work orders were looked up again in the registry in force
    pages: int = field(default=0, compare=False)

    def as_dict(self) -> dict:
        return asdict(self)


def route_run(ledger: Ledger, *, run_id: str, as_of: datetime, page_size: int | None = None) -> RouteResult:
    """Route what is due (and what waits) by the registry in force at `as_of` (local time) — or at the
    `cohandling` clock, if that is later (module docstring)."""
    from jobs.common.settings import lock_wait_s

    with ledger.stage_lock("cohandling.route", run_id=run_id, wait_s=lock_wait_s()):
        return _route_run(ledger, run_id=run_id, as_of=as_of, page_size=page_size)


def _route_run(ledger: Ledger, *, run_id: str, as_of: datetime, page_size: int | None) -> RouteResult:
    from jobs.common.stage_clock import run_as_of

    as_of = run_as_of(ledger, "cohandling", as_of, run_id=run_id, stage="route")
    page_size = page_size or PAGE_SIZE
    registry = ledger.registry.registry_at(as_of)
    # A utility blocked at validation only because its institution was not registered yet is looked up
    # again in the registry in force now: a county's later Annex 2 form releases it without a correction.
    recheck = ledger.cohandling.registry_blocked()
    total = {"records": 0, "work_orders_written": 0, "new": 0, "corrections": 0, "released": 0, "carried_over": 0, "rechecked": 0}
    by_status: Counter = Counter()
    by_channel: Counter = Counter()
    pages = 0
    for kind in ("due", "waiting"):  # due first: a record both due and waiting is routed once, as due
        after = 0
        while True:
            records = ledger.cohandling.route_records(kind, after_seq=after, page_size=page_size)
            if not len(records):
                break
            high = int(records["change_seq"].max())
            current = ledger.cohandling.route_work_orders(kind, after_seq=after, high_seq=high)
            summary = _route_page(ledger, records, current, registry, recheck, run_id=run_id, as_of=as_of, mark=kind == "due")
            pages += 1
            for key in total:
                total[key] += summary[key]
            by_status.update(summary["by_status"])
            by_channel.update(summary["by_channel"])
            if len(records) < page_size:
                break
            after = high
    result = RouteResult(run_id=run_id, **total, by_status=dict(sorted(by_status.items())), by_channel=dict(sorted(by_channel.items())), pages=pages)
    ledger.audit(run_id=run_id, actor="route", action="run_routed", object_type="work_order", object_id=run_id,
                 detail={"as_of": as_of.isoformat(sep=" "), **{k: v for k, v in result.as_dict().items() if k != "run_id"}})
    log.info("%s", route_line(result.as_dict()))
    return result


def _route_page(ledger: Ledger, records, current, registry, recheck: set, *, run_id: str, as_of: datetime, mark: bool) -> dict:
    """Route one page of records against the work orders they have; save it (and mark the records routed) in one transaction."""
    import pandas as pd
    import pyarrow as pa

    from transforms.cohandling.workorder_routing import plan_versions, route_work_orders

    carried = int((records["validated_by"] != run_id).sum()) if mark else 0
    records = records.drop(columns=["validated_by"])
    if recheck:
        records = records.copy()
        records["blocked"] = [
            ",".join(u for u in (b or "").split(",") if u and (g, u) not in recheck)
            for g, b in zip(records["ROWGUID"], records["blocked"])
        ]
    routed = route_work_orders(records, registry, as_of=as_of.date()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    routed["change_seq"] = routed["change_seq"].astype("int64")
    if len(current):  # a withdrawn or dropped work order a receiver may hold waits for a cancellation (cancel_pending)
        flags = ledger.cohandling.cancellation_flags(current["rowguid"])
        pairs = [flags.get(k, (False, False)) for k in zip(current["rowguid"], current["utility"])]
        current = current.assign(at_receiver=[p[0] for p in pairs], messaged=[p[1] for p in pairs])
    planned = plan_versions(current, routed, records)
    was_held = set()
    if len(current):
        held = current[current["status"] == "held"]
        was_held = set(zip(held["rowguid"], held["utility"]))
    released = int(sum(1 for k, s in zip(zip(planned["rowguid"], planned["utility"]), planned["status"]) if k in was_held and s == "ready"))
    summary = {
        "as_of": as_of.isoformat(sep=" "),
        "records": len(records) if mark else 0,
        "work_orders_written": len(planned),
        "new": int((planned["action"] == "new").sum()) if len(planned) else 0,
        "corrections": int(planned["correction"].sum()) if len(planned) else 0,
        "released": released,
        "carried_over": carried,
        "rechecked": 0 if mark else len(records),
        "by_status": {str(k): int(v) for k, v in planned["status"].value_counts().items()} if len(planned) else {},
        "by_channel": {str(k): int(v) for k, v in planned["channel"].fillna("-").value_counts().items()} if len(planned) else {},
    }
    ledger.cohandling.save_work_orders(planned, run_id=run_id, routed_at=utcnow(), summary=summary, routed=records if mark else None, action="page_routed")
    return summary
