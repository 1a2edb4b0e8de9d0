"""Remote collection end to end with the property side simulated (simulators/registration.py,
in the receivers simulator's process), on SQLite and on real PostgreSQL:

- packages collected in one county for properties in others — and outside Shandong — reach
  the right receiver exactly once, with their files (re-hashed at send), through a receiver
  that accepts and then answers 500;
- the statuses flow back; a package the county sends back for correction goes to its hall's
  return list and, resubmitted, flows on to the certificate;
- the report's numbers equal what the simulator says happened (its truth), overdue computed
  independently in working days;
- every package version that entered is accounted for.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from jobs.remote.deliver_packages import deliver_packages
from jobs.remote.hall_returns import HEADER_ROW, write_hall_returns
from jobs.remote.package_intake import load_checklist_form
from jobs.remote.track_packages import collect_package_events
from simulators.remote_module import generate, resubmissions
from tests.integration.conftest import load_packages, utc
from transforms.common.workdays import WorkdayCalendar

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
DAY1 = datetime(2025, 6, 3, 9, 0)  # local (a Tuesday): first delivery
DAY2 = datetime(2025, 6, 20, 9, 0)  # statuses back; resubmitted packages delivered
DAY3 = datetime(2025, 7, 21, 9, 0)  # the rest of the statuses


def _load(module, source, ledger, batch, run_id: str, as_of: datetime) -> dict:
    return load_packages(module, source, ledger, batch, run_id=run_id, as_of=as_of)


def test_packages_reach_the_property_county_once_statuses_flow_back_and_the_report_equals_the_truth(remote_flow, tmp_path):
    module, source, ledger, sim, receiver_for = remote_flow
    for path in SAMPLES:
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    batch = generate(260, seed=71, start="2025-05-06", end="2025-06-02", defect_rate=0.1, cross_province_rate=0.08)
    one = _load(module, source, ledger, batch, "run-1", DAY1)
    assert one["passed"] > 200 and one["returned"] > 10

    # Day 1: the receivers accept, then answer 500 for a third of the batches; the next run re-sends.
    sim.clock(DAY1)
    sim.packages_mix(mix={"certified": 0.6, "late": 0.08, "refused": 0.08, "correction": 0.16, "silent": 0.08})
    sim.faults(fail_after_accept_rate=0.35, seed=3)
    first = deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY1))
    assert first["planned"] == one["passed"] and first["pending"] > 0
    sim.faults()
    second = deliver_packages(ledger, source, run_id="run-1b", receiver_for=receiver_for, now=utc(DAY1) + timedelta(minutes=5))
    assert second["planned"] == 0 and second["pending"] == 0 and second["delivered"] == first["pending"]

    deliveries = pd.DataFrame(ledger.remote.remote_deliveries())
    assert (deliveries["status"] == "delivered").all() and len(deliveries) == one["passed"]
    truth = sim.packages_truth()
    accepted = pd.DataFrame(truth["accepted"])
    # Exactly once: each key held once, by the receiver of the property's county, never the hall's.
    assert accepted["idempotency_key"].is_unique and set(accepted["idempotency_key"]) == set(deliveries["idempotency_key"])
    assert (accepted["times_submitted"] > 1).any()  # the 500-after-accept batches were sent again and answered "duplicate"
    expected_receiver = accepted["xzqh"].map(lambda x: f"county/{x}" if x.startswith("37") else "cross-province")
    assert (accepted["receiver"] == expected_receiver).all()
    assert (accepted["receiver"] != "county/" + accepted["hall"].str[:6]).all()
    assert (accepted["receiver"] == "cross-province").any() and accepted["receiver"].nunique() > 20
    # The files went with them: every material's file is held by its package's receiver with the declared SHA-256.
    files = {(f["receiver"], f["sha256"]) for f in truth["files"]}
    materials = batch.materials.merge(batch.packages[["CHANGE_SEQ", "BWID", "XZQH"]], on=["CHANGE_SEQ", "BWID"])
    sent = materials[materials["BWID"].isin(set(accepted["bwid"]))]
    receivers = sent["XZQH"].map(lambda x: f"county/{x}" if x.startswith("37") else "cross-province")
    assert all((r, h.lower()) in files for r, h in zip(receivers, sent["WJHX"]))
    # Packages leaving the province name each applicant's document by its national code as well; county systems never get it.
    cross = accepted["receiver"] == "cross-province"
    national = {"1": "111", "3": "414"}  # 身份证 → 居民身份证, 护照 → 普通护照 (docs/protocol/packages.md); 2 with an 18-digit permit: none
    for applicants in accepted.loc[cross, "applicants"]:
        assert all(a["ZJZLDM"] == national.get(a["ZJZL"]) for a in applicants), applicants
    assert all("ZJZLDM" not in a for applicants in accepted.loc[~cross, "applicants"] for a in applicants)
    assert {a["ZJZL"] for applicants in accepted.loc[cross, "applicants"] for a in applicants} >= {"1"}

    # Day 2: statuses come back; the corrections go back to the halls.
    sim.clock(DAY2)
    events = collect_package_events(ledger, receiver_for=receiver_for, run_id="run-2", as_of=DAY2, now=utc(DAY2))
    assert events["issues"] == 0 and events["accepted"] == sum(e["visible"] for e in sim.packages_truth()["events"])
    again = collect_package_events(ledger, receiver_for=receiver_for, run_id="run-2b", as_of=DAY2, now=utc(DAY2))
    assert again["events"] == 0  # the cursor moved: nothing read twice
    corrections = sorted(accepted.loc[accepted["fate"] == "correction", "bwid"])
    assert corrections
    returned = write_hall_returns(ledger, run_id="run-2", out_dir=tmp_path / "halls")
    halls = set(batch.packages.loc[batch.packages["BWID"].isin(corrections), "SJDWDM"])
    assert halls <= set(returned)
    listed = pd.concat([pd.read_excel(p, header=HEADER_ROW - 1) for p in returned.values()])
    assert set(listed.loc[listed["退回方"].str.startswith("属地"), "报文编号(BWID)"]) == set(corrections) | set(
        accepted.loc[accepted["fate"] == "refused", "bwid"])

    # The halls resubmit the corrected packages: a new version each, delivered with correction = true, never asked again.
    three = _load(module, source, ledger, resubmissions(batch, corrections), "run-3", DAY2)
    assert (three["packages_in"], three["passed"]) == (len(corrections), len(corrections))
    resent = deliver_packages(ledger, source, run_id="run-3", receiver_for=receiver_for, now=utc(DAY2))
    assert (resent["planned"], resent["delivered"]) == (len(corrections), len(corrections))
    deliveries = pd.DataFrame(ledger.remote.remote_deliveries())
    assert set(deliveries.loc[deliveries["correction"], "bwid"]) == set(corrections)

    # A report as of day 2 (an hour after its statuses and deliveries were recorded), written before and after day 3's statuses arrive.
    from jobs.remote.publish_remote_report import write_remote_report

    def day2_report(name: str) -> tuple[dict, dict]:
        paths = write_remote_report(ledger, first=date(2025, 5, 1), last=date(2025, 6, 30), as_of=DAY2 + timedelta(hours=1), out_dir=tmp_path / name)
        return ({k: Path(v).read_bytes() for k, v in paths.items() if k.startswith("csv:")},
                json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["provenance"])

    day2_before = day2_report("day2-before")
    sim.clock(DAY3)
    collect_package_events(ledger, receiver_for=receiver_for, run_id="run-4", as_of=DAY3, now=utc(DAY3))
    day2_again = day2_report("day2-again")
    assert day2_again[0] == day2_before[0] and day2_again[1]["fingerprint"] == day2_before[1]["fingerprint"]
    assert day2_again[1]["newest_event_id"] == day2_before[1]["newest_event_id"]
    truth = sim.packages_truth()
    accepted = pd.DataFrame(truth["accepted"])
    assert accepted["idempotency_key"].is_unique and len(accepted) == one["passed"] + len(corrections)
    assert set(accepted.loc[accepted["correction"] == 1, "fate"]) <= {"certified", "late", "refused", "silent"}

    # Tracking and the report against the truth.
    from jobs.remote.publish_remote_report import remote_status

    tracked = remote_status(ledger, as_of=DAY3)
    expected = _truth_stages(truth, as_of=DAY3)
    got = tracked[tracked["delivery_status"] == "delivered"].set_index("idempotency_key")
    assert set(got.index) == set(expected)
    for key, (stage, overdue, late) in expected.items():
        row = got.loc[key]
        assert (row["stage"], bool(row["overdue"]), bool(row["late"])) == (stage, overdue, late), key
    # Every package version that entered is accounted for.
    counts = ledger.remote.remote_counts()
    assert counts["packages"] == len(tracked) == one["packages_in"] + three["packages_in"]
    assert Counter(tracked["stage"])["returned"] == one["returned"]

    paths = write_remote_report(ledger, first=date(2025, 5, 1), last=date(2025, 6, 30), as_of=DAY3, out_dir=tmp_path / "report")
    report = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    prov = report["provenance"]  # what it was computed from: in report.json, the page's footer and the 说明 sheet
    assert prov["as_of"] == DAY3.isoformat(sep=" ") and prov["newest_event_id"] >= 1 and "截至数据截至时间已入账" in prov["reads"]
    assert len(prov["fingerprint"]) == 64 and prov["fingerprint"] in Path(paths["html"]).read_text(encoding="utf-8")
    assert prov["fingerprint"] != day2_before[1]["fingerprint"] and prov["newest_event_id"] > day2_before[1]["newest_event_id"]  # day 3's statuses count
    from openpyxl import load_workbook

    assert {r[1]: r[2] for r in load_workbook(paths["xlsx"], read_only=True)["说明"].iter_rows(min_row=2, values_only=True)}["fingerprint"] == prov["fingerprint"]
    by_county = {r["XZQH"]: r for r in report["by_county"]}
    truth_county = Counter()
    for key, (stage, overdue, late) in expected.items():
        xzqh = accepted.set_index("idempotency_key").loc[key, "xzqh"]
        truth_county[(xzqh, stage)] += 1
        truth_county[(xzqh, "overdue")] += overdue
        truth_county[(xzqh, "late")] += late
        truth_county[(xzqh, "delivered")] += 1
    for xzqh in set(accepted["xzqh"]):
        row = by_county[xzqh]
        assert row["delivered"] == truth_county[(xzqh, "delivered")], xzqh
        assert row["refused"] == truth_county[(xzqh, "refused")], xzqh
        assert row["correction"] == truth_county[(xzqh, "correction")], xzqh
        assert row["certified"] == truth_county[(xzqh, "certificate_issued")], xzqh
        assert row["overdue"] == truth_county[(xzqh, "overdue")], xzqh
        assert row["late"] == truth_county[(xzqh, "late")], xzqh
    assert report["totals"]["delivered"] == len(accepted)
    assert report["totals"]["overdue"] == sum(v[1] for v in expected.values()) > 0
    assert report["totals"]["late"] == sum(v[2] for v in expected.values()) > 0
    assert report["totals"]["received"] == counts["packages"]
    assert Path(paths["html"]).exists() and Path(paths["xlsx"]).exists()


def _truth_stages(truth: dict, *, as_of: datetime) -> dict[str, tuple[str, bool, bool]]:
    """key -> (stage, overdue, late) from the simulator's visible events alone, due = the 5th working day after acceptance."""
    calendar = WorkdayCalendar(date(2025, 1, 1), date(2025, 12, 31))
    events: dict[str, list[dict]] = {}
    for e in truth["events"]:
        if e["visible"]:
            events.setdefault(e["idempotency_key"], []).append(e)
    out = {}
    order = ["accepted", "review", "fee_notice", "registered", "certificate_issued"]
    for a in truth["accepted"]:
        mine = {e["status"]: datetime.fromisoformat(e["at"]) for e in events.get(a["idempotency_key"], [])}
        accepted_at = datetime.fromisoformat(a["accepted_at"])
        due = pd.Timestamp(calendar.add([accepted_at.date()], 5)[0]).date()
        if "refused" in mine:
            stage = "refused"
        elif "correction" in mine:
            stage = "correction"
        else:
            reached = [s for s in order if s in mine]
            stage = reached[-1] if reached else "delivered"
        decided = mine.get("registered") or mine.get("refused")
        open_ = stage in ("delivered", "accepted", "review", "fee_notice")
        out[a["idempotency_key"]] = (stage, open_ and as_of.date() > due, decided is not None and decided.date() > due)
    return out
