"""Incremental extraction, exactly once: one reader for every change table of the exchange database.

Both product lines extract the same way (co-handling records: jobs/cohandling/extract_records.py;
remote-collection packages: jobs/remote/package_intake.py); only what a chunk is and how the
ledger stores it differ. How nothing is lost and nothing taken twice:

- The platform gives every write (insert, correction, withdrawal) a new CHANGE_SEQ and
  stamps CHANGE_TIME with its database clock. A row committed late — after an extraction
  ran, whatever its business date — has a sequence above the watermark and is read next time.
- On PostgreSQL a sequence is taken when a transaction writes, not when it commits, so a
  long transaction can commit a *lower* sequence after a higher one was read — hours later,
  with a CHANGE_TIME (its start) hours old. There the reader fences on the database's own
  transaction visibility, with no assumption on how long a transaction stays open
  (transforms/common/fence.py): each read is one REPEATABLE READ transaction that first
  reads what its snapshot shows (`pg_current_snapshot()`'s xmin, its own `pg_current_xact_id()`,
  the highest sequence it sees); kept with the watermark, that tells the next run which
  changes below the watermark may still be missing — those whose writer the snapshot could
  not see (writer id, the rows' `xmin`, at or above the snapshot's xmin) or written at or after
  the cut-off — and the *fence* below which none can appear any more (every transaction that
  could hold such a sequence has ended). A run reads `CHANGE_SEQ > fence` (an index range)
  filtered to those; a rolled-back transaction's gap stops holding the fence once its id is
  below a later snapshot's xmin. What it asks of the platform: CHANGE_SEQ from a sequence
  that hands numbers out in order (CACHE 1, the identity column's default), taken by the
  INSERT that writes the row, not reserved ahead; the rows' xmin readable (it always is);
  the gateway reads the primary (the reader takes a transaction id). No grant beyond SELECT.
- SQLite offers nothing of the kind (and writes one transaction at a time): there each run
  re-reads everything written in a settle window before the previous run's cut-off
  (`settle`, longer than the platform's longest write transaction). A PostgreSQL source's
  first run after the upgrade starts from that window once, then fences.
- The ledger keeps each (source, CHANGE_SEQ) once: re-read changes are counted as
  already held, never loaded twice. Each chunk and the watermark commit together, and
  chunks commit in order (a chunk's watermark never passes an earlier chunk that has not
  committed), so a run killed mid-way resumes where its last chunk committed.
- A run reads only changes written before its data interval's end (or the database
  clock, if earlier), so re-running an interval never pulls later days into it.
- The next chunk is read (and admitted) in a background thread while the current one
  commits: at most `PREFETCH_DEPTH` chunks ahead, so memory stays bounded.
- Every run is a batch in the ledger (`extract_batch`, audited batch_started /
  batch_finished / batch_failed) with its window and its counts; a failed batch keeps what
  its committed chunks loaded.
- One extract per change table at a time, whatever runs overlap on whichever hosts: the batch
  holds the ledger lock `extract:<source>` (jobs/common/stage_clock.py) from planning its
  window to closing it.
- The watermark never goes back: neither its sequence nor its re-read window (the ledger keeps
  the later of the two on every move). A backfill run of a past day reads with its own, older,
  `until` — only what the ledger lacks and was written before it — and leaves the re-read window
  where the newest cut-off put it, so the next run does not read the table again. A run's
  cut-off (`until`, once it has passed) moves the line's clock forward (`clock`), never back.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from connectors.exchange_db import Reread
from transforms.common import fence as fences

if TYPE_CHECKING:
    from connectors.ledger import Ledger

log = logging.getLogger(__name__)

DEFAULT_SETTLE = timedelta(minutes=10)  # SQLite only: longer than the platform's longest write transaction
PREFETCH_DEPTH = 2  # chunks read ahead of the one committing


class ChangeSource(Protocol):
    """What the reader asks of a change table (connectors/exchange_db.py)."""

    name: str
    dialect: str

    def clock(self) -> datetime: ...

    def first_seq_since(self, since: datetime) -> int | None: ...


class Loaded(Protocol):
    """One committed chunk's counts (connectors.ledger.ChunkLoaded)."""

    rows_read: int
    rows_new: int
    rows_dead_lettered: int
    max_seq: int


