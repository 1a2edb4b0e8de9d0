"""Remote collection (异地代收): the statuses each property authority sends back.

`collect_package_events`: poll each destination's status feed from its cursor, check every
event (transforms/remote/package_tracking.py: screen_events, check_events), store all with
the cursor; what cannot be stored is a dead letter (surface `package_event`).

Overlapping runs (jobs/common/stage_clock.py): the poll holds the ledger lock `remote.statuses`
(one reader per feed cursor, whichever host) and its `as_of` (an event may not be dated after it)
is never before the `remote` clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from connectors.delivery import PackageChannel
from connectors.ledger import Ledger, utcnow
from connectors.ledger.deadletter_store import unit_key
from connectors.ledger.package_flow_store import FEED_PREFIX
from jobs.common.outcomes import remote_events_line

log = logging.getLogger(__name__)

EVENT_SURFACE = "package_event"


def collect_package_events(ledger: Ledger, *, receiver_for: Callable[[str], PackageChannel], run_id: str, as_of: datetime, now: datetime | None = None) -> dict:
    """Read every destination's status feed from its cursor, page by page; `as_of` local time, `now` UTC.

    Each event is screened first (transforms/remote_tracking.screen_events: JSON types, ranges,
    lengths, text cleaned); one that cannot be stored is a dead letter (surface `package_event`,
    the event as received, the feed, the cursor it was read after and its position, the field) and
    the cursor moves past it. Each page is stored with the cursor after it. A page that is not a
    page of events is a dead letter too, read again by the next runs and, after MAX_PAGE_READS
    runs, left at its cursor for the operator with an alert in `alerts`. One feed's trouble never
    stops another feed."""
    from jobs.common.settings import REMOTE_WAIT_S, lock_wait_s
    from jobs.common.stage_clock import run_as_of

    with ledger.stage_lock("remote.statuses", run_id=run_id, wait_s=lock_wait_s(REMOTE_WAIT_S)):
        as_of = run_as_of(ledger, "remote", as_of, run_id=run_id, stage="remote.statuses")
        return _collect_events(ledger, receiver_for=receiver_for, run_id=run_id, as_of=as_of, now=now or utcnow())


def _collect_events(ledger: Ledger, *, receiver_for, run_id: str, as_of: datetime, now: datetime) -> dict:
    from connectors.signed_http import FeedPageError
    from jobs.cohandling.collect_results import MAX_PAGE_READS, note

    summary = {"feeds": 0, "events": 0, "accepted": 0, "issues": 0, "dead_letters": 0, "isolated": [], "alerts": [], "errors": []}
    for feed in ledger.remote.remote_feeds():
        source = FEED_PREFIX + feed
        cursor = ledger.remote.remote_feed_cursor(feed)
        page_key = unit_key(source, "page", f"after={cursor}")
        tries = ledger.cohandling.open_dead_letter_seen(EVENT_SURFACE, page_key)
        if tries >= MAX_PAGE_READS:
            summary["alerts"].append(f"{feed}: 游标 {cursor!r} 之后的状态页已 {tries} 次无法读取，暂停读取，请与接收方核对后处理死信（package_event / {page_key}）")
            continue
        try:
            receiver = receiver_for(feed)
            summary["feeds"] += 1
            for page in receiver.feed_pages(cursor):
                _store_event_page(ledger, feed, page, run_id=run_id, as_of=as_of, now=now, summary=summary,
                                  settled=[(EVENT_SURFACE, page_key)] if tries and page.after == cursor else [])
        except FeedPageError as exc:
            summary["errors"].append(f"{feed}: {exc}")
            if exc.malformed:
                key = unit_key(source, "page", f"after={exc.after}")
                seen = ledger.cohandling.feed_page_unreadable(
                    surface=EVENT_SURFACE, unit_key=key, origin=f"{feed} after={exc.after!r}", rule_id="FEED_PAGE_MALFORMED", payload=exc.body,
                    owner=f"receiver:{feed}", run_id=run_id,
                    reason=f"状态接口 {feed} 游标 {exc.after!r} 之后的页面不是约定格式的状态页，无法读取（{exc}）；网关每次运行再读，"
                           f"共 {MAX_PAGE_READS} 次，之后暂停读取该接口等待处理")
                summary["dead_letters"] += 1
                note(summary["isolated"], f"{feed} after={exc.after!r} page FEED_PAGE_MALFORMED ({seen}/{MAX_PAGE_READS})")
                if seen >= MAX_PAGE_READS:
                    summary["alerts"].append(f"{feed}: 游标 {exc.after!r} 之后的状态页已 {seen} 次无法读取，暂停读取，请与接收方核对后处理死信"
                                             f"（package_event / {key}）")
        except Exception as exc:  # noqa: BLE001 - a missing Airflow connection, or anything else: that feed waits, the others go on
            summary["errors"].append(f"{feed}: {type(exc).__name__}: {exc}")
    log.info("%s", remote_events_line(run_id, summary))
    for alert in summary["alerts"]:
        log.error("remote package events: %s", alert)
    return summary


def _store_event_page(ledger: Ledger, feed: str, page, *, run_id: str, as_of: datetime, now: datetime, summary: dict, settled: list) -> None:
    from jobs.cohandling.collect_results import note
    from transforms.common.feeds import raw_json
    from transforms.remote.package_tracking import check_events, screen_events

    source = FEED_PREFIX + feed
    good, bad = screen_events(page.entries)
    letters = []
    for i, problem in bad:
        where = f"{feed} after={page.after!r} #{i + 1}"
        letters.append({
            "surface": EVENT_SURFACE, "unit_key": unit_key(source, f"after={page.after}", f"#{i + 1}"), "origin": where, "location": problem.field,
            "rule_id": problem.rule, "payload": raw_json(page.entries[i]), "owner": f"receiver:{feed}",
            "reason": f"状态接口 {feed}，游标 {page.after!r} 之后第 {i + 1} 条，字段 {problem.field or '（整条）'}：{problem.message}",
        })
        note(summary["isolated"], f"{where} {problem.field or '-'} {problem.rule}")
    deliveries, held = ledger.remote.remote_event_context([e.get("idempotency_key") for e in good])
    rows = check_events(good, feed=feed, deliveries=deliveries, held=held, as_of=as_of)
    ledger.remote.save_remote_events(feed=feed, rows=rows, cursor=page.next, run_id=run_id, now=now, dead_letters=letters, resolved=settled)
    summary["events"] += len(rows)
    summary["accepted"] += sum(bool(r["accepted"]) for r in rows)
    summary["dead_letters"] += len(letters)
    for r in rows:
        if not r["accepted"]:
            summary["issues"] += 1
            log.warning("%s: event %s (%s) not counted: %s", feed, r["seq"], r["idempotency_key"], r["issue_message"])
