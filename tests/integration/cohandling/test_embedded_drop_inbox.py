"""The embedded drop server (`make run`'s, asyncssh) and a drop whose institution never made an inbox:
asyncssh opens a missing folder and refuses at the first read; the gateway reads that as an empty
inbox, as it does OpenSSH's refusal at open — not as an error on every collection."""

from __future__ import annotations

import pytest

from connectors.sftp_drop import SftpDrops
from simulators.sftp_server import EmbeddedSftp

pytestmark = pytest.mark.integration


def test_a_drop_without_an_inbox_is_an_empty_inbox(tmp_path):
    root, state = tmp_path / "root", tmp_path / "state"
    (root / "with" / "inbox").mkdir(parents=True)
    (root / "with" / "inbox" / "r.csv").write_bytes(b"x\n")
    (root / "without").mkdir()
    state.mkdir()
    server = EmbeddedSftp(root, state).start()
    try:
        c = server.connection()
        drops = SftpDrops("127.0.0.1", c["port"], c["login"], key_file=c["extra"]["key_file"], known_hosts=c["extra"]["known_hosts"], root="/")
        assert [e.raw for e in drops.list_inbox("with")] == [b"r.csv"]
        assert drops.list_inbox("without") == []
        assert drops.list_inbox("never_provisioned") == []
    finally:
        server.stop()