@dataclass(frozen=True)
class Window:
    """What one run reads: changes with after_seq < CHANGE_SEQ written before before_time (on PostgreSQL, those
    at or below the watermark only as `reread` lets through)."""

    after_seq: int
    before_time: datetime  # UTC, naive
    fresh_above: int  # the watermark as the run began: a change above it cannot be held yet
    fence: fences.Fence | None = None  # PostgreSQL: the snapshot fence as the run began (after_seq is its seq)
    reread: Reread | None = None  # PostgreSQL: which changes at or below the watermark are read again
    newest: bool = True  # the cut-off is not before an earlier run's (not a backfill)
    snapshots: list = field(default_factory=list, compare=False)  # PostgreSQL: what the reading snapshot showed

    def reading(self) -> dict:
        """The reader's arguments (connectors/exchange_db.py read_changes / read_packages)."""
        args: dict = {"after_seq": self.after_seq, "before_time": self.before_time}
        if self.fence is not None:
            args.update(reread=self.reread, on_snapshot=self.snapshots.append)
        return args


@dataclass(frozen=True)
class Batch:
    """One run's batch: its window and what its chunks brought."""

    batch_id: int
    window: Window
    read: int
    new: int
    dead_lettered: int  # refused at admission, kept as dead letters (the watermark passed them)

    @property
    def known(self) -> int:
        """Read again (settle window, or below the fence) and already held."""
        return self.read - self.new - self.dead_lettered


def plan_window(source: ChangeSource, ledger: Ledger, *, until: datetime | None) -> Window:
    """The run's window: from the watermark (lowered to the settle window's first change; on PostgreSQL, from the
    snapshot fence) to `until` or the database clock."""
    mark = ledger.watermark(source.name)
    clock = source.clock()
    before = min(until, clock) if until is not None else clock
    newest = mark.reread_from is None or before >= mark.reread_from
    state = fences.loads(mark.fence) if getattr(source, "dialect", None) == "postgresql" else None
    if state is not None:
        if not newest:
            log.info("extract %s: cut-off %s is before an earlier run's (a backfill): only what the ledger lacks up to it is read; "
                     "the watermark and its re-read bound stay where they are", source.name, f"{before:%Y-%m-%d %H:%M}")
        return Window(state.seq, before, mark.last_seq, state, Reread(mark.last_seq, mark.reread_from or before, state.xmin), newest)
    after = mark.last_seq
    if mark.reread_from is not None:
        first = source.first_seq_since(mark.reread_from)
        if first is not None:
            after = min(after, first - 1)
        if before < mark.reread_from:
            log.info("extract %s: cut-off %s is before an earlier run's (a backfill): only what the ledger lacks up to it is read; "
                     "the watermark and its re-read window stay where they are", source.name, f"{before:%Y-%m-%d %H:%M}")
    if getattr(source, "dialect", None) == "postgresql":  # the first fenced run: from the settle window, once
        return Window(after, before, mark.last_seq, fences.Fence(after, None), None, newest)
    return Window(after, before, mark.last_seq)


