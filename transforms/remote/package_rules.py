"""Remote collection (异地代收, docs/domain.md §6): the rules a collected package must meet.

A collecting hall (代收窗口) in one county takes an application for a property in another
and the platform's remote-collection module writes it as a *package* (报文): the package
row, its applicants and its materials (sql/source/create_remote_collection.*.sql). Before the
gateway pushes it to the property's authority (属地), every package version is checked here:

- the business type is one remote collection accepts (鲁自然资字〔2021〕101号 三(四):
  预告登记, 抵押登记, 变更登记（更名更址）, 补换证, 新建商品房转移登记) AND one the property
  county's checklist (材料清单) in force at the collected time offers;
- every material that checklist marks required is present, its electronic file exists in
  the file store and its SHA-256 is the one declared; a material whose paper original the
  checklist asks for was collected on paper;
- every applicant verified at a collecting window has every check done (ID card read,
  liveness, fingerprint, e-signature) and an on-site questioning record. An applicant
  verified in the property's own county is verified there, last ("申请人分属两地的…不动产归属
  地方再完成核验"), so the package carries that applicant's checks as pending;
- the 28-character 不动产单元号 has the structure of GB/T 37346 (below) and its first six
  digits are the property's county code XZQH;
- the collecting hall is not in the property's county (else it is not remote collection);
- XZQH is a Shandong county, or a county of another province (routed cross-province).

A package version with an error is *returned* to its collecting hall with every reason;
one without is *passed* and routed (transforms/remote/package_routing.py); a withdrawal (OP 'D')
is *withdrawn*. Every version gets exactly one verdict: in = passed + returned + withdrawn.

The 不动产单元号 check (GB/T 37346-2019 不动产单元设定与代码编制规则, which took over the
structure of the 2015 trial rules), 28 characters in four layers:

    370102 003012 GB 00123 F 0012 0034
    |      |      |  |     | `------'-- 定着物单元编号: 8 digits (房屋: 4-digit 幢号 + 4-digit 户号)
    |      |      |  |     `-- 定着物特征码: F 房屋等建筑物/构筑物, L 森林/林木, Q 其他, W 无定着物
    |      |      |  `-- 宗地（宗海）顺序号: 5 digits, from 00001
    |      |      `-- 宗地（宗海）特征码: 所有权类型 G 国家 / J 集体 / Z 争议, then the parcel type
    |      |          A B S X C D E F L N H G W Y (集体所有权, 建设用地地表/地上/地下, 宅基地, …)
    |      `-- 地籍区 (3 digits) + 地籍子区 (3 digits)
    `-- county-level division code (GB/T 2260)

What is checked, after NFKC (full-width digits and letters to half width), spaces removed
and upper case: the pattern above, a parcel number other than 00000, and W followed by
00000000 (a unit without fixtures has no fixture number). Plus, as its own rule, the first
six digits equal XZQH. The letter sets are as we read the standard: if a county's real codes
use another letter, widen `LAND_OWNERSHIP` / `LAND_TYPE` / `FIXTURE_TYPE` (and say so here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from transforms.cohandling.rule_catalogue import PERMIT_PATTERN, PROVINCE_PREFIXES
from transforms.common.checkdigits import ascii_matrix, id_check_ok, permit_check_ok


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning
    zh: str
    en: str


_RULES = [
    Rule("PACKAGE_REQUIRED", "error", "必填项为空", "required field is empty"),
    Rule("BWID_DUPLICATE", "error", "报文标识重复：该标识已有新增报文", "BWID already used by another new package"),
    Rule("SJSJ_FORMAT", "error", "收件时间无法识别", "collected time cannot be parsed"),
    Rule("SJSJ_FUTURE", "error", "收件时间晚于当前时间", "collected time is in the future"),
    Rule("HALL_COUNTY", "error", "收件单位所在县级行政区划代码不是山东省的县级代码", "the collecting hall's county is not a Shandong county code"),
    Rule("XZQH_UNKNOWN", "error", "不是县级行政区划代码（山东省县级代码，或外省6位县级代码）",
         "not a county-level code (a Shandong county, or another province's 6-digit county code)"),
    Rule("NOT_REMOTE", "error", "收件单位与不动产在同一县（市、区），不属于异地代收，请由属地窗口受理",
         "the collecting hall is in the property's own county: not remote collection, the local window takes it"),
    Rule("BUSINESS_TYPE_NOT_REMOTE", "error", "业务类型不在异地代收范围（预告登记、抵押登记、变更登记、补换证、新建商品房转移登记）",
         "business type not accepted for remote collection (advance notice, mortgage, change, certificate replacement, new-build transfer)"),
    Rule("BUSINESS_TYPE_NOT_OFFERED", "error", "不动产所在地登记机构在收件时没有该业务类型的异地代收材料清单",
         "the property's county had no remote-collection checklist for this business type at the collected time"),
    Rule("UNIT_NUMBER_FORMAT", "error", "不动产单元号不符合28位编码结构（GB/T 37346：6位县级代码+6位地籍区/子区+2位宗地特征码+5位宗地顺序号+1位定着物特征码+8位定着物单元编号）",
         "real-estate unit number is not the 28-character structure of GB/T 37346"),
    Rule("UNIT_NUMBER_XZQH", "error", "不动产单元号前6位与行政区划代码不一致", "the unit number's first six digits differ from XZQH"),
    Rule("APPLICANT_NONE", "error", "报文没有申请人", "the package has no applicant"),
    Rule("APPLICANT_REQUIRED", "error", "申请人必填项为空", "required applicant field is empty"),
    Rule("APPLICANT_ROLE", "error", "申请人类别应为 1（权利人）或 2（义务人）", "applicant role must be 1 (right holder) or 2 (obligor)"),
    Rule("APPLICANT_ID", "error", "证件号码与证件种类不符，或身份证号码校验位、出生日期错误",
         "ID number does not fit its ID type, or the resident ID's check character or birth date is wrong"),
    Rule("IDENTITY_INCOMPLETE", "error", "代收窗口身份核验未完成（需身份证件识别、活体检测、指纹采集、电子签名和现场问询记录）",
         "identity verification at the collecting window is incomplete (ID card read, liveness, fingerprint, e-signature, questioning record)"),
    Rule("MATERIAL_MISSING", "error", "缺少属地材料清单要求的必需材料", "a material the property county's checklist requires is missing"),
    Rule("MATERIAL_REQUIRED", "error", "材料必填项为空", "required material field is empty"),
    Rule("FILE_MISSING", "error", "材料的电子文件不在文件库中", "the material's electronic file is not in the file store"),
    Rule("FILE_HASH_MISMATCH", "error", "电子文件的SHA-256与报送值不一致", "the electronic file's SHA-256 differs from the declared one"),
    Rule("PAPER_ORIGINAL_MISSING", "error", "属地材料清单要求收取纸质原件，但未收取", "the checklist asks for the paper original, which was not collected"),
    Rule("MATERIAL_UNLISTED", "warning", "材料不在属地材料清单中", "material not on the property county's checklist"),
]
RULES: dict[str, Rule] = {r.id: r for r in _RULES}

# 业务类型 (YWLX). No published code table for the remote-collection module: these are the
# gateway's, documented in docs/remote-collection.md. 01–05 are the types remote collection
# accepts (seed 2, 三(四)); the others exist on the platform and are refused here.
BUSINESS_TYPES: dict[str, str] = {
    "01": "预告登记",
    "02": "抵押登记",
    "03": "变更登记",
    "04": "补换证",
    "05": "新建商品房转移登记",
    "11": "二手房转移登记",
    "12": "查封登记",
    "13": "首次登记",
    "14": "注销登记",
    "15": "更正登记",
    "16": "异议登记",
}
REMOTE_TYPES: tuple[str, ...] = ("01", "02", "03", "04", "05")
ROLES: dict[str, str] = {"1": "权利人", "2": "义务人"}

PACKAGE_REQUIRED = ("BWID", "SJDWDM", "SJXZQH", "SJSJ", "YWLX", "BDCDYH", "ZL", "XZQH")
APPLICANT_REQUIRED = ("SQRXM", "ZJZL", "ZJHM", "SQRLB", "HYDDM", "HYXZQH")
IDENTITY_CHECKS = ("SFZDQ", "HTJC", "ZWCJ", "DZQM")  # flags: 1 done
QUESTIONING_RECORD = "WXJLBH"
DONE = ("1", "Y", "是", "TRUE", "T")

LAND_OWNERSHIP = "GJZ"
LAND_TYPE = "ABSXCDEFLNHGWY"
FIXTURE_TYPE = "FLQW"
UNIT_PATTERN = rf"\d{{6}}\d{{3}}\d{{3}}[{LAND_OWNERSHIP}][{LAND_TYPE}]\d{{5}}[{FIXTURE_TYPE}]\d{{8}}"

LABELS: dict[str, str] = {
    "BWID": "报文标识", "SQBH": "申请编号", "SJDWDM": "收件单位代码", "SJDWMC": "收件单位名称", "SJXZQH": "收件单位行政区划",
    "SJSJ": "收件时间", "SJRY": "收件人员", "YWLX": "业务类型", "BDCDYH": "不动产单元号", "BDCQZH": "不动产权证号",
    "ZL": "坐落", "XZQH": "行政区划代码", "SQRXM": "申请人姓名", "ZJZL": "证件种类", "ZJHM": "证件号码",
    "SQRLB": "申请人类别", "HYDDM": "核验地点", "HYXZQH": "核验地行政区划", "SFZDQ": "身份证件识别", "HTJC": "活体检测",
    "ZWCJ": "指纹采集", "DZQM": "电子签名", "WXJLBH": "现场问询记录编号", "HYSJ": "核验时间", "CLBM": "材料编码",
    "CLMC": "材料名称", "YS": "页数", "WJDZ": "文件地址", "WJHX": "文件SHA-256", "SFZZYJ": "是否收取纸质原件",
}

CHECKLIST_COLUMNS = ("version_id", "xzqh", "business_type", "valid_from", "valid_to", "material_code", "material_name", "required", "paper_original")


@dataclass(frozen=True)
class RemoteContext:
    """What the rules check against: the Shandong counties, the checklists, the clock."""

    counties: frozenset[str]  # Shandong county-level codes (GB/T 2260)
    checklists: pd.DataFrame  # every checklist version with its items (CHECKLIST_COLUMNS)
    as_of: datetime  # local time: a collected time after it is in the future
    known_bwids: frozenset[str] = frozenset()  # BWIDs already taken as new packages by earlier runs


def build_context(*, divisions, checklists: pd.DataFrame, as_of: datetime, known_bwids: Iterable[str] = ()) -> RemoteContext:
    """A RemoteContext from jobs.common.reference.divisions() and checklist versions (CHECKLIST_COLUMNS)."""
    counties = frozenset(c for c, d in divisions.items() if d.level == "county")
    return RemoteContext(counties, checklists.reindex(columns=list(CHECKLIST_COLUMNS)), as_of, frozenset(known_bwids))


# --- normalising -----------------------------------------------------------------------------


def code_text(values: pd.Series) -> pd.Series:
    """Code-like text as the checks read it: NFKC (full width to half), no spaces, upper case; blank -> NA."""
    s = values.astype("string").str.normalize("NFKC").str.replace(r"\s+", "", regex=True).str.upper()
    return s.mask(s == "")


def parse_local_time(values: pd.Series) -> pd.Series:
    """Times as the module writes them: 2024-06-04 10:00:00, 2024/06/04 10:00:00, 20240604100000, ISO 'T'."""
    s = values.astype("string").str.normalize("NFKC").str.strip().str.replace("/", "-", regex=False)
    compact = s.str.fullmatch(r"\d{14}").fillna(False).astype(bool)
    s = s.where(~compact, s.str.slice(0, 4) + "-" + s.str.slice(4, 6) + "-" + s.str.slice(6, 8) + " " + s.str.slice(8, 10) + ":" + s.str.slice(10, 12) + ":" + s.str.slice(12, 14))
    s = s.str.replace("T", " ", regex=False)
    # A time written with an offset (…+08:00, …Z) is converted to Shandong local time; one bad or
    # differently zoned value must not stop the run (pandas refuses mixed zones in one parse).
    zoned = s.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).astype(bool)
    out = pd.to_datetime(s.where(~zoned), format="mixed", errors="coerce")
    if zoned.any():
        local = pd.to_datetime(s[zoned], format="mixed", errors="coerce", utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        out = out.astype("datetime64[ns]")
        out[zoned] = local.astype("datetime64[ns]")
    return out


def unit_number_ok(values: pd.Series) -> np.ndarray:
    """Per value (already code_text): has the 28-character structure of GB/T 37346 (module docstring)."""
    shaped = values.str.fullmatch(UNIT_PATTERN).fillna(False).to_numpy(dtype=bool)
    parcel = values.str.slice(14, 19)
    fixture = values.str.slice(19, 20)
    number = values.str.slice(20, 28)
    no_parcel = (parcel == "00000").fillna(False).to_numpy(dtype=bool)
    bad_w = ((fixture == "W") & (number != "00000000")).fillna(False).to_numpy(dtype=bool)
    return shaped & ~no_parcel & ~bad_w


def county_code_ok(values: pd.Series, counties: frozenset[str]) -> np.ndarray:
    """A Shandong county (GB/T 2260), or a 6-digit county-level code of another province (last two digits not 00)."""
    shandong = values.isin(counties).to_numpy(dtype=bool)
    shaped = values.str.fullmatch(r"\d{4}(?!00)\d{2}").fillna(False).to_numpy(dtype=bool)
    province = values.str.slice(0, 2)
    elsewhere = shaped & province.isin(PROVINCE_PREFIXES - {"37"}).to_numpy(dtype=bool)
    return shandong | elsewhere


def _done(values: pd.Series) -> np.ndarray:
    return code_text(values).isin(DONE).to_numpy(dtype=bool)


# --- evaluation --------------------------------------------------------------------------------


class _Failures:
    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, rows, rule: str, field, values=None, item="") -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        if values is None or np.isscalar(values):
            values = np.full(len(rows), values, dtype=object)
        self.parts.append(pd.DataFrame({"row": rows, "rule_id": rule, "field": field, "item": item, "value": np.asarray(values, dtype=object)}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"row": pd.Series([], dtype=np.int64), **{c: pd.Series([], dtype=object) for c in ("rule_id", "field", "item", "value")}})
        return pd.concat(self.parts, ignore_index=True)


def _blank(values: pd.Series) -> np.ndarray:
    return code_text(values).isna().to_numpy(dtype=bool)


def _sent(values: pd.Series, idx: np.ndarray) -> np.ndarray:
    """Values as sent (None for blanks), at positions idx."""
    out = values.to_numpy(dtype=object)[idx]
    return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v for v in out], dtype=object)


def evaluate(packages: pd.DataFrame, applicants: pd.DataFrame, materials: pd.DataFrame, ctx: RemoteContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every rule over package versions (positional rows), their applicants and materials.

    `packages` has CHANGE_SEQ, OP and the package fields; `applicants` and `materials` have
    CHANGE_SEQ (the package version they belong to), XH and their fields, materials also
    FILE_SHA256 (the gateway's own digest of the stored file; null when the file store has
    none). Returns (failures, outcome): failures has one row per (package row, rule, field,
    item) with the value as sent, severity and a message in Chinese and English; outcome has
    per package row `status` (passed / returned / withdrawn), `checklist_version_id`,
    `errors` and `warnings`.
    """
    f = _Failures()
    n = len(packages)
    p = packages.reset_index(drop=True)
    op = code_text(p["OP"]).fillna("I").to_numpy(dtype=object)
    active = op != "D"
    norm = {c: code_text(p[c]) for c in ("BWID", "SJXZQH", "YWLX", "BDCDYH", "XZQH", "SJDWDM")}

    for field in PACKAGE_REQUIRED:
        f.add(np.flatnonzero(_blank(p[field]) & active), "PACKAGE_REQUIRED", field)

    bwid = norm["BWID"]
    new = (op == "I") & bwid.notna().to_numpy()
    dup = np.zeros(n, dtype=bool)
    dup[new] = bwid[new].duplicated(keep="first").to_numpy()
    if ctx.known_bwids:
        dup |= new & bwid.isin(ctx.known_bwids).to_numpy(dtype=bool)
    rows = np.flatnonzero(dup)
    f.add(rows, "BWID_DUPLICATE", "BWID", _sent(p["BWID"], rows))

    collected = parse_local_time(p["SJSJ"])
    parsed = collected.notna().to_numpy()
    rows = np.flatnonzero(active & ~_blank(p["SJSJ"]) & ~parsed)
    f.add(rows, "SJSJ_FORMAT", "SJSJ", _sent(p["SJSJ"], rows))
    rows = np.flatnonzero(active & parsed & (collected > pd.Timestamp(ctx.as_of)).to_numpy())
    f.add(rows, "SJSJ_FUTURE", "SJSJ", _sent(p["SJSJ"], rows))

    hall_county = norm["SJXZQH"]
    rows = np.flatnonzero(active & hall_county.notna().to_numpy() & ~hall_county.isin(ctx.counties).to_numpy(dtype=bool))
    f.add(rows, "HALL_COUNTY", "SJXZQH", _sent(p["SJXZQH"], rows))
    xzqh = norm["XZQH"]
    xzqh_ok = county_code_ok(xzqh, ctx.counties)
    rows = np.flatnonzero(active & xzqh.notna().to_numpy() & ~xzqh_ok)
    f.add(rows, "XZQH_UNKNOWN", "XZQH", _sent(p["XZQH"], rows))
    same = (hall_county == xzqh).fillna(False).to_numpy(dtype=bool)
    rows = np.flatnonzero(active & same)
    f.add(rows, "NOT_REMOTE", "SJXZQH", _sent(p["SJXZQH"], rows))

    ywlx = norm["YWLX"]
    accepted = ywlx.isin(REMOTE_TYPES).to_numpy(dtype=bool)
    rows = np.flatnonzero(active & ywlx.notna().to_numpy() & ~accepted)
    f.add(rows, "BUSINESS_TYPE_NOT_REMOTE", "YWLX", _sent(p["YWLX"], rows))

    unit = norm["BDCDYH"]
    unit_ok = unit_number_ok(unit)
    rows = np.flatnonzero(active & unit.notna().to_numpy() & ~unit_ok)
    f.add(rows, "UNIT_NUMBER_FORMAT", "BDCDYH", _sent(p["BDCDYH"], rows))
    rows = np.flatnonzero(active & unit_ok & xzqh.notna().to_numpy() & (unit.str.slice(0, 6) != xzqh).fillna(False).to_numpy(dtype=bool))
    f.add(rows, "UNIT_NUMBER_XZQH", "BDCDYH", _sent(p["BDCDYH"], rows))

    # The checklist version in force at the collected time, for (XZQH, YWLX).
    lookup = active & accepted & xzqh_ok & parsed
    version = _checklist_versions(xzqh, ywlx, collected, lookup, ctx.checklists)
    rows = np.flatnonzero(lookup & (version < 0))
    f.add(rows, "BUSINESS_TYPE_NOT_OFFERED", "YWLX", _sent(p["YWLX"], rows))

    row_of = pd.Series(np.arange(n), index=p["CHANGE_SEQ"].to_numpy())
    _applicants(applicants, row_of, xzqh, active, f)
    _materials(materials, row_of, version, active, ctx.checklists, f)

    failures = f.frame()
    failures = failures[active[failures["row"].to_numpy(dtype=np.int64)]].reset_index(drop=True)
    failures["severity"] = failures["rule_id"].map(lambda r: RULES[r].severity)
    failures = _with_messages(failures, applicants, materials, row_of, ctx.checklists)
    errors = np.bincount(failures.loc[failures["severity"] == "error", "row"].to_numpy(dtype=np.int64), minlength=n)
    warnings = np.bincount(failures.loc[failures["severity"] == "warning", "row"].to_numpy(dtype=np.int64), minlength=n)
    status = np.where(~active, "withdrawn", np.where(errors > 0, "returned", "passed"))
    checklist = pd.array([int(v) if v >= 0 else None for v in version], dtype="Int64")
    outcome = pd.DataFrame({"status": status, "checklist_version_id": checklist, "errors": errors, "warnings": warnings})
    return failures, outcome


