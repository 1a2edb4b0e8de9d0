"""The console's world: a ledger with work orders routed and delivered (tests/integration/pipeline.py), one user per
role chosen from what is in it, and the console app (standalone sign-in) on it. The console's clock is ten days
after delivery, so every open work order is overdue there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from console.scopes import Scope

PASSWORD = "pw-{}"


@dataclass
class World:
    ledger: object
    app: object
    users: dict[str, Scope]
    statuses: pd.DataFrame
    clock: list  # [local datetime]: the console's now
    files: Path
    ids: dict[str, str] = field(default_factory=dict)  # A, B (institutions), city, county, other_county, order_a/b, rowguid_a/b, ycywh_a

    def current(self) -> pd.DataFrame:
        """The work orders' statuses now (other tests of the package record results)."""
        from jobs.cohandling.collect_results import reconcile_now

        return reconcile_now(self.ledger, as_of=self.clock[0])

    def visible(self, user: str) -> pd.DataFrame:
        return self.users[user].orders(self.statuses)


def sign_in(client, user: str) -> None:
    r = client.post("/login", data={"user": user, "password": PASSWORD.format(user), "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


@pytest.fixture(scope="package")
def world(tmp_path_factory) -> World:
    from connectors.testing import FakeReceiver, LocalDrops
    from console.app import create_app, local_now
    from console.auth import FormSignIn
    from jobs.cohandling.collect_results import reconcile_now
    from jobs.cohandling.deliver_orders import deliver_run
    from tests.integration.pipeline import AS_OF, routed_ledger

    tmp = tmp_path_factory.mktemp("console")
    ledger = routed_ledger(f"sqlite:///{tmp / 'ledger.db'}", tmp, rows=160, seed=63)
    made = {}
    deliver_run(ledger, run_id="d1", day=AS_OF, drops=LocalDrops(tmp / "drops"), receiver_for=lambda c, d: made.setdefault(d, FakeReceiver(d)))
    clock = [local_now() + timedelta(days=10)]
    statuses = reconcile_now(ledger, as_of=clock[0])
    account = statuses[(statuses["channel"] == "account") & (statuses["status"] == "overdue")]
    by_institution = account.groupby("institution_code").size().sort_values(ascending=False, kind="stable")
    a = by_institution.index[0]
    a_rows = account[account["institution_code"] == a]
    city, county = a_rows["city_code"].iloc[0], a_rows["xzqh"].iloc[0]
    others = account[account["city_code"] != city]
    b = others.groupby("institution_code").size().sort_values(ascending=False, kind="stable").index[0]
    other_county = others[others["institution_code"] == b]["xzqh"].iloc[0]
    users = {
        "auditor": Scope("auditor", "province", password=PASSWORD.format("auditor")),
        "city": Scope("city", "city", city, password=PASSWORD.format("city")),
        "county": Scope("county", "county", county, password=PASSWORD.format("county")),
        "inst_a": Scope("inst_a", "institution", a, password=PASSWORD.format("inst_a")),
        "inst_b": Scope("inst_b", "institution", b, password=PASSWORD.format("inst_b")),
        "stranger": Scope("stranger", "institution", "NOSUCHCODE", password=PASSWORD.format("stranger")),
    }
    files = tmp / "reports"
    (files / "2026-11").mkdir(parents=True)
    (files / "2026-11" / "report.html").write_text("<html><body>报告 report</body></html>", encoding="utf-8")
    app = create_app(ledger, signin=FormSignIn("test-secret"), users=users, files={"reports": files}, clock=lambda: clock[0])

    def key(row) -> str:
        return f"{row['rowguid']}/{row['utility']}/{int(row['version'])}"

    ids = {"A": a, "B": b, "city": city, "county": county, "other_county": other_county,
           "order_a": key(a_rows.iloc[0]), "order_b": key(others[others["institution_code"] == b].iloc[0]),
           "rowguid_a": a_rows["rowguid"].iloc[0], "rowguid_b": others[others["institution_code"] == b]["rowguid"].iloc[0],
           "ycywh_a": a_rows["platform_no"].iloc[0]}
    yield World(ledger, app, users, statuses, clock, files, ids)
    ledger.dispose()
