"""Trace: the whole trail of a record or a package, from the ledger (`python -m tools.cli trace KEY`; the web console calls
`trace()` too).

The key is detected: a ROWGUID (one record), a YCYWH (the platform's business number: every ROWGUID that carries it is
traced), or a BWID (a remote-collection package, 异地代收). The trail is one event table in time order
(transforms/common/trail.py, columns `EVENT_COLUMNS`), personal data masked. Reads only; indexed lookups by ROWGUID /
BWID where the ledger has the index (connectors/ledger/trace_store.py says which lookups scan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from connectors.ledger.trace_store import UNINDEXED
from transforms.common.localtime import to_local, to_utc
from transforms.common.trail import EVENT_COLUMNS, KINDS, TZ, assemble_package, assemble_record, empty

__all__ = ["EVENT_COLUMNS", "KINDS", "SEARCHED", "Trace", "trace"]

# What a key is looked for in, in this order (told when nothing matches).
SEARCHED: tuple[str, ...] = (
    "记录标识 ROWGUID（record_state、work_order）",
    "代收报文标识 BWID（remote_package_state）",
    "记录标识 ROWGUID 与平台业务号 YCYWH（received_record，含尚未校验的变更）",
    "代收报文标识 BWID（remote_package，含尚未校验的报文）",
)


@dataclass(frozen=True)
class Trace:
    """One key's trail.

    key: as given (stripped); kind: "rowguid" | "ycywh" | "bwid", None when nothing matched; matches: the ROWGUIDs
    (rowguid, ycywh) or BWIDs traced; events: one row per event, columns exactly `EVENT_COLUMNS` (time tz-aware in
    Asia/Shanghai, in order); as_of: the local time the trail and the current state are judged at; searched: where
    the key was looked for."""

    key: str
    kind: str | None
    matches: tuple[str, ...]
    events: pd.DataFrame
    as_of: datetime
    searched: tuple[str, ...] = field(default=SEARCHED)
    areas: tuple[str, ...] = ()  # the counties (XZQH) the records lie in; a package's property county and collecting county
    owners: tuple[tuple[str, str], ...] = ()  # (work order key ROWGUID:utility:version, institution code) — who each order went to

    @property
    def found(self) -> bool:
        return self.kind is not None

    @property
    def kind_zh(self) -> str:
        return KINDS.get(self.kind or "", "未找到")

    def not_found_message(self) -> str:
        return f"未找到 {self.key!r}（not found）：已查 " + "；".join(self.searched)

    def as_dict(self) -> dict:
        events = self.events.assign(time=self.events["time"].map(lambda t: t.isoformat()))
        return {"key": self.key, "kind": self.kind, "kind_zh": self.kind_zh, "matches": list(self.matches),
                "as_of": self.as_of.isoformat(), "searched": list(self.searched), "events": events.to_dict(orient="records")}


def trace(ledger, key: str, *, as_of: datetime | None = None) -> Trace:
    """The trail of `key` (ROWGUID, YCYWH or BWID) as of `as_of` (local time, Asia/Shanghai, naive or aware; None: now)."""
    key = (key or "").strip()
    local = _local(as_of)
    if not key:
        return Trace(key, None, (), empty(), local)
    kind, matches = ledger.trace_find(key)
    if kind is None:
        return Trace(key, None, (), empty(), local)
    if kind == "bwid":
        frames = ledger.trace_package_frames(matches)
        events = assemble_package(frames, as_of=local)
        packages = frames["packages"]
        areas = _codes(*(packages[c] for c in ("xzqh", "sjxzqh") if c in packages))
        return Trace(key, kind, tuple(matches), events, local, areas=areas)
    known_by = to_utc(local)  # the ledger's clock is UTC
    frames = ledger.trace_record_frames(matches, known_by=known_by)
    events = assemble_record(frames, as_of=local, states=_states(frames["reconciliation"], local))
    received, orders = frames["received"], frames["work_orders"]
    owners = tuple(sorted({(f"{r}:{u}:{int(v)}", "" if c is None or pd.isna(c) else str(c))
                           for r, u, v, c in zip(orders.get("rowguid", ()), orders.get("utility", ()), orders.get("version", ()),
                                                 orders.get("institution_code", ()))}))
    areas = _codes(*(frame[c] for frame, c in ((received, "xzqh"), (orders, "xzqh")) if c in frame))
    return Trace(key, kind, tuple(matches), events, local, areas=areas, owners=owners)


def _codes(*columns) -> tuple[str, ...]:
    return tuple(sorted({str(v).strip() for column in columns for v in column if v is not None and not pd.isna(v) and str(v).strip()}))


def _local(as_of: datetime | None) -> datetime:
    if as_of is None:
        return pd.Timestamp.now(tz=TZ).tz_localize(None).to_pydatetime()
    if as_of.tzinfo is not None:
        return pd.Timestamp(as_of).tz_convert(TZ).tz_localize(None).to_pydatetime()
    return as_of


def _states(orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """The records' work orders as reconciliation judges them at `as_of` (due dates in working days)."""
    from jobs.common import reference
    from transforms.cohandling.reconcile import reconcile

    if not len(orders):
        return orders
    orders = orders.copy()
    orders["delivered_at"] = to_local(pd.to_datetime(orders["delivered_at"]))
    for column in ("handled_at", "acknowledged_at"):
        orders[column] = pd.to_datetime(orders[column])
    first = (orders["delivered_at"].min() if orders["delivered_at"].notna().any() else pd.Timestamp(as_of)).date() - timedelta(days=7)
    calendar = reference.workday_calendar(first, as_of.date() + timedelta(days=120))
    return reconcile(orders, as_of=as_of, calendar=calendar, divisions=reference.divisions())


def unindexed() -> tuple[str, ...]:
    """The lookups the trace makes without an index (connectors/ledger/trace_store.py)."""
    return UNINDEXED
