"""Institutions answering in tests: result files written into drops' inboxes on the test sshd,
owned by the institution's account as an SFTP upload leaves them."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime

from simulators.institutions import answers, result_file


def write_inbox(server, drop: str, name: str, rows: list[list[str]], *, encoding: str = "utf-8-sig", raw: bytes | None = None) -> None:
    """A file in `drop`'s inbox, owned by the institution's account."""
    path = server.root / drop / "inbox" / name
    path.write_bytes(result_file(rows, encoding) if raw is None else raw)
    shutil.chown(path, drop, server.gateway)
    os.chmod(path, 0o640)
    uploaded = time.time() - 600  # uploaded ten minutes ago: settled
    os.utime(path, (uploaded, uploaded))


def answer(server, deliveries: list[dict], *, seed: int, delivered_on: datetime, mix: dict | None = None) -> dict:
    """Every institution answers with a known mix; returns the truth (key -> (code, handled_at))."""
    files, truth = answers(deliveries, seed=seed, delivered_on=delivered_on, mix=mix)
    for drop, (name, data) in files.items():
        write_inbox(server, drop, name, [], raw=data)
    return truth
