"""A synthetic 一网通办 platform: realistic co-handling records with labelled defects.

`generate()` makes a batch of Annex 1 records (vectorised numpy; a million rows in seconds)
with three label columns that never reach the exchange table:

- `defect`: the kind of defect injected (one per defective record), or "" for a clean one;
- `defect_field`: the Annex 1 field the defect sits in;
- `oddity`: an odd-looking but valid form (full-width digits, lower-case x, spaces, ...)
  that must pass once normalised.

`PlatformDB` writes batches into the exchange table (`sql/source/`) the way the platform
does, appends later batches (late rows with old DBSJ, corrections, withdrawals), and keeps
the labels in a side table `SYN_TRUTH` so tests know the truth.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from jobs.common import reference
from simulators.registry import build_registry, uscc_codes
from transforms.cohandling.annex1 import FIELD_CODES
from transforms.common.checkdigits import id_check_chars

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "source"
EXCHANGE_TABLE = "BDC_SDQR_XBXX"

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
# Odd-looking valid buyers (issue 13): foreigners' permanent residence cards (2023 '9' form under
# 身份证 or 其它, 2004 3-letter form), HK/Macao travel permits; phones as people write them;
# transliterated names with the middle dot written as ・ • ． or ·.
_PR_2023_PREFIXES = np.array(["911840", "937826", "931392", "944410"])  # 9 + province + nationality (ISO 3166 numeric)
_OLD_PR_NATIONS = np.array(["USA", "GBR", "JPN", "KOR", "DEU"])
_BIRTHS = np.array(["19750312", "19880921", "19620105", "19910630"])
_DOTTED_NAMES = (("阿依古丽", "买买提"), ("迪丽娜尔", "阿不都拉"), ("约翰", "史密斯"), ("扎西", "次仁"))
_NAME_DOTS = np.array(["·", "・", "•", "．"])
MISSING_FIELDS = ("YCYWH", "ZRFXM", "ZRFZJHM", "FWZL", "BDCQZH", "DBSJ")
SEPARATORS = np.array([",", "，", "、", "/", ";"])

# Resident-ID address prefixes from other provinces (buyers are not all from Shandong).
_OTHER_PROVINCE_PREFIXES = np.array(
    ["110105", "120101", "130102", "140105", "210102", "220102", "310101", "320102", "330106", "340102", "410105", "440106", "500103", "610103"]
)
_PERMIT_PREFIXES = np.array(["810000", "820000", "830000"])  # HK / Macao / Taiwan residence permits
_ROADS = np.array(
    ["人民路", "解放路", "建设路", "和平路", "文化路", "青年路", "新华路", "胜利街", "幸福街", "民生路", "泰山路", "黄河路", "长江路", "府前街", "振兴路", "工业北路", "滨河路", "花园路", "中心街", "东风路"]
)
_COMMUNITIES = np.array(["", "", "阳光花园", "金色家园", "翡翠城", "锦绣苑", "和谐小区", "书香苑", "滨河湾", "东方名苑", "世纪华庭", "丽景苑"])
_DEVELOPER_WORDS = np.array(["鲁信", "海信", "鲁能", "华润", "万科", "中海", "绿城", "银丰", "天泰", "瑞源", "恒信", "齐鲁"])
_DEVELOPER_KINDS = np.array(["房地产开发有限公司", "置业有限公司", "房地产有限公司"])


def _fullwidth(values: np.ndarray) -> np.ndarray:
    """Digits and ASCII letters to their full-width forms (what an IME in full-width mode types)."""
    table = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
    trans = str.maketrans(table)
    return np.array([v.translate(trans) if isinstance(v, str) else v for v in values], dtype=object)


def _digits(rng: np.random.Generator, n: int, width: int, *, first: tuple[int, int] = (0, 10)) -> np.ndarray:
    """n random digit strings of `width`, the first digit drawn from [first[0], first[1]).

    Built as ASCII bytes and viewed as fixed-width strings: numpy's int-to-str is the slow path.
    """
    raw = rng.integers(48, 58, size=(n, width), dtype=np.uint8)
    raw[:, 0] = rng.integers(48 + first[0], 48 + first[1], size=n, dtype=np.uint8)
    return raw.view(f"S{width}").ravel().astype(f"U{width}")


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


def _cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise concatenation of string arrays (numpy's C string loops, no Python objects)."""
    def text(part):
        part = np.asarray(part)
        return part if part.dtype.kind == "U" else part.astype(str)

    out = text(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, text(part))
    return out


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


