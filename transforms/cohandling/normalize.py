"""Normalisation of co-handling records before any rule is checked (docs/domain.md §4).

`normalize_records` takes the Annex 1 fields as received (text) and returns them
normalised under the same names, with each original kept beside it as `<FIELD>__orig`:

- code-like fields (ID numbers, types, phones, XZQH, area, certificate number, DBSJ,
  accounts, institution codes): Unicode NFKC (full-width digits, letters and brackets to
  half width), every space removed, upper case (a trailing `x` of an ID becomes `X`);
- names and addresses: NFKC only where it cannot change a person's name (brackets and
  digits in addresses and institution names), trimmed;
- owner fields split on `,` `，` `、` `/` `;` `；` into lists (`ZRF_NAMES`, `ZRF_TYPES`,
  `ZRF_IDS`, `ZRF_PHONES`, and ZCF_* likewise), the same separators for all four;
- DBSJ parsed from the forms the platform sends (`2024-03-05 10:11:12`, `2024/03/05 …`,
  `20240305101112`, ISO `T`, fractional seconds, date only, `2024年3月5日 10时11分`, `2024.3.5`, an
  offset `+08:00` / `Z` converted to Shandong local time) into `DBSJ_TS`; area (a unit
  `m2` / `平方米` and thousands separators dropped) into `FWJZMJ_NUM` with its count of
  decimals in `FWJZMJ_DECIMALS`; a certificate's `〔year〕`/`[year]`/`【year】` as `(year)`.

Empty or blank values become null. Pure and vectorised (pyarrow.compute, numpy).

Speed: each clean-up is exact but slow per value (NFKC, regular expressions), and most
values need none of it. So every step finds, from the bytes (transforms/common/utf8.py), the rows
it could change, runs the full clean-up on those rows only, and leaves the rest as they
are — sharing their buffers with the originals. Columns stay `large_string`, the layout
pandas keeps its `str` columns in, so handing them to pandas copies nothing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling.annex1 import FIELD_CODES
from transforms.common import dates, parallel, utf8

CODE_FIELDS = (
    "ROWGUID", "YCYWH", "ZRFZJZL", "ZRFZJHM", "ZRFLXDH", "ZCFZJZL", "ZCFZJHM", "ZCFLXDH", "XZQH",
    "FWJZMJ", "BDCQZH", "YDHH", "YSHH", "GSJGBM", "YQHH", "RQJGBM", "YNHH", "GRJGBM",
)
NAME_FIELDS = ("ZRFXM", "ZCFXM")
TEXT_FIELDS = ("FWZL", "GSJGMC", "RQJGMC", "GRJGMC")
UPPER_FIELDS = ("ZRFZJHM", "ZCFZJHM", "GSJGBM", "RQJGBM", "GRJGBM", "YDHH", "YSHH", "YQHH", "YNHH")
OWNER_SEPARATORS = r"[,，、/;；]"  # names are not NFKC-normalised, so both widths
SIDES = {"ZRF": "buyer", "ZCF": "seller"}
DBSJ_PATTERN = r"^\d{4}-\d{2}-\d{2}( \d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$"


# --- the clean-ups, exact on any value ----------------------------------------------------
# The general paths: run on the rows the byte scans flag, and the reference that
# tests/unit/transforms/cohandling/test_fast_paths.py holds every fast path to.


# Whitespace and the invisible characters that survive NFKC (zero-width space/joiners, word
# joiner, BOM, soft hyphen): in a code they are never part of the value. Ingest cleaning
# (transforms/common/text.py) removes most of them already; this holds for a value that arrives uncleaned.
_CODE_INVISIBLE = r"[\s\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}\x{00AD}\x{180E}]+"


def _code_full(arr: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_normalize(arr, "NFKC"), _CODE_INVISIBLE, "")


# Characters written for the middle dot of transliterated names (GB/T 15834-2011 标点符号用法 4.14:
# 间隔号 '·' U+00B7): katakana middle dot, bullet, full-width full stop, hyphenation point,
# half-width katakana middle dot, dot operator. All become U+00B7. A middle dot is not an owner separator.
NAME_DOTS = "\u30fb\u2022\uff0e\u2027\uff65\u22c5"


def _text_full(arr: pa.Array, *, nfkc: bool) -> pa.Array:
    out = pc.utf8_normalize(arr, "NFKC") if nfkc else pc.replace_substring_regex(arr, f"[{NAME_DOTS}]", "\u00b7")
    # Half-width brackets and collapsed inner spaces keep institution names comparable.
    out = pc.replace_substring(pc.replace_substring(out, "（", "("), "）", ")")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(out, r"\s+", " "))


def _split_full(arr: pa.Array) -> pa.Array:
    """Owner lists; a null field is a null list, empty items are kept (and found by the rules)."""
    parts = pc.split_pattern_regex(pc.fill_null(arr, ""), OWNER_SEPARATORS)
    return pc.if_else(pc.is_null(arr), pa.scalar(None, parts.type), parts)


# --- the same, run only where the bytes say a value may change -----------------------------


def _code(arr: pa.Array, *, upper: bool, cjk: bool) -> pa.Array:
    if cjk:  # certificate numbers: plain CJK text is left alone too
        flag = utf8.not_plain
    else:
        flag = utf8.not_ascii_space_or_lower if upper else utf8.not_ascii_or_space
    full = (lambda a: pc.utf8_upper(_code_full(a))) if upper else _code_full
    return utf8.clean(arr, utf8.rows_with(arr, flag), full)


def _text(arr: pa.Array, *, nfkc: bool) -> pa.Array:
    return utf8.clean(arr, utf8.text_needs_work(arr), lambda a: _text_full(a, nfkc=nfkc))


def _separator_lead(data: np.ndarray) -> np.ndarray:
    # ',' '/' ';' and the lead bytes of '，' '；' (EF) and '、' (E3): where a separator may start.
    return (data == 0x2C) | (data == 0x2F) | (data == 0x3B) | (data == 0xEF) | (data == 0xE3)


def _separators(data: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, byte length) of the OWNER_SEPARATORS characters among candidate positions in data."""
    lead = data[candidates]
    single = lead < 0x80
    last = len(data) - 1
    second, third = data[np.minimum(candidates + 1, last)], data[np.minimum(candidates + 2, last)]
    wide = (candidates + 2 <= last) & (
        ((lead == 0xEF) & (second == 0xBC) & ((third == 0x8C) | (third == 0x9B))) | ((lead == 0xE3) & (second == 0x80) & (third == 0x81))
    )
    keep = single | wide
    return candidates[keep], np.where(single, 1, 3)[keep]


