"""Code tables as data (reference/*.csv, sources in reference/SOURCES.md): parsed and checked.

Pure functions over the rows `csv.DictReader` gives; a table that does not hold together is
refused at load with the file, the row and the column named — a bad table never reaches a rule.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass


class CodeTableError(ValueError):
    """A reference table that cannot be used, with where and why."""


@dataclass(frozen=True)
class IdType:
    code: str  # the registration database's code (docs/domain.md §3): 1–8, 99
    name: str
    national_code: str  # GA/T 2000.156 three-digit code, "" when none maps
    national_name: str
    national_verified: bool


@dataclass(frozen=True)
class RetiredDivision:
    code: str
    name: str
    retired_in: int
    successor: str
    successor_name: str
    change: str
    verified: bool


@dataclass(frozen=True)
class UtilityType:
    utility: str
    label: str
    account_field: str
    code_field: str | None
    name_field: str | None


def rows_of(text: str) -> list[dict[str, str]]:
    """The rows of a CSV text (header first)."""
    return list(csv.DictReader(io.StringIO(text)))


def _need(rows: list[dict], columns: tuple[str, ...], file: str) -> None:
    if not rows:
        raise CodeTableError(f"{file}: 无数据行 / no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise CodeTableError(f"{file}: 缺少列 / missing columns {missing}")


def _yes(value: str, file: str, line: int, column: str) -> bool:
    if value not in ("yes", "no"):
        raise CodeTableError(f"{file} 第{line}行 {column}={value!r}: 应为 yes 或 no / must be yes or no")
    return value == "yes"


def parse_national_id_types(rows: list[dict], *, file: str = "reference/id_types_national.csv") -> dict[str, str]:
    """National 3-digit document codes (GA/T 2000.156) -> name."""
    _need(rows, ("code", "name", "verified"), file)
    out: dict[str, str] = {}
    for line, r in enumerate(rows, start=2):
        if not re.fullmatch(r"\d{3}", r["code"] or "") or not r["name"]:
            raise CodeTableError(f"{file} 第{line}行 code={r['code']!r}: 应为三位数字代码且有名称 / a 3-digit code with a name")
        if r["code"] in out:
            raise CodeTableError(f"{file} 第{line}行 code={r['code']!r}: 重复 / duplicate")
        _yes(r["verified"], file, line, "verified")
        out[r["code"]] = r["name"]
    return out


def parse_id_types(rows: list[dict], national: dict[str, str], *, file: str = "reference/id_types.csv") -> dict[str, IdType]:
    """The registration database's ZJZL codes with their national mapping, checked against `national`."""
    _need(rows, ("code", "name", "national_code", "national_name", "national_verified"), file)
    out: dict[str, IdType] = {}
    for line, r in enumerate(rows, start=2):
        code, nat = r["code"], r["national_code"]
        if not re.fullmatch(r"\d{1,2}", code or "") or not r["name"]:
            raise CodeTableError(f"{file} 第{line}行 code={code!r}: 应为一至两位数字代码且有名称 / a 1–2 digit code with a name")
        if code in out:
            raise CodeTableError(f"{file} 第{line}行 code={code!r}: 重复 / duplicate")
        if nat and national.get(nat) != r["national_name"]:
            raise CodeTableError(f"{file} 第{line}行 national_code={nat!r}: 不在国家代码表中或名称不符 / not in the national table or its name differs")
        out[code] = IdType(code, r["name"], nat, r["national_name"], _yes(r["national_verified"], file, line, "national_verified"))
    return out


def to_national(id_types: dict[str, IdType], code: str) -> str | None:
    """The national code of a registration-database ZJZL code (None: unknown code or no mapping)."""
    t = id_types.get(code)
    return t.national_code or None if t else None


# ZJZL 2 (港澳台身份证) covers several documents, each with its own national code: the number's
# shape says which. Travel permits only; a residence permit (18 digits from 810000/820000/830000)
# has no code in the national table this project ships, so it goes without one.
_PERMIT_SHAPES = (
    (re.compile(r"[HM]\d{8}(\d{2})?"), "516"),  # 港澳居民来往内地通行证 (H/M + 8 digits; the older card had 10)
    (re.compile(r"\d{8}"), "511"),  # 台湾居民来往大陆通行证 (8 digits since 2015)
)