def run_batch(
    source: ChangeSource,
    ledger: Ledger,
    *,
    run_id: str,
    until: datetime | None,
    settle: timedelta,
    read: Callable[[Window], Iterable],
    load: Callable[[Iterator, Window, int], Iterable[Loaded]],
    clock: str | None = None,
    wait_s: float | None = None,
) -> Batch:
    """Read the run's window with `read` (chunks, admitted in the reader's thread), prefetched,
    and commit them in order with `load(chunks, window, batch_id)`; the batch is begun, failed
    or finished in the ledger around it, under the lock `extract:<source>`; the window's end
    moves the line clock `clock` forward; the lock is waited for `wait_s` at most (default: settings.lock_wait_s()).
    `settle` is the re-read window on SQLite (and for a PostgreSQL source's first fenced run only: after it, the
    snapshot fence decides). On PostgreSQL `read` must hand the window's `reading()` arguments to the source, which
    reports its snapshot through them. Raises what the read or the load raised."""
    from jobs.common.settings import lock_wait_s

    with ledger.stage_lock(f"extract:{source.name}", run_id=run_id, wait_s=lock_wait_s(wait_s or 1800.0)):
        return _run_batch(source, ledger, run_id=run_id, until=until, settle=settle, read=read, load=load, clock=clock)


def _run_batch(source: ChangeSource, ledger: Ledger, *, run_id: str, until: datetime | None, settle: timedelta, read, load, clock: str | None) -> Batch:
    window = plan_window(source, ledger, until=until)
    if clock is not None and until is not None and window.before_time == until:
        # The run's cut-off, where it is a time that has passed: what was received is as of then, and the line's later
        # stages never run as of an earlier time (a backfill's validation beside this run's). A cut-off the database's
        # clock clipped (no `until`, or one still ahead) is not a run's as-of and moves nothing.
        from jobs.common.stage_clock import advance

        advance(ledger, clock, window.before_time, run_id=run_id)
    batch_id = ledger.begin_batch(run_id=run_id, source=source.name, after_seq=window.after_seq, before_time=window.before_time)
    read_n = new = dead = 0
    try:
        for loaded in load(prefetch(read(window), depth=PREFETCH_DEPTH), window, batch_id):
            read_n += loaded.rows_read
            new += loaded.rows_new
            dead += loaded.rows_dead_lettered
            log.info("extract %s %s: chunk up to seq %d: %d read, %d new, %d dead-lettered",
                     source.name, run_id, loaded.max_seq, loaded.rows_read, loaded.rows_new, loaded.rows_dead_lettered)
    except Exception as exc:
        ledger.fail_batch(batch_id, run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish_batch(batch_id, run_id=run_id, source=source.name, **_closing_marks(window, settle))
    return Batch(batch_id, window, read_n, new, dead)


def _closing_marks(window: Window, settle: timedelta) -> dict:
    """Where a finished run leaves the re-read window and (PostgreSQL) the snapshot fence."""
    if window.fence is None:
        return {"reread_from": window.before_time - settle}
    if len(window.snapshots) != 1:
        raise RuntimeError(f"the reader reported {len(window.snapshots)} snapshots, not one: the fence cannot move")
    after = fences.advance(window.fence, window.snapshots[0], newest=window.newest)
    log.info("extract: fence at seq %d (was %d), %d checkpoint(s) open", after.seq, window.fence.seq, len(after.checkpoints))
    return {"reread_from": window.before_time, "fence": fences.dumps(after)}


def closing(chunks: Iterator, admit: Callable) -> Iterator:
    """Each raw chunk admitted; the reader closed whatever happens (its connection is released, not left to GC)."""
    try:
        for chunk in chunks:
            yield admit(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


_DONE = object()


def prefetch(items: Iterable, *, depth: int) -> Iterator:
    """Iterate `items` in a background thread, at most `depth` ahead of the consumer.

    Reading the next chunk from the platform (network and Arrow's CSV parser, both outside
    the GIL) then overlaps with loading the current one into the ledger. Memory stays
    bounded by `depth` chunks. An error in the reader is raised in the consumer.
    """
    pipe: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        pipe.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            pipe.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            pipe.put(exc)
        finally:
            # A consumer that stopped early leaves the reader suspended: close it here, in the
            # thread that iterated it, so its database connection is released now.
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="extract-prefetch", daemon=True)
    worker.start()
    try:
        while (item := pipe.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=30)
