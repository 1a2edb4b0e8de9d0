"""Account-mode institutions answering (for `make run` and tests): each handles the work
orders it downloaded with a known mix of outcomes and uploads one result file to its
drop's `/inbox/`, in the documented format (docs/protocol/results.md), in UTF-8, UTF-8
with BOM or GB18030 as their office software saves it — and, as the protocol asks, a
completion marker `<name>.done` (the `sha256sum` line of the file) once the upload is whole
(`completion_marker`, `upload`).

They read their outbox as docs/protocol/sftp-drop.md says: work-order batches (`XB…`) and
cancellation batches (`XBCX…`, manifest `"kind": "cancel"`); what an institution holds in force
(`held_in_force`) is the latest version of each work order it received, less those cancelled,
and it does not handle a cancelled work order (`answers(..., cancelled=...)`)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["GDBH", "ROWGUID", "XBLX", "JGDM", "JGSM", "BLSJ", "BLR"]
REASONS = {"0002": "户号不存在", "0003": "存在欠费未结清，请结清后办理", "0009": "产权人信息与户主信息不一致"}
MIX = {"0000": 0.7, "0201": 0.05, "0002": 0.05, "0003": 0.05, "0009": 0.03, "silent": 0.07, "late": 0.05}
HANDLERS = ["李娜", "王伟", "张敏", "刘洋", "陈静"]


def result_file(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    return buf.getvalue().encode(encoding)


def completion_marker(name: str, data: bytes) -> tuple[str, bytes]:
    """(`<name>.done`, its contents): the line `sha256sum <name>` prints, which the gateway checks the file against."""
    return f"{name}.done", f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


def upload(inbox: Path, name: str, data: bytes, *, marker: bool = True, uploaded_ago_s: float = 600) -> Path:
    """An institution's upload into a drop inbox on this file system: the file, then its completion marker."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(data)
    written = [path]
    if marker:
        marker_name, marker_data = completion_marker(name, data)
        (inbox / marker_name).write_bytes(marker_data)
        written.append(inbox / marker_name)
    uploaded = time.time() - uploaded_ago_s
    for p in written:
        os.utime(p, (uploaded, uploaded))
    return path


def answers(deliveries: list[dict], *, seed: int, delivered_on: datetime, mix: dict | None = None, late_days: int = 12,
            cancelled: set[str] | frozenset = frozenset()) -> tuple[dict[str, tuple[str, bytes]], dict]:
    """(drop -> (file name, bytes), truth: work-order key -> (code, handled_at)).

    'silent' work orders get no answer; 'late' ones are done `late_days` calendar days after delivery;
    the others are answered 0–3 days after it. Work orders whose key is in `cancelled` are not handled.
    """
    rng = random.Random(seed)
    mix = mix or MIX
    kinds, weights = zip(*mix.items())
    truth: dict[str, tuple[str, datetime]] = {}
    per_drop: dict[str, list[list[str]]] = {}
    for d in deliveries:
        kind = rng.choices(kinds, weights)[0]
        if kind == "silent":
            continue
        key = f"{d['rowguid']}:{d['utility']}:{d['version']}"
        if key in cancelled:
            continue
        code = "0000" if kind == "late" else kind
        handled = delivered_on + timedelta(days=late_days if kind == "late" else rng.randint(0, 3), hours=rng.randint(1, 8))
        truth[key] = (code, handled)
        per_drop.setdefault(d["destination"], []).append([key, "", "", code, REASONS.get(code, ""), handled.strftime("%Y-%m-%d %H:%M"), rng.choice(HANDLERS)])
    files = {drop: (f"result_{delivered_on:%Y%m%d}.csv", result_file(rows, rng.choice(["utf-8-sig", "utf-8", "gb18030"]))) for drop, rows in per_drop.items()}
    return files, truth


def read_batch(folder: Path) -> tuple[str, list[dict]]:
    """(kind, rows) of one batch folder of an outbox, read as an institution would: the manifest names the
    data files and their format; kind is `cancel` for a cancellation batch, `reminder` for a weekly overdue reminder, else `work_orders`."""
    manifest = json.loads(next(folder.glob("*.manifest.json")).read_text(encoding="utf-8"))
    rows: list[dict] = []
    for f in manifest["files"]:
        data = (folder / f["name"]).read_bytes()
        if manifest["format"] in ("csv", "csv_gb18030"):
            text = data.decode("utf-8-sig") if manifest["format"] == "csv" else data.decode("gb18030")
            rows += list(csv.DictReader(io.StringIO(text)))
        elif manifest["format"] == "jsonl":
            rows += [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        elif manifest["format"] == "xlsx":
            rows += read_xlsx(data)
        else:
            import pyarrow.parquet as pq

            rows += pq.read_table(io.BytesIO(data)).to_pylist()
    return manifest.get("kind", "work_orders"), rows


def read_xlsx(data: bytes) -> list[dict]:
    """The rows of an XLSX batch: row 1 the Chinese labels, row 2 the codes (the keys), then one row per item, all text."""
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    values = sheet.iter_rows(values_only=True)
    next(values)
    codes = next(values)
    return [dict(zip(codes, row)) for row in values if any(v is not None for v in row)]


def held_in_force(outbox: Path) -> set[str]:
    """The work-order keys (GDBH) an institution holds in force: per (ROWGUID, utility) the latest version
    received in a work-order batch, unless a cancellation batch cancelled that version (or a later one)."""
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    cancelled: dict[tuple[str, str], int] = {}
    for folder in sorted(p for p in Path(outbox).iterdir() if p.is_dir()) if Path(outbox).exists() else []:
        kind, rows = read_batch(folder)
        if kind == "reminder":  # a weekly overdue reminder (CB<week>) lists work orders sent before: nothing new to hold
            continue
        for row in rows:
            rowguid, utility, version = str(row["GDBH"]).rsplit(":", 2)
            key, v = (rowguid, utility), int(version)
            if kind == "cancel":
                cancelled[key] = max(cancelled.get(key, 0), v)
            elif v > latest.get(key, (0, ""))[0]:
                latest[key] = (v, str(row["GDBH"]))
    return {gdbh for key, (v, gdbh) in latest.items() if cancelled.get(key, 0) < v}


def cancelled_keys(outbox: Path) -> set[str]:
    """Every GDBH an institution was told to cancel (cancellation batches in its outbox)."""
    keys: set[str] = set()
    for folder in sorted(p for p in Path(outbox).iterdir() if p.is_dir()) if Path(outbox).exists() else []:
        kind, rows = read_batch(folder)
        if kind == "cancel":
            keys |= {str(r["GDBH"]) for r in rows}
    return keys
