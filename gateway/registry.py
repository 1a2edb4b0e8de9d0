"""The institution registry: loading the counties' Annex 2 / Annex 3 forms into the ledger,
and reading it as of a time for validation and routing.

A form is read (connectors/forms.py), parsed (transforms/registry_forms.py) and applied to
the ledger's versioned registry (connectors/ledger/registry.py) in one transaction. A
malformed row gets an issue naming the file, sheet, row and column; the form's good rows
still load. A form already loaded (same SHA-256) is not loaded again.

The inbox: forms dropped into `registry_inbox()` are loaded by `load_inbox` (the
`registry_forms` DAG, and the first task of `cohandling_daily`), then moved to
`processed/<date>/` beside an issues list (`<file>.issues.csv`, Chinese headings) for the
person who sent it; a file that cannot be read at all goes to `rejected/` with the reason.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import logging
import shutil
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pandas as pd

from connectors.ledger import Ledger
from connectors.ledger.registry import FormSummary, as_local_midnight

log = logging.getLogger(__name__)
ISSUE_HEADINGS = ["文件 file", "工作表 sheet", "行 row", "列 column", "级别 severity", "规则 rule", "说明 message"]


def local_now() -> datetime:
    """Shandong local time, naive (the registry's clock)."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def load_form(ledger: Ledger, path: str | Path, *, now: datetime | None = None) -> FormSummary:
    """Load one Annex 2 or Annex 3 form (.xlsx / .csv); the kind is told by its headings."""
    from connectors.forms import read_form
    from gateway import reference
    from transforms.registry_forms import Places, parse_annex2, parse_annex3

    path = Path(path)
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if ledger.form_by_hash(sha256):
        return FormSummary(None, path.name, "?", already_loaded=True)
    sheets = read_form(path)
    places = Places(reference.divisions())
    parsed = parse_annex2(sheets, file=path.name, places=places)
    if any(i.rule == "FORM_NO_HEADER" for i in parsed.issues):
        annex3 = parse_annex3(sheets, file=path.name, places=places)
        if annex3.rows or not any(i.rule == "FORM_NO_HEADER" for i in annex3.issues):
            parsed = annex3
    now = now or local_now()
    # Without a 生效日期 a form takes effect on the day it arrives (from midnight, local):
    # the run for that day, whose cut-off is earlier in the day, routes by it.
    effective = as_local_midnight(parsed.effective or now.date())
    summary = ledger.apply_form(parsed, sha256=sha256, effective=effective, loaded_at=now)
    ledger.audit(run_id=None, actor="registry", action="form_loaded", object_type="registry_form", object_id=summary.form_id,
                 detail={"file": path.name, "sha256": sha256, "kind": summary.kind, "rows_loaded": summary.rows_loaded, "added": len(summary.added),
                         "changed": len(summary.changed), "unchanged": summary.unchanged, "errors": summary.errors, "warnings": summary.warnings})
    log.info("%s", summary.line())
    for issue in summary.issues:
        log.info("  %s", issue)
    return summary


@contextmanager
def _inbox_lock(inbox: Path):
    """One loader at a time per inbox (the forms DAG and the daily DAG may both look)."""
    with open(inbox / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_inbox(ledger: Ledger, inbox: Path, *, now: datetime | None = None, load=None) -> list[FormSummary]:
    """Load every form waiting in `inbox` (Annex 2 before Annex 3), then file each away.

    `load(ledger, path, now=...)` loads one form (default `load_form`; the remote-collection
    checklists use gateway.remote.load_checklist_form): anything with `.line()` and `.issues`."""
    load = load or load_form
    from connectors.forms import FORM_SUFFIXES, FormReadError

    inbox.mkdir(parents=True, exist_ok=True)
    now = now or local_now()
    done = inbox / "processed" / now.strftime("%Y-%m-%d")
    rejected = inbox / "rejected"
    summaries = []
    with _inbox_lock(inbox):
        waiting = sorted((p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")), key=lambda p: ("附件3" in p.name, p.name))
        for path in waiting:
            if path.suffix.lower() not in FORM_SUFFIXES:
                _file_away(path, rejected, f"不是表格文件（应为 .xlsx 或 .csv）/ not a form file: {path.name}")
                continue
            try:
                summary = load(ledger, path, now=now)
            except FormReadError as exc:
                _file_away(path, rejected, str(exc))
                continue
            target = _file_away(path, done)
            write_issue_list(summary, target.with_name(target.name + ".issues.csv"))
            summaries.append(summary)
    return summaries


def _file_away(path: Path, folder: Path, why: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), target)
    if why is not None:
        target.with_name(target.name + ".why.txt").write_text(why + "\n", encoding="utf-8")
        log.warning("registry inbox: %s rejected: %s", path.name, why)
    return target


def write_issue_list(summary: FormSummary, path: Path) -> Path:
    """The form's issues for the person who sent it (UTF-8 with BOM: opens in Excel/WPS)."""
    from transforms.mask import neutralise_formula

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["# " + summary.line()])
        writer.writerow(ISSUE_HEADINGS)
        for i in summary.issues:
            cells = pd.Series([str(v) if v is not None else "" for v in (i.file, i.sheet, i.row, i.column, i.severity, i.rule, i.message)], dtype=object)
            writer.writerow(neutralise_formula(cells).tolist())
    return path


def current_registry(ledger: Ledger, at: datetime) -> pd.DataFrame:
    """Institutions in force at `at` (local time), with retired codes that name a successor: what validation checks against."""
    return ledger.registry_at(at)
