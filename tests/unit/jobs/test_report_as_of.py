"""A report as of T can be reproduced: written again after more results, acknowledgements, exceptions,
a correction (a new work-order version, delivered) and its delivery arrived after T, the report as of T
has the same tables cell for cell and the same fingerprint; a report as of now differs. In-memory
receivers and a local-folder drop on a SQLite ledger (tests/integration/pipeline.py builds it)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.ledger import utcnow
from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.collect_results import collect_results, reconcile_now, record_balance, result_feeds, write_period_report
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry
from simulators.platform_db import EXCHANGE_TABLE, PlatformDB
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.annex1 import FIELD_CODES


def _local_now() -> datetime:
    return utcnow() + timedelta(hours=8)


def _key(d: dict) -> str:
    return f"{d['rowguid']}:{d['utility']}:{d['version']}"


def _result_file(drops: LocalDrops, drop: str, name: str, rows: list[str]) -> None:
    drops.put_result(drop, name, ("GDBH,JGDM,JGSM,BLSJ,BLR\n" + "\n".join(rows) + "\n").encode(), mtime=time.time() - 3600)


def _publish(made: dict[str, FakeReceiver], taken: set[str], per_receiver: int, code: str, handled: str) -> int:
    """Results for `per_receiver` work orders each receiver holds and has not answered yet (`taken`)."""
    n = 0
    for receiver in made.values():
        for key in [k for k in receiver.held if k not in taken][:per_receiver]:
            receiver.publish_result(key, code=code, handled_at=handled, reason=None if code in ("0000", "0100") else "欠费未结清")
            taken.add(key)
            n += 1
    return n


def _correct(platform_url: str, rowguid: str) -> None:
    """The platform corrects a record (OP U, a new address): a new version of its work orders."""
    platform = PlatformDB(platform_url)
    with platform.engine.connect() as conn:
        row = conn.execute(sa.text(f"SELECT * FROM {EXCHANGE_TABLE} WHERE ROWGUID = :g ORDER BY CHANGE_SEQ DESC"), {"g": rowguid}).mappings().first()
    platform.write_rows([{**{c: row[c] for c in FIELD_CODES}, "OP": "U", "FWZL": f"{row['FWZL']}（更正）"}])
    platform.dispose()


def _csvs(meta: dict) -> dict[str, bytes]:
    return {k: Path(v).read_bytes() for k, v in meta["files"].items() if k.startswith("csv:")}


def test_a_report_as_of_t_is_the_same_after_more_results_and_a_correction(tmp_path):
    report_as_of_t_reproduces(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)


def report_as_of_t_reproduces(url: str, tmp_path: Path) -> None:
    """The test's body on a ledger at `url` (tests/integration/cohandling/test_report_as_of_pg.py runs it on PostgreSQL)."""
    ledger = routed_ledger(url, tmp_path, rows=120, seed=62)
    try:
        drops, made = LocalDrops(tmp_path / "drops"), {}
        channels = SimpleNamespace(receiver_for=lambda channel, destination: made.setdefault(destination, FakeReceiver(destination)))
        deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=channels.receiver_for)
        delivered = [d for d in ledger.cohandling.deliveries() if d["status"] == "delivered"]
        accounts = [d for d in delivered if d["channel"] == "account"]
        drop = accounts[0]["destination"]
        assert len(accounts) >= 2
        time.sleep(1.1)  # a handling time (whole seconds) after the delivery
        handled = _local_now().strftime("%Y-%m-%dT%H:%M:%S")
        taken: set[str] = set()

        # Before T: two done per receiver, one result file with a good and a bad row.
        _publish(made, taken, 2, "0000", handled)
        in_file = (_local_now() + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")  # a file gives minutes: the next one, after the delivery
        _result_file(drops, drop, "result_1.csv", [f"{_key(accounts[0])},0000,,{in_file},李娜", f"nobody:water:1,0000,,{in_file},李娜"])
        taken.add(_key(accounts[0]))
        first = collect_results(ledger, as_of=_local_now() + timedelta(hours=1), drops=drops, feeds=result_feeds(ledger, channels), run_id="c1")
        assert first.errors == [] and first.results > 0 and first.exceptions == 1

        time.sleep(0.05)
        t = _local_now()
        time.sleep(0.05)
        day, last = (delivered[0]["delivered_at"] + timedelta(hours=8)).date(), t.date()
        before = write_period_report(ledger, first=day, last=last, as_of=t, out_dir=tmp_path / "before")
        statuses_before = reconcile_now(ledger, as_of=t)

        # After T: acknowledgements, done and refused results, another bad row, a correction routed and delivered.
        assert _publish(made, taken, 1, "0100", handled) > 0
        assert _publish(made, taken, 2, "0003", handled) > 0
        assert _publish(made, taken, 2, "0000", handled) > 0
        _result_file(drops, accounts[1]["destination"], "result_2.csv", [f"{_key(accounts[1])},0000,,{in_file},李娜", f"nobody:gas:1,0000,,{in_file},李娜"])
        corrected = next(d for d in delivered if d["channel"] != "account" and _key(d) not in taken)["rowguid"]
        _correct(f"sqlite:///{tmp_path / 'platform.db'}", corrected)
        extract_changes(RecordSource(f"sqlite:///{tmp_path / 'platform.db'}"), ledger, run_id="r2", settle=timedelta(0), until=utcnow() + timedelta(seconds=5))
        validate_run(ledger, run_id="r2", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp_path / "out2", data_docs=False)
        route_run(ledger, run_id="r2", as_of=AS_OF)
        deliver_run(ledger, run_id="r2", day=AS_OF, drops=drops, receiver_for=channels.receiver_for)
        later = collect_results(ledger, as_of=_local_now() + timedelta(hours=1), drops=drops, feeds=result_feeds(ledger, channels), run_id="c2")
        assert later.errors == [] and later.results > 0 and later.exceptions == 1
        versions = {(w["utility"], w["version"]) for w in ledger.cohandling.work_orders() if w["rowguid"] == corrected}
        assert any(v > 1 for _, v in versions), versions  # the correction made a new version in force

        again = write_period_report(ledger, first=day, last=last, as_of=t, out_dir=tmp_path / "again")
        now = write_period_report(ledger, first=day, last=last, as_of=_local_now() + timedelta(minutes=1), out_dir=tmp_path / "now")
        statuses_again = reconcile_now(ledger, as_of=t)
        # Read as of no bound, the as-of statements agree with the tables of now (the work orders in force, their statuses, the balance).
        current = {(w["rowguid"], w["utility"]): (w["version"], w["status"]) for w in ledger.cohandling.work_orders()}
        orders = ledger.cohandling.reconciliation_input()
        assert dict(zip(zip(orders["rowguid"], orders["utility"]), zip(orders["version"], orders["order_status"]))) == current
        assert record_balance(ledger, datetime(9999, 12, 31)) == record_balance(ledger)
    finally:
        ledger.dispose()

    # As of T, again: the same tables, byte for byte, and the same fingerprint; what changed is only when it was generated.
    assert _csvs(again) == _csvs(before)
    assert again["records"] == before["records"] and before["records"]["received"] == 120
    assert again["statuses"] == before["statuses"] and again["exceptions"] == before["exceptions"] == 1
    assert again["provenance"]["fingerprint"] == before["provenance"]["fingerprint"]
    assert {k: v for k, v in again["provenance"].items() if k != "generated_at"} == {k: v for k, v in before["provenance"].items() if k != "generated_at"}
    assert statuses_again[["rowguid", "utility", "version", "status"]].equals(statuses_before[["rowguid", "utility", "version", "status"]])
    assert set(statuses_before.loc[statuses_before["rowguid"] == corrected, "version"]) == {1}

    # As of now: the later results, the exception and the corrected version count; the fingerprint differs.
    assert now["provenance"]["fingerprint"] != before["provenance"]["fingerprint"]
    assert now["statuses"].get("rejected", 0) > before["statuses"].get("rejected", 0) == 0
    assert now["statuses"].get("done", 0) > before["statuses"].get("done", 0) > 0
    assert now["exceptions"] == 2
    assert now["provenance"]["newest_result_id"] > before["provenance"]["newest_result_id"]
    assert now["provenance"]["newest_change_seq"] > before["provenance"]["newest_change_seq"]

    # Each file says what it was computed from.
    from openpyxl import load_workbook

    prov = before["provenance"]
    assert prov["as_of"] == t.isoformat(sep=" ") and sa.make_url(prov["ledger"]).database == sa.make_url(url).database
    page = (tmp_path / "before" / "report.html").read_text(encoding="utf-8")
    assert prov["fingerprint"] in page and str(prov["newest_result_id"]) in page
    book = load_workbook(tmp_path / "again" / "report.xlsx", read_only=True)
    notes = {row[1]: row[2] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["fingerprint"] == prov["fingerprint"] and notes["as_of"] == t.isoformat(sep=" ")
    assert json.loads((tmp_path / "again" / "report.json").read_text(encoding="utf-8"))["provenance"]["fingerprint"] == prov["fingerprint"]
