"""Every Annex 1 rule (DOMAIN.md §2–4), vectorised over normalised records.

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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.annex1 import ID_TYPES, LABELS, UTILITIES
from transforms.checks import id_check_ok, uscc_check_ok


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning
    scope: str  # record | utility
    zh: str
    en: str


_RULES = [
    Rule("REQUIRED", "error", "record", "必填项为空", "required field is empty"),
    Rule("ROWGUID_DUPLICATE", "error", "record", "标识码重复：同一标识码已有新增记录", "ROWGUID already used by another new record"),
    Rule("ID_TYPE_UNKNOWN", "warning", "record", "证件种类代码不在代码表中", "ID type code not in the code table"),
    Rule("ID_FORMAT", "error", "record", "证件号码与证件种类不符", "ID number does not have the shape of its ID type"),
    Rule("ID_CHECKSUM", "error", "record", "身份证号码校验位错误（GB 11643 MOD 11-2）", "resident ID check character is wrong (GB 11643, MOD 11-2)"),
    Rule("ID_BIRTH_DATE", "error", "record", "身份证号码中的出生日期不存在或晚于当前日期", "birth date in the resident ID is not a real date or is in the future"),
    Rule("ID_PROVINCE", "error", "record", "身份证号码前两位不是省级行政区划代码", "resident ID does not start with a province code"),
    Rule("ID_LEGACY_15", "warning", "record", "15位旧身份证号码", "15-digit legacy resident ID"),
    Rule("USCC_CHECKSUM", "error", "record", "统一社会信用代码校验位错误（GB 32100）", "unified social credit code check character is wrong (GB 32100)"),
    Rule("PHONE", "error", "record", "联系电话不是有效的手机号码或固定电话", "phone is neither a valid mobile nor a valid landline number"),
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


def build_context(*, divisions, area_codes: dict[str, dict], registry: pd.DataFrame, as_of: datetime, known_rowguids: Iterable[str] = ()) -> Context:
    """A Context from reference data (gateway.reference) and a registry frame (utility, code, name)."""
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
    return Context(counties, zones, places, digits, institutions, as_of, frozenset(known_rowguids))


def normalise_name(name: str) -> str:
    """Institution names compared as the normaliser leaves them: NFKC brackets, single spaces."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", name).split())


# --- evaluation --------------------------------------------------------------------------


