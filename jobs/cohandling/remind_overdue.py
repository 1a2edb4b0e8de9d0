"""Weekly overdue reminders (催办提醒): once per ISO week, every institution, county system and the grid with
overdue work orders is reminded of them, and every county gets the list of its overdue work orders across
institutions (transforms/cohandling/reminders.py says who gets what, and in which form).

Once per week, not twice: the week's reminders are planned in the ledger first (`overdue_reminder`, key week +
channel + recipient; a re-run, an Airflow retry or a second worker planning the same week inserts nothing), under
the ledger lock `cohandling.remind`, with their work orders fixed then — so a retry sends exactly the same: an
account reminder is published like a batch (the folder `CB<week>` found already there and verified), an HTTP
reminder is keyed per work order and week (the receiver answers 0201), a county list is written under its fixed
name. Each recipient is tried on its own and recorded as soon as known: one that fails stays `pending` and is
sent again by the next run of the week (never twice once sent), and never stops the others; an unsent reminder of
an earlier week is superseded by the new week's, which lists what is overdue then.

The run's clock is `as_of` (local time), lifted to the co-handling clock (jobs/common/stage_clock.py) like every
co-handling stage; the week is as_of's ISO week.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from connectors.delivery import Drop
from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)

CHANNELS = ("account", "system", "grid", "county")


@dataclass
class RemindResult:
    run_id: str
    week: str = ""
    overdue: int = 0  # work orders overdue as of the run
    planned: int = 0  # reminders planned by this run (the week's others were planned before)
    superseded: int = 0  # unsent reminders of earlier weeks replaced by this week's
    sent: dict[str, int] = field(default_factory=dict)  # by channel
    pending: dict[str, int] = field(default_factory=dict)  # by channel: sent again by the next run of the week
    failed: dict[str, int] = field(default_factory=dict)  # by channel: for good (a drop folder with other contents)
    errors: list[str] = field(default_factory=list)
    county_dir: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        def counts(d: dict) -> str:
            return ", ".join(f"{c} {d[c]}" for c in CHANNELS if d.get(c)) or "none"

        text = (f"remind run {self.run_id}: week {self.week}, {self.overdue} work orders overdue; reminders planned {self.planned}"
                f" (earlier weeks' unsent superseded {self.superseded}); sent {counts(self.sent)}; pending {counts(self.pending)};"
                f" failed {counts(self.failed)}; county lists in {self.county_dir}")
        return text + (f"; problems: {'; '.join(self.errors[:5])}" if self.errors else "")


class RemindersUnsent(RuntimeError):
    """The run tried every reminder; some could not be sent (they go with the next run of the week)."""


def remind_run(ledger: Ledger, *, run_id: str, as_of: datetime, county_dir: Path, drops: Drop | None = None,
               receiver_for: Callable[[str, str], object] | None = None, fail_if_unsent: bool = False) -> RemindResult:
    """Plan this week's reminders (once), then send every one not sent yet; `county_dir` the report folder's reminders/.
    With `fail_if_unsent`, raises RemindersUnsent at the end when some stay pending or failed (the task goes red and retries)."""
    from jobs.common.settings import REMOTE_WAIT_S, lock_wait_s
    from jobs.common.stage_clock import run_as_of

    with ledger.stage_lock("cohandling.remind", run_id=run_id, wait_s=lock_wait_s(REMOTE_WAIT_S)):
        as_of = run_as_of(ledger, "cohandling", as_of, run_id=run_id, stage="remind")
        result = _remind(ledger, run_id=run_id, as_of=as_of, county_dir=Path(county_dir), drops=drops, receiver_for=receiver_for)
    log.info("%s", result.line())
    if fail_if_unsent and (result.pending or result.failed):
        raise RemindersUnsent(f"催办提醒未全部送达 / reminders unsent for week {result.week}: pending {result.pending}, failed {result.failed}: "
                              + "; ".join(result.errors))
    return result


def _remind(ledger: Ledger, *, run_id: str, as_of: datetime, county_dir: Path, drops, receiver_for) -> RemindResult:
    import pandas as pd

    from jobs.cohandling.collect_results import reconcile_now
    from transforms.cohandling.reminders import iso_week, overdue_items, plan

    week = iso_week(as_of.date())
    result = RemindResult(run_id, week=week, county_dir=str(county_dir / week))
    statuses = reconcile_now(ledger, as_of=as_of)
    facts = pd.DataFrame(ledger.cohandling.reminder_order_facts(), columns=["rowguid", "utility", "version", "account_no", "ycywh", "file_format"])
    items = overdue_items(statuses, facts, as_of=as_of.date())
    result.overdue = len(items)
    planned = ledger.cohandling.plan_reminders(week, plan(items, week=week), run_id=run_id, now=utcnow())
    result.planned, result.superseded = planned["planned"], planned["superseded"]

    reminders = ledger.cohandling.open_reminders(week)
    _send_accounts(ledger, result, [r for r in reminders if r["channel"] == "account"], drops=drops, run_id=run_id)
    for reminder in (r for r in reminders if r["channel"] in ("system", "grid")):
        _send_http(ledger, result, reminder, receiver_for=receiver_for, run_id=run_id)
    for reminder in (r for r in reminders if r["channel"] == "county"):
        _write_county(ledger, result, reminder, county_dir=county_dir / week, run_id=run_id)
    return result


def _count(result: RemindResult, outcome: str, channel: str) -> None:
    bucket = getattr(result, outcome)
    bucket[channel] = bucket.get(channel, 0) + 1


def _record(ledger, result: RemindResult, reminder: dict, *, run_id: str, status: str, error: str | None = None, receipt: dict | None = None) -> None:
    ledger.cohandling.record_reminder(reminder, run_id=run_id, status=status, error=error, receipt=receipt, now=utcnow())
    _count(result, status, reminder["channel"])
    if error:
        result.errors.append(f"{reminder['channel']} {reminder['destination']}: {error}")


def _send_accounts(ledger, result: RemindResult, reminders: list[dict], *, drops, run_id: str) -> None:
    """Each institution's reminder folder into its drop's outbox, published like a batch (all or nothing, verified if there)."""
    from connectors.sftp_drop import DropJob
    from jobs.cohandling.deliver_orders import signed
    from transforms.cohandling.reminders import reminder_files

    if not reminders:
        return
    if drops is None:
        for reminder in reminders:
            _record(ledger, result, reminder, run_id=run_id, status="pending", error="no SFTP drop connection configured")
        return
    by_drop, jobs = {}, []
    for reminder in reminders:
        files = signed(reminder_files(reminder["items"], base_name=reminder["name"], file_format=reminder["file_format"] or "xlsx",
                                      week=reminder["week"], institution=reminder["destination"], created=reminder["created_at"]))
        jobs.append(DropJob(reminder["destination"], reminder["name"], files))
        by_drop[reminder["destination"]] = reminder

    def on_result(outcome) -> None:
        reminder = by_drop[outcome.job.drop]
        if outcome.publication is not None:
            receipt = {"path": outcome.publication.path, "already_there": outcome.publication.skipped,
                       "files": {f.name: f.sha256 for f in outcome.job.files}}
            _record(ledger, result, reminder, run_id=run_id, status="sent", receipt=receipt)
        else:
            permanent = (outcome.error or "").startswith("DropConflict")
            _record(ledger, result, reminder, run_id=run_id, status="failed" if permanent else "pending", error=outcome.error)

    try:
        drops.publish_all(jobs, on_result=on_result)
    except Exception as exc:  # noqa: BLE001 - the drop host gone mid-way: what was not recorded stays pending
        log.warning("reminders to the drops: %s", exc)
        result.errors.append(f"account drops: {type(exc).__name__}: {exc}")


def _send_http(ledger, result: RemindResult, reminder: dict, *, receiver_for, run_id: str) -> None:
    """A county system's or the grid's reminder: `POST /v1/reminders`, one item per overdue work order it holds."""
    from transforms.cohandling.reminders import http_items

    if receiver_for is None:
        _record(ledger, result, reminder, run_id=run_id, status="pending", error="no receiver configured")
        return
    try:
        outcomes = receiver_for(reminder["channel"], reminder["destination"]).remind(http_items(reminder["items"], week=reminder["week"]),
                                                                                     batch_id=reminder["name"][:128])
    except Exception as exc:  # noqa: BLE001 - a receiver we cannot reach: its reminder stays pending, the others go on
        log.warning("remind %s %s: %s", reminder["channel"], reminder["destination"], exc)
        _record(ledger, result, reminder, run_id=run_id, status="pending", error=f"{type(exc).__name__}: {exc}")
        return
    codes: dict[str, int] = {}
    for o in outcomes:
        codes[o.code or "none"] = codes.get(o.code or "none", 0) + 1
    waiting = [o for o in outcomes if o.status == "pending"]
    if waiting:
        _record(ledger, result, reminder, run_id=run_id, status="pending", error=f"{len(waiting)} of {len(outcomes)} not answered: {waiting[0].reason}")
    else:
        _record(ledger, result, reminder, run_id=run_id, status="sent", receipt={"codes": codes})


def _write_county(ledger, result: RemindResult, reminder: dict, *, county_dir: Path, run_id: str) -> None:
    """A county's list into the report folder (XLSX and CSV), each file written beside its name and renamed into place."""
    from transforms.cohandling.reminders import county_files

    county = (reminder["items"][0].get("XZMC") if reminder["items"] else None) or reminder["xzqh"] or ""
    try:
        county_dir.mkdir(parents=True, exist_ok=True)
        files = county_files(reminder["items"], base_name=reminder["name"], week=reminder["week"], county=f"{reminder['xzqh'] or ''} {county}".strip(),
                             created=reminder["created_at"])
        for f in files:
            tmp = county_dir / f".{f.name}.{os.getpid()}.tmp"
            tmp.write_bytes(f.data)
            tmp.replace(county_dir / f.name)
    except OSError as exc:
        _record(ledger, result, reminder, run_id=run_id, status="pending", error=f"{type(exc).__name__}: {exc}")
        return
    _record(ledger, result, reminder, run_id=run_id, status="sent", receipt={"files": {f.name: f.sha256 for f in files}, "dir": str(county_dir)})
