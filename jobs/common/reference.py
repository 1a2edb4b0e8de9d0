"""Reference tables shipped in `reference/` (sources in reference/SOURCES.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "reference"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province | city | county | functional_zone
    parent_code: str


def _read(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def divisions() -> dict[str, Division]:
    """Every Shandong division (GB/T 2260) and NBS functional zone, by 6-digit code."""
    rows = _read("xzqh_shandong.csv") + _read("xzqh_shandong_nbs_functional_zones.csv")
    return {r["code"]: Division(r["code"], r["name"], r["level"], r["parent_code"]) for r in rows}


def counties() -> list[Division]:
    """The 136 county-level divisions, in code order."""
    return [d for d in divisions().values() if d.level == "county"]


def functional_zones() -> list[Division]:
    return [d for d in divisions().values() if d.level == "functional_zone"]


def city_of(code: str) -> Division:
    return divisions()[divisions()[code].parent_code]


@lru_cache(maxsize=1)
def area_codes() -> dict[str, dict[str, str]]:
    """Landline area code (e.g. '0531') -> {city, city_code, subscriber_digits}."""
    return {r["area_code"]: r for r in _read("shandong_area_codes.csv")}


def area_code_of_city(city_code: str) -> str:
    """The main landline area code of a city (0634 Laiwu is an extra one for Jinan)."""
    for code, row in sorted(area_codes().items()):
        if row["city_code"] == city_code:
            return code
    raise KeyError(city_code)


@lru_cache(maxsize=1)
def calendar_arrangements():
    """The operator's working-day arrangements (reference/calendar/), checked at load."""
    from transforms.common.workdays import parse_arrangements

    folder = "calendar/"
    return parse_arrangements(_read(folder + "years.csv"), _read(folder + "days.csv"),
                              years_file=f"reference/{folder}years.csv", days_file=f"reference/{folder}days.csv")


def workday_calendar(first, last):
    """A WorkdayCalendar over [first, last] with the operator's arrangements loaded over the library's."""
    from transforms.common.workdays import WorkdayCalendar

    return WorkdayCalendar(first, last, calendar_arrangements())


@lru_cache(maxsize=1)
def xzqh_history():
    """Retired county-level codes -> successor (reference/xzqh_history.csv), checked against the codes in force."""
    from transforms.common.codetables import parse_xzqh_history

    current = {d.code: d.name for d in divisions().values() if d.level in ("county", "functional_zone")}
    return parse_xzqh_history(_read("xzqh_history.csv"), current)


def id_types():
    """证件种类 (reference/id_types.csv) with the national codes they map to."""
    from transforms.cohandling.annex1 import ID_TYPE_TABLE

    return ID_TYPE_TABLE


def utility_types():
    """Utility types with their Annex 1 fields (reference/utility_types.csv)."""
    from transforms.cohandling.annex1 import UTILITY_TYPES

    return UTILITY_TYPES