def _checklist_versions(xzqh: pd.Series, ywlx: pd.Series, collected: pd.Series, lookup: np.ndarray, checklists: pd.DataFrame) -> np.ndarray:
    """Per package row, the checklist version_id in force at its collected time, or -1."""
    out = np.full(len(xzqh), -1, dtype=np.int64)
    if not lookup.any() or checklists.empty:
        return out
    versions = checklists.drop_duplicates("version_id")[["version_id", "xzqh", "business_type", "valid_from", "valid_to"]]
    want = pd.DataFrame({"row": np.flatnonzero(lookup), "xzqh": xzqh[lookup].to_numpy(dtype=object), "business_type": ywlx[lookup].to_numpy(dtype=object),
                         "at": collected[lookup].to_numpy()})
    both = want.merge(versions, on=["xzqh", "business_type"])
    valid_from = pd.to_datetime(both["valid_from"])
    valid_to = pd.to_datetime(both["valid_to"])
    live = (valid_from <= both["at"]) & (valid_to.isna() | (both["at"] < valid_to))
    both = both[live.to_numpy()].sort_values(["row", "valid_from"]).drop_duplicates("row", keep="last")
    out[both["row"].to_numpy(dtype=np.int64)] = both["version_id"].to_numpy(dtype=np.int64)
    return out


