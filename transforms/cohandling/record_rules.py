"""The engine of the Annex 1 rules (docs/domain.md §2–4; the catalogue of ids, severities,
scopes and messages is transforms/cohandling/rule_catalogue.py), vectorised over normalised records.

Each rule has a stable id, a severity and a scope:

- severity `error` stops what it touches; `warning` is reported and lets it through;
- scope `record` touches the whole record; scope `utility` touches only that utility's
  work order — a bad gas institution code does not stop the electricity transfer.

So a record ends as `passed` (no error), `partial` (utility errors only, and at least one
requested utility is still clear), or `quarantined` (a record error, or every requested
utility blocked). `evaluate()` returns one row per failure (every rule, every record —
not a sample) and one status per record, so that records in = passed + partial +
quarantined always holds. The owners' checks are transforms/cohandling/owner_rules.py; the
blocks of rows all rules run over, transforms/cohandling/rule_blocks.py.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling import crossfield
from transforms.cohandling.annex1 import UTILITIES
from transforms.cohandling.owner_rules import check_parties
from transforms.cohandling.rule_blocks import (
    BLOCK_COLUMNS,
    Block,
    Failures,
    Lookups,
    Part,
    arrow_of,
    block_bounds,
    failure_frame,
    index_in,
    join_blocks,
    matches,
    not_null,
)
from transforms.cohandling.rule_catalogue import CERT_PATTERN, LEGACY_CERT_PATTERN, REQUIRED_FIELDS, ROWGUID_MAX, RULES, Context
from transforms.common import parallel, utf8


def evaluate(records: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All rules over normalised records (positional rows, in change order).

    Returns (failures, outcome): failures has one row per (record row, rule, field,
    utility) with the original value; outcome has per record row `status`
    (passed / partial / quarantined), `requested` and `blocked` utilities (comma-joined).
    """
    n = len(records)
    columns = {name: arrow_of(records[name]) for name in BLOCK_COLUMNS}
    dense = {
        "DBSJ_TS": records["DBSJ_TS"].to_numpy(),
        "FWJZMJ_NUM": records["FWJZMJ_NUM"].to_numpy(dtype=float, na_value=np.nan),
        "FWJZMJ_DECIMALS": records["FWJZMJ_DECIMALS"].to_numpy(dtype=float, na_value=np.nan),
    }
    lookups = Lookups(ctx)
    run_wide = Failures()

    def block(start: int, stop: int) -> tuple[Failures, Failures, dict[str, np.ndarray]]:
        rows = Block(columns, start, stop)
        before, after = Failures(), Failures()
        _required(rows, before)
        for prefix in ("ZRF", "ZCF"):
            check_parties(rows, prefix, ctx, lookups, after)
        _place(rows, ctx, lookups, after)
        _area(rows, {k: v[start:stop] for k, v in dense.items()}, after)
        _certificate(rows, after)
        _dbsj(rows, dense["DBSJ_TS"][start:stop], ctx, after)
        requested = _utilities(rows, lookups, after)
        _cross(rows, dense["DBSJ_TS"][start:stop], ctx, after)
        return before, after, requested

    bounds = block_bounds(columns["ROWGUID"], n)
    # The blocks, and beside them the run-wide ROWGUID check, on the thread pool.
    results = parallel.run_all([lambda: _rowguid(records, ctx, run_wide), *(lambda b=b: block(*b) for b in bounds)])[1:]
    starts = [start for start, _ in bounds]
    # The rule order of a single pass over all rows: REQUIRED fields, ROWGUID, then the rest.
    parts = join_blocks([(s, r[0]) for s, r in zip(starts, results)]) + join_blocks([(0, run_wide)]) + join_blocks([(s, r[1]) for s, r in zip(starts, results)])
    requested = {u: np.concatenate([r[2][u] for r in results]) for u in UTILITIES}
    outcome = _outcome(n, parts, requested)
    return failure_frame(parts, records), outcome



def _required(b: Block, f: Failures) -> None:
    for field in REQUIRED_FIELDS:
        f.add(np.flatnonzero(b.null(field)), "REQUIRED", field)


