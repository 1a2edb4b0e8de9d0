"""The property side of remote collection (异地代收), simulated: every county registration
system's package endpoints and the cross-province (跨省通办) channel, in the receivers
simulator's process (simulators/receivers/package_routes.py serves them beside the work-order endpoints,
with the same HMAC auth, faults, rate limit and business clock).

Protocol: docs/protocol/packages.md. Bases: `/county/{xzqh}` (the county's registration
system) and `/cross-province`.

- `PUT {base}/v1/files/{sha256}`: an electronic file, content-addressed. 400 `hash_mismatch`
  when the body's SHA-256 is not the path's; 200 `{"sha256", "size", "stored"}` (stored false:
  it was already held). Idempotent.
- `POST {base}/v1/packages:batch`: up to 100 package versions. Per item `accepted` (0000),
  `duplicate` (0201, original receipt) or `rejected`: 0101 a required field missing, 0301 the
  property is not this receiver's (XZQH of another county; a Shandong county at the
  cross-province channel, or the reverse), 0101 also for a cross-province applicant without
  `ZJZLDM` (the national document code, 3 digits or null), 0104 a material's file was not uploaded first (the
  gateway treats 0104 as "send again": it uploads, then re-sends).
- `POST {base}/v1/packages:withdraw`: the applicant withdrew (or the package went to another
  county after a correction): per item `accepted` (0000: withdrawn, its pending statuses
  dropped, a `withdrawn` event published), `duplicate` (0201), or `rejected` 0404 (no such
  package here) / 0409 (already 登簿: too late to withdraw).
- `GET {base}/v1/package-events?after=&limit=`: the statuses the authority records, a feed in
  `seq` order: `accepted` 受理, `refused` 不予受理 (reason), `correction` 补正 (what is missing),
  `review` 审核, `fee_notice` 缴费通知 (amount), `registered` 登簿, `certificate_issued` 证照已发
  (electronic certificate number, or a paper certificate's post tracking number).

Each accepted package version gets a fate when it is accepted, from a hash of (receiver,
key) and the configured mix (`POST /_sim/packages`): `certified` (受理, 审核, perhaps 缴费通知,
登簿 and 证照已发 within `delay_days`), `late` (登簿 after `late_days`), `refused`, `correction`
(a corrected version — `correction: true` — is never asked for correction again), or `silent`
(受理 and 审核, then nothing). Events become visible in the feed when their time is not after
the business clock. `GET /_sim/packages` is the truth: every package accepted, every event
planned (visible or not), every file held.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime

from simulators.batch_envelope import KEY_PATTERN, local_text, parse_envelope, settings_of

MAX_PACKAGES = 100
MAX_FILE_BYTES = 64 * 1024 * 1024
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
PACKAGE_FATES = ("certified", "late", "refused", "correction", "silent")
EVENT_STATUSES = ("accepted", "refused", "correction", "review", "fee_notice", "registered", "certificate_issued", "withdrawn")
WITHDRAW_KEYS = frozenset({"idempotency_key", "bwid", "change_seq", "reason"})
REQUIRED_PACKAGE = ("BWID", "SJDWDM", "YWLX", "BDCDYH", "ZL", "XZQH")
ITEM_KEYS = frozenset({"idempotency_key", "bwid", "change_seq", "correction", "package", "applicants", "materials"})
MATERIAL_KEYS = frozenset({"CLBM", "CLMC", "YS", "SFZZYJ", "sha256", "size"})
REFUSALS = ["申请登记事项与不动产登记簿记载冲突", "不动产存在查封登记，不予办理", "申请人不具备申请资格", "存在尚未解决的权属争议"]
CORRECTIONS = ["材料不清晰，请补充清晰扫描件", "签章不全，请补正", "材料信息与登记簿不一致，请补充说明"]
HANDLERS = ["周敏", "吴磊", "郑洁", "冯涛", "褚红", "卫东", "蒋芳", "沈斌"]
FEE_BY_TYPE = {"01": 80, "02": 80, "03": 0, "04": 80, "05": 80}  # 登记费 (yuan) per business type; 0: none asked

SCHEMA = """
CREATE TABLE IF NOT EXISTS package_file (
    receiver   TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    content    BLOB NOT NULL,
    stored_at  TEXT NOT NULL,
    times_put  INTEGER NOT NULL,
    PRIMARY KEY (receiver, sha256)
);
CREATE TABLE IF NOT EXISTS package_accepted (
    receiver        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    receipt_id      TEXT NOT NULL UNIQUE,
    bwid            TEXT NOT NULL,
    change_seq      INTEGER NOT NULL,
    correction      INTEGER NOT NULL,
    xzqh            TEXT NOT NULL,
    hall            TEXT,
    business_type   TEXT,
    materials       INTEGER NOT NULL,
    fate            TEXT NOT NULL,
    accepted_at     TEXT NOT NULL,     -- local business time
    times_submitted INTEGER NOT NULL,
    body            TEXT NOT NULL,     -- the item as received (JSON)
    PRIMARY KEY (receiver, idempotency_key)
);
CREATE TABLE IF NOT EXISTS package_event (
    id              INTEGER PRIMARY KEY,
    receiver        TEXT NOT NULL,
    idempotency_key TEXT,
    status          TEXT NOT NULL,
    at              TEXT,              -- local, no offset; null: injected
    body            TEXT NOT NULL,
    seq             INTEGER,           -- null until visible
    UNIQUE (receiver, seq)
);
CREATE INDEX IF NOT EXISTS package_event_due ON package_event (at) WHERE seq IS NULL;
CREATE TABLE IF NOT EXISTS package_withdrawn (
    receiver        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reason          TEXT,
    withdrawn_at    TEXT NOT NULL,
    times_submitted INTEGER NOT NULL,
    PRIMARY KEY (receiver, idempotency_key)
);
"""


def _default_mix() -> dict[str, float]:
    return {"certified": 0.75, "late": 0.05, "refused": 0.05, "correction": 0.1, "silent": 0.05}


@dataclass
class PackageConfig:
    """How accepted package versions are handled (applies to packages accepted after it is set)."""

    mix: dict[str, float] = field(default_factory=_default_mix)
    delay_days: list[int] = field(default_factory=lambda: [1, 4])  # 登簿 this many calendar days after acceptance
    late_days: list[int] = field(default_factory=lambda: [9, 16])
    paper_rate: float = 0.3  # share of certificates issued on paper (by post)

    @classmethod
    def parse(cls, wanted: object) -> PackageConfig:
        config = settings_of(cls, wanted)
        if not isinstance(config.mix, dict) or not config.mix or set(config.mix) - set(PACKAGE_FATES):
            raise ValueError(f"mix must be an object of weights by fate ({', '.join(PACKAGE_FATES)})")
        if any(type(w) not in (int, float) or not 0 <= w < math.inf for w in config.mix.values()) or sum(config.mix.values()) <= 0:
            raise ValueError("mix weights must be numbers >= 0, not all 0")
        total = sum(config.mix.values())
        config.mix = {fate: config.mix.get(fate, 0) / total for fate in PACKAGE_FATES}
        for name in ("delay_days", "late_days"):
            days = getattr(config, name)
            if not isinstance(days, list) or len(days) != 2 or any(type(d) is not int for d in days) or not 0 <= days[0] <= days[1] <= 366:
                raise ValueError(f"{name} must be [low, high], whole days, 0 <= low <= high <= 366")
        if type(config.paper_rate) not in (int, float) or not 0 <= config.paper_rate <= 1:
            raise ValueError("paper_rate must be between 0 and 1")
        return config


class PackageError(Exception):
    """An answer other than 200: (status, error, message)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