def _applicants(applicants: pd.DataFrame, row_of: pd.Series, xzqh: pd.Series, active: np.ndarray, f: _Failures) -> None:
    a = applicants[applicants["CHANGE_SEQ"].isin(row_of.index)].reset_index(drop=True)
    rows = row_of.reindex(a["CHANGE_SEQ"].to_numpy()).to_numpy(dtype=np.int64)
    has = np.zeros(len(row_of), dtype=bool)
    has[rows] = True
    f.add(np.flatnonzero(active & ~has), "APPLICANT_NONE", "SQRXM")
    if a.empty:
        return
    item = ("SQR#" + a["XH"].astype(str)).to_numpy(dtype=object)
    for field in APPLICANT_REQUIRED:
        sel = np.flatnonzero(_blank(a[field]))
        f.add(rows[sel], "APPLICANT_REQUIRED", field, None, item[sel])
    role = code_text(a["SQRLB"])
    sel = np.flatnonzero(role.notna().to_numpy() & ~role.isin(ROLES).to_numpy(dtype=bool))
    f.add(rows[sel], "APPLICANT_ROLE", "SQRLB", _sent(a["SQRLB"], sel), item[sel])

    id_type, number = code_text(a["ZJZL"]), code_text(a["ZJHM"])
    given = number.notna().to_numpy()
    resident = id_type.isin(["1", "4"]).to_numpy(dtype=bool) & given
    permit = id_type.isin(["2"]).to_numpy(dtype=bool) & given
    eighteen = number.str.fullmatch(r"\d{17}[\dX]").fillna(False).to_numpy(dtype=bool)
    # 港澳台: an 18-digit residence permit (checked below as a resident ID), or a HK / Macao / Taiwan
    # ID or travel permit as the Annex 1 rules read them (transforms/cohandling/rule_catalogue.PERMIT_PATTERN), with the
    # HK and Taiwan check characters.
    other_permit = permit & ~eighteen
    shaped = number.str.fullmatch(PERMIT_PATTERN).fillna(False).to_numpy(dtype=bool)
    permit_ok = np.zeros(len(number), dtype=bool)
    at = np.flatnonzero(other_permit & shaped)
    permit_ok[at] = [permit_check_ok(v) for v in number.to_numpy(dtype=object)[at]]
    bad = (resident & ~eighteen) | (other_permit & ~permit_ok)
    idx = np.flatnonzero((resident | permit) & eighteen)
    if len(idx):
        chosen = number.to_numpy(dtype=object)[idx].astype(str)
        births = pd.to_datetime(pd.Series([s[6:14] for s in chosen]), format="%Y%m%d", errors="coerce")
        wrong = ~id_check_ok(ascii_matrix(chosen, 18)) | births.isna().to_numpy() | (births < pd.Timestamp("1880-01-01")).to_numpy()
        bad[idx[wrong]] = True
    passport = id_type.isin(["3"]).to_numpy(dtype=bool) & number.notna().to_numpy()
    bad |= passport & ~number.str.fullmatch(r"[A-Z0-9]{5,17}").fillna(False).to_numpy(dtype=bool)
    sel = np.flatnonzero(bad)
    f.add(rows[sel], "APPLICANT_ID", "ZJHM", _sent(a["ZJHM"], sel), item[sel])

    # Verified at a collecting window (anywhere but the property's county): every check done there.
    where = code_text(a["HYXZQH"])
    at_property = (where == xzqh.reindex(rows).set_axis(where.index)).fillna(False).to_numpy(dtype=bool)
    window = ~at_property & where.notna().to_numpy()
    for field in IDENTITY_CHECKS:
        sel = np.flatnonzero(window & ~_done(a[field]))
        f.add(rows[sel], "IDENTITY_INCOMPLETE", field, _sent(a[field], sel), item[sel])
    sel = np.flatnonzero(window & _blank(a[QUESTIONING_RECORD]))
    f.add(rows[sel], "IDENTITY_INCOMPLETE", QUESTIONING_RECORD, _sent(a[QUESTIONING_RECORD], sel), item[sel])


