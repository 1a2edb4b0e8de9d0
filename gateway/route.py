"""Routing a run's validated records into work orders (transforms/routing.py), against the
registry version in force on the run's day, and keeping them in the ledger.

Each run routes the record versions it validated and, again, every work order still
waiting — held for a county's opening date, or quarantined because the registry lacked
its institution — so a county that opens, or an institution added by a later form, is
picked up by the next run without anyone touching the records.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)


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

    def as_dict(self) -> dict:
        return asdict(self)


def route_run(ledger: Ledger, *, run_id: str, as_of: datetime) -> RouteResult:
    """Route what run `run_id` validated (and what waits) by the registry in force at `as_of` (local time)."""
    from transforms.routing import plan_versions, route_work_orders

    records = ledger.route_records(run_id)
    registry = ledger.registry_at(as_of)
    # A utility blocked at validation only because its institution was not registered yet is looked up
    # again in the registry in force now: a county's later Annex 2 form releases it without a correction.
    recheck = ledger.registry_blocked()
    if recheck and len(records):
        records = records.copy()
        records["blocked"] = [
            ",".join(u for u in (b or "").split(",") if u and (g, u) not in recheck)
            for g, b in zip(records["ROWGUID"], records["blocked"])
        ]
    current = ledger.route_work_orders(run_id)
    import pandas as pd
    import pyarrow as pa

    routed = route_work_orders(records, registry, as_of=as_of.date()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    routed["change_seq"] = routed["change_seq"].astype("int64")
    if len(current):  # a withdrawn or dropped work order a receiver may hold waits for a cancellation (cancel_pending)
        flags = ledger.cancellation_flags(current["rowguid"])
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
        "records": len(records),
        "work_orders_written": len(planned),
        "new": int((planned["action"] == "new").sum()) if len(planned) else 0,
        "corrections": int(planned["correction"].sum()) if len(planned) else 0,
        "released": released,
        "by_status": {str(k): int(v) for k, v in planned["status"].value_counts().items()} if len(planned) else {},
        "by_channel": {str(k): int(v) for k, v in planned["channel"].fillna("-").value_counts().items()} if len(planned) else {},
    }
    ledger.save_work_orders(planned, run_id=run_id, routed_at=utcnow(), summary=summary)
    log.info("route %s: %s", run_id, summary)
    return RouteResult(run_id=run_id, **{k: v for k, v in summary.items() if k != "as_of"})
