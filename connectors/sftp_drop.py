"""Per-institution SFTP drops (account mode, 配置账号), spoken with paramiko.

Layout on the drop server, as the gateway's account sees it (its root, usually a chroot):

    /<drop account>/outbox/<batch>/   what the institution downloads: data file(s),
                                      <batch>.sha256 and <batch>.manifest.json — work-order
                                      batches (XB…) and cancellation batches (XBCX…, manifest
                                      "kind": "cancel"), published the same way
    /<drop account>/inbox/            where the institution uploads results (docs/protocol/results.md)
    /<drop account>/inbox/receipts/   the gateway's signed receipt (and its .sig) for every result file it read
    /.staging/<drop account>/<batch>/ the gateway's work area, outside every institution's view

Each institution's own account is confined to its `/<drop account>` (ChrootDirectory), so
it sees only its outbox and inbox. A batch is uploaded into staging — pipelined writes —
and then the whole batch directory is renamed into the outbox in one atomic step: an
institution polling its outbox sees either nothing of a batch or all of it, manifest
included; never a partial or unmanifested file. Names are deterministic per batch: a
re-run that finds the batch already there compares every file's size and SHA-256 and
skips it; a batch directory with different contents is never overwritten (it raises
`DropConflict`). Only a replay with --force (jobs/common/replay.py, `DropJob.replace`) replaces a batch
directory still there: staged as always, the old one renamed aside into staging, the new one renamed in.

One SSH connection per host, reused for every institution; a bounded pool of SFTP
channels on it; host keys checked against known_hosts; key authentication only.

`SftpDrops` is the `Drop` of connectors/delivery.py (opened by `channel_for("gateway_sftp")`);
connectors/testing.py `LocalDrops` is the same layout on a local folder, for unit tests.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
CHUNK = 32768  # paramiko's SFTP packet payload; pipelined, many are in flight at once


class DropConflict(Exception):
    """A batch directory with the same name but different contents is already in the outbox."""


@dataclass(frozen=True)
class Publication:
    drop: str
    batch: str
    files: tuple[str, ...]
    skipped: bool  # already there and verified
    path: str


@dataclass(frozen=True)
class InboxEntry:
    """A file in an institution's inbox as the server lists it: the name as raw bytes."""

    raw: bytes
    size: int
    mtime: int  # epoch seconds, the server's clock
    mode: int

    @property
    def name(self) -> str | None:
        """The name as text, or None when it is not UTF-8."""
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class DropJob:
    drop: str  # the institution's drop account
    batch: str  # batch directory name
    files: list  # transforms.cohandling.batchfiles.BatchFile, manifest last
    replace: bool = False  # a replay with --force: a batch directory of that name already there is replaced (staged, then swapped)


@dataclass(frozen=True)
class JobResult:
    job: DropJob
    publication: Publication | None
    error: str | None
    attempts: int