def _materials(materials: pd.DataFrame, row_of: pd.Series, version: np.ndarray, active: np.ndarray, checklists: pd.DataFrame, f: _Failures) -> None:
    m = materials[materials["CHANGE_SEQ"].isin(row_of.index)].reset_index(drop=True)
    rows = row_of.reindex(m["CHANGE_SEQ"].to_numpy()).to_numpy(dtype=np.int64)
    code = code_text(m["CLBM"])
    item = ("CL#" + m["XH"].astype(str)).to_numpy(dtype=object)
    for field in ("CLBM", "WJDZ", "WJHX"):
        sel = np.flatnonzero(_blank(m[field]))
        f.add(rows[sel], "MATERIAL_REQUIRED", field, None, item[sel])
    stored = m["FILE_SHA256"].notna().to_numpy() if "FILE_SHA256" in m else np.zeros(len(m), dtype=bool)
    sel = np.flatnonzero(~_blank(m["WJDZ"]) & ~stored)
    f.add(rows[sel], "FILE_MISSING", "WJDZ", _sent(m["WJDZ"], sel), item[sel])
    declared = code_text(m["WJHX"]).str.lower()
    if len(m):
        actual = m["FILE_SHA256"].astype("string").str.lower()
        sel = np.flatnonzero(stored & declared.notna().to_numpy() & (declared != actual).fillna(True).to_numpy(dtype=bool))
        f.add(rows[sel], "FILE_HASH_MISMATCH", "WJHX", _sent(m["WJHX"], sel), item[sel])

    checked = np.flatnonzero(active & (version >= 0))
    if len(checked) == 0:
        return
    items = checklists[["version_id", "material_code", "required", "paper_original"]]
    # What each checked package needs, against what it sent (by material code).
    need = pd.DataFrame({"row": checked, "version_id": version[checked]}).merge(items, on="version_id")
    sent = pd.DataFrame({"row": rows, "material_code": code.to_numpy(dtype=object), "paper": _done(m["SFZZYJ"]), "pos": np.arange(len(m))})
    sent = sent[sent["material_code"].notna()]
    have = sent.groupby(["row", "material_code"], sort=False)["paper"].any().rename("paper").reset_index()
    need = need.merge(have, on=["row", "material_code"], how="left", indicator=True)
    present = (need["_merge"] == "both").to_numpy()
    required = need["required"].astype(bool).to_numpy()
    missing = need[required & ~present]
    f.add(missing["row"].to_numpy(), "MATERIAL_MISSING", "CLBM", None, missing["material_code"].to_numpy(dtype=object))
    paper_gap = need[present & need["paper_original"].astype(bool).to_numpy() & ~need["paper"].fillna(False).astype(bool).to_numpy()]
    if len(paper_gap):
        # Name the material rows sent under that code (the first one carries the failure).
        first = sent.drop_duplicates(["row", "material_code"]).set_index(["row", "material_code"])["pos"]
        pos = first.reindex(list(zip(paper_gap["row"], paper_gap["material_code"]))).to_numpy(dtype=np.int64)
        f.add(paper_gap["row"].to_numpy(), "PAPER_ORIGINAL_MISSING", "SFZZYJ", _sent(m["SFZZYJ"], pos), item[pos])
    listed = sent[np.isin(sent["row"].to_numpy(), checked)].merge(pd.DataFrame({"row": checked, "version_id": version[checked]}), on="row")
    listed = listed.merge(items[["version_id", "material_code"]], on=["version_id", "material_code"], how="left", indicator=True)
    extra = listed[listed["_merge"] == "left_only"]
    pos = extra["pos"].to_numpy(dtype=np.int64)
    f.add(extra["row"].to_numpy(), "MATERIAL_UNLISTED", "CLBM", _sent(m["CLBM"], pos), item[pos])


