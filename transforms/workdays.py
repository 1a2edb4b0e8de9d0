"""Working days in China: public holidays and the adjusted working weekends (调休), from
the `chinese-calendar` package (DOMAIN.md §5). Deadlines count in working days.

`WorkdayCalendar` precomputes, for a span of dates, the running count of working days, so
that "working days between two dates" and "the N-th working day after a date" are array
lookups — vectorised over whole columns. Years the package does not cover yet (it is
updated when the State Council publishes a year's holidays) fall back to Monday–Friday,
and `uncovered_years` says which ones did.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np


class WorkdayCalendar:
    """Working-day arithmetic over [first, last] (dates outside are clipped to the span)."""

    def __init__(self, first: date, last: date) -> None:
        import chinese_calendar

        self.first, self.last = first, last
        days = (last - first).days + 1
        flags = np.zeros(days, dtype=bool)
        uncovered: set[int] = set()
        for i in range(days):
            day = first + timedelta(days=i)
            try:
                flags[i] = chinese_calendar.is_workday(day)
            except NotImplementedError:
                uncovered.add(day.year)
                flags[i] = day.weekday() < 5
        self.is_workday = flags
        self.uncovered_years = sorted(uncovered)
        self.cumulative = np.cumsum(flags)  # working days in [first, day]
        self._workday_offsets = np.flatnonzero(flags)

    def _index(self, days) -> np.ndarray:
        values = np.asarray(days, dtype="datetime64[D]")
        offset = (values - np.datetime64(self.first, "D")).astype(np.int64)
        return np.clip(offset, 0, len(self.is_workday) - 1)

    def between(self, start, end) -> np.ndarray:
        """Working days after `start` up to and including `end` (0 if end <= start); NaT gives NaN."""
        start = np.asarray(start, dtype="datetime64[D]")
        end = np.asarray(end, dtype="datetime64[D]")
        out = (self.cumulative[self._index(end)] - self.cumulative[self._index(start)]).astype(float)
        out[np.isnat(start) | np.isnat(end)] = np.nan
        return np.maximum(out, 0)

    def add(self, start, n: int | np.ndarray) -> np.ndarray:
        """The n-th working day after `start` (datetime64[D]); NaT where start is NaT or beyond the span."""
        start = np.asarray(start, dtype="datetime64[D]")
        target = self.cumulative[self._index(start)] + np.asarray(n)  # the k-th working day overall (1-based)
        position = np.clip(target - 1, 0, max(len(self._workday_offsets) - 1, 0))
        out = np.datetime64(self.first, "D") + self._workday_offsets[position].astype("timedelta64[D]")
        out = np.where((target > len(self._workday_offsets)) | np.isnat(start), np.datetime64("NaT"), out)
        return out.astype("datetime64[D]")
