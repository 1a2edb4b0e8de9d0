"""The daily purge of personal data past its retention (issue 15 item 2; PIPL §19 and §47; docs/security.md "Retention").

Retention per kind (jobs/common/settings.py RETENTION_DAYS, $GATEWAY_RETENTION_DAYS_<KIND>) counts from when the unit
became final: a co-handling record when every work order of it is final, a package when it is closed or withdrawn, a
record never routed / a package returned from its last verdict, a result exception from its receipt, a dead letter
from its resolution. What is due is purged batch by batch (connectors/ledger/retention_store.py, one transaction each):
ID numbers, phones and names become `purged:<blind index>:<masked form>` (transforms/common/purge.py), originals and
dead-letter payloads `purged:`. Keys, states, times, counts and hashes are never written: every balance and report
count is the same before and after.

Logged: one audit entry per run (`personal_purged`, actor `retention`: the retention in days, the cut-offs, units per
kind and values per table.column — never a value), also when the run stops part-way (`interrupted`: what was purged
until then, and the error's type), and one log line. The `cohandling_daily` DAG runs it as its `purge_personal` task;
`python -m tools.cli retention purge [--dry-run]` runs it by hand.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)

# the retention kinds each unit's due statement gives (its "final" and its "never routed" cut-offs)
CUTOFFS: dict[str, tuple[str, str | None]] = {
    "records": ("record", "record_unrouted"), "packages": ("package", "package_returned"),
    "result_exceptions": ("result_exception", None), "dead_letters": ("dead_letter", None),
}


@dataclass
class PurgeReport:
    """A purge run: what it purged (or would purge, `dry_run`) — units per kind, values per table.column."""

    now: datetime
    days: dict[str, float]
    dry_run: bool = False
    units: Counter = field(default_factory=Counter)
    values: Counter = field(default_factory=Counter)
    unindexed: int = 0
    batches: int = 0  # transactions that purged something
    windows: int = 0  # transactions (windows of units examined)
    interrupted: str | None = None

    def cutoffs(self) -> dict[str, datetime]:
        return {kind: self.now - timedelta(days=d) for kind, d in self.days.items()}

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "now": self.now.isoformat(sep=" ", timespec="seconds"), "retention_days": dict(self.days),
                "before": {k: v.isoformat(sep=" ", timespec="seconds") for k, v in self.cutoffs().items()},
                "units": dict(sorted(self.units.items())), "values": dict(sorted(self.values.items())), "unindexed": self.unindexed,
                "batches": self.batches, "windows": self.windows, **({"interrupted": self.interrupted} if self.interrupted else {})}

    def line(self) -> str:
        units = ", ".join(f"{k} {n}" for k, n in sorted(self.units.items())) or "nothing due"
        verb = "would purge" if self.dry_run else "purged"
        return f"retention: {verb} {units}; {sum(self.values.values())} values in {len(self.values)} columns ({self.batches} batches; {self.windows} windows examined)"


def purge_personal(ledger: Ledger, *, now: datetime | None = None, run_id: str | None = None, dry_run: bool = False,
                   days: dict[str, float] | None = None, batch: int | None = None,
                   after_batch: Callable[[str, object], None] | None = None) -> PurgeReport:
    """Purge every unit past its retention at `now` (UTC, naive; default the clock), batch by batch; audit and log the run.
    `after_batch(unit, batch)` is called after each batch (progress; tests interrupt a run with it)."""
    from jobs.common.settings import purge_batch, retention_days

    report = PurgeReport(now or utcnow(), days or retention_days(), dry_run)
    size = batch or purge_batch()
    cut = report.cutoffs()
    try:
        for unit, (final, unrouted) in CUTOFFS.items():
            after = None
            while True:  # window after window, to the end of the unit's table (a window with nothing due costs one read)
                done = ledger.purge_batch(unit, before=cut[final], unrouted_before=cut[unrouted] if unrouted else None, after=after,
                                          limit=size, dry_run=dry_run)
                if done.last is None:
                    break
                after = done.last
                report.windows += 1
                if not done.units:
                    continue
                report.units.update(done.units)
                report.values.update(done.values)
                report.unindexed += done.unindexed
                report.batches += 1
                if after_batch is not None:
                    after_batch(unit, done)
    except Exception as exc:
        report.interrupted = type(exc).__name__
        try:  # what the committed batches purged is said even so; a ledger that cannot take it must not hide the first error
            _record(ledger, report, run_id)
        except Exception as second:  # noqa: BLE001
            log.error("%s; interrupted (%s), and not audited (%s)", report.line(), report.interrupted, type(second).__name__)
        raise
    _record(ledger, report, run_id)
    return report


def _record(ledger: Ledger, report: PurgeReport, run_id: str | None) -> None:
    if report.dry_run:
        log.info("%s (dry run: nothing written)", report.line())
        return
    ledger.audit(run_id=run_id, actor="retention", action="personal_purged", object_type="retention", object_id=run_id or "manual",
                 detail=report.as_dict())
    (log.warning if report.interrupted else log.info)("%s%s", report.line(), f"; interrupted ({report.interrupted})" if report.interrupted else "")
