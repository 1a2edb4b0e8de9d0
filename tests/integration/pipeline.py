"""A ledger with routed work orders, built the way the daily DAG builds it (for delivery tests), and closed in part (`close_orders`)."""

from __future__ import annotations

from datetime import datetime, timedelta
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


def close_orders(ledger: Ledger, *, every: int = 2) -> set[str]:
    """Deliver every work order (account batches published, HTTP items confirmed), record `done` for every work order of
    one record in `every` (the others stay at their receiver), queue their SMS and one result exception; the closed ROWGUIDs."""
    import pandas as pd

    from connectors.ledger import utcnow
    from jobs.cohandling.collect_results import queue_notifications

    now = utcnow()
    book = ledger.cohandling
    book.plan_deliveries(run_id="r1", day=now, now=now)
    for batch in book.open_account_batches():
        book.record_batch(batch["batch_id"], run_id="r1", delivered=True, error=None, receipt={"t": 1}, now=now)
    pending = [d for d in book.deliveries() if d["status"] == "pending"]
    for destination in sorted({d["destination"] for d in pending}):
        mine = [d for d in pending if d["destination"] == destination]
        book.record_http([{"rowguid": d["rowguid"], "utility": d["utility"], "version": d["version"], "status": "delivered", "attempts": 1,
                           "receipt_id": "x", "code": "0000"} for d in mine], run_id="r1", destination=destination, channel=mine[0]["channel"],
                         batch_name=f"b-{destination}", now=now)
    delivered = [d for d in book.deliveries() if d["status"] == "delivered"]
    closed = set(sorted({d["rowguid"] for d in delivered})[::every])
    accepted = pd.DataFrame([{"rowguid": d["rowguid"], "utility": d["utility"], "version": d["version"], "result": "done", "code": "0000",
                              "reason": None, "handled_at": now + timedelta(hours=8), "handler": "张工", "row": i}
                             for i, d in enumerate(delivered) if d["rowguid"] in closed])
    book.save_results(source="test", accepted=accepted, problems=[{"source": "test", "row_number": 3, "reason_code": "UNKNOWN_ROWGUID",
                                                                   "reason": "第3行", "value": "370102199001011234"}], now=now)
    queue_notifications(ledger)
    return closed
