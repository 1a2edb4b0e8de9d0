"""Handling results: collecting them from every channel, checking each, keeping the outcome
of every work order, queueing the applicant's SMS, and reconciling.

- account mode: result files the institutions upload to their drop's `/inbox/`
  (transforms/results.py documents the format); each file is read once (its SHA-256 is
  kept), then moved out of the institution's view to `/.results/<drop>/<day>/` — or to
  `/.results/<drop>/refused/` with the reason in the exceptions list;
- system mode and the grid: the receivers' results feed (`GET /v1/results`), polled from the
  cursor kept in the ledger, page by page: each page's results, exceptions and dead letters are
  stored with the cursor after it in one transaction.

A bad file never blocks a good one, a bad row never blocks the rest of its file, a bad feed
entry never blocks its feed, one feed's trouble never blocks another feed, and nothing raises
out of a collection: every refusal is an exception row with its reason. A feed entry that
cannot even be stored (a wrong JSON type, a number beyond its column, an over-long or
unreadable field — transforms/feeds.py) is a dead letter (surface `result_feed`: the entry as
received, the feed, the cursor it was read after and its position, the field) and the cursor
moves past it. A page that is not a page of the feed at all is a dead letter too; the next runs
read it again, and after `MAX_PAGE_READS` runs that meet it the feed is left at that cursor for
the operator, with an alert in the task's result, until the dead letter is resolved.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from connectors.ledger import Ledger, utcnow
from connectors.ledger.deadletter import unit_key

log = logging.getLogger(__name__)

FEED_SURFACE = "result_feed"
MAX_PAGE_READS = 3  # runs that meet the same unreadable page before the feed waits for its operator
MAX_NOTED = 100  # places listed in a task's result (XCom stays small); the count is always whole


def note(places: list[str], where: str) -> None:
    """List where something was set aside, up to MAX_NOTED places."""
    if len(places) < MAX_NOTED:
        places.append(where)
    elif len(places) == MAX_NOTED:
        places.append("… (more: see the dead letters)")


@dataclass
class CollectResult:
    files: int = 0
    files_refused: int = 0
    results: int = 0
    exceptions: int = 0
    notifications: int = 0
    dead_letters: int = 0  # feed entries and pages set aside this run
    isolated: list[str] = field(default_factory=list)  # where: feed, cursor, position, rule
    alerts: list[str] = field(default_factory=list)  # for the operator: a feed left at a cursor it cannot read
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def collect_results(ledger: Ledger, *, as_of: datetime, drops=None, feeds: dict | None = None, run_id: str | None = None, settle_s: float = 60) -> CollectResult:
    """Collect from every drop inbox (through `drops`) and every feed (`feeds`: source -> HttpReceiver); queue SMS."""
    from transforms.results import KnownWorkOrders

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
            _collect_feed(ledger, source, receiver, known, as_of, out, run_id)
        except Exception as exc:  # noqa: BLE001 - one feed's trouble is that feed's: the others go on, this one from its cursor next time
            out.errors.append(f"{source}: {type(exc).__name__}: {exc}")
            log.warning("results feed %s: %s", source, exc)
    out.notifications = queue_notifications(ledger)
    log.info("collect results: %s", out.as_dict())
    return out


def _collect_feed(ledger: Ledger, source: str, receiver, known, as_of: datetime, out: CollectResult, run_id: str | None) -> None:
    """One feed from its cursor, page by page: screen each entry, check the fit ones, store the page."""
    from connectors.receivers import FeedPageError
    from transforms.feeds import raw_json
    from transforms.results import check_results, rows_from_feed, screen_feed_results

    owner = "receiver:" + source.removeprefix("feed:")
    cursor = ledger.cursor(source)
    page_key = unit_key(source, "page", f"after={cursor}")
    tries = ledger.open_dead_letter_seen(FEED_SURFACE, page_key)
    if tries >= MAX_PAGE_READS:
        out.alerts.append(f"{source}: 游标 {cursor!r} 之后的页面已 {tries} 次无法读取，该结果接口暂停读取，请与接收方核对后处理死信"
                          f"（result_feed / {page_key}）")
        return
    try:
        for page in receiver.result_pages(cursor):
            good, bad = screen_feed_results(page.entries)
            letters = []
            for i, problem in bad:
                where = f"{source} after={page.after!r} #{i}"
                letters.append({
                    "surface": FEED_SURFACE, "unit_key": unit_key(source, f"after={page.after}", f"#{i}"), "origin": where,
                    "location": problem.field, "rule_id": problem.rule, "payload": raw_json(page.entries[i - 1]), "owner": owner,
                    "reason": f"结果接口 {source}，游标 {page.after!r} 之后第 {i} 条，字段 {problem.field or '（整条）'}：{problem.message}",
                })
                note(out.isolated, f"{where} {problem.field or '-'} {problem.rule}")
            rows = rows_from_feed([entry for _, entry in good], positions=[i for i, _ in good])
            accepted, problems = check_results(rows, source=source, known=known, as_of=as_of)
            settled = [(FEED_SURFACE, page_key)] if tries and page.after == cursor else []
            ledger.save_results(source=source, accepted=accepted, problems=problems, now=utcnow(), cursor=page.next, run_id=run_id,
                                dead_letters=letters, resolved=settled)
            out.results += len(accepted)
            out.exceptions += len(problems)
            out.dead_letters += len(letters)
    except FeedPageError as exc:
        out.errors.append(f"{source}: {exc}")
        if not exc.malformed:  # unreachable or refused: read again next time, nothing to set aside
            return
        key = unit_key(source, "page", f"after={exc.after}")
        seen = ledger.feed_page_unreadable(
            surface=FEED_SURFACE, unit_key=key, origin=f"{source} after={exc.after!r}", rule_id="FEED_PAGE_MALFORMED", payload=exc.body,
            owner=owner, run_id=run_id,
            reason=f"结果接口 {source} 游标 {exc.after!r} 之后的页面不是约定格式的结果页，无法读取（{exc}）；网关每次运行再读，"
                   f"共 {MAX_PAGE_READS} 次，之后暂停读取该接口等待处理")
        out.dead_letters += 1
        note(out.isolated, f"{source} after={exc.after!r} page FEED_PAGE_MALFORMED ({seen}/{MAX_PAGE_READS})")
        if seen >= MAX_PAGE_READS:
            out.alerts.append(f"{source}: 游标 {exc.after!r} 之后的页面已 {seen} 次无法读取，该结果接口暂停读取，请与接收方核对后处理死信"
                              f"（result_feed / {key}）")


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
