"""Stage locks and line clocks in the ledger (part of `Ledger`): state that runs share however many
processes and hosts they run on, because every worker reaches the same ledger.

**Stage locks.** `with ledger.stage_lock(name, run_id=..., wait_s=...) as held:` — inside the block no
other holder of the same name, in any process on any host, is inside its own block.

- PostgreSQL: a session-level advisory lock on a 64-bit key derived (SHA-256) from the ledger's
  database, its schema and the lock name — the same name in another ledger of the cluster never
  collides. It is taken on a connection of its own, kept for the block in autocommit (no
  transaction held open for hours), and released on exit; if the process dies (killed, out of
  memory, host lost) its session ends and the server releases the lock itself. The session
  carries the holder (host:pid:run) as its `application_name`, which is how a waiter tells who
  holds the lock (pg_locks joined with pg_stat_activity). A pooler in front of the ledger must keep
  sessions for the workers (PgBouncer `pool_mode = session`, or direct connections): under
  transaction pooling a session lock means nothing.
- SQLite: a lease row in `ledger_lock` (name, holder, token, acquired_at, expires_at), taken by an
  INSERT or by taking over a lease that expired, renewed by a keeper thread while the block runs
  (every `lease_s` / 5), deleted on exit. A holder that dies stops renewing: its lease expires
  after `lease_s` (5 minutes by default) and the next waiter takes it over — at once, when the
  holder's process is known to be gone (same host, its pid no longer running). **SQLite is one
  file on one host**: these leases hold between the processes of that host only; workers on
  several hosts need the ledger on PostgreSQL.

Waiting: at most `wait_s` seconds, polling with a backoff up to a second; each time the holder
it waits for changes, one log line names the lock and the holder (masked). After `wait_s` it
raises `LockTimeout`, naming both. A lock lost inside the block (SQLite: the keeper could not
renew for a whole lease and another holder took it; PostgreSQL: the session ended) is logged as
an error and `held.lost` is set; `held.check()` raises `LockLost` where a job can stop cleanly.
Locks are not re-entrant, and a job holds one at a time: there is no order of locks to get wrong.

**Line clocks.** `ledger.advance_clock(clock, at, run_id=...)` keeps per product line the newest
as-of time (local) any stage of the line has run with and moves it forward, never back; it
returns (max(at, the clock), the clock before). jobs/common/stage_clock.py is the rule's one home.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from connectors.ledger.statements import statement

log = logging.getLogger(__name__)

DEFAULT_WAIT_S = 1800.0  # how long a stage waits for a lock before it gives up (LockTimeout)
DEFAULT_LEASE_S = 300.0  # SQLite: a dead holder's lease is free after this long
MAX_POLL_S = 1.0
KEEP_EVERY_S = 60.0  # PostgreSQL: how often the keeper checks that the session still holds the lock


class LockTimeout(TimeoutError):
    """A stage lock was still held by another run after the wait: the message names the lock and its holder."""


class LockLost(RuntimeError):
    """A stage lock held by this block was lost (its lease taken over, or its session ended)."""


@dataclass
class HeldLock:
    """What `Ledger.stage_lock` yields: the lock, its holder (this process), how long it waited."""

    name: str
    holder: str
    waited_s: float
    lost: bool = field(default=False)

    def check(self) -> None:
        """Raise LockLost if the lock was lost since it was taken."""
        if self.lost:
            raise LockLost(f"ledger lock {self.name!r} was lost while {self.holder} held it")


def holder_name(run_id: str | None = None) -> str:
    """host:pid:run (or the thread's name) — who holds a lock, for people."""
    return f"{socket.gethostname()}:{os.getpid()}:{run_id or threading.current_thread().name}"[:250]


def masked(text: object) -> str:
    """A holder as it may be logged: any ID number or phone in it masked, control characters escaped."""
    import pandas as pd

    from transforms.common.mask import mask_in_text
    from transforms.common.text import shown

    return shown(mask_in_text(pd.Series([str(text)])).iloc[0], 200)


def _utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC).replace(tzinfo=None)