def _split_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Owner lists of a column, chunk by chunk (`_split`).

    The items' bytes of all chunks go into one allocation: big enough for the kernel's huge
    pages, it costs a few page faults where one per chunk costs thousands.
    """
    chunks = column.chunks
    spans = [int(np.diff(utf8.buffers(c)[0][[0, -1]])[0]) for c in chunks]
    room = np.empty(sum(spans), dtype=np.uint8)
    scratch = np.empty(max(spans, default=0), dtype=bool)
    out, at = [], 0
    for chunk in chunks:
        lists, used = _split(chunk, room[at:], scratch)
        out.append(lists)
        at += used
    return pa.chunked_array(out, type=pa.list_(pa.string()))


def _split(arr: pa.Array, room: np.ndarray | None = None, scratch: np.ndarray | None = None) -> tuple[pa.Array, int]:
    """(Owner lists, as `_split_full` makes them, cut straight from the bytes; bytes of `room` used).

    Every separator ends one item and starts the next (so `a,,b` has an empty middle item,
    and an empty value is one empty item); a null value is a null list. The items' bytes are
    the values' bytes without the separators, written to the front of `room` (or a new
    buffer); with no separator the list shares the values' buffer.
    """
    n = len(arr)
    offsets, data = utf8.buffers(arr)
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False) if arr.null_count else np.ones(n, dtype=bool)
    start, end = int(offsets[0]), int(offsets[-1])
    cuts, widths = _separators(data[:end], utf8.positions(data[start:end], _separator_lead) + start)
    cut_rows = np.searchsorted(offsets, cuts, side="right") - 1
    keep = valid[cut_rows]
    cuts, widths, cut_rows = cuts[keep], widths[keep], cut_rows[keep]
    items = np.where(valid, 1 + np.bincount(cut_rows, minlength=n), 0)
    list_offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(items, out=list_offsets[1:])

    # Item i spans [starts[i], ends[i]): a row's items start at the row and after each of its
    # separators, and end at each separator and at the row's end.
    row_starts, row_ends = offsets[:-1][valid].astype(np.int64), offsets[1:][valid].astype(np.int64)
    after = np.searchsorted(row_starts, cuts, side="right")  # just past the separator's row
    starts = np.insert(row_starts, after, cuts + widths)
    ends = np.insert(row_ends, after - 1, cuts)
    item_offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=item_offsets[1:])
    nulls_with_bytes = np.flatnonzero(~valid & (np.diff(offsets) > 0))
    if len(cuts) or len(nulls_with_bytes):
        # The items' bytes: the values' bytes without the separators (and any bytes a null slot holds).
        kept = np.ones(end - start, dtype=bool) if scratch is None else scratch[: end - start]
        kept[:] = True
        kept[np.repeat(cuts - start, widths) + np.arange(int(widths.sum())) - np.repeat(np.cumsum(widths) - widths, widths)] = False
        for r in nulls_with_bytes:
            kept[offsets[r] - start : offsets[r + 1] - start] = False
        used = int(item_offsets[-1])
        items_bytes = data[start:end][kept]  # (np.compress would build an index eight times the size)
        if room is not None:
            room[:used] = items_bytes
            items_bytes = room[:used]
        item_data = pa.py_buffer(items_bytes)
    else:
        used = 0
        item_data = arr.buffers()[2]
        item_offsets += row_starts[0] if len(row_starts) else 0
    items_arr = pa.Array.from_buffers(pa.string(), len(item_offsets) - 1, [None, pa.py_buffer(item_offsets.astype(np.int32)), item_data])
    return pa.ListArray.from_arrays(pa.array(list_offsets), items_arr, mask=pa.array(~valid) if arr.null_count else None), used


def _area(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(number, count of decimals) of each area, computed once per distinct value (few)."""
    encoded = arr.dictionary_encode()
    # As written (already NFKC, no spaces): a unit after the number (㎡ and m² become m2 under NFKC,
    # 平方米) and thousands separators (1,234.5) are dropped; anything else must be a plain decimal.
    area = pc.replace_substring_regex(encoded.dictionary, r"(m2|M2|平方米)$", "")
    area = pc.if_else(pc.fill_null(pc.match_substring_regex(area, r"^-?\d{1,3}(,\d{3})+(\.\d+)?$"), False), pc.replace_substring(area, ",", ""), area)
    numeric = pc.match_substring_regex(area, r"^-?\d+(\.\d+)?$")
    number = pc.if_else(numeric, area, pa.scalar(None, area.type)).cast(pa.float64())
    decimals = pc.utf8_length(pc.replace_substring_regex(area, r"^-?\d+\.?", ""))
    decimals = pc.if_else(numeric, decimals.cast(pa.int32()), pa.scalar(None, pa.int32()))
    return pc.take(number, encoded.indices), pc.take(decimals, encoded.indices)


