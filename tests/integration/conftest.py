"""Fixtures of the integration tier that several modules share."""

from __future__ import annotations

import pytest

from tests.conftest import service_missing
from tests.integration import openssh


@pytest.fixture(scope="module")
def sshd_server():
    """A real OpenSSH sshd for the module (tests/integration/openssh.py); its accounts are removed afterwards."""
    why = openssh.available()
    if why:
        service_missing(f"OpenSSH sshd ({why})")
    server = openssh.OpenSshServer([]).setup()
    yield server
    server.cleanup()


@pytest.fixture
def sshd(sshd_server):
    """The module's sshd, running, with every drop empty."""
    if sshd_server.proc.poll() is not None:
        sshd_server.start()
    sshd_server.clear()
    return sshd_server
