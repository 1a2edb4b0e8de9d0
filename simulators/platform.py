"""A synthetic 一网通办 platform: realistic co-handling records with labelled defects.

`generate()` makes a batch of Annex 1 records (vectorised numpy; a million rows in seconds)
with three label columns that never reach the exchange table:

- `defect`: the kind of defect injected (one per defective record), or "" for a clean one;
- `defect_field`: the Annex 1 field the defect sits in;
- `oddity`: an odd-looking but valid form (full-width digits, lower-case x, spaces, ...)
  that must pass once normalised.

`PlatformDB` (simulators/platform_db.py) writes batches into the exchange table (`sql/source/`)
the way the platform does, appends later batches (late rows with old DBSJ, corrections, withdrawals), and keeps
the labels in a side table `SYN_TRUTH` so tests know the truth. The defects and oddities are
injected by simulators/platform_defects.py; `fill` and `python -m simulators.platform` write
batches of any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from jobs.common import reference
from simulators.platform_db import PlatformDB
from simulators.platform_defects import inject_defects, inject_oddities
from simulators.registry import build_registry, uscc_codes
from simulators.synthetic_values import COMMUNITIES, OTHER_PROVINCE_PREFIXES, PERMIT_PREFIXES, ROADS, concat, random_digits, resident_ids
from transforms.cohandling.annex1 import FIELD_CODES

# Defect kind -> the Annex 1 field it is injected into (missing_required varies: see below).
DEFECT_KINDS: dict[str, str] = {
    "bad_id_checksum": "ZRFZJHM",
    "impossible_birth_date": "ZRFZJHM",
    "bad_phone": "ZRFLXDH",
    "unknown_county": "XZQH",
    "nonpositive_area": "FWJZMJ",
    "future_dbsj": "DBSJ",
    "institution_mismatch": "GSJGMC",
    "account_without_institution": "RQJGBM",
    "missing_required": "",
    "duplicate_rowguid": "ROWGUID",
    "birth_after_dbsj": "ZRFZJHM",  # cross-field: a resident ID born after DBSJ (and before as_of)
    "institution_other_county": "GSJGBM",  # cross-field: a water institution registered for another county
}
ODDITY_KINDS = ("fullwidth_digits", "lowercase_x", "spaces", "fullwidth_brackets", "dbsj_format", "foreign_id", "phone_written", "name_dot")
SEPARATORS = np.array([",", "，", "、", "/", ";"])

_DEVELOPER_WORDS = np.array(["鲁信", "海信", "鲁能", "华润", "万科", "中海", "绿城", "银丰", "天泰", "瑞源", "恒信", "齐鲁"])
_DEVELOPER_KINDS = np.array(["房地产开发有限公司", "置业有限公司", "房地产有限公司"])


_SMALL = np.arange(10000).astype("U4")


def _num(values: np.ndarray) -> np.ndarray:
    """Decimal strings of small non-negative ints (< 10000) by table look-up."""
    return _SMALL[values]


def _int_str(values: np.ndarray) -> np.ndarray:
    """Decimal strings of any ints, formatted by Arrow's C++ cast."""
    import pyarrow.compute as pc

    return pc.cast(pa.array(values), pa.string()).to_numpy(zero_copy_only=False).astype(str)


def _nullable(values: np.ndarray, present: np.ndarray) -> pa.Array:
    """An Arrow string array that is null where `present` is False."""
    return pa.array(values, type=pa.string(), mask=~present)


def _str_dtype(arrow_type: pa.DataType):
    return pd.StringDtype("pyarrow", na_value=np.nan) if arrow_type == pa.string() else None


def _uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random (version 4) UUID strings, 8-4-4-4-12 lower-case hex, built as bytes."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    dst = [i for i in range(36) if i not in (8, 13, 18, 23)]
    out[:, dst] = hexes
    return out.view("S36").ravel().astype("U36")


@dataclass
class _Persons:
    name: np.ndarray
    id_type: np.ndarray
    id_number: np.ndarray
    phone: np.ndarray


