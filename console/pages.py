"""What the console's pages show, read from the read model (jobs/cohandling/order_status.py) in the user's scope with
SQL (connectors/ledger/console_store.py): counts from the counts table, lists of at most `MAX_ROWS` rows, and the
applicant's fields read by key for the rows shown only (masked by the pages). Shapes as the templates take them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from console.scopes import Scope

OPEN_STATUSES = ("delivered", "acknowledged", "overdue")


def merged(scope: Scope, **chosen: str) -> dict | None:
    """The scope's filters with a page's (city_code, xzqh, institution_code, utility); None when they contradict (nothing)."""
    out = dict(scope.filters())
    for column, value in chosen.items():
        if not value:
            continue
        if out.get(column) not in (None, value):
            return None
        out[column] = value
    return out


def counts(ledger, filters: dict | None, today: date) -> pd.DataFrame:
    """Work orders by city, county, utility, institution, channel and status (overdue as of `today`): column n."""
    if filters is None:
        return pd.DataFrame(columns=["city_code", "city_name", "xzqh", "county_name", "utility", "institution_code", "institution_name",
                                     "channel", "status", "n"])
    frame = ledger.cohandling.console_counts(filters, today)
    frame["n"] = frame["n"].astype(int)
    return frame


def status_counts(c: pd.DataFrame) -> list[dict]:
    """[{code, label, n}] in the report's order, statuses with work orders only."""
    from transforms.reporting.cohandling_tables import STATUSES

    n = c.groupby("status")["n"].sum() if len(c) else pd.Series(dtype=int)
    return [{"code": s, "label": label, "n": int(n.get(s, 0))} for s, label in STATUSES.items() if int(n.get(s, 0))]


def counties(c: pd.DataFrame) -> list[dict]:
    """Per county (by city): work orders and overdue ones."""
    out = []
    if not len(c):
        return out
    c = c.assign(overdue=np.where(c["status"] == "overdue", c["n"], 0))
    for (city_code, city_name, xzqh, county_name), part in c.groupby(["city_code", "city_name", "xzqh", "county_name"], dropna=False):
        out.append({"city": f"{city_name}({city_code})", "xzqh": xzqh, "name": county_name, "n": int(part["n"].sum()),
                    "overdue": int(part["overdue"].sum())})
    return out


def by_institution(c: pd.DataFrame) -> list[dict]:
    """Per (utility, institution): work orders, done in time or late, rejected, open, overdue."""
    from transforms.cohandling.annex1 import UTILITY_LABELS

    out = []
    for (utility, code, name), part in c.groupby(["utility", c["institution_code"].fillna(""), "institution_name"], dropna=False):
        n, status = part["n"], part["status"]
        out.append({"utility": f"{UTILITY_LABELS.get(utility, utility)}({utility})", "code": code, "name": name, "n": int(n.sum()),
                    "done": int(n[status.isin(["done", "done_late"])].sum()), "rejected": int(n[status == "rejected"].sum()),
                    "open": int(n[status.isin(OPEN_STATUSES)].sum()), "overdue": int(n[status == "overdue"].sum())})
    return out


def with_people(ledger, rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` (work orders shown) with correction and the applicant's fields (clear text: the page masks them), read by key."""
    if not len(rows):
        return rows.assign(correction=False, buyer_name=None, buyer_phone=None, buyer_id=None, address=None)
    people = ledger.cohandling.console_people(rows["rowguid"].tolist())
    people["version"] = people["version"].astype(int)
    out = rows.assign(version=rows["version"].astype(int)).merge(people, on=["rowguid", "utility", "version"], how="left")
    out["correction"] = out["correction"].fillna(False).astype(bool)
    return out


def overdue_rows(ledger, filters: dict | None, today: date, limit: int) -> pd.DataFrame:
    """The first `limit` overdue work orders in scope, shaped as reconcile's rows for `overdue_list` (working days overdue
    and provisional due dates from the holiday calendar, the applicant's fields by key)."""
    from jobs.common import reference

    if filters is None:
        return pd.DataFrame()
    rows = ledger.cohandling.console_overdue(filters, today, limit)
    if not len(rows):
        return rows
    due = pd.to_datetime(rows["due_date"]).to_numpy(dtype="datetime64[D]")
    calendar = reference.workday_calendar(pd.Timestamp(due.min()).date() - timedelta(days=7), today + timedelta(days=1))
    rows["overdue_working_days"] = calendar.between(due, np.full(len(rows), np.datetime64(today, "D")))
    rows["due_provisional"] = calendar.provisional(due)
    rows["due_date"] = pd.Series(due, index=rows.index).dt.date
    rows["delivered_at"] = pd.to_datetime(rows["delivered_at"])
    return with_people(ledger, rows)


def drop_of(ledger, scope: Scope) -> str | None:
    """An institution's drop (its account-mode work orders' destination), when it has exactly one."""
    drops = ledger.cohandling.console_drops(scope.code) if scope.role == "institution" else []
    return drops[0] if len(drops) == 1 else None
