"""Masking of personal data (ID numbers, phones) for logs and reports: 370102********123X."""

from __future__ import annotations

import re

import pandas as pd

_SEPARATORS = re.compile(r"([,，、/;；])")


def mask_id(values: pd.Series) -> pd.Series:
    """Keep the first 6 and last 4 characters of each owner's number (region and check)."""
    return values.map(lambda v: _mask(v, 6, 4), na_action="ignore")


def mask_phone(values: pd.Series) -> pd.Series:
    """Keep the first 3 and last 4 digits of each owner's phone: 138****5678."""
    return values.map(lambda v: _mask(v, 3, 4), na_action="ignore")


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
