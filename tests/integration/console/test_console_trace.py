"""The console's trace page (`/trace?key=`): the trail jobs/common/trace.py gives, scoped by console/scopes.py
`Scope.trail` — the province and the record's city and county see it whole, an institution only its own work
orders' events, anyone else the same 404 as a key that does not exist; every trace is audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.integration.console.conftest import sign_in


@pytest.fixture(scope="module")
def clients(world):
    out = {}
    for user in ("auditor", "county", "inst_a", "inst_b"):
        out[user] = TestClient(world.app)
        sign_in(out[user], user)
    return out


def _events(html: str) -> list[tuple[str, str]]:
    """(stage, subject) of each row of the trail table."""
    return re.findall(r'<tr data-stage="([a-z_]+)"[^>]*>\s*<td[^>]*>[^<]*</td><td[^>]*>[^<]*<code>[^<]*</code></td>\s*<td><code>([^<]*)</code>', html)


def test_the_province_and_the_county_see_the_whole_trail_the_institution_only_its_orders(world, clients):
    from jobs.common.trace import trace

    rowguid = world.ids["rowguid_a"]
    whole = trace(world.ledger, rowguid, as_of=world.clock[0])
    assert whole.found and len(whole.events) >= 3
    for user in ("auditor", "county"):
        r = clients[user].get(f"/trace?key={rowguid}")
        assert r.status_code == 200
        assert f'<strong id="trace-count">{len(whole.events)}</strong>' in r.text
        assert [s for s, _ in _events(r.text)] == list(whole.events["stage"])
    r = clients["inst_a"].get(f"/trace?key={rowguid}")
    assert r.status_code == 200
    own = {k for k, code in whole.owners if code == world.ids["A"]}
    rows = _events(r.text)
    assert rows and {subject for _, subject in rows} <= own | {k.rsplit(":", 1)[0] for k in own}
    assert {"received", "validated", "remind"}.isdisjoint({s for s, _ in rows})  # the record's intake is not the institution's
    assert {"work_order", "delivery"} <= {s for s, _ in rows}
    others = {k for k, code in whole.owners if code != world.ids["A"]}
    assert not any(k in r.text for k in others)


def test_someone_elses_record_answers_like_a_key_that_does_not_exist(world, clients):
    rowguid = world.ids["rowguid_a"]
    theirs = clients["inst_b"].get(f"/trace?key={rowguid}")
    missing = clients["inst_b"].get("/trace?key=NO-SUCH-KEY-0000000000000000000")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text.replace(rowguid, "K") == missing.text.replace("NO-SUCH-KEY-0000000000000000000", "K")


def test_personal_data_is_masked_and_each_trace_is_audited(world, clients):
    rowguid = world.ids["rowguid_a"]
    row = world.statuses[world.statuses["rowguid"] == rowguid].iloc[0]
    r = clients["auditor"].get(f"/trace?key={rowguid}")
    for clear in (row["buyer_name"], row["buyer_phone"], row["buyer_id"]):
        if isinstance(clear, str) and len(clear) > 1:
            assert clear not in r.text
    entries = [e for e in world.ledger.audit_entries("console_view") if e["object_type"] == "trace" and e["object_id"] == rowguid]
    assert {e["actor"] for e in entries} >= {"console:auditor"}


def test_a_platform_number_traces_every_record_that_carries_it(world, clients):
    ycywh = world.ids["ycywh_a"]
    r = clients["auditor"].get(f"/trace?key={ycywh}")
    assert r.status_code == 200 and "平台业务号(YCYWH)" in r.text and world.ids["rowguid_a"] in r.text


def test_the_overdue_list_and_the_board_link_to_the_trace(world, clients):
    """Each line's platform number links to its trace (whatever other tests of the package recorded meanwhile)."""
    overdue = clients["auditor"].get(f"/overdue?county={world.ids['county']}").text
    linked = re.findall(r'<a href="/trace\?key=([^"]+)">([^<]+)</a>', overdue)
    assert linked and all(k == text for k, text in linked)
    assert len(linked) == min(int(re.search(r'<strong id="total">(\d+)</strong>', overdue).group(1)), 500)
    board = clients["inst_a"].get("/board").text
    rows = re.findall(r'<tr><td><a href="/board/orders/[^"]+"><code>[^<]+</code></a></td><td>[^<]*</td><td><a href="/trace\?key=([^"]+)">', board)
    assert rows and len(rows) == board.count('<a href="/board/orders/')
