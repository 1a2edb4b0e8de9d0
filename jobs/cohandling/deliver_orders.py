"""Delivering work orders, exactly once in effect, on three channels:

- account mode → a batch per institution (and file format) published atomically into its
  SFTP drop (connectors/sftp_drop.py), files rendered by transforms/cohandling/batchfiles.py,
  numbered 1, 2, 3, … per institution (name and manifest) so a missing batch shows;
- system mode → the county system's endpoint; electricity → the grid's marketing API; both
  over the HTTP protocol in docs/protocol/ (connectors/http_receiver.py).

The channels are those of connectors/delivery.py: `drops` a `Drop`, `receiver_for(channel,
destination)` a `Channel`; in the DAG both come from `connectors.channels.Channels` (Airflow
Connections), in unit tests from connectors/testing.py.

Why a retry never duplicates: deliveries are planned in the ledger *before* anything is
sent — an account batch's contents and name are fixed then, so a retry publishes the same
files under the same names and finds them already there (size + SHA-256) if the earlier
attempt got through; an HTTP item carries the idempotency key of its work-order version
(`<ROWGUID>:<utility>:<version>`), which the receiver answers with "duplicate" and the
original receipt. Each outcome is recorded as soon as it is known. What could not be sent
stays pending and goes with the next run; nothing is dropped.

A work order a receiver holds that is no longer wanted (the platform withdrew the record, a
correction dropped the utility or sends it to another receiver) is cancelled there the same
way, after the run's deliveries: planned in the ledger (`work_order_cancel`, key
`<work-order key>:cancel`), then a cancellation batch in the institution's drop or a cancel
call to the county system / the grid, once in effect.

Work left pending too long fails the task, after everything was tried (`stuck_after`, in the DAG
$GATEWAY_DELIVER_PENDING_HOURS, default 24: jobs/common/settings.py): one unreachable receiver never stops
the others, but when work orders (or cancellations) stay unconfirmed by their receiver longer than that —
an account batch not in the drop, a county system or the grid that has not answered 0000 / 0201 —
`DeliveryOverdue` names each receiver (channel, drop or endpoint, institution), its count, since when, and
this run's error for it; the task goes red and `jobs/common/alerts.on_failure` logs and audits it.

Overlapping runs (jobs/common/stage_clock.py): delivery holds the ledger lock `cohandling.deliver`
(planning, publishing and recording are one stage: two runs never plan or publish the same
batch at once), and its `day` (batch names) is never before the `cohandling` clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from connectors.delivery import Channel, Drop
from connectors.ledger import Ledger, utcnow
from jobs.common.outcomes import deliver_line

log = logging.getLogger(__name__)


@dataclass
class DeliverResult:
    run_id: str
    planned: int = 0
    account_batches: int = 0
    account_delivered: int = 0  # batches
    account_pending: int = 0
    account_failed: int = 0
    http_delivered: int = 0  # work orders
    http_rejected: int = 0
    http_pending: int = 0
    cancels_planned: int = 0  # cancellations of work orders a receiver holds (withdrawn, dropped, sent elsewhere)
    cancel_batches: int = 0  # account-mode cancellation batches planned
    cancels_sent: int = 0  # confirmed: published in a cancellation batch, or answered cancelled by the receiver
    cancels_refused: int = 0  # the receiver had already handled it (0409)
    cancels_pending: int = 0  # not yet confirmed: sent again next run
    errors: list[str] = field(default_factory=list)
    stuck: list[dict] = field(default_factory=list)  # receivers with work pending past the age (kind, channel, destination, units, oldest)

    def as_dict(self) -> dict:
        return asdict(self)


class DeliveryOverdue(RuntimeError):
    """Deliver did all it could, and work stayed unconfirmed by its receivers past the age: the message names them."""

    def __init__(self, message: str, result: DeliverResult) -> None:
        super().__init__(message)
        self.result = result


def deliver_run(ledger: Ledger, *, run_id: str, day: datetime, drops: Drop | None = None, receiver_for: Callable[[str, str], Channel] | None = None,
                after_send: Callable[[str], None] | None = None, stuck_after: timedelta | None = None, now: datetime | None = None) -> DeliverResult:
    """Plan, then send every open account batch (through `drops`) and every pending HTTP item (through `receiver_for(channel, destination)`).

    `after_send(label)` is called after something was sent and before it is recorded
    (tests kill the task there to prove a retry does not duplicate). With `stuck_after`, once everything was tried,
    raises `DeliveryOverdue` when work has stayed unconfirmed longer than that at `now` (UTC; default the clock).
    """
    from jobs.common.settings import lock_wait_s
    from jobs.common.stage_clock import run_as_of

    with ledger.stage_lock("cohandling.deliver", run_id=run_id, wait_s=lock_wait_s()):
        day = run_as_of(ledger, "cohandling", day, run_id=run_id, stage="deliver")
        result = _deliver_run(ledger, run_id=run_id, day=day, drops=drops, receiver_for=receiver_for, after_send=after_send)
    if stuck_after is not None:
        now = now or utcnow()
        result.stuck = ledger.cohandling.stuck_deliveries(now - stuck_after)
        if result.stuck:
            message = overdue_text(result, stuck_after=stuck_after, now=now)
            log.error("%s", message)
            raise DeliveryOverdue(message, result)
    return result


def overdue_text(result: DeliverResult, *, stuck_after: timedelta, now: datetime) -> str:
    """One message naming every receiver with work pending past the age: channel, receiver, institution, count, since when
    (UTC) and how long, and this run's first error for it."""
    what = {"work_order": "工单 work orders", "cancel": "撤销 cancellations"}
    hours = stuck_after.total_seconds() / 3600
    units = sum(int(s["units"]) for s in result.stuck)
    lines = []
    for s in result.stuck:
        name = f" {s['institution_code']} {s['institution_name'] or ''}".rstrip() if s["channel"] == "account" and s["institution_code"] else ""
        oldest = s["oldest"]
        age = (now - oldest).total_seconds() / 3600 if oldest is not None else float("nan")
        error = next((e for e in result.errors if s["destination"] in e), None)
        lines.append(f"{s['channel']} {s['destination']}{name}: {int(s['units'])} {what.get(s['kind'], s['kind'])} pending since "
                     f"{oldest:%Y-%m-%d %H:%M} UTC ({age:.0f} h)" + (f" — {error}" if error else ""))
    receivers = len({(s["channel"], s["destination"]) for s in result.stuck})
    return (f"投递超时未完成 / deliveries unconfirmed longer than {hours:g} h: {units} at {receivers} receivers "
            f"(run {result.run_id}; everything else was sent): " + "; ".join(lines))