def _resident_ids(rng: np.random.Generator, prefixes: np.ndarray, births: np.ndarray) -> np.ndarray:
    """18-char resident IDs: 6-char prefix + yyyymmdd + 3-digit sequence + MOD 11-2 check."""
    body = np.strings.add(np.strings.add(prefixes.astype("U6"), births.astype("U8")), _digits(rng, len(prefixes), 3))
    digits = body.astype("S17").view(np.uint8).reshape(len(body), 17).astype(np.int64) - 48
    return np.strings.add(body, id_check_chars(digits))


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
    prefixes = np.where(origin > 0.92, rng.choice(_OTHER_PROVINCE_PREFIXES, size=n), prefixes)
    prefixes = np.where(kind < 0.015, rng.choice(_PERMIT_PREFIXES, size=n), prefixes)
    youngest = np.datetime64(as_of.date()) - np.timedelta64(18 * 366, "D")
    births = np.datetime64("1940-01-01") + rng.integers(0, int((youngest - np.datetime64("1940-01-01")).astype(int)), size=n).astype("timedelta64[D]")
    births_s = np.strings.replace(np.datetime_as_string(births, unit="D"), "-", "")
    ids = _resident_ids(rng, prefixes, births_s)
    passport = (kind >= 0.015) & (kind < 0.02)
    passport_ids = _cat(rng.choice(np.array(["E", "G", "EA"]), size=n), _digits(rng, n, 8))
    ids = np.where(passport, passport_ids, ids)
    id_type = np.where(kind < 0.015, "2", np.where(passport, "3", "1"))
    return _Persons(name, id_type, ids, _phones(rng, n, city_codes))