class LockStore:
    """Mixed into `Ledger`: stage locks and line clocks."""

    engine: sa.Engine
    dialect: str

    @contextmanager
    def stage_lock(self, name: str, *, run_id: str | None = None, wait_s: float = DEFAULT_WAIT_S, lease_s: float = DEFAULT_LEASE_S) -> Iterator[HeldLock]:
        """Hold the stage lock `name` for the block (module docstring); LockTimeout after `wait_s` seconds of waiting."""
        holder = holder_name(run_id)
        lock = _AdvisoryLock(self, name, holder) if self.dialect == "postgresql" else _Lease(self, name, holder, lease_s)
        try:
            waited = _acquire(lock, name, wait_s)
        except BaseException:
            lock.close()
            raise
        held = HeldLock(name, holder, waited)
        if waited >= 1:
            log.info("ledger lock %s taken by %s after %.1f s", name, masked(holder), waited)
        stop = threading.Event()
        keeper = threading.Thread(target=_keep, args=(lock, held, stop), name=f"lock-keeper:{name}"[:60], daemon=True)
        keeper.start()
        try:
            yield held
        finally:
            stop.set()
            keeper.join(timeout=30)
            lock.release()

    def lock_holder(self, name: str) -> str | None:
        """Who holds the stage lock `name` now (host:pid:run, as the holder named itself), or None."""
        lock = _AdvisoryLock(self, name, "") if self.dialect == "postgresql" else _Lease(self, name, "", DEFAULT_LEASE_S)
        try:
            return lock.holder()
        finally:
            lock.close()

    def _lock_key(self, name: str) -> int:
        """The advisory-lock key of `name` in this ledger: 64 bits of SHA-256 over database, schema and name."""
        space = getattr(self, "_lock_space", None)
        if space is None:
            with self.engine.connect() as conn:
                row = conn.execute(statement("select_lock_namespace", "postgresql")).one()
            space = self._lock_space = f"{row.db}/{row.schema_name}"
        return int.from_bytes(hashlib.sha256(f"{space}/{name}".encode()).digest()[:8], "big", signed=True)

    # --- line clocks --------------------------------------------------------------------------

    def advance_clock(self, clock: str, at: datetime, *, run_id: str | None = None) -> tuple[datetime, datetime | None]:
        """Move the line clock `clock` forward to `at` (never back); returns (the time to run as: max(at, clock), the clock before)."""
        with self.engine.begin() as conn:
            row = conn.execute(statement("select_stage_clock"), {"clock": clock}).first()
            conn.execute(statement("upsert_stage_clock"), {"clock": clock, "high_water": at, "run_id": run_id, "updated_at": _utcnow()})
            now = conn.execute(statement("select_stage_clock"), {"clock": clock}).one()
        return max(now.high_water, at), (row.high_water if row else None)

    def clock(self, clock: str) -> datetime | None:
        """The line clock `clock` (local time), or None before any stage of the line ran."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_stage_clock"), {"clock": clock}).first()
        return row.high_water if row else None


def _acquire(lock, name: str, wait_s: float) -> float:
    """Take `lock`, waiting at most `wait_s` seconds; returns the seconds waited."""
    start = time.monotonic()
    delay, told = 0.05, object()
    while True:
        if lock.take():
            return time.monotonic() - start
        holder = lock.holder()
        waited = time.monotonic() - start
        if waited >= wait_s:
            raise LockTimeout(f"ledger lock {name!r} is still held by {masked(holder or 'another run (just released?)')} "
                              f"after {waited:.1f} s of waiting (limit {wait_s:g} s)")
        who = (holder or "?").split(" (")[0]  # host:pid:run, without its lease or session details
        if who != told:  # one line per holder waited for
            log.info("ledger lock %s is held by %s: waiting (at most %g s)", name, masked(holder or "?"), wait_s)
            told = who
        time.sleep(max(0.0, min(delay, wait_s - waited)))
        delay = min(delay * 2, MAX_POLL_S)


def _keep(lock, held: HeldLock, stop: threading.Event) -> None:
    """While the block runs: renew the lease (SQLite) or check the session still holds the lock (PostgreSQL)."""
    while not stop.wait(lock.keep_every):
        try:
            still = lock.keep()
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable database: tried again next time
            log.warning("ledger lock %s: could not renew or check (%s: %s); trying again", held.name, type(exc).__name__, exc)
            continue
        if not still and not held.lost:
            held.lost = True
            log.error("ledger lock %s was lost by %s (lease taken over or session ended): another run may now enter this stage",
                      held.name, masked(held.holder))


class _Lease:
    """A stage lock as a lease row (SQLite, one host)."""

    def __init__(self, ledger: LockStore, name: str, holder: str, lease_s: float) -> None:
        self.engine, self.name, self.who, self.lease = ledger.engine, name, holder, timedelta(seconds=lease_s)
        self.token = uuid.uuid4().hex
        self.keep_every = max(lease_s / 5, 0.05)

    def take(self) -> bool:
        now = _utcnow()
        mine = {"name": self.name, "holder": self.who, "token": self.token, "acquired_at": now, "expires_at": now + self.lease}
        with self.engine.begin() as conn:
            conn.execute(statement("upsert_lock_lease"), mine)
            row = conn.execute(statement("select_lock_lease"), {"name": self.name}).first()
            if row is not None and row.token != self.token and _dead_here(row.holder):
                log.warning("ledger lock %s: its holder %s is no longer running: lease taken over", self.name, masked(row.holder))
                conn.execute(statement("update_lock_lease_takeover"), mine | {"dead_token": row.token})
                row = conn.execute(statement("select_lock_lease"), {"name": self.name}).first()
        return row is not None and row.token == self.token

    def holder(self) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_lock_lease"), {"name": self.name}).first()
        if row is None or row.expires_at < _utcnow():
            return None
        return f"{row.holder} (since {row.acquired_at:%Y-%m-%d %H:%M:%S} UTC, lease until {row.expires_at:%H:%M:%S})"

    def keep(self) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(statement("update_lock_lease"), {"name": self.name, "token": self.token, "expires_at": _utcnow() + self.lease}).rowcount == 1

    def release(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(statement("delete_lock_lease"), {"name": self.name, "token": self.token})
        except Exception as exc:  # noqa: BLE001 - the lease then expires by itself
            log.warning("ledger lock %s: lease not released (%s); it expires by itself", self.name, exc)

    def close(self) -> None:
        pass


def _dead_here(holder: str) -> bool:
    """Whether `holder` (host:pid:run) is a process of this host that is no longer running."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # not ours to signal, but running
        return False
    return False


