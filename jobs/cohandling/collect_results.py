"""Handling results: collecting them from every channel, checking each, keeping the outcome
of every work order, queueing the applicant's SMS, and reconciling.

- account mode: result files the institutions upload to their drop's `/inbox/`
  (transforms/cohandling/result_files.py documents the format); each file is read once (its SHA-256 is
  kept), then moved out of the institution's view to `/.results/<drop>/<day>/` — or to
  `/.results/<drop>/refused/` with the reason in the exceptions list;
- system mode and the grid: the receivers' results feed (`GET /v1/results`), polled from the
  cursor kept in the ledger, page by page: each page's results, exceptions and dead letters are
  stored with the cursor after it in one transaction.

A bad file never blocks a good one, a bad row never blocks the rest of its file, a bad feed
entry never blocks its feed, one feed's trouble never blocks another feed, and nothing raises
out of a collection: every refusal is an exception row with its reason. A feed entry that
cannot even be stored (a wrong JSON type, a number beyond its column, an over-long or
unreadable field — transforms/common/feeds.py) is a dead letter (surface `result_feed`: the entry as
received, the feed, the cursor it was read after and its position, the field) and the cursor
moves past it. A page that is not a page of the feed at all is a dead letter too; the next runs
read it again, and after `MAX_PAGE_READS` runs that meet it the feed is left at that cursor for
the operator, with an alert in the task's result, until the dead letter is resolved.

Overlapping runs (jobs/common/stage_clock.py): collection holds the ledger lock
`cohandling.results` — drop inboxes, feed cursors, outcomes and the SMS queue are read and written
by one collector at a time, whichever host it runs on — and runs as of the `cohandling.results`
clock when its own as-of is older: a backfill never refuses a result as "in the future" that a
newer run has already accepted the like of, nor files a day's results under a past day.
Reconciliation and the reports (`reconcile_now`, `write_period_report`) only read: a report as of
T shows the world as the ledger knew it at T — the work-order versions routed by T, and only the
deliveries, cancellations, handling results (by the time the ledger received them, not the time a
receiver says it handled them), exceptions and quarantine verdicts recorded by T; due dates and
overdue are judged at T; nothing is lifted there. Written again later, after more results, the
report as of T is the same, cell for cell (its fingerprint says so: transforms/reporting/provenance.py).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from connectors.channels import Channels
from connectors.delivery import Channel, Drop
from connectors.ledger import Ledger, utcnow
from connectors.ledger.deadletter_store import unit_key
from jobs.common.outcomes import collect_line

log = logging.getLogger(__name__)
WAIT_BOUND_S = 24 * 3600  # a file not complete (or not readable) a day after it was first seen is refused, not waited for

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
    refused: list[str] = field(default_factory=list)  # files refused whole: "sftp:<drop>/<name>: <rule>" (each also a dead letter)

    def as_dict(self) -> dict:
        return asdict(self)


def collect_results(ledger: Ledger, *, as_of: datetime, drops: Drop | None = None, feeds: dict[str, Channel] | None = None,
                    run_id: str | None = None, settle_s: float = 60, wait_bound_s: float = WAIT_BOUND_S, clock=time.time) -> CollectResult:
    """Collect from every drop inbox (through `drops`) and every feed (`feeds`: source -> its `Channel`, see `result_feeds`); queue SMS.

    Drops: `settle_s` and `wait_bound_s` are the completeness rule's times (docs/protocol/results.md),
    `clock` the epoch clock the server's mtimes are compared with."""
    from jobs.common.settings import lock_wait_s
    from jobs.common.stage_clock import run_as_of

    with ledger.stage_lock("cohandling.results", run_id=run_id, wait_s=lock_wait_s(1200)):
        as_of = run_as_of(ledger, "cohandling.results", as_of, run_id=run_id, stage="results")
        out = _collect(ledger, as_of=as_of, drops=drops, feeds=feeds, run_id=run_id, settle_s=settle_s, wait_bound_s=wait_bound_s, clock=clock)
    try:  # the console's read model: the work orders touched since its last refresh (jobs/cohandling/order_status.py)
        from jobs.cohandling.order_status import refresh_order_status

        refresh_order_status(ledger)
    except Exception as exc:  # noqa: BLE001 - the results are kept; the console catches up at the next refresh
        out.errors.append(f"order_status: {type(exc).__name__}: {exc}")
        log.warning("order_status refresh: %s", exc)
    return out


