"""A ledger with routed work orders, built the way the daily DAG builds it (for delivery tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry, load_form
from simulators.platform import generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file())
AS_OF = datetime(2026, 11, 20, 6)


def routed_ledger(url: str, tmp_path: Path, rows: int = 250, seed: int = 51) -> Ledger:
    """Sample forms loaded, `rows` synthetic records extracted, validated and routed (run "r1")."""
    platform_url = f"sqlite:///{tmp_path / 'platform.db'}"
    platform = PlatformDB(platform_url)
    platform.create()
    platform.write(generate(rows, seed=seed, start="2026-10-01", end="2026-11-19", as_of=AS_OF, registry=build_registry()))
    ledger = Ledger(url)
    ledger.migrate()
    for form in SAMPLES:
        load_form(ledger, form, now=datetime(2026, 1, 1))
    extract_changes(RecordSource(platform_url), ledger, run_id="r1")
    validate_run(ledger, run_id="r1", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp_path / "out", data_docs=False)
    route_run(ledger, run_id="r1", as_of=AS_OF)
    return ledger
