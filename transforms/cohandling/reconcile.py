"""Reconciliation: the status of every work order, deadlines in working days (docs/domain.md §5).

| status | meaning |
|---|---|
| pending | routed, not yet delivered |
| held | waiting for the county's account-mode opening |
| delivered | delivered, no word yet, not yet due |
| acknowledged | the receiver confirmed it has it (受理), not yet due |
| done | final result 办理成功 (or "duplicate application", which is success) by the due date |
| done_late | done after the due date |
| rejected | refused, with the receiver's reason |
| overdue | delivered, no final result, due date passed |
| quarantined / cancelled / withdrawn / failed | never went out (validation or registry), a correction dropped it, the platform withdrew it, or the receiver's interface refused it |
| cancel_pending | delivered, then withdrawn or dropped by a correction: the receiver is being told (never overdue) |
| cancelled | (also) delivered, then cancelled at the receiver: final, never overdue |
| cancel_refused | delivered, then withdrawn, but the receiver had already handled it (0409) |
| result_after_cancel | an exception: a handling result arrived for a work order after its cancellation was confirmed (not a success) |

The due date is the N-th working day after the day of delivery (N per utility,
`DEADLINES`, 5 by default — the national norm for ordinary registrations), counting
Chinese public holidays and adjusted working weekends (transforms/common/workdays.py).
Pure and vectorised.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

import numpy as np
import pandas as pd

from transforms.common.workdays import WorkdayCalendar

DEADLINES: dict[str, int] = {"electricity": 5, "water": 5, "gas": 5, "heat": 5}
STATUSES = ("pending", "held", "delivered", "acknowledged", "done", "done_late", "rejected", "overdue", "quarantined", "cancelled", "withdrawn", "failed",
            "cancel_pending", "cancel_refused", "result_after_cancel")
NOT_SENT_OR_CANCELLED = ("quarantined", "cancelled", "withdrawn", "held", "failed", "cancel_pending", "cancel_refused")
OPEN = ("delivered", "acknowledged", "overdue")
GRID_NAME = "国网山东省电力公司"


def reconcile(orders: pd.DataFrame, *, as_of: datetime, calendar: WorkdayCalendar, divisions: dict, deadlines: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per work order in force with its status, due date and handling time (the report's input).

    `orders`: connectors.ledger `reconciliation_input()` (delivered_at and handled_at in local time).
    """
    deadlines = DEADLINES | (deadlines or {})
    out = orders.copy()
    n = len(out)
    delivered_day = pd.to_datetime(out["delivered_at"]).to_numpy(dtype="datetime64[D]") if n else np.array([], dtype="datetime64[D]")
    handled_day = pd.to_datetime(out["handled_at"]).to_numpy(dtype="datetime64[D]") if n else np.array([], dtype="datetime64[D]")
    limit = deadline_days(out["utility"], deadlines)
    due = calendar.add(delivered_day, limit) if n else np.array([], dtype="datetime64[D]")
    today = np.datetime64(as_of.date(), "D")

    order_status = out["order_status"].astype(object).to_numpy()
    delivery = out["delivery_status"].astype(object).to_numpy()
    result = out["result"].astype(object).to_numpy()
    is_delivered = (delivery == "delivered") | (order_status == "delivered")
    status = np.where(among(order_status, NOT_SENT_OR_CANCELLED), order_status, "pending").astype(object)
    status[(order_status == "ready")] = "pending"
    done = is_delivered & (result == "done")
    late = done & ~np.isnat(due) & (handled_day > due)
    status[done & ~late] = "done"
    status[late] = "done_late"
    status[is_delivered & (result == "rejected")] = "rejected"
    open_ = is_delivered & ~among(result, ["done", "rejected"])
    overdue = open_ & ~np.isnat(due) & (today > due)
    acknowledged = open_ & ~overdue & out["acknowledged_at"].notna().to_numpy()
    status[open_ & ~overdue & ~acknowledged] = "delivered"
    status[acknowledged] = "acknowledged"
    status[overdue] = "overdue"
    if "result_after_cancel" in out:  # a result for a work order cancelled at its receiver is an exception, never a success
        late_result = out["result_after_cancel"].fillna(0).astype(bool).to_numpy() & (order_status == "cancelled")
        status[late_result] = "result_after_cancel"

    out["status"] = status
    out["due_date"] = pd.Series(due, index=out.index).dt.date if n else pd.Series([], dtype=object)
    # A due date in a year with no known holiday arrangement (Mon–Fri assumed) is provisional: reports say so.
    out["due_provisional"] = calendar.provisional(due) if n else np.array([], dtype=bool)
    final = among(status, ["done", "done_late", "rejected"])
    out["handle_working_days"] = np.where(final, calendar.between(delivered_day, handled_day), np.nan) if n else []
    out["overdue_working_days"] = np.where(overdue, calendar.between(due, np.full(n, today)), np.nan) if n else []

    out["xzqh"], out["county_name"], out["city_code"], out["city_name"] = places(out["record_xzqh"], divisions)
    out["institution_name"] = np.where(out["utility"] == "electricity", GRID_NAME, out["institution_name"].astype(object))
    return out[[
        "rowguid", "utility", "version", "correction", "channel", "destination", "institution_code", "institution_name", "xzqh", "county_name",
        "city_code", "city_name", "status", "delivered_at", "due_date", "handled_at", "result_code", "result_reason", "handle_working_days",
        "overdue_working_days", "due_provisional", "buyer_name", "buyer_phone", "buyer_id", "address", "certificate",
        *(["platform_no"] if "platform_no" in out else []),  # YCYWH, the number people quote (the 公示 list names orders by it)
    ]]


