"""Every Annex 1 rule (docs/domain.md §2–4), vectorised over normalised records.

Each rule has a stable id, a severity and a scope:

- severity `error` stops what it touches; `warning` is reported and lets it through;
- scope `record` touches the whole record; scope `utility` touches only that utility's
  work order — a bad gas institution code does not stop the electricity transfer.

So a record ends as `passed` (no error), `partial` (utility errors only, and at least one
requested utility is still clear), or `quarantined` (a record error, or every requested
utility blocked). `evaluate()` returns one row per failure (every rule, every record —
not a sample) and one status per record, so that records in = passed + partial +
quarantined always holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling import crossfield
from transforms.cohandling.annex1 import ID_TYPES, LABELS, UTILITIES
from transforms.cohandling.normalize import SERVICE_PATTERN, canonical_phones
from transforms.common import dates, parallel, utf8
from transforms.common.checkdigits import USCC_CHARSET, id_check_ok, org_code_ok, permit_check_ok, uscc_check_ok


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning
    scope: str  # record | utility
    zh: str
    en: str


ROWGUID_MAX = 64  # the ledger's ROWGUID columns (record_verdict, record_state, work_order)

_RULES = [
    Rule("REQUIRED", "error", "record", "必填项为空", "required field is empty"),
    Rule("ROWGUID_DUPLICATE", "error", "record", "标识码重复：同一标识码已有新增记录", "ROWGUID already used by another new record"),
    Rule("ROWGUID_LENGTH", "error", "record", f"标识码超过 {ROWGUID_MAX} 个字符", f"ROWGUID longer than {ROWGUID_MAX} characters"),
    Rule("TEXT_CLEANED", "warning", "record", "含控制字符、双向控制符、零宽字符或换行，已清除后使用（原值保留）", "held control, bidi or zero-width characters or line breaks: cleaned before use (original kept)"),
    Rule("ID_TYPE_UNKNOWN", "warning", "record", "证件种类代码不在代码表中", "ID type code not in the code table"),
    Rule("ID_FORMAT", "error", "record", "证件号码与证件种类不符", "ID number does not have the shape of its ID type"),
    Rule("ID_CHECKSUM", "error", "record", "证件号码校验位错误（身份证 GB 11643 MOD 11-2；香港、台湾身份证按其校验规则）",
         "ID check character is wrong (resident ID: GB 11643 MOD 11-2; HK and Taiwan IDs: their own checks)"),
    Rule("ID_BIRTH_DATE", "error", "record", "身份证号码中的出生日期不存在或晚于当前日期", "birth date in the resident ID is not a real date or is in the future"),
    Rule("ID_PROVINCE", "error", "record", "身份证号码前两位不是省级行政区划代码", "resident ID does not start with a province code"),
    Rule("ID_LEGACY_15", "warning", "record", "15位旧身份证号码", "15-digit legacy resident ID"),
    Rule("ORG_CODE_CHECKSUM", "error", "record", "组织机构代码校验位错误（GB 11714）", "organisation code check character is wrong (GB 11714)"),
    Rule("NAME_FORMAT", "error", "record", "姓名（名称）只有数字或含控制字符", "name is digits only or holds a control character"),
    Rule("USCC_CHECKSUM", "error", "record", "统一社会信用代码校验位错误（GB 32100）", "unified social credit code check character is wrong (GB 32100)"),
    Rule("PHONE", "error", "record", "联系电话不是有效的手机号码、固定电话或服务号码（400/800/95/96）", "phone is neither a valid mobile, landline nor service number (400/800/95/96)"),
    Rule("OWNER_COUNT", "error", "record", "姓名、证件种类、证件号码、联系电话的人数不一致", "owner counts differ across name, ID type, ID number and phone"),
    Rule("XZQH_COUNTY", "error", "record", "行政区划代码不是山东省县级行政区划代码", "XZQH is not a Shandong county-level code"),
    Rule("XZQH_ZONE", "warning", "record", "行政区划代码为功能区代码（非GB/T 2260）", "XZQH is a functional-zone code (not GB/T 2260)"),
    Rule("ADDRESS_PLACE", "warning", "record", "房屋坐落未包含所在县（市、区）或市名称", "address names neither its county nor its city"),
    Rule("AREA_FORMAT", "error", "record", "房屋建筑面积不是最多两位小数的数值", "floor area is not a number with at most 2 decimals"),
    Rule("AREA_POSITIVE", "error", "record", "房屋建筑面积必须大于0", "floor area must be greater than 0"),
    Rule("AREA_LARGE", "warning", "record", "房屋建筑面积大于10000平方米，请核实", "floor area above 10000 m², please check"),
    Rule("CERT_FORMAT", "error", "record", "不动产权证号格式不符（鲁(年份)地名不动产权第N号）", "certificate number does not match 鲁(year)place不动产权第N号"),
    Rule("CERT_LEGACY", "warning", "record", "旧版房屋所有权证号", "legacy building-ownership certificate number"),
    Rule("DBSJ_FORMAT", "error", "record", "登簿时间无法识别", "recorded time (DBSJ) cannot be parsed"),
    Rule("DBSJ_FUTURE", "error", "record", "登簿时间晚于当前时间", "recorded time (DBSJ) is in the future"),
    Rule("DBSJ_OLD", "warning", "record", "登簿时间早于1990年，请核实", "recorded time (DBSJ) before 1990, please check"),
    Rule("UTILITY_NONE", "error", "record", "未申请任何水电气热过户", "no utility transfer requested"),
    Rule("ACCOUNT_INSTITUTION", "error", "utility", "户号与机构编码、名称须同时填写", "account and institution code and name must be given together"),
    Rule("INSTITUTION_UNKNOWN", "error", "utility", "机构编码不在该业务类型的机构名录中", "institution code is not registered for this utility"),
    Rule("INSTITUTION_NAME", "error", "utility", "机构名称与名录中该编码的名称不一致", "institution name differs from the registered name of its code"),
    # Cross-field checks (transforms/cohandling/crossfield.py: the decisions and why).
    Rule("BIRTH_AFTER_DBSJ", "error", "record", "证件号码中的出生日期晚于登簿时间", "birth date in the ID number is after the recorded time (DBSJ)"),
    Rule("OWNER_AGE", "warning", "record", "按证件号码，登簿时权利人年龄超过120岁，请核实", "by the ID number the owner was over 120 at DBSJ, please check"),
    Rule("OWNER_ID_REPEATED", "error", "record", "同一方的两个权利人证件号码相同", "two owners on the same side share one ID number"),
    Rule("BUYER_IS_SELLER", "warning", "record", "买方与卖方有相同证件号码（份额转移或加名时可能出现），请核实", "buyer and seller share an ID number (possible for a share transfer or adding a spouse), please check"),
    Rule("CERT_YEAR_AFTER_DBSJ", "error", "record", "不动产权证号中的年份晚于登簿年份", "certificate year is after the year of the recorded time (DBSJ)"),
    Rule("CERT_YEAR_OLD", "warning", "record", "不动产权证号中的年份早于2015年（不动产登记暂行条例施行前），请核实", "certificate year before 2015 (before the unified certificate existed), please check"),
    Rule("CERT_PLACE", "warning", "record", "不动产权证号中的地名与行政区划代码的县（市、区）或市不符", "certificate place names neither the county nor the city of XZQH"),
    Rule("XZQH_RETIRED", "error", "record", "行政区划代码已撤销，请改用继任代码（见 reference/xzqh_history.csv，如 371202 莱城区 → 370116 莱芜区）",
         "XZQH is a retired code: use its successor (reference/xzqh_history.csv, e.g. 371202 → 370116)"),
    Rule("INSTITUTION_COUNTY", "error", "utility", "机构编码已登记，但不服务于该行政区划（工单将发往错误机构）", "institution is registered, but not for this XZQH's county (the work order would go to the wrong utility)"),
]
RULES: dict[str, Rule] = {r.id: r for r in _RULES}

REQUIRED_FIELDS = ("ROWGUID", "YCYWH", "ZRFXM", "ZRFZJZL", "ZRFZJHM", "ZRFLXDH", "ZCFXM", "ZCFZJZL", "ZCFZJHM", "XZQH", "FWZL", "FWJZMJ", "BDCQZH", "DBSJ")
PROVINCE_PREFIXES = frozenset(
    ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46",
     "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"]
)
RESIDENT_ID_TYPES = ("1", "4")  # 身份证, 户口簿 carry the resident ID number
CERT_PATTERN = r"^鲁\((19|20)\d{2}\)[^()]{1,30}?不动产(权|证明)第\d{5,10}号(\(.{1,6}\))?$"
LEGACY_CERT_PATTERN = r"房权证|房屋所有权证|房字第"
MOBILE_PATTERN = r"^(\+?86)?1[3-9]\d{9}$"
# Type 2 (港澳台) documents, as written after normalisation (NFKC: brackets half width):
# HK identity card: 1-2 letters + 6 digits + check digit (0-9 or A), often in brackets;
# Macao resident ID: 1/5/7 + 6 digits + (check digit); Taiwan ID: letter + 1/2 + 8 digits;
# 港澳居民来往内地通行证 (2013 card): H/M + 8 digits, + 2-digit issue count when copied from the card face;
# 台湾居民来往大陆通行证: 8 digits (2015 card), older booklet 10 digits with an optional (letter)
# (the booklet form is as seen in practice; not confirmed from a published specification).
PERMIT_PATTERN = r"[A-Z]{1,2}\d{6}\(?[\dA]\)?|[157]\d{6}\(?\d\)?|[A-Z][12]\d{8}|[HM]\d{8}(?:\d{2})?|\d{8}(?:\([A-Z]\))?|\d{10}(?:\([A-Z]\))?"
# 外国人永久居留证 2004 edition: ISO 3166 alpha-3 nationality + 12 digits.
OLD_PR_PATTERN = r"[A-Z]{3}\d{12}"
# Passports: Chinese E+8 / E+letter+7 / G+8 digits; foreign ones letters and digits (ICAO 9303), 5-17.
PASSPORT_PATTERN = r"[A-Z0-9]{5,17}"
# A name that cannot be a person's or a company's: digits only, or a control character in it.
NAME_BAD_PATTERN = r"\d+|.*[\x00-\x1f\x7f-\x9f].*"
LANDLINE_PATTERN = r"^(?:(?P<short>0[12]\d)-?|(?P<long>0[3-9]\d{2})-?)(?P<local>\d{7,8})(?:-\d{1,6})?$"


@dataclass(frozen=True)
class Context:
    """What the rules check against: reference tables, the registry, the clock."""

    counties: frozenset[str]
    functional_zones: frozenset[str]
    place_names: dict[str, tuple[str, ...]]  # XZQH -> names an address may use for it
    area_code_digits: dict[str, int]  # Shandong landline area code -> local-number length
    institutions: dict[tuple[str, str], str]  # (utility, code) -> normalised registered name
    as_of: datetime
    known_rowguids: frozenset[str] = frozenset()  # ROWGUIDs already taken as new in earlier runs
    institution_counties: dict[str, dict[str, frozenset[str]]] | None = None  # utility -> code -> counties served
    retired: dict | None = None  # retired county code -> codetables.RetiredDivision


def build_context(*, divisions, area_codes: dict[str, dict], registry: pd.DataFrame, as_of: datetime, known_rowguids: Iterable[str] = (),
                  xzqh_history: dict | None = None) -> Context:
    """A Context from reference data (jobs.common.reference) and a registry frame (utility, code, name,
    and xzqh: the county each row serves — one row per county an institution serves)."""
    counties = frozenset(c for c, d in divisions.items() if d.level == "county")
    zones = frozenset(c for c, d in divisions.items() if d.level == "functional_zone")
    places: dict[str, tuple[str, ...]] = {}
    for code, d in divisions.items():
        if d.level in ("county", "functional_zone"):
            city = divisions.get(d.parent_code)
            names = {d.name}
            if city is not None:
                names |= {city.name, city.name.removesuffix("市")}
            places[code] = tuple(sorted(n for n in names if len(n) >= 2))
    names = registry["name"].astype(str).map(normalise_name)
    institutions = dict(zip(zip(registry["utility"], registry["code"].astype(str).str.upper()), names))
    digits = {code: int(row["subscriber_digits"]) for code, row in area_codes.items()}
    served: dict[str, dict[str, set[str]]] = {}
    if "xzqh" in registry:
        for utility, code, xzqh in zip(registry["utility"], registry["code"].astype(str).str.upper(), registry["xzqh"]):
            if isinstance(xzqh, str) and xzqh:
                served.setdefault(utility, {}).setdefault(code, set()).add(xzqh)
    institution_counties = {u: {c: frozenset(x) for c, x in codes.items()} for u, codes in served.items()}
    return Context(counties, zones, places, digits, institutions, as_of, frozenset(known_rowguids), institution_counties, dict(xzqh_history or {}))


def normalise_name(name: str) -> str:
    """Institution names compared as the normaliser leaves them: NFKC brackets, single spaces."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", name).split())


