"""Institutions answering in tests: result files written into drops' inboxes on the test sshd,
owned by the institution's account as an SFTP upload leaves them."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime

from simulators.institutions import answers, completion_marker, result_file


def write_inbox(server, drop: str, name: str | bytes, rows: list[list[str]], *, encoding: str = "utf-8-sig", raw: bytes | None = None,
                marker: bool = False, mtime: float | None = None, mode: int = 0o640) -> None:
    """A file in `drop`'s inbox, owned by the institution's account (`name` may be raw bytes); with
    `marker`, its completion marker too. Uploaded ten minutes ago unless `mtime` says otherwise."""
    inbox = os.fsencode(server.root / drop / "inbox")
    data = result_file(rows, encoding) if raw is None else raw
    raw_name = name if isinstance(name, bytes) else name.encode()
    files = [(raw_name, data)]
    if marker:
        marker_name, marker_data = completion_marker(raw_name.decode("utf-8", errors="replace"), data)
        files.append((marker_name.encode(), marker_data))
    for file_name, content in files:
        path = inbox + b"/" + file_name
        with open(path, "wb") as fh:
            fh.write(content)
        shutil.chown(path, drop, server.gateway)
        os.chmod(path, mode)
        uploaded = time.time() - 600 if mtime is None else mtime  # uploaded ten minutes ago: settled
        os.utime(path, (uploaded, uploaded))


def answer(server, deliveries: list[dict], *, seed: int, delivered_on: datetime, mix: dict | None = None) -> dict:
    """Every institution answers with a known mix; returns the truth (key -> (code, handled_at))."""
    files, truth = answers(deliveries, seed=seed, delivered_on=delivered_on, mix=mix)
    for drop, (name, data) in files.items():
        write_inbox(server, drop, name, [], raw=data, marker=True)
    return truth