def _collect(ledger: Ledger, *, as_of: datetime, drops, feeds, run_id, settle_s: float, wait_bound_s: float, clock) -> CollectResult:
    from transforms.cohandling.result_files import KnownWorkOrders

    out = CollectResult()
    known = KnownWorkOrders(fetch=ledger.cohandling.known_of)  # read for the ROWGUIDs the files and pages name, as they come
    if drops is not None:
        for drop in [destination for channel, destination in ledger.cohandling.delivered_destinations() if channel == "account"]:
            _collect_drop(ledger, drops, drop, known, as_of, out, run_id, settle_s=settle_s, wait_bound_s=wait_bound_s, clock=clock)
    for source, receiver in (feeds or {}).items():
        try:
            _collect_feed(ledger, source, receiver, known, as_of, out, run_id)
        except Exception as exc:  # noqa: BLE001 - one feed's trouble is that feed's: the others go on, this one from its cursor next time
            out.errors.append(f"{source}: {type(exc).__name__}: {exc}")
            log.warning("results feed %s: %s", source, exc)
    out.notifications = queue_notifications(ledger)
    log.info("%s", collect_line(out.as_dict()))
    return out


def result_feeds(ledger: Ledger, channels: Channels) -> dict[str, Channel]:
    """The results feeds to poll: the grid and every county system something was delivered to
    (`feed:grid`, `feed:county/<XZQH>` -> its channel). A destination whose channel cannot be
    opened (a missing connection) is left out, logged: that feed waits."""
    feeds = {}
    for channel, destination in ledger.cohandling.delivered_destinations():
        if channel == "grid":
            feeds["feed:grid"] = (channel, destination)
        elif channel == "system":
            feeds[f"feed:county/{destination.removeprefix('county_system_')}"] = (channel, destination)
    out = {}
    for source, (channel, destination) in feeds.items():
        try:
            out[source] = channels.receiver_for(channel, destination)
        except Exception as exc:  # noqa: BLE001 - a missing connection: that feed waits
            log.warning("no receiver for %s: %s", source, exc)
    return out


def _collect_feed(ledger: Ledger, source: str, receiver: Channel, known, as_of: datetime, out: CollectResult, run_id: str | None) -> None:
    """One feed from its cursor, page by page: screen each entry, check the fit ones, store the page."""
    from connectors.signed_http import FeedPageError
    from transforms.cohandling.result_files import check_results, rows_from_feed, screen_feed_results
    from transforms.common.feeds import raw_json

    owner = "receiver:" + source.removeprefix("feed:")
    cursor = ledger.cohandling.cursor(source)
    page_key = unit_key(source, "page", f"after={cursor}")
    tries = ledger.cohandling.open_dead_letter_seen(FEED_SURFACE, page_key)
    if tries >= MAX_PAGE_READS:
        out.alerts.append(f"{source}: 游标 {cursor!r} 之后的页面已 {tries} 次无法读取，该结果接口暂停读取，请与接收方核对后处理死信"
                          f"（result_feed / {page_key}）")
        return
    try:
        for page in receiver.feed_pages(cursor):
            known.forget()  # the pages before are stored: the ledger holds what counts
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
            ledger.cohandling.save_results(source=source, accepted=accepted, problems=problems, now=utcnow(), cursor=page.next, run_id=run_id,
                                dead_letters=letters, resolved=settled)
            out.results += len(accepted)
            out.exceptions += len(problems)
            out.dead_letters += len(letters)
    except FeedPageError as exc:
        out.errors.append(f"{source}: {exc}")
        if not exc.malformed:  # unreachable or refused: read again next time, nothing to set aside
            return
        key = unit_key(source, "page", f"after={exc.after}")
        seen = ledger.cohandling.feed_page_unreadable(
            surface=FEED_SURFACE, unit_key=key, origin=f"{source} after={exc.after!r}", rule_id="FEED_PAGE_MALFORMED", payload=exc.body,
            owner=owner, run_id=run_id,
            reason=f"结果接口 {source} 游标 {exc.after!r} 之后的页面不是约定格式的结果页，无法读取（{exc}）；网关每次运行再读，"
                   f"共 {MAX_PAGE_READS} 次，之后暂停读取该接口等待处理")
        out.dead_letters += 1
        note(out.isolated, f"{source} after={exc.after!r} page FEED_PAGE_MALFORMED ({seen}/{MAX_PAGE_READS})")
        if seen >= MAX_PAGE_READS:
            out.alerts.append(f"{source}: 游标 {exc.after!r} 之后的页面已 {seen} 次无法读取，该结果接口暂停读取，请与接收方核对后处理死信"
                              f"（result_feed / {key}）")


