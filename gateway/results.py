"""Handling results: collecting them from every channel, checking each, keeping the outcome
of every work order, queueing the applicant's SMS, and reconciling.

- account mode: result files the institutions upload to their drop's `/inbox/`
  (transforms/results.py documents the format); each file is read once (its SHA-256 is
  kept), then moved out of the institution's view to `/.results/<drop>/<day>/` — or to
  `/.results/<drop>/refused/` with the reason in the exceptions list;
- system mode and the grid: the receivers' results feed (`GET /v1/results`), polled from the
  cursor kept in the ledger.

A bad file never blocks a good one, a bad row never blocks the rest of its file, and
nothing raises out of a collection: every refusal is an exception row with its reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)


@dataclass
class CollectResult:
    files: int = 0
    files_refused: int = 0
    results: int = 0
    exceptions: int = 0
    notifications: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def collect_results(ledger: Ledger, *, as_of: datetime, drops=None, feeds: dict | None = None, run_id: str | None = None, settle_s: float = 60) -> CollectResult:
    """Collect from every drop inbox (through `drops`) and every feed (`feeds`: source -> HttpReceiver); queue SMS."""
    from transforms.results import KnownWorkOrders, check_results, exception, rows_from_feed

    out = CollectResult()
    deliveries = ledger.delivered_versions()
    known = KnownWorkOrders(deliveries, ledger.outcomes())
    if drops is not None:
        for drop in sorted(set(deliveries.loc[deliveries["channel"] == "account", "destination"])) if len(deliveries) else []:
            source = f"sftp:{drop}"
            try:
                waiting = drops.list_inbox(drop)
            except Exception as exc:  # noqa: BLE001 - one drop's trouble is that drop's
                out.errors.append(f"{source}: {type(exc).__name__}: {exc}")
                continue
            for name, size, modified in waiting:
                # A file still being uploaded: a client's temporary name, or written in the last minute.
                if name.lower().endswith((".filepart", ".part", ".tmp")) or modified > time.time() - settle_s:
                    continue
                try:
                    _collect_file(ledger, drops, drop, name, size, source, known, as_of, out, run_id)
                except Exception as exc:  # noqa: BLE001
                    out.errors.append(f"{source}/{name}: {type(exc).__name__}: {exc}")
                    log.warning("result file %s/%s: %s", source, name, exc)
    for source, receiver in (feeds or {}).items():
        try:
            items, cursor = receiver.results(ledger.cursor(source))
        except Exception as exc:  # noqa: BLE001 - the feed is tried again next time from the same cursor
            out.errors.append(f"{source}: {type(exc).__name__}: {exc}")
            continue
        if not items:
            continue
        rows = rows_from_feed(items)
        accepted, problems = check_results(rows, source=source, known=known, as_of=as_of)
        malformed = [exception(source, "RESULT_MALFORMED", value=str(i)[:300]) for i in items if not isinstance(i, dict)]
        ledger.save_results(source=source, accepted=accepted, problems=problems + malformed, now=utcnow(), cursor=cursor, run_id=run_id)
        out.results += len(accepted)
        out.exceptions += len(problems) + len(malformed)
    out.notifications = queue_notifications(ledger)
    log.info("collect results: %s", out.as_dict())
    return out


def _collect_file(ledger, drops, drop, name, size, source, known, as_of, out: CollectResult, run_id) -> None:
    from transforms.results import MAX_RESULT_FILE_BYTES, check_results, exception, read_result_file

    day = as_of.strftime("%Y-%m-%d")
    if size > MAX_RESULT_FILE_BYTES:  # not even downloaded
        problem = exception(source, "FILE_TOO_LARGE", value=name, detail=f"{size} 字节，上限 {MAX_RESULT_FILE_BYTES}")
        ledger.save_results(source=source, accepted=_empty(), problems=[problem], now=utcnow(), run_id=run_id,
                            file={"name": name, "sha256": hashlib.sha256(f"oversize:{name}:{size}:{time.time()}".encode()).hexdigest(),
                                  "size": size, "reason": problem["reason"]})
        drops.archive(drop, name, "refused")
        out.files_refused += 1
        out.exceptions += 1
        return
    data = drops.fetch(drop, name)
    sha = hashlib.sha256(data).hexdigest()
    if ledger.result_file_seen(source, sha):  # processed before (uploaded again, or moved back): never twice
        drops.archive(drop, name, f"{day}/already-processed")
        return
    rows, problem = read_result_file(name, data, source=source)
    if problem is not None:
        ledger.save_results(source=source, accepted=_empty(), problems=[problem], now=utcnow(), run_id=run_id,
                            file={"name": name, "sha256": sha, "size": len(data), "reason": problem["reason"]})
        drops.archive(drop, name, "refused")
        out.files_refused += 1
        out.exceptions += 1
        return
    accepted, problems = check_results(rows, source=source, known=known, as_of=as_of)
    ledger.save_results(source=source, accepted=accepted, problems=problems, now=utcnow(), run_id=run_id,
                        file={"name": name, "sha256": sha, "size": len(data), "rows": len(rows)})
    drops.archive(drop, name, day)
    out.files += 1
    out.results += len(accepted)
    out.exceptions += len(problems)


def _empty():
    import pandas as pd

    from transforms.results import ACCEPTED_COLUMNS

    return pd.DataFrame(columns=list(ACCEPTED_COLUMNS))


def queue_notifications(ledger: Ledger) -> int:
    """An SMS for the buyer when a work order reaches a final state (sending is another system's job)."""
    from transforms.notify import notification_texts

    candidates = ledger.notification_candidates()
    if not len(candidates):
        return 0
    return ledger.queue_sms(notification_texts(candidates), now=utcnow())


def reconcile_now(ledger: Ledger, *, as_of: datetime, deadlines: dict | None = None):
    """Every work order's status as of `as_of` (local time), for reports."""
    from datetime import timedelta

    from gateway import reference
    from transforms.reconcile import reconcile
    from transforms.workdays import WorkdayCalendar

    orders = ledger.reconciliation_input()
    first = (orders["delivered_at"].min() if len(orders) and orders["delivered_at"].notna().any() else as_of).date() - timedelta(days=7)
    calendar = WorkdayCalendar(first, as_of.date() + timedelta(days=120))
    if calendar.uncovered_years:
        log.warning("chinese-calendar has no holidays for %s: Monday–Friday assumed", calendar.uncovered_years)
    return reconcile(orders, as_of=as_of, calendar=calendar, divisions=reference.divisions(), deadlines=deadlines)


def record_balance(ledger: Ledger) -> dict:
    """Records received = quarantined (as a whole) + work-ordered (+ withdrawn): asserted."""
    import sqlalchemy as sa

    with ledger.engine.connect() as conn:
        states = dict(conn.execute(sa.text("SELECT status, COUNT(*) FROM record_state GROUP BY status")).all())
        ordered = conn.execute(sa.text("SELECT COUNT(DISTINCT rowguid) FROM work_order")).scalar_one()
    received = sum(states.values())
    quarantined = states.get("quarantined", 0)
    withdrawn = states.get("withdrawn", 0)
    valid = states.get("passed", 0) + states.get("partial", 0)
    balance = {"received": received, "quarantined": quarantined, "withdrawn": withdrawn, "work_ordered": valid, "records_with_work_orders": ordered}
    assert received == quarantined + valid + withdrawn, balance
    return balance


def write_period_report(ledger: Ledger, *, first, last, as_of: datetime, out_dir, deadlines: dict | None = None) -> dict:
    """The reconciliation report for work orders delivered in [first, last] (and everything not delivered yet), as of `as_of`."""
    import json
    from datetime import timedelta

    import pandas as pd

    from gateway.reports import write_reports
    from transforms.quarantine import quarantine_list
    from transforms.reconcile import daily_counts

    statuses = reconcile_now(ledger, as_of=as_of, deadlines=deadlines)
    day = pd.to_datetime(statuses["delivered_at"]).dt.date
    in_period = statuses["delivered_at"].isna() | ((day >= first) & (day <= last))
    statuses = statuses[in_period.to_numpy()].reset_index(drop=True)
    exceptions = ledger.result_exceptions(since=datetime(first.year, first.month, first.day) - timedelta(hours=8))
    quarantine = quarantine_list(ledger.quarantine())
    daily = daily_counts(statuses, first=first, last=last)
    paths = write_reports(statuses, exceptions, quarantine, daily, period=(first, last), as_of=as_of, out_dir=out_dir)
    counts = statuses["status"].value_counts().to_dict()
    meta = {"period": [str(first), str(last)], "as_of": as_of.isoformat(sep=" "), "statuses": {k: int(v) for k, v in counts.items()},
            "records": record_balance(ledger), "exceptions": len(exceptions), "files": paths}
    with open(f"{out_dir}/report.json", "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=2)
    return meta
