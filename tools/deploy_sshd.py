"""The province's drop host for the local deployment (`make deploy-local`): a real OpenSSH sshd on a
loopback port, its own config (deploy/local/sshd_config.in), host key and accounts — as the
integration tests run it (tests/integration/openssh.py), but kept across restarts: everything lives
under the deployment's folder and is created only when missing.

One system account, the gateway's, chrooted to the drops root (`<home>/drops`, root-owned, as sshd
requires of a chroot) with key authentication only. Each account-mode institution's drop is
`/<drop>/outbox` (the gateway publishes there) and `/<drop>/inbox` (result files), created here
for every institution of the registry the sample forms describe: on the province's drop host the
host's administrators create them, with one account per institution chrooted to its drop
(docs/protocol/sftp-drop.md). The local deployment needs no institution logins, so it creates
none (and never clashes with the accounts the integration tests create and remove).

Needs root (the account, the chroot) and Debian's openssh-server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from string import Template

SSHD = "/usr/sbin/sshd"
TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "local" / "sshd_config.in"
PRIVATE_AREAS = (".staging", ".results")  # the gateway's own areas on the drop host, outside every drop


def available() -> str | None:
    """Why a real sshd cannot run here, or None."""
    if not Path(SSHD).exists():
        return f"{SSHD} missing (install Debian's openssh-server)"
    if os.geteuid() != 0:
        return "not root: sshd cannot chroot, nor can the gateway's account be created"
    if shutil.which("useradd") is None or shutil.which("ssh-keygen") is None:
        return "useradd or ssh-keygen missing"
    return None


def registry_drops() -> list[str]:
    """The drop of every account-mode institution of the synthetic registry (the one forms/samples are written from)."""
    from simulators.registry import build_registry
    from transforms.registry.drop_names import drop_account

    registry = build_registry()
    return sorted({drop_account(code) for code in registry.loc[registry["channel"] == "account", "code"]})


def prepare(home: Path, secrets: Path, *, user: str, port: int, drops: list[str]) -> dict:
    """Create what is missing — keys, the account, the drops, sshd_config, known_hosts — and return the
    gateway's `gateway_sftp` connection (a dict for the secrets backend's connections file)."""
    sshd_dir, drops_root, ssh_secrets = home / "sshd", home / "drops", secrets / "ssh"
    for folder, mode in ((sshd_dir, 0o755), (sshd_dir / "authorized_keys", 0o755), (drops_root, 0o755), (ssh_secrets, 0o700)):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, mode)
    _check_chroot_path(drops_root)
    host_key, client_key = sshd_dir / "ssh_host_ed25519_key", ssh_secrets / "id_ed25519"
    for key in (host_key, client_key):
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"gateway-deploy-{key.name}", "-f", str(key)], check=True)
    ensure_account(user)
    authorized = sshd_dir / "authorized_keys" / user
    authorized.write_text(client_key.with_suffix(".pub").read_text(encoding="ascii"), encoding="ascii")
    os.chmod(authorized, 0o644)
    for area in PRIVATE_AREAS:
        _folder(drops_root / area, user, 0o700)
    for drop in drops:
        add_drop(drops_root, drop, user)
    host_pub = host_key.with_suffix(".pub").read_text(encoding="ascii").split()
    known_hosts = ssh_secrets / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n", encoding="ascii")
    os.chmod(known_hosts, 0o600)
    config = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(home=home, port=port, user=user, drops=drops_root)
    (sshd_dir / "sshd_config").write_text(config, encoding="utf-8")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation directory
    subprocess.run([SSHD, "-t", "-f", str(sshd_dir / "sshd_config")], check=True)  # the config is valid
    return {"conn_type": "sftp", "host": "127.0.0.1", "port": port, "login": user,
            "extra": {"key_file": str(client_key), "known_hosts": str(known_hosts), "root": "/", "max_workers": 4}}


def add_drop(drops_root: Path, drop: str, user: str) -> None:
    """`/<drop>` (root-owned, as an institution's chroot must be) with outbox and inbox the gateway writes."""
    home = drops_root / drop
    home.mkdir(exist_ok=True)
    os.chmod(home, 0o755)
    _folder(home / "outbox", user, 0o755)
    _folder(home / "inbox", user, 0o770)


def ensure_account(user: str) -> None:
    """The gateway's system account on the drop host: created once, no password (but not locked: sshd
    without PAM refuses locked accounts), no shell, no home."""
    if subprocess.run(["getent", "passwd", user], capture_output=True).returncode == 0:
        return
    subprocess.run(["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-d", "/nonexistent", user], check=True, capture_output=True)
    subprocess.run(["usermod", "-p", "*", user], check=True, capture_output=True)


def remove_account(user: str) -> None:
    if subprocess.run(["getent", "passwd", user], capture_output=True).returncode == 0:
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", user], capture_output=True)


def wait_listening(port: int, timeout_s: float = 30) -> None:
    """Until sshd answers with its banner on the port."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"sshd is not listening on 127.0.0.1:{port}")


def _folder(path: Path, user: str, mode: int) -> None:
    path.mkdir(exist_ok=True)
    shutil.chown(path, user, user)
    os.chmod(path, mode)


def _check_chroot_path(path: Path) -> None:
    """sshd refuses a chroot any of whose components is not root-owned or is group- or world-writable."""
    for part in [path, *path.parents]:
        st = part.stat()
        if st.st_uid != 0 or st.st_mode & 0o022:
            raise SystemExit(f"{part} is not root-owned or is group/world-writable: sshd would refuse {path} as the drops' chroot")