# --- evaluation --------------------------------------------------------------------------
#
# The rules run over blocks of rows (BLOCK_ROWS), so that every intermediate array stays
# small enough for the CPU caches; each block records its failures rule by rule, in the
# same order in every block, and the blocks are then joined rule by rule. The result is
# the same as one pass over all rows: failures ordered by rule, then by row. Only the
# ROWGUID check looks across blocks (a duplicate may sit anywhere in the run).

BLOCK_ROWS = 1 << 17


@dataclass
class _Part:
    rule: str
    field: str | np.ndarray  # one field, or one per row
    utility: str
    rows: np.ndarray
    with_value: bool  # report the field's value (when there is no original to report)


class _Failures:
    """Failures of one block, in the order the rules add them (rows within the block)."""

    def __init__(self) -> None:
        self.parts: list[_Part] = []

    def add(self, rows: np.ndarray, rule: str, field: str | np.ndarray, *, utility: str = "", with_value: bool = False) -> None:
        self.parts.append(_Part(rule, field, utility, np.asarray(rows, dtype=np.int64), with_value))


def _join_blocks(blocks: list[tuple[int, _Failures]]) -> list[_Part]:
    """One part per rule call, rows made run-wide and in order, empty parts dropped."""
    if not blocks:
        return []
    joined = []
    for i, first in enumerate(blocks[0][1].parts):
        pieces = [(start, f.parts[i]) for start, f in blocks]
        assert all(p.rule == first.rule and (isinstance(p.field, np.ndarray) or p.field == first.field) for _, p in pieces)
        rows = np.concatenate([p.rows + start for start, p in pieces])
        if not len(rows):
            continue
        if isinstance(first.field, np.ndarray):
            field = np.concatenate([p.field for _, p in pieces])
        else:
            field = first.field
        joined.append(_Part(first.rule, field, first.utility, rows, first.with_value))
    return joined