class SftpDrops:
    """Publishes batches into institutions' drops on one SFTP server."""

    def __init__(self, host: str, port: int, username: str, *, key_file: str, known_hosts: str, root: str = "/",
                 max_workers: int = 4, max_attempts: int = 3, backoff_s: float = 0.5, timeout_s: float = 15.0) -> None:
        self.host, self.port, self.username = host, int(port), username
        self.key_file, self.known_hosts = key_file, known_hosts
        self.root = root.rstrip("/") or ""
        self.max_workers, self.max_attempts, self.backoff_s, self.timeout_s = max_workers, max_attempts, backoff_s, timeout_s
        self._client = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._dirs: set[str] = set()
        self.connections_opened = 0

    @classmethod
    def from_conn_id(cls, conn_id: str = "gateway_sftp", **overrides) -> SftpDrops:
        """From an Airflow SFTP connection: host, port, login; extra: key_file, known_hosts, root, max_workers."""
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        extra = conn.extra_dejson
        kwargs = {
            "key_file": extra["key_file"], "known_hosts": extra["known_hosts"], "root": extra.get("root", "/"),
            "max_workers": int(extra.get("max_workers", 4)),
        }
        return cls(conn.host, conn.port or 22, conn.login, **(kwargs | overrides))

    # --- connection -------------------------------------------------------------------------

    def _transport(self):
        import paramiko

        with self._lock:
            if self._client is not None and self._client.get_transport() is not None and self._client.get_transport().is_active():
                return self._client.get_transport()
            client = paramiko.SSHClient()
            client.load_host_keys(self.known_hosts)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())  # an unknown host key is refused, never learnt
            client.connect(self.host, port=self.port, username=self.username, key_filename=self.key_file, look_for_keys=False,
                           allow_agent=False, timeout=self.timeout_s, banner_timeout=self.timeout_s, auth_timeout=self.timeout_s)
            client.get_transport().set_keepalive(30)
            self._client = client
            self.connections_opened += 1
            self._generation = getattr(self, "_generation", 0) + 1
            return client.get_transport()

    def _sftp(self):
        """This thread's SFTP channel on the shared connection (reopened after a reconnect)."""
        import paramiko

        transport = self._transport()
        mine = getattr(self._local, "sftp", None)
        if mine is None or getattr(self._local, "generation", None) != self._generation:
            mine = paramiko.SFTPClient.from_transport(transport)
            mine.get_channel().settimeout(self.timeout_s)
            self._local.sftp = mine
            self._local.generation = self._generation
        return mine

    def _reconnect_if_dead(self) -> None:
        """Forget the shared connection only if it is really gone: other institutions' uploads are using it."""
        with self._lock:
            transport = self._client.get_transport() if self._client is not None else None
            alive = transport is not None and transport.is_active()
        if not alive:
            self._drop_connection()
        else:
            self._local.sftp = None  # this thread's channel may be broken: it opens a fresh one

    def _drop_connection(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            self._dirs = set()
        self._local = threading.local()

    def close(self) -> None:
        self._drop_connection()

    # --- publishing -------------------------------------------------------------------------

    def publish_all(self, jobs: Iterable[DropJob], *, on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
        """Publish many institutions' batches with at most `max_workers` at once; an error stays with its job."""
        jobs = list(jobs)
        results: list[JobResult] = []
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="sftp-drop") as pool:
            for result in pool.map(self._publish_with_retries, jobs):
                results.append(result)
                if on_result is not None:
                    on_result(result)
        return results

    def _publish_with_retries(self, job: DropJob) -> JobResult:
        import paramiko

        error = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return JobResult(job, self.publish(job), None, attempt)
            except DropConflict as exc:
                return JobResult(job, None, f"DropConflict: {exc}", attempt)
            except (PermissionError, FileNotFoundError) as exc:  # the server refused this drop (not provisioned?): the next run tries again
                return JobResult(job, None, f"{type(exc).__name__}: {exc} ({self.root}/{job.drop})", attempt)
            except (OSError, EOFError, paramiko.SSHException) as exc:  # TimeoutError is an OSError
                error = f"{type(exc).__name__}: {exc}"
                log.warning("sftp drop %s batch %s attempt %d failed: %s", job.drop, job.batch, attempt, error)
                self._reconnect_if_dead()
                if attempt < self.max_attempts:
                    time.sleep(self.backoff_s * 2 ** (attempt - 1))
        return JobResult(job, None, error, self.max_attempts)

    def publish(self, job: DropJob) -> Publication:
        """Publish one batch atomically into `/<drop>/outbox/<batch>/`, or find it already there."""
        sftp = self._sftp()
        outbox = f"{self.root}/{job.drop}/outbox"
        final = f"{outbox}/{job.batch}"
        names = tuple(f.name for f in job.files)
        there = self._exists(sftp, final)
        if there and not job.replace:
            self._verify(sftp, final, job)
            return Publication(job.drop, job.batch, names, True, final)
        # Each attempt stages in its own folder: two overlapping runs never write into each other's.
        staging = f"{self.root}/.staging/{job.drop}/{job.batch}.{uuid.uuid4().hex[:12]}"
        self._makedirs(sftp, posixpath.dirname(staging))
        self._clear_stale(sftp, posixpath.dirname(staging), job.batch)
        sftp.mkdir(staging)
        for f in job.files:  # manifest last; a failed pipelined write raises at close
            with sftp.open(f"{staging}/{f.name}", "wb") as fh:
                fh.set_pipelined(True)
                view = memoryview(f.data)
                for start in range(0, len(view), CHUNK):
                    fh.write(view[start:start + CHUNK])
        self._makedirs(sftp, outbox)
        if there:  # replace: the old directory goes aside into staging (out of view), the new one takes its name at once
            sftp.posix_rename(final, f"{staging}.replaced")
            sftp.posix_rename(staging, final)
            self._remove_tree(sftp, f"{staging}.replaced")
            return Publication(job.drop, job.batch, names, False, final)
        try:
            sftp.posix_rename(staging, final)
        except OSError:
            if self._exists(sftp, final):  # a concurrent publisher of the same batch won: check it is ours
                self._verify(sftp, final, job)
                self._remove_tree(sftp, staging)
                return Publication(job.drop, job.batch, names, True, final)
            raise
        return Publication(job.drop, job.batch, names, False, final)

    def _verify(self, sftp, path: str, job: DropJob) -> None:
        present = {a.filename: a.st_size for a in sftp.listdir_attr(path)}
        wanted = {f.name: f.size for f in job.files}
        if present != wanted:
            raise DropConflict(f"{path} holds {sorted(present)} (sizes {present}), expected {wanted}: not overwritten")
        for f in job.files:
            digest = hashlib.sha256()
            with sftp.open(f"{path}/{f.name}", "rb") as fh:
                fh.prefetch(f.size)
                digest.update(fh.read())
            if digest.hexdigest() != f.sha256:
                raise DropConflict(f"{path}/{f.name} has SHA-256 {digest.hexdigest()}, expected {f.sha256}: not overwritten")

    def _clear_stale(self, sftp, folder: str, batch: str, older_than_s: float = 3600) -> None:
        """Remove this batch's staging folders left by attempts cut off more than an hour ago."""
        for entry in sftp.listdir_attr(folder):
            if entry.filename.startswith(batch + ".") and (entry.st_mtime or 0) < time.time() - older_than_s:
                self._remove_tree(sftp, f"{folder}/{entry.filename}")

    @staticmethod
    def _exists(sftp, path: str) -> bool:
        try:
            sftp.stat(path)
            return True
        except FileNotFoundError:
            return False

    def _makedirs(self, sftp, path: str) -> None:
        """Create `path` and its parents as needed; directories seen once are not asked about again.

        Several publishers (this drop's threads, other workers) create the same folders on a fresh
        drop host at once: a mkdir that fails because another made the folder in between (the
        server answers "Failure" or "File exists") is fine once a second look finds a directory."""
        if path in self._dirs:
            return
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            if current in self._dirs:
                continue
            try:
                if not stat.S_ISDIR(sftp.stat(current).st_mode):
                    raise NotADirectoryError(f"{current} is not a directory")
            except FileNotFoundError:
                _mkdir_once(sftp, current)
            self._dirs.add(current)

    def _remove_tree(self, sftp, path: str) -> None:
        for entry in sftp.listdir_attr(path):
            child = f"{path}/{entry.filename}"
            if stat.S_ISDIR(entry.st_mode):
                self._remove_tree(sftp, child)
            else:
                sftp.remove(child)
        sftp.rmdir(path)

    # --- results coming back --------------------------------------------------------------------
    #
    # File names in an inbox are whatever the institution's client wrote: bytes, not always
    # UTF-8. paramiko decodes names strictly (one non-UTF-8 name would stop the listing of the
    # whole inbox), so the listing reads them as raw bytes, and every inbox operation takes the
    # raw name: a bad name is one bad file, refused on its own.

    def list_inbox(self, drop: str) -> list[InboxEntry]:
        """The regular files an institution left in its inbox (raw names; sub-folders such as receipts/ and dot-files ignored)."""
        from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR
        from paramiko.sftp_attr import SFTPAttributes

        sftp = self._sftp()
        try:
            kind, msg = sftp._request(CMD_OPENDIR, f"{self.root}/{drop}/inbox".encode())  # paramiko's own request, names kept as bytes
        except FileNotFoundError:
            return []
        if kind != CMD_HANDLE:
            raise OSError(f"{drop}/inbox: unexpected answer to opendir")
        handle = msg.get_binary()
        entries: list[InboxEntry] = []
        try:
            while True:
                try:
                    kind, msg = sftp._request(CMD_READDIR, handle)
                except EOFError:
                    break
                except FileNotFoundError:
                    if entries:
                        raise
                    break  # some servers (asyncssh's) open a missing folder and refuse at the first read: no inbox yet, nothing waits
                if kind != CMD_NAME:
                    raise OSError(f"{drop}/inbox: unexpected answer to readdir")
                for _ in range(msg.get_int()):
                    raw = msg.get_string()
                    msg.get_string()  # longname
                    attr = SFTPAttributes._from_msg(msg)
                    if raw in (b".", b"..") or raw.startswith(b".") or not stat.S_ISREG(attr.st_mode or 0):
                        continue
                    entries.append(InboxEntry(raw, int(attr.st_size or 0), int(attr.st_mtime or 0), int(attr.st_mode or 0)))
        finally:
            sftp._request(CMD_CLOSE, handle)
        return sorted(entries, key=lambda e: e.raw)

    def _inbox_path(self, drop: str, raw: bytes) -> bytes:
        if b"/" in raw or raw in (b".", b".."):
            raise ValueError("not a file name")
        return f"{self.root}/{drop}/inbox/".encode() + raw

    def fetch(self, drop: str, name: bytes | str, *, max_bytes: int | None = None) -> bytes:
        """An inbox file's bytes; with `max_bytes`, at most that many plus one (the caller sees it is over)."""
        raw = name.encode() if isinstance(name, str) else name
        sftp = self._sftp()
        path = self._inbox_path(drop, raw)
        with sftp.open(path, "rb") as fh:
            size = sftp.stat(path).st_size or 0
            limit = size if max_bytes is None else min(size, max_bytes + 1)
            fh.prefetch(limit)
            return fh.read(limit if max_bytes is not None else None)

    def archive(self, drop: str, name: bytes | str, folder: str, *, as_name: str | None = None) -> str:
        """Move an inbox file out of the institution's view: /.results/<drop>/<folder>/<name> (`as_name` for a name not fit to keep)."""
        raw = name.encode() if isinstance(name, str) else name
        sftp = self._sftp()
        target_dir = f"{self.root}/.results/{drop}/{folder}"
        self._makedirs(sftp, target_dir)
        base = as_name or raw.decode("utf-8")
        target = f"{target_dir}/{base}"
        n = 1
        while self._exists(sftp, target):
            target = f"{target_dir}/{n}.{base}"
            n += 1
        sftp.posix_rename(self._inbox_path(drop, raw), target.encode())
        return target

    def write_receipt(self, drop: str, name: str, data: bytes) -> bool:
        """Leave a note for the institution in `/<drop>/inbox/receipts/<name>`, once: False when it is already there."""
        sftp = self._sftp()
        folder = f"{self.root}/{drop}/inbox/receipts"
        self._makedirs(sftp, folder)
        final = f"{folder}/{name}"
        if self._exists(sftp, final):
            return False
        temp = f"{folder}/.{name}.{uuid.uuid4().hex[:8]}"  # written whole, then renamed: the institution never reads half a note
        with sftp.open(temp, "wb") as fh:
            fh.write(data)
        sftp.chmod(temp, 0o644)
        sftp.posix_rename(temp, final)
        return True

    def list_outbox(self, drop: str) -> list[str]:
        """Batch directories in an institution's outbox (tests, operators)."""
        sftp = self._sftp()
        try:
            return sorted(sftp.listdir(f"{self.root}/{drop}/outbox"))
        except FileNotFoundError:
            return []


def _mkdir_once(sftp, path: str) -> None:
    """mkdir, tolerating the race with another publisher: an error is raised only if `path` is then not a directory."""
    try:
        sftp.mkdir(path)
    except OSError as exc:  # paramiko: IOError("Failure") from OpenSSH, "File exists" from others
        try:
            made = stat.S_ISDIR(sftp.stat(path).st_mode)
        except OSError:
            made = False
        if not made:
            raise exc from None
        log.debug("sftp drop: %s was made by another publisher at the same moment", path)


def write_known_hosts(path: str | Path, host: str, port: int, public_key_line: str) -> None:
    """A known_hosts entry for a server on a non-standard port: `[host]:port keytype key`."""
    name = host if int(port) == 22 else f"[{host}]:{port}"
    kind, key = public_key_line.split()[:2]
    Path(path).write_text(f"{name} {kind} {key}\n", encoding="ascii")
