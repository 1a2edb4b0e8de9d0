"""Account-mode institutions answering (for `make run` and tests): each handles the work
orders it downloaded with a known mix of outcomes and uploads one result file to its
drop's `/inbox/`, in the documented format (docs/protocol/results.md), in UTF-8, UTF-8
with BOM or GB18030 as their office software saves it — and, as the protocol asks, a
completion marker `<name>.done` (the `sha256sum` line of the file) once the upload is whole
(`completion_marker`, `upload`)."""

from __future__ import annotations

import csv
import hashlib
import io
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


def answers(deliveries: list[dict], *, seed: int, delivered_on: datetime, mix: dict | None = None, late_days: int = 12) -> tuple[dict[str, tuple[str, bytes]], dict]:
    """(drop -> (file name, bytes), truth: work-order key -> (code, handled_at)).

    'silent' work orders get no answer; 'late' ones are done `late_days` calendar days after delivery;
    the others are answered 0–3 days after it.
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
        code = "0000" if kind == "late" else kind
        handled = delivered_on + timedelta(days=late_days if kind == "late" else rng.randint(0, 3), hours=rng.randint(1, 8))
        truth[key] = (code, handled)
        per_drop.setdefault(d["destination"], []).append([key, "", "", code, REASONS.get(code, ""), handled.strftime("%Y-%m-%d %H:%M"), rng.choice(HANDLERS)])
    files = {drop: (f"result_{delivered_on:%Y%m%d}.csv", result_file(rows, rng.choice(["utf-8-sig", "utf-8", "gb18030"]))) for drop, rows in per_drop.items()}
    return files, truth
