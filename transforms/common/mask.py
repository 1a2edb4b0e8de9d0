"""Masking of personal data for logs and reports: ID numbers (370102********123X), phones
(138****5678) and names (张*), in their own columns or anywhere in free text; property addresses
(济南市历下区经十路***: the place and road kept, the door, building, unit and room hidden)."""

from __future__ import annotations

import re

import pandas as pd

_SEPARATORS = re.compile(r"([,，、/;；])")  # between the owners of one property
# ID numbers: any run of 15+ digits (18 with a check digit or X, 15 legacy, or longer runs that hide one).
_ID_IN_TEXT = re.compile(r"(?<!\d)\d{14,}[\dXx]")
# Phones: mobiles (optionally +86 / 86) and landlines with area code, as docs/domain.md §4 describes them.
_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+?86)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def mask_id(values: pd.Series) -> pd.Series:
    """Keep the first 6 and last 4 characters of each owner's number (region and check)."""
    return values.map(lambda v: _mask(v, 6, 4), na_action="ignore")


def mask_phone(values: pd.Series) -> pd.Series:
    """Keep the first 3 and last 4 digits of each owner's phone: 138****5678."""
    return values.map(lambda v: _mask(v, 3, 4), na_action="ignore")


def mask_names(values: pd.Series) -> pd.Series:
    """Keep each owner's first character (the family name, mostly): 张三 → 张*, 欧阳娜娜、李四 → 欧***、李*."""

    def one(value: str) -> str:
        parts = []
        for item in _SEPARATORS.split(str(value)):
            s = item.strip()
            parts.append(item if _SEPARATORS.fullmatch(item) or not s else s[0] + "*" * max(len(s) - 1, 1))
        return "".join(parts)

    return values.map(one, na_action="ignore")


# Where the part of an address that finds one home starts: the first digit (door number, building, room), or a
# number in Chinese figures with its unit (三号楼, 二单元, 十二层); what comes before it is the place and the road.
_ADDRESS_DETAIL = re.compile(r"\d|[一二三四五六七八九十百〇零两甲乙丙丁]+(?:号楼|号|栋|幢|座|单元|层|楼|室|户)")
# Failing that, the last administrative place named (省 市 区 县 镇 乡 街道): what follows it is hidden whole.
_ADDRESS_PLACE = re.compile(r"(?:街道|省|市|(?<!小)区|县|镇|乡)")  # 小区 is a housing estate, not a district
ADDRESS_KEEP_MAX = 24  # characters kept at most: a long name before the first number is cut too
ADDRESS_HIDDEN = "***"  # the same whatever was hidden: the length would tell


def mask_address(values: pd.Series) -> pd.Series:
    """A property address (房屋坐落, FWZL) fit to publish: the place and the road kept, everything from the first
    number on (door number, building, unit, room) hidden — 济南市历下区经十路123号阳光花园12号楼3单元1201室 →
    济南市历下区经十路***. No number: kept up to the last place name (…区, …镇, …街道). Empty stays empty."""

    def one(value) -> str:
        text = str(value).strip()
        if not text:
            return text
        detail = _ADDRESS_DETAIL.search(text)
        if detail is not None:
            keep = text[: detail.start()]
        else:
            places = list(_ADDRESS_PLACE.finditer(text))
            keep = text[: places[-1].end()] if places else ""
        keep = keep[:ADDRESS_KEEP_MAX].rstrip(" ,，、-—")
        return keep + ADDRESS_HIDDEN if keep != text else keep

    return values.map(one, na_action="ignore")


def mask_in_text(values: pd.Series) -> pd.Series:
    """ID numbers and phones found anywhere in free text masked as mask_id / mask_phone would mask them."""

    def one(value) -> str:
        text = _ID_IN_TEXT.sub(lambda m: _mask(m.group(0), 6, 4), str(value))
        return _PHONE_IN_TEXT.sub(lambda m: _mask(m.group(0), 3, 4), text)

    return values.map(one, na_action="ignore")


def _mask(value: str, head: int, tail: int) -> str:
    out = []
    for item in _SEPARATORS.split(str(value)):
        s = item.strip()
        if _SEPARATORS.fullmatch(item) or not s:
            out.append(item)
        elif len(s) > head + tail:
            out.append(s[:head] + "*" * (len(s) - head - tail) + s[-tail:])
        else:  # too short to keep anything and still hide something
            out.append("*" * len(s))
    return "".join(out)


def neutralise_formula(values: pd.Series) -> pd.Series:
    """A cell starting with = + - @ would be read as a formula by Excel/WPS: prefix it with '."""
    return values.map(lambda v: "'" + v if isinstance(v, str) and v[:1] and v[:1] in "=+-@" else v)
