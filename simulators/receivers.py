"""Faithful stand-ins for the receivers of the HTTP push protocol (docs/protocol/receivers.md).

One process plays every receiver the gateway pushes work orders to:

- every county registration system in system mode (系统对接), base `/county/{xzqh}`;
- State Grid Shandong's marketing system (总对总), base `/grid`.

It speaks the protocol as a receiver owned by another organisation would, and on purpose
implements it independently of the gateway's client (connectors/http_receiver.py): HMAC checks,
the 300 s clock window, 400 on malformed batches, idempotency by `idempotency_key` kept in a
SQLite file (a restarted receiver still answers a re-sent item "0201 duplicate" with its
original receipt id), a token bucket per receiver when a rate is set (the grid's limit).

Business rejections are deterministic, so tests know the truth:

- `0101` the item's account field (YDHH / YSHH / YQHH / YNHH) is missing or empty, the record's
  ROWGUID is not the item's, or (county) XZQH is missing;
- `0301` not this receiver's: a county receiver gets a record whose XZQH is another county, or
  an electricity item; the grid gets a water / gas / heat item;
- `0002` no such account: the account number (spaces removed) ends in "0002".

Cancellations (`POST {base}/v1/work-orders:cancel`): the work order named (that version and every
earlier one held) stops — its planned results not yet visible are dropped — answered `0000`; `0201`
for a cancellation seen before; `0404` when nothing is held; `0409` when a final result was already
published (too late). `GET /_sim/in-force` is the truth of what each receiver holds in force.

Handling results (办理结果) come back through `GET {base}/v1/results`, a feed ordered by `seq`.
Every accepted item gets a fate when it is accepted, decided from a hash of (receiver,
idempotency_key) and the configured mix (`POST /_sim/results`): done (0000), duplicate
application (0201), no such account (0002), arrears (0003), another refusal (0009), late (0000
after `late_days`) or silent (never anything). With `acknowledge`, a 0100 "received" result is
dated at acceptance first. The planned results are kept in the SQLite state; each becomes
visible, and only then takes the next `seq` of its receiver's feed, once its `handled_at` is not
after the simulator's business clock (`POST /_sim/clock`; real Asia/Shanghai time by default).
`GET /_sim/results` is the truth (every planned result, visible or not); `POST /_sim/inject`
appends any JSON to a feed, to test the gateway's checks of what receivers send.

Faults for tests are set through loopback control endpoints (`/_sim/...`, no auth), drawn from
a seeded `random.Random` so a test sees the same sequence every time.

    python -m simulators.receivers --port 0 --state var/receivers.db --key gw:SECRET [--rate 20]

prints `LISTENING http://127.0.0.1:<port>` once it accepts connections. `ReceiverProcess` runs
that as a real separate process for tests and `make run`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request  # at module level: FastAPI resolves handler annotations from these globals

from transforms.cohandling.annex1 import FIELD_CODES, LABELS, UTILITIES

MAX_ITEMS = 500
CLOCK_WINDOW_S = 300  # |receiver clock - X-Timestamp| beyond this is refused: bounds replays
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
COUNTY_PATTERN = re.compile(r"\d{6}")
ACCOUNT_FIELD = {utility: fields_[0] for utility, fields_ in UTILITIES.items()}
GRID_UTILITIES = frozenset({"electricity"})
COUNTY_UTILITIES = frozenset({"water", "gas", "heat"})
RECEIVER_PATTERN = re.compile(r"grid|county/\d{6}")
CROSS_PROVINCE = "cross-province"  # the 跨省通办 channel's receiver name and base path (packages only)
ROOT = Path(__file__).resolve().parents[1]

# --- handling results (办理结果) ----------------------------------------------------------------
LOCAL = ZoneInfo("Asia/Shanghai")  # handled_at and the business clock are local time, no offset
FEED_LIMIT_DEFAULT, FEED_LIMIT_MAX = 100, 500
RESULT_KINDS = ("done", "duplicate", "no_account", "arrears", "other", "silent", "late")  # an item's fate
FINAL = {  # fate -> (result, code) of its final result; "silent" has none
    "done": ("done", "0000"),
    "duplicate": ("done", "0201"),
    "no_account": ("rejected", "0002"),
    "arrears": ("rejected", "0003"),
    "other": ("rejected", "0009"),
    "late": ("done", "0000"),
}
RECEIVED = ("received", "0100", "已受理，待办理")
REASONS = {
    "duplicate": ["重复申请：该户过户已按此前申请办结"],
    "no_account": ["户号不存在"],
    "arrears": ["存在欠费未结清，请结清后办理"],
    "other": ["产权人信息与户主信息不一致", "表计故障，需现场核验后办理", "预付费表需持卡到营业厅办理", "该户已申请销户，无法办理过户",
              "新户主联系电话无法接通，请核实后重新申请"],
}
HANDLERS = ["王丽", "张伟", "李娜", "刘洋", "陈静", "杨帆", "赵敏", "孙强"]

# The simulator's own table: it plays another organisation's system, so its SQL stays here
# rather than in the gateway's sql/ folder.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accepted (
    receiver        TEXT    NOT NULL,   -- 'grid' or 'county/<xzqh>'
    idempotency_key TEXT    NOT NULL,
    receipt_id      TEXT    NOT NULL UNIQUE,
    rowguid         TEXT    NOT NULL,
    utility         TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    correction      INTEGER NOT NULL,
    accepted_at     TEXT    NOT NULL,   -- UTC, ISO 8601 (the business clock)
    times_submitted INTEGER NOT NULL,
    PRIMARY KEY (receiver, idempotency_key)
);
CREATE TABLE IF NOT EXISTS result (
    id              INTEGER PRIMARY KEY,  -- planning order
    receiver        TEXT    NOT NULL,
    idempotency_key TEXT,                 -- null only for an injected result without a string key
    kind            TEXT    NOT NULL,     -- acknowledged | done | duplicate | no_account | arrears | other | late | silent | injected
    fate            TEXT    NOT NULL,     -- the item's fate (what its final result is), or injected
    handled_at      TEXT,                 -- Asia/Shanghai local, no offset; null: silent (never) or injected
    body            TEXT    NOT NULL,     -- the Result as served, without seq (JSON); injected: verbatim
    seq             INTEGER,              -- null until visible; then its place in the receiver's feed
    UNIQUE (receiver, seq)
);
CREATE INDEX IF NOT EXISTS result_due ON result (handled_at) WHERE seq IS NULL;
CREATE INDEX IF NOT EXISTS result_key ON result (receiver, idempotency_key);
CREATE TABLE IF NOT EXISTS cancelled (
    receiver        TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,     -- <key of the version held>:cancel
    receipt_id      TEXT    NOT NULL,
    rowguid         TEXT    NOT NULL,
    utility         TEXT    NOT NULL,
    version         INTEGER NOT NULL,     -- this version and every earlier one held are cancelled
    reason_code     TEXT    NOT NULL,
    reason          TEXT,
    cancelled_at    TEXT    NOT NULL,     -- UTC, ISO 8601 (the business clock)
    times_submitted INTEGER NOT NULL,
    PRIMARY KEY (receiver, idempotency_key)
);
CREATE TABLE IF NOT EXISTS sim_setting (
    name  TEXT PRIMARY KEY,               -- results_config | clock
    value TEXT NOT NULL                   -- JSON
);
"""


