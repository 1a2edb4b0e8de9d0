"""Replay (重发): an operator sends again, on purpose and with a reason, something the gateway delivered —
an account-mode batch, a work order, a remote-collection package — with the same idempotency keys.

- `replay_batch`: the batch re-rendered from its planned contents (jobs/cohandling/deliver_orders.py
  `render_batch`): same name, same sequence number, same manifest — checked against the manifest hash
  fixed at its first render, so nothing else is ever published under its name — and published the way
  deliver publishes (staged under a temporary name, then renamed into the outbox). A batch still in the
  institution's outbox is said to be there and left alone; `force` replaces it (staged, then swapped).
- `replay_order`: the delivered work-order versions of a ROWGUID (one per utility, the newest delivered,
  or the `utility` / `version` asked for) pushed to their county system or the grid over the same
  HTTP protocol, key `<ROWGUID>:<utility>:<version>`: a receiver that holds it answers 0201 (duplicate,
  its original receipt) and keeps one copy; one that lost it accepts it again (0000).
- `replay_package`: the delivered version of a BWID sent to its county registration system or the
  cross-province receiver, key `<BWID>:<change_seq>` (jobs/remote/deliver_packages.py `prepare_package`):
  with the file store (`source`) each file is read again, checked against the SHA-256 validation saw
  and uploaded (content-addressed: a receiver holding it keeps one); without, the package is sent as it
  went (its files went before it).

Each replay holds the stage lock the normal deliver of its flow takes (`cohandling.deliver`,
`remote.deliver`), so it never runs beside one. What was never delivered is refused (`ReplayRefused`,
saying what to do instead); so is a replay without a reason. Each replay — and each refusal that reached
the ledger — is an audit row (actor `replay`; detail: operator, reason, what, the outcome and the
receiver's code and receipt). The ledger's statuses, receipts, delivery times and balances are left as the
first delivery made them: a replay adds only its attempt (attempts; an HTTP push's delivery batch).
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from datetime import datetime

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)


class ReplayRefused(ValueError):
    """Nothing was sent: the message says why, and what to do instead."""


def operator_name(given: str | None) -> str:
    """Who replays: `--operator`, else the OS user."""
    name = (given or "").strip()
    if name:
        return name[:64]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"


def _checked(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReplayRefused("a replay needs a reason (--reason \"…\"): it is kept in the audit log with who replayed what")
    return reason


def _run_id(kind: str, now: datetime) -> str:
    return f"replay__{kind}__{now:%Y%m%dT%H%M%S}"


def _refuse(ledger: Ledger, *, run_id: str, operator: str, reason: str, what: dict, message: str, object_type: str, object_id) -> None:
    ledger.audit(run_id=run_id, actor="replay", action="replay_refused", object_type=object_type, object_id=object_id,
                 detail={"operator": operator, "reason": reason, **what, "refused": message})
    raise ReplayRefused(message)


# --- account-mode batches ----------------------------------------------------------------------------


def replay_batch(ledger: Ledger, ref: str, *, drops, reason: str | None, operator: str | None = None, force: bool = False,
                 dry_run: bool = False, now: datetime | None = None) -> dict:
    """Publish a delivered account-mode batch (`ref`: its name, e.g. XB20261120_000003, or its id) into its drop again."""
    from connectors.sftp_drop import DropJob
    from jobs.cohandling.deliver_orders import render_batch
    from jobs.common.settings import lock_wait_s

    reason, operator, now = _checked(reason), operator_name(operator), now or utcnow()
    run_id = _run_id("batch", now)
    with ledger.stage_lock("cohandling.deliver", run_id=run_id, wait_s=lock_wait_s()):
        found = [b for b in ledger.cohandling.delivery_batches_named(ref) if b["channel"] == "account"]
        what = {"kind": "batch", "batch": ref}
        if not found:
            pushes = ledger.cohandling.delivery_batches_named(ref)
            hint = ("it is an HTTP push, not a file batch: replay its work orders with `replay order <ROWGUID>`" if pushes else
                    "a cancellation batch (XBCX…) is not replayed: its cancellations stand in the ledger" if ref.strip().upper().startswith("XBCX") else
                    "no account-mode batch has that name or id (names look like XB20261120_000003: see the drop's outbox or the trace)")
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, message=f"batch {ref!r}: {hint}",
                    object_type="delivery_batch", object_id=ref)
        batch = found[0]
        if batch["status"] != "delivered":
            hint = {"failed": "it failed for good (its contents changed after planning): the errors are in the deliver run's log",
                    }.get(batch["status"], "it was never published: the next deliver run publishes it (trigger the co-handling DAG)")
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what,
                    message=f"batch {batch['name']} is {batch['status']}, never delivered: {hint}", object_type="delivery_batch", object_id=batch["batch_id"])
        purged = ledger.purged_rowguids(sorted(set(ledger.cohandling.batch_orders(batch["batch_id"]).column("rowguid").to_pylist())))
        if purged:
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="delivery_batch", object_id=batch["batch_id"],
                    message=f"batch {batch['name']}: {_purged_hint(purged)}")
        if drops is None:
            raise ReplayRefused("no SFTP drop connection (gateway_sftp): nothing can be published")
        files = render_batch(ledger, batch)
        if not files or files[-1].sha256 != batch["sha256"]:
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="delivery_batch", object_id=batch["batch_id"],
                    message=f"batch {batch['name']}: its files can no longer be rendered byte for byte as published (manifest "
                            f"{files[-1].sha256 if files else 'none'} != {batch['sha256']}): not replayed")
        summary = {"kind": "batch", "batch": batch["name"], "batch_id": batch["batch_id"], "drop": batch["destination"], "seq": batch["seq"],
                   "records": batch["records"], "manifest_sha256": batch["sha256"], "files": [f.name for f in files],
                   "operator": operator, "reason": reason}
        in_drop = batch["name"] in drops.list_outbox(batch["destination"])
        summary["still_in_drop"] = in_drop
        if dry_run:
            return summary | {"outcome": "dry_run", "would": "replace it" if in_drop and force else "leave it (still in the drop)" if in_drop else "publish it"}
        if in_drop and not force:
            summary["outcome"] = "still_in_drop"
            summary["note"] = "该批次仍在机构发件箱中，未重发(still in the drop: not published again; --force replaces it)"
            ledger.cohandling.record_replay(run_id=run_id, operator=operator, action="batch_replayed", object_type="delivery_batch",
                                            object_id=batch["batch_id"], detail=_detail(summary), now=utcnow())
            return summary
        [result] = drops.publish_all([DropJob(batch["destination"], batch["name"], files, replace=in_drop and force)])
        if result.publication is None:
            summary |= {"outcome": "failed", "error": result.error}
        else:
            summary |= {"outcome": "replaced" if in_drop else "published", "path": result.publication.path}
        ledger.cohandling.record_replay(run_id=run_id, operator=operator, action="batch_replayed", object_type="delivery_batch",
                                        object_id=batch["batch_id"], detail=_detail(summary),
                                        batch_id=batch["batch_id"] if result.publication is not None else None, now=utcnow())
    return summary


def _purged_hint(keys: set[str]) -> str:
    """Why a purged record or package is never sent again: its values are masked forms now, not what the receiver needs."""
    first = sorted(keys)[0]
    return (f"its personal data was purged past retention (保存期限已过，个人信息已删除; {len(keys)} record(s), e.g. {first}; docs/security.md "
            "\"Retention\"): only masked forms are left, which must never be sent as if they were the values — nothing was sent; the "
            "receiver's own copy is the full one")


def _detail(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "operator"}


# --- work orders (county systems, the grid) -------------------------------------------------------


def replay_order(ledger: Ledger, rowguid: str, *, receiver_for: Callable[[str, str], object], reason: str | None, operator: str | None = None,
                 utility: str | None = None, version: int | None = None, dry_run: bool = False, now: datetime | None = None) -> dict:
    """Push the delivered work-order versions of `rowguid` (system mode, electricity) to their receivers again, same keys."""
    from jobs.cohandling.deliver_orders import http_items
    from jobs.common.settings import lock_wait_s

    reason, operator, now = _checked(reason), operator_name(operator), now or utcnow()
    run_id = _run_id("order", now)
    what = {"kind": "order", "rowguid": rowguid, "utility": utility, "version": version}
    with ledger.stage_lock("cohandling.deliver", run_id=run_id, wait_s=lock_wait_s()):
        rows = [d for d in ledger.cohandling.record_deliveries(rowguid)
                if (utility is None or d["utility"] == utility) and (version is None or int(d["version"]) == version)]
        chosen = _orders_to_replay(rows)
        if not chosen:
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="work_order", object_id=rowguid,
                    message=f"work order {rowguid}" + (f" {utility}" if utility else "") + (f" v{version}" if version else "")
                            + f": nothing delivered over HTTP to replay — {_order_hint(rows)}")
        if ledger.purged_rowguids([rowguid]):
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="work_order", object_id=rowguid,
                    message=f"work order {rowguid}: {_purged_hint({rowguid})}")
        summary = {"kind": "order", "rowguid": rowguid, "operator": operator, "reason": reason,
                   "items": [{"key": f"{d['rowguid']}:{d['utility']}:{d['version']}", "channel": d["channel"], "destination": d["destination"]}
                             for d in chosen]}
        left = [d for d in rows if d["utility"] not in {c["utility"] for c in chosen}]
        if left:  # what of the record is not replayed here, and what to do for it
            summary["not_replayed"] = _order_hint(left)
        if dry_run:
            return summary | {"outcome": "dry_run"}
        by_receiver: dict[tuple[str, str], list[dict]] = {}
        for d in chosen:
            by_receiver.setdefault((d["channel"], d["destination"]), []).append(d)
        answers = []
        for (channel, destination), items in sorted(by_receiver.items()):
            name = f"{run_id}:{destination}"[:128]
            try:
                outcomes = receiver_for(channel, destination).deliver(http_items(items), batch_id=name)
            except Exception as exc:  # noqa: BLE001 - a receiver we cannot reach: said, audited, nothing changes
                outcomes, error = None, f"{type(exc).__name__}: {exc}"
            if outcomes is None:
                got = [{"key": f"{d['rowguid']}:{d['utility']}:{d['version']}", "destination": destination, "outcome": "pending", "error": error}
                       for d in items]
                http = None
            else:
                got = [{"key": o.idempotency_key, "destination": destination, "outcome": _outcome(o.status, o.code), "code": o.code,
                        "receipt_id": o.receipt_id, "reason": o.reason} for o in outcomes]
                http = {"channel": channel, "destination": destination, "name": name,
                        "items": [{"rowguid": d["rowguid"], "utility": d["utility"], "version": d["version"], "status": o.status,
                                   "attempts": o.attempts} for d, o in zip(items, outcomes)]}
            answers += got
            ledger.cohandling.record_replay(run_id=run_id, operator=operator, action="order_replayed", object_type="work_order", object_id=rowguid,
                                            detail={"reason": reason, "channel": channel, "destination": destination, "answers": got},
                                            http=http, now=utcnow())
    summary["answers"] = answers
    summary["outcome"] = _overall(answers)
    return summary


def _orders_to_replay(rows: list[dict]) -> list[dict]:
    """Per utility, the newest version delivered over HTTP and not cancelled at its receiver since."""
    newest: dict[str, dict] = {}
    for d in rows:
        if d["channel"] in ("system", "grid") and d["status"] == "delivered" and not int(d["cancelled_since"] or 0):
            if d["utility"] not in newest or int(d["version"]) > int(newest[d["utility"]]["version"]):
                newest[d["utility"]] = d
    return [newest[u] for u in sorted(newest)]


def _order_hint(rows: list[dict]) -> str:
    """What to do instead, from what the ledger holds of the record's deliveries."""
    if not rows:
        return "the ledger has no delivery of it (still routing, held, quarantined, or not a ROWGUID the platform sent: `trace` it)"
    hints = []
    for d in rows:
        key = f"{d['utility']} v{d['version']}"
        if d["channel"] == "account":
            hints.append(f"{key} goes by file in account mode: replay its batch (`replay batch {d['batch_name'] or '<batch no>'}`)")
        elif d["status"] == "pending":
            hints.append(f"{key} is still pending: the next deliver run sends it again with the same key (trigger the co-handling DAG)")
        elif d["status"] == "failed":
            hints.append(f"{key} was refused by its receiver ({d['receipt'] or 'see the trace'}): correct the record at the platform")
        elif d["status"] == "superseded":
            hints.append(f"{key} was replaced by a correction before it left")
        elif int(d["cancelled_since"] or 0):
            hints.append(f"{key} was cancelled at its receiver since: replaying it would bring back a cancelled work order")
    return "; ".join(hints) or "nothing delivered"


