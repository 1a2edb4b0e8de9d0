"""The machinery the Annex 1 rules run on (transforms/cohandling/record_rules.py): normalised
records cut into blocks of rows as Arrow arrays, the reference data turned into arrays to look
values up in, and the failures each block records, joined back into one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling.annex1 import UTILITIES
from transforms.cohandling.rule_catalogue import REQUIRED_FIELDS, RULES, Context
from transforms.common import utf8

# The rules run over blocks of rows (BLOCK_ROWS), so that every intermediate array stays
# small enough for the CPU caches; each block records its failures rule by rule, in the
# same order in every block, and the blocks are then joined rule by rule. The result is
# the same as one pass over all rows: failures ordered by rule, then by row. Only the
# ROWGUID check looks across blocks (a duplicate may sit anywhere in the run).

BLOCK_ROWS = 1 << 17


@dataclass
class Part:
    rule: str
    field: str | np.ndarray  # one field, or one per row
    utility: str
    rows: np.ndarray
    with_value: bool  # report the field's value (when there is no original to report)


class Failures:
    """Failures of one block, in the order the rules add them (rows within the block)."""

    def __init__(self) -> None:
        self.parts: list[Part] = []

    def add(self, rows: np.ndarray, rule: str, field: str | np.ndarray, *, utility: str = "", with_value: bool = False) -> None:
        self.parts.append(Part(rule, field, utility, np.asarray(rows, dtype=np.int64), with_value))


def join_blocks(blocks: list[tuple[int, Failures]]) -> list[Part]:
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
        joined.append(Part(first.rule, field, first.utility, rows, first.with_value))
    return joined


def _values_at(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The column's values at rows, as pandas gives them as objects (str, NaN for missing)."""
    taken = arrow_of(column).take(pa.array(rows))
    values = taken.to_numpy(zero_copy_only=False).astype(object)
    if taken.null_count:
        values[pc.is_null(taken).to_numpy(zero_copy_only=False)] = np.nan
    return values


def failure_frame(parts: list[Part], records: pd.DataFrame) -> pd.DataFrame:
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


class Block:
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


def arrow_of(column: pd.Series) -> pa.ChunkedArray:
    """The Arrow data behind a pyarrow-backed pandas column (no copy), or made from its values."""
    backing = getattr(column.array, "_pa_array", None)
    if backing is not None:
        return backing if isinstance(backing, pa.ChunkedArray) else pa.chunked_array([backing])
    return pa.chunked_array([pa.array(column.to_numpy(dtype=object), type=pa.string())])



def block_bounds(reference: pa.ChunkedArray, n: int) -> list[tuple[int, int]]:
    """Row ranges of at most BLOCK_ROWS that do not cross the data's chunks (slices copy nothing)."""
    bounds, at = [], 0
    for chunk in reference.chunks:
        for start in range(0, len(chunk), BLOCK_ROWS):
            bounds.append((at + start, at + min(start + BLOCK_ROWS, len(chunk))))
        at += len(chunk)
    if at != n or not bounds:
        bounds = [(s, min(s + BLOCK_ROWS, n)) for s in range(0, n, BLOCK_ROWS)] or [(0, 0)]
    return bounds


BLOCK_COLUMNS = (
    *REQUIRED_FIELDS, "ZRFLXDH", "ZCFLXDH", "YDHH", "YSHH", "GSJGBM", "GSJGMC", "YQHH", "RQJGBM", "RQJGMC", "YNHH", "GRJGBM", "GRJGMC",
    *(f"{side}_{part}" for side in ("ZRF", "ZCF") for part in ("NAMES", "TYPES", "IDS", "PHONES")),
)


def _literal(text: str) -> str:
    """`text` as an RE2 pattern that matches it literally (metacharacters escaped, nothing else)."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", text)


class Lookups:
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


def not_null(arr: pa.Array) -> np.ndarray:
    if not arr.null_count:
        return np.ones(len(arr), dtype=bool)
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def index_in(arr: pa.Array, values: list[str]) -> np.ndarray:
    """Position of each value in `values`, -1 where absent or null."""
    if not values:
        return np.full(len(arr), -1, dtype=np.int64)
    found = pc.index_in(arr, value_set=pa.array(values, arr.type))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def distinct_sorted(sorted_rows: np.ndarray) -> np.ndarray:
    """Distinct values of an ascending array (np.unique without the sort)."""
    if len(sorted_rows) < 2:
        return sorted_rows
    return sorted_rows[np.concatenate([[True], sorted_rows[1:] != sorted_rows[:-1]])]



def matches(values: pa.Array, pattern: str) -> np.ndarray:
    """Where a whole value matches `pattern` (nulls never do)."""
    return pc.fill_null(pc.match_substring_regex(values, f"^(?:{pattern})$"), False).to_numpy(zero_copy_only=False)


def matches_where(values: pa.Array, where: np.ndarray, pattern: str) -> np.ndarray:
    """`matches` computed only at the positions of the boolean mask `where` (False elsewhere)."""
    out = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(where)
    if len(idx):
        out[idx] = matches(values.take(pa.array(idx)), pattern)
    return out