def render_batch(ledger: Ledger, batch: dict) -> list | None:
    """An account-mode batch's files (manifest last) from its planned contents, name, number and creation time — the
    same bytes at every render (a retry, a replay); None: an unnumbered (old) batch whose work orders were all replaced."""
    from transforms.cohandling.batchfiles import batch_files, batch_sequence

    orders = ledger.cohandling.batch_orders(batch["batch_id"])
    sequence = batch_sequence(batch)
    if orders.num_rows == 0 and sequence is None:  # nothing to say
        return None
    # A numbered batch goes out even if every work order in it was replaced before it left (then empty):
    # the institution's numbers have no gap.
    return signed(batch_files(orders, base_name=batch["name"], file_format=batch["file_format"] or "csv", run_id=batch["run_id"],
                              batch_id=batch["batch_id"], institution=batch["destination"], sequence=sequence, created=batch["created_at"]))


def signed(files: list) -> list:
    """A batch's files with the gateway's detached signature of its manifest beside it (`<manifest>.sig`, just before
    the manifest, which stays last): transforms/common/signing.py; the key from its secret (jobs/common/signing_key.py)."""
    from jobs.common.signing_key import gateway_signing_key
    from transforms.common.signing import with_signature

    return with_signature(files, gateway_signing_key())


def http_items(items: list[dict]) -> list[dict]:
    """The protocol items of work-order versions (ledger rows with their Annex 1 fields): key `<ROWGUID>:<utility>:<version>`."""
    from connectors.http_receiver import make_item

    return [make_item(rowguid=i["rowguid"], utility=i["utility"], version=int(i["version"]), correction=bool(i["correction"]),
                      record={k: v for k, v in i.items() if k.isupper()}) for i in items]


