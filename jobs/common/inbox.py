"""The inboxes counties drop forms into: one way to take a form in, for every kind of form.

Used by the institution registry (Annex 2 / Annex 3, jobs/registry/form_intake.py) and by remote
collection's checklists (jobs/remote/package_intake.py). A form is read
(connectors/form_inbox.py), parsed by its line's transform and applied to the ledger in one
transaction (`take_in`): a malformed row gets an issue naming the file, sheet, row and column;
the form's good rows still load. A form already loaded (same SHA-256) is not loaded again.

`load_inbox` loads every form waiting in an inbox, then moves it to `processed/<date>/` beside
an issues list (`<file>.issues.csv`, Chinese headings, every cell through `safe_cell`) for the
person who sent it. A file that cannot be read at all (over a bound, not a workbook, not text,
a name that is not UTF-8) goes to `rejected/` with the reason (`<file>.why.txt`) and is
dead-lettered (the loader's surface: `registry_form`, `remote_checklist`; key: the file's
SHA-256; payload: its bytes): an identical file sent again is recognised by its hash and
rejected with the same reason, never parsed again. One file never stops the inbox: whatever
goes wrong with it, the next file is loaded. Only the ledger being unreachable stops the loop
(a process fault: the task is retried).

Several hosts, one inbox. The inbox is a folder every worker may see (a shared mount); the
loaders coordinate through the ledger, not the file system: `load_inbox` holds the ledger lock
`inbox:<surface>` (connectors/ledger/lock_store.py — a PostgreSQL advisory lock, whichever host
the loader runs on; one inbox per surface and ledger, so the name does not depend on where a
host mounts it) while it lists, loads and files, so two loaders never both load a form. A form
that vanishes under a loader anyway — filed by a loader that does not take the lock, taken
back by its sender — is not an error: it is skipped (before it was loaded) or left where the
other party put it (after), logged and audited (`form_gone`). Filing never overwrites: a form
is linked under a free name and then unlinked from the inbox. A `now` given for a loader with a
clock (checklist forms: `remote`) is never before that clock (jobs/common/stage_clock.py).
"""

from __future__ import annotations

import csv
import errno
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from connectors.ledger import Ledger
from connectors.ledger.registry_store import as_local_midnight

log = logging.getLogger(__name__)
ISSUE_HEADINGS = ["文件 file", "工作表 sheet", "行 row", "列 column", "级别 severity", "规则 rule", "说明 message"]


