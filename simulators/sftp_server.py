"""An embedded SFTP drop server for `make run` (asyncssh, pure Python): the province's drop
host, with the gateway's account confined to the drops root.

The tests use a real OpenSSH sshd instead (tests/integration/openssh.py), with one account
per institution; here only the gateway logs in, so one account is enough. Host key and the
gateway's client key are generated on first start; a known_hosts line is written for the
gateway to verify the server.

    python -m simulators.sftp_server --root var/drops --state var/sftp   # prints LISTENING <port>
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

GATEWAY_USER = "gateway"


def ensure_keys(state: Path) -> tuple[Path, Path]:
    """(host key, gateway client key): generated once, kept in `state`."""
    import asyncssh

    state.mkdir(parents=True, exist_ok=True)
    host, client = state / "ssh_host_ed25519_key", state / "gateway_ed25519"
    for path in (host, client):
        if not path.exists():
            key = asyncssh.generate_private_key("ssh-ed25519")
            key.write_private_key(str(path))
            key.write_public_key(str(path) + ".pub")
            os.chmod(path, 0o600)
    return host, client


async def _serve(root: Path, state: Path, port: int) -> None:
    import asyncssh

    host_key, client_key = ensure_keys(state)
    authorized = asyncssh.import_authorized_keys(Path(str(client_key) + ".pub").read_text())
    root.mkdir(parents=True, exist_ok=True)

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key) -> bool:
            return username == GATEWAY_USER and authorized.validate(key, "127.0.0.1", "127.0.0.1") is not None

    server = await asyncssh.listen(
        "127.0.0.1", port, server_host_keys=[str(host_key)], server_factory=Server,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()), allow_scp=False,
    )
    bound = server.sockets[0].getsockname()[1]
    public = Path(str(host_key) + ".pub").read_text().split()
    (state / "known_hosts").write_text(f"[127.0.0.1]:{bound} {public[0]} {public[1]}\n")
    print(f"LISTENING {bound}", flush=True)
    await server.wait_closed()


class EmbeddedSftp:
    """The drop server as a child process (so `make run`'s DAG runs, in their own processes, can reach it)."""

    def __init__(self, root: Path, state: Path) -> None:
        self.root, self.state = Path(root), Path(state)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self) -> EmbeddedSftp:
        self.proc = subprocess.Popen([sys.executable, "-m", "simulators.sftp_server", "--root", str(self.root), "--state", str(self.state)],
                                     stdout=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("LISTENING"):
                self.port = int(line.split()[1])
                return self
            if self.proc.poll() is not None:
                break
        raise RuntimeError("the embedded SFTP server did not start")

    def connection(self) -> dict:
        """The gateway's Airflow SFTP connection to it (AIRFLOW_CONN_GATEWAY_SFTP as JSON)."""
        return {"conn_type": "sftp", "host": "127.0.0.1", "port": self.port, "login": GATEWAY_USER,
                "extra": {"key_file": str(self.state / "gateway_ed25519"), "known_hosts": str(self.state / "known_hosts"), "root": "/"}}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(_serve(args.root, args.state, args.port))


if __name__ == "__main__":
    main()
