"""Institutions answering in tests: result files as an account-mode institution writes them
into its drop's inbox (owned by the institution's account, as an SFTP upload leaves them)."""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
from datetime import datetime, timedelta

HEADER = ["GDBH", "ROWGUID", "XBLX", "JGDM", "JGSM", "BLSJ", "BLR"]
REASONS = {"0002": "户号不存在", "0003": "存在欠费未结清，请结清后办理", "0009": "产权人信息与户主信息不一致"}
MIX = {"0000": 0.7, "0201": 0.05, "0002": 0.05, "0003": 0.05, "0009": 0.03, "silent": 0.07, "late": 0.05}


def write_inbox(server, drop: str, name: str, rows: list[list[str]], *, encoding: str = "utf-8-sig", raw: bytes | None = None) -> None:
    """A file in `drop`'s inbox, owned by the institution's account."""
    path = server.root / drop / "inbox" / name
    if raw is None:
        buf = io.StringIO()
        csv.writer(buf).writerows([HEADER, *rows])
        raw = buf.getvalue().encode(encoding)
    path.write_bytes(raw)
    shutil.chown(path, drop, server.gateway)
    os.chmod(path, 0o640)


def answer(server, deliveries: list[dict], *, seed: int, delivered_on: datetime, mix: dict | None = None) -> dict:
    """Each institution answers its delivered work orders with a known mix, in one file per drop.

    Returns the truth: key -> (code, handled_at) for every answer written ('silent' ones get none;
    'late' ones are done 12 calendar days after delivery).
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
        handled = delivered_on + timedelta(days=12 if kind == "late" else rng.randint(0, 3), hours=rng.randint(1, 8))
        truth[key] = (code, handled)
        per_drop.setdefault(d["destination"], []).append([key, "", "", code, REASONS.get(code, ""), handled.strftime("%Y-%m-%d %H:%M"), "李娜"])
    for drop, rows in per_drop.items():
        write_inbox(server, drop, f"result_{delivered_on:%Y%m%d}.csv", rows, encoding=rng.choice(["utf-8-sig", "utf-8", "gb18030"]))
    return truth