def _values_at(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The column's values at rows, as pandas gives them as objects (str, NaN for missing)."""
    taken = _arrow(column).take(pa.array(rows))
    values = taken.to_numpy(zero_copy_only=False).astype(object)
    if taken.null_count:
        values[pc.is_null(taken).to_numpy(zero_copy_only=False)] = np.nan
    return values


def _failure_frame(parts: list[_Part], records: pd.DataFrame) -> pd.DataFrame:
    """One row per failure: row, rule, field, utility, value (as the platform sent it), severity, scope."""
    if not parts:
        empty = pd.Series([], dtype=object)
        return pd.DataFrame({"row": pd.Series([], dtype=np.int64), **{c: empty for c in ("rule_id", "field", "utility", "value", "severity", "scope")}})
    rows = np.concatenate([p.rows for p in parts])
    sizes = [len(p.rows) for p in parts]

    def spread(values: list) -> np.ndarray:
        out = np.empty(len(rows), dtype=object)
        at = 0
        for value, size in zip(values, sizes):
            out[at : at + size] = value
            at += size
        return out

    rule = spread([p.rule for p in parts])
    field = spread([p.field for p in parts])
    values = np.full(len(rows), None, dtype=object)
    # The value a person sees is the one the platform sent, not the normalised one.
    at = 0
    for p, size in zip(parts, sizes):
        if isinstance(p.field, str) and f"{p.field}__orig" not in records and p.with_value:
            values[at : at + size] = _values_at(records[p.field], p.rows)
        at += size
    for name in pd.unique(field):
        if f"{name}__orig" in records:
            where = np.flatnonzero(field == name)
            values[where] = _values_at(records[f"{name}__orig"], rows[where])
    out = pd.DataFrame({
        "row": rows,
        "rule_id": rule,
        "field": field,
        "utility": spread([p.utility for p in parts]),
        "value": np.full(len(rows), None, dtype=object),
        "severity": spread([RULES[p.rule].severity for p in parts]),
        "scope": spread([RULES[p.rule].scope for p in parts]),
    })
    out["value"] = values
    return out


class _Block:
    """One range of rows of the normalised records, as Arrow arrays (sliced, not copied)."""

    def __init__(self, columns: dict[str, pa.ChunkedArray], start: int, stop: int) -> None:
        self.start, self.n = start, stop - start
        self._columns = columns
        self._arrays: dict[str, pa.Array] = {}
        self._nulls: dict[str, np.ndarray] = {}

    def arr(self, name: str) -> pa.Array:
        if name not in self._arrays:
            self._arrays[name] = self._columns[name].slice(self.start, self.n).combine_chunks()
        return self._arrays[name]

    def null(self, name: str) -> np.ndarray:
        if name not in self._nulls:
            self._nulls[name] = utf8.nulls(self.arr(name))
        return self._nulls[name]


def _arrow(column: pd.Series) -> pa.ChunkedArray:
    """The Arrow data behind a pyarrow-backed pandas column (no copy), or made from its values."""
    backing = getattr(column.array, "_pa_array", None)
    if backing is not None:
        return backing if isinstance(backing, pa.ChunkedArray) else pa.chunked_array([backing])
    return pa.chunked_array([pa.array(column.to_numpy(dtype=object), type=pa.string())])


def evaluate(records: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All rules over normalised records (positional rows, in change order).

    Returns (failures, outcome): failures has one row per (record row, rule, field,
    utility) with the original value; outcome has per record row `status`
    (passed / partial / quarantined), `requested` and `blocked` utilities (comma-joined).
    """
    n = len(records)
    columns = {name: _arrow(records[name]) for name in _BLOCK_COLUMNS}
    dense = {
        "DBSJ_TS": records["DBSJ_TS"].to_numpy(),
        "FWJZMJ_NUM": records["FWJZMJ_NUM"].to_numpy(dtype=float, na_value=np.nan),
        "FWJZMJ_DECIMALS": records["FWJZMJ_DECIMALS"].to_numpy(dtype=float, na_value=np.nan),
    }
    lookups = _Lookups(ctx)
    run_wide = _Failures()

    def block(start: int, stop: int) -> tuple[_Failures, _Failures, dict[str, np.ndarray]]:
        rows = _Block(columns, start, stop)
        before, after = _Failures(), _Failures()
        _required(rows, before)
        for prefix in ("ZRF", "ZCF"):
            _parties(rows, prefix, ctx, lookups, after)
        _place(rows, ctx, lookups, after)
        _area(rows, {k: v[start:stop] for k, v in dense.items()}, after)
        _certificate(rows, after)
        _dbsj(rows, dense["DBSJ_TS"][start:stop], ctx, after)
        requested = _utilities(rows, lookups, after)
        _cross(rows, dense["DBSJ_TS"][start:stop], ctx, after)
        return before, after, requested

    bounds = _block_bounds(columns["ROWGUID"], n)
    # The blocks, and beside them the run-wide ROWGUID check, on the thread pool.
    results = parallel.run_all([lambda: _rowguid(records, ctx, run_wide), *(lambda b=b: block(*b) for b in bounds)])[1:]
    starts = [start for start, _ in bounds]
    # The rule order of a single pass over all rows: REQUIRED fields, ROWGUID, then the rest.
    parts = _join_blocks([(s, r[0]) for s, r in zip(starts, results)]) + _join_blocks([(0, run_wide)]) + _join_blocks([(s, r[1]) for s, r in zip(starts, results)])
    requested = {u: np.concatenate([r[2][u] for r in results]) for u in UTILITIES}
    outcome = _outcome(n, parts, requested)
    return _failure_frame(parts, records), outcome


def _block_bounds(reference: pa.ChunkedArray, n: int) -> list[tuple[int, int]]:
    """Row ranges of at most BLOCK_ROWS that do not cross the data's chunks (slices copy nothing)."""
    bounds, at = [], 0
    for chunk in reference.chunks:
        for start in range(0, len(chunk), BLOCK_ROWS):
            bounds.append((at + start, at + min(start + BLOCK_ROWS, len(chunk))))
        at += len(chunk)
    if at != n or not bounds:
        bounds = [(s, min(s + BLOCK_ROWS, n)) for s in range(0, n, BLOCK_ROWS)] or [(0, 0)]
    return bounds


_BLOCK_COLUMNS = (
    *REQUIRED_FIELDS, "ZRFLXDH", "ZCFLXDH", "YDHH", "YSHH", "GSJGBM", "GSJGMC", "YQHH", "RQJGBM", "RQJGMC", "YNHH", "GRJGBM", "GRJGMC",
    *(f"{side}_{part}" for side in ("ZRF", "ZCF") for part in ("NAMES", "TYPES", "IDS", "PHONES")),
)


def _literal(text: str) -> str:
    """`text` as an RE2 pattern that matches it literally (metacharacters escaped, nothing else)."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", text)


class _Lookups:
    """What the rules look values up in, as arrays: ID types, place names, area codes, registry."""

    def __init__(self, ctx: Context) -> None:
        self.area_codes = list(ctx.area_code_digits)
        # Local-number length per Shandong area code; -1 (any length the pattern allows) elsewhere.
        self.area_digits = np.array([ctx.area_code_digits[c] for c in self.area_codes] + [-1])
        # The same for the area codes `0[3-9]XX`, indexed by their last three digits.
        self.landline_digits = np.full(1000, -1, dtype=np.int64)
        for code, digits in ctx.area_code_digits.items():
            if len(code) == 4 and code.isdigit() and code[0] == "0" and code[1] in "3456789":
                self.landline_digits[int(code[1:])] = digits
        # An address naming a longer name also names any shorter one inside it: keep the shorter.
        self.place_pattern = {
            code: "|".join(_literal(n) for n in names if not any(o != n and o in n for o in names))
            for code, names in ctx.place_names.items() if names
        }
        self.institutions: dict[str, tuple[list[str], np.ndarray, list[str]]] = {}
        for utility in UTILITIES:
            pairs = sorted((code, name) for (u, code), name in ctx.institutions.items() if u == utility)
            names = sorted({name for _, name in pairs})
            index = {name: i for i, name in enumerate(names)}
            self.institutions[utility] = ([c for c, _ in pairs], np.array([index[nm] for _, nm in pairs] + [-1], dtype=np.int64), names)


def _valid(arr: pa.Array) -> np.ndarray:
    if not arr.null_count:
        return np.ones(len(arr), dtype=bool)
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def _index_in(arr: pa.Array, values: list[str]) -> np.ndarray:
    """Position of each value in `values`, -1 where absent or null."""
    if not values:
        return np.full(len(arr), -1, dtype=np.int64)
    found = pc.index_in(arr, value_set=pa.array(values, arr.type))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _distinct(sorted_rows: np.ndarray) -> np.ndarray:
    """Distinct values of an ascending array (np.unique without the sort)."""
    if len(sorted_rows) < 2:
        return sorted_rows
    return sorted_rows[np.concatenate([[True], sorted_rows[1:] != sorted_rows[:-1]])]


def _required(b: _Block, f: _Failures) -> None:
    for field in REQUIRED_FIELDS:
        f.add(np.flatnonzero(b.null(field)), "REQUIRED", field)


def _rowguid(records: pd.DataFrame, ctx: Context, f: _Failures) -> None:
    """A second new record under a ROWGUID (earlier in this run, or taken in an earlier run)."""
    guid = _arrow(records["ROWGUID"]).combine_chunks()
    n = len(guid)
    new = pc.fill_null(pc.equal(_arrow(records["OP"]), "I"), False).to_numpy(zero_copy_only=False) if "OP" in records else np.ones(n, dtype=bool)
    present = new & _valid(guid)
    dup = np.zeros(n, dtype=bool)
    if present.any():
        dup[present] = _seen_before(guid if present.all() else guid.filter(pa.array(present)))
    if ctx.known_rowguids:
        dup |= present & pc.fill_null(pc.is_in(guid, value_set=pa.array(list(ctx.known_rowguids), guid.type)), False).to_numpy(zero_copy_only=False)
    f.add(np.flatnonzero(dup), "ROWGUID_DUPLICATE", "ROWGUID", with_value=True)
    # Longer than the ledger holds (a normalised value may grow: NFKC of a ligature): quarantined
    # by name here, never refused by the database when the verdict is saved.
    long = pc.fill_null(pc.greater(pc.utf8_length(guid), ROWGUID_MAX), False).to_numpy(zero_copy_only=False)
    f.add(np.flatnonzero(long), "ROWGUID_LENGTH", "ROWGUID", with_value=True)


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _seen_before(values: pa.Array) -> np.ndarray:
    """Per value (none null): does the same value come earlier in the array?"""
    lengths = utf8.byte_lengths(values)
    width = int(lengths[0]) if len(values) else 0
    if not 8 <= width <= 64 or (lengths != width).any():
        # Dictionary codes are handed out in order of first appearance: a code no higher
        # than the highest one before it has been seen already.
        codes = values.dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
        return codes <= np.concatenate([[-1], np.maximum.accumulate(codes)[:-1]])
    # Values of one width (UUIDs): a 64-bit hash of each, read as overlapping 8-byte words;
    # only values whose hash repeats are compared, exactly, in order.
    matrix = utf8.fixed_width_matrix(values, width)
    n = len(values)
    h = np.zeros(n, dtype=np.uint64)
    for at in sorted({*range(0, width - 7, 8), width - 8}):
        h ^= np.ndarray(shape=(n,), dtype="<u8", buffer=matrix, offset=at, strides=(width,))
        h *= _MIX
        h ^= h >> np.uint64(29)
    ordered = np.sort(h)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    seen = np.zeros(n, dtype=bool)
    if len(repeated):
        # A table on the hashes' low bits rules out nearly every value before the exact look-up.
        low = np.zeros(1 << 20, dtype=bool)
        low[(repeated & np.uint64((1 << 20) - 1)).astype(np.int64)] = True
        candidates = low[(h & np.uint64((1 << 20) - 1)).astype(np.int64)]
        maybe = np.flatnonzero(candidates)
        candidates[maybe] = repeated[np.minimum(np.searchsorted(repeated, h[maybe]), len(repeated) - 1)] == h[maybe]
        earlier: set[bytes] = set()
        for i in np.flatnonzero(candidates):
            key = matrix[i].tobytes()
            seen[i] = key in earlier
            earlier.add(key)
    return seen


# --- owners: ID numbers and phones ----------------------------------------------------------


def _list_lengths(lists: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _starts(lengths: np.ndarray) -> np.ndarray:
    return np.cumsum(lengths) - lengths


def _match(values: pa.Array, pattern: str) -> np.ndarray:
    """Where a whole value matches `pattern` (nulls never do)."""
    return pc.fill_null(pc.match_substring_regex(values, f"^(?:{pattern})$"), False).to_numpy(zero_copy_only=False)


def _match_where(values: pa.Array, where: np.ndarray, pattern: str) -> np.ndarray:
    """`_match` computed only at the positions of the boolean mask `where` (False elsewhere)."""
    out = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(where)
    if len(idx):
        out[idx] = _match(values.take(pa.array(idx)), pattern)
    return out


def _fixed(values: pa.Array, lengths: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, byte matrix) of the values exactly `width` bytes long."""
    idx = np.flatnonzero(lengths == width)
    if not len(idx):
        return idx, np.zeros((0, width), dtype=np.uint8)
    return idx, utf8.fixed_width_matrix(values.take(pa.array(idx)), width)


def _type_flags(dictionary: list[str]) -> dict[str, np.ndarray]:
    """Per ID type code (and a last entry for "no type"): which kind of ID it is."""

    def flag(codes) -> np.ndarray:
        return np.array([d in codes for d in dictionary] + [False])

    return {
        "known": flag(ID_TYPES), "resident": flag(RESIDENT_ID_TYPES), "permit": flag(("2",)), "passport": flag(("3",)),
        "company": flag(("6", "7", "8")), "org": flag(("6",)), "licence": flag(("7",)),
        "id_card": flag(("1",)), "other": flag(("99",)),
    }


_PROVINCE = np.zeros(100, dtype=bool)
_PROVINCE[[int(p) for p in PROVINCE_PREFIXES]] = True


def _province_ok(m: np.ndarray) -> np.ndarray:
    """Per 18-byte ID: a province code in front, or '9' + a province code (2023 permanent residence card)."""
    first = (m[:, 0].astype(np.int64) - 48) * 10 + m[:, 1] - 48
    after_nine = (m[:, 1].astype(np.int64) - 48) * 10 + m[:, 2] - 48
    return np.where(m[:, 0] == ord("9"), _PROVINCE[np.clip(after_nine, 0, 99)], _PROVINCE[np.clip(first, 0, 99)])
_USCC_ALLOWED = np.zeros(256, dtype=bool)
_USCC_ALLOWED[np.frombuffer(USCC_CHARSET.encode("ascii"), dtype=np.uint8)] = True


class _IdShapes:
    """Shapes of ID numbers read from their bytes, where a regular expression is not needed:
    `\\d{17}[\\dX]` (resident ID), `[0-9A-HJ-NPQRTUWXY]{18}` (USCC), `\\d{15}`."""

    def __init__(self, numbers: pa.Array, lengths: np.ndarray) -> None:
        self._at18, self._m18 = _fixed(numbers, lengths, 18)
        self.eighteen, self.fifteen = (np.zeros(len(numbers), dtype=bool) for _ in range(2))
        last = self._m18[:, 17]
        self.eighteen[self._at18] = utf8.rows_digits(self._m18, 0, 17) & (((last - np.uint8(48)) <= 9) | (last == ord("X")))
        at15, m15 = _fixed(numbers, lengths, 15)
        self.fifteen[at15] = utf8.rows_digits(m15, 0, 15)
        self._row18 = np.full(len(numbers), -1, dtype=np.int64)
        self._row18[self._at18] = np.arange(len(self._at18))

    def uscc(self, where: np.ndarray) -> np.ndarray:
        """USCC shape, computed at the positions of the boolean mask `where` only (False elsewhere)."""
        out = np.zeros(len(where), dtype=bool)
        idx = np.flatnonzero(where & (self._row18 >= 0))
        out[idx] = utf8.rows_all(_USCC_ALLOWED[self.bytes18(idx)])
        return out

    def over18(self, check: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """`check` over the (k, 18) bytes of every 18-byte number, spread to all numbers (False elsewhere)."""
        out = np.zeros(len(self.eighteen), dtype=bool)
        out[self._at18] = check(self._m18)
        return out

    def bytes18(self, idx: np.ndarray) -> np.ndarray:
        """(len(idx), 18) bytes of the 18-byte numbers at positions idx."""
        return self._m18[self._row18[idx]]


def _birth_date_bad(matrix: np.ndarray, as_of: datetime) -> np.ndarray:
    """Per resident ID (n, 18 bytes): the birth date is not a real date, before 1880, or after `as_of`."""
    ymd = utf8.decimal(matrix, 6, 14)
    # Born at midnight: later than as_of exactly when the date is after as_of's date.
    today = pd.Timestamp(as_of)
    return ~dates.real_yyyymmdd(ymd) | (ymd < 18800101) | (ymd > today.year * 10000 + today.month * 100 + today.day)


def _parties(b: _Block, prefix: str, ctx: Context, lookups: _Lookups, f: _Failures) -> None:
    id_field, type_field, phone_field = f"{prefix}ZJHM", f"{prefix}ZJZL", f"{prefix}LXDH"
    id_lists, type_lists = b.arr(f"{prefix}_IDS"), b.arr(f"{prefix}_TYPES")
    names, types, ids, phones = (_list_lengths(b.arr(f"{prefix}_{k}")) for k in ("NAMES", "TYPES", "IDS", "PHONES"))
    present = (names > 0) & (ids > 0)
    # One ID type or one phone for several owners is common and unambiguous, and so are several
    # phones for one owner ("13812345678/0531-88557856"); other mismatches are not. The failure names
    # the list that disagrees: the ID numbers against the names, else the types, else the phones.
    names_ids = present & (names != ids)
    types_off = present & ~names_ids & (types != ids) & (types != 1) & (types > 0)
    phones_off = present & ~names_ids & ~types_off & (phones != ids) & (phones != 1) & (phones > 0) & ~((ids == 1) & (phones > 1))
    f.add(np.flatnonzero(names_ids), "OWNER_COUNT", id_field)
    f.add(np.flatnonzero(types_off), "OWNER_COUNT", type_field)
    f.add(np.flatnonzero(phones_off), "OWNER_COUNT", phone_field)

    numbers = pc.list_flatten(id_lists)
    parents = np.repeat(np.arange(b.n), ids)
    pos = np.arange(len(numbers)) - np.repeat(_starts(ids), ids)
    # The ID type of each number: the one at the same position, or else the record's first one
    # (as a code into the types' dictionary; -1 for none).
    encoded = pc.list_flatten(type_lists).dictionary_encode()
    t_codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    t_starts = _starts(types)
    first = np.full(b.n, -1, dtype=np.int64)
    first[types > 0] = t_codes[t_starts[types > 0]]
    same_pos = pos < types[parents]
    code = first[parents]
    code[same_pos] = t_codes[t_starts[parents[same_pos]] + pos[same_pos]]
    kind = {k: v[code] for k, v in _type_flags(encoded.dictionary.to_pylist()).items()}

    lengths = utf8.byte_lengths(numbers)
    empty = lengths == 0
    if numbers.null_count:
        empty |= pc.is_null(numbers).to_numpy(zero_copy_only=False)
    f.add(_distinct(parents[empty & ~b.null(id_field)[parents]]), "REQUIRED", id_field)
    f.add(_distinct(parents[~kind["known"] & (code >= 0)]), "ID_TYPE_UNKNOWN", type_field, with_value=True)

    shapes = _IdShapes(numbers, lengths)
    eighteen, fifteen = shapes.eighteen, shapes.fifteen

    resident, permit = kind["resident"] & ~empty, kind["permit"] & ~empty
    passport, company = kind["passport"] & ~empty, kind["company"] & ~empty
    uscc_shape = shapes.uscc(company)  # only companies' numbers are read as USCC
    hk_macao_tw = _match_where(numbers, permit & ~eighteen, PERMIT_PATTERN)
    # The 2004 foreigners' permanent residence card (3 letters + 12 digits) under 身份证, 港澳台 or 其它.
    old_pr = _match_where(numbers, (kind["id_card"] | permit | kind["other"]) & ~empty & ~eighteen & ~fifteen, OLD_PR_PATTERN)
    shape_bad = (resident & ~eighteen & ~fifteen & ~old_pr) | (permit & ~eighteen & ~hk_macao_tw & ~old_pr)
    shape_bad |= passport & ~_match_where(numbers, passport, PASSPORT_PATTERN)
    org_code = _match_where(numbers, company & kind["org"] & ~uscc_shape, r"[0-9A-Z]{8}-?[0-9X]")
    shape_bad |= company & ~uscc_shape & ~org_code & ~(kind["licence"] & fifteen)
    f.add(_distinct(parents[shape_bad]), "ID_FORMAT", id_field, with_value=True)

    # Resident IDs (and 18-digit residence permits): check character, birth date, province.
    # (Computed over every 18-byte number at once, which is cheaper than gathering the chosen
    # ones; only the chosen ones' results are used.)
    # A 2023 permanent residence card ('9' + 17) is recognisable whatever type it is filed
    # under: under 其它 (99) it is checked too.
    pr_2023 = shapes.over18(lambda m: m[:, 0] == ord("9"))
    chosen = (resident | permit | (kind["other"] & pr_2023 & ~empty)) & eighteen
    f.add(_distinct(parents[chosen & ~shapes.over18(id_check_ok)]), "ID_CHECKSUM", id_field, with_value=True)
    f.add(_distinct(parents[chosen & shapes.over18(lambda m: _birth_date_bad(m, ctx.as_of))]), "ID_BIRTH_DATE", id_field, with_value=True)
    province = shapes.over18(_province_ok)
    f.add(_distinct(parents[chosen & ~province]), "ID_PROVINCE", id_field, with_value=True)
    f.add(_distinct(parents[resident & fifteen]), "ID_LEGACY_15", id_field, with_value=True)

    # 港澳台 documents whose shape has a published check character (HK identity card, Taiwan ID).
    at = np.flatnonzero(hk_macao_tw)
    wrong = np.array([not permit_check_ok(v) for v in numbers.take(pa.array(at)).to_pylist()], dtype=bool) if len(at) else np.zeros(0, dtype=bool)
    f.add(_distinct(parents[at[wrong]]), "ID_CHECKSUM", id_field, with_value=True)

    # Organisation codes (type 6, 9 characters): the GB 11714 check character.
    org_at = np.flatnonzero(org_code)
    if len(org_at):
        org_bad = np.array([not org_code_ok(v) for v in numbers.take(pa.array(org_at)).to_pylist()], dtype=bool)
        f.add(_distinct(parents[org_at[org_bad]]), "ORG_CODE_CHECKSUM", id_field, with_value=True)
    else:
        f.add(org_at, "ORG_CODE_CHECKSUM", id_field, with_value=True)

    # Names: each owner's name neither digits only nor holding a control character.
    name_values = pc.list_flatten(b.arr(f"{prefix}_NAMES"))
    n_parents = np.repeat(np.arange(b.n), names)
    name_bad = _match(name_values, NAME_BAD_PATTERN)
    f.add(_distinct(n_parents[name_bad]), "NAME_FORMAT", f"{prefix}XM", with_value=True)

    # Companies: the USCC check character (type 8, or 6/7 given as an 18-char code).
    idx = np.flatnonzero(company & uscc_shape)
    f.add(_distinct(parents[idx[~uscc_check_ok(shapes.bytes18(idx))]]), "USCC_CHECKSUM", id_field, with_value=True)

    # Phones: every listed phone must be a mobile or a landline (Shandong local lengths).
    phone_values = pc.list_flatten(b.arr(f"{prefix}_PHONES"))
    p_parents = np.repeat(np.arange(b.n), phones)
    rows = _distinct(p_parents[~_phone_ok(phone_values, lookups)])
    if prefix == "ZCF":  # the seller's phone is optional; when given it must be right
        rows = rows[~b.null(phone_field)[rows]]
    f.add(rows, "PHONE", phone_field, with_value=True)


def _phone_ok(phones: pa.Array, lookups: _Lookups) -> np.ndarray:
    """Mobile or landline (`_phone_ok_by_pattern`). The usual shapes are read from the bytes —
    an 11-digit mobile `1[3-9]…`, a landline `0AAA-NNNNNNN(N)` or `0AAANNNNNNN(N)` with a
    four-digit area code — and every other phone goes through the patterns."""
    lengths = utf8.byte_lengths(phones)
    ok = np.zeros(len(phones), dtype=bool)
    decided = np.zeros(len(phones), dtype=bool)
    for width in (11, 12, 13):
        at, m = _fixed(phones, lengths, width)
        if not len(at):
            continue
        if width == 11:
            mobile = (m[:, 0] == ord("1")) & ((m[:, 1] - np.uint8(ord("3"))) <= 6) & utf8.rows_digits(m, 2, 11)
            decided[at[mobile]] = ok[at[mobile]] = True
        # For a `0[3-9]` area code the pattern's only reading is: four-digit area, optional
        # dash, local number (its length checked against the Shandong area codes).
        long_area = (m[:, 0] == ord("0")) & ((m[:, 1] - np.uint8(ord("3"))) <= 6) & utf8.rows_digits(m, 2, 4)
        area = (m[:, 1].astype(np.int64) - 48) * 100 + (m[:, 2].astype(np.int64) - 48) * 10 + m[:, 3] - 48
        need = lookups.landline_digits[np.where(long_area, area, 0)]
        forms = []
        if width in (11, 12):
            forms.append((long_area & utf8.rows_digits(m, 4, width), width - 4))
        if width in (12, 13):
            forms.append((long_area & (m[:, 4] == ord("-")) & utf8.rows_digits(m, 5, width), width - 5))
        for form, local in forms:
            decided[at[form]] = True
            ok[at[form]] = ((need == -1) | (need == local))[form]
    rest = np.flatnonzero(~decided)
    if len(rest):
        ok[rest] = _phone_ok_by_pattern(phones.take(pa.array(rest)), lookups)
    return ok


def _phone_ok_by_pattern(phones: pa.Array, lookups: _Lookups) -> np.ndarray:
    """The general path: each phone as written (dashes, brackets, +86, extensions) rewritten to
    its canonical form (transforms/normalize.PHONE_REWRITES), then matched: mobile, landline
    (local length per Shandong area code), or service number (400/800/95/96)."""
    phones = canonical_phones(phones)
    mobile = _match(phones, MOBILE_PATTERN.strip("^$")) | _match(phones, SERVICE_PATTERN.strip("^$"))
    parts = pc.extract_regex(phones, LANDLINE_PATTERN)
    short = pc.struct_field(parts, [0])
    area = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(short), 0), False), short, pc.struct_field(parts, [1]))
    local_len = pc.fill_null(pc.utf8_length(pc.struct_field(parts, [2])), 0).to_numpy(zero_copy_only=False)
    is_landline = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    need = lookups.area_digits[_index_in(area, lookups.area_codes)]
    length_ok = (need == -1) | (local_len == need)
    return mobile | (is_landline & length_ok)