# --- phones ---------------------------------------------------------------------------------
# Rewrites, in order, from how people and systems write a phone to one canonical form:
# mobile `1XXXXXXXXXX`, landline `0AREA-LOCAL[-EXT]`, service `400/800XXXXXXX`, `95XXX[XXX]`,
# `96XXX`. Applied to a code-normalised value (NFKC, no spaces). What no rewrite makes canonical
# is left as it is, and the PHONE rule refuses it.
PHONE_REWRITES = (
    (r"(?i)(?:转|分机|ext\.?)(\d{1,6})$", r"-\1"),  # extension: 转801, 分机801, ext.801 -> -801
    (r"^(?:\+86|0086|86)-?\(?(1\d{2}-?\d{4}-?\d{4})$", r"\1"),  # +86 / 0086 / 86 before a mobile
    (r"^(?:\+86|0086)-?\(?0?([2-9])", r"0\1"),  # +86 before an area code: the trunk 0 comes back
    (r"^\((0\d{2,3})\)-?", r"\1-"),  # (0531)88557856
    (r"^(0\d{2,3})\)-?", r"\1-"),  # what is left of +86(531)88557856
    (r"^(1\d{2})-?(\d{4})-?(\d{4})$", r"\1\2\3"),  # 138-1234-5678
    (r"^(0\d{2,3})-(\d{3,4})-(\d{4})(-\d{1,6})?$", r"\1-\2\3\4"),  # 0531-8855-7856
    (r"^(0[12]\d|0[3-9]\d{2})(\d{7,8}(?:-\d{1,6})?)$", r"\1-\2"),  # 053188557856 -> 0531-88557856
    (r"^([48]00)-?(\d{3,4})-?(\d{3,4})$", r"\1\2\3"),  # 400-123-4567
    (r"^(95\d{3})-(\d{3})$", r"\1\2"),  # 95105-888
)
SERVICE_PATTERN = r"^(?:[48]00\d{7}|95\d{3}(?:\d{3})?|96\d{3})$"