class _Pools:
    """Name pools drawn once from Faker's zh_CN locale, sampled by numpy afterwards."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.names = np.array(sorted({fake.name() for _ in range(6000)}))


def _persons(rng: np.random.Generator, n: int, county_codes: np.ndarray, city_codes: np.ndarray, pools: _Pools, as_of: datetime) -> _Persons:
    """One natural person per row: name, ID type, ID number, phone (numpy string arrays)."""
    name = rng.choice(pools.names, size=n)
    kind = rng.random(n)  # < 0.015: residence permit; < 0.02: passport; else resident ID
    origin = rng.random(n)
    prefixes = np.where(origin < 0.82, county_codes, rng.choice(county_codes, size=n))
    prefixes = np.where(origin > 0.92, rng.choice(OTHER_PROVINCE_PREFIXES, size=n), prefixes)
    prefixes = np.where(kind < 0.015, rng.choice(PERMIT_PREFIXES, size=n), prefixes)
    youngest = np.datetime64(as_of.date()) - np.timedelta64(18 * 366, "D")
    births = np.datetime64("1940-01-01") + rng.integers(0, int((youngest - np.datetime64("1940-01-01")).astype(int)), size=n).astype("timedelta64[D]")
    births_s = np.strings.replace(np.datetime_as_string(births, unit="D"), "-", "")
    ids = resident_ids(rng, prefixes, births_s)
    passport = (kind >= 0.015) & (kind < 0.02)
    passport_ids = concat(rng.choice(np.array(["E", "G", "EA"]), size=n), random_digits(rng, n, 8))
    ids = np.where(passport, passport_ids, ids)
    id_type = np.where(kind < 0.015, "2", np.where(passport, "3", "1"))
    return _Persons(name, id_type, ids, _phones(rng, n, city_codes))


def _phones(rng: np.random.Generator, n: int, city_codes: np.ndarray) -> np.ndarray:
    """Mobile numbers (85 %) and landlines with the city's area code and local length."""
    mobile = concat("1", random_digits(rng, n, 1, first=(3, 10)), random_digits(rng, n, 9))
    cities, inverse = np.unique(city_codes, return_inverse=True)
    area_codes = np.array([reference.area_code_of_city(c) for c in cities])[inverse]
    eight = np.isin(area_codes, ["0531", "0532"])
    local = np.where(eight, random_digits(rng, n, 8, first=(2, 9)), random_digits(rng, n, 7, first=(2, 9)))
    dash = np.where(rng.random(n) < 0.7, "-", "")
    return np.where(rng.random(n) < 0.85, mobile, concat(area_codes, dash, local))


def _parties(rng, n, county_codes, city_codes, county_names, pools, as_of, *, company_rate, two_rate, force_single):
    """Owner fields for one side of the transfer; several owners joined by one separator."""
    a = _persons(rng, n, county_codes, city_codes, pools, as_of)
    b = _persons(rng, n, county_codes, city_codes, pools, as_of)
    u = rng.random(n)
    company = (u < company_rate) & ~force_single
    two = (u >= company_rate) & (u < company_rate + two_rate) & ~force_single
    sep = rng.choice(SEPARATORS, size=n)
    # Couples often give one phone for both; the platform then repeats it per owner.
    b_phone = np.where(rng.random(n) < 0.5, a.phone, b.phone)
    name, id_type, id_number, phone = (np.where(two, concat(x, sep, y), x) for x, y in ((a.name, b.name), (a.id_type, b.id_type), (a.id_number, b.id_number), (a.phone, b_phone)))
    developer = concat(county_names, rng.choice(_DEVELOPER_WORDS, size=n), rng.choice(_DEVELOPER_KINDS, size=n))
    name = np.where(company, developer, name)
    id_type = np.where(company, "8", id_type)
    id_number = np.where(company, uscc_codes(rng, county_codes), id_number)
    return name, id_type, id_number, phone


def _pick_institutions(rng, county_idx, county_codes, registry, utility, requested):
    """Per row, an institution of `utility` in the row's county: (codes, names, has one)."""
    reg = registry[registry["utility"] == utility].sort_values(["xzqh", "code"])
    position = {code: i for i, code in enumerate(county_codes)}
    reg_county = reg["xzqh"].map(position).to_numpy()
    counts = np.bincount(reg_county, minlength=len(county_codes))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = requested & (counts[county_idx] > 0)
    pick = offsets[county_idx] + np.floor(rng.random(len(county_idx)) * counts[county_idx]).astype(np.int64)
    pick = np.minimum(pick, max(len(reg) - 1, 0))
    codes = reg["code"].to_numpy(dtype=object).astype(str)[pick]
    names = reg["name"].to_numpy(dtype=object).astype(str)[pick]
    return codes, names, has


