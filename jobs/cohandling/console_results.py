"""Results an institution gives through the web console (console/app.py, its board): a result file uploaded, or one
result recorded for one work order. Each is checked and kept exactly as a file from the institution's SFTP inbox
(jobs/cohandling/collect_results.py: same source `sftp:<drop>`, same checks, same exceptions and ledger rows, under
the same lock as collection)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from connectors.ledger import Ledger, utcnow
from jobs.cohandling.collect_results import _empty, check_result_file, queue_notifications


@dataclass
class Upload:
    """What became of a result file uploaded (or a result recorded) through the console."""

    name: str
    accepted: int = 0
    problems: list[dict] = field(default_factory=list)  # row exceptions, or the one that refused the file whole
    whole_file: bool = False
    already: bool = False  # the same bytes were processed before from this drop: never twice


def receive_upload(ledger: Ledger, drop: str, name: str, data: bytes, *, as_of: datetime, actor: str, run_id: str | None = None) -> Upload:
    """A result file an institution uploads through the console, checked and kept exactly as one from its drop's inbox:
    same source (`sftp:<drop>`: the results count only for work orders delivered to that drop), same checks
    (`check_result_file`), same exceptions and ledger rows; under the same lock as collection. `as_of` local time."""
    from jobs.common.settings import lock_wait_s
    from transforms.cohandling.result_files import KnownWorkOrders

    source = f"sftp:{drop}"
    sha = hashlib.sha256(data).hexdigest()
    out = Upload(name=name)
    with ledger.stage_lock("cohandling.results", run_id=run_id, wait_s=lock_wait_s(60)):
        if ledger.cohandling.result_file_seen(source, sha):
            out.already = True
            return out
        known = KnownWorkOrders(fetch=ledger.cohandling.known_of)
        rows, accepted, problems, problem = check_result_file(name, data, source=source, known=known, as_of=as_of)
        if problem is not None:
            out.problems, out.whole_file = [problem], True
            ledger.cohandling.save_results(source=source, accepted=_empty(), problems=[problem], now=utcnow(), run_id=run_id,
                                           file={"name": name, "sha256": sha, "size": len(data), "reason": problem["reason"]})
        else:
            out.accepted, out.problems = len(accepted), problems
            ledger.cohandling.save_results(source=source, accepted=accepted, problems=problems, now=utcnow(), run_id=run_id,
                                           file={"name": name, "sha256": sha, "size": len(data), "rows": rows})
        ledger.audit(run_id=run_id, actor=actor, action="console_result_upload", object_type="result_file", object_id=sha,
                     detail={"drop": drop, "file": name, "accepted": out.accepted, "exceptions": len(out.problems)})
    if out.accepted or out.problems:
        queue_notifications(ledger)
    if out.accepted:
        _refresh(ledger, accepted)
    return out


def _refresh(ledger: Ledger, accepted) -> None:
    """The console's read model for the work orders just given a result, so the board shows it at once."""
    from jobs.cohandling.order_status import refresh_order_status

    rowguids = sorted({str(r) for r in accepted["rowguid"] if isinstance(r, str)}) if "rowguid" in accepted else []
    if rowguids:
        refresh_order_status(ledger, rowguids=rowguids)


def record_result(ledger: Ledger, drop: str, key: str, *, code: str, reason: str, handled_at: str, handler: str, as_of: datetime, actor: str) -> Upload:
    """One result an institution records for one work order (`key` = GDBH, `ROWGUID:utility:version`) in the console:
    one row of a result file, checked by the same `check_results` as every file row, kept as such (source `sftp:<drop>`)."""
    import pandas as pd

    from jobs.common.settings import lock_wait_s
    from transforms.cohandling.result_files import FILE_COLUMNS, KnownWorkOrders, check_results

    source = f"sftp:{drop}"
    row = {"row": 1, "GDBH": key, "ROWGUID": "", "XBLX": "", "JGDM": code.strip(), "JGSM": reason.strip(), "BLSJ": handled_at.strip(), "BLR": handler.strip()}
    out = Upload(name="console")
    with ledger.stage_lock("cohandling.results", wait_s=lock_wait_s(60)):
        known = KnownWorkOrders(fetch=ledger.cohandling.known_of)
        accepted, problems = check_results(pd.DataFrame([row], columns=["row", *FILE_COLUMNS]), source=source, known=known, as_of=as_of)
        out.accepted, out.problems = len(accepted), problems
        ledger.cohandling.save_results(source=source, accepted=accepted, problems=problems, now=utcnow(),
                                       file={"name": f"console-{actor}-{key}"[:200], "sha256": hashlib.sha256(
                                           f"{key}|{code}|{handled_at}|{utcnow().isoformat()}".encode()).hexdigest(), "size": 0, "rows": 1})
        ledger.audit(run_id=None, actor=actor, action="console_result_recorded", object_type="work_order", object_id=key,
                     detail={"drop": drop, "code": code, "accepted": out.accepted, "exceptions": len(problems)})
    if out.accepted:
        queue_notifications(ledger)
        _refresh(ledger, accepted)
    return out
