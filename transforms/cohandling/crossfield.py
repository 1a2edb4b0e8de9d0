"""Cross-field checks: where one Annex 1 field contradicts another (docs/domain.md §2–4).

Pure functions over per-row values (lists of owners, timestamps, codes); each returns, per
rule, the rows that fail and the field at fault. transforms/cohandling/rule_catalogue.py registers the rules and
transforms/cohandling/record_rules.py calls these from its rule engine.

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
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.common import dates, utf8

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


def _lists(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array]:
    """(offsets, lengths, parent row per value, flat values) of a list array (null lists: empty)."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    flat = pc.list_flatten(arr)
    return offsets, lengths, np.repeat(np.arange(len(arr)), lengths), flat


def births(numbers: pa.Array) -> np.ndarray:
    """Per value: the birth date as a packed yyyymmdd integer (0: none) of an 18-character number whose
    first 17 are ASCII digits and whose check character is right (GB 11643-1999, MOD 11-2)."""
    out = np.zeros(len(numbers), dtype=np.int64)
    lengths = pc.fill_null(pc.binary_length(numbers), 0).to_numpy(zero_copy_only=False)
    at = np.flatnonzero(lengths == 18)
    if not len(at):
        return out
    m = utf8.fixed_width_matrix(numbers.take(pa.array(at)), 18)
    d = m[:, :17].astype(np.int16) - 48  # small integers: the weighted sum stays well inside int32
    digits = ((d >= 0) & (d <= 9)).all(axis=1)
    total = np.zeros(len(at), dtype=np.int32)
    for i, w in enumerate(_WEIGHTS):
        total += np.clip(d[:, i], 0, 9).astype(np.int32) * w
    ok = digits & (np.frombuffer(b"10X98765432", dtype=np.uint8)[total % 11] == m[:, 17])
    ymd = np.zeros(len(at), dtype=np.int64)
    for i in range(6, 14):
        ymd = ymd * 10 + np.clip(d[:, i], 0, 9)
    ok &= (ymd >= 18000101) & dates.real_yyyymmdd(ymd)
    out[at[ok]] = ymd[ok]
    return out