def generate(
    n: int,
    *,
    seed: int = 0,
    start: str | datetime = "2024-01-01",
    end: str | datetime = "2024-12-31",
    as_of: str | datetime | None = None,
    defect_rate: float = 0.05,
    oddity_rate: float = 0.05,
    registry: pd.DataFrame | None = None,
    first_index: int = 0,
) -> pd.DataFrame:
    """`n` co-handling records (Annex 1 fields as text, OP='I') plus label columns.

    DBSJ is drawn uniformly from [start, end); `as_of` (default: end) is "now" for the
    labels — a future DBSJ is later than it, birth dates are before it. `first_index`
    keeps platform business numbers (YCYWH) unique across appended batches.
    """
    if n == 0:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in ("OP", *FIELD_CODES, "defect", "defect_field", "oddity")})
    rng = np.random.default_rng(seed)
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    as_of_ts = pd.Timestamp(as_of) if as_of is not None else end_ts
    registry = build_registry() if registry is None else registry
    pools = _Pools(seed)

    counties = reference.counties()
    weights = rng.lognormal(0.0, 0.6, size=len(counties))
    idx = rng.choice(len(counties), size=n, p=weights / weights.sum())
    county_codes = np.array([c.code for c in counties])[idx]
    county_names = np.array([c.name for c in counties])[idx]
    city_codes = np.array([c.parent_code for c in counties])[idx]
    city_names = np.array([reference.divisions()[c.parent_code].name for c in counties])[idx]

    defect = np.full(n, "", dtype=object)
    is_defect = rng.random(n) < defect_rate
    kinds = np.array(list(DEFECT_KINDS))
    defect[is_defect] = rng.choice(kinds, size=int(is_defect.sum()))
    oddity = np.full(n, "", dtype=object)
    is_odd = (~is_defect) & (rng.random(n) < oddity_rate)
    oddity[is_odd] = rng.choice(np.array(ODDITY_KINDS), size=int(is_odd.sum()))
    # Defects and lower-case x sit in the first buyer's resident ID: make that buyer one person.
    single_buyer = np.isin(defect, ["bad_id_checksum", "impossible_birth_date", "bad_phone", "birth_after_dbsj"]) | np.isin(oddity, ["lowercase_x", "foreign_id", "phone_written", "name_dot"])

    f: dict[str, np.ndarray] = {}
    f["ROWGUID"] = _uuids(rng, n)
    span_s = max(int((end_ts - start_ts).total_seconds()), 1)
    dbsj = start_ts.to_datetime64() + rng.integers(0, span_s, size=n).astype("timedelta64[s]")
    dbsj_s = np.strings.replace(np.datetime_as_string(dbsj, unit="s"), "T", " ")
    f["YCYWH"] = concat(np.strings.replace(np.strings.slice(dbsj_s, 0, 10), "-", ""), np.strings.zfill(_int_str(np.arange(n) + first_index + 1), 10))
    f["ZRFXM"], f["ZRFZJZL"], f["ZRFZJHM"], f["ZRFLXDH"] = _parties(
        rng, n, county_codes, city_codes, county_names, pools, as_of_ts, company_rate=0.03, two_rate=0.15, force_single=single_buyer
    )
    f["ZCFXM"], f["ZCFZJZL"], f["ZCFZJHM"], f["ZCFLXDH"] = _parties(
        rng, n, county_codes, city_codes, county_names, pools, as_of_ts, company_rate=0.15, two_rate=0.08, force_single=np.zeros(n, dtype=bool)
    )
    f["XZQH"] = county_codes
    city_county = concat(city_names, county_names)
    place = np.where(np.strings.endswith(county_names, "区"), city_county, county_names)
    province = np.where(rng.random(n) < 0.4, "山东省", "")
    community = rng.choice(COMMUNITIES, size=n)
    f["FWZL"] = concat(
        province, np.where(province == "", place, city_county), rng.choice(ROADS, size=n),
        _num(rng.integers(1, 400, size=n)), "号", community,
        _num(rng.integers(1, 40, size=n)), "号楼", _num(rng.integers(1, 6, size=n)), "单元",
        _num(rng.integers(1, 33, size=n)), np.strings.zfill(_num(rng.integers(1, 5, size=n)), 2), "室",
    )
    # Floor area in m² with two decimals; half the platform's rows drop trailing zeros ("85.5").
    cents = np.clip(rng.lognormal(np.log(9500), 0.35, size=n), 1800, 60000).astype(np.int64)
    cents_s = _int_str(cents)
    area = np.strings.add(np.strings.add(np.strings.slice(cents_s, 0, -2), "."), np.strings.slice(cents_s, -2, None))
    short = np.strings.rstrip(np.strings.rstrip(area, "0"), ".")
    f["FWJZMJ"] = np.where(rng.random(n) < 0.5, short, area)
    cert_place = np.where(np.strings.endswith(county_names, "区"), city_names, county_names)
    f["BDCQZH"] = concat("鲁(", np.strings.slice(dbsj_s, 0, 4), ")", cert_place, "不动产权第", random_digits(rng, n, 7), "号")
    f["DBSJ"] = dbsj_s

    u = rng.random((4, n))
    want = {"electricity": u[0] < 0.9, "water": u[1] < 0.75, "gas": u[2] < 0.55, "heat": u[3] < 0.4}
    want["water"] |= (defect == "institution_mismatch") | (defect == "institution_other_county")
    want["gas"] |= defect == "account_without_institution"
    all_codes = np.array([c.code for c in counties])
    inst = {k: _pick_institutions(rng, idx, all_codes, registry, k, want[k]) for k in ("water", "gas", "heat")}
    none_requested = ~(want["electricity"] | inst["water"][2] | inst["gas"][2] | inst["heat"][2])
    want["electricity"] |= none_requested
    f["YDHH"] = _nullable(random_digits(rng, n, 10), want["electricity"])
    for utility, acct, code, name, width in (("water", "YSHH", "GSJGBM", "GSJGMC", 8), ("gas", "YQHH", "RQJGBM", "RQJGMC", 10), ("heat", "YNHH", "GRJGBM", "GRJGMC", 8)):
        codes, names, has = inst[utility]
        f[acct] = _nullable(random_digits(rng, n, width, first=(1, 10)), has)
        f[code], f[name] = _nullable(codes, has), _nullable(names, has)

    frame = pa.table({k: pa.array(f[k]) if not isinstance(f[k], pa.Array) else f[k] for k in FIELD_CODES}).to_pandas(types_mapper=_str_dtype)
    frame.insert(0, "OP", "I")
    frame["defect"] = defect
    frame["defect_field"] = np.array([DEFECT_KINDS[d] if d else "" for d in defect], dtype=object)
    frame["oddity"] = oddity
    inject_defects(frame, rng, registry, as_of_ts)
    inject_oddities(frame, rng)
    return frame