TEMP_SUFFIXES = (".filepart", ".part", ".tmp")
MARKER = b".done"


def _collect_drop(ledger, drops, drop: str, known, as_of, out: CollectResult, run_id, *, settle_s: float, wait_bound_s: float, clock) -> None:
    """One institution's inbox, file by file: a file's trouble is that file's (refused with a reason, a note in the drop), never the inbox's."""
    source = f"sftp:{drop}"
    try:
        entries = drops.list_inbox(drop)
    except Exception as exc:  # noqa: BLE001 - one drop's trouble is that drop's
        out.errors.append(f"{source}: {type(exc).__name__}: {exc}")
        return
    markers = {e.raw[: -len(MARKER)]: e for e in entries if e.raw.endswith(MARKER)}
    present = {e.raw for e in entries}
    for entry in entries:
        if entry.raw.endswith(MARKER) and entry.raw[: -len(MARKER)] in present:
            continue  # a completion marker: read with its file
        try:
            _collect_entry(ledger, drops, drop, source, entry, markers.get(entry.raw), known, as_of, out, run_id,
                           settle_s=settle_s, wait_bound_s=wait_bound_s, clock=clock)
        except Exception as exc:  # noqa: BLE001 - the next file is collected
            from transforms.common.text import shown

            out.errors.append(f"{source}/{shown(entry.raw)}: {type(exc).__name__}: {exc}")
            log.warning("result file %s/%s: %s", source, shown(entry.raw), exc)
        finally:
            known.forget()  # stored, refused or failed: the ledger holds what counts


