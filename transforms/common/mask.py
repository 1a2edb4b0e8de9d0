"""Masking of personal data for logs and reports: ID numbers (370102********123X), phones
(138****5678) and names (张*), in their own columns or anywhere in free text."""

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
