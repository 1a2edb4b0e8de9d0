"""Working days in China: public holidays and the adjusted working weekends (调休)
(docs/domain.md §5). Deadlines count in working days.

Where a year's arrangement comes from, in order:

1. the operator's data (`reference/calendar/`, parsed by `parse_arrangements`): a year listed
   there replaces everything else for that year, so a newly published arrangement or a
   correction takes effect without a new library release;
2. the `chinese-calendar` package (it covers the years up to its release);
3. neither: Monday–Friday is assumed, and the year is **provisional** — every date computed
   in it is marked (`provisional`), reports say so, and `calendar_alert` warns before the
   year starts. Never a silent guess.

`WorkdayCalendar` precomputes, for a span of dates, the running count of working days, so
that "working days between two dates" and "the N-th working day after a date" are array
lookups — vectorised over whole columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

ALERT_LEAD_DAYS = 45  # the State Council publishes in Oct–Nov; six weeks is time to add the year


class CalendarDataError(ValueError):
    """A row of the operator's calendar files is wrong: the message names file, row and column."""


@dataclass(frozen=True)
class Arrangements:
    """Complete arrangements for some years: the days off and the adjusted working days."""

    years: Mapping[int, str] = field(default_factory=dict)  # year -> source (the notice)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


def parse_arrangements(years: Iterable[Mapping[str, str]], days: Iterable[Mapping[str, str]], *,
                       years_file: str = "years.csv", days_file: str = "days.csv") -> Arrangements:
    """The operator's rows checked and parsed; rows are numbered as a spreadsheet shows them (header = 1)."""
    covered: dict[int, str] = {}
    for n, row in enumerate(years, start=2):
        text = (row.get("year") or "").strip()
        if not (text.isascii() and text.isdigit() and len(text) == 4):
            raise CalendarDataError(f"{years_file} 第 {n} 行 year 列：{text!r} 不是四位年份")
        if int(text) in covered:
            raise CalendarDataError(f"{years_file} 第 {n} 行 year 列：{text} 重复")
        _date(row.get("published"), f"{years_file} 第 {n} 行 published 列")
        source = (row.get("source") or "").strip()
        if not source:
            raise CalendarDataError(f"{years_file} 第 {n} 行 source 列：缺少发布文件（如 国办发明电〔2025〕7号）")
        covered[int(text)] = source
    holidays: set[date] = set()
    workdays: set[date] = set()
    for n, row in enumerate(days, start=2):
        day = _date(row.get("date"), f"{days_file} 第 {n} 行 date 列")
        where = f"{days_file} 第 {n} 行"
        if day.year not in covered:
            raise CalendarDataError(f"{where} date 列：{day} 所在年份 {day.year} 未列入 {years_file}")
        if day in holidays or day in workdays:
            raise CalendarDataError(f"{where} date 列：{day} 重复")
        kind = (row.get("kind") or "").strip()
        if kind == "holiday":
            holidays.add(day)
        elif kind == "workday":
            if day.weekday() < 5:
                raise CalendarDataError(f"{where} kind 列：{day} 是周一至周五，调休上班日应为周六或周日")
            workdays.add(day)
        else:
            raise CalendarDataError(f"{where} kind 列：{kind!r} 应为 holiday 或 workday")
    for year in covered:
        if not any(d.year == year for d in holidays):
            raise CalendarDataError(f"{years_file}：{year} 年没有任何 holiday 行，安排不完整")
    return Arrangements(covered, frozenset(holidays), frozenset(workdays))


def _date(text: str | None, where: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise CalendarDataError(f"{where}：{text!r} 不是 YYYY-MM-DD 日期") from None


def library_years() -> frozenset[int]:
    """The years the installed chinese-calendar package covers."""
    from chinese_calendar.constants import holidays

    return frozenset(d.year for d in holidays)


def calendar_alert(today: date, arrangements: Arrangements | None = None, *, lead_days: int = ALERT_LEAD_DAYS) -> str | None:
    """A message when this year, or next year within `lead_days` of its start, has no known arrangement."""
    known = library_years() | set((arrangements or Arrangements()).years)
    missing = [y for y in (today.year, today.year + 1) if y not in known and date(y, 1, 1) - today <= timedelta(days=lead_days)]
    if not missing:
        return None
    years = "、".join(str(y) for y in missing)
    return (f"{years} 年的节假日安排尚未录入（chinese-calendar 与 reference/calendar/ 均无）：该年的办理期限按周一至周五暂定计算。"
            f"请在国务院办公厅公布安排后补入 reference/calendar/years.csv 与 days.csv。"
            f" / No holiday arrangement for {years}: due dates there are provisional (Mon–Fri).")


class WorkdayCalendar:
    """Working-day arithmetic over [first, last] (dates outside are clipped to the span)."""

    def __init__(self, first: date, last: date, arrangements: Arrangements | None = None) -> None:
        import chinese_calendar

        arrangements = arrangements or Arrangements()
        self.first, self.last = first, last
        days = (last - first).days + 1
        flags = np.zeros(days, dtype=bool)
        provisional: set[int] = set()
        for i in range(days):
            day = first + timedelta(days=i)
            if day.year in arrangements.years:
                flags[i] = day in arrangements.workdays or (day.weekday() < 5 and day not in arrangements.holidays)
                continue
            try:
                flags[i] = chinese_calendar.is_workday(day)
            except NotImplementedError:
                provisional.add(day.year)
                flags[i] = day.weekday() < 5
        self.is_workday = flags
        self.provisional_years = sorted(provisional)
        self.uncovered_years = self.provisional_years  # the name earlier callers use
        self.cumulative = np.cumsum(flags)  # working days in [first, day]
        self._workday_offsets = np.flatnonzero(flags)

    def _index(self, days) -> np.ndarray:
        values = np.asarray(days, dtype="datetime64[D]")
        offset = (values - np.datetime64(self.first, "D")).astype(np.int64)
        return np.clip(offset, 0, len(self.is_workday) - 1)

    def provisional(self, days) -> np.ndarray:
        """True where a date falls in a year with no known arrangement (Mon–Fri assumed)."""
        values = np.asarray(days, dtype="datetime64[D]")
        if not self.provisional_years:
            return np.zeros(values.shape, dtype=bool)
        years = values.astype("datetime64[Y]").astype(np.int64) + 1970
        return np.isin(years, self.provisional_years) & ~np.isnat(values)

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