def _distinct(x: np.ndarray) -> np.ndarray:
    """Distinct values, ascending (sorting first; np.unique's hash path is slow on large arrays)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    return x[np.concatenate([[True], x[1:] != x[:-1]])]


def _packed(days: np.ndarray) -> np.ndarray:
    """datetime64[D] as packed yyyymmdd integers (NaT: 0)."""
    y = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]")
    m = months.astype(np.int64) % 12 + 1
    dd = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return np.where(np.isnat(days), 0, y * 10000 + m * 100 + dd)


def owners(ids: dict[str, pa.Array], types: dict[str, pa.Array], dbsj: np.ndarray, as_of) -> list[tuple[str, str, np.ndarray]]:
    """Owners against DBSJ and against each other. `ids` / `types`: per side ("ZRF", "ZCF") a
    list array, one list of owners per row; `dbsj`: datetime64 per row (NaT: unknown); `as_of`:
    now (a birth after it is ID_BIRTH_DATE's, not this rule's). Returns (rule id, field, rows)."""
    n = len(dbsj)
    day = _packed(dbsj.astype("datetime64[D]"))  # per row, once: owners compare packed integers
    today = int(_packed(np.array([np.datetime64(as_of, "D")]))[0])
    result = []
    keys = {}
    for side in ("ZRF", "ZCF"):
        offsets, lengths, parent, flat = _lists(ids[side])
        t_off, t_len, _, t_flat = _lists(types[side])
        # Owner i's type: its own when the counts agree, else the single one given for all.
        position = np.arange(len(parent)) - offsets[parent]
        same = t_len[parent] == lengths[parent]
        t_at = np.where(same, t_off[parent] + position, np.where(t_len[parent] == 1, t_off[parent], -1))
        has_birth = np.append(pc.fill_null(pc.is_in(t_flat, value_set=pa.array(sorted(BIRTH_TYPES), t_flat.type)), False).to_numpy(zero_copy_only=False), False)
        born = births(flat)
        born[~has_birth[t_at]] = 0
        on = day[parent]
        known = (born > 0) & (on > 0) & (born <= today)
        after = known & (born > on)
        result.append(("BIRTH_AFTER_DBSJ", f"{side}ZJHM", _distinct(parent[after])))
        old = known & ~after
        # age > MAX_AGE in whole years ⟺ on − born ≥ (MAX_AGE + 1) · 10000 over packed yyyymmdd
        old &= on - born >= (MAX_AGE + 1) * 10000
        old_rows = np.setdiff1d(_distinct(parent[old]), parent[after], assume_unique=False)
        result.append(("OWNER_AGE", f"{side}ZJHM", old_rows))
        present = pc.fill_null(pc.greater(pc.binary_length(flat), 0), False).to_numpy(zero_copy_only=False)
        keys[side] = (parent[present], flat.filter(pa.array(present)))
    # One dictionary over both sides' numbers; a (row, number) key repeats within a side, or across.
    both = pa.concat_arrays([keys["ZRF"][1].cast(pa.large_string()), keys["ZCF"][1].cast(pa.large_string())]) if n else pa.array([], pa.large_string())
    codes = both.dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    split = len(keys["ZRF"][0])
    per_side = {}
    for side, lo, hi in (("ZRF", 0, split), ("ZCF", split, len(codes))):
        key = keys[side][0] * width + codes[lo:hi]
        ordered = np.sort(key)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        rows = _distinct(repeated // width)
        result.append(("OWNER_ID_REPEATED", f"{side}ZJHM", rows))
        per_side[side] = _distinct(key)
    result.append(("BUYER_IS_SELLER", "ZRFZJHM", _distinct(np.intersect1d(per_side["ZRF"], per_side["ZCF"], assume_unique=True) // width)))
    order = {"BIRTH_AFTER_DBSJ": 0, "OWNER_AGE": 1, "OWNER_ID_REPEATED": 2, "BUYER_IS_SELLER": 3}
    return sorted(result, key=lambda r: (order[r[0]], r[1]))


def _pairs(a: pa.Array, b: pa.Array) -> tuple[np.ndarray, list]:
    """Per row an index into the distinct (a, b) pairs, and those pairs (None for a null)."""
    joined = pc.binary_join_element_wise(pc.fill_null(a.cast(pa.large_string()), "\x00"), pc.fill_null(b.cast(pa.large_string()), "\x00"), pa.scalar("\x1f", pa.large_string()))
    encoded = joined.dictionary_encode()
    pairs = [tuple(None if p == "\x00" else p for p in v.split("\x1f", 1)) for v in encoded.dictionary.to_pylist()]
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), pairs


_CERT_PARTS = r"^鲁\((?P<year>(?:19|20)\d{2})\)(?P<place>.*?)不动产"


def certificate(certs: pa.Array, dbsj: np.ndarray, xzqh: pa.Array, place_names: dict[str, tuple[str, ...]]) -> list[tuple[str, str, np.ndarray]]:
    """The certificate's year against DBSJ, its place against XZQH (certificates of the
    standard form only; CERT_FORMAT speaks for the others)."""
    parts = pc.extract_regex(certs, _CERT_PARTS)
    matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    year = pc.fill_null(pc.cast(pc.struct_field(parts, [0]), pa.int64()), 0).to_numpy(zero_copy_only=False)
    recorded = dbsj.astype("datetime64[Y]").astype(np.int64) + 1970
    after = np.flatnonzero(matched & ~np.isnat(dbsj) & (year > recorded))
    old = np.flatnonzero(matched & (year < FIRST_CERT_YEAR))
    index, pairs = _pairs(xzqh, pc.struct_field(parts, [1]))
    other = np.array([bool(p and names and not any(nm in p or p in nm for nm in names))
                      for names, p in ((place_names.get(c) if c else None, p) for c, p in pairs)] + [False], dtype=bool)
    place = np.flatnonzero(matched & other[index])
    return [("CERT_YEAR_AFTER_DBSJ", "BDCQZH", after), ("CERT_YEAR_OLD", "BDCQZH", old), ("CERT_PLACE", "BDCQZH", place)]


def institution_county(codes: pa.Array, xzqh: pa.Array, counties_of: dict[str, frozenset[str]], counties: frozenset[str]) -> np.ndarray:
    """Rows whose institution code is registered (for this utility) but not for XZQH's county.
    Unregistered codes (INSTITUTION_UNKNOWN) and XZQH not a county (XZQH_*) are left to their rules."""
    index, pairs = _pairs(xzqh, codes)

    def wrong(place, code) -> bool:
        served = counties_of.get(code.upper()) if code else None
        return bool(served) and place in counties and place not in served

    bad = np.array([wrong(p, c) for p, c in pairs] + [False], dtype=bool)
    return np.flatnonzero(bad[index])


def retired_county(xzqh: pa.Array, retired: dict) -> np.ndarray:
    """Rows whose XZQH is a retired county-level code (reference/xzqh_history.csv)."""
    if not retired:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(pc.fill_null(pc.is_in(xzqh, value_set=pa.array(sorted(retired), xzqh.type)), False).to_numpy(zero_copy_only=False))
