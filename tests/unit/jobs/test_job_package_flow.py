"""Remote-collection delivery and status tracking against in-memory property authorities
(connectors/testing.py FakeAuthority): packages reach the property's county once with their
files, a lost answer is sent again and held once, statuses are read once from the cursor."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from connectors.exchange_db import PackageSource
from connectors.ledger import Ledger
from connectors.testing import FakeAuthority
from jobs.remote.deliver_packages import deliver_packages
from jobs.remote.package_intake import load_checklist_form
from jobs.remote.track_packages import collect_package_events
from simulators.remote_db import RemoteDB
from simulators.remote_module import generate
from tests.integration.conftest import load_packages, utc

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
DAY1 = datetime(2025, 6, 3, 9, 0)
DAY2 = datetime(2025, 6, 20, 9, 0)


@pytest.fixture
def validated(tmp_path):
    platform_url, ledger_url = f"sqlite:///{tmp_path / 'module.db'}", f"sqlite:///{tmp_path / 'ledger.db'}"
    module = RemoteDB(platform_url)
    module.create()
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = PackageSource(platform_url)
    for path in SAMPLES:
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    batch = generate(60, seed=72, start="2025-05-06", end="2025-06-02", defect_rate=0.1, cross_province_rate=0.1)
    counts = load_packages(module, source, ledger, batch, run_id="run-1", as_of=DAY1)
    yield ledger, source, counts
    for thing in (module, source, ledger):
        thing.dispose()


def _authorities(**kw):
    made: dict[str, FakeAuthority] = {}
    return made, lambda destination: made.setdefault(destination, FakeAuthority(destination, **kw))


def test_packages_reach_their_authority_once_with_their_files_even_when_an_answer_is_lost(validated):
    ledger, source, counts = validated
    made, receiver_for = _authorities(lose_answers=1)
    first = deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY1))
    assert first["planned"] == counts["passed"] > 0 and first["pending"] == first["sent"] > 0 and first["delivered"] == 0
    assert "cross_province" in made and all(d == "cross_province" or d.startswith("county_system_37") for d in made)

    second = deliver_packages(ledger, source, run_id="run-2", receiver_for=receiver_for, now=utc(DAY1))
    assert (second["planned"], second["pending"], second["delivered"]) == (0, 0, counts["passed"])
    deliveries = ledger.remote.remote_deliveries()
    assert {d["status"] for d in deliveries} == {"delivered"} and len(deliveries) == counts["passed"]
    for destination, authority in made.items():
        keys = [item["idempotency_key"] for item in authority.received]
        assert len(keys) == 2 * len(authority.held)  # sent twice, held once
        for held in authority.held.values():
            assert all(m["sha256"] in authority.files for m in held["item"]["materials"])
            applicants = held["item"]["applicants"]
            assert all(("ZJZLDM" in a) == (destination == "cross_province") for a in applicants)
    assert {d["idempotency_key"] for d in deliveries} == {k for a in made.values() for k in a.held}


def test_a_package_whose_file_the_authority_refuses_goes_back_and_the_others_go_on(validated):
    ledger, source, counts = validated
    made, receiver_for = _authorities(unreachable=True)
    down = deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY1))
    assert down["pending"] == counts["passed"] and not any(a.held for a in made.values())
    victim = next(d for d in ledger.remote.pending_remote_deliveries() if d["materials"])
    bad = victim["materials"][0]["FILE_SHA256"]
    for authority in made.values():
        authority.unreachable = False
        authority.refuse_files.add(bad)
    up = deliver_packages(ledger, source, run_id="run-2", receiver_for=receiver_for, now=utc(DAY1))
    refused = [d for d in ledger.remote.remote_deliveries() if d["status"] == "failed"]
    assert victim["idempotency_key"] in {d["idempotency_key"] for d in refused} and up["failed"] == len(refused)
    assert up["delivered"] == counts["passed"] - len(refused) > 0
    again = deliver_packages(ledger, source, run_id="run-3", receiver_for=receiver_for, now=utc(DAY1))
    assert (again["planned"], again["sent"], again["files_uploaded"]) == (0, 0, 0)  # nothing sent, no file put twice


def test_statuses_are_read_once_from_the_cursor_and_a_bad_one_is_set_aside(validated):
    ledger, source, _ = validated
    made, receiver_for = _authorities()
    deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(DAY1))
    authority = next(a for a in made.values() if a.held)
    keys = list(authority.held)
    for key in keys:
        authority.publish_event(key, "accepted", at="2025-06-04T10:00:00")
    authority.feed.append({"idempotency_key": keys[0], "status": "accepted", "at": 12, "seq": len(authority.feed) + 1})  # `at` not text

    events = collect_package_events(ledger, receiver_for=receiver_for, run_id="run-2", as_of=DAY2, now=utc(DAY2))
    assert (events["events"], events["accepted"], events["issues"], events["dead_letters"]) == (len(keys), len(keys), 0, 1)
    assert events["feeds"] == len(made)
    again = collect_package_events(ledger, receiver_for=receiver_for, run_id="run-3", as_of=DAY2, now=utc(DAY2))
    assert again["events"] == 0 and again["dead_letters"] == 0
    authority.publish_event(keys[0], "refused", at="2025-06-05T10:00:00", reason="不予受理")
    assert collect_package_events(ledger, receiver_for=receiver_for, run_id="run-4", as_of=DAY2, now=utc(DAY2))["accepted"] == 1