# --- place, area, certificate, recorded time -----------------------------------------------


def _place(b: _Block, ctx: Context, lookups: _Lookups, f: _Failures) -> None:
    encoded = b.arr("XZQH").dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    dictionary = encoded.dictionary.to_pylist()
    # A retired code has its own rule (XZQH_RETIRED, transforms/cohandling/crossfield.py) naming the successor.
    county = np.array([c in ctx.counties or c in (ctx.retired or {}) for c in dictionary] + [False])[codes]
    zone = np.array([c in ctx.functional_zones for c in dictionary] + [False])[codes]
    f.add(np.flatnonzero((codes >= 0) & ~county & ~zone), "XZQH_COUNTY", "XZQH", with_value=True)
    f.add(np.flatnonzero(zone), "XZQH_ZONE", "XZQH", with_value=True)

    # Address names its place: rows grouped by XZQH, one search per group for any of its names.
    patterns = [lookups.place_pattern.get(c) for c in dictionary] + [None]
    has_names = np.array([p is not None for p in patterns])
    rows = np.flatnonzero(has_names[codes] & ~b.null("FWZL"))
    # Stable order by XZQH code; as 16-bit keys numpy sorts them by radix.
    keys = codes[rows].astype(np.int16 if len(dictionary) < 2**15 else np.int64)
    rows = rows[np.argsort(keys, kind="stable")]
    address = b.arr("FWZL").take(pa.array(rows))
    group_codes = codes[rows]
    starts = np.flatnonzero(np.diff(group_codes, prepend=-2))
    named = np.zeros(len(rows), dtype=bool)
    for lo, hi in zip(starts, np.append(starts[1:], len(rows))):
        matched = pc.match_substring_regex(address.slice(lo, hi - lo), patterns[group_codes[lo]])
        named[lo:hi] = matched.to_numpy(zero_copy_only=False)
    f.add(np.sort(rows[~named]), "ADDRESS_PLACE", "FWZL", with_value=True)


