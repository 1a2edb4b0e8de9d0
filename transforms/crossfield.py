"""Cross-field checks: where one Annex 1 field contradicts another (docs/domain.md §2–4).

Pure functions over per-row values (lists of owners, timestamps, codes); each returns, per
rule, the rows that fail and the field at fault. transforms/rules.py registers the rules and
calls these from its rule engine.

Decisions (see README, "Validation rules"):
- a birth date (from an 18-digit resident ID / residence permit) after DBSJ cannot be right:
  error on that owner's ID field (BIRTH_AFTER_DBSJ);
- an owner over 120 at DBSJ: warning on the ID field (OWNER_AGE) — almost surely a mistyped
  birth year, but not impossible to prove wrong. A minor owner is NOT flagged: minors lawfully
  hold property (a gift, an inheritance, parents buying in a child's name, with a guardian
  acting), so a warning there would fire on routine records and teach clerks to ignore warnings;
- the certificate's year (`鲁(2021)…`) after DBSJ's year: the certificate is issued at or after
  recording, never before — error on BDCQZH (CERT_YEAR_AFTER_DBSJ). An earlier year is normal (a
  platform may send the certificate the transfer is based on, the seller's); a year before
  FIRST_CERT_YEAR (2015, when the unified certificate began) is a warning (CERT_YEAR_OLD);
- the certificate's place names neither XZQH's county nor its city: warning (CERT_PLACE);
- one ID number twice on the same side: error on that side's ID field (OWNER_ID_REPEATED) — two
  owners cannot be one person; the same number on both sides: warning (BUYER_IS_SELLER) on the
  buyer's ID field — lawful when a co-owner buys out a share or adds a spouse (the buyers are the
  owners after the transfer), so a person should look, not a quarantine;
- an institution registered, but only for other counties than XZQH: error local to that utility
  (INSTITUTION_COUNTY) — the work order would go to the wrong utility. An institution serving
  several counties is one registered under each (Annex 2 is filled in county by county, so the
  same code appears once per county it serves): the registry's set of counties per code is used;
- a retired county code (reference/xzqh_history.csv): error on XZQH (XZQH_RETIRED) naming the
  successor in the rule text — the registry and the county openings are kept by codes in force,
  so the record cannot be routed; before this rule it was the less helpful XZQH_COUNTY.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np

# The unified 不动产权证书 exists since 《不动产登记暂行条例》 (in force 2015-03-01): a year before it
# in a 不动产权/不动产证明 number is long before any certificate of that form (CERT_YEAR_OLD).
FIRST_CERT_YEAR = 2015
MAX_AGE = 120
BIRTH_TYPES = frozenset({"1", "2", "4"})  # 身份证, 港澳台 (residence permits 81/82/83), 户口簿
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CERT_YEAR = re.compile(r"^鲁\(((?:19|20)\d{2})\)(.*?)不动产")


def birth_date(number: str, id_type: str) -> date | None:
    """The birth date of an 18-character resident ID / residence permit whose check character
    is right (GB 11643-1999, ISO 7064 MOD 11-2); None otherwise (other rules speak for it)."""
    if id_type not in BIRTH_TYPES or len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return None
    if "10X98765432"[sum(int(d) * w for d, w in zip(number, _WEIGHTS)) % 11] != number[17]:
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def _type_of(types: Sequence[str], i: int) -> str:
    """Owner i's document type: its own, or the single one given for all."""
    if i < len(types):
        return types[i]
    return types[0] if len(types) == 1 else ""


def owners(ids: dict[str, Sequence], types: dict[str, Sequence], dbsj: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """Owners against DBSJ and against each other. `ids` / `types`: per side ("ZRF", "ZCF") one
    list of owners per row (None: missing); `dbsj`: datetime64 per row (NaT: unknown).
    Returns (rule id, field, failing rows)."""
    n = len(dbsj)
    days = dbsj.astype("datetime64[D]")
    out = {(rule, side): [] for rule in ("BIRTH_AFTER_DBSJ", "OWNER_AGE", "OWNER_ID_REPEATED") for side in ("ZRF", "ZCF")}
    both = []
    for row in range(n):
        day = None if np.isnat(days[row]) else days[row].astype(date)
        seen: dict[str, set[str]] = {}
        for side in ("ZRF", "ZCF"):
            numbers = ids[side][row] or []
            kinds = types[side][row] or []
            numbers = [x for x in numbers if x]
            if len(set(numbers)) < len(numbers):
                out["OWNER_ID_REPEATED", side].append(row)
            seen[side] = set(numbers)
            if day is None:
                continue
            births = [birth_date(x, _type_of(kinds, i)) for i, x in enumerate(numbers)]
            if any(b is not None and b > day for b in births):
                out["BIRTH_AFTER_DBSJ", side].append(row)
            elif any(b is not None and (day.year - b.year - ((day.month, day.day) < (b.month, b.day))) > MAX_AGE for b in births):
                out["OWNER_AGE", side].append(row)
        if seen["ZRF"] & seen["ZCF"]:
            both.append(row)
    result = [(rule, f"{side}ZJHM", np.array(rows, dtype=np.int64)) for (rule, side), rows in out.items()]
    return result + [("BUYER_IS_SELLER", "ZRFZJHM", np.array(both, dtype=np.int64))]


def certificate(certs: Sequence, dbsj: np.ndarray, xzqh: Sequence, place_names: dict[str, tuple[str, ...]]) -> list[tuple[str, str, np.ndarray]]:
    """The certificate's year against DBSJ, its place against XZQH (certificates of the
    standard form only; CERT_FORMAT speaks for the others)."""
    after, old, place = [], [], []
    years = dbsj.astype("datetime64[Y]")
    for row, cert in enumerate(certs):
        m = _CERT_YEAR.match(cert) if isinstance(cert, str) else None
        if m is None:
            continue
        year, where = int(m.group(1)), m.group(2)
        if not np.isnat(years[row]):
            recorded = int(years[row].astype(np.int64)) + 1970
            if year > recorded:
                after.append(row)
        if year < FIRST_CERT_YEAR:
            old.append(row)
        names = place_names.get(xzqh[row]) if isinstance(xzqh[row], str) else None
        if names and where and not any(nm in where or where in nm for nm in names):
            place.append(row)
    return [(r, "BDCQZH", np.array(x, dtype=np.int64)) for r, x in (("CERT_YEAR_AFTER_DBSJ", after), ("CERT_YEAR_OLD", old), ("CERT_PLACE", place))]


def institution_county(codes: Sequence, xzqh: Sequence, counties_of: dict[str, frozenset[str]], counties: frozenset[str]) -> np.ndarray:
    """Rows whose institution code is registered (for this utility) but not for XZQH's county.
    Unregistered codes (INSTITUTION_UNKNOWN) and XZQH not a county (XZQH_*) are left to their rules."""
    rows = []
    for row, (code, place) in enumerate(zip(codes, xzqh)):
        if isinstance(code, str) and place in counties:
            served = counties_of.get(code.upper())
            if served and place not in served:
                rows.append(row)
    return np.array(rows, dtype=np.int64)


def retired_county(xzqh: Sequence, retired: dict) -> np.ndarray:
    """Rows whose XZQH is a retired county-level code (reference/xzqh_history.csv)."""
    return np.array([row for row, code in enumerate(xzqh) if isinstance(code, str) and code in retired], dtype=np.int64)
