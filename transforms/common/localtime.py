"""Shandong's local time and the ledger's UTC, in one place.

The ledger stamps every time in naive UTC; people, reports, due dates and the DAGs' as-of speak Shandong's local time
(Asia/Shanghai, naive). China has kept UTC+8 all year since 1991 (no daylight saving), so converting is a fixed offset:
`to_local` and `to_utc` take a datetime, a pandas Timestamp or a Series of either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

LOCAL_OFFSET = timedelta(hours=8)


def to_local(utc):
    """Naive UTC (the ledger's) → naive Shandong local time."""
    return utc + LOCAL_OFFSET


def to_utc(local):
    """Naive Shandong local time → naive UTC (the ledger's)."""
    return local - LOCAL_OFFSET


def local_now() -> datetime:
    """Now in Shandong, naive, to the microsecond."""
    return to_local(datetime.now(UTC).replace(tzinfo=None))


def local_today() -> date:
    return local_now().date()
