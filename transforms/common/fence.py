"""The extraction fence on PostgreSQL: which change sequences can no longer appear, from the reading snapshots.

A pure transform (no I/O) of the state kept with a change table's watermark
(`extract_watermark.fence`, JSON) and of what one run's reading snapshot showed
(`Snapshot`, read in the same REPEATABLE READ transaction as the changes:
connectors/exchange_db.py). jobs/common/incremental.py says how a run uses it.

Why: PostgreSQL hands out CHANGE_SEQ when a transaction writes, not when it commits. A
transaction open for hours commits rows with sequences far below the watermark, and
CHANGE_TIME (its start) far before any settle window. The snapshot says who had finished:

- `xmin`: every transaction with a lower id had ended (committed or rolled back) when the
  snapshot was taken; every row the snapshot cannot see was written by one at or above it.
- `reader`: the reading transaction's own id, taken after its snapshot: above the id of
  every transaction that had one then.
- `top`: the highest CHANGE_SEQ the snapshot sees. Every lower sequence was taken before
  the snapshot (the sequence hands numbers out in order: CACHE 1, the identity default).
- `late`: the lowest CHANGE_SEQ it sees written at or after the run's cut-off (not read).

Two things follow, and the state keeps both:

1. The re-read bound `xmin` (with the re-read time kept beside the watermark): a committed
   change at or below the watermark that the ledger lacks was invisible to the last
   newest-cut-off run — its writer's id is at or above that run's `xmin` — or written at or
   after its cut-off. The next run re-reads only those (and what is above the watermark).
2. The fence `seq`: no change at or below it can still appear, and every committed one is held.
   A run's `top` becomes a *checkpoint*; at the next run it is given that run's `reader`
   id; once a later snapshot's `xmin` reaches that id, every transaction that could hold a
   sequence at or below `top` has ended, and what committed was visible to that snapshot
   and read by it (up to its `late`). The fence moves there. A rolled-back transaction
   leaves a gap that simply stops mattering; an open one holds the fence, however long.
   (The id is the *next* run's so that a transaction that had taken its sequence but not
   yet its id when a snapshot was taken — the instant inside its INSERT — is covered.)

Runs read `CHANGE_SEQ > seq` — an index range — and filter it by the re-read bound, so a
transaction open for hours costs a scan of what was written since it began, not a reload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_CHECKPOINTS = 2000  # a week of 5-minute runs behind one open transaction; older ones are merged


@dataclass(frozen=True)
class Snapshot:
    """What one run's reading snapshot showed (ids are 64-bit xid8 values)."""

    xmin: int
    reader: int
    top: int | None  # None: the table is empty
    late: int | None  # None: nothing written at or after the cut-off is visible


@dataclass(frozen=True)
class Fence:
    """The state kept with the watermark: the fence, the re-read bound and the open checkpoints."""

    seq: int  # every change at or below it that will ever commit is held
    xmin: int | None  # the newest-cut-off run's snapshot xmin: an unheld change below the watermark was written at or above it
    checkpoints: tuple[tuple[int, int | None], ...] = ()  # (top, id every writer of a sequence <= top is below; None: not known yet)


def advance(fence: Fence, snap: Snapshot, *, newest: bool) -> Fence:
    """The state after a run that read everything its snapshot `snap` showed above `fence.seq` (up to its cut-off,
    filtered by the re-read bound). `newest`: the run's cut-off is not before an earlier run's (not a backfill);
    only such a run moves the re-read bound."""
    checkpoints = [(top, snap.reader if until is None else until) for top, until in fence.checkpoints]
    settled = [top for top, until in checkpoints if until <= snap.xmin]
    cap = snap.late - 1 if snap.late is not None else None
    seq = fence.seq
    if settled:
        target = max(settled)
        seq = max(seq, target if cap is None else min(target, cap))
    if snap.top is not None:
        checkpoints.append((snap.top, None))
    kept = _pareto([(top, until) for top, until in checkpoints if top > seq])
    return Fence(seq, snap.xmin if newest or fence.xmin is None else fence.xmin, tuple(kept))


def _pareto(checkpoints: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """Drop a checkpoint another makes useless (as high a `top`, settled no later), and merge the oldest beyond the bound."""
    rank = lambda until: float("inf") if until is None else until  # noqa: E731
    kept: list[tuple[int, int | None]] = []
    for top, until in sorted(checkpoints, key=lambda c: (rank(c[1]), -c[0])):
        if not kept or top > kept[-1][0]:
            kept.append((top, until))
    while len(kept) > MAX_CHECKPOINTS:
        # Merging two neighbours into the lower top with the later id is never wrong, only later.
        (top, _), (_, until) = kept[0], kept[1]
        kept[0:2] = [(top, until)]
    return kept


def dumps(fence: Fence) -> str:
    return json.dumps({"seq": fence.seq, "xmin": fence.xmin, "checkpoints": [list(c) for c in fence.checkpoints]}, separators=(",", ":"))


def loads(text: str | None) -> Fence | None:
    if not text:
        return None
    data = json.loads(text)
    return Fence(int(data["seq"]), None if data.get("xmin") is None else int(data["xmin"]),
                 tuple((int(t), None if u is None else int(u)) for t, u in data.get("checkpoints", ())))


def xid32(xid8: int) -> int:
    """The 32-bit transaction id the rows' `xmin` column shows for a 64-bit (xid8) one."""
    return xid8 % (1 << 32)