def _rowguid(records: pd.DataFrame, ctx: Context, f: Failures) -> None:
    """A second new record under a ROWGUID (earlier in this run, or taken in an earlier run)."""
    guid = arrow_of(records["ROWGUID"]).combine_chunks()
    n = len(guid)
    new = pc.fill_null(pc.equal(arrow_of(records["OP"]), "I"), False).to_numpy(zero_copy_only=False) if "OP" in records else np.ones(n, dtype=bool)
    present = new & not_null(guid)
    dup = np.zeros(n, dtype=bool)
    if present.any():
        dup[present] = _seen_before(guid if present.all() else guid.filter(pa.array(present)))
    if ctx.known_rowguids:
        dup |= present & pc.fill_null(pc.is_in(guid, value_set=pa.array(list(ctx.known_rowguids), guid.type)), False).to_numpy(zero_copy_only=False)
    f.add(np.flatnonzero(dup), "ROWGUID_DUPLICATE", "ROWGUID", with_value=True)
    # Longer than the ledger holds (a normalised value may grow: NFKC of a ligature): quarantined
    # by name here, never refused by the database when the verdict is saved.
    long = pc.fill_null(pc.greater(pc.utf8_length(guid), ROWGUID_MAX), False).to_numpy(zero_copy_only=False)
    f.add(np.flatnonzero(long), "ROWGUID_LENGTH", "ROWGUID", with_value=True)


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _seen_before(values: pa.Array) -> np.ndarray:
    """Per value (none null): does the same value come earlier in the array?"""
    lengths = utf8.byte_lengths(values)
    width = int(lengths[0]) if len(values) else 0
    if not 8 <= width <= 64 or (lengths != width).any():
        # Dictionary codes are handed out in order of first appearance: a code no higher
        # than the highest one before it has been seen already.
        codes = values.dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
        return codes <= np.concatenate([[-1], np.maximum.accumulate(codes)[:-1]])
    # Values of one width (UUIDs): a 64-bit hash of each, read as overlapping 8-byte words;
    # only values whose hash repeats are compared, exactly, in order.
    matrix = utf8.fixed_width_matrix(values, width)
    n = len(values)
    h = np.zeros(n, dtype=np.uint64)
    for at in sorted({*range(0, width - 7, 8), width - 8}):
        h ^= np.ndarray(shape=(n,), dtype="<u8", buffer=matrix, offset=at, strides=(width,))
        h *= _MIX
        h ^= h >> np.uint64(29)
    ordered = np.sort(h)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    seen = np.zeros(n, dtype=bool)
    if len(repeated):
        # A table on the hashes' low bits rules out nearly every value before the exact look-up.
        low = np.zeros(1 << 20, dtype=bool)
        low[(repeated & np.uint64((1 << 20) - 1)).astype(np.int64)] = True
        candidates = low[(h & np.uint64((1 << 20) - 1)).astype(np.int64)]
        maybe = np.flatnonzero(candidates)
        candidates[maybe] = repeated[np.minimum(np.searchsorted(repeated, h[maybe]), len(repeated) - 1)] == h[maybe]
        earlier: set[bytes] = set()
        for i in np.flatnonzero(candidates):
            key = matrix[i].tobytes()
            seen[i] = key in earlier
            earlier.add(key)
    return seen


# --- place, area, certificate, recorded time -----------------------------------------------


def _place(b: Block, ctx: Context, lookups: Lookups, f: Failures) -> None:
    encoded = b.arr("XZQH").dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    dictionary = encoded.dictionary.to_pylist()
    # A retired code has its own rule (XZQH_RETIRED, transforms/cohandling/crossfield.py) naming the successor.
    county = np.array([c in ctx.counties or c in (ctx.retired or {}) for c in dictionary] + [False])[codes]
    zone = np.array([c in ctx.functional_zones for c in dictionary] + [False])[codes]
    f.add(np.flatnonzero((codes >= 0) & ~county & ~zone), "XZQH_COUNTY", "XZQH", with_value=True)
    f.add(np.flatnonzero(zone), "XZQH_ZONE", "XZQH", with_value=True)

    # Address names its place: rows grouped by XZQH, one search per group for any of its names.
    patterns = [lookups.place_pattern.get(c) for c in dictionary] + [None]
    has_names = np.array([p is not None for p in patterns])
    rows = np.flatnonzero(has_names[codes] & ~b.null("FWZL"))
    # Stable order by XZQH code; as 16-bit keys numpy sorts them by radix.
    keys = codes[rows].astype(np.int16 if len(dictionary) < 2**15 else np.int64)
    rows = rows[np.argsort(keys, kind="stable")]
    address = b.arr("FWZL").take(pa.array(rows))
    group_codes = codes[rows]
    starts = np.flatnonzero(np.diff(group_codes, prepend=-2))
    named = np.zeros(len(rows), dtype=bool)
    for lo, hi in zip(starts, np.append(starts[1:], len(rows))):
        matched = pc.match_substring_regex(address.slice(lo, hi - lo), patterns[group_codes[lo]])
        named[lo:hi] = matched.to_numpy(zero_copy_only=False)
    f.add(np.sort(rows[~named]), "ADDRESS_PLACE", "FWZL", with_value=True)