def canonical_phones(arr: pa.Array) -> pa.Array:
    """Each phone (code-normalised) rewritten to its canonical form (PHONE_REWRITES)."""
    out = arr
    for pattern, replacement in PHONE_REWRITES:
        out = pc.replace_substring_regex(out, pattern, replacement)
    return out


def _canonical_phone_lists(lists: pa.ListArray) -> pa.ListArray:
    """Owner phone lists with every phone in canonical form. A plain 11-digit mobile (most
    phones) is canonical already: only the other items go through the rewrites."""
    items = lists.values
    lengths = utf8.byte_lengths(items)
    not_digits = utf8.rows_with(items, lambda data: (data - np.uint8(48)) > np.uint8(9))
    rest = np.flatnonzero(not_digits | (lengths != 11) | ~pc.fill_null(pc.starts_with(items, "1"), False).to_numpy(zero_copy_only=False))
    if not len(rest):
        return lists
    rewritten = canonical_phones(items.take(pa.array(rest)))
    mask = np.zeros(len(items), dtype=bool)
    mask[rest] = True
    merged = pc.replace_with_mask(items, pa.array(mask), rewritten)
    return pa.ListArray.from_arrays(lists.offsets, merged, mask=pc.is_null(lists) if lists.null_count else None)


def canonical_phone(value: str | None) -> str | None:
    """One phone as written -> canonical form, or None when it is not a well-formed phone
    (mobile, landline with any area code, service number; local lengths are the rule's business)."""
    if value is None:
        return None
    code = _code_full(pa.array([value], pa.string()))
    out = canonical_phones(code)[0].as_py()
    canonical = r"^1[3-9]\d{9}$|^0(?:[12]\d|[3-9]\d{2})-\d{7,8}(?:-\d{1,6})?$|" + SERVICE_PATTERN
    ok = out is not None and re.fullmatch(canonical, out) is not None
    return out if ok else None


# --- DBSJ ----------------------------------------------------------------------------------


# Chinese date-time as clerks type it: 2024年6月3日 9时5分3秒 (点 for 时) → 2024-6-3 9:5:3.
_CHINESE_DATE = (("年", "-"), ("月", "-"), ("日", " "), ("时", ":"), ("点", ":"), ("分", ":"), ("秒", ""))
# A UTC offset after a time (ISO 8601: Z, ±hh:mm, ±hhmm, ±hh).
_DBSJ_ZONED = r"^(?P<local>.*\d:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)$"