def _area(b: _Block, dense: dict[str, np.ndarray], f: _Failures) -> None:
    value, decimals = dense["FWJZMJ_NUM"], dense["FWJZMJ_DECIMALS"]
    present = ~b.null("FWJZMJ")
    f.add(np.flatnonzero(present & (np.isnan(value) | (decimals > 2))), "AREA_FORMAT", "FWJZMJ")
    f.add(np.flatnonzero(~np.isnan(value) & (value <= 0)), "AREA_POSITIVE", "FWJZMJ")
    f.add(np.flatnonzero(~np.isnan(value) & (value > 10000)), "AREA_LARGE", "FWJZMJ")


_CERT = re.compile(CERT_PATTERN)
_CERT_UNBOUNDED = CERT_PATTERN.replace("[^()]{1,30}?", "[^()]+")
assert _CERT_UNBOUNDED != CERT_PATTERN


def _cert_ok(cert: pa.Array) -> np.ndarray:
    """Per value: does it match CERT_PATTERN (as Python's re.fullmatch; null: no)?

    CERT_PATTERN is Python `re` (its \\d is any Unicode digit). On plain text (ASCII and
    common CJK, transforms/common/utf8.py) RE2 reads it the same way; other values get `re` itself.
    """
    # Around the place name the pattern needs at least 18 characters, so in a value of at most
    # 48 the place name has at most 30 and its bound cannot fail: RE2 is twice as fast without it.
    ok = pc.fill_null(pc.match_substring_regex(cert, _CERT_UNBOUNDED), False).to_numpy(zero_copy_only=False)
    long = np.flatnonzero(pc.fill_null(pc.greater(pc.utf8_length(cert), 48), False).to_numpy(zero_copy_only=False))
    if len(long):
        ok[long] = _match(cert.take(pa.array(long)), CERT_PATTERN)
    other = np.flatnonzero(utf8.rows_with(cert, utf8.not_plain) & _valid(cert))
    if len(other):
        ok[other] = [_CERT.fullmatch(v) is not None for v in cert.take(pa.array(other)).to_pylist()]
    return ok


