"""Channels for tests of the jobs, without sshd or a simulator process: in-memory receivers and a
local-folder drop. They answer as the protocol documents say (docs/protocol/receivers.md,
packages.md, sftp-drop.md, results.md), so a job cannot tell them from the real connectors, and
they record what they were given, for the test to assert on.

- `FakeReceiver` — a county system or the grid (`Channel`): `0000` accepted with a receipt, `0201`
  duplicate with the *original* receipt for a key it holds, refusals chosen by `reject`; cancel
  `0000` / `0201` again / `0404` not held / `0409` final result already published. Its results
  feed is what the test publishes (`publish_result`), with seq cursors, paged.
- `FakeAuthority` — a county registration system or the cross-province channel (`PackageChannel`):
  files content-addressed (`stored` false when held), `0104` (answered `pending`, as the real
  client does) for a package whose file it does not hold; withdraw `0000` / `0201` / `0404` /
  `0409` once registered; its status feed is `publish_event`.
- Either misbehaves on request: `reject` (refuse chosen items), `lose_answers` (store a batch, then
  lose the answer: the items come back `pending`, as from the real client once its retries are
  spent — the next call is answered `duplicate`), `unreachable` (nothing stored, everything
  pending, feeds unreadable), `withhold_results` (the feed stays empty).
- `LocalDrops` — the SFTP drop's layout (`/<drop>/outbox/<batch>/`, `/<drop>/inbox/`,
  `/<drop>/inbox/receipts/`, `/.staging/`, `/.results/<drop>/<folder>/`) on a local folder
  (`Drop`): batches published by rename from staging, found again and verified by size and
  SHA-256, `DropConflict` for a batch of the same name with other contents; `lose_answers`
  publishes and then reports a lost connection. `put_result` is the institution's side.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from connectors.delivery import FeedPage, ItemOutcome
from connectors.http_receiver import check_cancel_item, check_item, check_reminder_item
from connectors.package_receiver import FileRefused, check_package_item, check_withdrawal_item
from connectors.sftp_drop import DropConflict, DropJob, InboxEntry, JobResult, Publication
from connectors.signed_http import FeedPageError, ReceiverError

Refusal = Callable[[dict], "tuple[str, str] | None"]  # an item -> (code, reason) to refuse it, None to accept
FINAL_RESULTS = frozenset({"done", "rejected"})
TOO_LATE_TO_WITHDRAW = frozenset({"registered", "certificate_issued"})


class _FakeEndpoint:
    """What both kinds of receiver share: keyed items held once, a seq feed, the faults."""

    feed_key = "results"

    def __init__(self, name: str = "fake", *, reject: Refusal | Mapping[str, tuple[str, str]] | None = None, lose_answers: int = 0,
                 unreachable: bool = False, withhold_results: bool = False, page_size: int = 100) -> None:
        self.name = name
        self._reject = reject.get if isinstance(reject, Mapping) else reject
        self.lose_answers, self.unreachable, self.withhold_results, self.page_size = lose_answers, unreachable, withhold_results, page_size
        self.held: dict[str, dict] = {}  # key -> {"item", "receipt_id"}: what it accepted, once each
        self.received: list[dict] = []  # every item of every batch that reached it, retries included
        self.batches: list[str | None] = []
        self.cancelled: dict[str, str] = {}  # held key -> receipt of its cancellation / withdrawal
        self.reminded: dict[str, str] = {}  # reminder key -> its receipt (work-order receivers)
        self.feed: list[dict] = []
        self.closed = False
        self._receipts = 0

    def _receipt(self) -> str:
        self._receipts += 1
        return f"FAKE-{self.name}-{self._receipts:08d}"

    def _answer(self, items: list[dict], batch_id: str | None, judge: Callable[[dict], tuple[str, str | None, str | None]]) -> list[ItemOutcome]:
        """Store and answer a batch; `judge(item)` -> (code, receipt_id, reason) for an item not seen before."""
        if self.unreachable:
            return [ItemOutcome(it["idempotency_key"], "pending", None, None, "cannot reach the receiver (fake: unreachable)", 1, batch_id)
                    for it in items]
        self.batches.append(batch_id)
        self.received += items
        answers = []
        for it in items:
            code, receipt, reason = judge(it)
            status = "delivered" if code in ("0000", "0201") else "rejected"
            answers.append(ItemOutcome(it["idempotency_key"], status, receipt if status == "delivered" else None, code, reason, 1, batch_id))
        if self.lose_answers > 0:  # stored, and the answer lost: pending, as the real client says once its retries are spent
            self.lose_answers -= 1
            return [ItemOutcome(a.idempotency_key, "pending", None, None, "gave up after 1 attempts: HTTP 500 (fake: answer lost)", 1, batch_id)
                    for a in answers]
        return answers

    def _accept(self, item: dict) -> tuple[str, str | None, str | None]:
        key = item["idempotency_key"]
        if key in self.held:
            return "0201", self.held[key]["receipt_id"], None
        refusal = self._reject(item) if self._reject is not None else None
        if refusal is not None:
            return refusal[0], None, refusal[1]
        self.held[key] = {"item": item, "receipt_id": self._receipt()}
        return "0000", self.held[key]["receipt_id"], None

    def _publish(self, key: str, entry: dict) -> dict:
        if key not in self.held:
            raise ValueError(f"{self.name} holds no {key!r}: only accepted items have {self.feed_key}")
        entry = {**entry, "seq": len(self.feed) + 1}
        self.feed.append(entry)
        return entry

    def feed_pages(self, after: str | None, *, limit: int = 500, max_pages: int = 50) -> Iterator[FeedPage]:
        """The feed after the cursor (the last seq read, as a string), `page_size` entries a page."""
        if self.unreachable:
            raise FeedPageError(f"{self.name}: {self.feed_key} after {after!r} (page 1): cannot reach the receiver", after=after, page=1,
                                malformed=False)
        start = int(after or 0)
        ready = [] if self.withhold_results else [e for e in self.feed if e["seq"] > start]
        size = min(limit, self.page_size)
        for number in range(1, max_pages + 1):
            entries, ready = ready[:size], ready[size:]
            cursor = str(entries[-1]["seq"]) if entries else after
            yield FeedPage(after=after, entries=[dict(e) for e in entries], next=cursor, more=bool(ready), number=number)
            after = cursor
            if not ready:
                return

    def close(self) -> None:
        self.closed = True


class FakeReceiver(_FakeEndpoint):
    """A work-order receiver (a county system or the grid) in memory: a `connectors.delivery.Channel`."""

    def deliver(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        for i, item in enumerate(items):
            check_item(i, item)
        return self._answer(items, batch_id, self._accept)

    def cancel(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        for i, item in enumerate(items):
            check_cancel_item(i, item)
        return self._answer(items, batch_id, self._cancel_one)

    def _cancel_one(self, item: dict) -> tuple[str, str | None, str | None]:
        held = item["idempotency_key"].removesuffix(":cancel")
        if held in self.cancelled:
            return "0201", self.cancelled[held], None
        if held not in self.held:
            return "0404", None, "无此工单"
        if any(e["idempotency_key"] == held and e["result"] in FINAL_RESULTS for e in self.feed):
            return "0409", None, "已办结，无法撤销"
        self.cancelled[held] = self._receipt()
        return "0000", self.cancelled[held], None

    def remind(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """Weekly overdue reminders (receivers.md, Reminders): 0000 noted, 0201 this key before, 0404 a work order not held,
        0409 one with a final result published. `reminded` keeps each key once."""
        for i, item in enumerate(items):
            check_reminder_item(i, item)
        return self._answer(items, batch_id, self._remind_one)

    def _remind_one(self, item: dict) -> tuple[str, str | None, str | None]:
        key = item["idempotency_key"]
        if key in self.reminded:
            return "0201", self.reminded[key], None
        held = key.rsplit(":remind:", 1)[0]
        if held not in self.held:
            return "0404", None, "无此工单"
        if any(e["idempotency_key"] == held and e["result"] in FINAL_RESULTS for e in self.feed):
            return "0409", None, "已办结"
        self.reminded[key] = self._receipt()
        return "0000", self.reminded[key], None

    def publish_result(self, key: str, *, code: str = "0000", handled_at: str, reason: str | None = None, handler: str | None = "王丽") -> dict:
        """A handling result into the feed (receivers.md, Handling results): `result` follows from `code`."""
        item = self.held[key]["item"] if key in self.held else {}
        result = "done" if code in ("0000", "0201") else "received" if code == "0100" else "rejected"
        return self._publish(key, {"idempotency_key": key, "rowguid": item.get("rowguid"), "utility": item.get("utility"),
                                   "version": item.get("version"), "receipt_id": self.held.get(key, {}).get("receipt_id"), "result": result,
                                   "code": code, "reason": reason, "handled_at": handled_at, "handler": handler})


class FakeAuthority(_FakeEndpoint):
    """A property authority's package endpoint in memory: a `connectors.delivery.PackageChannel`."""

    feed_key = "events"

    def __init__(self, name: str = "fake", *, refuse_files: Iterable[str] = (), **kw) -> None:
        super().__init__(name, **kw)
        self.files: dict[str, bytes] = {}
        self.uploads: list[str] = []  # every upload's sha256, retries included
        self.refuse_files = set(refuse_files)

    def upload(self, sha256: str, content: bytes) -> bool:
        if hashlib.sha256(content).hexdigest() != sha256:
            raise ValueError(f"file content does not hash to {sha256}")
        if self.unreachable:
            raise ReceiverError(f"{self.name}: file {sha256[:12]}…: cannot reach the receiver")
        if sha256 in self.refuse_files:
            raise FileRefused(f"{self.name}: file {sha256[:12]}…: HTTP 413 too_large")
        self.uploads.append(sha256)
        stored = sha256 not in self.files
        self.files[sha256] = content
        return stored

    def deliver(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        for i, item in enumerate(items):
            check_package_item(i, item)
        outcomes = self._answer(items, batch_id, self._accept_package)
        return [ItemOutcome(o.idempotency_key, "pending", None, o.code, f"send again: {o.reason}", o.attempts, o.batch_id)
                if o.code == "0104" else o for o in outcomes]

    def _accept_package(self, item: dict) -> tuple[str, str | None, str | None]:
        if item["idempotency_key"] not in self.held:
            for m in item["materials"]:
                if len(self.files.get(m["sha256"], b"")) != m["size"] or m["sha256"] not in self.files:
                    return "0104", None, f"材料文件未上传: {m['sha256']}"
        return self._accept(item)

    def cancel(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """Withdrawals (packages.md, Withdrawals): a `withdrawn` event follows each one accepted."""
        for i, item in enumerate(items):
            check_withdrawal_item(i, item)
        return self._answer(items, batch_id, self._withdraw_one)

    def _withdraw_one(self, item: dict) -> tuple[str, str | None, str | None]:
        key = item["idempotency_key"]
        if key in self.cancelled:
            return "0201", self.cancelled[key], None
        if key not in self.held:
            return "0404", None, "无此报文"
        if any(e["idempotency_key"] == key and e["status"] in TOO_LATE_TO_WITHDRAW for e in self.feed):
            return "0409", None, "已登簿，无法撤回"
        self.cancelled[key] = self._receipt()
        return "0000", self.cancelled[key], None

    def publish_event(self, key: str, status: str, *, at: str, reason: str | None = None, missing: list | None = None,
                      certificate: dict | None = None, fee: dict | None = None, handler: str | None = "周敏") -> dict:
        """A status into the feed (packages.md, An event), every key present."""
        item = self.held[key]["item"] if key in self.held else {}
        return self._publish(key, {"idempotency_key": key, "bwid": item.get("bwid"), "change_seq": item.get("change_seq"),
                                   "receipt_id": self.held.get(key, {}).get("receipt_id"), "status": status, "at": at, "reason": reason,
                                   "missing": missing, "certificate": certificate, "fee": fee, "handler": handler})


class LocalDrops:
    """The SFTP drops' layout on a local folder (`root` stands for the gateway account's root)."""

    def __init__(self, root: str | Path, *, lose_answers: int = 0) -> None:
        self.root = Path(root)
        self.lose_answers = lose_answers
        self.closed = False

    def publish_all(self, jobs: Iterable[DropJob], *, on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
        results = []
        for job in jobs:
            try:
                result = JobResult(job, self.publish(job), None, 1)
            except DropConflict as exc:
                result = JobResult(job, None, f"DropConflict: {exc}", 1)
            except OSError as exc:
                result = JobResult(job, None, f"{type(exc).__name__}: {exc}", 1)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def publish(self, job: DropJob) -> Publication:
        final = self.root / job.drop / "outbox" / job.batch
        names = tuple(f.name for f in job.files)
        there = final.exists()
        if there and not job.replace:
            self._verify(final, job)
            return Publication(job.drop, job.batch, names, True, f"/{job.drop}/outbox/{job.batch}")
        staging = self.root / ".staging" / job.drop / f"{job.batch}.{uuid.uuid4().hex[:12]}"
        staging.mkdir(parents=True)  # its parents as exist_ok: publishers racing to make them on a fresh root all go on
        for f in job.files:
            (staging / f.name).write_bytes(f.data)
        final.parent.mkdir(parents=True, exist_ok=True)
        if there:  # replace (a replay with --force), as SftpDrops does: the old one aside, the new one in
            final.rename(staging.with_name(staging.name + ".replaced"))
            staging.rename(final)
            shutil.rmtree(staging.with_name(staging.name + ".replaced"))
            return Publication(job.drop, job.batch, names, False, f"/{job.drop}/outbox/{job.batch}")
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():
                raise
            self._verify(final, job)  # a concurrent publisher of the same batch won: it must be ours (as SftpDrops does)
            shutil.rmtree(staging)
            return Publication(job.drop, job.batch, names, True, f"/{job.drop}/outbox/{job.batch}")
        if self.lose_answers > 0:  # published, and then the connection dropped before we knew
            self.lose_answers -= 1
            raise ConnectionResetError("fake: connection lost after the rename")
        return Publication(job.drop, job.batch, names, False, f"/{job.drop}/outbox/{job.batch}")

    @staticmethod
    def _verify(path: Path, job: DropJob) -> None:
        present = {p.name: p.stat().st_size for p in path.iterdir()}
        wanted = {f.name: f.size for f in job.files}
        if present != wanted or any(hashlib.sha256((path / f.name).read_bytes()).hexdigest() != f.sha256 for f in job.files):
            raise DropConflict(f"{path} holds other contents than {sorted(wanted)}: not overwritten")

    def list_outbox(self, drop: str) -> list[str]:
        folder = self.root / drop / "outbox"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def put_result(self, drop: str, name: str | bytes, data: bytes, *, mtime: float | None = None) -> None:
        """The institution uploads a file into its inbox (`mtime`: epoch seconds, default now)."""
        path = os.path.join(os.fsencode(self.root / drop / "inbox"), name.encode() if isinstance(name, str) else name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))

    def list_inbox(self, drop: str) -> list[InboxEntry]:
        folder = os.fsencode(self.root / drop / "inbox")
        if not os.path.isdir(folder):
            return []
        entries = []
        for raw in os.listdir(folder):
            st = os.stat(os.path.join(folder, raw))
            if not raw.startswith(b".") and stat.S_ISREG(st.st_mode):
                entries.append(InboxEntry(raw, st.st_size, int(st.st_mtime), st.st_mode))
        return sorted(entries, key=lambda e: e.raw)

    def _inbox_path(self, drop: str, name: bytes | str) -> bytes:
        raw = name.encode() if isinstance(name, str) else name
        if b"/" in raw or raw in (b".", b".."):
            raise ValueError("not a file name")
        return os.path.join(os.fsencode(self.root / drop / "inbox"), raw)

    def fetch(self, drop: str, name: bytes | str, *, max_bytes: int | None = None) -> bytes:
        with open(self._inbox_path(drop, name), "rb") as fh:
            return fh.read() if max_bytes is None else fh.read(max_bytes + 1)

    def archive(self, drop: str, name: bytes | str, folder: str, *, as_name: str | None = None) -> str:
        raw = name.encode() if isinstance(name, str) else name
        target_dir = self.root / ".results" / drop / folder
        target_dir.mkdir(parents=True, exist_ok=True)
        base = as_name or raw.decode("utf-8")
        target, n = target_dir / base, 1
        while target.exists():
            target, n = target_dir / f"{n}.{base}", n + 1
        os.rename(self._inbox_path(drop, raw), target)
        return f"/.results/{drop}/{folder}/{target.name}"

    def write_receipt(self, drop: str, name: str, data: bytes) -> bool:
        path = self.root / drop / "inbox" / "receipts" / name
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return True

    def close(self) -> None:
        self.closed = True