def _parse_dbsj_full(arr: pa.Array) -> np.ndarray:
    text = pc.fill_null(arr, "")
    for chinese, written in _CHINESE_DATE:
        text = pc.replace_substring(text, chinese, written)
    text = pc.utf8_trim(pc.replace_substring_regex(text, r"\s+", " "), " :")
    text = pc.replace_substring(pc.replace_substring(text, "/", "-"), "T", " ")
    # A dotted date (2024.6.3, 2024.06.03 09:05), as people type dates in China: three parts only.
    text = pc.replace_substring_regex(text, r"^(\d{4})\.(\d{1,2})\.(\d{1,2})( |$)", r"\1-\2-\3\4")
    # Written with an offset: read as the same instant in Shandong local time (as transforms/remote/package_rules.py).
    zoned = pc.fill_null(pc.match_substring_regex(text, _DBSJ_ZONED), False).to_numpy(zero_copy_only=False)
    zones = None
    if zoned.any():
        parts = pc.extract_regex(text, _DBSJ_ZONED)
        zones = pc.struct_field(parts, "zone").to_numpy(zero_copy_only=False)
        text = pc.if_else(pa.array(zoned), pc.struct_field(parts, "local"), text)
    text = pc.replace_substring_regex(text, r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$", r"\1-\2-\3 \4:\5:\6")
    text = pc.replace_substring_regex(text, r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3")
    text = pc.replace_substring_regex(text, r"^(\d{4})-(\d)-", r"\1-0\2-")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2})-(\d)(\D|$)", r"\1-0\2\3")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) (\d)(:|$)", r"\1 0\2\3")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2} \d{2})$", r"\1:00")  # 9时 alone
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2} \d{2}):(\d)(:|$)", r"\1:0\2\3")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}):(\d)$", r"\1:0\2")
    ok = pc.match_substring_regex(text, DBSJ_PATTERN)
    text = pc.if_else(ok, text, pa.scalar(None, text.type))
    parsed = pd.to_datetime(pd.Series(text.to_numpy(zero_copy_only=False), dtype=object), format="ISO8601", errors="coerce")
    if zones is not None:
        offset = pd.to_datetime(pd.Series(["2000-01-01T00:00:00" + (z if z and z != "Z" else "+00:00") for z in zones[zoned]]), format="ISO8601", errors="coerce", utc=True)
        # offset minutes east of UTC; an impossible offset (over 14 h) is no time at all
        minutes = (pd.Timestamp("2000-01-01", tz="UTC") - offset).dt.total_seconds().to_numpy() / 60
        minutes[np.abs(minutes) > 14 * 60] = np.nan
        local = parsed[zoned].to_numpy() - (minutes * 60_000_000).astype("timedelta64[us]") + np.timedelta64(8, "h")
        parsed = parsed.to_numpy().astype("datetime64[us]")
        parsed[zoned] = local
        return parsed
    return parsed.to_numpy().astype("datetime64[us]")


_DIGIT_AT = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_PUNCT_AT, _PUNCT = np.array([4, 7, 10, 13, 16]), np.frombuffer(b"-- ::", dtype=np.uint8)


def _parse_dbsj_canonical(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is `YYYY-MM-DD HH:MM:SS`, its time) for an (n, 19) byte matrix; NaT for an impossible time."""
    shaped = utf8.rows_all((matrix[:, _DIGIT_AT] - np.uint8(48)) <= 9) & utf8.rows_all(matrix[:, _PUNCT_AT] == _PUNCT)

    ymd = utf8.decimal(matrix, 0, 4) * 10000 + utf8.decimal(matrix, 5, 7) * 100 + utf8.decimal(matrix, 8, 10)
    hour, minute, second = utf8.decimal(matrix, 11, 13), utf8.decimal(matrix, 14, 16), utf8.decimal(matrix, 17, 19)
    ok = dates.real_yyyymmdd(ymd) & (hour <= 23) & (minute <= 59) & (second <= 59)
    year, month, day = ymd // 10000, ymd // 100 % 100, ymd % 100
    seconds = dates.days_since_epoch(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    out = (seconds * 1_000_000).astype("datetime64[us]")
    out[~ok] = np.datetime64("NaT")
    return shaped, out


def _parse_dbsj_chunk(arr: pa.Array) -> np.ndarray:
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[us]")
    canonical = np.zeros(len(arr), dtype=bool)
    nineteen = utf8.byte_lengths(arr) == 19
    if arr.null_count:
        nineteen &= pc.is_valid(arr).to_numpy(zero_copy_only=False)
    at = np.flatnonzero(nineteen)
    if len(at):
        values = arr if len(at) == len(arr) else arr.take(pa.array(at))
        shaped, times = _parse_dbsj_canonical(utf8.fixed_width_matrix(values, 19))
        canonical[at[shaped]] = True
        out[at[shaped]] = times[shaped]
    rest = np.flatnonzero(~canonical)
    if len(rest):
        out[rest] = _parse_dbsj_full(arr.take(pa.array(rest)))
    return out


def parse_dbsj(arr: pa.ChunkedArray) -> pd.Series:
    """Recorded times from the forms the platform sends; NaT where none fits.

    The usual `YYYY-MM-DD HH:MM:SS` is read straight from the bytes; every other form goes
    through the general path (rewrite to ISO 8601, then pandas).
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    parts = [_parse_dbsj_chunk(c) for c in chunks]
    times = np.concatenate(parts) if parts else np.zeros(0, dtype="datetime64[us]")
    if not (~np.isnat(times)).any():
        times = times.astype("datetime64[s]")  # what pandas gives when nothing parses
    return pd.Series(times)


