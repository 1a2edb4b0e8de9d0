"""Test tiers by folder: tests/unit (no I/O), tests/dags (Airflow), tests/integration (real
PostgreSQL, OpenSSH, HTTP servers). An integration test whose service is missing skips on a
laptop and fails under CI=true."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_configure(config):
    # Airflow sets up logging when first imported, with its handler on the sys.stderr of that moment. Imported first
    # inside a test that captures output (capsys), that handler would keep the test's capture stream, closed when the test
    # ends, and every later log line of the session would fail ("I/O operation on closed file"). Imported here first.
    import airflow  # noqa: F401


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if tier in ("unit", "dags", "integration"):
            item.add_marker(getattr(pytest.mark, tier))


def service_missing(what: str) -> None:
    """Skip on a developer's machine; fail in CI, where every service must be there."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def pg_server() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "absent"
        service_missing(f"PostgreSQL at {PG_URL} ({type(exc).__name__})")
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture
def pg_schema_url(pg_server):
    """Makes URLs whose search_path is a fresh schema each, dropped afterwards: tests never share tables."""
    import sqlalchemy as sa

    engine = sa.create_engine(pg_server.replace("postgresql://", "postgresql+psycopg://"))
    schemas: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return f"{pg_server}?options=-csearch_path%3D{schema}"

    yield make
    with engine.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium through Playwright (tests/viewers.py); skipped on a laptop without it, a failure in CI."""
    from tests import viewers

    why = viewers.chromium_missing() or viewers.cjk_font_missing()
    if why:
        service_missing(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=viewers.CHROMIUM, args=viewers.CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page_at(browser):
    """page_at(width, height=900, offline=True) -> a fresh Playwright page of that viewport. Offline: every request that is
    not file:// or loopback is aborted and recorded in page.blocked (a page that needs the network shows it there)."""
    contexts = []

    def make(width: int = 1366, height: int = 900, *, offline: bool = True):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.blocked = []
        if offline:
            def guard(route):
                url = route.request.url
                if url.startswith(("file:", "data:", "about:", "blob:", "http://127.0.0.1", "http://localhost")):
                    route.continue_()
                else:
                    page.blocked.append(url)
                    route.abort()

            context.route("**/*", guard)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def office():
    """tests/viewers.py with LibreOffice headless and poppler checked present (skip on a laptop, fail in CI)."""
    from tests import viewers

    why = viewers.office_missing() or viewers.cjk_font_missing()
    if why:
        service_missing(why)
    return viewers


@pytest.fixture(params=["sqlite", "postgresql"])
def db_urls(request, tmp_path):
    """(platform URL, ledger URL) on SQLite files, or on real PostgreSQL (one schema each test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'platform.db'}", f"sqlite:///{tmp_path / 'ledger.db'}"
    make = request.getfixturevalue("pg_schema_url")
    return make(), make()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The hostile-input suite's reach: which (surface × hostile kind) pairs the run drove."""
    from tests.hostile import DEPTH, KINDS, covered

    pairs = covered()
    if not pairs:
        return
    surfaces = sorted({s for s, _ in pairs})
    terminalreporter.section("hostile-input suite")
    terminalreporter.write_line(f"{len(pairs)} (surface × hostile kind) pairs covered over {len(surfaces)} surfaces and {len({k for _, k in pairs})} of {len(KINDS)} kinds (HOSTILE_DEPTH={DEPTH})")
    for surface in surfaces:
        kinds = sorted(k for s, k in pairs if s == surface)
        terminalreporter.write_line(f"  {surface}: {len(kinds)} — {', '.join(kinds)}")


@pytest.fixture(scope="session", autouse=True)
def signing_key(tmp_path_factory):
    """The gateway's signing key for the whole run (GATEWAY_SIGNING_KEY_FILE, as production sets it), made fresh:
    returns the path of its public key (PEM), what an institution is given to check batches and receipts."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from jobs.common.signing_key import private_pem
    from transforms.common.signing import public_pem

    folder = tmp_path_factory.mktemp("signing")
    key = Ed25519PrivateKey.generate()
    (folder / "gateway-signing.pem").write_bytes(private_pem(key))
    (folder / "gateway-signing.pub.pem").write_bytes(public_pem(key.public_key()))
    before = os.environ.get("GATEWAY_SIGNING_KEY_FILE")
    os.environ["GATEWAY_SIGNING_KEY_FILE"] = str(folder / "gateway-signing.pem")
    yield folder / "gateway-signing.pub.pem"
    if before is None:
        os.environ.pop("GATEWAY_SIGNING_KEY_FILE", None)
    else:
        os.environ["GATEWAY_SIGNING_KEY_FILE"] = before