def national_code_for(id_types: dict[str, IdType], national: dict[str, str], code: str | None, number: str | None) -> str | None:
    """The national 3-digit document code (GA/T 2000.156) of one applicant's document, for packages
    that leave the province: the ZJZL code's own mapping, or for ZJZL 2 the permit the number's shape
    shows (when `national`, the national table, has it). None when no single national code fits:
    the receiver reads ZJZL and ZJHM then."""
    direct = to_national(id_types, code or "")
    if direct is not None or code != "2" or not number:
        return direct
    for shape, permit in _PERMIT_SHAPES:
        if shape.fullmatch(number):
            return permit if permit in national else None
    return None


def from_national(id_types: dict[str, IdType], national_code: str) -> str | None:
    """The registration-database code for a national code (None: none maps to it)."""
    for t in id_types.values():
        if t.national_code == national_code:
            return t.code
    return None


def parse_xzqh_history(rows: list[dict], current: dict[str, str], *, file: str = "reference/xzqh_history.csv") -> dict[str, RetiredDivision]:
    """Retired county-level codes -> their successor. `current`: code -> name of the codes in force.

    A retired code must not be in force; its successor must be (so a lookup never chains)."""
    _need(rows, ("code", "name", "retired_in", "successor", "successor_name", "change", "verified"), file)
    out: dict[str, RetiredDivision] = {}
    for line, r in enumerate(rows, start=2):
        code, succ = r["code"], r["successor"]
        if not re.fullmatch(r"37\d{4}", code or ""):
            raise CodeTableError(f"{file} 第{line}行 code={code!r}: 不是山东六位代码 / not a Shandong 6-digit code")
        if code in current:
            raise CodeTableError(f"{file} 第{line}行 code={code!r}: 仍是现行代码 / still in force")
        if current.get(succ) != r["successor_name"]:
            raise CodeTableError(f"{file} 第{line}行 successor={succ!r}: 不是现行代码或名称不符 / not a code in force, or its name differs")
        if not re.fullmatch(r"(19|20)\d{2}", r["retired_in"] or ""):
            raise CodeTableError(f"{file} 第{line}行 retired_in={r['retired_in']!r}: 应为年份 / must be a year")
        if code in out:
            raise CodeTableError(f"{file} 第{line}行 code={code!r}: 重复 / duplicate")
        out[code] = RetiredDivision(code, r["name"], int(r["retired_in"]), succ, r["successor_name"], r["change"], _yes(r["verified"], file, line, "verified"))
    return out


ANNEX1_ACCOUNT_FIELDS = ("YDHH", "YSHH", "YQHH", "YNHH")


def parse_utility_types(rows: list[dict], fields: tuple[str, ...], *, file: str = "reference/utility_types.csv") -> dict[str, UtilityType]:
    """Utility types with their Annex 1 fields; every field must be an Annex 1 field (`fields`)."""
    _need(rows, ("utility", "label", "account_field", "code_field", "name_field"), file)
    out: dict[str, UtilityType] = {}
    for line, r in enumerate(rows, start=2):
        for column in ("account_field", "code_field", "name_field"):
            if (r[column] or column != "account_field") and r[column] and r[column] not in fields:
                raise CodeTableError(f"{file} 第{line}行 {column}={r[column]!r}: 不是附件1字段 / not an Annex 1 field")
        if not r["utility"] or not r["account_field"] or r["utility"] in out or bool(r["code_field"]) != bool(r["name_field"]):
            raise CodeTableError(f"{file} 第{line}行 utility={r['utility']!r}: 缺少类型或户号字段、重复，或机构编码与名称未成对 / "
                                 "missing type or account field, duplicate, or institution code and name not paired")
        out[r["utility"]] = UtilityType(r["utility"], r["label"], r["account_field"], r["code_field"] or None, r["name_field"] or None)
    return out
