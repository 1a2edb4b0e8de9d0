"""The console's read model (`order_status`, migration 0016): the reconciled status of each work order in force, kept
so that a console page reads only its scope with SQL instead of reconciling the whole ledger per request.

Refreshed
- by the hourly results run (jobs/cohandling/collect_results.py `collect_results`, after collection): the work orders
  touched since the last refresh (routed, delivered, cancelled, a result or outcome recorded — with a margin), or all of
  them when the read model is empty, or when more than `WHOLE_ABOVE` ROWGUIDs were touched and they are more than
  `WHOLE_SHARE` of those the read model holds (a whole refresh rewrites every row: at a million records, 2.4 million
  rows for a day's 200,000 touched ROWGUIDs was the results stage's largest cost);
- at once for the work orders a result recorded or uploaded on the console touched (jobs/cohandling/console_results.py);
- whole, on the console's first request over a ledger whose read model is empty (a ledger migrated from 0015).

Each refresh reconciles what it refreshes exactly as `reconcile_now` does (transforms/cohandling/reconcile.py), as the
ledger knows it now. "overdue" is a clock's verdict: it is stored as the open status under it (delivered or
acknowledged) with the due date, and derived when read (due date before the reader's today), so a page is right
between refreshes; tests/integration/console/test_read_model.py holds the read model's answers equal to reconcile_now's
on the same ledger. Only what changes with the registry or the holiday calendar (an institution renamed, a due date
moved by a new holiday arrangement) waits for a whole refresh: `refresh_order_status(..., whole=True)`
(`python -m jobs.cohandling.order_status`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pandas as pd

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)
LOCK = "cohandling.order_status"
MARGIN = timedelta(minutes=10)  # a change committed late with an earlier time stamp is still found by the next refresh
WHOLE_ABOVE = 200_000  # touched ROWGUIDs beyond which one whole refresh can be cheaper than IN lists ...
WHOLE_SHARE = 0.5  # ... when they are also more than this share of the ROWGUIDs the read model holds
WHOLE_CHUNK = 50_000  # ROWGUIDs reconciled at a time by a whole refresh
EVER = datetime(9999, 12, 31)
UTILITY_RANK = {"electricity": 0, "water": 1, "gas": 2, "heat": 3}  # transforms/reporting/cohandling_tables.py UTILITY_ORDER


def refresh_order_status(ledger: Ledger, *, rowguids=None, whole: bool = False, as_of: datetime | None = None) -> dict:
    """Refresh the read model: the work orders of `rowguids`, or (None) those touched since the last refresh, or all of them
    (`whole`, or an empty read model over a ledger with work orders). `as_of`: local time the due dates are computed
    around (None: now). Returns {"mode": "whole" | "some" | "none", "rowguids": n, "rows": n}."""
    from jobs.common.settings import lock_wait_s

    started = utcnow()
    as_of = as_of or (started + timedelta(hours=8))
    with ledger.stage_lock(LOCK, wait_s=lock_wait_s(600)):
        last, has_orders = ledger.cohandling.read_model_state()
        if not whole and last is None and has_orders:
            whole = True
        if not whole and rowguids is None:
            if last is None:
                return {"mode": "none", "rowguids": 0, "rows": 0}
            rowguids = ledger.cohandling.touched_rowguids(last - MARGIN)
            whole = len(rowguids) > WHOLE_ABOVE and len(rowguids) > WHOLE_SHARE * ledger.cohandling.read_model_rowguids()
        if whole:  # a chunk of ROWGUIDs at a time: memory stays a chunk's, whatever the ledger's size
            every = ledger.cohandling.work_order_rowguids()
            written = [0]

            def chunks():
                for start in range(0, len(every), WHOLE_CHUNK):
                    keys = every[start:start + WHOLE_CHUNK]
                    orders = ledger.cohandling.reconciliation_input_of([], EVER, between=(keys[0], keys[-1]))
                    part = read_model_rows(orders, as_of=as_of, refreshed_at=started)
                    written[0] += part.num_rows
                    yield part

            ledger.cohandling.write_order_status(chunks(), rowguids=None, today=as_of.date())
            out = {"mode": "whole", "rowguids": len(every), "rows": written[0]}
        else:
            keys = sorted(set(rowguids))
            if not keys:
                return {"mode": "none", "rowguids": 0, "rows": 0}
            written = [0]

            def parts():  # a chunk of ROWGUIDs at a time here too: up to WHOLE_ABOVE of them can be touched
                for start in range(0, len(keys), WHOLE_CHUNK):
                    part = read_model_rows(ledger.cohandling.reconciliation_input_of(keys[start:start + WHOLE_CHUNK], EVER),
                                           as_of=as_of, refreshed_at=started)
                    written[0] += part.num_rows
                    yield part

            ledger.cohandling.write_order_status(parts(), rowguids=keys, today=as_of.date())
            out = {"mode": "some", "rowguids": len(keys), "rows": written[0]}
    log.info("order_status refreshed: %s", out)
    return out


def read_model_rows(orders: pd.DataFrame, *, as_of: datetime, refreshed_at: datetime):
    """reconciliation_input rows -> order_status rows (Arrow): reconciled as `reconcile_now` does, overdue stored as the open
    status under it (acknowledged when the receiver confirmed it, else delivered), XZQH '' when unknown."""
    import pyarrow as pa

    from jobs.common import reference
    from transforms.cohandling.reconcile import reconcile

    if len(orders):
        first = (orders["delivered_at"].min() if orders["delivered_at"].notna().any() else pd.Timestamp(as_of)).date() - timedelta(days=7)
    else:
        first = as_of.date() - timedelta(days=7)
    calendar = reference.workday_calendar(first, as_of.date() + timedelta(days=120))
    statuses = reconcile(orders, as_of=as_of, calendar=calendar, divisions=reference.divisions())
    status = statuses["status"].to_numpy(dtype=object, copy=True)
    overdue = status == "overdue"
    if overdue.any():
        acknowledged = orders["acknowledged_at"].notna().to_numpy()
        status[overdue & acknowledged] = "acknowledged"
        status[overdue & ~acknowledged] = "delivered"

    def text(column: str, empty=None) -> pa.Array:
        values = statuses[column].astype(object) if column in statuses else pd.Series([None] * len(statuses), dtype=object)
        return pa.array([v if isinstance(v, str) else empty if v is None or pd.isna(v) else str(v) for v in values], pa.string())

    def stamp(column: str) -> pa.Array:
        values = pd.to_datetime(statuses[column])
        return pa.array([None if pd.isna(v) else v.to_pydatetime() for v in values], pa.timestamp("us"))

    return pa.table({
        "rowguid": text("rowguid"),
        "utility": text("utility"),
        "version": pa.array(statuses["version"].astype(int).tolist(), pa.int64()),
        "utility_rank": pa.array([UTILITY_RANK.get(u, len(UTILITY_RANK)) for u in statuses["utility"]], pa.int64()),
        "status": pa.array(status.tolist(), pa.string()),
        "due_date": pa.array([None if pd.isna(d) else str(d) for d in statuses["due_date"]], pa.string()),
        "delivered_at": stamp("delivered_at"),
        "handled_at": stamp("handled_at"),
        "result_code": text("result_code"),
        "channel": text("channel"),
        "destination": text("destination"),
        "institution_code": text("institution_code"),
        "institution_name": text("institution_name"),
        "xzqh": text("xzqh", ""),
        "county_name": text("county_name", ""),
        "city_code": text("city_code", ""),
        "city_name": text("city_name", ""),
        "platform_no": text("platform_no"),
        "refreshed_at": pa.array([refreshed_at] * len(statuses), pa.timestamp("us")),
    })


if __name__ == "__main__":  # python -m jobs.cohandling.order_status [--conn-id gateway_ledger]: a whole refresh
    import argparse

    parser = argparse.ArgumentParser(description="Refresh the console's read model (order_status) whole.")
    parser.add_argument("--conn-id", default="gateway_ledger")
    parser.add_argument("--url", help="a SQLAlchemy URL instead of an Airflow connection")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    book = Ledger(args.url) if args.url else Ledger.from_conn_id(args.conn_id)
    print(refresh_order_status(book, whole=True))