def _with_messages(failures: pd.DataFrame, applicants: pd.DataFrame, materials: pd.DataFrame, row_of: pd.Series, checklists: pd.DataFrame) -> pd.DataFrame:
    """Chinese and English messages naming where (applicant, material), the field and the value."""
    names: dict[tuple[int, str], str] = {}
    if len(failures):
        wanted = set(zip(failures["row"], failures["item"]))
        for frame, prefix, label in ((applicants, "SQR#", "SQRXM"), (materials, "CL#", "CLMC")):
            sub = frame[frame["CHANGE_SEQ"].isin(row_of.index)]
            for seq, xh, name, code in zip(sub["CHANGE_SEQ"], sub["XH"], sub[label], sub["CLBM"] if prefix == "CL#" else sub[label]):
                key = (int(row_of[seq]), f"{prefix}{xh}")
                if key in wanted:
                    names[key] = f"{code} {name}" if prefix == "CL#" else f"{name}"
    material_names = dict(zip(checklists["material_code"], checklists["material_name"])) if len(checklists) else {}
    zh, en = [], []
    for row, rule_id, field, item, value in zip(failures["row"], failures["rule_id"], failures["field"], failures["item"], failures["value"]):
        rule = RULES[rule_id]
        if item.startswith("SQR#"):
            where_zh, where_en = f"申请人{item[4:]}（{names.get((row, item), '')}）", f"applicant {item[4:]}"
        elif item.startswith("CL#"):
            where_zh, where_en = f"材料{item[3:]}（{names.get((row, item), '')}）", f"material {item[3:]}"
        elif item:
            where_zh, where_en = f"材料 {item} {material_names.get(item, '')}".rstrip(), f"material {item}"
        else:
            where_zh = where_en = ""
        shown = "" if value is None else f"“{value}”"
        label = LABELS.get(field, field)
        zh.append(f"{where_zh + '：' if where_zh else ''}{label}（{field}）{shown}：{rule.zh}")
        en.append(f"{where_en + ': ' if where_en else ''}{field}{' ' + repr(str(value)) if value is not None else ''}: {rule.en}")
    return failures.assign(message_zh=zh, message_en=en)
