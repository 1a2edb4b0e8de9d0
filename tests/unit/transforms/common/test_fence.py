"""The snapshot fence (transforms/common/fence.py): when sequences may no longer appear, from the reading snapshots."""

from __future__ import annotations

from transforms.common import fence as fences
from transforms.common.fence import Fence, Snapshot, advance


def test_a_checkpoint_settles_once_a_later_snapshot_has_no_writer_left_from_the_run_after_it():
    start = Fence(0, None)
    one = advance(start, Snapshot(xmin=100, reader=105, top=50, late=None), newest=True)
    assert one == Fence(0, 100, ((50, None),))  # every sequence <= 50 was taken before this snapshot; by whom, not known yet
    two = advance(one, Snapshot(xmin=104, reader=110, top=60, late=None), newest=True)
    assert two.seq == 0 and (50, 110) in two.checkpoints  # the next run's id: above every writer that held a sequence <= 50
    three = advance(two, Snapshot(xmin=109, reader=115, top=70, late=None), newest=True)
    assert three.seq == 0  # one transaction below 110 is still open: it may hold a sequence <= 50
    four = advance(three, Snapshot(xmin=110, reader=120, top=75, late=None), newest=True)
    assert four.seq == 50 and four.xmin == 110  # it ended (committed: read by this snapshot; rolled back: a gap that no longer matters)


def test_an_open_transaction_holds_the_fence_however_many_runs_pass():
    state = advance(Fence(0, None), Snapshot(xmin=10, reader=11, top=5, late=None), newest=True)
    for run in range(1, 500):  # the transaction with id 10 stays open: every snapshot's xmin is 10
        state = advance(state, Snapshot(xmin=10, reader=11 + run, top=5 + run, late=None), newest=True)
    assert state.seq == 0 and state.xmin == 10
    assert len(state.checkpoints) == 500  # one a run (each a higher top, settled later): bounded by MAX_CHECKPOINTS
    done = advance(state, Snapshot(xmin=600, reader=601, top=600, late=None), newest=True)
    assert done.seq == 503  # the highest top whose writers have all ended


def test_the_fence_stops_below_a_change_written_at_or_after_the_cut_off_and_never_goes_back():
    state = Fence(40, 90, ((80, 95),))
    capped = advance(state, Snapshot(xmin=100, reader=101, top=90, late=61), newest=True)
    assert capped.seq == 60  # change 61 is visible but after the cut-off: not read, so not held
    assert (80, 95) in capped.checkpoints  # still settled, used when the cut-off has passed it
    later = advance(capped, Snapshot(xmin=100, reader=102, top=95, late=None), newest=True)
    assert later.seq == 80  # the cut-off has passed change 61; (90, 102) waits for a writer below 102
    backwards = advance(later, Snapshot(xmin=103, reader=104, top=95, late=3), newest=False)
    assert backwards.seq == 80  # a backfill's old cut-off (change 3 after it) never moves it back


def test_only_a_run_with_the_newest_cut_off_moves_the_reread_bound():
    state = Fence(0, 50)
    assert advance(state, Snapshot(xmin=70, reader=71, top=9, late=4), newest=False).xmin == 50
    assert advance(state, Snapshot(xmin=70, reader=71, top=9, late=None), newest=True).xmin == 70
    assert advance(Fence(0, None), Snapshot(xmin=70, reader=71, top=9, late=4), newest=False).xmin == 70  # the first fenced run


def test_a_useless_checkpoint_is_dropped_and_beyond_the_bound_the_oldest_merge_the_safe_way():
    state = Fence(0, 1, ((10, 20), (8, 30), (12, None)))
    kept = advance(state, Snapshot(xmin=5, reader=40, top=12, late=None), newest=True).checkpoints
    assert kept == ((10, 20), (12, 40))  # (8, 30): a higher top settles sooner; (12, None) -> 40 equals the new (12, None)'s top
    many = Fence(0, 1, tuple((i, i) for i in range(1, fences.MAX_CHECKPOINTS + 10)))
    merged = advance(many, Snapshot(xmin=0, reader=10**6, top=None, late=None), newest=True).checkpoints
    assert len(merged) == fences.MAX_CHECKPOINTS
    assert merged[0] == (1, 10)  # the lowest top, with a later id: never settles sooner than it could


def test_the_state_round_trips_as_json_and_ids_fold_to_the_rows_32_bit_xmin():
    state = Fence(7, 2**33 + 5, ((9, 2**33 + 6), (12, None)))
    assert fences.loads(fences.dumps(state)) == state
    assert fences.loads(None) is None and fences.loads("") is None
    assert fences.xid32(2**33 + 5) == 5 and fences.xid32(4_000_000_000) == 4_000_000_000