def _certificate(b: _Block, f: _Failures) -> None:
    cert = b.arr("BDCQZH")
    legacy = pc.fill_null(pc.match_substring_regex(cert, LEGACY_CERT_PATTERN), False).to_numpy(zero_copy_only=False)
    ok = _cert_ok(cert)
    present = _valid(cert)
    f.add(np.flatnonzero(present & ~ok & ~legacy), "CERT_FORMAT", "BDCQZH")
    f.add(np.flatnonzero(legacy), "CERT_LEGACY", "BDCQZH")


def _dbsj(b: _Block, ts: np.ndarray, ctx: Context, f: _Failures) -> None:
    present = ~b.null("DBSJ")
    parsed = ~np.isnat(ts)
    f.add(np.flatnonzero(present & ~parsed), "DBSJ_FORMAT", "DBSJ")
    f.add(np.flatnonzero(parsed & (ts > pd.Timestamp(ctx.as_of).to_datetime64())), "DBSJ_FUTURE", "DBSJ")
    f.add(np.flatnonzero(parsed & (ts < np.datetime64("1990-01-01"))), "DBSJ_OLD", "DBSJ")


def _cross(b: _Block, ts: np.ndarray, ctx: Context, f: _Failures) -> None:
    """Cross-field checks (transforms/cohandling/crossfield.py), in one fixed order in every block."""
    ids = {side: b.arr(f"{side}_IDS") for side in ("ZRF", "ZCF")}
    types = {side: b.arr(f"{side}_TYPES") for side in ("ZRF", "ZCF")}
    for rule, field, rows in crossfield.owners(ids, types, ts, ctx.as_of):
        f.add(rows, rule, field, with_value=True)
    xzqh = b.arr("XZQH")
    for rule, field, rows in crossfield.certificate(b.arr("BDCQZH"), ts, xzqh, ctx.place_names):
        f.add(rows, rule, field, with_value=True)
    f.add(crossfield.retired_county(xzqh, ctx.retired or {}), "XZQH_RETIRED", "XZQH", with_value=True)
    for utility, (_, code, _) in UTILITIES.items():
        if code is None:
            continue
        rows = crossfield.institution_county(b.arr(code), xzqh, (ctx.institution_counties or {}).get(utility, {}), ctx.counties)
        f.add(rows, "INSTITUTION_COUNTY", code, utility=utility, with_value=True)


