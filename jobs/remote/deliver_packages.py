"""Remote collection (异地代收): passed package versions to the property's authority, exactly once in effect.

`deliver_packages`: plan (ledger first: one delivery per passed version in force, key
`{BWID}:{change_seq}`), then per destination read every file from the module's file store
and hash it again — a file that changed or vanished since validation is not sent (the
version fails back to its hall) — upload the files (content-addressed, idempotent), send
the packages, record each outcome. A retry re-sends the same keys: the authority answers
"duplicate" with the original receipt. What could not be sent stays pending. Withdrawn
versions, and versions that now go to another authority, are withdrawn from the receiver
that holds them. Codes go out as validation read them (transforms/remote/package_payload.py).

The receivers come from `connectors.channels.Channels(packages=True)` in the DAG (one
`PackageChannel` per destination, from Airflow Connections); tests pass in-memory ones
(connectors/testing.py).

Overlapping runs (jobs/common/stage_clock.py): delivery holds the ledger lock `remote.deliver`
(planning, sending and recording: two runs never plan or send the same version at once), and its
`now` is never before the `remote` clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from connectors.delivery import PackageChannel
from connectors.ledger import Ledger, utcnow
from jobs.common.outcomes import remote_deliver_line

log = logging.getLogger(__name__)


def deliver_packages(ledger: Ledger, source, *, run_id: str, receiver_for: Callable[[str], PackageChannel], now: datetime | None = None,
                     after_send: Callable[[str], None] | None = None) -> dict:
    """Plan and send; returns counts. `source`: connectors.exchange_db.PackageSource (the file store);
    `receiver_for(destination)`: its `PackageChannel`; `now`: UTC (naive)."""
    from jobs.common.settings import REMOTE_WAIT_S, lock_wait_s
    from jobs.common.stage_clock import run_as_of_utc

    with ledger.stage_lock("remote.deliver", run_id=run_id, wait_s=lock_wait_s(REMOTE_WAIT_S)):
        now = run_as_of_utc(ledger, "remote", now or utcnow(), run_id=run_id, stage="remote.deliver")
        return _deliver_packages(ledger, source, run_id=run_id, receiver_for=receiver_for, now=now, after_send=after_send)


def _deliver_packages(ledger: Ledger, source, *, run_id: str, receiver_for, now: datetime, after_send) -> dict:
    from connectors.delivery import CROSS_PROVINCE_CONN_ID
    from connectors.package_receiver import FileRefused
    from connectors.signed_http import ReceiverError

    plan = ledger.remote.plan_remote_deliveries(run_id=run_id, now=now)
    pending = ledger.remote.pending_remote_deliveries()
    summary = {**plan, "sent": 0, "delivered": 0, "rejected": 0, "failed": 0, "pending": 0, "files_uploaded": 0, "errors": []}
    by_destination: dict[str, list[dict]] = {}
    for d in pending:
        by_destination.setdefault(d["destination"], []).append(d)
    for destination, deliveries in sorted(by_destination.items()):
        try:
            receiver = receiver_for(destination)
        except Exception as exc:  # noqa: BLE001 - a missing connection leaves the packages pending, with the reason
            summary["errors"].append(f"{destination}: {exc}")
            summary["pending"] += len(deliveries)
            continue
        outcomes, items, uploaded = [], [], set()
        for n, d in enumerate(deliveries):
            try:
                item, problem = prepare_package(d, source, receiver, uploaded, summary, cross_province=destination == CROSS_PROVINCE_CONN_ID)
            except FileRefused as exc:
                item, problem = None, f"属地系统拒收材料文件，未推送，请代收窗口核对后更正: {exc}"
            except ReceiverError as exc:  # the receiver cannot take files now: this destination waits for the next run
                summary["errors"].append(f"{destination}: {exc}")
                outcomes += [{"idempotency_key": x["idempotency_key"], "status": "pending", "code": None, "reason": f"files not uploaded: {exc}",
                              "attempts": 0} for x in deliveries[n:]]
                break
            if problem is not None:
                outcomes.append({"idempotency_key": d["idempotency_key"], "status": "failed", "code": None, "reason": problem, "attempts": 0})
            else:
                items.append((d, item))
        if items:
            ledger.remote.mark_remote_sending([d["idempotency_key"] for d, _ in items], now=now)
            sent = receiver.deliver([item for _, item in items], batch_id=f"{run_id}:{destination}"[:120])
            summary["sent"] += len(items)
            if after_send is not None:
                after_send(destination)
            by_key = {d["idempotency_key"]: d for d, _ in items}
            for o in sent:
                outcomes.append({"idempotency_key": o.idempotency_key, "status": o.status, "receipt_id": o.receipt_id, "code": o.code,
                                 "reason": o.reason, "attempts": o.attempts, "files": len(by_key[o.idempotency_key]["materials"])})
        ledger.remote.record_remote_outcomes(outcomes, run_id=run_id, now=now)
        for o in outcomes:
            summary[o["status"]] += 1
    _send_withdrawals(ledger, receiver_for, run_id=run_id, now=now, summary=summary)
    log.info("%s", remote_deliver_line(run_id, summary))
    for error in summary["errors"]:
        log.warning("remote delivery: %s", error)
    return summary


def _send_withdrawals(ledger: Ledger, receiver_for, *, run_id: str, now: datetime, summary: dict) -> None:
    """Tell each receiver about the versions it holds that were withdrawn, or that now go to another authority."""

    summary.update(withdrawn=0, withdrawal_refused=0, withdrawal_pending=0)
    by_destination: dict[str, list[dict]] = {}
    for w in ledger.remote.pending_remote_withdrawals():
        by_destination.setdefault(w["destination"], []).append(w)
    for destination, rows in sorted(by_destination.items()):
        items = [{"idempotency_key": w["idempotency_key"], "bwid": w["bwid"], "change_seq": int(w["change_seq"]), "reason": w["withdrawal_reason"]}
                 for w in rows]
        try:
            outcomes = receiver_for(destination).cancel(items, batch_id=f"{run_id}:withdraw:{destination}"[:120])
        except Exception as exc:  # noqa: BLE001 - ReceiverError, or a missing connection: the withdrawals wait for the next run
            summary["errors"].append(f"{destination}: withdrawals: {exc}")
            summary["withdrawal_pending"] += len(items)
            continue
        ledger.remote.record_remote_withdrawals([{"idempotency_key": o.idempotency_key, "status": o.status, "code": o.code, "reason": o.reason}
                                          for o in outcomes], run_id=run_id, now=now)
        for o in outcomes:
            summary[{"delivered": "withdrawn", "rejected": "withdrawal_refused"}.get(o.status, "withdrawal_pending")] += 1


def prepare_package(d: dict, source, receiver, uploaded: set[str], summary: dict, *, cross_province: bool = False) -> tuple[dict | None, str | None]:
    """(item, None), or (None, why it cannot go). A version never sent: each file read from the store
    again, its SHA-256 compared with the one validation saw, uploaded once per run and destination.
    A version sent before and not confirmed: sent again exactly as it was (its files went before it).
    Cross-province: each applicant also carries its national document code (`ZJZLDM`). A replay (jobs/common/replay.py)
    prepares a delivered version the same way."""
    import hashlib

    from connectors.package_receiver import make_package_item
    from transforms.remote.package_payload import as_validated, with_national_codes

    materials = []
    for m in d["materials"]:
        if d["first_sent_at"] is not None:
            materials.append({**m, "sha256": m["FILE_SHA256"], "size": int(m["FILE_SIZE"])})
            continue
        content = source.read_file(m["WJDZ"]) if m.get("WJDZ") else None
        digest = None if content is None else hashlib.sha256(content).hexdigest()
        if digest is None or digest != m.get("FILE_SHA256"):
            return None, (f"材料 {m.get('CLMC') or m.get('CLBM')}（{m.get('CLBM')}）的电子文件"
                          + ("已不在文件库中" if digest is None else "自校验后已被改动（SHA-256 不一致）") + "，未推送，请代收窗口重新上传后更正")
        if digest not in uploaded:
            summary["files_uploaded"] += int(receiver.upload(digest, content))
            uploaded.add(digest)
        materials.append({**m, "sha256": digest, "size": len(content)})
    package = as_validated(d["package"])
    applicants = [as_validated(a) for a in d["applicants"]]
    if cross_province:
        applicants = with_national_codes(applicants)
    item = make_package_item(bwid=d["bwid"], change_seq=d["change_seq"], correction=d["correction"], package=package,
                             applicants=applicants, materials=materials, cross_province=cross_province)
    return item, None
