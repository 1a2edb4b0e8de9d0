"""Incremental extraction of co-handling records: the platform's new changes into the ledger, exactly once.

The reader is jobs/common/incremental.py (watermark, snapshot fence on PostgreSQL or settle-window re-read on SQLite, prefetch, ordered
commits, batch audit; its docstring says how nothing is lost and nothing taken twice); the
source is connectors/exchange_db.RecordSource. Each chunk is admitted row by row in the
reader's thread (transforms/cohandling/exchange_rows.admit_changes): text cleaned once, rows
the ledger cannot store refused by name — never the chunk. Chunks load into the ledger with
`writers` connections at once on PostgreSQL, committing in order (Ledger.load_changes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.common.incremental import DEFAULT_SETTLE, closing, run_batch
from jobs.common.outcomes import extract_line
from transforms.cohandling.exchange_rows import admit_changes

log = logging.getLogger(__name__)


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
    source: RecordSource,
    ledger: Ledger,
    *,
    run_id: str,
    until: datetime | None = None,
    settle: timedelta = DEFAULT_SETTLE,
    chunk_rows: int = 50_000,
    writers: int = 2,
) -> ExtractResult:
    """Load every change the ledger lacks, written before `until` (UTC, naive), into the ledger."""
    batch = run_batch(
        source, ledger, run_id=run_id, until=until, settle=settle,
        read=lambda w: closing(source.read_changes(**w.reading(), chunk_rows=chunk_rows), admit_changes),
        load=lambda chunks, w, batch_id: ledger.load_changes(chunks, batch_id=batch_id, run_id=run_id, source=source.name, fresh_above=w.fresh_above, writers=writers),
        clock="cohandling",
    )
    if batch.dead_lettered:
        log.warning("extract %s: %d row(s) refused and dead-lettered (surface exchange_row)", run_id, batch.dead_lettered)
    result = ExtractResult(run_id, batch.batch_id, batch.window.after_seq, batch.window.before_time, batch.read, batch.new, batch.known,
                           ledger.run_changes(run_id, source.name), batch.dead_lettered)
    log.info("%s", extract_line(result.as_dict()))
    return result
