"""Working days beyond the library: the operator's arrangements, provisional years, the alert."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from jobs.common import reference
from transforms.common.workdays import CalendarDataError, WorkdayCalendar, calendar_alert, library_years, parse_arrangements

# A made-up arrangement for 2027 (test data, not the State Council's): New Year 1–3 January off,
# Saturday 9 January worked instead.
YEARS = [{"year": "2027", "published": "2026-11-10", "source": "测试用安排"}]
DAYS = [
    {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
    {"date": "2027-01-02", "kind": "holiday", "name": "元旦"},
    {"date": "2027-01-03", "kind": "holiday", "name": "元旦"},
    {"date": "2027-01-09", "kind": "workday", "name": "元旦调休"},
]


def _d(*days: str) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


def test_without_data_2027_is_provisional_and_said_so():
    assert 2027 not in library_years()
    cal = WorkdayCalendar(date(2026, 12, 20), date(2027, 1, 31))
    assert cal.provisional_years == [2027]
    assert cal.provisional(_d("2026-12-31", "2027-01-04", "NaT")).tolist() == [False, True, False]
    # Mon–Fri assumed: the 5th working day after Thursday 31 Dec 2026 is Thursday 7 Jan 2027.
    assert cal.add(_d("2026-12-31"), 5)[0] == np.datetime64("2027-01-07")


def test_with_the_operators_data_2027_is_computed_from_it_and_not_provisional():
    cal = WorkdayCalendar(date(2026, 12, 20), date(2027, 1, 31), parse_arrangements(YEARS, DAYS))
    assert cal.provisional_years == []
    assert not cal.provisional(_d("2027-01-04")).any()
    # 1 Jan (Fri) off; Mon 4 → Fri 8 are days 1–5.
    assert cal.add(_d("2026-12-31"), 5)[0] == np.datetime64("2027-01-08")
    # Saturday 9 January is worked: the 6th working day.
    assert cal.add(_d("2026-12-31"), 6)[0] == np.datetime64("2027-01-09")
    assert cal.between(_d("2026-12-31"), _d("2027-01-10"))[0] == 6


def test_the_operators_year_replaces_the_librarys():
    # 2026 as the library has it: 1–3 January off, Sunday 4 January worked.
    lib = WorkdayCalendar(date(2025, 12, 31), date(2026, 1, 10))
    assert lib.add(_d("2025-12-31"), 1)[0] == np.datetime64("2026-01-04")
    own = parse_arrangements([{"year": "2026", "published": "2025-11-04", "source": "更正"}], [{"date": "2026-01-01", "kind": "holiday", "name": "元旦"}])
    cal = WorkdayCalendar(date(2025, 12, 31), date(2026, 1, 10), own)
    assert cal.add(_d("2025-12-31"), 1)[0] == np.datetime64("2026-01-02")


def test_alert_before_a_year_with_no_arrangement_starts():
    assert calendar_alert(date(2026, 11, 1)) is None  # more than 45 days before 2027
    message = calendar_alert(date(2026, 12, 2))
    assert message and "2027" in message and "reference/calendar" in message
    assert calendar_alert(date(2027, 3, 1)) and "2027" in calendar_alert(date(2027, 3, 1))  # into the year: still alerting
    assert calendar_alert(date(2026, 12, 2), parse_arrangements(YEARS, DAYS)) is None


@pytest.mark.parametrize(
    ("years", "days", "message"),
    [
        ([{"year": "27", "published": "2026-11-10", "source": "x"}], [], "years.csv 第 2 行 year 列"),
        ([{"year": "2027", "published": "2026-13-10", "source": "x"}], [], "years.csv 第 2 行 published 列"),
        ([{"year": "2027", "published": "2026-11-10", "source": ""}], [], "years.csv 第 2 行 source 列"),
        (YEARS, [{"date": "2028-01-01", "kind": "holiday", "name": ""}], "days.csv 第 2 行 date 列：2028-01-01 所在年份 2028 未列入"),
        (YEARS, [*DAYS, {"date": "2027-01-01", "kind": "holiday", "name": ""}], "days.csv 第 6 行 date 列：2027-01-01 重复"),
        (YEARS, [*DAYS, {"date": "2027-01-05", "kind": "workday", "name": ""}], "days.csv 第 6 行 kind 列：2027-01-05 是周一至周五"),
        (YEARS, [{"date": "2027-01-01", "kind": "off", "name": ""}], "days.csv 第 2 行 kind 列"),
        (YEARS, [], "2027 年没有任何 holiday 行"),
    ],
)
def test_a_wrong_row_is_refused_naming_file_row_and_column(years, days, message):
    with pytest.raises(CalendarDataError, match=message):
        parse_arrangements(years, days)


def test_the_shipped_files_load():
    reference.calendar_arrangements.cache_clear()
    arrangements = reference.calendar_arrangements()
    assert set(arrangements.years) <= set(range(2000, 2100))