# --- utilities and the outcome ------------------------------------------------------------


def _utilities(b: _Block, lookups: _Lookups, f: _Failures) -> dict[str, np.ndarray]:
    """Checks per utility; returns which utilities each record requests."""
    requested: dict[str, np.ndarray] = {}
    for utility, (account, code, name) in UTILITIES.items():
        has_account = ~b.null(account)
        if code is None:
            requested[utility] = has_account
            continue
        has_code = ~b.null(code)
        has_name = ~b.null(name)
        requested[utility] = has_account | has_code | has_name
        incomplete = requested[utility] & ~(has_account & has_code & has_name)
        rows = np.flatnonzero(incomplete)
        missing_field = np.where(~has_code[rows], code, np.where(~has_name[rows], name, account))
        f.add(rows, "ACCOUNT_INSTITUTION", missing_field.astype(object), utility=utility)
        codes, registered_name, names = lookups.institutions[utility]
        code_at = _index_in(b.arr(code), codes)
        unknown = has_code & (code_at < 0)
        f.add(np.flatnonzero(unknown), "INSTITUTION_UNKNOWN", code, utility=utility, with_value=True)
        # Names compared as positions in the registry's list of names (-1: not a registered name).
        mismatch = has_code & has_name & ~unknown & (registered_name[code_at] != _index_in(b.arr(name), names))
        f.add(np.flatnonzero(mismatch), "INSTITUTION_NAME", name, utility=utility, with_value=True)
    none = ~np.logical_or.reduce(list(requested.values()))
    f.add(np.flatnonzero(none), "UTILITY_NONE", "YDHH")
    return requested


