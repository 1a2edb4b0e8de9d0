"""Fixtures of the integration tier that several modules share."""

from __future__ import annotations

from datetime import datetime, timedelta

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


def utc(local: datetime) -> datetime:
    """Shandong local time (naive) as the ledger's UTC (naive)."""
    return local - timedelta(hours=8)


@pytest.fixture
def remote_flow(db_urls, tmp_path):
    """Remote collection against the property side simulated in a real process: (module, source,
    ledger, simulator, receiver_for(destination) -> PackageReceiver), on SQLite or PostgreSQL."""
    from connectors.exchange_db import PackageSource
    from connectors.ledger import Ledger
    from connectors.package_receiver import PackageReceiver
    from simulators.receivers.receiver_process import ReceiverProcess
    from simulators.remote_db import RemoteDB

    key_id, secret = "gateway", "s3cret-remote"
    platform_url, ledger_url = db_urls
    module = RemoteDB(platform_url)
    module.create()
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = PackageSource(platform_url)
    sim = ReceiverProcess(tmp_path / "receivers.db", {key_id: secret})
    sim.start()
    clients: dict = {}

    def receiver_for(destination: str):
        if destination not in clients:
            url = sim.cross_province_url() if destination == "cross_province" else sim.county_url(destination.removeprefix("county_system_"))
            clients[destination] = PackageReceiver(url, key_id, secret, max_attempts=2, backoff_s=0.01, max_backoff_s=0.05, timeout_s=5)
        return clients[destination]

    yield module, source, ledger, sim, receiver_for
    for client in clients.values():
        client.close()
    sim.stop()
    for thing in (module, source, ledger):
        thing.dispose()


def load_packages(module, source, ledger, batch, *, run_id: str, as_of: datetime) -> dict:
    """The module writes `batch`; the gateway extracts and validates it (as of `as_of`, local)."""
    from jobs.remote.package_intake import extract_packages, validate_packages

    module.write(batch)
    extract_packages(source, ledger, run_id=run_id, until=utc(as_of) + timedelta(days=3650))
    return validate_packages(ledger, run_id=run_id, as_of=as_of)
