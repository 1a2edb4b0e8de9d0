"""Remote collection's awkward cases against the simulated property side, on SQLite and PostgreSQL:

- a version sent whose answer was lost, then corrected by the hall: the first is sent again as it
  was (never superseded behind the receiver's back), the correction goes as a correction, and
  the first one's statuses count from when it was first sent;
- codes written oddly (full-width county code, spaces in the hall code, lower-case unit number)
  go to the right receiver in the form validation read them;
- a file changed in the module's store after validation: not sent, and the hall hears why;
- ID numbers never reach a hall's return list unmasked;
- a version replaced by a delivered correction is no longer open or overdue.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from jobs.remote.deliver_packages import deliver_packages
from jobs.remote.hall_returns import HEADER_ROW, write_hall_returns
from jobs.remote.package_intake import load_checklist_form
from jobs.remote.publish_remote_report import remote_status
from jobs.remote.track_packages import collect_package_events
from simulators.remote_db import FILE_TABLE
from simulators.remote_module import generate, resubmissions
from tests.integration.conftest import load_packages, utc

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
DAY = datetime(2025, 6, 3, 9, 0)


def _setup(remote_flow, n: int, seed: int):
    module, source, ledger, sim, receiver_for = remote_flow
    for path in SAMPLES:
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    batch = generate(n, seed=seed, start="2025-05-12", end="2025-06-02", defect_rate=0.0, cross_province_rate=0.0)
    return module, source, ledger, sim, receiver_for, batch


def test_a_sent_version_whose_answer_was_lost_is_sent_again_and_its_correction_goes_as_one(remote_flow):
    module, source, ledger, sim, receiver_for, batch = _setup(remote_flow, 20, 301)
    load_packages(module, source, ledger, batch, run_id="run-1", as_of=DAY)
    sim.clock(DAY)
    sim.packages_mix(mix={"certified": 1})
    sim.faults(fail_after_accept_rate=1.0)  # every batch stored by the receiver, then answered 500
    first = deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY))
    assert first["pending"] == 20 and len(sim.packages_truth()["accepted"]) == 20
    sim.faults()
    # The hall corrects every package before the gateway heard back.
    load_packages(module, source, ledger, resubmissions(batch, list(batch.packages["BWID"])), run_id="run-2", as_of=DAY + timedelta(hours=2))
    later = DAY + timedelta(hours=3)
    sim.clock(later)
    second = deliver_packages(ledger, source, run_id="run-2", receiver_for=receiver_for, now=utc(later))
    assert (second["planned"], second["superseded"], second["delivered"]) == (20, 0, 40)
    deliveries = pd.DataFrame(ledger.remote.remote_deliveries())
    assert (deliveries["status"] == "delivered").all()
    v1 = deliveries[~deliveries["correction"]]
    assert len(v1) == 20 and (v1["delivered_at"] == utc(DAY)).all()  # "duplicate": held since the first attempt
    accepted = pd.DataFrame(sim.packages_truth()["accepted"])
    assert accepted["idempotency_key"].is_unique and len(accepted) == 40
    assert set(accepted.loc[accepted["correction"] == 1, "idempotency_key"]) == set(deliveries.loc[deliveries["correction"], "idempotency_key"])
    # The first versions' statuses (dated from the first attempt) count; tracking closes them as replaced, not overdue.
    end = DAY + timedelta(days=20)
    sim.clock(end)
    events = collect_package_events(ledger, receiver_for=receiver_for, run_id="run-3", as_of=end, now=utc(end))
    assert events["issues"] == 0
    status = remote_status(ledger, as_of=end).set_index("idempotency_key")
    assert not status["overdue"].any()
    assert set(status.loc[v1["idempotency_key"], "stage"]) <= {"replaced", "registered", "certificate_issued"}


def test_odd_codes_go_as_read_a_changed_file_is_not_sent_and_halls_never_see_an_id(remote_flow, tmp_path):
    module, source, ledger, sim, receiver_for, batch = _setup(remote_flow, 12, 302)
    packages = batch.packages
    odd = packages.index[:3]
    full = str.maketrans("0123456789", "０１２３４５６７８９")
    packages.loc[odd[0], "XZQH"] = packages.loc[odd[0], "XZQH"].translate(full)
    packages.loc[odd[1], "SJDWDM"] = " " + packages.loc[odd[1], "SJDWDM"] + " "
    packages.loc[odd[2], "BDCDYH"] = packages.loc[odd[2], "BDCDYH"].lower()
    # One applicant's ID with a wrong check character: returned, with its reason, to its hall.
    bad_bwid = packages.loc[packages.index[5], "BWID"]
    applicant = batch.applicants.index[batch.applicants["BWID"] == bad_bwid][0]
    wrong = batch.applicants.loc[applicant, "ZJHM"]
    wrong = wrong[:-1] + ("0" if wrong[-1] != "0" else "1")
    batch.applicants.loc[applicant, "ZJHM"] = wrong
    one = load_packages(module, source, ledger, batch, run_id="run-1", as_of=DAY)
    assert (one["passed"], one["returned"]) == (11, 1)

    # The module's file store changes one package's file after validation.
    changed = packages.loc[packages.index[7], "BWID"]
    wjdz = batch.materials.loc[batch.materials["BWID"] == changed, "WJDZ"].iloc[0]
    with module.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {FILE_TABLE} SET WJNR = :blob WHERE WJDZ = :wjdz"), {"blob": b"%PDF-1.4 replaced", "wjdz": wjdz})
    sim.clock(DAY)
    sent = deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY))
    assert (sent["delivered"], sent["failed"]) == (10, 1)

    accepted = pd.DataFrame(sim.packages_truth()["accepted"]).set_index("bwid")
    for i in odd:
        bwid = packages.loc[i, "BWID"]
        xzqh = packages.loc[i, "XZQH"].translate({ord(c): ord("0") + n for n, c in enumerate("０１２３４５６７８９")}).strip()
        assert accepted.loc[bwid, "receiver"] == f"county/{xzqh}" and accepted.loc[bwid, "xzqh"] == xzqh
        assert accepted.loc[bwid, "hall"] == packages.loc[i, "SJDWDM"].strip()
    held = {a["bwid"]: a for a in (json.loads(b) for b in _bodies(sim))}
    assert held[packages.loc[odd[2], "BWID"]]["package"]["BDCDYH"] == packages.loc[odd[2], "BDCDYH"].upper()

    paths = write_hall_returns(ledger, run_id="run-1", out_dir=tmp_path / "halls")
    rows = pd.concat([pd.read_excel(p, dtype=str, header=HEADER_ROW - 1) for p in paths.values()])
    assert set(rows["报文编号(BWID)"]) == {bad_bwid, changed}
    assert rows.loc[rows["报文编号(BWID)"] == changed, "原因（请据此补正）"].str.contains("自校验后已被改动").all()
    text = " ".join(rows.fillna("").astype(str).to_numpy().ravel())
    assert wrong not in text and not re.search(r"\d{17}[\dX]", text)  # the ID is masked everywhere, reason included
    assert "*" in rows.loc[rows["报文编号(BWID)"] == bad_bwid, "原因（请据此补正）"].iloc[0]


def _bodies(sim) -> list[str]:
    """Every package body the simulator holds (its own SQLite state, read directly)."""
    import sqlite3

    with sqlite3.connect(sim.state_path) as db:
        return [r[0] for r in db.execute("SELECT body FROM package_accepted")]


def test_a_withdrawn_package_and_one_moved_to_another_county_are_withdrawn_where_they_were_sent(remote_flow, tmp_path):
    from jobs.remote.publish_remote_report import write_remote_report
    from simulators.remote_checklists import build_checklists
    from simulators.remote_module import withdrawals

    module, source, ledger, sim, receiver_for, batch = _setup(remote_flow, 12, 303)
    load_packages(module, source, ledger, batch, run_id="run-1", as_of=DAY)
    sim.clock(DAY)
    sim.packages_mix(mix={"certified": 1}, delay_days=[3, 3])
    assert deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY))["delivered"] == 12
    packages = batch.packages.reset_index(drop=True)
    gone = list(packages["BWID"][:3])
    # One package is corrected to another county (the window had the wrong one): same business type, unit number re-prefixed.
    moved = packages.iloc[3]
    lists = build_checklists()
    other = sorted(set(lists.loc[(lists["business_type"] == moved["YWLX"]) & lists["xzqh"].str.startswith("37") & (lists["xzqh"] != moved["XZQH"])
                                 & (lists["xzqh"] != moved["SJXZQH"]), "xzqh"]))[0]
    fix = resubmissions(batch, [moved["BWID"]])
    fix.packages["XZQH"] = other
    fix.packages["BDCDYH"] = other + fix.packages["BDCDYH"].str[6:]

    next_day = DAY + timedelta(days=1)
    load_packages(module, source, ledger, withdrawals(gone), run_id="run-2", as_of=next_day)
    load_packages(module, source, ledger, fix, run_id="run-2a", as_of=next_day)
    sim.clock(next_day)
    second = deliver_packages(ledger, source, run_id="run-2", receiver_for=receiver_for, now=utc(next_day))
    assert (second["delivered"], second["withdrawn"], second["withdrawal_refused"]) == (1, 4, 0)
    truth = sim.packages_truth()
    keys = pd.DataFrame(ledger.remote.remote_deliveries()).set_index("bwid")
    withdrawn = {(w["receiver"], w["idempotency_key"]) for w in truth["withdrawn"]}
    assert {k for _, k in withdrawn} == set(keys.loc[[*gone, moved["BWID"]], "idempotency_key"]) - {keys.loc[moved["BWID"]].iloc[-1]["idempotency_key"]}
    assert (f"county/{moved['XZQH']}", keys.loc[moved["BWID"]].iloc[0]["idempotency_key"]) in withdrawn  # told where it was, not where it goes
    # Sent again (the run repeats): already withdrawn, nothing new.
    again = deliver_packages(ledger, source, run_id="run-2b", receiver_for=receiver_for, now=utc(next_day))
    assert again["withdrawn"] == 0 and len(sim.packages_truth()["withdrawn"]) == 4

    # Ten days on everything else is registered; withdrawing one now is too late (已登簿) and its hall hears so.
    end = DAY + timedelta(days=10)
    sim.clock(end)
    collect_package_events(ledger, receiver_for=receiver_for, run_id="run-3", as_of=end, now=utc(end))
    late = packages["BWID"][5]
    load_packages(module, source, ledger, withdrawals([late]), run_id="run-4", as_of=end)
    refused = deliver_packages(ledger, source, run_id="run-4", receiver_for=receiver_for, now=utc(end))
    assert refused["withdrawal_refused"] == 1
    paths = write_hall_returns(ledger, run_id="run-4", out_dir=tmp_path / "halls")
    rows = pd.concat([pd.read_excel(p, dtype=str, header=HEADER_ROW - 1) for p in paths.values()])
    assert list(rows["报文编号(BWID)"]) == [late] and "已登簿" in rows["原因（请据此补正）"].iloc[0]

    collect_package_events(ledger, receiver_for=receiver_for, run_id="run-5", as_of=end, now=utc(end))
    status = remote_status(ledger, as_of=end).set_index("idempotency_key")
    assert set(status.loc[keys.loc[gone, "idempotency_key"], "stage"]) == {"withdrawn"} and not status["overdue"].any()
    report = write_remote_report(ledger, first=DAY.date() - timedelta(days=30), last=end.date(), as_of=end, out_dir=tmp_path / "report")
    totals = json.loads(Path(report["json"]).read_text(encoding="utf-8"))["totals"]
    assert totals["withdrawn"] == 4 and totals["delivered"] == 13
