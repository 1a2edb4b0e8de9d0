"""The console's scope, enforced on the server for every route and every role (console/scopes.py): each role
sees its own area or its own work orders and nothing else — a page out of scope answers 404 like a page that does
not exist, and no page in scope names a work order outside it; nobody signed out gets anything."""

from __future__ import annotations

import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.integration.console.conftest import sign_in

# route -> the roles that get it (200); every other role gets 404
ROUTES = {
    "/": {"auditor", "city", "county", "inst_a"},
    "/overdue": {"auditor", "city", "county", "inst_a"},
    "/overdue?institution={B}": {"auditor", "city", "county", "inst_a"},  # a filter never widens the scope
    "/counties/{county}": {"auditor", "city", "county"},
    "/counties/{other_county}": {"auditor"},
    "/institutions/{A}": {"auditor", "city", "county", "inst_a"},
    "/institutions/{B}": {"auditor"},
    "/quarantine": {"auditor", "city", "county"},
    "/exceptions": {"auditor", "city", "county", "inst_a"},
    "/files/": {"auditor"},
    "/files/reports/2026-11/report.html": {"auditor"},
    "/files/reports/..%2Fledger.db": set(),  # the ledger, one folder up: never served
    "/board": {"inst_a"},
    "/board/orders/{order_a}": {"inst_a"},
    "/board/orders/{order_b}": set(),
    "/board/download.csv": {"inst_a"},
    "/board/download.xlsx": {"inst_a"},
    "/trace": {"auditor", "city", "county", "inst_a"},  # the search form
    "/trace?key={rowguid_a}": {"auditor", "city", "county", "inst_a"},
    "/trace?key={ycywh_a}": {"auditor", "city", "county", "inst_a"},
    "/trace?key={rowguid_b}": {"auditor"},
}
ROLES = ("auditor", "city", "county", "inst_a")


def _url(world, route: str) -> str:
    return route.format(**world.ids)


@pytest.fixture(scope="module")
def clients(world):
    out = {}
    for user in ROLES:
        client = TestClient(world.app)
        sign_in(client, user)
        out[user] = client
    return out


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("user", ROLES)
def test_nobody_sees_outside_their_scope(world, clients, user, route):
    r = clients[user].get(_url(world, route))
    assert r.status_code == (200 if user in ROUTES[route] else 404), (user, route, r.status_code)
    mine = world.visible(user)
    outside = world.statuses[~world.statuses["rowguid"].isin(set(mine["rowguid"]))]  # records none of whose work orders are in scope
    asked = _url(world, route).partition("?key=")[2]
    body = r.text.replace(asked, "") if asked else r.text  # a trace echoes the key the user typed; nothing else may show
    if r.status_code != 200:
        assert not any(g in body for g in outside["rowguid"].head(200))
        return
    if route.endswith(".xlsx"):
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
        keys = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
        assert keys and keys <= {f"{g}:{u}:{v}" for g, u, v in zip(mine["rowguid"], mine["utility"], mine["version"])}
        return
    leaked = [g for g in outside["rowguid"] if g in body] + [p for p in outside["platform_no"].dropna() if p in body]
    assert leaked == [], (user, route, leaked[:3])


@pytest.mark.parametrize("route", list(ROUTES))
def test_signed_out_gets_the_sign_in_page_only(world, route):
    r = TestClient(world.app).get(_url(world, route), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/")


def test_a_user_without_a_scope_gets_403_and_a_wrong_password_nothing(world):
    client = TestClient(world.app)
    r = client.post("/login", data={"user": "auditor", "password": "wrong"}, follow_redirects=False)
    assert r.status_code == 401 and "gateway_console" not in r.headers.get("set-cookie", "")
    from console.auth import FormSignIn

    forged = FormSignIn("another-secret").session("auditor")  # a session not signed by this console
    client.cookies.set("gateway_console", forged)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_institution_asking_for_another_institutions_order_gets_404_without_a_trace_of_it(world, clients):
    rowguid = world.ids["order_b"].split("/")[0]
    r = clients["inst_a"].get(f"/board/orders/{world.ids['order_b']}")
    assert r.status_code == 404 and rowguid not in r.text
    r = clients["inst_a"].post(f"/board/orders/{world.ids['order_b']}", data={"JGDM": "0000", "BLSJ": world.clock[0].strftime("%Y-%m-%d %H:%M")})
    assert r.status_code == 404
    outcomes = world.ledger.cohandling.outcomes()
    assert rowguid not in set(outcomes["rowguid"])


def test_the_overdue_filter_lists_exactly_the_orders_asked_for_and_views_are_audited(world, clients):
    county = world.ids["county"]
    r = clients["auditor"].get(f"/overdue?county={county}")
    now = world.current()
    expected = now[(now["status"] == "overdue") & (now["xzqh"] == county)]
    assert r.status_code == 200 and f'<strong id="total">{len(expected)}</strong>' in r.text
    for p in expected["platform_no"]:
        assert p in r.text
    others = now[(now["status"] == "overdue") & (now["xzqh"] != county) & ~now["rowguid"].isin(set(expected["rowguid"]))]
    assert not any(p in r.text for p in others["platform_no"])
    for name, phone, pid in zip(expected["buyer_name"], expected["buyer_phone"], expected["buyer_id"]):  # masked
        assert name not in r.text and phone not in r.text and pid not in r.text
    entries = [e for e in world.ledger.audit_entries("console_view") if e["actor"] == "console:auditor" and e["object_type"] == "overdue_list"]
    assert entries and county in entries[-1]["detail"]


def test_the_demo_users_file_has_one_user_per_role():
    from console.scopes import ROLES as ALL
    from console.scopes import load_users

    users = load_users()
    assert {s.role for s in users.values()} == set(ALL)


@pytest.mark.parametrize("entry, words", [
    ({"role": "admin"}, "role must be one of"),
    ({"role": "city"}, "needs a code"),
    ({"role": "county", "code": "37"}, "6-digit"),
])
def test_a_users_file_entry_that_is_wrong_is_refused_by_name(tmp_path, entry, words):
    import json

    from console.scopes import UsersFileError, load_users

    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": {"zhang": entry}}), encoding="utf-8")
    with pytest.raises(UsersFileError, match=words) as raised:
        load_users(path)
    assert "'zhang'" in str(raised.value)
