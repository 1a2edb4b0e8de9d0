"""The retention purge over remote collection (jobs/common/purge_personal.py), on SQLite and PostgreSQL, against the
property side simulated in its own process: packages the authority closed and packages returned to the hall lose their
applicants' IDs and names (every version), packages still open keep them, the balance is the same before and after,
and a purged package is never replayed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.ledger import utcnow
from connectors.ledger.schema import metadata
from jobs.common.accounting import lifetime_balance
from jobs.common.purge_personal import purge_personal
from jobs.common.replay import ReplayRefused, replay_package
from jobs.remote.deliver_packages import deliver_packages
from jobs.remote.package_intake import load_checklist_form
from jobs.remote.track_packages import collect_package_events
from simulators.remote_module import generate
from tests.integration.conftest import load_packages, utc

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
DAY1 = datetime(2025, 6, 3, 9, 0)
DAY2 = datetime(2025, 6, 20, 9, 0)


def _rows(ledger, table: str) -> list[dict]:
    t = metadata.tables[table]
    with ledger.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()]


def test_closed_and_returned_packages_are_purged_open_ones_kept_and_balances_unchanged(remote_flow):
    module, source, ledger, sim, receiver_for = remote_flow
    for path in SAMPLES:
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    batch = generate(40, seed=171, start="2025-05-06", end="2025-06-02", defect_rate=0.15, cross_province_rate=0.0)
    loaded = load_packages(module, source, ledger, batch, run_id="run-1", as_of=DAY1)
    assert loaded["returned"] > 0
    sim.clock(DAY1)
    sim.packages_mix(mix={"certified": 0.5, "silent": 0.5})
    deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY1))
    sim.clock(DAY2)
    collect_package_events(ledger, receiver_for=receiver_for, run_id="run-2", as_of=DAY2, now=utc(DAY2))

    states = {s["bwid"]: s for s in _rows(ledger, "remote_package_state")}
    closing = {(e["source"], e["change_seq"]) for e in _rows(ledger, "remote_event")
               if e["accepted"] and e["status"] in ("registered", "certificate_issued", "refused")}
    closed = {b for b, s in states.items() if (s["source"], s["change_seq"]) in closing}
    returned = {b for b, s in states.items() if s["status"] == "returned"}
    still_open = set(states) - closed - returned - {b for b, s in states.items() if s["status"] == "withdrawn"}
    assert closed and returned and still_open
    later = utcnow() + timedelta(days=200)
    before_balance = lifetime_balance(ledger, now=later).summary()
    bwid_of = {(p["source"], p["change_seq"]): p["bwid"] for p in _rows(ledger, "remote_package")}
    before = _rows(ledger, "remote_applicant")

    report = purge_personal(ledger, now=later, run_id="purge-remote")
    assert report.units["package"] == len(closed) and report.units["package_returned"] == len(returned)
    after = _rows(ledger, "remote_applicant")
    for old, new in zip(before, after, strict=True):
        bwid = bwid_of[(new["source"], new["change_seq"])]
        assert {k: v for k, v in old.items() if k not in ("sqrxm", "zjhm")} == {k: v for k, v in new.items() if k not in ("sqrxm", "zjhm")}
        if bwid in closed | returned:
            assert all(v in (None, "") or v.startswith("purged:") for v in (new["sqrxm"], new["zjhm"])), bwid
        else:
            assert new == old
    assert report.values["remote_applicant.zjhm"] == sum(1 for a in before if bwid_of[(a["source"], a["change_seq"])] in closed | returned and a["zjhm"])
    assert lifetime_balance(ledger, now=later).summary() == before_balance
    assert purge_personal(ledger, now=later).batches == 0

    target = sorted(closed)[0]
    with pytest.raises(ReplayRefused, match=rf"package {target}: its personal data was purged past retention"):
        replay_package(ledger, target, receiver_for=receiver_for, source=source, reason="登记系统恢复后重发", operator="赵工")