def _collect_entry(ledger, drops, drop, source, entry, marker, known, as_of, out: CollectResult, run_id, *, settle_s, wait_bound_s, clock) -> None:
    """Read one inbox file when it is complete; refuse it (with a reason, kept, told) when it cannot be; else leave it for later."""
    from transforms.cohandling.result_files import MAX_RESULT_FILE_BYTES, check_file_name, exception
    from transforms.common.text import shown

    name_key = hashlib.sha256(entry.raw).hexdigest()
    now = utcnow()
    first_seen, stable_since = ledger.cohandling.sight_inbox_file(source, name_key, size=entry.size, mtime=entry.mtime, now=now)
    over_bound = (now - first_seen).total_seconds() >= wait_bound_s
    waited = f"等待 {int((now - first_seen).total_seconds() // 60)} 分钟（上限 {int(wait_bound_s // 60)} 分钟）"
    name, why = check_file_name(entry.raw)
    refuse = _Refusal(ledger, drops, drop, source, entry, name_key, name, out, run_id, as_of, marker)
    if entry.raw.endswith(MARKER):  # a marker whose file is not (or no longer) there
        if over_bound:
            refuse.aside("orphan-markers")
        return
    if name is not None and name.lower().endswith(TEMP_SUFFIXES):
        if over_bound:  # a temporary name never renamed: an upload given up
            refuse.whole(exception(source, "FILE_INCOMPLETE", value=name, detail=f"临时文件名，{waited}"), data=None)
        return
    if name is None:
        refuse.whole(exception(source, "FILE_NAME_UNSAFE", value=shown(entry.raw, 200), detail=why), data=_head(drops, drop, entry.raw))
        return
    if entry.size > MAX_RESULT_FILE_BYTES:  # not even downloaded
        refuse.whole(exception(source, "FILE_TOO_LARGE", value=name, detail=f"{entry.size} 字节，上限 {MAX_RESULT_FILE_BYTES}"), data=_head(drops, drop, entry.raw))
        return
    # Settled: unchanged for the settle time, by its mtime (when that is not ahead of our clock) or by what we saw.
    settled = entry.mtime <= clock() - settle_s or (now - stable_since).total_seconds() >= settle_s
    if marker is None and not settled and not over_bound:
        return  # still being written, by its mtime and by what we saw
    try:
        data = drops.fetch(drop, entry.raw, max_bytes=MAX_RESULT_FILE_BYTES)
        expect = _marker_sha(drops.fetch(drop, marker.raw, max_bytes=1024)) if marker is not None else None
    except PermissionError:
        if over_bound:
            refuse.whole(exception(source, "FILE_UNREADABLE", value=name, detail=waited), data=None)
        return
    except FileNotFoundError:  # taken back by the institution while we looked
        ledger.cohandling.forget_inbox_file(source, name_key)
        return
    if len(data) > MAX_RESULT_FILE_BYTES:  # it grew while we looked
        refuse.whole(exception(source, "FILE_TOO_LARGE", value=name, detail=f"超过 {MAX_RESULT_FILE_BYTES} 字节"), data=data[: 1 << 20])
        return
    sha = hashlib.sha256(data).hexdigest()
    if marker is not None:
        complete = expect is None or expect == sha
        gap = f"文件的 SHA-256 {sha[:12]}… 与 {name}.done 中的 {str(expect)[:12]}… 不符"
    else:
        complete = data.endswith((b"\n", b"\r"))  # a file cut off mid-upload ends mid-row: it waits
        gap = "文件不以换行结束，且没有 .done 完成标记"
    if not complete:
        if over_bound:
            refuse.whole(exception(source, "FILE_INCOMPLETE", value=name, detail=f"{gap}，{waited}"), data=data, sha=sha)
        return
    _collect_file(ledger, drops, drop, entry, name, data, sha, source, known, as_of, out, run_id, refuse)


def _tell(drops, drop: str, name: str, data: bytes) -> None:
    """The receipt for the institution, signed by the gateway: `<name>.sig` (Ed25519, transforms/common/signing.py) first, then
    the receipt, so a receipt is never there without its signature; a drop that will not take them (its receipts/ made a file,
    a full disk) or a signing key that cannot be read does not hold the file up (the refusals are in the ledger all the same)."""
    from jobs.common.signing_key import gateway_signing_key
    from transforms.common.signing import SIG_SUFFIX, sign

    try:
        drops.write_receipt(drop, name + SIG_SUFFIX, sign(gateway_signing_key(), data))
        drops.write_receipt(drop, name, data)
    except Exception as exc:  # noqa: BLE001 - the refusal is recorded in the ledger all the same
        log.warning("receipt %s for %s not written: %s", name, drop, exc)


def _marker_sha(data: bytes) -> str | None:
    """The SHA-256 a `.done` marker states (`sha256sum` output, or the bare hex digest), or None for an empty marker."""
    import re

    m = re.search(rb"\b([0-9a-fA-F]{64})\b", data)
    return m[1].decode().lower() if m else None


def _head(drops, drop, raw: bytes) -> bytes | None:
    """The first MiB of a refused file, for the dead letter (None when it cannot be read)."""
    try:
        return drops.fetch(drop, raw, max_bytes=(1 << 20) - 1)[: 1 << 20]
    except Exception:  # noqa: BLE001 - the refusal stands without the bytes
        return None


