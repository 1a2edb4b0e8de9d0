"""Remote collection (异地代收), first slice: checklists in, packages in, a verdict and a route each.

- `load_checklist_form`: a county's checklist form (.xlsx / .csv) taken in the way every inbox
  does (jobs/common/inbox.py): read, parsed (transforms/remote/checklists.py) and applied to the
  ledger's versioned lists in one transaction; bad rows get issues naming file, sheet, row and
  column, good lists still load.
- `extract_packages`: the remote-collection module's new package changes into the ledger,
  exactly once, by the one incremental reader both lines share (jobs/common/incremental.py:
  sequence watermark, the snapshot fence on PostgreSQL (a settle window on SQLite), the next chunk read while the current one
  commits, chunks and their watermark moves committed in order, an audited batch per run),
  each material's file hashed (connectors/exchange_db.PackageSource).
- `validate_packages`: every package version received and not yet validated (whichever run
  received it: the next run finishes what a failed one left) checked against the checklists
  in force at its collected time (transforms/remote/package_rules.py) and routed by the property's
  county (transforms/remote/package_routing.py): passed → `county_system_<XZQH>` or `cross_province`,
  returned → back to the collecting hall with every reason. Nothing is lost: each page asserts
  packages in = passed + returned + withdrawn before it writes.

Delivery, tracking, paper handover and reports hang off the verdicts (`remote_verdict`,
`remote_package_state`); they are the next slices.

Overlapping runs (jobs/common/stage_clock.py): the extract holds `extract:<source>` and moves the
`remote` clock to its cut-off; validation holds `remote.validate:<source>` and runs as of the
`remote` clock when its run's as-of is older (a backfill); a checklist form loaded with a `now`
before the clock takes effect from the clock's day, never from a past one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from connectors.exchange_db import PackageChunk, PackageSource
from connectors.ledger import ChunkLoaded, Ledger
from connectors.ledger.package_store import ChecklistSummary
from jobs.common.due_pages import due_pages
from jobs.common.inbox import take_in
from jobs.common.incremental import DEFAULT_SETTLE, closing, run_batch
from jobs.common.outcomes import remote_extract_line, remote_validate_line
from jobs.common.settings import REMOTE_WAIT_S

log = logging.getLogger(__name__)


def load_checklist_form(ledger: Ledger, path: str | Path, *, now: datetime | None = None) -> ChecklistSummary:
    """Load one checklist form; without a 生效日期 it takes effect from the local midnight of the day it is loaded."""
    from jobs.common import reference
    from transforms.common.form_sheets import Places
    from transforms.remote.checklists import parse_checklist

    places = Places(reference.divisions())
    return take_in(
        ledger, path, now=now, actor="remote", action="checklist_form_loaded", object_type="remote_checklist_form",
        held=ledger.remote.checklist_form_by_hash, skipped=lambda name: ChecklistSummary(None, name, already_loaded=True),
        parse=lambda sheets, name: parse_checklist(sheets, file=name, places=places), apply=ledger.remote.apply_checklist_form,
        detail=lambda s: {"lists_loaded": s.lists_loaded, "added": len(s.added), "changed": len(s.changed), "unchanged": s.unchanged,
                          "errors": s.errors, "warnings": s.warnings},
    )


load_checklist_form.surface = "remote_checklist"  # what jobs.common.inbox.load_inbox dead-letters an unreadable checklist form under
load_checklist_form.clock = "remote"  # the clock a `now` given to load_inbox is lifted to (jobs/common/stage_clock.py)


def extract_packages(source: PackageSource, ledger: Ledger, *, run_id: str, until: datetime | None = None, settle: timedelta = DEFAULT_SETTLE,
                     chunk_rows: int = 5_000) -> dict:
    """Load every package change the ledger lacks, written before `until` (UTC, naive); returns the counts."""
    batch = run_batch(
        source, ledger, run_id=run_id, until=until, settle=settle,
        read=lambda w: closing(source.read_packages(**w.reading(), chunk_rows=chunk_rows), _admitted),
        load=lambda chunks, w, batch_id: (_load(ledger, chunk, run_id=run_id, source=source.name, batch_id=batch_id) for chunk in chunks),
        clock="remote", wait_s=REMOTE_WAIT_S,
    )
    if batch.dead_lettered:
        log.warning("extract packages %s: %d package version(s) refused and dead-lettered (surface package_row)", run_id, batch.dead_lettered)
    summary = {"after_seq": batch.window.after_seq, "before_time": batch.window.before_time.isoformat(), "read": batch.read, "new": batch.new,
               "known": batch.known, "dead_lettered": batch.dead_lettered}
    log.info("%s", remote_extract_line(run_id, summary))
    return summary


def _admitted(chunk: PackageChunk) -> PackageChunk:
    """Each package version admitted whole (transforms/cohandling/exchange_rows.admit_packages): text cleaned
    once, a version with a value the ledger cannot store refused by name, to be dead-lettered (surface
    package_row) in the chunk's transaction; the watermark still passes it."""
    from dataclasses import replace

    from transforms.cohandling.exchange_rows import admit_packages

    packages, applicants, materials, rejects, originals = admit_packages(chunk.packages, chunk.applicants, chunk.materials)
    return replace(chunk, packages=packages, applicants=applicants, materials=materials, rejects=tuple(rejects), originals=tuple(originals))


