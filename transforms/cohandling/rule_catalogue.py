"""The catalogue of the Annex 1 rules (docs/domain.md §2–4): every rule's stable id, severity,
scope and Chinese / English message, the shapes the rules accept (patterns, province prefixes,
required fields), and the Context they check against (reference tables, registry, clock).

The vectorised engine that applies them is transforms/cohandling/record_rules.py; a rule id
never changes once published, because quarantine lists, alerts and expectations name it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from transforms.cohandling.annex1 import LABELS


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


def message(rule_id: str, field: str) -> tuple[str, str]:
    """(Chinese, English) text a person can act on: which field, what is wrong with it."""
    rule = RULES[rule_id]
    label = LABELS.get(field, field) if field else ""
    where_zh = f"{label}（{field}）：" if field else ""
    where_en = f"{field}: " if field else ""
    return where_zh + rule.zh, where_en + rule.en