def _outcome(status: str, code: str | None) -> str:
    if status == "delivered":
        return "duplicate" if code == "0201" else "accepted"
    return status  # rejected | pending


def _overall(answers: list[dict]) -> str:
    kinds = {a["outcome"] for a in answers}
    return kinds.pop() if len(kinds) == 1 else "mixed"


# --- remote-collection packages --------------------------------------------------------------------


def replay_package(ledger: Ledger, bwid: str, *, receiver_for: Callable[[str], object], reason: str | None, operator: str | None = None,
                   source=None, dry_run: bool = False, now: datetime | None = None) -> dict:
    """Send the delivered version of package `bwid` to its authority again, same key `<BWID>:<change_seq>`."""
    from connectors.delivery import CROSS_PROVINCE_CONN_ID
    from jobs.common.settings import REMOTE_WAIT_S, lock_wait_s
    from jobs.remote.deliver_packages import prepare_package

    reason, operator, now = _checked(reason), operator_name(operator), now or utcnow()
    run_id = _run_id("package", now)
    what = {"kind": "package", "bwid": bwid}
    with ledger.stage_lock("remote.deliver", run_id=run_id, wait_s=lock_wait_s(REMOTE_WAIT_S)):
        rows = ledger.remote.bwid_deliveries(bwid)
        delivered = [d for d in rows if d["status"] == "delivered" and d["withdrawal"] is None]
        if not delivered:
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="remote_delivery", object_id=bwid,
                    message=f"package {bwid}: no delivered version to replay — {_package_hint(rows)}")
        if ledger.purged_bwids([bwid]):
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="remote_delivery", object_id=bwid,
                    message=f"package {bwid}: {_purged_hint({bwid})}")
        d = delivered[-1]
        summary = {"kind": "package", "bwid": bwid, "key": d["idempotency_key"], "destination": d["destination"], "operator": operator,
                   "reason": reason, "files": len(d["materials"]), "files_checked": source is not None}
        if dry_run:
            return summary | {"outcome": "dry_run"}
        counts, attempts = {"files_uploaded": 0}, 0
        try:
            receiver = receiver_for(d["destination"])
            # With the file store every file is read, checked and uploaded again (a receiver that lost the package lost its
            # files); without, the package goes as it went.
            item, problem = prepare_package(d | {"first_sent_at": None if source is not None else d["first_sent_at"]}, source, receiver, set(),
                                            counts, cross_province=d["destination"] == CROSS_PROVINCE_CONN_ID)
            if problem is None:
                [o] = receiver.deliver([item], batch_id=f"{run_id}:{d['destination']}"[:120])
                attempts = o.attempts
                summary |= {"outcome": _outcome(o.status, o.code), "code": o.code, "receipt_id": o.receipt_id, "answer": o.reason}
        except Exception as exc:  # noqa: BLE001 - a receiver we cannot reach (or that refuses a file): said, audited, nothing changes
            problem = None
            summary |= {"outcome": "pending", "error": f"{type(exc).__name__}: {exc}"}
        if problem is not None:
            _refuse(ledger, run_id=run_id, operator=operator, reason=reason, what=what, object_type="remote_delivery", object_id=d["idempotency_key"],
                    message=f"package {bwid}: {problem}")
        summary["files_uploaded"] = counts["files_uploaded"]
        ledger.remote.record_remote_replay(run_id=run_id, operator=operator, idempotency_key=d["idempotency_key"], attempts=attempts,
                                           detail=_detail(summary), now=utcnow())
    return summary


def _package_hint(rows: list[dict]) -> str:
    if not rows:
        return "the ledger has no delivery of it (not passed validation, or not a BWID the hall sent: `trace` it)"
    last = rows[-1]
    if last["withdrawal"] is not None:
        return f"version {last['change_seq']} was withdrawn from {last['destination']}: replaying it would bring back a withdrawn package"
    return {"pending": "it is still pending: the next remote deliver run sends it again with the same key (trigger the remote DAG)",
            "rejected": f"the receiver refused it ({last['code'] or ''} {last['reason'] or ''}): the hall corrects it and sends a new version",
            "failed": f"it could not be sent ({last['reason'] or ''}): the hall corrects it",
            "superseded": "a newer version replaced it before it left",
            "withdrawn": "the hall withdrew it before it left"}.get(last["status"], f"its status is {last['status']}")
