"""A real OpenSSH `sshd` for the SFTP tests: its own config, host key and port on loopback,
one system account per institution confined (ChrootDirectory) to its own drop, and the
gateway's account confined to the drops root.

Needs root (to create the accounts and for sshd's chroot) and Debian's openssh-server
(`.ci/run` installs it). Directories live under /srv, not /tmp: sshd refuses a chroot
whose path has a group- or world-writable component.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def available() -> str | None:
    """Why a real sshd cannot run here, or None."""
    if not Path(SSHD).exists():
        return f"{SSHD} missing (install Debian's openssh-server)"
    if os.geteuid() != 0:
        return "not root: sshd cannot chroot or switch to the test accounts"
    if shutil.which("useradd") is None:
        return "useradd missing"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*args: str) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


class OpenSshServer:
    """sshd on 127.0.0.1:<port>; `gateway` writes every drop, each institution reads only its own."""

    def __init__(self, drops: list[str]) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.base = Path(f"/srv/gwtest-{self.tag}")
        self.root = self.base / "drops"
        self.gateway = f"gwt{self.tag}"
        self.drops = list(drops)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.keys = self.base / "keys"
        self.client_key = self.base / "client" / "id_ed25519"
        self.known_hosts = self.base / "client" / "known_hosts"
        self.users: list[str] = []

    # --- setup --------------------------------------------------------------------------------

    def setup(self) -> OpenSshServer:
        try:
            return self._setup()
        except BaseException:
            self.cleanup()
            raise

    def _setup(self) -> OpenSshServer:
        for d in (self.base, self.root, self.keys, self.client_key.parent):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        os.chmod(self.client_key.parent, 0o700)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.base / "ssh_host_ed25519_key"))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.client_key))
        self._user(self.gateway)
        for private in (".staging", ".results"):  # the gateway's own areas, outside every institution's view
            folder = self.root / private
            folder.mkdir()
            shutil.chown(folder, self.gateway, self.gateway)
            os.chmod(folder, 0o700)
        for drop in self.drops:
            self.add_drop(drop)
        host_pub = (self.base / "ssh_host_ed25519_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self._write_config()
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation directory
        self.start()
        return self

    def _user(self, name: str) -> None:
        # An account of this name left by a run that was killed before it could clean up (names follow
        # the institution codes, so they repeat across runs): remove it rather than fail on "exists".
        if subprocess.run(["getent", "passwd", name], capture_output=True).returncode == 0:
            subprocess.run(["userdel", name], capture_output=True)
            subprocess.run(["groupdel", name], capture_output=True)
        _run("useradd", "--badname", "-M", "-U", "-s", "/usr/sbin/nologin", "-d", "/nonexistent", name) if _badname_ok() else \
            _run("useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-d", "/nonexistent", name)
        _run("usermod", "-p", "*", name)  # no password, but not locked: sshd refuses locked accounts without PAM
        self.users.append(name)
        key = self.keys / name
        shutil.copy(self.client_key.with_suffix(".pub"), key)
        os.chmod(key, 0o644)

    def add_drop(self, drop: str, *, key_from: Path | None = None) -> None:
        """An institution account and its chroot: /<drop> (root-owned) with outbox (gateway writes) and inbox."""
        self._user(drop)
        if key_from is not None:
            shutil.copy(key_from, self.keys / drop)
        home = self.root / drop
        home.mkdir()
        os.chmod(home, 0o755)
        outbox, inbox = home / "outbox", home / "inbox"
        outbox.mkdir()
        inbox.mkdir()
        shutil.chown(outbox, self.gateway, drop)
        os.chmod(outbox, 0o2750)  # the gateway writes; the institution (its group) reads; nobody else
        shutil.chown(inbox, drop, self.gateway)
        os.chmod(inbox, 0o2770)

    def _write_config(self) -> None:
        (self.base / "sshd_config").write_text(f"""
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.base / 'ssh_host_ed25519_key'}
PidFile {self.base / 'sshd.pid'}
AuthorizedKeysFile {self.keys}/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PermitRootLogin no
AllowTcpForwarding no
X11Forwarding no
MaxSessions 64
MaxStartups 100:30:200
LogLevel ERROR
Subsystem sftp internal-sftp
Match User {self.gateway}
    ChrootDirectory {self.root}
    ForceCommand internal-sftp -u 0022
Match User *,!{self.gateway}
    ChrootDirectory {self.root}/%u
    ForceCommand internal-sftp -u 0027
""", encoding="ascii")

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.base / "sshd_config")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def stop(self) -> None:
        """Stop sshd and every session it has open (an outage)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        subprocess.run(["pkill", "-f", f"sshd: .*{self.gateway}"], capture_output=True)
        for user in self.users:
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)

    def clear(self) -> None:
        """Empty every outbox, inbox and the staging area (between tests)."""
        for path in [*self.root.glob("*/outbox/*"), *self.root.glob("*/inbox/*"), *(self.root / ".staging").glob("*"), *(self.root / ".results").glob("*")]:
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def cleanup(self) -> None:
        self.stop()
        for user in self.users:
            subprocess.run(["userdel", user], capture_output=True)
            subprocess.run(["groupdel", user], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    # --- what the tests use ---------------------------------------------------------------------

    def connection(self, **extra) -> dict:
        """The gateway's Airflow SFTP connection (as AIRFLOW_CONN_GATEWAY_SFTP JSON)."""
        return {"conn_type": "sftp", "host": "127.0.0.1", "port": self.port, "login": self.gateway,
                "extra": {"key_file": str(self.client_key), "known_hosts": str(self.known_hosts), "root": "/", **extra}}

    def sftp_batch(self, user: str, commands: str, *, cwd: Path) -> subprocess.CompletedProcess:
        """The stock OpenSSH `sftp -b` client, as county IT would run it, logged in as `user`."""
        script = cwd / f"sftp-{uuid.uuid4().hex[:6]}.txt"
        script.write_text(commands)
        return subprocess.run(
            ["sftp", "-b", str(script), "-P", str(self.port), "-i", str(self.client_key), "-o", f"UserKnownHostsFile={self.known_hosts}",
             "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"{user}@127.0.0.1"],
            cwd=cwd, capture_output=True, text=True, timeout=60,
        )


def drops_for(server: OpenSshServer, **kw):
    """The gateway's SftpDrops on `server` (fast retries for tests)."""
    from connectors.sftp_drop import SftpDrops

    c = server.connection()
    return SftpDrops("127.0.0.1", server.port, server.gateway, key_file=c["extra"]["key_file"], known_hosts=c["extra"]["known_hosts"],
                     **({"backoff_s": 0.05} | kw))


def _badname_ok() -> bool:
    done = subprocess.run(["useradd", "--help"], capture_output=True, text=True)
    return "--badname" in done.stdout
