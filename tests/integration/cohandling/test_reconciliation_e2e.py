"""End to end: synthetic records → delivered to real SFTP drops and to the receiver simulators →
institutions and simulators answer with a known mix → collected, reconciled, reported; every
status and every number in the report equals the truth the answerers recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from connectors.http_receiver import HttpReceiver
from jobs.cohandling.collect_results import collect_results, write_period_report
from jobs.cohandling.deliver_orders import deliver_run
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration import openssh
from tests.integration.institutions import answer
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.result_files import RESULT_CODES
from transforms.common.workdays import WorkdayCalendar
from transforms.reporting.cohandling_tables import report_tables

KEY, SECRET = "gw-e2e", "e2e-secret"


def test_statuses_and_report_numbers_equal_the_truth(sshd, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=160, seed=81)
    for drop in sorted({w["destination"] for w in ledger.cohandling.work_orders() if w["channel"] == "account" and w["status"] == "ready"}):
        sshd.add_drop(drop)
    drops = openssh.drops_for(sshd)
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as receivers:
        receivers.results_mix(mix={"done": 0.6, "duplicate": 0.05, "no_account": 0.05, "arrears": 0.05, "other": 0.05, "silent": 0.1, "late": 0.1},
                              delay_days=[0, 2], late_days=[9, 14], acknowledge=True)

        def receiver_for(channel, destination):
            url = receivers.grid_url() if channel == "grid" else receivers.county_url(destination.removeprefix("county_system_"))
            return HttpReceiver(url, KEY, SECRET)

        delivered = deliver_run(ledger, run_id="r1", day=AS_OF, drops=drops, receiver_for=receiver_for)
        assert delivered.account_pending == 0 and delivered.http_pending == 0
        deliveries = [d for d in ledger.cohandling.deliveries() if d["status"] == "delivered"]
        local_now = datetime.utcnow() + timedelta(hours=8)
        truth = answer(sshd, [d for d in deliveries if d["channel"] == "account"], seed=82, delivered_on=local_now)

        as_of = (local_now + timedelta(days=20)).replace(microsecond=0)
        receivers.clock(as_of)
        feeds = {"feed:grid": HttpReceiver(receivers.grid_url(), KEY, SECRET)}
        for xzqh in sorted({d["destination"].removeprefix("county_system_") for d in deliveries if d["channel"] == "system"}):
            feeds[f"feed:county/{xzqh}"] = HttpReceiver(receivers.county_url(xzqh), KEY, SECRET)
        collected = collect_results(ledger, as_of=as_of, drops=drops, feeds=feeds)
        assert collected.errors == [] and collected.exceptions == 0
        for planned in receivers.truth():
            if planned["visible"] and planned["result"] != "received":
                truth[planned["idempotency_key"]] = (planned["code"], datetime.fromisoformat(planned["handled_at"]))
        acknowledged = {p["idempotency_key"] for p in receivers.truth() if p["visible"] and p["result"] == "received"}
        meta = write_period_report(ledger, first=(local_now - timedelta(days=1)).date(), last=local_now.date(), as_of=as_of, out_dir=tmp_path / "report")
    drops.close()

    # The truth, worked out independently of the gateway: due = 5th working day after delivery.
    calendar = WorkdayCalendar((local_now - timedelta(days=10)).date(), (as_of + timedelta(days=60)).date())
    expected = {}
    for d in deliveries:
        key = f"{d['rowguid']}:{d['utility']}:{d['version']}"
        delivered_day = (d["delivered_at"] + timedelta(hours=8)).date()
        due = pd.Timestamp(calendar.add(np.array([delivered_day], dtype="datetime64[D]"), 5)[0]).date()
        if key in truth:
            code, handled = truth[key]
            result = RESULT_CODES[code][0]
            expected[key] = "rejected" if result == "rejected" else ("done" if handled.date() <= due else "done_late")
        elif as_of.date() > due:
            expected[key] = "overdue"
        else:
            expected[key] = "acknowledged" if key in acknowledged else "delivered"
    assert set(expected.values()) >= {"done", "done_late", "rejected", "overdue"}

    from jobs.cohandling.collect_results import reconcile_now

    statuses = reconcile_now(ledger, as_of=as_of)
    got = {f"{r.rowguid}:{r.utility}:{r.version}": r.status for r in statuses.itertuples() if r.status not in ("quarantined", "held", "cancelled", "pending")}
    assert got == expected

    counts = pd.Series(list(expected.values())).value_counts()
    assert {k: v for k, v in meta["statuses"].items() if k in expected.values()} == counts.to_dict()
    tables = report_tables(statuses, None, None, None, period=(as_of.date() - timedelta(days=30), as_of.date()), as_of=as_of)
    summary = tables["汇总"].set_index(tables["汇总"].columns[1])
    total = next(c for c in summary.columns if c.startswith("合计"))
    for status, n in counts.items():
        assert int(summary.loc[status, total]) == n, status
    assert int(summary.loc["delivered_total", total]) == len(expected)
    assert len(tables["超期清单"]) == counts.get("overdue", 0)
    assert meta["records"]["received"] == meta["records"]["quarantined"] + meta["records"]["work_ordered"] + meta["records"]["withdrawn"]
    sms = ledger.cohandling.sms()
    assert len(sms) == sum(1 for s in expected.values() if s in ("done", "done_late", "rejected"))
    assert (tmp_path / "report" / "report.html").read_text(encoding="utf-8").count("<svg") >= 3