def _area(b: Block, dense: dict[str, np.ndarray], f: Failures) -> None:
    value, decimals = dense["FWJZMJ_NUM"], dense["FWJZMJ_DECIMALS"]
    present = ~b.null("FWJZMJ")
    f.add(np.flatnonzero(present & (np.isnan(value) | (decimals > 2))), "AREA_FORMAT", "FWJZMJ")
    f.add(np.flatnonzero(~np.isnan(value) & (value <= 0)), "AREA_POSITIVE", "FWJZMJ")
    f.add(np.flatnonzero(~np.isnan(value) & (value > 10000)), "AREA_LARGE", "FWJZMJ")


_CERT = re.compile(CERT_PATTERN)
_CERT_UNBOUNDED = CERT_PATTERN.replace("[^()]{1,30}?", "[^()]+")
assert _CERT_UNBOUNDED != CERT_PATTERN


def _cert_ok(cert: pa.Array) -> np.ndarray:
    """Per value: does it match CERT_PATTERN (as Python's re.fullmatch; null: no)?

    CERT_PATTERN is Python `re` (its \\d is any Unicode digit). On plain text (ASCII and
    common CJK, transforms/common/utf8.py) RE2 reads it the same way; other values get `re` itself.
    """
    # Around the place name the pattern needs at least 18 characters, so in a value of at most
    # 48 the place name has at most 30 and its bound cannot fail: RE2 is twice as fast without it.
    ok = pc.fill_null(pc.match_substring_regex(cert, _CERT_UNBOUNDED), False).to_numpy(zero_copy_only=False)
    long = np.flatnonzero(pc.fill_null(pc.greater(pc.utf8_length(cert), 48), False).to_numpy(zero_copy_only=False))
    if len(long):
        ok[long] = matches(cert.take(pa.array(long)), CERT_PATTERN)
    other = np.flatnonzero(utf8.rows_with(cert, utf8.not_plain) & not_null(cert))
    if len(other):
        ok[other] = [_CERT.fullmatch(v) is not None for v in cert.take(pa.array(other)).to_pylist()]
    return ok


def _certificate(b: Block, f: Failures) -> None:
    cert = b.arr("BDCQZH")
    legacy = pc.fill_null(pc.match_substring_regex(cert, LEGACY_CERT_PATTERN), False).to_numpy(zero_copy_only=False)
    ok = _cert_ok(cert)
    present = not_null(cert)
    f.add(np.flatnonzero(present & ~ok & ~legacy), "CERT_FORMAT", "BDCQZH")
    f.add(np.flatnonzero(legacy), "CERT_LEGACY", "BDCQZH")


def _dbsj(b: Block, ts: np.ndarray, ctx: Context, f: Failures) -> None:
    present = ~b.null("DBSJ")
    parsed = ~np.isnat(ts)
    f.add(np.flatnonzero(present & ~parsed), "DBSJ_FORMAT", "DBSJ")
    f.add(np.flatnonzero(parsed & (ts > pd.Timestamp(ctx.as_of).to_datetime64())), "DBSJ_FUTURE", "DBSJ")
    f.add(np.flatnonzero(parsed & (ts < np.datetime64("1990-01-01"))), "DBSJ_OLD", "DBSJ")


