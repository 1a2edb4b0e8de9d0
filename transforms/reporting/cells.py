"""How a report cell reads, the same in every report (pure): headings carry their code in ASCII
brackets (`完成率(completion_rate)`), rates show as %, working days with one decimal (halves up,
as Excel's 0.0 does), counts with thousands separators, an empty cell as —, and times in
Beijing time without a zone (Excel has none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

# Codes shown as % / as working days with one decimal, in the reconciliation report
# (transforms/reporting/cohandling_tables.py) and the remote-collection one (transforms/reporting/remote_tables.py).
RATES = ("completion_rate", "overdue_rate", "acceptance_rate", "correction_rate")
WORKING_DAYS = ("handle_median_wd", "handle_p90_wd", "overdue_working_days", "certificate_median_wd", "overdue_wd")
LOCAL_TZ = "Asia/Shanghai"  # the day a county reads is Beijing time's day


def code_of(heading: str) -> str:
    """The code inside a heading's last ASCII brackets: 完成率(completion_rate) → completion_rate."""
    match = re.search(r"\(([^()]*)\)$", heading)
    return match.group(1) if match else heading


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA; anything pandas cannot judge (a list) is not missing."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_cell(value, code: str = "") -> str:
    """A cell as text: rates as %, working days with one decimal, counts with thousands separators, — if empty."""
    if is_missing(value) or value == "":
        return "—"
    if code in RATES and isinstance(value, (int, float, np.number)):
        return f"{_half_up(float(value) * 100)}%"
    if code in WORKING_DAYS and isinstance(value, (int, float, np.number)):
        return _half_up(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _half_up(value: float) -> str:
    """One decimal, halves rounded up as Excel's 0.0 format and people do (6.25 → 6.3, not Python's 6.2)."""
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def local_naive(values: pd.Series) -> pd.Series:
    """Datetimes in Beijing time without a zone (Excel has no time zones); naive input is taken as local already."""
    stamps = pd.to_datetime(values, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return stamps


def local_naive_one(value: datetime) -> datetime:
    """One moment in Beijing time without a zone; a naive one is taken as local already."""
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert(LOCAL_TZ).tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def local_dates(values: pd.Series) -> pd.Series:
    """Calendar dates (Beijing time) as datetime.date, None where missing."""
    stamps = local_naive(values.astype(object))
    return pd.Series([d.date() if not pd.isna(d) else None for d in stamps], index=values.index, dtype=object)


@dataclass(frozen=True)
class PrintLayout:
    """How a report's sheet prints beyond the common setup (A4 landscape, one page wide, heading row on every page:
    jobs/cohandling/publish_report.py's write_workbook): only its first `columns` columns (the public ones; None: all),
    and a new page wherever the column `break_by` (a heading) changes value — the 公示 list, one city per page."""

    columns: int | None = None
    break_by: str | None = None


def neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """Every non-empty text cell starting with = + - @ prefixed with ' (transforms.common.mask.neutralise_formula):
    what Excel/WPS would run as a formula shows as text."""
    from transforms.common.mask import neutralise_formula

    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            values = out[column].astype(object)
            # only non-empty text: neutralise_formula would turn "" into "'" ("" is in any string)
            text = values.map(lambda v: isinstance(v, str) and v != "").astype(bool)
            values[text] = neutralise_formula(values[text])
            out[column] = values
    return out


def labelled(code, labels) -> str:
    """水（water）: the Chinese word with the code beside it, as the quarantine list writes utilities; "" for none."""
    if code is None or (isinstance(code, float) and np.isnan(code)) or code == "":
        return ""
    return f"{labels[code]}（{code}）" if code in labels else str(code)