def corrections(frame: pd.DataFrame, *, seed: int, registry: pd.DataFrame | None = None, fraction: float = 1.0) -> pd.DataFrame:
    """OP='U' rows that correct defective records (same ROWGUID and YCYWH, the defect fixed).

    A corrected record is regenerated clean from the original's county and dates; what
    makes it the same record for the gateway is its ROWGUID.
    """
    rng = np.random.default_rng(seed)
    bad = frame[(frame["defect"] != "") & (frame["defect"] != "duplicate_rowguid") & (frame["defect"] != "unknown_county")]
    bad = bad[rng.random(len(bad)) < fraction]
    fixed = generate(len(bad), seed=seed, defect_rate=0.0, oddity_rate=0.0, registry=registry)
    fixed["ROWGUID"] = bad["ROWGUID"].to_numpy()
    # Same business number, unless its absence was the defect being corrected.
    original = bad["YCYWH"].astype(object).to_numpy()
    blank = pd.isna(original) | (pd.Series(original).astype(str).str.strip() == "").to_numpy()
    fixed["YCYWH"] = np.where(blank, fixed["YCYWH"].to_numpy(dtype=object), original)
    fixed["OP"] = "U"
    fixed["defect"] = ""
    fixed["defect_field"] = ""
    fixed["oddity"] = ""
    return fixed


def default_period(days: int = 30, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last `days` days up to now (local platform time), for DBSJ."""
    end = (now or datetime.now()).replace(microsecond=0)
    return end - timedelta(days=days), end


def fill(db: PlatformDB, rows: int, *, seed: int, start: datetime | str, end: datetime | str, as_of=None, defect_rate: float = 0.05, first_index: int = 0, batch: int = 250_000) -> int:
    """Generate and write `rows` records in batches of `batch` (memory stays bounded)."""
    registry = build_registry()
    written = 0
    while written < rows:
        n = min(batch, rows - written)
        frame = generate(n, seed=seed + written, start=start, end=end, as_of=as_of, defect_rate=defect_rate, registry=registry, first_index=first_index + written)
        written += db.write(frame)
    return written


def main(argv: list[str] | None = None) -> None:
    """`python -m simulators.platform --url URL --rows N [--fresh] ...`: fill an exchange database."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the exchange database")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--days", type=int, default=30, help="DBSJ spread over the last N days")
    parser.add_argument("--defect-rate", type=float, default=0.05)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the table first")
    args = parser.parse_args(argv)
    db = PlatformDB(args.url)
    if args.fresh:
        db.drop()
    db.create()
    start, end = default_period(args.days)
    first = db.count()
    written = fill(db, args.rows, seed=args.seed + first, start=start, end=end, defect_rate=args.defect_rate, first_index=first)
    print(json.dumps({"written": written, "total": db.count()}))
    db.dispose()


if __name__ == "__main__":
    main()