# --- the records ---------------------------------------------------------------------------


def _as_large_string(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    if raw.type == pa.large_string():
        return raw
    return raw.cast(pa.string()).cast(pa.large_string())


def _normalise_field(field: str, raw: pa.ChunkedArray) -> pa.ChunkedArray:
    if field == "DBSJ":
        return utf8.per_chunk(lambda a: _text(a, nfkc=True), raw)  # keep the space between date and time
    if field == "BDCQZH":  # 〔2021〕, [2021], 【2021】 around the year are read as (2021)
        value = utf8.per_chunk(lambda a: _code(a, upper=False, cjk=True), raw)
        return pc.replace_substring_regex(value, r"^鲁[〔\[【](\d{4})[〕\]】]", r"鲁(\1)")
    if field in CODE_FIELDS:
        return utf8.per_chunk(lambda a: _code(a, upper=field in UPPER_FIELDS, cjk=field == "BDCQZH"), raw)
    return utf8.per_chunk(lambda a: _text(a, nfkc=field not in NAME_FIELDS), raw)


OWNER_LISTS = {f"{prefix}{field}": f"{prefix}_{part}" for prefix in SIDES for part, field in (("NAMES", "XM"), ("TYPES", "ZJZL"), ("IDS", "ZJHM"), ("PHONES", "LXDH"))}


def _field_columns(field: str, raw: pa.ChunkedArray) -> dict[str, pa.ChunkedArray | np.ndarray]:
    """A field normalised, and the columns derived from it (owner list, area, recorded time)."""
    value = _normalise_field(field, raw)
    out: dict[str, pa.ChunkedArray | np.ndarray] = {field: value, f"{field}__orig": raw}
    if field in OWNER_LISTS:
        out[OWNER_LISTS[field]] = _split_column(value)
        if field.endswith("LXDH"):  # each owner's phone in its canonical form
            out[OWNER_LISTS[field]] = pa.chunked_array([_canonical_phone_lists(c) for c in out[OWNER_LISTS[field]].chunks], type=pa.list_(pa.string()))
    elif field == "FWJZMJ":
        areas = [_area(c) for c in value.chunks]
        out["FWJZMJ_NUM"] = pa.chunked_array([a[0] for a in areas], type=pa.float64())
        out["FWJZMJ_DECIMALS"] = pa.chunked_array([a[1] for a in areas], type=pa.int32())
    elif field == "DBSJ":
        out["DBSJ_TS"] = parse_dbsj(value).to_numpy()
    return out


# The owner fields take longest: first on the thread pool, so that the others fill in around them.
_FIELD_ORDER = sorted(FIELD_CODES, key=lambda f: (f not in OWNER_LISTS, f not in ("DBSJ", "BDCQZH", "FWZL", "FWJZMJ")))


def normalize_records(records: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """Annex 1 fields normalised (same names), originals beside them as `<FIELD>__orig`, derived columns."""
    table = records if isinstance(records, pa.Table) else pa.Table.from_pandas(records, preserve_index=False)
    raws = {
        field: _as_large_string(table[field]) if field in table.column_names else pa.chunked_array([pa.nulls(table.num_rows, pa.large_string())])
        for field in FIELD_CODES
    }
    done: dict[str, pa.ChunkedArray | np.ndarray] = {}
    for result in parallel.run_all(lambda f=f: _field_columns(f, raws[f]) for f in _FIELD_ORDER):
        done.update(result)
    columns = {name: table[name] for name in table.column_names if name not in FIELD_CODES}
    for field in FIELD_CODES:
        columns[field], columns[f"{field}__orig"] = done[field], done[f"{field}__orig"]
    for name in (*OWNER_LISTS.values(), "FWJZMJ_NUM", "FWJZMJ_DECIMALS"):
        columns[name] = done[name]
    out = pa.table(columns).to_pandas(types_mapper=_pandas_type)
    out["DBSJ_TS"] = done["DBSJ_TS"]
    return out


def _pandas_type(arrow_type: pa.DataType):
    if arrow_type in (pa.string(), pa.large_string()):
        return pd.StringDtype("pyarrow", na_value=float("nan"))
    if pa.types.is_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None
