"""Incremental extraction: the platform's new changes into the ledger, exactly once.

How nothing is lost and nothing taken twice:

- The platform gives every write (insert, correction, withdrawal) a new CHANGE_SEQ and
  stamps CHANGE_TIME with its database clock. A row committed late — after an extraction
  ran, whatever its DBSJ — has a sequence above the watermark and is read next time.
- On PostgreSQL a sequence is taken when a transaction writes, not when it commits, so a
  long transaction can commit a *lower* sequence after a higher one was read. Each run
  therefore also re-reads everything written in a settle window before the previous
  run's cut-off (`settle`, longer than the platform's longest write transaction).
- The ledger keeps each (source, CHANGE_SEQ) once: re-read changes are counted as
  already held, never loaded twice. Each chunk and the watermark commit together, so a
  run killed mid-way resumes where its last chunk committed.
- A run reads only changes written before its data interval's end (or the database
  clock, if earlier), so re-running an interval never pulls later days into it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.ledger import Ledger
from connectors.record_source import PlatformSource
from transforms.cohandling.exchange_rows import admit_changes

log = logging.getLogger(__name__)

DEFAULT_SETTLE = timedelta(minutes=10)


@dataclass(frozen=True)
class ExtractResult:
    run_id: str
    batch_id: int
    after_seq: int
    before_time: datetime
    rows_read: int
    rows_new: int
    rows_known: int
    run_changes: int
    rows_dead_lettered: int = 0  # refused rows read by this run (dead letters, surface exchange_row)

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id, "batch_id": self.batch_id, "after_seq": self.after_seq,
            "before_time": self.before_time.isoformat(), "rows_read": self.rows_read,
            "rows_new": self.rows_new, "rows_known": self.rows_known, "run_changes": self.run_changes,
            "rows_dead_lettered": self.rows_dead_lettered,
        }


def extract_changes(
    source: PlatformSource,
    ledger: Ledger,
    *,
    run_id: str,
    until: datetime | None = None,
    settle: timedelta = DEFAULT_SETTLE,
    chunk_rows: int = 50_000,
    writers: int = 2,
) -> ExtractResult:
    """Load every change the ledger lacks, written before `until` (UTC, naive), into the ledger."""
    mark = ledger.watermark(source.name)
    clock = source.clock()
    before = min(until, clock) if until is not None else clock
    after = mark.last_seq
    if mark.reread_from is not None:
        first = source.first_seq_since(mark.reread_from)
        if first is not None:
            after = min(after, first - 1)
    batch_id = ledger.begin_batch(run_id=run_id, source=source.name, after_seq=after, before_time=before)
    read = new = dead = 0
    try:
        # Each chunk is admitted row by row in the reader's thread (transforms/cohandling/exchange_rows.py):
        # text cleaned once, rows the ledger cannot store refused by name — never the chunk.
        chunks = prefetch(_admitted(source.read_changes(after_seq=after, before_time=before, chunk_rows=chunk_rows)), depth=2)
        for loaded in ledger.load_changes(chunks, batch_id=batch_id, run_id=run_id, source=source.name, fresh_above=mark.last_seq, writers=writers):
            read += loaded.rows_read
            new += loaded.rows_new
            dead += loaded.rows_dead_lettered
            log.info("extract %s: chunk up to seq %d: %d read, %d new, %d dead-lettered", run_id, loaded.max_seq, loaded.rows_read, loaded.rows_new, loaded.rows_dead_lettered)
    except Exception as exc:
        ledger.fail_batch(batch_id, run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish_batch(batch_id, run_id=run_id, source=source.name, reread_from=before - settle)
    if dead:
        log.warning("extract %s: %d row(s) refused and dead-lettered (surface exchange_row)", run_id, dead)
    return ExtractResult(run_id, batch_id, after, before, read, new, read - new - dead, ledger.run_changes(run_id, source.name), dead)


def _admitted(raw: Iterator) -> Iterator:
    """Each raw chunk admitted; the reader closed whatever happens (its connection is released, not left to GC)."""
    try:
        for chunk in raw:
            yield admit_changes(chunk)
    finally:
        close = getattr(raw, "close", None)
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