class _Refusal:
    """Refusing one inbox file: kept (dead letter + exceptions list, once), told (a receipt in the drop, once), moved aside."""

    def __init__(self, ledger, drops, drop, source, entry, name_key, name, out, run_id, as_of, marker=None) -> None:
        self.ledger, self.drops, self.drop, self.source, self.entry = ledger, drops, drop, source, entry
        self.name_key, self.name, self.out, self.run_id, self.as_of, self.marker = name_key, name, out, run_id, as_of, marker

    def whole(self, problem: dict, *, data: bytes | None, sha: str | None = None) -> None:
        from connectors.ledger.deadletter_store import unit_key
        from transforms.cohandling.result_files import receipt_csv, receipt_name
        from transforms.common.text import shown

        # A file refused before its contents count is keyed by its name, size and mtime; one read, by its contents.
        key = sha or hashlib.sha256(f"{self.name_key}:{self.entry.size}:{self.entry.mtime}".encode()).hexdigest()
        shown_name = shown(self.entry.raw, 200)
        new = self.ledger.dead_letter(surface="result_file", unit_key=unit_key(self.source, key), origin=f"{self.source}/inbox/{shown_name}",
                                      rule_id=problem["reason_code"], reason=f"{shown_name}: {problem['reason']}", payload=data,
                                      owner=f"institution:{self.drop}", run_id=self.run_id)
        if new and not self.ledger.cohandling.result_file_seen(self.source, key):
            _tell(self.drops, self.drop, receipt_name(self.name if self.name and not problem["reason_code"] == "FILE_NAME_UNSAFE" else None, key),
                  receipt_csv(shown_name=shown_name, sha256=sha, size=self.entry.size, accepted=0, refused=[problem], whole_file=True))
            self.ledger.cohandling.save_results(source=self.source, accepted=_empty(), problems=[problem], now=utcnow(), run_id=self.run_id,
                                     file={"name": shown_name, "sha256": key, "size": self.entry.size, "reason": problem["reason"]})
            self.out.files_refused += 1
            self.out.exceptions += 1
            self.out.refused.append(f"{self.source}/{shown_name}: {problem['reason_code']}")
        self.aside("refused")

    def aside(self, folder: str) -> None:
        """Out of the institution's inbox (a name not fit to keep is replaced); a move that fails leaves it, recognised next time."""
        try:
            self.drops.archive(self.drop, self.entry.raw, folder, as_name=None if self.name else f"unnamed-{self.name_key[:12]}.bin")
        except Exception as exc:  # noqa: BLE001 - refused and kept already; the dead letter's key recognises it next time
            log.warning("result file %s: could not be moved aside: %s", self.source, exc)
            return
        self.ledger.cohandling.forget_inbox_file(self.source, self.name_key)
        self.marker_away(folder)

    def marker_away(self, folder: str) -> None:
        if self.marker is not None:
            try:
                self.drops.archive(self.drop, self.marker.raw, folder)
            except Exception as exc:  # noqa: BLE001 - an orphan marker is moved aside after the wait bound
                log.warning("result file %s: marker not moved: %s", self.source, exc)


def check_result_file(name: str, data: bytes, *, source: str, known, as_of: datetime):
    """One result file's contents checked: (rows read, accepted, row exceptions (capped), None), or (0, None, [], the
    file-level exception that refuses it whole). The one check of a result file, whether it came through a drop's
    inbox or the web console's upload (console/app.py)."""
    from transforms.cohandling.result_files import cap_exceptions, check_results, parse_result_file

    rows, read_problems, problem = parse_result_file(name, data, source=source)
    if problem is not None:
        return 0, None, [], problem
    accepted, problems = check_results(rows, source=source, known=known, as_of=as_of)
    problems = cap_exceptions(sorted(read_problems + problems, key=lambda p: p["row_number"] if p["row_number"] is not None else 0), source=source)
    return len(rows) + len(read_problems), accepted, problems, None