class RegistrationDesk:
    """The property side's state, in the receivers simulator's SQLite file. `now()` is its business clock."""

    def __init__(self, db: sqlite3.Connection, now) -> None:
        self.db = db
        self.now = now
        self.db.executescript(SCHEMA)
        row = self.db.execute("SELECT value FROM sim_setting WHERE name = 'package_config'").fetchone()
        self.config = PackageConfig.parse(json.loads(row[0]) if row else {})
        self.stats: dict[str, int] = {}

    def set_config(self, config: PackageConfig) -> None:
        self.config = config
        self.db.execute("INSERT INTO sim_setting (name, value) VALUES ('package_config', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        (json.dumps(asdict(config)),))

    # --- files ---------------------------------------------------------------------------------

    def put_file(self, receiver: str, sha256: str, body: bytes) -> dict:
        if not SHA256_PATTERN.fullmatch(sha256):
            raise PackageError(400, "bad_request", "the path must end in the file's SHA-256, 64 lower-case hex digits")
        if len(body) > MAX_FILE_BYTES:
            raise PackageError(413, "too_large", f"files up to {MAX_FILE_BYTES} bytes")
        actual = hashlib.sha256(body).hexdigest()
        if actual != sha256:
            raise PackageError(400, "hash_mismatch", f"the body's SHA-256 is {actual}, not {sha256}")
        now = local_text(self.now())
        self.db.execute("INSERT INTO package_file (receiver, sha256, size, content, stored_at, times_put) VALUES (?, ?, ?, ?, ?, 1)"
                                 " ON CONFLICT (receiver, sha256) DO UPDATE SET times_put = times_put + 1", (receiver, sha256, len(body), body, now))
        held = self.db.execute("SELECT times_put FROM package_file WHERE receiver = ? AND sha256 = ?", (receiver, sha256)).fetchone()[0]
        return {"sha256": sha256, "size": len(body), "stored": held == 1}

    # --- packages ------------------------------------------------------------------------------

    def process(self, receiver: str, county: str | None, items: list[dict]) -> list[dict]:
        results = []
        clock = self.now().replace(microsecond=0, tzinfo=None)
        with _immediate(self.db):
            for item in items:
                key = item["idempotency_key"]
                seen = self.db.execute("SELECT receipt_id FROM package_accepted WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone()
                if seen is not None:
                    self.db.execute("UPDATE package_accepted SET times_submitted = times_submitted + 1 WHERE receiver = ? AND idempotency_key = ?",
                                    (receiver, key))
                    results.append(_result(key, "duplicate", seen[0], "0201", "duplicate submission: already accepted (重复提交)"))
                    continue
                refusal = self._refusal(receiver, county, item)
                if refusal is not None:
                    results.append(_result(key, "rejected", None, *refusal))
                    continue
                n = self.db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM package_accepted").fetchone()[0]
                prefix = county or "KSTB"
                receipt = f"YDDS-{prefix}-{clock:%Y%m%d}-{n:07d}"
                fate = _fate(receiver, key, self.config.mix, allow_correction=not item["correction"])
                package = item["package"]
                self.db.execute(
                    "INSERT INTO package_accepted (receiver, idempotency_key, receipt_id, bwid, change_seq, correction, xzqh, hall, business_type, materials,"
                    " fate, accepted_at, times_submitted, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                    (receiver, key, receipt, item["bwid"], item["change_seq"], int(item["correction"]), package["XZQH"], package.get("SJDWDM"),
                     package.get("YWLX"), len(item["materials"]), fate, clock.isoformat(), json.dumps(item, ensure_ascii=False)))
                self._plan(receiver, item, receipt, fate, clock)
                results.append(_result(key, "accepted", receipt, "0000", None))
        for r in results:
            self.stats[r["status"]] = self.stats.get(r["status"], 0) + 1
        return results

    def _refusal(self, receiver: str, county: str | None, item: dict) -> tuple[str, str] | None:
        package = item["package"]
        missing = [name for name in REQUIRED_PACKAGE if not (package.get(name) or "").strip()]
        if missing or not item["applicants"] or not item["materials"]:
            what = ", ".join(missing) or ("applicants" if not item["applicants"] else "materials")
            return "0101", f"required: {what} (必填项缺失)"
        if package["BWID"] != item["bwid"]:
            return "0101", "package.BWID does not match the item's bwid"
        xzqh = package["XZQH"].strip()
        if county is not None and xzqh != county:
            return "0301", f"XZQH {xzqh} is not county {county} served here (非本辖区)"
        if county is None and xzqh.startswith("37"):
            return "0301", f"XZQH {xzqh} is a Shandong county: not a cross-province package (非跨省业务)"
        if county is None:
            for i, applicant in enumerate(item["applicants"]):
                national = applicant.get("ZJZLDM", "absent")
                if national is not None and not (isinstance(national, str) and re.fullmatch(r"\d{3}", national)):
                    return "0101", f"applicants[{i}].ZJZLDM (证件种类国家代码, GA/T 2000.156) must be 3 digits or null at the cross-province channel"
        for i, material in enumerate(item["materials"]):
            if self.db.execute("SELECT 1 FROM package_file WHERE receiver = ? AND sha256 = ? AND size = ?",
                               (receiver, material["sha256"], material["size"])).fetchone() is None:
                return "0104", f"materials[{i}] {material['CLBM']}: file {material['sha256'][:12]}… not uploaded (材料文件未上传)"
        return None

    def _plan(self, receiver: str, item: dict, receipt: str, fate: str, accepted: datetime) -> None:
        key, config = item["idempotency_key"], self.config
        base = {"idempotency_key": key, "bwid": item["bwid"], "change_seq": item["change_seq"], "receipt_id": receipt}
        handler = HANDLERS[int(_draw(receiver, key, "handler") * len(HANDLERS))]
        events: list[tuple[str, datetime, dict]] = []
        first = _office_time(receiver, key, "accept", accepted, 0)
        if fate == "refused":
            events.append(("refused", first, {"reason": _pick(receiver, key, "reason", REFUSALS)}))
        elif fate == "correction":
            materials = item["materials"]
            material = materials[int(_draw(receiver, key, "missing") * len(materials))]
            events.append(("correction", first, {"reason": _pick(receiver, key, "reason", CORRECTIONS),
                                                 "missing": [{"CLBM": material["CLBM"], "CLMC": material.get("CLMC")}]}))
        else:
            events.append(("accepted", first, {}))
            review = max(first + timedelta(minutes=30), _office_time(receiver, key, "review", accepted, 1))
            events.append(("review", review, {}))
            if fate != "silent":
                low, high = config.late_days if fate == "late" else config.delay_days
                days = max(1, min(high, low + int(_draw(receiver, key, "days") * (high - low + 1))))
                registered = max(review + timedelta(minutes=30), _office_time(receiver, key, "registered", accepted, days))
                fee = FEE_BY_TYPE.get(item["package"].get("YWLX") or "", 0)
                if fee:
                    events.append(("fee_notice", review + timedelta(minutes=10), {"fee": {"amount_yuan": fee, "item": "不动产登记费"}}))
                events.append(("registered", registered, {}))
                paper = _draw(receiver, key, "paper") < config.paper_rate
                if paper:
                    sent = registered + timedelta(days=1)
                    mail = f"EMS{int(_draw(receiver, key, 'mail') * 10**10):010d}"
                    events.append(("certificate_issued", sent, {"certificate": {"form": "paper", "number": _cert_no(receiver, key, item, paper=True), "mail_no": mail}}))
                else:
                    events.append(("certificate_issued", registered + timedelta(minutes=5),
                                   {"certificate": {"form": "electronic", "number": _cert_no(receiver, key, item), "mail_no": None}}))
        for status, at, extra in events:
            body = {**base, "status": status, "at": local_text(at), "reason": None, "missing": None, "certificate": None, "fee": None,
                    "handler": handler, **extra}
            self.db.execute("INSERT INTO package_event (receiver, idempotency_key, status, at, body) VALUES (?, ?, ?, ?, ?)",
                            (receiver, key, status, body["at"], json.dumps(body, ensure_ascii=False)))

    def withdraw(self, receiver: str, items: list[dict]) -> list[dict]:
        """Withdraw accepted packages: unpublished statuses dropped, a `withdrawn` status published."""
        results = []
        clock = self.now().replace(microsecond=0, tzinfo=None)
        with _immediate(self.db):
            for item in items:
                key = item["idempotency_key"]
                held = self.db.execute("SELECT receipt_id, bwid, change_seq FROM package_accepted WHERE receiver = ? AND idempotency_key = ?",
                                       (receiver, key)).fetchone()
                if held is None:
                    results.append(_result(key, "rejected", None, "0404", "no such package here (无此报文)"))
                    continue
                if self.db.execute("SELECT 1 FROM package_withdrawn WHERE receiver = ? AND idempotency_key = ?", (receiver, key)).fetchone():
                    self.db.execute("UPDATE package_withdrawn SET times_submitted = times_submitted + 1 WHERE receiver = ? AND idempotency_key = ?",
                                    (receiver, key))
                    results.append(_result(key, "duplicate", held[0], "0201", "already withdrawn (已撤回)"))
                    continue
                self.publish_in_transaction()
                if self.db.execute("SELECT 1 FROM package_event WHERE receiver = ? AND idempotency_key = ? AND status = 'registered' AND seq IS NOT NULL",
                                   (receiver, key)).fetchone():
                    results.append(_result(key, "rejected", None, "0409", "already recorded in the register: too late to withdraw (已登簿，不能撤回)"))
                    continue
                self.db.execute("DELETE FROM package_event WHERE receiver = ? AND idempotency_key = ? AND seq IS NULL", (receiver, key))
                self.db.execute("INSERT INTO package_withdrawn (receiver, idempotency_key, reason, withdrawn_at, times_submitted) VALUES (?, ?, ?, ?, 1)",
                                (receiver, key, item["reason"], clock.isoformat()))
                body = {"idempotency_key": key, "bwid": held[1], "change_seq": held[2], "receipt_id": held[0], "status": "withdrawn",
                        "at": clock.isoformat(), "reason": item["reason"] or "申请人撤回申请", "missing": None, "certificate": None, "fee": None, "handler": None}
                self.db.execute("INSERT INTO package_event (receiver, idempotency_key, status, at, body) VALUES (?, ?, 'withdrawn', ?, ?)",
                                (receiver, key, body["at"], json.dumps(body, ensure_ascii=False)))
                results.append(_result(key, "accepted", held[0], "0000", None))
        return results

    # --- the events feed -----------------------------------------------------------------------

    def publish(self) -> None:
        """Give every status now due (at <= the business clock) the next seq of its receiver's feed."""
        with _immediate(self.db):
            self.publish_in_transaction()

    def publish_in_transaction(self) -> None:
        now = local_text(self.now())
        for row_id, receiver in self.db.execute("SELECT id, receiver FROM package_event WHERE seq IS NULL AND at IS NOT NULL AND at <= ? ORDER BY at, id",
                                                (now,)).fetchall():
            seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM package_event WHERE receiver = ?", (receiver,)).fetchone()[0]
            self.db.execute("UPDATE package_event SET seq = ? WHERE id = ?", (seq, row_id))

    def feed(self, receiver: str, after: int, limit: int) -> dict:
        self.publish()
        rows = self.db.execute("SELECT seq, body FROM package_event WHERE receiver = ? AND seq > ? ORDER BY seq LIMIT ?", (receiver, after, limit + 1)).fetchall()
        page = rows[:limit]
        events = []
        for seq, body in page:
            value = json.loads(body)
            if isinstance(value, dict) and "seq" not in value:
                value["seq"] = seq
            events.append(value)
        return {"events": events, "next": str(page[-1][0] if page else after), "more": len(rows) > limit}

    def inject(self, receiver: str, event: object) -> int:
        with _immediate(self.db):
            seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM package_event WHERE receiver = ?", (receiver,)).fetchone()[0]
            key = event.get("idempotency_key") if isinstance(event, dict) else None
            self.db.execute("INSERT INTO package_event (receiver, idempotency_key, status, at, body, seq) VALUES (?, ?, 'injected', NULL, ?, ?)",
                            (receiver, key if isinstance(key, str) else None, json.dumps(event, ensure_ascii=False), seq))
        return seq

    def truth(self) -> dict:
        self.publish()
        accepted = []
        for r in self.db.execute("SELECT receiver, idempotency_key, receipt_id, bwid, change_seq, correction, xzqh, hall, business_type, materials, fate,"
                                 " accepted_at, times_submitted, body FROM package_accepted ORDER BY rowid"):
            accepted.append(dict(zip(("receiver", "idempotency_key", "receipt_id", "bwid", "change_seq", "correction", "xzqh", "hall", "business_type",
                                      "materials", "fate", "accepted_at", "times_submitted"), r[:-1]), applicants=json.loads(r[-1])["applicants"]))
        events = [{"receiver": r[0], "status": r[1], "seq": r[2], "visible": r[2] is not None, **json.loads(r[3])}
                  for r in self.db.execute("SELECT receiver, status, seq, body FROM package_event WHERE status <> 'injected' ORDER BY id")]
        files = [{"receiver": r[0], "sha256": r[1], "size": r[2], "times_put": r[3]}
                 for r in self.db.execute("SELECT receiver, sha256, size, times_put FROM package_file ORDER BY receiver, sha256")]
        withdrawn = [{"receiver": r[0], "idempotency_key": r[1], "reason": r[2], "withdrawn_at": r[3], "times_submitted": r[4]}
                     for r in self.db.execute("SELECT receiver, idempotency_key, reason, withdrawn_at, times_submitted FROM package_withdrawn ORDER BY rowid")]
        return {"now": local_text(self.now()), "config": asdict(self.config), "accepted": accepted, "events": events, "files": files,
                "withdrawn": withdrawn}

    def wipe(self) -> None:
        for table in ("package_file", "package_accepted", "package_event", "package_withdrawn"):
            self.db.execute(f"DELETE FROM {table}")
        self.set_config(PackageConfig())
        self.stats.clear()


# --- parsing -----------------------------------------------------------------------------------


def parse_packages(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed package batch, else PackageError(400) naming what is wrong."""
    def bad(message: str) -> PackageError:
        return PackageError(400, "malformed_batch", message)

    batch_id, items = parse_envelope(body, limit=MAX_PACKAGES, bad=bad)
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) != ITEM_KEYS:
            raise bad(f"{where} must be an object with exactly the keys {', '.join(sorted(ITEM_KEYS))}")
        if not isinstance(item["idempotency_key"], str) or not KEY_PATTERN.fullmatch(item["idempotency_key"]):
            raise bad(f"{where}.idempotency_key must match {KEY_PATTERN.pattern}")
        if not isinstance(item["bwid"], str) or not item["bwid"]:
            raise bad(f"{where}.bwid must be a non-empty string")
        if type(item["change_seq"]) is not int or item["change_seq"] < 1:
            raise bad(f"{where}.change_seq must be an integer >= 1")
        if type(item["correction"]) is not bool:
            raise bad(f"{where}.correction must be true or false")
        if not isinstance(item["package"], dict) or any(v is not None and not isinstance(v, str) for v in item["package"].values()):
            raise bad(f"{where}.package must map field codes to strings or null")
        for name in ("applicants", "materials"):
            rows = item[name]
            if not isinstance(rows, list) or any(not isinstance(r, dict) for r in rows):
                raise bad(f"{where}.{name} must be a list of objects")
        for j, material in enumerate(item["materials"]):
            if set(material) != MATERIAL_KEYS:
                raise bad(f"{where}.materials[{j}] must have exactly the keys {', '.join(sorted(MATERIAL_KEYS))}")
            if not isinstance(material["sha256"], str) or not SHA256_PATTERN.fullmatch(material["sha256"]) or type(material["size"]) is not int:
                raise bad(f"{where}.materials[{j}]: sha256 must be 64 lower-case hex digits and size an integer")
    return batch_id, items


def parse_withdrawals(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed withdrawal batch, else PackageError(400)."""
    def bad(message: str) -> PackageError:
        return PackageError(400, "malformed_batch", message)

    batch_id, items = parse_envelope(body, limit=MAX_PACKAGES, bad=bad)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != WITHDRAW_KEYS:
            raise bad(f"items[{i}] must be an object with exactly the keys {', '.join(sorted(WITHDRAW_KEYS))}")
        if not isinstance(item["idempotency_key"], str) or not KEY_PATTERN.fullmatch(item["idempotency_key"]):
            raise bad(f"items[{i}].idempotency_key must match {KEY_PATTERN.pattern}")
        if item["reason"] is not None and not isinstance(item["reason"], str):
            raise bad(f"items[{i}].reason must be a string or null")
    return batch_id, items


# --- helpers -------------------------------------------------------------------------------------


@contextmanager
def _immediate(db: sqlite3.Connection):
    """One write transaction (BEGIN IMMEDIATE: writers queue, readers go on), rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _result(key: str, status: str, receipt: str | None, code: str, reason: str | None) -> dict:
    return {"idempotency_key": key, "status": status, "receipt_id": receipt, "code": code, "reason": reason}


def _draw(receiver: str, key: str, what: str) -> float:
    digest = hashlib.sha256(f"package\n{receiver}\n{key}\n{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _pick(receiver: str, key: str, what: str, options: list[str]) -> str:
    return options[int(_draw(receiver, key, what) * len(options))]


def _fate(receiver: str, key: str, mix: dict[str, float], *, allow_correction: bool) -> str:
    weights = {fate: w for fate, w in mix.items() if w > 0 and (allow_correction or fate != "correction")}
    if not weights:
        weights = {"certified": 1.0}
    u, total, scale = _draw(receiver, key, "fate"), 0.0, sum(weights.values())
    for fate, weight in weights.items():
        total += weight / scale
        if u < total:
            return fate
    return list(weights)[-1]


def _office_time(receiver: str, key: str, what: str, accepted: datetime, days: int) -> datetime:
    """`days` calendar days after acceptance, in office hours 08:30-17:30; never before acceptance."""
    minute = 8 * 60 + 30 + int(_draw(receiver, key, what) * 9 * 60)
    moment = datetime.combine(accepted.date() + timedelta(days=days), dtime(minute // 60, minute % 60))
    if moment <= accepted:
        moment = accepted.replace(second=0) + timedelta(minutes=5 + int(_draw(receiver, key, what + ":m") * 55))
    return moment


def _cert_no(receiver: str, key: str, item: dict, *, paper: bool = False) -> str:
    xzqh = item["package"]["XZQH"]
    return f"{xzqh}-{'ZS' if paper else 'DZZZ'}-{int(_draw(receiver, key, 'cert') * 10**8):08d}"