def local_now() -> datetime:
    """Shandong local time, naive: the clock forms, receipts and statuses are dated by."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (memory stays bounded whatever its size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def take_in(ledger: Ledger, path: str | Path, *, now: datetime | None, actor: str, action: str, object_type: str,
            held: Callable[[str], bool], skipped: Callable[[str], object], parse: Callable[[dict, str], object],
            apply: Callable[..., object], detail: Callable[[object], dict]):
    """Take one form in: `held(sha256)` already loaded → `skipped(file name)`; else read it, `parse(sheets, name)`,
    `apply(parsed, sha256=, effective=, loaded_at=)` and audit (`actor`, `action`, `object_type`, the summary's
    `detail` beside file and SHA-256). Without a 生效日期 a form takes effect from the local midnight of the
    day it is loaded: the run for that day, whose cut-off is earlier in the day, goes by it."""
    from connectors.form_inbox import read_form

    path = Path(path)
    sha256 = file_sha256(path)
    if held(sha256):
        return skipped(path.name)
    parsed = parse(read_form(path), path.name)
    now = now or local_now()
    summary = apply(parsed, sha256=sha256, effective=as_local_midnight(parsed.effective or now.date()), loaded_at=now)
    ledger.audit(run_id=None, actor=actor, action=action, object_type=object_type, object_id=summary.form_id,
                 detail={"file": path.name, "sha256": sha256, **detail(summary)})
    log.info("%s", summary.line())
    for issue in summary.issues:
        log.info("  %s", issue)
    return summary


MAX_FORM_NAME_CHARS = 200  # a file name the gateway files away, stores and shows


def load_inbox(ledger: Ledger, inbox: Path, *, load: Callable, now: datetime | None = None, surface: str | None = None) -> list:
    """Load every form waiting in `inbox` (Annex 3 after the others), then file each away.

    `load(ledger, path, now=...)` loads one form (jobs.registry.form_intake.load_form, or the
    remote-collection checklists' jobs.remote.package_intake.load_checklist_form): anything
    with `.line()` and `.issues`. `surface`: the dead-letter surface of a form that cannot be
    read (default: the loader's `surface` attribute). Returns the summaries of the forms
    loaded; rejected forms are in the dead-letter store and in `rejected/`."""
    from jobs.common.settings import lock_wait_s

    surface = surface or load.surface
    inbox.mkdir(parents=True, exist_ok=True)
    summaries = []
    # One loader per inbox, on whichever host (the forms DAG and the daily DAG may both look).
    with ledger.stage_lock(f"inbox:{surface}", wait_s=lock_wait_s(600)):
        if now is not None and getattr(load, "clock", None):
            from jobs.common.stage_clock import run_as_of

            now = run_as_of(ledger, load.clock, now, run_id=None, stage=f"inbox:{surface}")
        now = now or local_now()
        done = inbox / "processed" / now.strftime("%Y-%m-%d")
        rejected = inbox / "rejected"
        waiting = sorted((p for p in inbox.iterdir() if not p.name.startswith(".") and _is_file(p)), key=lambda p: ("附件3" in p.name, p.name))
        for path in waiting:
            summary = _load_one(ledger, path, now=now, load=load, surface=surface, done=done, rejected=rejected)
            if summary is not None:
                summaries.append(summary)
    return summaries


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _load_one(ledger: Ledger, path: Path, *, now, load, surface: str, done: Path, rejected: Path):
    """One form: loaded and filed with its issues, or rejected and dead-lettered. Never raises for
    the form's sake; a ledger that cannot be reached raises (the task's retry is the remedy)."""
    import sqlalchemy as sa

    from connectors.form_inbox import FORM_SUFFIXES, MAX_FORM_BYTES, FormReadError
    from connectors.ledger.deadletter_store import DEAD_LETTER_PAYLOAD_MAX, unit_key
    from transforms.common.text import clean, shown

    raw_name = os.fsencode(path.name)
    shown_name = shown(raw_name, 120)
    sha256 = None
    by_name = False  # refused for its name: the same bytes under a good name are a new unit
    try:
        sha256 = file_sha256(path)
        by_name = True
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise FormReadError(f"文件名 {shown_name} 不是 UTF-8 编码 / the file name is not UTF-8", "FORM_FILE_NAME") from None
        if len(name) > MAX_FORM_NAME_CHARS or clean(name) != name:
            raise FormReadError(f"文件名 {shown_name} 过长或含有控制字符（上限 {MAX_FORM_NAME_CHARS} 字符）/ unsafe file name", "FORM_FILE_NAME")
        if path.suffix.lower() not in FORM_SUFFIXES:
            raise FormReadError(f"不是表格文件（应为 .xlsx 或 .csv）/ not a form file: {name}", "FORM_FILE_TYPE")
        by_name = False
        held = ledger.dead_letters(surface, status=None)
        if len(held) and unit_key(sha256) in set(held["unit_key"]):
            before = held[held["unit_key"] == unit_key(sha256)].iloc[0]
            raise FormReadError(f"{name}: 与此前拒收的文件内容相同（SHA-256 {sha256[:12]}…）。{before['reason']}", str(before["rule_id"]),
                                before["location"] if isinstance(before["location"], str) else None)
        summary = load(ledger, path, now=now)
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise  # the ledger, not the form
    except FileNotFoundError:
        if os.path.lexists(path):
            raise
        _gone(ledger, path, surface, "before it was loaded: not loaded by this loader")
        return None
    except Exception as exc:  # noqa: BLE001 - whatever this file does, the next one is loaded
        if isinstance(exc, FormReadError):
            rule, why, location = exc.rule, str(exc), exc.location
        elif isinstance(exc, OSError):
            rule, why, location = "FORM_UNREADABLE", f"{shown_name}: 无法读取文件（{type(exc).__name__}: {exc.strerror or exc}）/ cannot be read", None
        else:
            rule, why, location = "FORM_LOAD_FAILED", f"{shown_name}: 无法载入（{type(exc).__name__}: {shown(str(exc), 200)}）/ could not be loaded", None
            log.exception("inbox: %s could not be loaded", shown_name)
        payload = None
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:  # the whole unit when it is within the form bound, else its first MiB
                payload = fh.read(size if size <= MAX_FORM_BYTES else DEAD_LETTER_PAYLOAD_MAX)
        except OSError:
            pass
        name_key = hashlib.sha256(raw_name).hexdigest()[:16]
        if sha256 is None:
            key = unit_key("unreadable", name_key)
        else:
            key = unit_key(sha256, "name", name_key) if by_name else unit_key(sha256)
        new = ledger.dead_letter(surface=surface, unit_key=key, origin=str(path.parent / shown_name), rule_id=rule, reason=why, location=location,
                                 payload=payload, owner="county")
        if _file_away(path, rejected, f"{why} [{rule}]", seen_before=not new) is None:
            _gone(ledger, path, surface, "after it was refused (dead letter kept): not filed by this loader")
        return None
    if not getattr(summary, "already_loaded", False):
        _resolve_earlier_rejections(ledger, surface, path.name, summary)
    target = _file_away(path, done)
    if target is None:
        _gone(ledger, path, surface, "after it was loaded: not filed by this loader")
        return summary
    write_issue_list(summary, target.with_name(target.name + ".issues.csv"))
    return summary


def _gone(ledger: Ledger, path: Path, surface: str, when: str) -> None:
    """A form that left the inbox under this loader (another loader filed it, its sender took it back): logged and audited."""
    from transforms.common.text import shown

    name = shown(os.fsencode(path.name), 120)
    log.warning("inbox %s: %s left the inbox %s", surface, name, when)
    ledger.audit(run_id=None, actor="inbox", action="form_gone", object_type=surface, object_id=name[:250], detail={"file": name, "when": when})


def _resolve_earlier_rejections(ledger: Ledger, surface: str, name: str, summary) -> None:
    """A form loaded under a name that was rejected before is its correction: the rejection is resolved."""
    held = ledger.dead_letters(surface)
    if not len(held):
        return
    mine = held[held["origin"].map(lambda o: isinstance(o, str) and o.rsplit("/", 1)[-1] == name)]
    if len(mine):
        ledger.resolve_dead_letters(surface, list(mine["unit_key"]), resolution=f"corrected form loaded (form {summary.form_id})")


def _file_away(path: Path, folder: Path, why: str | None = None, *, seen_before: bool = False) -> Path | None:
    """Move a form out of the inbox into `folder` under a name that is free (and, for a name that is
    not UTF-8, a readable one); with `why`, the reason beside it as `<file>.why.txt`. None when the form
    is no longer in the inbox (someone else moved it): nothing is filed."""
    from transforms.common.text import shown

    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.fsencode(path.name).decode("utf-8")
        stem, suffix = path.stem, path.suffix
    except UnicodeDecodeError:
        stem, suffix = "unnamed-" + hashlib.sha256(os.fsencode(path.name)).hexdigest()[:12], ".bin"
    stem = stem[:MAX_FORM_NAME_CHARS]
    target = _move_to_free_name(path, folder, stem, suffix)
    if target is None:
        return None
    if why is not None:
        target.with_name(target.name + ".why.txt").write_text(why + "\n", encoding="utf-8", errors="backslashreplace")
        log.warning("inbox: %s rejected%s: %s", shown(os.fsencode(path.name), 120), " again" if seen_before else "", why)
    return target


def _move_to_free_name(path: Path, folder: Path, stem: str, suffix: str) -> Path | None:
    """`path` moved to `folder/<stem>[.<n>]<suffix>`, the first name free — taken atomically by a hard link, so two
    loaders filing same-named forms never overwrite each other — then unlinked from the inbox. None if `path` is gone.
    Where hard links are not supported (some network file systems), checked and moved instead."""
    n = 0
    while True:
        target = folder / f"{stem}{'' if n == 0 else f'.{n}'}{suffix}"
        n += 1
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except FileNotFoundError:
            if not os.path.lexists(path):
                return None
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            if target.exists():
                continue
            try:
                shutil.move(str(path), target)
            except FileNotFoundError:
                if not os.path.lexists(path):
                    return None
                raise
            return target
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # filed by someone else at the same moment: this copy is the one kept here
        return target


def write_issue_list(summary, path: Path) -> Path:
    """The form's issues for the person who sent it (UTF-8 with BOM: opens in Excel/WPS; every cell through `safe_cell`)."""
    from transforms.common.text import safe_cell

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([safe_cell("# " + summary.line())])
        writer.writerow(ISSUE_HEADINGS)
        for i in summary.issues:
            writer.writerow([safe_cell(str(v) if v is not None else "") for v in (i.file, i.sheet, i.row, i.column, i.severity, i.rule, i.message)])
    return path