def _collect_file(ledger, drops, drop, entry, name, data, sha, source, known, as_of, out: CollectResult, run_id, refuse: _Refusal) -> None:
    from transforms.cohandling.result_files import receipt_csv, receipt_name

    day = as_of.strftime("%Y-%m-%d")
    if ledger.cohandling.result_file_seen(source, sha):  # processed before (uploaded again, or moved back): never twice
        drops.archive(drop, entry.raw, f"{day}/already-processed")
        ledger.cohandling.forget_inbox_file(source, refuse.name_key)
        refuse.marker_away(f"{day}/already-processed")
        return
    rows, accepted, problems, problem = check_result_file(name, data, source=source, known=known, as_of=as_of)
    if problem is not None:
        refuse.whole(problem, data=data, sha=sha)
        return
    # Every file read gets its receipt, told before it is recorded: a receipt lost to a crash after the ledger's commit could not be
    # written again (after a crash before it, the file is read again and the same receipt — same name, same bytes — is kept).
    _tell(drops, drop, receipt_name(name, sha), receipt_csv(shown_name=name, sha256=sha, size=len(data), accepted=len(accepted),
                                                            refused=problems, whole_file=False))
    ledger.cohandling.save_results(source=source, accepted=accepted, problems=problems, now=utcnow(), run_id=run_id,
                        file={"name": name, "sha256": sha, "size": len(data), "rows": rows})
    drops.archive(drop, entry.raw, day)
    ledger.cohandling.forget_inbox_file(source, refuse.name_key)
    refuse.marker_away(day)
    out.files += 1
    out.results += len(accepted)
    out.exceptions += len(problems)


def _empty():
    import pandas as pd

    from transforms.cohandling.result_files import ACCEPTED_COLUMNS

    return pd.DataFrame(columns=list(ACCEPTED_COLUMNS))


NOTIFY_PAGE = 50_000  # final outcomes turned into SMS at a time


def queue_notifications(ledger: Ledger, *, page: int = NOTIFY_PAGE) -> int:
    """An SMS for the buyer when a work order reaches a final state (sending is another system's job), a page at a time."""
    from transforms.cohandling.notify import notification_texts

    queued, after = 0, None
    while len(candidates := ledger.cohandling.notification_candidates(after=after, page=page)):
        queued += ledger.cohandling.queue_sms(notification_texts(candidates), now=utcnow())
        last = candidates.iloc[-1]
        after = (last["rowguid"], last["utility"], int(last["version"]))
        if len(candidates) < page:
            break
    return queued


RECONCILE_PART = 50_000  # work orders reconciled at a time (100,000 records: 613 MB peak against 1,127 MB with 200,000): memory stays a part's (plus the statuses), whatever the ledger's size


def reconcile_now(ledger: Ledger, *, as_of: datetime, deadlines: dict | None = None):
    """Every work order's status as of `as_of` (local time), as the ledger knew it then (module docstring), for reports.

    Read and reconciled a part at a time (`reconciliation_input_parts`); each part's repeated texts (institution, county,
    status, the record's fields shared by its work orders…) are made one object each before the parts are joined, so a
    year's millions of work orders fit the worker (issue 18)."""
    from datetime import timedelta

    from jobs.common import reference
    from transforms.cohandling.reconcile import joined_parts, reconcile, shared_texts
    from transforms.reporting.provenance import known_by

    divisions, provisional, parts = reference.divisions(), set(), []
    reading = ledger.cohandling.reconciliation_input_parts(known_by(as_of), rows=RECONCILE_PART)
    try:
        for orders in reading:
            first = (orders["delivered_at"].min() if len(orders) and orders["delivered_at"].notna().any() else as_of).date() - timedelta(days=7)
            calendar = reference.workday_calendar(first, as_of.date() + timedelta(days=120))
            provisional |= set(calendar.provisional_years)
            parts.append(shared_texts(reconcile(orders, as_of=as_of, calendar=calendar, divisions=divisions, deadlines=deadlines)))
            del orders
    finally:
        if hasattr(reading, "close"):
            reading.close()  # an error part-way gives the connection (and its read transaction) back at once
    if provisional:
        log.warning("no holiday arrangement for %s (chinese-calendar nor reference/calendar/): due dates there are provisional (Mon–Fri)",
                    sorted(provisional))
    return joined_parts(parts)


