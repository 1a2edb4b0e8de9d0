"""Publishers racing to make the same folders on a fresh drop host (issue 19: four publisher threads
and several workers, `OSError: File exists` / SFTP "Failure" on mkdir): a mkdir that loses the race
to another publisher is fine once the folder is there (connectors/sftp_drop.py `_makedirs`), and the
local-folder drop (connectors/testing.py LocalDrops) takes the same races. The real OpenSSH server:
tests/integration/cohandling/test_delivery_sftp.py."""

from __future__ import annotations

import stat
import threading
from types import SimpleNamespace

import pytest

from connectors.sftp_drop import DropJob, SftpDrops
from connectors.testing import LocalDrops
from transforms.cohandling.batchfiles import BatchFile


class RacingServer:
    """An SFTP server as a publisher sees it when another publisher makes each folder just after this one looked:
    stat says "no such file" once, then mkdir answers "Failure" (OpenSSH) or "File exists" (others)."""

    def __init__(self, answer: str = "Failure", made_by_others: bool = True) -> None:
        self.dirs, self.looked, self.answer, self.made_by_others = {"/"}, set(), answer, made_by_others
        self.mkdirs = 0

    def stat(self, path: str):
        if path not in self.looked:
            self.looked.add(path)
            if self.made_by_others:
                self.dirs.add(path)  # made by the other publisher right after this look
            raise FileNotFoundError(2, "No such file")
        if path in self.dirs:
            return SimpleNamespace(st_mode=stat.S_IFDIR | 0o755)
        raise FileNotFoundError(2, "No such file")

    def mkdir(self, path: str) -> None:
        self.mkdirs += 1
        if path in self.dirs:
            raise OSError(self.answer)
        raise PermissionError(13, "Permission denied")  # this server lets nobody but "others" make folders


def test_a_mkdir_lost_to_another_publisher_is_not_an_error():
    for answer in ("Failure", "File exists"):
        server = RacingServer(answer)
        drops = SftpDrops("127.0.0.1", 22, "gw", key_file="k", known_hosts="h")
        drops._makedirs(server, "/.staging/xb91370102ma3c5lxx1")
        assert server.mkdirs == 2 and drops._dirs == {"/.staging", "/.staging/xb91370102ma3c5lxx1"}


def test_a_mkdir_that_fails_for_another_reason_still_fails():
    server = RacingServer(made_by_others=False)
    drops = SftpDrops("127.0.0.1", 22, "gw", key_file="k", known_hosts="h")
    with pytest.raises(PermissionError):
        drops._makedirs(server, "/.staging/xb1")
    assert drops._dirs == set()


def test_publishers_racing_into_a_fresh_local_drop_all_land_once(tmp_path):
    """Sixteen publishers at once into a root with no folder yet: four batches each into two drops, and every batch
    also published by a second publisher at the same moment (a retry overlapping the first attempt)."""
    root = tmp_path / "fresh"
    jobs = [DropJob(f"xbdrop{i % 2}", f"XB_{i}", [BatchFile(f"XB_{i}.csv", f"row {i}\n".encode()), BatchFile(f"XB_{i}.manifest.json", b"{}\n")])
            for i in range(8)]
    start, results, errors = threading.Barrier(16), [], []

    def publish(job: DropJob) -> None:
        drops = LocalDrops(root)  # a worker of its own
        start.wait(30)
        try:
            results.append(drops.publish(job))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(job,)) for job in jobs + jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 16
    assert sorted(p.batch for p in results if not p.skipped) == sorted(j.batch for j in jobs)  # each published once, found once
    for job in jobs:
        assert (root / job.drop / "outbox" / job.batch / f"{job.batch}.csv").read_bytes() == job.files[0].data
    assert not any((root / ".staging").rglob("*.csv"))  # no staging copy left behind