def _deliver_run(ledger: Ledger, *, run_id: str, day: datetime, drops, receiver_for, after_send) -> DeliverResult:
    result = DeliverResult(run_id)
    plan = ledger.cohandling.plan_deliveries(run_id=run_id, day=day, now=utcnow())
    result.planned, result.account_batches = plan["planned"], plan["account_batches"]

    batches = ledger.cohandling.open_account_batches()
    if batches and drops is None:
        result.errors.append(f"{len(batches)} account-mode batches wait: no SFTP drop connection configured")
    elif batches:
        def render(batch):
            return render_batch(ledger, batch)

        def record(batch_id, done, **kw):
            ledger.cohandling.record_batch(batch_id, run_id=run_id, delivered=done, now=utcnow(), **kw)

        for batch, error, permanent in _publish(drops, batches, render=render, fix_hash=ledger.cohandling.fix_batch_hash, record=record,
                                                label="account", after_send=after_send):
            if error is None:
                result.account_delivered += 1
                continue
            result.account_failed += permanent
            result.account_pending += not permanent
            result.errors.append(f"{batch['name']} → {batch['destination']}: {error}")

    _deliver_http(ledger, result, run_id=run_id, receiver_for=receiver_for, after_send=after_send)
    _cancel(ledger, result, run_id=run_id, day=day, drops=drops, receiver_for=receiver_for, after_send=after_send)
    log.info("%s", deliver_line(result.as_dict()))
    return result


def _publish(drops, batches: list[dict], *, render, fix_hash, record, label: str, after_send) -> list[tuple[dict, str | None, bool]]:
    """Publish account-mode batches (work orders or cancellations) into their drops, each outcome recorded as soon as known.

    `render(batch)` gives its files (None: nothing left to send); `fix_hash(batch_id, sha256)` fixes the manifest hash at the
    first render and returns the one fixed, so a batch whose contents changed since it was planned is never published under its
    name (failed for good); `record(batch_id, done, error=, receipt=, permanent=)` writes the attempt. Returns (batch, error,
    permanent) for every batch tried: error None when published.
    """
    from connectors.sftp_drop import DropJob

    jobs, by_name, outcomes = [], {}, []
    for batch in batches:
        files = render(batch)
        if files is None:
            continue
        fixed = fix_hash(batch["batch_id"], files[-1].sha256)
        if fixed != files[-1].sha256:  # the ledger changed under a planned batch: never publish something else under its name
            error = f"batch contents changed since planned (manifest {files[-1].sha256} != {fixed})"
            record(batch["batch_id"], False, permanent=True, error=error, receipt=None)
            outcomes.append((batch, error, True))
            continue
        job = DropJob(batch["destination"], batch["name"], files)
        jobs.append(job)
        by_name[(job.drop, job.batch)] = batch

    def on_result(outcome) -> None:
        batch = by_name[(outcome.job.drop, outcome.job.batch)]
        if outcome.publication is not None:
            if after_send is not None:
                after_send(f"{label}:{batch['name']}")
            receipt = {"path": outcome.publication.path, "already_there": outcome.publication.skipped,
                       "files": {f.name: f.sha256 for f in outcome.job.files}}
            record(batch["batch_id"], True, error=None, receipt=receipt)
            outcomes.append((batch, None, False))
        else:
            permanent = (outcome.error or "").startswith("DropConflict")
            record(batch["batch_id"], False, permanent=permanent, error=outcome.error, receipt=None)
            outcomes.append((batch, outcome.error, permanent))

    drops.publish_all(jobs, on_result=on_result)
    return outcomes


HTTP_PAGE = 20_000  # work orders read, sent and recorded at a time per receiver: a backlog of a million stays a page in memory