@dataclass
class Faults:
    """What the receivers do wrong, until the next POST /_sim/faults or /_sim/reset."""

    error_rate: float = 0.0  # 500 before doing anything
    timeout_rate: float = 0.0  # sleep timeout_s, then carry on (the client has given up by then)
    timeout_s: float = 30.0
    latency_ms: int = 0  # added to every /v1 request
    outage: bool = False  # 503 to everything under /v1
    throttle_rate: float = 0.0  # 429 with Retry-After: retry_after_s
    retry_after_s: int = 1
    fail_after_accept_rate: float = 0.0  # accept and persist, then answer 500
    receivers: list[str] | None = None  # only these ('grid', 'county/370102'); None: all


def _default_mix() -> dict[str, float]:
    return {"done": 0.7, "duplicate": 0.05, "no_account": 0.05, "arrears": 0.05, "other": 0.03, "silent": 0.07, "late": 0.05}


@dataclass
class ResultsConfig:
    """How accepted items are handled; applies to items accepted after it is set (kept in the state)."""

    mix: dict[str, float] = field(default_factory=_default_mix)  # fate -> weight (normalised)
    delay_days: list[int] = field(default_factory=lambda: [0, 3])  # final result this many calendar days after acceptance
    late_days: list[int] = field(default_factory=lambda: [8, 15])  # ... for "late"
    acknowledge: bool = True  # a 0100 "received" result at acceptance, before the final one

    @classmethod
    def parse(cls, wanted: object) -> ResultsConfig:
        """From a POST /_sim/results body; keys not given take their defaults. ValueError names what is wrong."""
        if not isinstance(wanted, dict):
            raise ValueError("body must be a JSON object")
        unknown = sorted(set(wanted) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        config = cls(**wanted)
        if not isinstance(config.mix, dict) or not config.mix:
            raise ValueError(f"mix must be an object of weights by kind ({', '.join(RESULT_KINDS)})")
        odd = sorted(set(config.mix) - set(RESULT_KINDS))
        if odd:
            raise ValueError(f"unknown kinds in mix: {', '.join(odd)} (kinds: {', '.join(RESULT_KINDS)})")
        for kind, weight in config.mix.items():
            if type(weight) not in (int, float) or not 0 <= weight < math.inf:
                raise ValueError(f"mix.{kind} must be a number >= 0")
        total = sum(config.mix.values())
        if total <= 0:
            raise ValueError("mix must have a weight above 0")
        config.mix = {kind: config.mix.get(kind, 0) / total for kind in RESULT_KINDS}
        for name in ("delay_days", "late_days"):
            days = getattr(config, name)
            if (not isinstance(days, list) or len(days) != 2 or any(type(d) is not int for d in days)
                    or not 0 <= days[0] <= days[1] <= 366):
                raise ValueError(f"{name} must be [low, high], whole days, 0 <= low <= high <= 366")
        if type(config.acknowledge) is not bool:
            raise ValueError("acknowledge must be true or false")
        return config


class _Answer(Exception):
    """Raised inside a handler to answer at once with an error body."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None, *, counted: bool = True) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}
        self.counted = counted  # False: an answer from before a reset, kept out of the new stats


class ReceiverState:
    """Accepted work orders (SQLite, survives restarts), faults, counters and rate buckets."""

    def __init__(self, *, keys: dict[str, str], state_path: str | Path, rate_per_s: float | None) -> None:
        self.keys = dict(keys)
        self.rate_per_s = rate_per_s
        self.db = sqlite3.connect(str(state_path), check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        # WAL without a sync per commit: a killed simulator keeps every answered write (the
        # outage tests kill it), only a machine crash could lose the last ones.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.results_config = ResultsConfig.parse(json.loads(self._setting("results_config") or "{}"))
        fixed = self._setting("clock")
        self.fixed_now: datetime | None = None if fixed is None else datetime.fromisoformat(json.loads(fixed)).replace(tzinfo=LOCAL)
        self.faults = Faults()
        self.rng = random.Random(0)
        self.epoch = 0  # bumped by reset: a request still sleeping from before must not write afterwards
        self.stats: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self.buckets: dict[str, tuple[float, float]] = {}

    # --- faults and rate ---------------------------------------------------------------------

    def applies(self, receiver: str) -> bool:
        return self.faults.receivers is None or receiver in self.faults.receivers

    def draw(self, rate: float) -> bool:
        # Draw only for faults that are on, so one fault's sequence does not depend on the others.
        return rate > 0 and self.rng.random() < rate

    def take_token(self, receiver: str) -> float | None:
        """None if the request may go on, else the seconds until a token is back."""
        if not self.rate_per_s:
            return None
        capacity = max(1.0, self.rate_per_s)  # bursts of up to one second's worth
        now = time.monotonic()
        tokens, last = self.buckets.get(receiver, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self.rate_per_s)
        if tokens >= 1.0:
            self.buckets[receiver] = (tokens - 1.0, now)
            return None
        self.buckets[receiver] = (tokens, now)
        return (1.0 - tokens) / self.rate_per_s

    # --- auth --------------------------------------------------------------------------------

    def authenticate(self, headers, method: str, raw_path: str, body: bytes) -> None:
        key_id, stamp, given = headers.get("x-gateway-key"), headers.get("x-timestamp"), headers.get("x-signature")
        if not key_id or not stamp or not given:
            raise _Answer(401, "missing_auth", "X-Gateway-Key, X-Timestamp and X-Signature are all required")
        secret = self.keys.get(key_id)
        if secret is None:
            raise _Answer(401, "unknown_key", f"key id {key_id!r} is not known to this receiver")
        if not re.fullmatch(r"\d{1,12}", stamp):
            raise _Answer(401, "bad_timestamp", "X-Timestamp must be whole unix seconds")
        skew = time.time() - int(stamp)
        if abs(skew) > CLOCK_WINDOW_S:
            raise _Answer(401, "stale_timestamp", f"X-Timestamp is {skew:+.0f} s from the receiver's clock (allowed ±{CLOCK_WINDOW_S} s)")
        canonical = f"{stamp}\n{method}\n{raw_path}\n{hashlib.sha256(body).hexdigest()}"
        expected = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            raise _Answer(401, "bad_signature", "X-Signature does not match the request")

    # --- the batch ---------------------------------------------------------------------------

    # --- settings kept in the state: the business clock, the results mix ---------------------

    def _setting(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM sim_setting WHERE name = ?", (name,)).fetchone()
        return None if row is None else row["value"]

    def _store_setting(self, name: str, value: object | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM sim_setting WHERE name = ?", (name,))
        else:
            self.db.execute("INSERT INTO sim_setting (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                            (name, json.dumps(value, ensure_ascii=False)))

    def now(self) -> datetime:
        """The business clock (aware, Asia/Shanghai): fixed by POST /_sim/clock, else real time.
        Authentication's ±300 s window always uses the real clock."""
        return self.fixed_now if self.fixed_now is not None else datetime.now(LOCAL)

    def set_clock(self, now: datetime | None) -> None:
        self.fixed_now = None if now is None else now.astimezone(LOCAL).replace(microsecond=0)
        self._store_setting("clock", None if self.fixed_now is None else _local_text(self.fixed_now))

    def set_results_config(self, config: ResultsConfig) -> None:
        self.results_config = config
        self._store_setting("results_config", asdict(config))

    # --- the batch ---------------------------------------------------------------------------

    def process(self, receiver: str, county: str | None, items: list[dict]) -> list[dict]:
        """Every item's result, in order; accepted items (and their planned handling results)
        persisted in one transaction."""
        results = []
        clock = self.now().replace(microsecond=0)
        now = clock.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                key = item["idempotency_key"]
                seen = self.db.execute(
                    "SELECT receipt_id FROM accepted WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
                if seen is not None:
                    self.db.execute(
                        "UPDATE accepted SET times_submitted = times_submitted + 1 WHERE receiver = ? AND idempotency_key = ?", (receiver, key))
                    results.append(_result(key, "duplicate", seen["receipt_id"], "0201", "duplicate submission: already accepted (重复提交)"))
                    continue
                refusal = _business_rule(item, county)
                if refusal is not None:
                    results.append(_result(key, "rejected", None, *refusal))
                    continue
                seq = self.db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM accepted").fetchone()[0]
                prefix = "SGSD" if county is None else county
                receipt = f"{prefix}-{now[:10].replace('-', '')}-{seq:08d}"
                self.db.execute(
                    "INSERT INTO accepted (receiver, idempotency_key, receipt_id, rowguid, utility, version, correction, accepted_at, times_submitted)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    (receiver, key, receipt, item["rowguid"], item["utility"], item["version"], int(item["correction"]), now))
                self._plan(receiver, item, receipt, clock.replace(tzinfo=None))
                results.append(_result(key, "accepted", receipt, "0000", None))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.stats.update(r["status"] for r in results)
        return results

    def _plan(self, receiver: str, item: dict, receipt: str, accepted: datetime) -> None:
        """Decide the item's fate and store the results it will produce (inside process's transaction)."""
        key, config = item["idempotency_key"], self.results_config
        fate = _fate(receiver, key, config.mix)
        base = {"idempotency_key": key, "rowguid": item["rowguid"], "utility": item["utility"], "version": item["version"], "receipt_id": receipt}
        planned: list[tuple[str, str | None, dict]] = []
        if fate == "silent":
            planned.append(("silent", None, {**base, "result": None, "code": None, "reason": None, "handled_at": None, "handler": None}))
        else:
            if config.acknowledge:
                at = _local_text(accepted)
                result, code, reason = RECEIVED
                planned.append(("acknowledged", at, {**base, "result": result, "code": code, "reason": reason, "handled_at": at, "handler": None}))
            at = _handled_at(receiver, key, accepted, config.late_days if fate == "late" else config.delay_days)
            result, code = FINAL[fate]
            reasons = REASONS.get(fate)
            reason = reasons[int(_draw(receiver, key, "reason") * len(reasons))] if reasons else None
            handler = HANDLERS[int(_draw(receiver, key, "handler") * len(HANDLERS))]
            planned.append((fate, at, {**base, "result": result, "code": code, "reason": reason, "handled_at": at, "handler": handler}))
        for kind, at, body in planned:
            self.db.execute("INSERT INTO result (receiver, idempotency_key, kind, fate, handled_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                            (receiver, key, kind, fate, at, json.dumps(body, ensure_ascii=False)))

    # --- cancellations (撤销) ----------------------------------------------------------------------

    def cancel(self, receiver: str, items: list[dict]) -> list[dict]:
        """Cancel held work orders: the version named and every earlier one this receiver holds. Planned results
        not yet visible are dropped (the work stops); one already handled (a final result published) is refused
        0409; one never held 0404; a cancellation seen before is answered 0201 with its original receipt."""
        self.publish()
        results = []
        clock = self.now().replace(microsecond=0).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                key = item["idempotency_key"]
                seen = self.db.execute("SELECT receipt_id FROM cancelled WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
                if seen is not None:
                    self.db.execute("UPDATE cancelled SET times_submitted = times_submitted + 1 WHERE receiver = ? AND idempotency_key = ?", (receiver, key))
                    results.append(_result(key, "duplicate", seen["receipt_id"], "0201", "already cancelled (已撤销)"))
                    continue
                held = self.db.execute("SELECT idempotency_key FROM accepted WHERE receiver = ? AND rowguid = ? AND utility = ? AND version <= ?"
                                       " ORDER BY version DESC", (receiver, item["rowguid"], item["utility"], item["version"])).fetchall()
                if not held:
                    results.append(_result(key, "rejected", None, "0404", "no such work order here (无此工单)"))
                    continue
                keys = [h["idempotency_key"] for h in held]
                handled = self.db.execute(
                    "SELECT 1 FROM result WHERE receiver = ? AND idempotency_key = ? AND seq IS NOT NULL AND kind NOT IN ('acknowledged', 'injected')",
                    (receiver, keys[0])).fetchone()
                if handled is not None:
                    results.append(_result(key, "rejected", None, "0409", "already handled: too late to cancel (已办结，无法撤销)"))
                    continue
                marks = ",".join("?" * len(keys))
                self.db.execute(f"DELETE FROM result WHERE receiver = ? AND seq IS NULL AND idempotency_key IN ({marks})", (receiver, *keys))
                n = self.db.execute("SELECT COUNT(*) FROM cancelled").fetchone()[0] + 1
                receipt = f"CX-{clock[:10].replace('-', '')}-{n:08d}"
                self.db.execute("INSERT INTO cancelled (receiver, idempotency_key, receipt_id, rowguid, utility, version, reason_code, reason, cancelled_at,"
                                " times_submitted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                                (receiver, key, receipt, item["rowguid"], item["utility"], item["version"], item["reason_code"], item["reason"], clock))
                results.append(_result(key, "accepted", receipt, "0000", None))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.stats.update(f"cancel_{r['status']}" for r in results)
        return results

    def in_force(self, receiver: str | None) -> list[dict]:
        """The truth of what each receiver holds in force: per (receiver, ROWGUID, utility) the latest version
        accepted, unless a cancellation of it (or of a later version) was accepted."""
        where, args = (" WHERE receiver = ?", (receiver,)) if receiver else ("", ())
        latest: dict[tuple[str, str, str], dict] = {}
        for r in self.db.execute(f"SELECT receiver, rowguid, utility, version, idempotency_key FROM accepted{where}", args):
            key = (r["receiver"], r["rowguid"], r["utility"])
            if key not in latest or r["version"] > latest[key]["version"]:
                latest[key] = dict(r)
        cancelled: dict[tuple[str, str, str], int] = {}
        for r in self.db.execute(f"SELECT receiver, rowguid, utility, version FROM cancelled{where}", args):
            key = (r["receiver"], r["rowguid"], r["utility"])
            cancelled[key] = max(cancelled.get(key, 0), r["version"])
        return [held for key, held in sorted(latest.items()) if cancelled.get(key, 0) < held["version"]]

    def cancelled(self, receiver: str | None) -> list[dict]:
        query = "SELECT * FROM cancelled" + (" WHERE receiver = ?" if receiver else "") + " ORDER BY rowid"
        return [dict(r) for r in self.db.execute(query, (receiver,) if receiver else ())]

    # --- handling results ------------------------------------------------------------------------

    def publish(self) -> None:
        """Give every planned result that is now due (handled_at <= the business clock) the next
        seq of its receiver's feed. A result becomes visible only here, so a cursor never skips
        one that was planned earlier but handled later; once visible it stays (even if the clock
        is set back)."""
        now = _local_text(self.now())
        due = self.db.execute("SELECT id, receiver FROM result WHERE seq IS NULL AND handled_at IS NOT NULL AND handled_at <= ?"
                              " ORDER BY handled_at, id", (now,)).fetchall()
        if not due:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for row in due:
                self.db.execute("UPDATE result SET seq = ? WHERE id = ?", (self._next_seq(row["receiver"]), row["id"]))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _next_seq(self, receiver: str) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM result WHERE receiver = ?", (receiver,)).fetchone()[0]

    def feed(self, receiver: str, after: int, limit: int) -> dict:
        """One page of the receiver's feed: visible results with seq > after, in seq order."""
        self.publish()
        rows = self.db.execute("SELECT seq, kind, body FROM result WHERE receiver = ? AND seq > ? ORDER BY seq LIMIT ?",
                               (receiver, after, limit + 1)).fetchall()
        page = rows[:limit]
        return {"results": [_served(r) for r in page], "next": str(page[-1]["seq"] if page else after), "more": len(rows) > limit}

    def inject(self, receiver: str, result: object) -> int:
        """Append `result` verbatim to the receiver's feed with the next seq (visible at once)."""
        body = json.dumps(result, ensure_ascii=False, allow_nan=False)
        key = result.get("idempotency_key") if isinstance(result, dict) else None
        self.db.execute("BEGIN IMMEDIATE")
        try:
            seq = self._next_seq(receiver)
            self.db.execute("INSERT INTO result (receiver, idempotency_key, kind, fate, handled_at, body, seq) VALUES (?, ?, 'injected', 'injected', NULL, ?, ?)",
                            (receiver, key if isinstance(key, str) else None, body, seq))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return seq

    def truth(self, receiver: str | None) -> dict:
        """Every planned result, visible or not, with its kind; and what was injected."""
        self.publish()
        where, args = (" AND receiver = ?", (receiver,)) if receiver else ("", ())
        planned = [{"receiver": r["receiver"], "kind": r["kind"], "fate": r["fate"], **json.loads(r["body"]), "seq": r["seq"], "visible": r["seq"] is not None}
                   for r in self.db.execute(f"SELECT * FROM result WHERE kind <> 'injected'{where} ORDER BY id", args)]
        injected = [{"receiver": r["receiver"], "seq": r["seq"], "result": json.loads(r["body"])}
                    for r in self.db.execute(f"SELECT * FROM result WHERE kind = 'injected'{where} ORDER BY seq", args)]
        return {"now": _local_text(self.now()), "fixed_clock": self.fixed_now is not None, "config": asdict(self.results_config),
                "results": planned, "injected": injected}

    def lookup(self, receiver: str, key: str) -> dict | None:
        row = self.db.execute(
            "SELECT idempotency_key, receipt_id, accepted_at FROM accepted WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
        if row is None:
            return None
        self.publish()
        latest = self.db.execute("SELECT seq, kind, body FROM result WHERE receiver = ? AND idempotency_key = ? AND kind <> 'injected'"
                                 " AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1", (receiver, key)).fetchone()
        return {**dict(row), "status": "accepted", "result": None if latest is None else _served(latest)}

    def accepted(self, receiver: str | None) -> list[dict]:
        query = "SELECT * FROM accepted" + (" WHERE receiver = ?" if receiver else "") + " ORDER BY rowid"
        return [{**dict(r), "correction": bool(r["correction"])} for r in self.db.execute(query, (receiver,) if receiver else ())]

    def reset(self, *, wipe: bool) -> None:
        self.faults = Faults()
        self.rng = random.Random(0)
        self.epoch += 1
        self.stats.clear()
        self.responses.clear()
        self.buckets.clear()
        if wipe:
            self.db.execute("DELETE FROM accepted")
            self.db.execute("DELETE FROM cancelled")
            self.db.execute("DELETE FROM result")
            self.set_results_config(ResultsConfig())
            self.set_clock(None)


def _local_text(moment: datetime) -> str:
    """ISO 8601 local time without offset, whole seconds: 2026-11-23T10:15:00."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL)
    return moment.replace(tzinfo=None, microsecond=0).isoformat()


def _draw(receiver: str, key: str, what: str) -> float:
    """A number in [0, 1) fixed by (receiver, key, what): the simulator's decisions are reproducible."""
    digest = hashlib.sha256(f"{receiver}\n{key}\n{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _fate(receiver: str, key: str, mix: dict[str, float]) -> str:
    u, total = _draw(receiver, key, "fate"), 0.0
    weighted = [kind for kind in RESULT_KINDS if mix.get(kind, 0) > 0]
    for kind in weighted:
        total += mix[kind]
        if u < total:
            return kind
    return weighted[-1]  # rounding: the weights sum to 1 within a few ulps


def _handled_at(receiver: str, key: str, accepted: datetime, days: list[int]) -> str:
    """`days` (drawn in the range) calendar days after acceptance, in office hours 08:30-17:30; on
    the day of acceptance never before it (then 5-59 minutes after)."""
    low, high = days
    day = accepted.date() + timedelta(days=min(high, low + int(_draw(receiver, key, "days") * (high - low + 1))))
    minute = 8 * 60 + 30 + int(_draw(receiver, key, "time") * 9 * 60)
    moment = datetime.combine(day, dtime(minute // 60, minute % 60))
    if moment <= accepted:
        moment = accepted.replace(second=0) + timedelta(minutes=5 + int(_draw(receiver, key, "minutes") * 55))
    return _local_text(moment)


def _served(row: sqlite3.Row) -> object:
    """A feed entry as served: the stored Result with its seq; an injected one verbatim (given a seq
    only when it is an object without one)."""
    body = json.loads(row["body"])
    if row["kind"] != "injected" or (isinstance(body, dict) and "seq" not in body):
        body["seq"] = row["seq"]
    return body


def parse_feed_query(query) -> tuple[int, int]:
    """(after, limit) from the query of GET /v1/results, else _Answer(400)."""
    after, limit = query.get("after") or "0", query.get("limit") or str(FEED_LIMIT_DEFAULT)
    if not re.fullmatch(r"\d{1,18}", after):
        raise _Answer(400, "bad_request", "after must be a cursor this receiver returned as next")
    if not re.fullmatch(r"\d{1,4}", limit) or not 1 <= int(limit) <= FEED_LIMIT_MAX:
        raise _Answer(400, "bad_request", f"limit must be a whole number from 1 to {FEED_LIMIT_MAX}")
    return int(after), int(limit)


def _result(key: str, status: str, receipt: str | None, code: str, reason: str | None) -> dict:
    return {"idempotency_key": key, "status": status, "receipt_id": receipt, "code": code, "reason": reason}


def _business_rule(item: dict, county: str | None) -> tuple[str, str] | None:
    """(code, reason) when the receiver refuses the item, else None. See the module docstring."""
    record, utility = item["record"], item["utility"]
    account_field = ACCOUNT_FIELD[utility]
    account = (record.get(account_field) or "").replace(" ", "")
    if (record.get("ROWGUID") or "").strip() != item["rowguid"]:
        return "0101", f"ROWGUID ({LABELS['ROWGUID']}) does not match the item's rowguid"
    if not account:
        return "0101", f"{account_field} ({LABELS[account_field]}) is missing"
    if county is not None:
        xzqh = (record.get("XZQH") or "").strip()
        if not xzqh:
            return "0101", f"XZQH ({LABELS['XZQH']}) is missing"
        if utility not in COUNTY_UTILITIES:
            return "0301", f"{utility} is not handled by county system {county} (非本系统受理业务)"
        if xzqh != county:
            return "0301", f"XZQH {xzqh} is not county {county} served here (非本辖区)"
    elif utility not in GRID_UTILITIES:
        return "0301", f"{utility} is not handled by the grid marketing system (非本系统受理业务)"
    if account.endswith("0002"):
        return "0002", f"no such account: {account_field} (户号不存在)"
    return None


def parse_envelope(body: bytes, *, limit: int, bad) -> tuple[str, list]:
    """(batch_id, items) of a batch body `{"batch_id", "items"}` (work orders and packages alike);
    `bad(message)` makes the exception to raise."""
    try:
        batch = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"body is not UTF-8 JSON: {exc}") from None
    if not isinstance(batch, dict) or set(batch) != {"batch_id", "items"}:
        raise bad("body must be an object with exactly the keys batch_id and items")
    batch_id, items = batch["batch_id"], batch["items"]
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= 128:
        raise bad("batch_id must be a string of 1 to 128 characters")
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        raise bad(f"items must be a list of 1 to {limit} items")
    return batch_id, items


def parse_batch(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed batch, else _Answer(400) naming what is wrong."""
    def bad(message: str) -> _Answer:
        return _Answer(400, "malformed_batch", message)

    batch_id, items = parse_envelope(body, limit=MAX_ITEMS, bad=bad)
    wanted = {"idempotency_key", "rowguid", "utility", "version", "correction", "record"}
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) != wanted:
            raise bad(f"{where} must be an object with exactly the keys {', '.join(sorted(wanted))}")
        if not isinstance(item["idempotency_key"], str) or not KEY_PATTERN.fullmatch(item["idempotency_key"]):
            raise bad(f"{where}.idempotency_key must match {KEY_PATTERN.pattern}")
        if not isinstance(item["rowguid"], str) or not item["rowguid"]:
            raise bad(f"{where}.rowguid must be a non-empty string")
        if item["utility"] not in ACCOUNT_FIELD:
            raise bad(f"{where}.utility must be one of {', '.join(ACCOUNT_FIELD)}")
        if type(item["version"]) is not int or item["version"] < 1:
            raise bad(f"{where}.version must be an integer >= 1")
        if type(item["correction"]) is not bool:
            raise bad(f"{where}.correction must be true or false")
        record = item["record"]
        if not isinstance(record, dict):
            raise bad(f"{where}.record must be an object")
        unknown = sorted(set(record) - set(FIELD_CODES))
        if unknown:
            raise bad(f"{where}.record has fields that are not Annex 1 codes: {', '.join(unknown)}")
        for code, value in record.items():
            if value is not None and not isinstance(value, str):
                raise bad(f"{where}.record.{code} must be a string or null")
    return batch_id, items


CANCEL_REASON_CODES = frozenset({"RECORD_WITHDRAWN", "UTILITY_DROPPED", "DESTINATION_CHANGED"})


def parse_cancels(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed cancel call, else _Answer(400) naming what is wrong."""
    def bad(message: str) -> _Answer:
        return _Answer(400, "malformed_batch", message)

    batch_id, items = parse_envelope(body, limit=MAX_ITEMS, bad=bad)
    wanted = {"idempotency_key", "rowguid", "utility", "version", "reason_code", "reason"}
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) != wanted:
            raise bad(f"{where} must be an object with exactly the keys {', '.join(sorted(wanted))}")
        key = item["idempotency_key"]
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key) or not key.endswith(":cancel"):
            raise bad(f"{where}.idempotency_key must match {KEY_PATTERN.pattern} and end with :cancel")
        if not isinstance(item["rowguid"], str) or not item["rowguid"]:
            raise bad(f"{where}.rowguid must be a non-empty string")
        if item["utility"] not in ACCOUNT_FIELD:
            raise bad(f"{where}.utility must be one of {', '.join(ACCOUNT_FIELD)}")
        if type(item["version"]) is not int or item["version"] < 1:
            raise bad(f"{where}.version must be an integer >= 1")
        if item["reason_code"] not in CANCEL_REASON_CODES:
            raise bad(f"{where}.reason_code must be one of {', '.join(sorted(CANCEL_REASON_CODES))}")
        if item["reason"] is not None and (not isinstance(item["reason"], str) or len(item["reason"]) > 200):
            raise bad(f"{where}.reason must be a string of at most 200 characters, or null")
    return batch_id, items


# --- the app ---------------------------------------------------------------------------------


def create_app(*, keys: dict[str, str], state_path: str | Path, rate_per_s: float | None = None):
    """The FastAPI app serving /county/{xzqh}/v1/... and /grid/v1/..., and the /_sim controls."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    from simulators.registration import RegistrationDesk

    state = ReceiverState(keys=keys, state_path=state_path, rate_per_s=rate_per_s)
    desk = RegistrationDesk(state.db, state.now)
    app = FastAPI(title="co-handling receivers (simulated)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.receivers = state

    def answer(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
        state.responses[str(status)] += 1
        return JSONResponse(body, status_code=status, headers=headers)

    def error(exc: _Answer) -> JSONResponse:
        body = {"error": exc.error, "message": exc.message}
        return answer(exc.status, body, exc.headers) if exc.counted else JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        return JSONResponse({"error": "not_found" if exc.status_code == 404 else "http_error", "message": str(exc.detail)},
                            status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        return JSONResponse({"error": "bad_request", "message": str(exc.errors())}, status_code=400)

    def receiver_of(county: str | None) -> str:
        if county is None:
            return "grid"
        if county == CROSS_PROVINCE:
            return CROSS_PROVINCE
        if not COUNTY_PATTERN.fullmatch(county):
            raise _Answer(404, "not_found", f"no county receiver {county!r}: a county is six digits")
        return f"county/{county}"

    async def before(receiver: str) -> None:
        """Outage, latency: whatever happens to a request before the receiver reads it."""
        if not state.applies(receiver):
            return
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        if state.faults.outage:
            state.stats["fault_outage"] += 1
            raise _Answer(503, "unavailable", "receiver is down for maintenance (simulated outage)")

    async def admitted(request: Request, receiver: str, body: bytes) -> None:
        """Auth, the rate limit and the injected faults up to the point where work starts."""
        epoch = state.epoch
        await before(receiver)
        raw_path = request.scope["raw_path"].decode("latin-1").split("?", 1)[0]  # the query is not signed
        state.authenticate(request.headers, request.method, raw_path, body)
        wait = state.take_token(receiver)
        if wait is not None:
            state.stats["rate_limited"] += 1
            raise _Answer(429, "rate_limited", f"more than {state.rate_per_s:g} requests/s", {"Retry-After": str(max(1, math.ceil(wait)))})
        if not state.applies(receiver):
            return
        f = state.faults
        if state.draw(f.throttle_rate):
            state.stats["fault_throttle"] += 1
            raise _Answer(429, "rate_limited", "busy, retry later (simulated)", {"Retry-After": str(f.retry_after_s)})
        if state.draw(f.error_rate):
            state.stats["fault_error"] += 1
            raise _Answer(500, "server_error", "internal error (simulated)")
        if state.draw(f.timeout_rate):
            state.stats["fault_timeout"] += 1
            await asyncio.sleep(f.timeout_s)  # then carry on, as an overloaded receiver would
            if state.epoch != epoch:
                raise _Answer(503, "unavailable", "the simulator was reset while this request waited", counted=False)

    async def batch(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            batch_id, items = parse_batch(body)
            results = state.process(receiver, county, items)
            if state.applies(receiver) and state.draw(state.faults.fail_after_accept_rate):
                state.stats["fault_fail_after_accept"] += 1
                raise _Answer(500, "server_error", "internal error after the batch was stored (simulated)")
            return answer(200, {"batch_id": batch_id, "results": results})
        except _Answer as exc:
            return error(exc)

    async def cancel(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            batch_id, items = parse_cancels(body)
            results = state.cancel(receiver, items)
            if state.applies(receiver) and state.draw(state.faults.fail_after_accept_rate):
                state.stats["fault_fail_after_accept"] += 1
                raise _Answer(500, "server_error", "internal error after the cancellations were stored (simulated)")
            return answer(200, {"batch_id": batch_id, "results": results})
        except _Answer as exc:
            return error(exc)

    async def work_order(request: Request, county: str | None, idempotency_key: str):
        try:
            receiver = receiver_of(county)
            await admitted(request, receiver, await request.body())
            found = state.lookup(receiver, idempotency_key)
            if found is None:
                raise _Answer(404, "unknown_work_order", f"no work order accepted under {idempotency_key!r}")
            return answer(200, found)
        except _Answer as exc:
            return error(exc)

    async def results(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            await admitted(request, receiver, await request.body())
            after, limit = parse_feed_query(request.query_params)
            return answer(200, state.feed(receiver, after, limit))
        except _Answer as exc:
            return error(exc)

    async def health(county: str | None):
        try:
            receiver = receiver_of(county)
            await before(receiver)
            return answer(200, {"status": "ok", "receiver": receiver})
        except _Answer as exc:
            return error(exc)

    # The same four endpoints under each base; the parameter names match the OpenAPI spec.
    @app.post("/county/{xzqh}/v1/work-orders:batch")
    async def county_batch(xzqh: str, request: Request):
        return await batch(request, xzqh)

    @app.post("/county/{xzqh}/v1/work-orders:cancel")
    async def county_cancel(xzqh: str, request: Request):
        return await cancel(request, xzqh)

    @app.post("/grid/v1/work-orders:cancel")
    async def grid_cancel(request: Request):
        return await cancel(request, None)

    @app.get("/county/{xzqh}/v1/work-orders/{idempotency_key}")
    async def county_work_order(xzqh: str, idempotency_key: str, request: Request):
        return await work_order(request, xzqh, idempotency_key)

    @app.get("/county/{xzqh}/v1/results")
    async def county_results(xzqh: str, request: Request):
        return await results(request, xzqh)

    @app.get("/county/{xzqh}/v1/health")
    async def county_health(xzqh: str):
        return await health(xzqh)

    @app.post("/grid/v1/work-orders:batch")
    async def grid_batch(request: Request):
        return await batch(request, None)

    @app.get("/grid/v1/work-orders/{idempotency_key}")
    async def grid_work_order(idempotency_key: str, request: Request):
        return await work_order(request, None, idempotency_key)

    @app.get("/grid/v1/results")
    async def grid_results(request: Request):
        return await results(request, None)

    @app.get("/grid/v1/health")
    async def grid_health():
        return await health(None)

    # --- remote collection (异地代收): packages to the property's registration system ----------
    _package_routes(app, state, desk, admitted=admitted, answer=answer, error=error, receiver_of=receiver_of)

    # --- test controls (loopback only: the server binds 127.0.0.1) ---------------------------

    @app.post("/_sim/faults")
    async def set_faults(request: Request):
        try:
            wanted = json.loads((await request.body()) or b"{}")
        except ValueError:
            return JSONResponse({"error": "bad_request", "message": "body must be JSON"}, status_code=400)
        seed = wanted.pop("seed", None)
        names = {f.name for f in fields(Faults)}
        unknown = sorted(set(wanted) - names)
        if unknown:
            return JSONResponse({"error": "bad_request", "message": f"unknown faults: {', '.join(unknown)}"}, status_code=400)
        faults = Faults(**wanted)
        for name in ("error_rate", "timeout_rate", "throttle_rate", "fail_after_accept_rate"):
            if not 0.0 <= float(getattr(faults, name)) <= 1.0:
                return JSONResponse({"error": "bad_request", "message": f"{name} must be between 0 and 1"}, status_code=400)
        state.faults = faults
        if seed is not None:
            state.rng = random.Random(seed)
        return asdict(faults)

    @app.post("/_sim/reset")
    async def reset(request: Request):
        wanted = json.loads((await request.body()) or b"{}")
        state.reset(wipe=bool(wanted.get("wipe", False)))
        if wanted.get("wipe", False):
            desk.wipe()
        return {"reset": True, "wiped": bool(wanted.get("wipe", False))}

    @app.get("/_sim/accepted")
    async def accepted(receiver: str | None = None):
        return {"items": state.accepted(receiver)}

    @app.get("/_sim/in-force")
    async def in_force(receiver: str | None = None):
        return {"items": state.in_force(receiver)}

    @app.get("/_sim/cancelled")
    async def cancelled(receiver: str | None = None):
        return {"items": state.cancelled(receiver)}

    def bad_request(message: str) -> JSONResponse:
        return JSONResponse({"error": "bad_request", "message": message}, status_code=400)

    async def json_body(request: Request) -> object:
        try:
            return json.loads((await request.body()) or b"{}")
        except ValueError:
            raise _Answer(400, "bad_request", "body must be JSON") from None

    @app.post("/_sim/results")
    async def set_results(request: Request):
        try:
            state.set_results_config(ResultsConfig.parse(await json_body(request)))
        except _Answer as exc:
            return bad_request(exc.message)
        except (TypeError, ValueError) as exc:
            return bad_request(str(exc))
        return asdict(state.results_config)

    @app.get("/_sim/results")
    async def truth(receiver: str | None = None):
        return state.truth(receiver)

    @app.get("/_sim/clock")
    async def get_clock():
        return {"now": _local_text(state.now()), "fixed": state.fixed_now is not None}

    @app.post("/_sim/clock")
    async def set_clock(request: Request):
        try:
            wanted = await json_body(request)
        except _Answer as exc:
            return bad_request(exc.message)
        if not isinstance(wanted, dict) or set(wanted) != {"now"}:
            return bad_request('body must be {"now": "YYYY-MM-DDTHH:MM:SS"} (local time) or {"now": null} (real time)')
        now = wanted["now"]
        if now is None:
            state.set_clock(None)
        else:
            try:
                moment = datetime.fromisoformat(now)
            except (TypeError, ValueError):
                return bad_request(f"now must be an ISO 8601 local time or null, not {now!r}")
            state.set_clock(moment if moment.tzinfo else moment.replace(tzinfo=LOCAL))
        return await get_clock()

    @app.post("/_sim/inject")
    async def inject(request: Request):
        try:
            wanted = await json_body(request)
        except _Answer as exc:
            return bad_request(exc.message)
        if not isinstance(wanted, dict) or set(wanted) != {"receiver", "result"}:
            return bad_request("body must be an object with exactly the keys receiver and result")
        receiver = wanted["receiver"]
        if not isinstance(receiver, str) or not RECEIVER_PATTERN.fullmatch(receiver):
            return bad_request("receiver must be 'grid' or 'county/<six digits>'")
        try:
            seq = state.inject(receiver, wanted["result"])
        except ValueError as exc:
            return bad_request(f"result cannot be served as JSON: {exc}")
        return {"receiver": receiver, "seq": seq}

    @app.get("/_sim/stats")
    async def stats():
        return {"responses": dict(state.responses), "items": {k: v for k, v in state.stats.items() if not k.startswith(("fault_", "rate_"))},
                "faults": {k.removeprefix("fault_"): v for k, v in state.stats.items() if k.startswith("fault_")},
                "rate_limited": state.stats["rate_limited"]}

    return app


def _package_routes(app, state: ReceiverState, desk, *, admitted, answer, error, receiver_of) -> None:
    """The package endpoints (simulators/registration.py) under /county/{xzqh} and /cross-province."""
    from fastapi.responses import JSONResponse

    from simulators.registration import PackageConfig, PackageError, parse_packages, parse_withdrawals

    def fail(exc: PackageError):
        return error(_Answer(exc.status, exc.error, exc.message))

    async def put_file(request: Request, county: str | None, sha256: str):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            return answer(200, desk.put_file(receiver, sha256, body))
        except _Answer as exc:
            return error(exc)
        except PackageError as exc:
            return fail(exc)

    async def packages(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            batch_id, items = parse_packages(body)
            results = desk.process(receiver, None if county == CROSS_PROVINCE else county, items)
            if state.applies(receiver) and state.draw(state.faults.fail_after_accept_rate):
                state.stats["fault_fail_after_accept"] += 1
                raise _Answer(500, "server_error", "internal error after the packages were stored (simulated)")
            return answer(200, {"batch_id": batch_id, "results": results})
        except _Answer as exc:
            return error(exc)
        except PackageError as exc:
            return fail(exc)

    async def withdraw(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            body = await request.body()
            await admitted(request, receiver, body)
            batch_id, items = parse_withdrawals(body)
            return answer(200, {"batch_id": batch_id, "results": desk.withdraw(receiver, items)})
        except _Answer as exc:
            return error(exc)
        except PackageError as exc:
            return fail(exc)

    async def events(request: Request, county: str | None):
        try:
            receiver = receiver_of(county)
            await admitted(request, receiver, await request.body())
            after, limit = parse_feed_query(request.query_params)
            return answer(200, desk.feed(receiver, after, limit))
        except _Answer as exc:
            return error(exc)

    @app.put("/county/{xzqh}/v1/files/{sha256}")
    async def county_file(xzqh: str, sha256: str, request: Request):
        return await put_file(request, xzqh, sha256)

    @app.post("/county/{xzqh}/v1/packages:batch")
    async def county_packages(xzqh: str, request: Request):
        return await packages(request, xzqh)

    @app.post("/county/{xzqh}/v1/packages:withdraw")
    async def county_withdraw(xzqh: str, request: Request):
        return await withdraw(request, xzqh)

    @app.post("/cross-province/v1/packages:withdraw")
    async def cross_withdraw(request: Request):
        return await withdraw(request, CROSS_PROVINCE)

    @app.get("/county/{xzqh}/v1/package-events")
    async def county_events(xzqh: str, request: Request):
        return await events(request, xzqh)

    @app.put("/cross-province/v1/files/{sha256}")
    async def cross_file(sha256: str, request: Request):
        return await put_file(request, CROSS_PROVINCE, sha256)

    @app.post("/cross-province/v1/packages:batch")
    async def cross_packages(request: Request):
        return await packages(request, CROSS_PROVINCE)

    @app.get("/cross-province/v1/package-events")
    async def cross_events(request: Request):
        return await events(request, CROSS_PROVINCE)

    @app.get("/_sim/packages")
    async def package_truth():
        return desk.truth()

    @app.post("/_sim/packages")
    async def package_config(request: Request):
        try:
            desk.set_config(PackageConfig.parse(json.loads((await request.body()) or b"{}")))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": "bad_request", "message": str(exc)}, status_code=400)
        return asdict(desk.config)

    @app.post("/_sim/package-events")
    async def package_inject(request: Request):
        wanted = json.loads((await request.body()) or b"{}")
        receiver = wanted.get("receiver") if isinstance(wanted, dict) else None
        if not isinstance(receiver, str) or not (receiver == CROSS_PROVINCE or re.fullmatch(r"county/\d{6}", receiver)) or "event" not in wanted:
            return JSONResponse({"error": "bad_request", "message": "body must be {receiver: 'county/<xzqh>' | 'cross-province', event: ...}"},
                                status_code=400)
        return {"receiver": receiver, "seq": desk.inject(receiver, wanted["event"])}


# --- running it as a process -----------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.receivers", description="Simulated county systems and grid marketing API.")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--state", required=True, help="SQLite file of accepted work orders (kept across restarts)")
    parser.add_argument("--key", action="append", required=True, metavar="KEYID:SECRET", help="a client key; repeatable")
    parser.add_argument("--rate", type=float, default=None, help="requests per second per receiver (the grid's limit)")
    args = parser.parse_args(argv)
    keys = {}
    for pair in args.key:
        key_id, sep, secret = pair.partition(":")
        if not sep or not key_id or not secret:
            parser.error("--key must be KEYID:SECRET")
        keys[key_id] = secret

    import uvicorn

    app = create_app(keys=keys, state_path=args.state, rate_per_s=args.rate)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart takes its port back at once
    # Accepted connections inherit it: no 40 ms Nagle / delayed-ACK stall between a response's head and body.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    # keep-alive longer than the client's idle pool, so a kept connection is not closed under it
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30))

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.01)
        print(f"LISTENING http://127.0.0.1:{port}", flush=True)
        await task

    asyncio.run(serve())


class ReceiverProcess:
    """The simulator as a real separate process on loopback; `stop()` is an outage (killed).

    `start()` again reuses the state file, and the port if it is still free.
    """

    def __init__(self, state_path: str | Path, keys: dict[str, str], rate_per_s: float | None = None, *, startup_timeout_s: float = 30) -> None:
        self.state_path = Path(state_path)
        self.keys = dict(keys)
        self.rate_per_s = rate_per_s
        self.startup_timeout_s = startup_timeout_s
        self.log_path = self.state_path.with_name(self.state_path.name + ".log")
        self.url: str | None = None
        self._port = 0
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> ReceiverProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> str:
        if self._proc is not None:
            return self.url
        try:
            return self._spawn(self._port)
        except RuntimeError:
            if not self._port:
                raise
            return self._spawn(0)  # the old port was taken meanwhile

    def stop(self) -> None:
        """Kill the process (no graceful shutdown: an outage, not a maintenance window)."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=10)
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- control helpers ---------------------------------------------------------------------

    def faults(self, **faults) -> dict:
        return self._control("POST", "/_sim/faults", json=faults)

    def reset(self, *, wipe: bool = False) -> dict:
        return self._control("POST", "/_sim/reset", json={"wipe": wipe})

    def accepted(self, receiver: str | None = None) -> list[dict]:
        return self._control("GET", "/_sim/accepted", params={"receiver": receiver} if receiver else None)["items"]

    def in_force(self, receiver: str | None = None) -> list[dict]:
        """What each receiver holds in force: the latest version accepted per work order, less what was cancelled."""
        return self._control("GET", "/_sim/in-force", params={"receiver": receiver} if receiver else None)["items"]

    def cancelled(self, receiver: str | None = None) -> list[dict]:
        """Every cancellation accepted, with times_submitted."""
        return self._control("GET", "/_sim/cancelled", params={"receiver": receiver} if receiver else None)["items"]

    def stats(self) -> dict:
        return self._control("GET", "/_sim/stats")

    def results_mix(self, **config) -> dict:
        """Set how items accepted from now on are handled: mix, delay_days, late_days, acknowledge
        (keys not given take their defaults)."""
        return self._control("POST", "/_sim/results", json=config)

    def clock(self, now: str | datetime | None) -> dict:
        """Fix the business clock at `now` (local Asia/Shanghai time; an aware datetime is converted),
        or None: real time again."""
        if isinstance(now, datetime):
            now = _local_text(now)
        return self._control("POST", "/_sim/clock", json={"now": now})

    def truth(self, receiver: str | None = None) -> list[dict]:
        """Every planned result, visible or not, with receiver, kind, fate, seq and visible."""
        return self._control("GET", "/_sim/results", params={"receiver": receiver} if receiver else None)["results"]

    def injected(self, receiver: str | None = None) -> list[dict]:
        return self._control("GET", "/_sim/results", params={"receiver": receiver} if receiver else None)["injected"]

    def inject(self, receiver: str, result: object) -> int:
        """Append `result` (any JSON) verbatim to the receiver's feed; returns its seq."""
        return self._control("POST", "/_sim/inject", json={"receiver": receiver, "result": result})["seq"]

    def packages_mix(self, **config) -> dict:
        """How package versions accepted from now on are handled: mix, delay_days, late_days, paper_rate."""
        return self._control("POST", "/_sim/packages", json=config)

    def packages_truth(self) -> dict:
        """Every package accepted, every status event planned (visible or not), every file held."""
        return self._control("GET", "/_sim/packages")

    def inject_package_event(self, receiver: str, event: object) -> int:
        return self._control("POST", "/_sim/package-events", json={"receiver": receiver, "event": event})["seq"]

    def cross_province_url(self) -> str:
        return f"{self.url}/{CROSS_PROVINCE}"

    def county_url(self, xzqh: str) -> str:
        return f"{self.url}/county/{xzqh}"

    def grid_url(self) -> str:
        return f"{self.url}/grid"

    # --- internals ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, **kw) -> dict:
        import httpx

        response = httpx.request(method, f"{self.url}{path}", timeout=10, **kw)
        response.raise_for_status()
        return response.json()

    def _spawn(self, port: int) -> str:
        command = [sys.executable, "-m", "simulators.receivers", "--port", str(port), "--state", str(self.state_path)]
        for key_id, secret in self.keys.items():
            command += ["--key", f"{key_id}:{secret}"]
        if self.rate_per_s:
            command += ["--rate", str(self.rate_per_s)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        ready = threading.Event()
        lines: list[str] = []

        def read() -> None:  # first line is LISTENING; keep draining so the pipe never fills
            for line in proc.stdout:
                if not lines:
                    lines.append(line.strip())
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(self.startup_timeout_s)
        if not lines or not lines[0].startswith("LISTENING "):
            proc.kill()
            proc.wait(timeout=10)
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"receiver simulator did not start on port {port}: {lines[:1]}\n{tail}")
        self._proc = proc
        self.url = lines[0].split(" ", 1)[1]
        self._port = int(self.url.rsplit(":", 1)[1])
        return self.url


if __name__ == "__main__":
    main()