class _AdvisoryLock:
    """A stage lock as a PostgreSQL session advisory lock, on a connection of its own."""

    keep_every = KEEP_EVERY_S

    def __init__(self, ledger: LockStore, name: str, holder: str) -> None:
        self.name, self.key = name, ledger._lock_key(name)
        self.hi, self.lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        self.conn = ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.mutex = threading.Lock()  # the keeper thread and the block's thread share the connection
        self.taken = False
        if holder:
            self._run("select_set_application_name", application_name=f"gateway {holder}"[:63])

    def _run(self, name: str, **params):
        with self.mutex:
            return self.conn.execute(statement(name, "postgresql"), params).scalar()

    def take(self) -> bool:
        self.taken = bool(self._run("select_try_advisory_lock", key=self.key))
        return self.taken

    def holder(self) -> str | None:
        with self.mutex:
            row = self.conn.execute(statement("select_advisory_lock_holder", "postgresql"), {"hi": self.hi, "lo": self.lo}).first()
        if row is None:
            return None
        who = (row.application_name or "").removeprefix("gateway ") or "a session without a name"
        return f"{who} (backend {row.pid}, connected {row.backend_start:%Y-%m-%d %H:%M:%S %z})"

    def keep(self) -> bool:
        return int(self._run("select_advisory_lock_held", hi=self.hi, lo=self.lo) or 0) > 0

    def release(self) -> None:
        try:
            if self.taken:
                self._run("select_advisory_unlock", key=self.key)
            self._run("select_set_application_name", application_name="")
        except Exception as exc:  # noqa: BLE001 - the session is dropped instead: the server releases its locks
            log.warning("ledger lock %s: unlock failed (%s); closing its session", self.name, exc)
            self.conn.invalidate()
        finally:
            self.conn.close()

    def close(self) -> None:
        self.release()