def deadline_days(utility: pd.Series, deadlines: dict[str, int]) -> np.ndarray:
    """Working days allowed per row: the utility's deadline, 5 for one not listed (looked up once per distinct utility)."""
    codes, uniques = pd.factorize(utility, use_na_sentinel=True)
    given = [deadlines.get(u) if isinstance(u, str) else None for u in uniques]
    days = np.array([5 if d is None or pd.isna(d) else int(d) for d in given] + [5], dtype=int)
    return days[np.where(codes < 0, len(uniques), codes)]


def among(values: np.ndarray, choices) -> np.ndarray:
    """np.isin for an object column of text (a hash lookup, not one comparison pass per choice); missing values are in none."""
    return pd.Index(values, dtype=object).isin(list(choices))


def places(record_xzqh: pd.Series, divisions: dict) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(xzqh normalised, county name, city code, city name) per row. A column of a few hundred distinct codes: each
    distinct value is looked up once and the answers spread by position (per-row Python calls were most of the time)."""
    if record_xzqh.empty:  # as Series.map: an empty column keeps its dtype
        return tuple(record_xzqh.copy() for _ in range(4))
    codes, uniques = pd.factorize(record_xzqh, use_na_sentinel=True)  # NA -> -1, given the last entry: the answers for None
    xzqh = [unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else None for v in uniques] + [None]
    county = [divisions.get(c) for c in xzqh]
    city_code = [d.parent_code if d is not None else "" for d in county]
    columns = (xzqh, [d.name if d is not None else "未知县区" for d in county], city_code,
               [divisions[c].name if c in divisions else "未知市" for c in city_code])
    rows = np.where(codes < 0, len(uniques), codes)
    return tuple(pd.Series(np.array(c, dtype=object)).take(rows).set_axis(record_xzqh.index) for c in columns)


def daily_counts(statuses: pd.DataFrame, *, first, last) -> pd.DataFrame:
    """Per day of the period: delivered, done (in time or late), rejected, and open-overdue work orders by due date."""
    days = pd.date_range(first, last, freq="D").date
    delivered = pd.to_datetime(statuses["delivered_at"]).dt.date.value_counts()
    handled = pd.to_datetime(statuses["handled_at"]).dt.date
    done = handled[statuses["status"].isin(["done", "done_late"])].value_counts()
    rejected = handled[statuses["status"] == "rejected"].value_counts()
    overdue = pd.Series(statuses.loc[statuses["status"] == "overdue", "due_date"]).value_counts()
    return pd.DataFrame({
        "day": days,
        "delivered": [int(delivered.get(d, 0)) for d in days],
        "done": [int(done.get(d, 0)) for d in days],
        "rejected": [int(rejected.get(d, 0)) for d in days],
        "overdue": [int(overdue.get(d, 0)) for d in days],
    })


def shared_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each object column's equal values made one object (missing values kept as they are): a database
    driver gives every cell a string of its own, and the same institution name two million times is two million strings
    (jobs/cohandling/collect_results.py `reconcile_now` keeps its parts so)."""
    for column in frame.columns:
        if frame[column].dtype != object or not len(frame):
            continue
        values = frame[column].to_numpy()
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if not len(uniques):
            continue
        shared = np.asarray(uniques, dtype=object)[codes]
        missing = codes < 0
        shared[missing] = values[missing]
        frame[column] = pd.Series(shared, index=frame.index, dtype=object)  # the type it had (pandas would infer str)
    return frame


def joined_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """`reconcile`'s answers for parts of the work orders as one frame, typed as one part of them all would be: a part
    with nothing in a column has it as object, which takes the type the typed parts agree on (else object stays)."""
    if len(parts) == 1:
        return parts[0]
    out = pd.concat(parts, ignore_index=True)
    for column in out.columns:
        typed = {p[column].dtype for p in parts if p[column].dtype != object}
        if out[column].dtype == object and len(typed) == 1:
            out[column] = out[column].astype(typed.pop())
    return out