def _deliver_http(ledger: Ledger, result: DeliverResult, *, run_id: str, receiver_for, after_send) -> None:
    receivers = ledger.cohandling.pending_http_receivers()
    if receivers and receiver_for is None:
        waiting = sum(int(r["n"]) for r in receivers)
        result.errors.append(f"{waiting} HTTP work orders wait: no receiver configured")
        result.http_pending += waiting
        return
    _receiver_pages(receivers, ledger.cohandling.pending_http_page, batch_name=lambda destination: f"{run_id}:{destination}",
                    send=lambda items, **kw: _deliver_page(ledger, result, items, run_id=run_id, receiver_for=receiver_for,
                                                           after_send=after_send, **kw))


def _receiver_pages(receivers: list[dict], read, *, batch_name, send) -> None:
    """Receiver by receiver (`receivers`: channel, destination, n pending), its backlog a page of HTTP_PAGE at a time in
    work-order key order: `read(channel, destination, after=, limit=)` gives a page, `send(items, channel=, destination=,
    batch_id=, left=)` sends and records it — False when the receiver cannot go on (it counted the rest pending: its next
    pages wait for the next run). Page 1 goes as `batch_name(destination)`, the later ones with `:2`, `:3`, …."""
    for r in receivers:
        channel, destination, left = r["channel"], r["destination"], int(r["n"])
        after, page = None, 0
        while items := read(channel, destination, after=after, limit=HTTP_PAGE):
            page += 1
            if not send(items, channel=channel, destination=destination, batch_id=batch_name(destination) + (f":{page}" if page > 1 else ""),
                        left=left):
                break
            left -= len(items)
            after = (items[-1]["rowguid"], items[-1]["utility"], int(items[-1]["version"]))


def _deliver_page(ledger: Ledger, result: DeliverResult, items: list[dict], *, channel: str, destination: str, run_id: str, receiver_for,
                  after_send, batch_id: str, left: int) -> bool:
    """One page of a receiver's pending work orders sent and every answer recorded; False when the receiver could not be
    reached or halted part-way (what it has pending from this page on, `left`, counted pending: its next pages wait)."""
    payload = http_items(items)
    try:
        receiver = receiver_for(channel, destination)
        outcomes = receiver.deliver(payload, batch_id=batch_id)
    except Exception as exc:  # noqa: BLE001 - a receiver we cannot even reach: everything stays pending
        log.warning("deliver %s %s: %s", channel, destination, exc)
        result.errors.append(f"{channel} {destination}: {type(exc).__name__}: {exc}")
        result.http_pending += max(left, len(items))
        return False
    if after_send is not None:
        after_send(f"{channel}:{destination}")
    rows = [
        {"rowguid": i["rowguid"], "utility": i["utility"], "version": int(i["version"]), "status": o.status, "receipt_id": o.receipt_id,
         "code": o.code, "reason": o.reason, "attempts": o.attempts}
        for i, o in zip(items, outcomes)
    ]
    ledger.cohandling.record_http(rows, run_id=run_id, destination=destination, channel=channel, batch_name=batch_id, now=utcnow())
    for o in outcomes:
        result.http_delivered += o.status == "delivered"
        result.http_rejected += o.status == "rejected"
        result.http_pending += o.status == "pending"
    waiting = [o for o in outcomes if o.status == "pending"]
    if waiting:
        result.errors.append(f"{channel} {destination}: {len(waiting)} pending: {waiting[0].reason}")
    if outcomes and outcomes[-1].status == "pending" and not outcomes[-1].attempts:  # the receiver halted part-way (signed_http):
        result.http_pending += left - len(items)  # the rest of its backlog waits for the next run, not tried page by page
        return False
    return True


