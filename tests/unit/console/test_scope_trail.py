"""`Scope.trail`: what of a trace each role sees (literal data)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from console.scopes import Scope
from jobs.common.trace import Trace

T = pd.Timestamp("2026-11-02 09:00", tz="Asia/Shanghai")
EVENTS = pd.DataFrame({
    "time": [T] * 7,
    "stage": ["received", "validated", "work_order", "work_order", "delivery", "exception", "remind"],
    "stage_zh": ["接收", "校验", "工单", "工单", "推送", "异常", "催办"],
    "subject": ["G1", "G1", "G1:water:1", "G1:gas:1", "G1:water:1", "G1:water", ""],
    "what": ["…"] * 7,
    "evidence": [""] * 7,
})
TRACE = Trace("G1", "rowguid", ("G1",), EVENTS, datetime(2026, 11, 2, 9), areas=("370103",),
              owners=(("G1:gas:1", "GASCO"), ("G1:water:1", "WATERCO")))


@pytest.mark.parametrize("scope, stages", [
    (Scope("p", "province"), ["received", "validated", "work_order", "work_order", "delivery", "exception", "remind"]),
    (Scope("c", "city", "370100"), ["received", "validated", "work_order", "work_order", "delivery", "exception", "remind"]),
    (Scope("k", "county", "370103"), ["received", "validated", "work_order", "work_order", "delivery", "exception", "remind"]),
    (Scope("w", "institution", "WATERCO"), ["work_order", "delivery", "exception"]),
    (Scope("g", "institution", "GASCO"), ["work_order"]),
])
def test_each_role_sees_its_part(scope, stages):
    assert list(scope.trail(TRACE)["stage"]) == stages


@pytest.mark.parametrize("scope", [Scope("c", "city", "370200"), Scope("k", "county", "370102"), Scope("h", "institution", "HEATCO")])
def test_outside_the_scope_is_nothing(scope):
    assert scope.trail(TRACE) is None


def test_a_key_not_found_is_nothing_for_everyone():
    missing = Trace("X", None, (), EVENTS.iloc[0:0], datetime(2026, 11, 2, 9))
    assert Scope("p", "province").trail(missing) is None


def test_a_package_is_seen_by_its_property_county_and_its_collecting_county_not_by_institutions():
    package = Trace("B1", "bwid", ("B1",), EVENTS.iloc[0:1].assign(subject="B1"), datetime(2026, 11, 2, 9), areas=("370102", "371302"))
    assert Scope("k", "county", "371302").trail(package) is not None and Scope("k", "county", "370102").trail(package) is not None
    assert Scope("w", "institution", "WATERCO").trail(package) is None