def _phones(rng: np.random.Generator, n: int, city_codes: np.ndarray) -> np.ndarray:
    """Mobile numbers (85 %) and landlines with the city's area code and local length."""
    mobile = _cat("1", _digits(rng, n, 1, first=(3, 10)), _digits(rng, n, 9))
    cities, inverse = np.unique(city_codes, return_inverse=True)
    area_codes = np.array([reference.area_code_of_city(c) for c in cities])[inverse]
    eight = np.isin(area_codes, ["0531", "0532"])
    local = np.where(eight, _digits(rng, n, 8, first=(2, 9)), _digits(rng, n, 7, first=(2, 9)))
    dash = np.where(rng.random(n) < 0.7, "-", "")
    return np.where(rng.random(n) < 0.85, mobile, _cat(area_codes, dash, local))


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
    name, id_type, id_number, phone = (np.where(two, _cat(x, sep, y), x) for x, y in ((a.name, b.name), (a.id_type, b.id_type), (a.id_number, b.id_number), (a.phone, b_phone)))
    developer = _cat(county_names, rng.choice(_DEVELOPER_WORDS, size=n), rng.choice(_DEVELOPER_KINDS, size=n))
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
    f["YCYWH"] = _cat(np.strings.replace(np.strings.slice(dbsj_s, 0, 10), "-", ""), np.strings.zfill(_int_str(np.arange(n) + first_index + 1), 10))
    f["ZRFXM"], f["ZRFZJZL"], f["ZRFZJHM"], f["ZRFLXDH"] = _parties(
        rng, n, county_codes, city_codes, county_names, pools, as_of_ts, company_rate=0.03, two_rate=0.15, force_single=single_buyer
    )
    f["ZCFXM"], f["ZCFZJZL"], f["ZCFZJHM"], f["ZCFLXDH"] = _parties(
        rng, n, county_codes, city_codes, county_names, pools, as_of_ts, company_rate=0.15, two_rate=0.08, force_single=np.zeros(n, dtype=bool)
    )
    f["XZQH"] = county_codes
    city_county = _cat(city_names, county_names)
    place = np.where(np.strings.endswith(county_names, "区"), city_county, county_names)
    province = np.where(rng.random(n) < 0.4, "山东省", "")
    community = rng.choice(_COMMUNITIES, size=n)
    f["FWZL"] = _cat(
        province, np.where(province == "", place, city_county), rng.choice(_ROADS, size=n),
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
    f["BDCQZH"] = _cat("鲁(", np.strings.slice(dbsj_s, 0, 4), ")", cert_place, "不动产权第", _digits(rng, n, 7), "号")
    f["DBSJ"] = dbsj_s

    u = rng.random((4, n))
    want = {"electricity": u[0] < 0.9, "water": u[1] < 0.75, "gas": u[2] < 0.55, "heat": u[3] < 0.4}
    want["water"] |= (defect == "institution_mismatch") | (defect == "institution_other_county")
    want["gas"] |= defect == "account_without_institution"
    all_codes = np.array([c.code for c in counties])
    inst = {k: _pick_institutions(rng, idx, all_codes, registry, k, want[k]) for k in ("water", "gas", "heat")}
    none_requested = ~(want["electricity"] | inst["water"][2] | inst["gas"][2] | inst["heat"][2])
    want["electricity"] |= none_requested
    f["YDHH"] = _nullable(_digits(rng, n, 10), want["electricity"])
    for utility, acct, code, name, width in (("water", "YSHH", "GSJGBM", "GSJGMC", 8), ("gas", "YQHH", "RQJGBM", "RQJGMC", 10), ("heat", "YNHH", "GRJGBM", "GRJGMC", 8)):
        codes, names, has = inst[utility]
        f[acct] = _nullable(_digits(rng, n, width, first=(1, 10)), has)
        f[code], f[name] = _nullable(codes, has), _nullable(names, has)

    frame = pa.table({k: pa.array(f[k]) if not isinstance(f[k], pa.Array) else f[k] for k in FIELD_CODES}).to_pandas(types_mapper=_str_dtype)
    frame.insert(0, "OP", "I")
    frame["defect"] = defect
    frame["defect_field"] = np.array([DEFECT_KINDS[d] if d else "" for d in defect], dtype=object)
    frame["oddity"] = oddity
    _inject_defects(frame, rng, registry, as_of_ts)
    _inject_oddities(frame, rng)
    return frame


def _mask(frame: pd.DataFrame, column: str, value: str) -> np.ndarray:
    return (frame[column] == value).to_numpy()


def _inject_defects(frame: pd.DataFrame, rng: np.random.Generator, registry: pd.DataFrame, as_of: pd.Timestamp) -> None:
    m = _mask(frame, "defect", "bad_id_checksum") & (frame["ZRFZJZL"] == "1").to_numpy()
    ids = frame.loc[m, "ZRFZJHM"].to_numpy(dtype=object).astype(str)
    chars = "10X98765432"
    frame.loc[m, "ZRFZJHM"] = [i[:17] + chars[(chars.index(i[17]) + 1 + int(k)) % 11] for i, k in zip(ids, rng.integers(0, 10, size=len(ids)))]
    # A buyer of another ID type cannot carry this defect: relabel as clean.
    frame.loc[_mask(frame, "defect", "bad_id_checksum") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "impossible_birth_date") & (frame["ZRFZJZL"] == "1").to_numpy()
    k = int(m.sum())
    if k:
        future = str(as_of.year + 1) + "0315"
        bad = rng.choice(np.array(["19990230", "19870431", "20011301", "19950000", future]), size=k)
        prefixes = frame.loc[m, "ZRFZJHM"].str.slice(0, 6).to_numpy(dtype=object).astype(str)
        frame.loc[m, "ZRFZJHM"] = _resident_ids(rng, prefixes, bad).astype(object)
    frame.loc[_mask(frame, "defect", "impossible_birth_date") & ~m, ["defect", "defect_field"]] = ""

    # Born after the recording but not after "now": BIRTH_AFTER_DBSJ, not ID_BIRTH_DATE.
    dbsj_day = pd.to_datetime(frame["DBSJ"], errors="coerce").to_numpy().astype("datetime64[D]")
    room = (np.datetime64(as_of.date()) - dbsj_day).astype(np.int64)
    m = _mask(frame, "defect", "birth_after_dbsj") & (frame["ZRFZJZL"] == "1").to_numpy() & (room >= 1)
    k = int(m.sum())
    if k:
        births = dbsj_day[m] + (1 + np.floor(rng.random(k) * room[m])).astype(np.int64).astype("timedelta64[D]")
        prefixes = frame.loc[m, "ZRFZJHM"].str.slice(0, 6).to_numpy(dtype=object).astype(str)
        frame.loc[m, "ZRFZJHM"] = _resident_ids(rng, prefixes, np.strings.replace(np.datetime_as_string(births, unit="D"), "-", "")).astype(object)
    frame.loc[_mask(frame, "defect", "birth_after_dbsj") & ~m, ["defect", "defect_field"]] = ""

    # A registered water institution of another county (code and its registered name).
    water_all = registry[registry["utility"] == "water"]
    served: dict[str, set[str]] = {}
    for code, xzqh in zip(water_all["code"], water_all["xzqh"]):
        served.setdefault(code, set()).add(xzqh)
    m = _mask(frame, "defect", "institution_other_county") & frame["GSJGBM"].notna().to_numpy()
    if m.any():
        w_codes, w_names = water_all["code"].to_numpy(dtype=object), water_all["name"].to_numpy(dtype=object)
        picks = np.floor(rng.random(int(m.sum())) * len(w_codes)).astype(np.int64)
        new_codes, new_names = [], []
        for p, place in zip(picks, frame.loc[m, "XZQH"].to_numpy(dtype=object)):
            while place in served[w_codes[p]]:
                p = (p + 1) % len(w_codes)
            new_codes.append(w_codes[p])
            new_names.append(w_names[p])
        frame.loc[m, "GSJGBM"] = new_codes
        frame.loc[m, "GSJGMC"] = new_names
    frame.loc[_mask(frame, "defect", "institution_other_county") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "bad_phone")
    k = int(m.sum())
    bad_phones = np.array(["1234567", "2581234567", "138123456", "1381234567890", "0531-1234567", "0633-12345678", "13912345678X", "电话13912345678"])
    frame.loc[m, "ZRFLXDH"] = rng.choice(bad_phones, size=k)

    m = _mask(frame, "defect", "unknown_county")
    frame.loc[m, "XZQH"] = rng.choice(np.array(["370199", "379901", "371199", "370000", "370100", "110199"]), size=int(m.sum()))

    m = _mask(frame, "defect", "nonpositive_area")
    frame.loc[m, "FWJZMJ"] = rng.choice(np.array(["0", "0.00", "-85.3", "-1"]), size=int(m.sum()))

    m = _mask(frame, "defect", "future_dbsj")
    k = int(m.sum())
    if k:
        future = as_of.to_datetime64() + rng.integers(3600, 90 * 86400, size=k).astype("timedelta64[s]")
        frame.loc[m, "DBSJ"] = np.strings.replace(np.datetime_as_string(future, unit="s"), "T", " ")

    m = _mask(frame, "defect", "institution_mismatch") & frame["GSJGBM"].notna().to_numpy()
    water = registry[registry["utility"] == "water"]
    others = water["name"].to_numpy(dtype=object)
    codes = frame.loc[m, "GSJGBM"].to_numpy()
    by_code = dict(zip(water["code"], water["name"]))
    picks = rng.integers(0, len(others), size=int(m.sum()))
    frame.loc[m, "GSJGMC"] = [others[p] if others[p] != by_code[c] else others[(p + 1) % len(others)] for p, c in zip(picks, codes)]
    frame.loc[_mask(frame, "defect", "institution_mismatch") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "account_without_institution") & frame["YQHH"].notna().to_numpy()
    frame.loc[m, ["RQJGBM", "RQJGMC"]] = None
    frame.loc[_mask(frame, "defect", "account_without_institution") & ~m, ["defect", "defect_field"]] = ""

    m = _mask(frame, "defect", "missing_required")
    k = int(m.sum())
    fields = rng.choice(np.array(MISSING_FIELDS), size=k)
    blanks = rng.choice(np.array([None, "", "  "], dtype=object), size=k)
    rows = np.flatnonzero(m)
    for field in MISSING_FIELDS:
        sel = fields == field
        frame.loc[frame.index[rows[sel]], field] = blanks[sel]
    frame.loc[frame.index[rows], "defect_field"] = fields

    # A second record sent under an earlier record's ROWGUID: the later one is the defect.
    rows = np.flatnonzero(_mask(frame, "defect", "duplicate_rowguid"))
    clean = np.flatnonzero(frame["defect"].to_numpy() == "")
    earlier = np.searchsorted(clean, rows)  # how many clean rows come before each
    ok = earlier > 0
    source = clean[np.floor(rng.random(int(ok.sum())) * earlier[ok]).astype(np.int64)]
    guid = frame.columns.get_loc("ROWGUID")
    frame.iloc[rows[ok], guid] = frame.iloc[source, guid].to_numpy()
    frame.loc[frame.index[rows[~ok]], ["defect", "defect_field"]] = ""


def _inject_oddities(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    m = _mask(frame, "oddity", "fullwidth_digits")
    part = rng.integers(0, 3, size=len(frame))
    for i, field in enumerate(("ZRFLXDH", "ZRFZJHM", "FWJZMJ")):
        sel = m & (part == i)
        frame.loc[sel, field] = _fullwidth(frame.loc[sel, field].to_numpy())

    m = _mask(frame, "oddity", "lowercase_x") & (frame["ZRFZJZL"] == "1").to_numpy()
    rows = np.flatnonzero(m)
    if len(rows):
        body = frame["ZRFZJHM"].to_numpy(dtype=object).astype(str)[rows]
        # Walk the 3-digit sequence until the check character is X (1 in 11 are).
        digits = np.frombuffer("".join(s[:17] for s in body).encode(), dtype=np.uint8).reshape(len(rows), 17).astype(np.int64) - 48
        found = np.zeros(len(rows), dtype=bool)
        for step in range(1000):
            trial = digits.copy()
            seq = (digits[:, 14] * 100 + digits[:, 15] * 10 + digits[:, 16] + step) % 1000
            trial[:, 14], trial[:, 15], trial[:, 16] = seq // 100, seq // 10 % 10, seq % 10
            hit = (~found) & (id_check_chars(trial) == "X")
            digits[hit] = trial[hit]
            found |= hit
            if found.all():
                break
        frame.loc[frame.index[rows], "ZRFZJHM"] = ["".join(map(str, d)) + "x" for d in digits]
    frame.loc[_mask(frame, "oddity", "lowercase_x") & ~m, "oddity"] = ""

    m = _mask(frame, "oddity", "spaces")
    frame.loc[m, "ZRFXM"] = " " + frame.loc[m, "ZRFXM"] + " "
    frame.loc[m, "ZRFZJHM"] = frame.loc[m, "ZRFZJHM"] + "  "
    frame.loc[m, "BDCQZH"] = frame.loc[m, "BDCQZH"].str.replace("不动产权", " 不动产权 ", regex=False)
    # the area with a unit or a thousands separator (docs/domain.md §4), by row: no new random draws
    area = pd.to_numeric(frame.loc[m, "FWJZMJ"], errors="coerce")
    unit = np.array([" ㎡", "平方米", " m²", "m2"])[np.flatnonzero(m) % 4]
    frame.loc[m, "FWJZMJ"] = np.where(area >= 1000, area.map(lambda a: f"{a:,.2f}"), frame.loc[m, "FWJZMJ"] + unit)

    m = _mask(frame, "oddity", "fullwidth_brackets")
    hexagonal = m & (np.arange(len(frame)) % 3 == 0)  # 鲁〔2021〕…: the year in 〔〕 (docs/domain.md §4)
    frame.loc[m, "BDCQZH"] = frame.loc[m, "BDCQZH"].str.replace("(", "（", regex=False).str.replace(")", "）", regex=False)
    frame.loc[hexagonal, "BDCQZH"] = frame.loc[hexagonal, "BDCQZH"].str.replace("（", "〔", regex=False).str.replace("）", "〕", regex=False)

    _inject_written_forms(frame, rng)

    m = _mask(frame, "oddity", "dbsj_format")
    k = int(m.sum())
    ts = pd.to_datetime(frame.loc[m, "DBSJ"])
    forms = rng.integers(0, 3, size=k) + 3 * (np.arange(k) % 2)  # 0-5, the second three by row
    written = [
        ts.dt.strftime("%Y/%m/%d %H:%M:%S"),
        ts.dt.strftime("%Y%m%d%H%M%S"),
        ts.dt.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.dt.year.astype(str) + "年" + ts.dt.month.astype(str) + "月" + ts.dt.day.astype(str) + "日 " + ts.dt.hour.astype(str) + "时" + ts.dt.minute.astype(str) + "分" + ts.dt.second.astype(str) + "秒",
        ts.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        (ts - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),  # UTC: read back as local time
    ]
    frame.loc[m, "DBSJ"] = np.select([forms == i for i in range(len(written))], [w.to_numpy() for w in written])


def _inject_written_forms(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """The buyer's ID, phone or name in a valid form real systems write (docs/domain.md §3-4)."""
    rows = frame.index[_mask(frame, "oddity", "foreign_id")]
    k = len(rows)
    if k:
        form = rng.integers(0, 4, size=k)
        pr_2023 = _resident_ids(rng, rng.choice(_PR_2023_PREFIXES, size=k), rng.choice(_BIRTHS, size=k))
        old_pr = _cat(rng.choice(_OLD_PR_NATIONS, size=k), _digits(rng, k, 12))
        permit = _cat(rng.choice(np.array(["H", "M"]), size=k), _digits(rng, k, 8), np.where(rng.random(k) < 0.5, _digits(rng, k, 2), ""))
        frame.loc[rows, "ZRFZJHM"] = np.where(form < 2, pr_2023, np.where(form == 2, old_pr, permit))
        frame.loc[rows, "ZRFZJZL"] = np.array(["1", "99", "1", "2"])[form]

    rows = frame.index[_mask(frame, "oddity", "phone_written")]
    if len(rows):
        phones = frame.loc[rows, "ZRFLXDH"].to_numpy(dtype=object).astype(str)
        form = rng.integers(0, 3, size=len(rows))
        written = []
        for phone, f in zip(phones, form):
            if phone.startswith("1"):
                written.append((f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", f"0086{phone}")[f])
            else:
                area, local = phone[:4], phone[4:].lstrip("-")
                written.append((f"({area}){local}", f"（{area}）{local}", f"{area}-{local}转{100 + f}")[f])
        frame.loc[rows, "ZRFLXDH"] = written

    rows = frame.index[_mask(frame, "oddity", "name_dot")]
    if len(rows):
        pairs = rng.integers(0, len(_DOTTED_NAMES), size=len(rows))
        dots = rng.choice(_NAME_DOTS, size=len(rows))
        frame.loc[rows, "ZRFXM"] = [_DOTTED_NAMES[p][0] + d + _DOTTED_NAMES[p][1] for p, d in zip(pairs, dots)]


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


# --- the exchange database -----------------------------------------------------------------


class PlatformDB:
    """The platform side of the exchange database: creates the table and writes batches."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name

    def create(self) -> None:
        ddl = (SQL_DIR / f"create_exchange_table.{self.dialect}.sql").read_text(encoding="utf-8")
        with self.engine.begin() as conn:
            for statement in _statements(ddl):
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS SYN_TRUTH (ROWGUID VARCHAR(64), YCYWH VARCHAR(64), OP CHAR(1), "
                "DEFECT VARCHAR(64), DEFECT_FIELD VARCHAR(32), ODDITY VARCHAR(64))"
            )

    def drop(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {EXCHANGE_TABLE}")
            conn.exec_driver_sql("DROP TABLE IF EXISTS SYN_TRUTH")

    def write(self, frame: pd.DataFrame) -> int:
        """Write a generated batch as the platform does (one transaction); returns the row count."""
        columns = ["OP", *FIELD_CODES]
        truth = frame[["ROWGUID", "YCYWH", "OP", "defect", "defect_field", "oddity"]]
        put = _copy_frame if self.dialect == "postgresql" else _insert_frame
        with self.engine.begin() as conn:
            put(conn, EXCHANGE_TABLE, columns, frame[columns])
            put(conn, "SYN_TRUTH", ["ROWGUID", "YCYWH", "OP", "DEFECT", "DEFECT_FIELD", "ODDITY"], truth)
        return len(frame)

    def write_rows(self, rows: list[dict]) -> int:
        """Write rows exactly as given, one by one in order, in one transaction (hostile tests).

        Values are bound as they are: on SQLite bytes go in as TEXT whatever they hold (invalid
        UTF-8 included: the platform's SQLite file does not check), text with NUL as is; on
        PostgreSQL the database refuses what a text column cannot hold, as it would the platform.
        """
        columns = ["OP", *FIELD_CODES]
        if self.dialect == "sqlite":
            marks = ", ".join("CAST(? AS TEXT)" for _ in columns)
        else:
            marks = ", ".join("%s" for _ in columns)
        statement = f"INSERT INTO {EXCHANGE_TABLE} ({', '.join(columns)}) VALUES ({marks})"
        with self.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            for row in rows:
                cursor.execute(statement, [row.get(c, "I" if c == "OP" else None) for c in columns])
        return len(rows)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {EXCHANGE_TABLE}").scalar_one())

    def truth(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT ROWGUID, YCYWH, OP, DEFECT, DEFECT_FIELD, ODDITY FROM SYN_TRUTH").fetchall()
        return pd.DataFrame(rows, columns=["ROWGUID", "YCYWH", "OP", "defect", "defect_field", "oddity"])

    def dispose(self) -> None:
        self.engine.dispose()


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _insert_frame(conn: sa.Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    data = pa.Table.from_pandas(frame, preserve_index=False)
    rows = list(zip(*(col.to_pylist() for col in data.columns)))
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", rows)


def _copy_frame(conn: sa.Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    """COPY a text frame into PostgreSQL: Arrow writes the CSV in C++, psycopg streams it."""
    data = pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buf.getbuffer())


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
