"""The simulated receivers' state (simulators/receivers/__init__.py): accepted work orders and their
planned results in a SQLite file that survives restarts, the faults tests set, the HMAC check,
the per-receiver token buckets, the results feeds and the truth endpoints' answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from simulators.batch_envelope import LOCAL, local_text
from simulators.receivers.handling_results import FINAL, HANDLERS, REASONS, RECEIVED, ResultsConfig, draw, draw_fate, draw_handled_at
from simulators.receivers.work_order_wire import CLOCK_WINDOW_S, Answer, business_rule

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
CREATE TABLE IF NOT EXISTS reminded (
    receiver        TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,     -- <key of the work order held>:remind:<week>
    receipt_id      TEXT    NOT NULL,
    rowguid         TEXT    NOT NULL,
    utility         TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    week            TEXT    NOT NULL,
    due_date        TEXT    NOT NULL,
    overdue_working_days INTEGER NOT NULL,
    reminded_at     TEXT    NOT NULL,     -- UTC, ISO 8601 (the business clock)
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
    answers: str = "signed"  # signed_answers.py: signed, unsigned, forged (another key), stale (10 min old)



class ReceiverState:
    """Accepted work orders (SQLite, survives restarts), faults, counters and rate buckets."""

    def __init__(self, *, keys: dict[str, str], state_path: str | Path, rate_per_s: float | None,
                 answer_keys: dict[str, str] | None = None) -> None:
        self.keys = dict(keys)
        self.answer_keys = dict(answer_keys or {})
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

    def answer_key(self, key_id: str | None) -> str | None:
        """The answer key for a request under `key_id` (the receiver signs its answers with it): the
        answer key given for it (`--answer-key`), else its request secret; None for an unknown key."""
        if key_id is None or key_id not in self.keys:
            return None
        return self.answer_keys.get(key_id, self.keys[key_id])

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
            raise Answer(401, "missing_auth", "X-Gateway-Key, X-Timestamp and X-Signature are all required")
        secret = self.keys.get(key_id)
        if secret is None:
            raise Answer(401, "unknown_key", f"key id {key_id!r} is not known to this receiver")
        if not re.fullmatch(r"\d{1,12}", stamp):
            raise Answer(401, "bad_timestamp", "X-Timestamp must be whole unix seconds")
        skew = time.time() - int(stamp)
        if abs(skew) > CLOCK_WINDOW_S:
            raise Answer(401, "stale_timestamp", f"X-Timestamp is {skew:+.0f} s from the receiver's clock (allowed ±{CLOCK_WINDOW_S} s)")
        canonical = f"{stamp}\n{method}\n{raw_path}\n{hashlib.sha256(body).hexdigest()}"
        expected = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            raise Answer(401, "bad_signature", "X-Signature does not match the request")

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
        self._store_setting("clock", None if self.fixed_now is None else local_text(self.fixed_now))

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
                refusal = business_rule(item, county)
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
        fate = draw_fate(receiver, key, config.mix)
        base = {"idempotency_key": key, "rowguid": item["rowguid"], "utility": item["utility"], "version": item["version"], "receipt_id": receipt}
        planned: list[tuple[str, str | None, dict]] = []
        if fate == "silent":
            planned.append(("silent", None, {**base, "result": None, "code": None, "reason": None, "handled_at": None, "handler": None}))
        else:
            if config.acknowledge:
                at = local_text(accepted)
                result, code, reason = RECEIVED
                planned.append(("acknowledged", at, {**base, "result": result, "code": code, "reason": reason, "handled_at": at, "handler": None}))
            at = draw_handled_at(receiver, key, accepted, config.late_days if fate == "late" else config.delay_days)
            result, code = FINAL[fate]
            reasons = REASONS.get(fate)
            reason = reasons[int(draw(receiver, key, "reason") * len(reasons))] if reasons else None
            handler = HANDLERS[int(draw(receiver, key, "handler") * len(HANDLERS))]
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

    def remind(self, receiver: str, items: list[dict]) -> list[dict]:
        """Weekly overdue reminders (催办): noted once per key (0000; again 0201 with the original receipt); a work order
        this receiver never accepted 0404; one it already published a final result for 0409 (the gateway is behind)."""
        self.publish()
        results = []
        clock = self.now().replace(microsecond=0).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                key = item["idempotency_key"]
                seen = self.db.execute("SELECT receipt_id FROM reminded WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
                if seen is not None:
                    self.db.execute("UPDATE reminded SET times_submitted = times_submitted + 1 WHERE receiver = ? AND idempotency_key = ?", (receiver, key))
                    results.append(_result(key, "duplicate", seen["receipt_id"], "0201", "already reminded (本周已催办)"))
                    continue
                held = key.rsplit(":remind:", 1)[0]
                if self.db.execute("SELECT 1 FROM accepted WHERE receiver = ? AND idempotency_key = ?", (receiver, held)).fetchone() is None:
                    results.append(_result(key, "rejected", None, "0404", "no such work order here (无此工单)"))
                    continue
                handled = self.db.execute(
                    "SELECT 1 FROM result WHERE receiver = ? AND idempotency_key = ? AND seq IS NOT NULL AND kind NOT IN ('acknowledged', 'injected')",
                    (receiver, held)).fetchone()
                if handled is not None:
                    results.append(_result(key, "rejected", None, "0409", "already handled: the result is in the feed (已办结)"))
                    continue
                n = self.db.execute("SELECT COUNT(*) FROM reminded").fetchone()[0] + 1
                receipt = f"CB-{clock[:10].replace('-', '')}-{n:08d}"
                self.db.execute("INSERT INTO reminded (receiver, idempotency_key, receipt_id, rowguid, utility, version, week, due_date,"
                                " overdue_working_days, reminded_at, times_submitted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                                (receiver, key, receipt, item["rowguid"], item["utility"], item["version"], item["week"], item["due_date"],
                                 item["overdue_working_days"], clock))
                results.append(_result(key, "accepted", receipt, "0000", None))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.stats.update(f"remind_{r['status']}" for r in results)
        return results

    def reminded(self, receiver: str | None) -> list[dict]:
        query = "SELECT * FROM reminded" + (" WHERE receiver = ?" if receiver else "") + " ORDER BY rowid"
        return [dict(r) for r in self.db.execute(query, (receiver,) if receiver else ())]

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
        now = local_text(self.now())
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
        return {"now": local_text(self.now()), "fixed_clock": self.fixed_now is not None, "config": asdict(self.results_config),
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


def _served(row: sqlite3.Row) -> object:
    """A feed entry as served: the stored Result with its seq; an injected one verbatim (given a seq
    only when it is an object without one)."""
    body = json.loads(row["body"])
    if row["kind"] != "injected" or (isinstance(body, dict) and "seq" not in body):
        body["seq"] = row["seq"]
    return body


def _result(key: str, status: str, receipt: str | None, code: str, reason: str | None) -> dict:
    return {"idempotency_key": key, "status": status, "receipt_id": receipt, "code": code, "reason": reason}