def _cross(b: Block, ts: np.ndarray, ctx: Context, f: Failures) -> None:
    """Cross-field checks (transforms/cohandling/crossfield.py), in one fixed order in every block."""
    ids = {side: b.arr(f"{side}_IDS") for side in ("ZRF", "ZCF")}
    types = {side: b.arr(f"{side}_TYPES") for side in ("ZRF", "ZCF")}
    for rule, field, rows in crossfield.owners(ids, types, ts, ctx.as_of):
        f.add(rows, rule, field, with_value=True)
    xzqh = b.arr("XZQH")
    for rule, field, rows in crossfield.certificate(b.arr("BDCQZH"), ts, xzqh, ctx.place_names):
        f.add(rows, rule, field, with_value=True)
    f.add(crossfield.retired_county(xzqh, ctx.retired or {}), "XZQH_RETIRED", "XZQH", with_value=True)
    for utility, (_, code, _) in UTILITIES.items():
        if code is None:
            continue
        rows = crossfield.institution_county(b.arr(code), xzqh, (ctx.institution_counties or {}).get(utility, {}), ctx.counties)
        f.add(rows, "INSTITUTION_COUNTY", code, utility=utility, with_value=True)


# --- utilities and the outcome ------------------------------------------------------------


def _utilities(b: Block, lookups: Lookups, f: Failures) -> dict[str, np.ndarray]:
    """Checks per utility; returns which utilities each record requests."""
    requested: dict[str, np.ndarray] = {}
    for utility, (account, code, name) in UTILITIES.items():
        has_account = ~b.null(account)
        if code is None:
            requested[utility] = has_account
            continue
        has_code = ~b.null(code)
        has_name = ~b.null(name)
        requested[utility] = has_account | has_code | has_name
        incomplete = requested[utility] & ~(has_account & has_code & has_name)
        rows = np.flatnonzero(incomplete)
        missing_field = np.where(~has_code[rows], code, np.where(~has_name[rows], name, account))
        f.add(rows, "ACCOUNT_INSTITUTION", missing_field.astype(object), utility=utility)
        codes, registered_name, names = lookups.institutions[utility]
        code_at = index_in(b.arr(code), codes)
        unknown = has_code & (code_at < 0)
        f.add(np.flatnonzero(unknown), "INSTITUTION_UNKNOWN", code, utility=utility, with_value=True)
        # Names compared as positions in the registry's list of names (-1: not a registered name).
        mismatch = has_code & has_name & ~unknown & (registered_name[code_at] != index_in(b.arr(name), names))
        f.add(np.flatnonzero(mismatch), "INSTITUTION_NAME", name, utility=utility, with_value=True)
    none = ~np.logical_or.reduce(list(requested.values()))
    f.add(np.flatnonzero(none), "UTILITY_NONE", "YDHH")
    return requested


def _outcome(n: int, parts: list[Part], requested: dict[str, np.ndarray]) -> pd.DataFrame:
    record_error = np.zeros(n, dtype=bool)
    blocked = {u: np.zeros(n, dtype=bool) for u in requested}
    for p in parts:
        rule = RULES[p.rule]
        if rule.severity != "error":
            continue
        if rule.scope == "record":
            record_error[p.rows] = True
        elif p.utility in blocked:
            blocked[p.utility][p.rows] = True
    blocked_by = {u: (blocked[u] | record_error) & requested[u] for u in requested}
    clear_any = np.logical_or.reduce([requested[u] & ~blocked_by[u] for u in requested])
    blocked_any = np.logical_or.reduce(list(blocked_by.values()))
    # A record asking for no utility has nothing clear: quarantined (UTILITY_NONE says why).
    status = np.where(record_error | ~clear_any, 2, np.where(blocked_any, 1, 0))
    if n == 0:  # the column types pandas gives empty results
        empty = np.zeros(0, dtype=object)
        return pd.DataFrame({"status": np.zeros(0, dtype="<U11"), "requested": empty, "blocked": empty})

    def joined(masks: dict[str, np.ndarray]) -> pa.Array:
        # Every combination of utilities, comma-joined in UTILITIES order, picked by bit pattern.
        names = list(masks)
        table = [",".join(u for i, u in enumerate(names) if bits >> i & 1) for bits in range(1 << len(names))]
        bits = np.zeros(n, dtype=np.int64)
        for i, u in enumerate(names):
            bits |= masks[u].astype(np.int64) << i
        return pa.array(table, pa.large_string()).take(pa.array(bits))

    # Built as Arrow strings: pandas keeps its `str` columns that way, so nothing is converted.
    columns = {"status": pa.array(["passed", "partial", "quarantined"], pa.large_string()).take(pa.array(status)), "requested": joined(requested), "blocked": joined(blocked_by)}
    return pa.table(columns).to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow", na_value=np.nan) if t == pa.large_string() else None)

