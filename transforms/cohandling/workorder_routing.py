"""Routing validated records into work orders, one per requested utility (docs/domain.md §1).

- electricity (YDHH) → the State Grid marketing system, one receiver for the province
  (channel `grid`);
- water / gas / heat → by the institution code the record gives (GSJGBM / RQJGBM /
  GRJGBM), looked up in the registry version in force at routing time: account mode
  (配置账号) → the institution's SFTP drop; system mode (系统对接) → the county system's
  endpoint. A code re-coded since (原机构编码 → 机构编码) routes to its successor.

Statuses a routed work order gets here: `ready`; `held` (account mode, and the county's
Annex 3 opening date is later than the routing day — `hold_until` — or the county has not
applied yet); `quarantined` (the utility was blocked by validation, or the code is not in
the registry in force, belongs to another utility, or was retired without a successor);
`withdrawn` (the platform withdrew the record). `plan_versions` then compares with the
work orders already held: same record version → the same work order (its status may
move, e.g. held → ready on the opening date); a later version (a correction) → a new
version marked as a correction; a utility the correction no longer asks for → `cancelled`.
A withdrawn or dropped work order that a receiver may already hold (`at_receiver`) becomes
`cancel_pending` instead: delivery then tells that receiver (connectors/ledger/delivery_store.py).

Pure and vectorised: pandas / numpy / pyarrow.compute, no I/O, no clock.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling.annex1 import UTILITIES

GRID_DESTINATION = "grid"  # 国网山东省电力公司营销系统 (总对总)
ROUTE_FIELDS = ("XZQH", "YDHH", "YSHH", "GSJGBM", "GSJGMC", "YQHH", "RQJGBM", "RQJGMC", "YNHH", "GRJGBM", "GRJGMC")
UTILITY_ZH = {"electricity": "用电", "water": "供水", "gas": "燃气", "heat": "供热"}

# reason_code -> (Chinese, English); {code}, {other}, {date}, {successor} filled per work order.
REASONS: dict[str, tuple[str, str]] = {
    "VALIDATION_BLOCKED": ("该项未通过附件1校验，见隔离清单", "blocked by an Annex 1 rule (see the quarantine list)"),
    "VALIDATION_RECORD": ("记录（更正后）未通过附件1校验，见隔离清单", "the record (as corrected) failed Annex 1 validation"),
    "INSTITUTION_MISSING": ("未填写机构编码", "no institution code given"),
    "INSTITUTION_UNKNOWN": ("机构编码“{code}”不在现行机构名录中", "institution code {code} is not in the registry in force"),
    "INSTITUTION_OTHER_TYPE": ("机构编码“{code}”在名录中是{other}机构", "institution code {code} is registered as a {other} institution"),
    "INSTITUTION_RETIRED": ("机构编码“{code}”已停用且无接续机构", "institution code {code} was retired without a successor"),
    "INSTITUTION_RECODED": ("机构编码“{code}”已变更为“{successor}”，按新编码发送", "code {code} was re-coded to {successor}; routed there"),
    "COUNTY_NOT_APPLIED": ("所在县尚未申请开通配置账号方式（附件3），暂存待发", "the county has not applied to open account mode (Annex 3); waiting"),
    "COUNTY_NOT_OPEN": ("所在县配置账号方式于{date}开通，届时自动发送", "the county opens account mode on {date}; released then"),
    "RECORD_WITHDRAWN": ("平台已撤回该记录", "the platform withdrew the record"),
    "UTILITY_DROPPED": ("更正后的记录不再申请该项过户", "the corrected record no longer asks for this utility"),
    "DESTINATION_CHANGED": ("更正后该项改由其他机构（系统）办理", "the corrected record sends this utility to another receiver"),
}
# A work order a receiver may hold (delivered, or sent and not confirmed) that is withdrawn or no longer asked
# for is `cancel_pending` until the receiver is told (cancellation batch / cancel call): then `cancelled`, or
# `cancel_refused` when the receiver had already handled it. Never delivered: `withdrawn` / `cancelled` at once.
CANCEL_STATUSES = frozenset({"cancel_pending", "cancelled", "cancel_refused"})
ROUTING_STATUSES = frozenset({"ready", "held", "quarantined", "cancelled", "withdrawn"})  # what routing may still change
COMPARED = ("status", "channel", "destination", "file_format", "institution_version_id", "hold_until", "reason_code", "account_no", "institution_code")
WORK_ORDER_COLUMNS = (
    "rowguid", "utility", "source", "change_seq", "account_no", "institution_code", "institution_version_id", "xzqh",
    "channel", "destination", "file_format", "status", "hold_until", "reason_code", "reason",
)


def _code(arr) -> pa.Array:
    """Code-like text as validation normalises it: NFKC (full width → half), no spaces, upper case, blank → null.

    Computed once per distinct value (a day's records name a few hundred institutions).
    """
    arr = arr.cast(pa.string())
    encoded = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).dictionary_encode()
    values = pc.utf8_upper(pc.replace_substring_regex(pc.utf8_normalize(encoded.dictionary, "NFKC"), r"\s+", ""))
    values = pc.if_else(pc.equal(pc.utf8_length(values), 0), pa.scalar(None, pa.string()), values)
    return values.take(encoded.indices)


def _column(table: pa.Table, name: str) -> pa.Array:
    return table[name].combine_chunks() if table[name].num_chunks != 1 else table[name].chunk(0)


def route_work_orders(records, registry: pd.DataFrame, *, as_of: date) -> pa.Table:
    """Work orders (WORK_ORDER_COLUMNS) for every utility each record requested, as an Arrow table.

    `records` (Arrow or pandas): ROWGUID, source, change_seq, status (passed | partial |
    quarantined | withdrawn), requested and blocked (comma-joined utilities, from
    validation) and ROUTE_FIELDS as received. `registry`: connectors.ledger.registry_store
    `registry_at` rows (one per code: in force, or retired with a successor).
    `as_of`: the routing day.
    """
    table = records if isinstance(records, pa.Table) else pa.Table.from_pandas(records, preserve_index=False)
    status = _column(table, "status").cast(pa.string())
    withdrawn_all = _is(status, "withdrawn")
    quarantined_all = _is(status, "quarantined")
    requested = _column(table, "requested").cast(pa.string())
    blocked = _column(table, "blocked").cast(pa.string())
    xzqh = _code(_column(table, "XZQH"))
    reg = _Registry(registry)
    parts = []
    for utility, (account_field, code_field, _name_field) in UTILITIES.items():
        picked = np.flatnonzero(_contains(requested, utility))
        rows = pa.array(picked)
        if len(rows) == 0:
            continue
        n = len(rows)
        code = _code(_column(table, code_field).take(rows)) if code_field else pa.nulls(n, pa.string())
        routed = _grid(n) if utility == "electricity" else reg.resolve(code, utility, as_of)
        overrides = [
            (withdrawn_all[picked], STATUS.index("withdrawn"), "RECORD_WITHDRAWN"),
            (quarantined_all[picked], STATUS.index("quarantined"), "VALIDATION_RECORD"),
            (_contains(blocked, utility)[picked], STATUS.index("quarantined"), "VALIDATION_BLOCKED"),
        ]
        done = np.zeros(n, dtype=bool)
        for mask, new_status, reason in overrides:
            take = mask & ~done
            routed["status"][take] = new_status
            routed["reason"][take] = REASON_CODES.index(reason)
            routed["hold"][take] = False
            done |= take
        parts.append(pa.table({
            "rowguid": _column(table, "ROWGUID").take(rows).cast(pa.string()),
            "utility": pa.array([utility] * n, pa.string()),
            "source": _column(table, "source").take(rows).cast(pa.string()),
            "change_seq": _column(table, "change_seq").take(rows).cast(pa.int64()),
            "account_no": _column(table, account_field).take(rows).cast(pa.string()),
            "institution_code": code,
            "institution_version_id": routed["version_id"],
            "xzqh": xzqh.take(rows),
            "channel": routed["channel"],
            "destination": routed["destination"],
            "file_format": routed["file_format"],
            "status": _decode(routed["status"], STATUS),
            "hold_until": pc.if_else(pa.array(routed["hold"]), routed["open_date"], pa.scalar(None, pa.date32())),
            "reason_code": _decode(routed["reason"], REASON_CODES),
            "reason": pa.nulls(n, pa.string()),
            "_other": routed["other"],
            "_successor": routed["successor"],
        }))
    if not parts:
        return pa.table({c: pa.array([], pa.int64() if c in ("change_seq", "institution_version_id") else pa.date32() if c == "hold_until" else pa.string())
                         for c in WORK_ORDER_COLUMNS})
    orders = pa.concat_tables(parts)
    orders = orders.set_column(orders.schema.get_field_index("reason"), "reason", reason_texts(orders))
    return orders.select(list(WORK_ORDER_COLUMNS))


STATUS = ("ready", "held", "quarantined", "withdrawn")
REASON_CODES = ("", *REASONS)  # index 0: no reason


def _decode(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    """Small-integer codes to strings (index 0 of REASON_CODES, '', becomes null)."""
    dictionary = pa.array([label or None for label in labels], pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dictionary).dictionary_decode()


def _contains(joined: pa.Array, utility: str) -> np.ndarray:
    """Which comma-joined utility lists name `utility` (matched once per distinct list)."""
    encoded = joined.dictionary_encode()
    hit = np.asarray(pc.fill_null(pc.match_substring_regex(encoded.dictionary, rf"(^|,){utility}(,|$)"), False), dtype=bool)
    indices = np.asarray(pc.fill_null(encoded.indices, -1))
    return np.append(hit, False)[indices]  # a null list (index -1) names nothing


def _is(values: pa.Array, label: str) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.equal(values, label), False), dtype=bool)


def _grid(n: int) -> dict:
    return {
        "version_id": pa.nulls(n, pa.int64()), "channel": pa.array(["grid"] * n, pa.string()),
        "destination": pa.array([GRID_DESTINATION] * n, pa.string()), "file_format": pa.nulls(n, pa.string()),
        "status": np.zeros(n, dtype=np.int8), "reason": np.zeros(n, dtype=np.int8), "hold": np.zeros(n, dtype=bool),
        "open_date": pa.nulls(n, pa.date32()), "other": pa.nulls(n, pa.string()), "successor": pa.nulls(n, pa.string()),
    }


class _Registry:
    """The registry in force as Arrow arrays, looked up by code (pyarrow's hash index_in)."""

    def __init__(self, registry: pd.DataFrame) -> None:
        reg = registry.reset_index(drop=True)
        n = len(reg)

        def text(name: str, default=None) -> pa.Array:
            if name not in reg:
                return pa.array([default] * n, pa.string())
            return pa.array(reg[name].astype(object).where(reg[name].notna(), None).tolist(), pa.string())

        self.codes = text("code")
        self.utility = text("utility")
        self.in_force = reg["in_force"].to_numpy(dtype=bool) if "in_force" in reg else np.ones(n, dtype=bool)
        successor = pc.index_in(text("successor_code"), value_set=self.codes)
        self.successor = np.asarray(pc.fill_null(successor, -1), dtype=np.int64)
        self.version_id = pa.array(reg["version_id"].astype("Int64").astype(object).where(reg["version_id"].notna(), None).tolist(), pa.int64()) \
            if "version_id" in reg else pa.nulls(n, pa.int64())
        self.channel = text("channel")
        self.is_account = np.asarray(pc.fill_null(pc.equal(self.channel, "account"), False))
        self.destination = pc.if_else(pa.array(self.is_account), text("drop_account"), text("endpoint_conn_id"))
        self.file_format = pc.if_else(pa.array(self.is_account), text("file_format", "csv"), pa.scalar(None, pa.string()))
        opens = pd.to_datetime(reg["open_date"]) if "open_date" in reg else pd.Series(pd.NaT, index=reg.index, dtype="datetime64[ns]")
        self.open_day = opens.to_numpy(dtype="datetime64[D]")
        self.open_date = pa.array(self.open_day, pa.date32())
        self.kind = {u: np.asarray(pc.fill_null(pc.equal(self.utility, u), False)) for u in ("water", "gas", "heat")}

    def resolve(self, code: pa.Array, utility: str, as_of: date) -> dict:
        n = len(code)
        if not len(self.codes):
            return self._unknown(code)
        idx = np.asarray(pc.fill_null(pc.index_in(code, value_set=self.codes), -1), dtype=np.int64)
        recoded = np.zeros(n, dtype=bool)
        for _ in range(8):  # follow successors (a code re-coded more than once)
            safe = np.maximum(idx, 0)
            hop = (idx >= 0) & ~self.in_force[safe] & (self.successor[safe] >= 0)
            if not hop.any():
                break
            idx = np.where(hop, self.successor[safe], idx)
            recoded |= hop
        safe = pa.array(np.maximum(idx, 0))
        known = idx >= 0
        at = np.maximum(idx, 0)
        live = known & self.in_force[at]
        same_type = live & self.kind[utility][at]
        account = same_type & self.is_account[at]
        opens = self.open_day[at]
        not_applied = account & np.isnat(opens)
        not_open = account & ~np.isnat(opens) & (opens > np.datetime64(as_of, "D"))
        ready = same_type & ~not_applied & ~not_open

        status = np.full(len(code), STATUS.index("quarantined"), dtype=np.int8)
        status[ready] = STATUS.index("ready")
        status[not_applied | not_open] = STATUS.index("held")
        reason = np.where(known, 0, _unknown_reasons(code)).astype(np.int8)
        for mask, name in ((known & ~live, "INSTITUTION_RETIRED"), (live & ~same_type, "INSTITUTION_OTHER_TYPE"),
                           (not_applied, "COUNTY_NOT_APPLIED"), (not_open, "COUNTY_NOT_OPEN"), (ready & recoded, "INSTITUTION_RECODED")):
            reason[mask] = REASON_CODES.index(name)
        keep = pa.array(same_type)
        null_text = pa.scalar(None, pa.string())
        return {
            "version_id": pc.if_else(keep, self.version_id.take(safe), pa.scalar(None, pa.int64())),
            "channel": pc.if_else(keep, self.channel.take(safe), null_text),
            "destination": pc.if_else(keep, self.destination.take(safe), null_text),
            "file_format": pc.if_else(keep, self.file_format.take(safe), null_text),
            "status": status, "reason": reason, "hold": not_open, "open_date": self.open_date.take(safe),
            "other": pc.if_else(pa.array(live & ~same_type), self.utility.take(safe), null_text),
            "successor": pc.if_else(pa.array(recoded), self.codes.take(safe), null_text),
        }


    @staticmethod
    def _unknown(code: pa.Array) -> dict:
        """Every code unknown (an empty registry)."""
        n = len(code)
        nulls = pa.nulls(n, pa.string())
        return {"version_id": pa.nulls(n, pa.int64()), "channel": nulls, "destination": nulls, "file_format": nulls,
                "status": np.full(n, STATUS.index("quarantined"), dtype=np.int8), "reason": _unknown_reasons(code),
                "hold": np.zeros(n, dtype=bool), "open_date": pa.nulls(n, pa.date32()), "other": nulls, "successor": nulls}


def _unknown_reasons(code: pa.Array) -> np.ndarray:
    """INSTITUTION_MISSING where no code was given, INSTITUTION_UNKNOWN elsewhere (later masks override)."""
    missing = np.asarray(pc.is_null(code))
    return np.where(missing, REASON_CODES.index("INSTITUTION_MISSING"), REASON_CODES.index("INSTITUTION_UNKNOWN")).astype(np.int8)


def reason_texts(orders: pa.Table) -> pa.Array:
    """The Chinese reason of each work order that has a reason code (English in REASONS).

    Formatted once per distinct (reason, code, other type, successor, date) and spread back
    by dictionary indices: a day with a whole county on hold formats one sentence, not thousands.
    """
    parts = [orders[c].cast(pa.string()) for c in ("reason_code", "institution_code", "_other", "_successor", "hold_until")]
    key = pc.binary_join_element_wise(*parts, "\x1f", null_handling="replace", null_replacement="\x00")
    encoded = key.combine_chunks().dictionary_encode() if isinstance(key, pa.ChunkedArray) else key.dictionary_encode()
    texts = []
    for value in encoded.dictionary.to_pylist():
        code, inst, other, successor, hold = (None if v == "\x00" else v for v in value.split("\x1f"))
        texts.append(None if code is None else REASONS[code][0].format(code=inst, other=UTILITY_ZH.get(other, other), successor=successor, date=hold))
    return pa.DictionaryArray.from_arrays(encoded.indices, pa.array(texts, pa.string())).dictionary_decode()


def plan_versions(current: pd.DataFrame, routed: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """What to write: routed work orders with `version`, `correction` and `action` (new | update).

    `current`: the work orders held now (WORK_ORDER_COLUMNS + version, correction; optional
    flags has_delivery, at_receiver — a receiver may hold a version of it — and messaged — the
    version in force was settled by a cancellation message) for the ROWGUIDs concerned; `routed`: route_work_orders' output; `records`: ROWGUID,
    change_seq, status of each record routed (to cancel what a correction dropped).
    Unchanged and stale (older record version) work orders are left out.
    """
    key = ["rowguid", "utility"]
    cur = current.set_index(key) if len(current) else pd.DataFrame(columns=[*WORK_ORDER_COLUMNS, "version", "correction"]).set_index(key)
    routed = routed.copy()
    # A record quarantined before it ever had a work order is not one: it is on the quarantine list.
    if "has_delivery" not in cur:
        cur = cur.assign(has_delivery=False)
    # at_receiver: some version may be held by a receiver; messaged: the version in force was settled by a cancellation.
    for flag in ("at_receiver", "messaged"):
        if flag not in cur:
            cur = cur.assign(**{flag: False})
        cur[flag] = cur[flag].astype(object).fillna(False).astype(bool)
    if len(routed):
        held = routed.join(cur[["at_receiver"]], on=key)["at_receiver"].astype(object).fillna(False).astype(bool).to_numpy()
        routed.loc[held & routed["status"].isin(["withdrawn", "cancelled"]).to_numpy(), "status"] = "cancel_pending"
    joined = routed.join(cur[["version", "change_seq", "status", "correction", "has_delivery", "messaged"]
                             + [c for c in COMPARED if c != "status"]], on=key, rsuffix="_cur")
    has_cur = joined["version"].notna().to_numpy()
    cur_seq = joined["change_seq_cur"].to_numpy(dtype="float64")
    seq = joined["change_seq"].to_numpy(dtype="float64")
    first_quarantine = ~has_cur & (joined["reason_code"] == "VALIDATION_RECORD").to_numpy()
    newer = has_cur & (seq > cur_seq)
    same = has_cur & (seq == cur_seq)
    # A work order whose delivery is planned is no longer routing's to change (its batch may be rendered).
    owned = (joined["status_cur"].isin(ROUTING_STATUSES) & ~joined["has_delivery"].fillna(False).astype(bool)
             & ~joined["messaged"].astype(object).fillna(False).astype(bool)).to_numpy()
    differs = np.zeros(len(joined), dtype=bool)
    for column in COMPARED:
        a, b = joined[column], joined[f"{column}_cur"]
        differs |= ~((a == b) | (a.isna() & b.isna())).fillna(False).to_numpy(dtype=bool)
    take_new = (~has_cur & ~first_quarantine) | newer
    take_update = same & owned & differs
    out = routed[take_new | take_update].copy()
    version = joined["version"].to_numpy(dtype="float64")
    out["version"] = np.where(newer, version + 1, np.where(same, version, 1))[take_new | take_update].astype(int)
    was_correction = joined["correction_cur" if "correction_cur" in joined else "correction"].astype(object).fillna(False).astype(bool).to_numpy()
    out["correction"] = newer[take_new | take_update] | (same & was_correction)[take_new | take_update]
    out["action"] = np.where(take_new, "new", "update")[take_new | take_update]

    # Work orders the newer record version no longer asks for.
    if len(cur):
        rec = records.drop_duplicates("ROWGUID", keep="last").set_index("ROWGUID")
        cur_flat = cur.reset_index()
        newest_seq = cur_flat["rowguid"].map(rec["change_seq"])
        newest_status = cur_flat["rowguid"].map(rec["status"])
        routed_keys = pd.MultiIndex.from_frame(routed[key]) if len(routed) else pd.MultiIndex.from_arrays([[], []], names=key)
        gone = (newest_seq > cur_flat["change_seq"]) & ~pd.MultiIndex.from_frame(cur_flat[key]).isin(routed_keys)
        gone &= cur_flat["status"].isin(ROUTING_STATUSES | {"delivered", "sent", "acknowledged", "cancel_pending"})
        gone &= ~cur_flat["messaged"].to_numpy(dtype=bool)  # settled by a cancellation message: final
        if gone.any():
            dropped = cur_flat[gone].copy()
            withdrawn = (newest_status[gone] == "withdrawn").to_numpy()
            dropped["change_seq"] = newest_seq[gone].astype("int64").to_numpy()
            dropped["status"] = np.where(withdrawn, "withdrawn", np.where(newest_status[gone] == "quarantined", "quarantined", "cancelled"))
            dropped.loc[dropped["at_receiver"].to_numpy() & dropped["status"].isin(["withdrawn", "cancelled"]).to_numpy(), "status"] = "cancel_pending"
            dropped["reason_code"] = np.where(withdrawn, "RECORD_WITHDRAWN", np.where(newest_status[gone] == "quarantined", "VALIDATION_RECORD", "UTILITY_DROPPED"))
            dropped["hold_until"] = None
            dropped["reason"] = [REASONS[c][0] for c in dropped["reason_code"]]
            dropped["version"] = dropped["version"].astype(int) + 1
            dropped["correction"] = ~withdrawn
            dropped["action"] = "new"
            out = pd.concat([out, dropped[out.columns]], ignore_index=True)
    return out.reset_index(drop=True)


CANCEL_COLUMNS = ("rowguid", "utility", "version", "channel", "destination", "idempotency_key", "cause_version", "reason_code", "reason")
_SAFE_ROWGUID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}"  # as connectors.http_receiver.idempotency_key


def cancel_key(rowguid: str, utility: str, version: int, channel: str) -> str:
    """`<key of the version held>:cancel`. The key is the one the receiver got: on HTTP a ROWGUID outside
    [A-Za-z0-9._-] (or very long) is `h` + 32 hex digits of its SHA-256 (connectors.http_receiver.idempotency_key);
    in a drop's files (GDBH) it is the ROWGUID as sent."""
    import hashlib
    import re

    base = rowguid
    if channel in ("system", "grid") and not re.fullmatch(_SAFE_ROWGUID, rowguid):
        base = "h" + hashlib.sha256(rowguid.encode("utf-8")).hexdigest()[:32]
    return f"{base}:{utility}:{int(version)}:cancel"


def plan_cancellations(held: pd.DataFrame, in_force: pd.DataFrame, cancelled: pd.DataFrame) -> pd.DataFrame:
    """The cancellations to send (CANCEL_COLUMNS): one per (ROWGUID, utility, receiver) whose receiver holds a
    version that is no longer wanted there.

    `held`: work-order versions a receiver holds or may hold (rowguid, utility, version, channel, destination):
    delivered, or sent over HTTP and not confirmed. `in_force`: the work orders in force (rowguid, utility,
    version, status, destination, reason_code). `cancelled`: cancellations already planned (rowguid, utility,
    version, destination) — a receiver is told once, about the latest version it holds (a cancellation covers
    that version and every earlier one it holds; a version sent after it is a new work order).

    A receiver is told when the version in force is later than what it holds and is withdrawn by the platform
    (RECORD_WITHDRAWN), no longer asked for by a correction (UTILITY_DROPPED), or goes to another receiver
    (DESTINATION_CHANGED). A correction that fails validation (quarantined) cancels nothing: the receiver keeps
    what it had until the platform corrects or withdraws the record.
    """
    if not len(held):
        return pd.DataFrame(columns=list(CANCEL_COLUMNS))
    key = ["rowguid", "utility", "destination"]
    latest = held.sort_values("version").drop_duplicates(key, keep="last")
    if len(cancelled):
        told = cancelled.groupby(key)["version"].max().rename("told")
        latest = latest.join(told, on=key)
        latest = latest[latest["told"].isna() | (latest["version"] > latest["told"])]
    force = in_force.set_index(["rowguid", "utility"])[["version", "status", "destination", "reason_code"]]
    joined = latest.join(force, on=["rowguid", "utility"], rsuffix="_now")
    later = joined["version_now"].notna() & (joined["version_now"].astype("float64") > joined["version"].astype("float64"))
    gone = later & joined["status"].isin(["withdrawn", "cancelled", "cancel_pending"])
    moved = later & ~gone & ~joined["status"].isin(["quarantined", "superseded"]) & joined["destination_now"].notna() \
        & (joined["destination_now"] != joined["destination"])
    out = joined[gone | moved].copy()
    if not len(out):
        return pd.DataFrame(columns=list(CANCEL_COLUMNS))
    withdrawn = (out["reason_code"] == "RECORD_WITHDRAWN") | ((out["status"] == "withdrawn") & (out["reason_code"] != "UTILITY_DROPPED"))
    out["reason_code"] = np.where(moved[gone | moved], "DESTINATION_CHANGED", np.where(withdrawn, "RECORD_WITHDRAWN", "UTILITY_DROPPED"))
    out["reason"] = [REASONS[c][0] for c in out["reason_code"]]
    out["cause_version"] = out["version_now"].astype("int64")
    out["version"] = out["version"].astype("int64")
    out["idempotency_key"] = [cancel_key(r, u, v, c) for r, u, v, c in zip(out["rowguid"], out["utility"], out["version"], out["channel"])]
    return out[list(CANCEL_COLUMNS)].sort_values(["destination", "rowguid", "utility"]).reset_index(drop=True)