def _outcome(n: int, parts: list[_Part], requested: dict[str, np.ndarray]) -> pd.DataFrame:
    record_error = np.zeros(n, dtype=bool)
    blocked = {u: np.zeros(n, dtype=bool) for u in requested}
    for p in parts:
        rule = RULES[p.rule]
        if rule.severity != "error":
            continue
        if rule.scope == "record":
            record_error[p.rows] = True
        elif p.utility in blocked:
            blocked[p.utility][p.rows] = True
    blocked_by = {u: (blocked[u] | record_error) & requested[u] for u in requested}
    clear_any = np.logical_or.reduce([requested[u] & ~blocked_by[u] for u in requested])
    blocked_any = np.logical_or.reduce(list(blocked_by.values()))
    # A record asking for no utility has nothing clear: quarantined (UTILITY_NONE says why).
    status = np.where(record_error | ~clear_any, 2, np.where(blocked_any, 1, 0))
    if n == 0:  # the column types pandas gives empty results
        empty = np.zeros(0, dtype=object)
        return pd.DataFrame({"status": np.zeros(0, dtype="<U11"), "requested": empty, "blocked": empty})

    def joined(masks: dict[str, np.ndarray]) -> pa.Array:
        # Every combination of utilities, comma-joined in UTILITIES order, picked by bit pattern.
        names = list(masks)
        table = [",".join(u for i, u in enumerate(names) if bits >> i & 1) for bits in range(1 << len(names))]
        bits = np.zeros(n, dtype=np.int64)
        for i, u in enumerate(names):
            bits |= masks[u].astype(np.int64) << i
        return pa.array(table, pa.large_string()).take(pa.array(bits))

    # Built as Arrow strings: pandas keeps its `str` columns that way, so nothing is converted.
    columns = {"status": pa.array(["passed", "partial", "quarantined"], pa.large_string()).take(pa.array(status)), "requested": joined(requested), "blocked": joined(blocked_by)}
    return pa.table(columns).to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow", na_value=np.nan) if t == pa.large_string() else None)


def message(rule_id: str, field: str) -> tuple[str, str]:
    """(Chinese, English) text a person can act on: which field, what is wrong with it."""
    rule = RULES[rule_id]
    label = LABELS.get(field, field) if field else ""
    where_zh = f"{label}（{field}）：" if field else ""
    where_en = f"{field}: " if field else ""
    return where_zh + rule.zh, where_en + rule.en