def _load(ledger: Ledger, chunk: PackageChunk, *, run_id: str, source: str, batch_id: int) -> ChunkLoaded:
    """One admitted chunk, its watermark move and its batch progress, committed together (chunks arrive in order)."""
    from connectors.ledger import utcnow

    loaded = ledger.remote.load_packages(chunk, run_id=run_id, source=source, received_at=utcnow(), batch_id=batch_id)
    return ChunkLoaded(loaded.read + len(chunk.rejects), loaded.new, loaded.max_seq, len(chunk.rejects))


PAGE_SIZE = 50_000  # package versions validated per transaction (each with its applicants and materials)


def validate_packages(ledger: Ledger, *, run_id: str, as_of: datetime, source: str = "remote") -> dict:
    """Check and route every package version received and not yet validated — whichever run received
    it — in change order, page by page; `as_of` is the run's clock (local time). Returns the run's
    counts (every page it validated) and `carried_over`: of the versions this call validated, those
    an earlier run received (it failed or stopped after extract)."""
    from jobs.common.settings import lock_wait_s
    from jobs.common.stage_clock import run_as_of

    with ledger.stage_lock(f"remote.validate:{source}", run_id=run_id, wait_s=lock_wait_s(REMOTE_WAIT_S)):
        as_of = run_as_of(ledger, "remote", as_of, run_id=run_id, stage="remote.validate")
        return _validate_packages(ledger, run_id=run_id, as_of=as_of, source=source)


def _validate_packages(ledger: Ledger, *, run_id: str, as_of: datetime, source: str) -> dict:
    carried = 0
    for packages, applicants, materials in due_pages(lambda after: ledger.remote.due_remote_packages(source, after_seq=after, page_size=PAGE_SIZE),
                                                     page_size=PAGE_SIZE, rows=lambda page: len(page[0]),
                                                     last_seq=lambda page: int(page[0]["CHANGE_SEQ"].max())):
        carried += int((packages["received_by"] != run_id).sum())
        _validate_page(ledger, packages.drop(columns=["received_by"]), applicants, materials, run_id=run_id, as_of=as_of, source=source)
    summary = {**ledger.remote.remote_validation_run(run_id), "carried_over": carried}
    log.info("%s", remote_validate_line(run_id, summary))
    return summary


def _validate_page(ledger: Ledger, packages, applicants, materials, *, run_id: str, as_of: datetime, source: str) -> None:
    """One page of due package versions: verdicts, failures and routes saved in one transaction."""
    import pandas as pd
    import pyarrow as pa

    from jobs.common import reference
    from transforms.remote.package_routing import route_packages
    from transforms.remote.package_rules import build_context, code_text, evaluate

    ctx = build_context(divisions=reference.divisions(), checklists=ledger.remote.checklists(), as_of=as_of, known_bwids=ledger.remote.remote_known_bwids(source))
    failures, outcome = evaluate(packages, applicants, materials, ctx)
    routes = route_packages(packages, materials, outcome)
    seqs = packages["CHANGE_SEQ"].to_numpy(dtype="int64")
    verdicts = pa.table({
        "change_seq": pa.array(seqs, pa.int64()),
        "bwid": pa.array(_texts(code_text(packages["BWID"])), pa.string()),
        "op": pa.array(code_text(packages["OP"]).fillna("I").tolist(), pa.string()),
        "status": pa.array(outcome["status"].tolist(), pa.string()),
        "xzqh": pa.array(_texts(code_text(packages["XZQH"])), pa.string()),
        "sjdwdm": pa.array(_texts(code_text(packages["SJDWDM"])), pa.string()),
        "business_type": pa.array(_texts(code_text(packages["YWLX"])), pa.string()),
        "checklist_version_id": pa.array([None if pd.isna(v) else int(v) for v in outcome["checklist_version_id"]], pa.int64()),
        "channel": pa.array(routes["channel"].tolist(), pa.string()),
        "destination": pa.array(routes["destination"].tolist(), pa.string()),
        "paper_collected": pa.array(routes["paper_collected"].tolist(), pa.bool_()),
        "paper_handover": pa.array(routes["paper_handover"].tolist(), pa.bool_()),
        "errors": pa.array(outcome["errors"].tolist(), pa.int32()),
        "warnings": pa.array(outcome["warnings"].tolist(), pa.int32()),
    })
    failure_table = pa.table({
        "change_seq": pa.array(seqs[failures["row"].to_numpy(dtype="int64")], pa.int64()),
        **{c: pa.array([None if v is None else str(v) for v in failures[c]], pa.string())
           for c in ("rule_id", "field", "item", "severity", "value", "message_zh", "message_en")},
    })
    counts = outcome["status"].value_counts()
    summary = {
        "as_of": as_of, "packages_in": len(packages), "passed": int(counts.get("passed", 0)), "returned": int(counts.get("returned", 0)),
        "withdrawn": int(counts.get("withdrawn", 0)), "warnings": int((failures["severity"] == "warning").sum()),
    }
    # Nothing lost: every package version of the page has exactly one verdict.
    assert summary["packages_in"] == summary["passed"] + summary["returned"] + summary["withdrawn"] == verdicts.num_rows, summary
    ledger.remote.save_remote_verdicts(run_id=run_id, source=source, verdicts=verdicts, failures=failure_table, summary=summary)


def _texts(values) -> list[str | None]:
    """A pandas column as Python strings, None for missing values."""
    return [str(v) if isinstance(v, str) else None for v in values.astype(object)]
