"""The local deployment's databases and first data (`make deploy-local`; tools/deploy.py).

- `ensure_databases`: the metadata, platform and ledger databases on the machine's PostgreSQL,
  created when missing (never dropped here; `python -m tools.deploy clean` drops them).
- `seed`: what the platform holds before the gateway's first run, built as `make run` builds it
  (tools/demo.py) with the simulators' own functions: the exchange table with synthetic
  co-handling records (labelled defects), the remote-collection module's packages, the counties'
  sample Annex 2 / Annex 3 forms and checklists in the inboxes. Only once: a platform that
  already holds changes is left as it is, so deploying twice writes nothing twice.
- `platform_writes_more`: the platform's next day — new records, late rows with old DBSJ and
  corrections, as the demo's second run sees them (`make test-deploy` uses it).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from transforms.common import localtime

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def pg_url(database: str) -> str:
    """SQLAlchemy URL of a database on the machine's PostgreSQL (trust authentication on loopback)."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def ensure_databases(names: list[str]) -> list[str]:
    """Create each database that does not exist yet; returns those created."""
    import psycopg
    from psycopg import sql

    created = []
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in names:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                created.append(name)
    return created


def drop_databases(names: list[str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seed(platform_db: str, home: Path, *, rows: int, packages: int) -> dict:
    """The platform's records and packages and the counties' forms, unless the platform holds changes already."""
    from simulators.platform import default_period, fill
    from simulators.platform_db import PlatformDB
    from simulators.remote_db import RemoteDB
    from simulators.remote_module import generate

    url = pg_url(platform_db)
    platform = PlatformDB(url)
    module = RemoteDB(url)
    try:
        platform.create()
        module.create()
        if platform.count() > 0:
            return {"seeded": False, "platform_changes": platform.count(), "packages": module.count()}
        start, end = default_period(30)
        fill(platform, rows, seed=2021, start=start, end=end)
        local_now = localtime.local_now().replace(microsecond=0)
        batch = generate(packages, seed=7021, start=local_now - timedelta(days=28), end=local_now - timedelta(hours=1), defect_rate=0.1,
                         cross_province_rate=0.05)
        module.write(batch)
        forms = _copy_forms(ROOT / "forms" / "samples", home / "inbox" / "registry")
        checklists = _copy_forms(ROOT / "forms" / "samples" / "remote", home / "inbox" / "checklists")
        return {"seeded": True, "platform_changes": platform.count(), "packages": module.count(), "forms": forms, "checklists": checklists}
    finally:
        platform.dispose()
        module.dispose()


def platform_writes_more(platform_db: str, *, rows: int, seed: int = 3021) -> dict:
    """The platform's next day, as the demo writes it between its two runs: `rows` new records, a
    quarter as many late rows with old DBSJ, and corrections of half the records so far."""
    from simulators.platform import corrections, default_period, fill, generate
    from simulators.platform_db import PlatformDB
    from simulators.registry import build_registry

    platform = PlatformDB(pg_url(platform_db))
    try:
        start, end = default_period(30)
        before = platform.count()
        registry = build_registry()
        fill(platform, rows, seed=seed, start=end - timedelta(days=1), end=end, first_index=before)
        late = max(1, rows // 4)
        platform.write(generate(late, seed=seed + 1000, start=start - timedelta(days=60), end=start, as_of=end, registry=registry,
                                first_index=before + rows))
        fixed = corrections(platform.truth(), seed=seed + 2000, registry=registry, fraction=0.5)
        platform.write(fixed)
        return {"new": rows, "late": late, "corrections": len(fixed), "platform_changes": platform.count()}
    finally:
        platform.dispose()


def _copy_forms(source: Path, inbox: Path) -> int:
    inbox.mkdir(parents=True, exist_ok=True)
    forms = sorted(p for p in source.iterdir() if p.is_file())
    for form in forms:
        shutil.copy(form, inbox / form.name)
    return len(forms)