class _Failures:
    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, rows: np.ndarray, rule: str, field: str | np.ndarray, values, utility: str = "") -> None:
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        if values is None or np.isscalar(values):
            values = np.full(len(rows), values, dtype=object)
        self.parts.append(pd.DataFrame({"row": rows, "rule_id": rule, "field": field, "utility": utility, "value": values}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            empty = pd.Series([], dtype=object)
            return pd.DataFrame({"row": pd.Series([], dtype=np.int64), **{c: empty for c in ("rule_id", "field", "utility", "value", "severity", "scope")}})
        out = pd.concat(self.parts, ignore_index=True)
        rules = out["rule_id"].map(RULES)
        out["severity"] = rules.map(lambda r: r.severity)
        out["scope"] = rules.map(lambda r: r.scope)
        return out


def evaluate(records: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All rules over normalised records (positional rows, in change order).

    Returns (failures, outcome): failures has one row per (record row, rule, field,
    utility) with the original value; outcome has per record row `status`
    (passed / partial / quarantined), `requested` and `blocked` utilities (comma-joined).
    """
    f = _Failures()
    n = len(records)
    _required(records, f)
    _rowguid(records, ctx, f)
    for prefix in ("ZRF", "ZCF"):
        _parties(records, prefix, ctx, f)
    _place(records, ctx, f)
    _area(records, f)
    _certificate(records, f)
    _dbsj(records, ctx, f)
    requested = _utilities(records, ctx, f)
    failures = f.frame()
    outcome = _outcome(n, failures, requested)
    # The value a person sees is the one the platform sent, not the normalised one.
    if len(failures):
        values = failures["value"].to_numpy(dtype=object).copy()
        for field, group in failures.groupby("field").groups.items():
            if f"{field}__orig" in records:
                rows = failures["row"].to_numpy()[np.asarray(group)]
                values[np.asarray(group)] = records[f"{field}__orig"].iloc[rows].to_numpy(dtype=object)
        failures["value"] = values
    return failures, outcome


def _null(values: pd.Series) -> np.ndarray:
    return values.isna().to_numpy()


def _required(records: pd.DataFrame, f: _Failures) -> None:
    for field in REQUIRED_FIELDS:
        rows = np.flatnonzero(_null(records[field]))
        f.add(rows, "REQUIRED", field, None)


def _rowguid(records: pd.DataFrame, ctx: Context, f: _Failures) -> None:
    guid = records["ROWGUID"]
    new = (records["OP"] == "I").to_numpy() if "OP" in records else np.ones(len(records), dtype=bool)
    present = new & guid.notna().to_numpy()
    dup = np.zeros(len(records), dtype=bool)
    dup[present] = guid[present].duplicated(keep="first").to_numpy()
    if ctx.known_rowguids:
        dup |= present & guid.isin(ctx.known_rowguids).to_numpy()
    rows = np.flatnonzero(dup)
    f.add(rows, "ROWGUID_DUPLICATE", "ROWGUID", guid.to_numpy(dtype=object)[rows])


def _arrow(column: pd.Series) -> pa.Array:
    """The Arrow array behind a pyarrow-backed pandas column (no copy), or one made from its values."""
    backing = getattr(column.array, "_pa_array", None)
    if backing is not None:
        return backing.combine_chunks()
    return pa.array(column.to_numpy(dtype=object), type=pa.string())


def _explode(column: pd.Series) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(parent row, position in its list, value) of a list column; null lists give nothing."""
    arr = _arrow(column)
    parents = pc.list_parent_indices(arr).to_numpy()
    values = pc.list_flatten(arr)
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy()
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return parents, np.arange(len(values)) - starts, values


def _lengths(column: pd.Series) -> np.ndarray:
    return pc.fill_null(pc.list_value_length(_arrow(column)), 0).to_numpy()


def _match(values: pa.Array, pattern: str) -> np.ndarray:
    """Where a whole value matches `pattern` (nulls never do)."""
    return pc.fill_null(pc.match_substring_regex(values, f"^(?:{pattern})$"), False).to_numpy(zero_copy_only=False)


def _isin(values: pa.Array, allowed) -> np.ndarray:
    return pc.fill_null(pc.is_in(values, value_set=pa.array(list(allowed), pa.string())), False).to_numpy(zero_copy_only=False)


def _parties(records: pd.DataFrame, prefix: str, ctx: Context, f: _Failures) -> None:
    id_field, type_field, phone_field = f"{prefix}ZJHM", f"{prefix}ZJZL", f"{prefix}LXDH"
    names, types, ids, phones = (_lengths(records[f"{prefix}_{k}"]) for k in ("NAMES", "TYPES", "IDS", "PHONES"))
    present = (names > 0) & (ids > 0)
    # One ID type or one phone for several owners is common and unambiguous; other mismatches are not.
    bad = present & ((names != ids) | ((types != ids) & (types != 1) & (types > 0)) | ((phones != ids) & (phones != 1) & (phones > 0)))
    f.add(np.flatnonzero(bad), "OWNER_COUNT", id_field, None)

    parents, pos, numbers = _explode(records[f"{prefix}_IDS"])
    _, _, t_values = _explode(records[f"{prefix}_TYPES"])
    # The ID type of each number: the one at the same position, or else the record's first one.
    type_lists = _arrow(records[f"{prefix}_TYPES"])
    first = pc.list_element(pc.if_else(pc.greater(pc.fill_null(pc.list_value_length(type_lists), 0), 0), type_lists, pa.scalar(None, type_lists.type)), 0)
    t_offsets = np.concatenate([[0], np.cumsum(types)])
    same_pos = pos < types[parents]
    take = np.where(same_pos, t_offsets[parents] + pos, 0)
    id_types = pc.if_else(pa.array(same_pos), pc.take(t_values, pa.array(take)) if len(t_values) else pa.nulls(len(take), pa.string()), pc.take(first, pa.array(parents)))

    def field_values(field: str, rows: np.ndarray) -> np.ndarray:
        return records[field].iloc[rows].to_numpy(dtype=object)

    empty = pc.fill_null(pc.equal(pc.utf8_length(numbers), 0), True).to_numpy(zero_copy_only=False)
    rows = np.unique(parents[empty & ~_null(records[id_field])[parents]])
    f.add(rows, "REQUIRED", id_field, None)
    known_type = _isin(id_types, ID_TYPES)
    given = pc.is_valid(id_types).to_numpy(zero_copy_only=False)
    rows = np.unique(parents[~known_type & given])
    f.add(rows, "ID_TYPE_UNKNOWN", type_field, field_values(type_field, rows))

    resident = _isin(id_types, RESIDENT_ID_TYPES) & ~empty
    permit_or_hk = _isin(id_types, ["2"]) & ~empty
    eighteen = _match(numbers, r"\d{17}[\dX]")
    fifteen = _match(numbers, r"\d{15}")
    hk_macao_tw = _match(numbers, r"[A-Z]{1,2}\d{6}\(?[\dA]\)?|[157]\d{6}\(?\d\)?|[A-Z][12]\d{8}")
    shape_bad = (resident & ~eighteen & ~fifteen) | (permit_or_hk & ~eighteen & ~hk_macao_tw)
    shape_bad |= _isin(id_types, ["3"]) & ~empty & ~_match(numbers, r"[A-Z0-9]{5,17}")
    company = _isin(id_types, ["6", "7", "8"]) & ~empty
    uscc_shape = _match(numbers, r"[0-9A-HJ-NPQRTUWXY]{18}")
    shape_bad |= company & ~uscc_shape & ~(_isin(id_types, ["6"]) & _match(numbers, r"[0-9A-Z]{8}-?[0-9X]")) & ~(_isin(id_types, ["7"]) & fifteen)
    rows = np.unique(parents[shape_bad])
    f.add(rows, "ID_FORMAT", id_field, field_values(id_field, rows))

    # Resident IDs (and 18-digit residence permits): check character, birth date, province.
    idx = np.flatnonzero((resident | permit_or_hk) & eighteen)
    if len(idx):
        chosen = pc.take(numbers, pa.array(idx))
        rows = np.unique(parents[idx[~id_check_ok(_arrow_ascii_matrix(chosen, 18))]])
        f.add(rows, "ID_CHECKSUM", id_field, field_values(id_field, rows))
        births = pd.to_datetime(pd.Series(pc.utf8_slice_codeunits(chosen, 6, 14).to_numpy(zero_copy_only=False)), format="%Y%m%d", errors="coerce")
        bad_birth = births.isna().to_numpy() | (births > pd.Timestamp(ctx.as_of)).to_numpy() | (births < pd.Timestamp("1880-01-01")).to_numpy()
        rows = np.unique(parents[idx[bad_birth]])
        f.add(rows, "ID_BIRTH_DATE", id_field, field_values(id_field, rows))
        province = _isin(pc.utf8_slice_codeunits(chosen, 0, 2), PROVINCE_PREFIXES)
        rows = np.unique(parents[idx[~province]])
        f.add(rows, "ID_PROVINCE", id_field, field_values(id_field, rows))
    rows = np.unique(parents[resident & fifteen])
    f.add(rows, "ID_LEGACY_15", id_field, field_values(id_field, rows))

    # Companies: the USCC check character (type 8, or 6/7 given as an 18-char code).
    idx = np.flatnonzero(company & uscc_shape)
    if len(idx):
        rows = np.unique(parents[idx[~uscc_check_ok(_arrow_ascii_matrix(pc.take(numbers, pa.array(idx)), 18))]])
        f.add(rows, "USCC_CHECKSUM", id_field, field_values(id_field, rows))

    # Phones: every listed phone must be a mobile or a landline (Shandong local lengths).
    p_parents, _, p_values = _explode(records[f"{prefix}_PHONES"])
    rows = np.unique(p_parents[~_phone_ok(p_values, ctx)])
    if prefix == "ZCF":  # the seller's phone is optional; when given it must be right
        rows = rows[~_null(records[phone_field])[rows]]
    f.add(rows, "PHONE", phone_field, field_values(phone_field, rows))


def _arrow_ascii_matrix(values: pa.Array, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of fixed-width ASCII strings (already checked by a pattern)."""
    data = values.cast(pa.large_string()) if not isinstance(values, pa.ChunkedArray) else values.combine_chunks().cast(pa.large_string())
    offsets = np.frombuffer(data.buffers()[1], dtype=np.int64)[data.offset : data.offset + len(data) + 1]
    buffer = np.frombuffer(data.buffers()[2], dtype=np.uint8)
    index = offsets[:-1, None] + np.arange(width)[None, :]
    return buffer[index]


def _phone_ok(phones: pa.Array, ctx: Context) -> np.ndarray:
    mobile = _match(phones, MOBILE_PATTERN.strip("^$"))
    parts = pc.extract_regex(phones, LANDLINE_PATTERN)
    short = pc.struct_field(parts, [0])
    area = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(short), 0), False), short, pc.struct_field(parts, [1]))
    local_len = pc.fill_null(pc.utf8_length(pc.struct_field(parts, [2])), 0).to_numpy(zero_copy_only=False)
    is_landline = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    codes = list(ctx.area_code_digits)
    # Local-number length per Shandong area code; -1 (any length the pattern allows) elsewhere.
    digits = np.array([ctx.area_code_digits[c] for c in codes] + [-1])
    need = digits[pc.fill_null(pc.index_in(area, value_set=pa.array(codes, pa.string())), len(codes)).to_numpy(zero_copy_only=False)]
    length_ok = (need == -1) | (local_len == need)
    return mobile | (is_landline & length_ok)


def _place(records: pd.DataFrame, ctx: Context, f: _Failures) -> None:
    xzqh = records["XZQH"]
    known_county = xzqh.isin(ctx.counties).to_numpy()
    zone = xzqh.isin(ctx.functional_zones).to_numpy()
    present = xzqh.notna().to_numpy()
    rows = np.flatnonzero(present & ~known_county & ~zone)
    f.add(rows, "XZQH_COUNTY", "XZQH", xzqh.to_numpy(dtype=object)[rows])
    rows = np.flatnonzero(zone)
    f.add(rows, "XZQH_ZONE", "XZQH", xzqh.to_numpy(dtype=object)[rows])
    address = records["FWZL"]
    misses = []
    for code, idx in pd.Series(np.arange(len(records))).groupby(xzqh.to_numpy(dtype=object)).groups.items():
        names = ctx.place_names.get(code)
        if not names:
            continue
        rows = np.asarray(idx)
        text = address.iloc[rows]
        named = np.zeros(len(rows), dtype=bool)
        for name in names:
            named |= text.str.contains(name, regex=False).fillna(False).to_numpy()
        misses.append(rows[~named & text.notna().to_numpy()])
    rows = np.sort(np.concatenate(misses)) if misses else np.array([], dtype=np.int64)
    f.add(rows, "ADDRESS_PLACE", "FWZL", address.to_numpy(dtype=object)[rows])


def _area(records: pd.DataFrame, f: _Failures) -> None:
    area = records["FWJZMJ"]
    value = records["FWJZMJ_NUM"].to_numpy(dtype=float, na_value=np.nan)
    decimals = records["FWJZMJ_DECIMALS"].to_numpy(dtype=float, na_value=np.nan)
    present = area.notna().to_numpy()
    bad_format = present & (np.isnan(value) | (decimals > 2))
    rows = np.flatnonzero(bad_format)
    f.add(rows, "AREA_FORMAT", "FWJZMJ", None)
    rows = np.flatnonzero(~np.isnan(value) & (value <= 0))
    f.add(rows, "AREA_POSITIVE", "FWJZMJ", None)
    rows = np.flatnonzero(~np.isnan(value) & (value > 10000))
    f.add(rows, "AREA_LARGE", "FWJZMJ", None)


def _certificate(records: pd.DataFrame, f: _Failures) -> None:
    cert = records["BDCQZH"]
    legacy = cert.str.contains(LEGACY_CERT_PATTERN).fillna(False).to_numpy()
    ok = cert.str.fullmatch(CERT_PATTERN).fillna(False).to_numpy()
    present = cert.notna().to_numpy()
    f.add(np.flatnonzero(present & ~ok & ~legacy), "CERT_FORMAT", "BDCQZH", None)
    f.add(np.flatnonzero(legacy), "CERT_LEGACY", "BDCQZH", None)


def _dbsj(records: pd.DataFrame, ctx: Context, f: _Failures) -> None:
    ts = records["DBSJ_TS"]
    present = records["DBSJ"].notna().to_numpy()
    parsed = ts.notna().to_numpy()
    f.add(np.flatnonzero(present & ~parsed), "DBSJ_FORMAT", "DBSJ", None)
    f.add(np.flatnonzero(parsed & (ts > pd.Timestamp(ctx.as_of)).to_numpy()), "DBSJ_FUTURE", "DBSJ", None)
    f.add(np.flatnonzero(parsed & (ts < pd.Timestamp("1990-01-01")).to_numpy()), "DBSJ_OLD", "DBSJ", None)


def _utilities(records: pd.DataFrame, ctx: Context, f: _Failures) -> dict[str, np.ndarray]:
    """Checks per utility; returns which utilities each record requests."""
    requested: dict[str, np.ndarray] = {}
    for utility, (account, code, name) in UTILITIES.items():
        has_account = records[account].notna().to_numpy()
        if code is None:
            requested[utility] = has_account
            continue
        has_code = records[code].notna().to_numpy()
        has_name = records[name].notna().to_numpy()
        requested[utility] = has_account | has_code | has_name
        incomplete = requested[utility] & ~(has_account & has_code & has_name)
        missing_field = np.where(~has_code, code, np.where(~has_name, name, account))
        rows = np.flatnonzero(incomplete)
        f.add(rows, "ACCOUNT_INSTITUTION", missing_field[rows], None, utility)
        registered = np.array([ctx.institutions.get((utility, c)) for c in records[code].to_numpy(dtype=object)], dtype=object)
        unknown = has_code & pd.isna(registered)
        rows = np.flatnonzero(unknown)
        f.add(rows, "INSTITUTION_UNKNOWN", code, records[code].to_numpy(dtype=object)[rows], utility)
        names = records[name].to_numpy(dtype=object)
        mismatch = has_code & has_name & ~unknown & (registered != names)
        rows = np.flatnonzero(mismatch)
        f.add(rows, "INSTITUTION_NAME", name, names[rows], utility)
    none = ~np.logical_or.reduce(list(requested.values()))
    f.add(np.flatnonzero(none), "UTILITY_NONE", "YDHH", None)
    return requested


def _outcome(n: int, failures: pd.DataFrame, requested: dict[str, np.ndarray]) -> pd.DataFrame:
    errors = failures[failures["severity"] == "error"]
    record_error = np.zeros(n, dtype=bool)
    record_error[errors.loc[errors["scope"] == "record", "row"].to_numpy(dtype=np.int64)] = True
    blocked_by: dict[str, np.ndarray] = {}
    for utility, wanted in requested.items():
        b = np.zeros(n, dtype=bool)
        b[errors.loc[(errors["scope"] == "utility") & (errors["utility"] == utility), "row"].to_numpy(dtype=np.int64)] = True
        blocked_by[utility] = (b | record_error) & wanted
    clear_any = np.logical_or.reduce([requested[u] & ~blocked_by[u] for u in requested])
    blocked_any = np.logical_or.reduce(list(blocked_by.values()))
    # A record asking for no utility has nothing clear: quarantined (UTILITY_NONE says why).
    status = np.where(record_error | ~clear_any, "quarantined", np.where(blocked_any, "partial", "passed"))

    def joined(masks: dict[str, np.ndarray]) -> np.ndarray:
        out = np.full(n, "", dtype=object)
        for utility, mask in masks.items():
            out[mask] = np.where(out[mask] == "", utility, out[mask] + "," + utility)
        return out

    return pd.DataFrame({"status": status, "requested": joined(requested), "blocked": joined(blocked_by)})


def message(rule_id: str, field: str) -> tuple[str, str]:
    """(Chinese, English) text a person can act on: which field, what is wrong with it."""
    rule = RULES[rule_id]
    label = LABELS.get(field, field) if field else ""
    where_zh = f"{label}（{field}）：" if field else ""
    where_en = f"{field}: " if field else ""
    return where_zh + rule.zh, where_en + rule.en
