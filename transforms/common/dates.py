"""Calendar arithmetic over numpy arrays of years, months and days (proleptic Gregorian,
as numpy's datetime64 and pandas read dates), for dates read straight from bytes."""

from __future__ import annotations

import numpy as np

_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def leap_years(year: np.ndarray) -> np.ndarray:
    """Is each year a leap year?"""
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 of real dates (proleptic Gregorian; H. Hinnant's days_from_civil)."""
    y = year.astype(np.int64) - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


# Is month * 100 + day a day of the calendar (29 February counted; leap years checked apart)?
_REAL_MONTH_DAY = np.zeros(10000, dtype=bool)
for _month in range(1, 13):
    _REAL_MONTH_DAY[_month * 100 + 1 : _month * 100 + 1 + (29 if _month == 2 else int(_DAYS_IN_MONTH[_month]))] = True


def real_yyyymmdd(ymd: np.ndarray) -> np.ndarray:
    """Is each yyyymmdd (packed as an integer, 0 <= ymd < 10**8) a day of the calendar?"""
    month_day = ymd % 10000
    real = _REAL_MONTH_DAY[month_day]
    feb29 = np.flatnonzero(month_day == 229)
    real[feb29] = leap_years(ymd[feb29] // 10000)
    return real