def _cancel(ledger: Ledger, result: DeliverResult, *, run_id: str, day: datetime, drops, receiver_for, after_send) -> None:
    """Tell each receiver about the work orders it holds that are no longer wanted: planned first (after this run's
    deliveries went out, so a batch published just now is covered), then account-mode cancellation batches (same
    publication as work-order batches) and HTTP cancel calls (keyed `<work-order key>:cancel`)."""
    from transforms.cohandling.batchfiles import batch_sequence, cancel_files

    plan = ledger.cohandling.plan_cancellations(run_id=run_id, day=day, now=utcnow())
    result.cancels_planned, result.cancel_batches = plan["planned"], plan["cancel_batches"]

    batches = ledger.cohandling.open_cancel_batches()
    if batches and drops is None:
        result.errors.append(f"{len(batches)} cancellation batches wait: no SFTP drop connection configured")
        result.cancels_pending += sum(b["records"] for b in batches)
    elif batches:
        def render(batch):
            return signed(cancel_files(ledger.cohandling.cancel_batch_items(batch["batch_id"]), base_name=batch["name"],
                                       file_format=batch["file_format"], run_id=batch["run_id"], batch_id=batch["batch_id"],
                                       institution=batch["destination"], sequence=batch_sequence(batch), created=batch["created_at"]))

        def record(batch_id, done, **kw):
            ledger.cohandling.record_cancel_batch(batch_id, run_id=run_id, published=done, now=utcnow(), **kw)

        for batch, error, permanent in _publish(drops, batches, render=render, fix_hash=ledger.cohandling.fix_cancel_batch_hash, record=record,
                                                label="cancel", after_send=after_send):
            if error is None:
                result.cancels_sent += batch["records"]
                continue
            result.cancels_refused += batch["records"] if permanent else 0
            result.cancels_pending += 0 if permanent else batch["records"]
            result.errors.append(f"{batch['name']} → {batch['destination']}: {error}")

    receivers = ledger.cohandling.pending_http_cancel_receivers()
    if receivers and receiver_for is None:
        waiting = sum(int(r["n"]) for r in receivers)
        result.errors.append(f"{waiting} HTTP cancellations wait: no receiver configured")
        result.cancels_pending += waiting
        return
    _receiver_pages(receivers, ledger.cohandling.pending_http_cancels_page, batch_name=lambda destination: f"{run_id}:cancel:{destination}"[:120],
                    send=lambda items, **kw: _cancel_page(ledger, result, items, run_id=run_id, receiver_for=receiver_for,
                                                          after_send=after_send, **kw))


def _cancel_page(ledger: Ledger, result: DeliverResult, items: list[dict], *, channel: str, destination: str, run_id: str, receiver_for,
                 after_send, batch_id: str, left: int) -> bool:
    """One page of a receiver's HTTP cancellations sent and every answer recorded; False when the receiver could not be
    reached (what it has pending from this page on, `left`, counted pending: its next pages wait)."""
    payload = [{"idempotency_key": i["idempotency_key"], "rowguid": i["rowguid"], "utility": i["utility"], "version": int(i["version"]),
                "reason_code": i["reason_code"], "reason": i["reason"]} for i in items]
    try:
        outcomes = receiver_for(channel, destination).cancel(payload, batch_id=batch_id)
    except Exception as exc:  # noqa: BLE001 - a receiver we cannot reach: the cancellations stay pending
        log.warning("cancel %s %s: %s", channel, destination, exc)
        result.errors.append(f"{channel} {destination}: cancellations: {type(exc).__name__}: {exc}")
        result.cancels_pending += max(left, len(items))
        return False
    if after_send is not None:
        after_send(f"cancel:{channel}:{destination}")
    counts = ledger.cohandling.record_http_cancels([{"idempotency_key": o.idempotency_key, "status": o.status, "code": o.code, "reason": o.reason,
                                                     "receipt_id": o.receipt_id, "attempts": o.attempts} for o in outcomes],
                                                   run_id=run_id, destination=destination, now=utcnow())
    result.cancels_sent += counts["cancelled"]
    result.cancels_refused += counts["refused"]
    result.cancels_pending += counts["pending"]
    waiting = [o for o in outcomes if o.status == "pending"]
    if waiting:  # one line per receiver and page, not one per cancellation: the ledger keeps each one's reason
        result.errors.append(f"{channel} {destination}: {len(waiting)} cancellations pending: {waiting[0].idempotency_key}: {waiting[0].reason}")
    return True