def record_balance(ledger: Ledger, known_by: datetime | None = None) -> dict:
    """Records received = quarantined (as a whole) + work-ordered (+ withdrawn): asserted. Now, or as the ledger knew them at `known_by` (UTC)."""
    if known_by is None:
        states, ordered = ledger.record_state_counts(), ledger.records_with_work_orders()
    else:
        states, ordered = ledger.cohandling.record_counts_at(known_by)
    received = sum(states.values())
    quarantined = states.get("quarantined", 0)
    withdrawn = states.get("withdrawn", 0)
    valid = states.get("passed", 0) + states.get("partial", 0)
    balance = {"received": received, "quarantined": quarantined, "withdrawn": withdrawn, "work_ordered": valid, "records_with_work_orders": ordered}
    assert received == quarantined + valid + withdrawn, balance
    return balance


def period_orders(statuses, *, first, last):
    """The work orders a period's report covers: those delivered in [first, last], those not delivered yet, and those
    delivered before `first` that are still open (delivered, acknowledged, overdue) — the 汇总 note says so
    ("期间前推送、仍未办结的也列入"), and the overdue list (公示) must not lose an order for having been sent early.
    Orders delivered before the period and settled (done, rejected, cancelled…) belong to their own period."""
    import pandas as pd

    from transforms.reporting.cohandling_tables import OPEN

    # Timestamps against the period's bounds, not `.dt.date` against dates: with nothing delivered yet the
    # column is all NaT and `.dt.date` stays datetime64, which cannot be compared with a date (issue 19).
    delivered = pd.to_datetime(statuses["delivered_at"])
    end = pd.Timestamp(last) + pd.Timedelta(days=1)
    in_period = (delivered >= pd.Timestamp(first)) & (delivered < end)
    still_open = (delivered < pd.Timestamp(first)) & statuses["status"].isin(list(OPEN))
    keep = delivered.isna() | in_period | still_open
    return statuses[keep.to_numpy()].reset_index(drop=True)


def write_period_report(ledger: Ledger, *, first, last, as_of: datetime, out_dir, deadlines: dict | None = None) -> dict:
    """The reconciliation report for work orders delivered in [first, last], those delivered before and still open, and
    everything not delivered yet (`period_orders`), as of `as_of`
    (local), as the ledger knew it then; says what it was computed from (meta["provenance"], the page's footer, the 说明 sheet)."""
    import json
    from datetime import timedelta

    from jobs.cohandling.publish_report import write_reports
    from transforms.cohandling.quarantine import quarantine_list
    from transforms.cohandling.reconcile import daily_counts
    from transforms.reporting.cohandling_html import render_html
    from transforms.reporting.cohandling_tables import PRINT_LAYOUTS, report_tables
    from transforms.reporting.provenance import fingerprint, known_by, provenance_json, provenance_table

    generated_at, cutoff = utcnow(), known_by(as_of)
    statuses = reconcile_now(ledger, as_of=as_of, deadlines=deadlines)
    statuses = period_orders(statuses, first=first, last=last)
    exceptions = ledger.cohandling.result_exceptions(since=datetime(first.year, first.month, first.day) - timedelta(hours=8), known_by=cutoff)
    quarantine = quarantine_list(ledger.quarantine(known_by=cutoff))
    daily = daily_counts(statuses, first=first, last=last)
    tables = report_tables(statuses, exceptions, quarantine, daily, period=(first, last), as_of=as_of)
    provenance = {"as_of": as_of, "known_by_utc": cutoff, "generated_at": generated_at + timedelta(hours=8),
                  **ledger.cohandling.report_provenance(cutoff), "fingerprint": fingerprint(tables)}
    page = render_html(tables, statuses, daily, period=(first, last), as_of=as_of, provenance=provenance)
    paths = write_reports(tables, page, out_dir=out_dir, notes=provenance_table(provenance), layouts=PRINT_LAYOUTS)
    counts = statuses["status"].value_counts().to_dict()
    meta = {"period": [str(first), str(last)], "as_of": as_of.isoformat(sep=" "), "statuses": {k: int(v) for k, v in counts.items()},
            "records": record_balance(ledger, cutoff), "exceptions": len(exceptions), "files": paths, "provenance": provenance_json(provenance)}
    with open(f"{out_dir}/report.json", "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=2)
    return meta
