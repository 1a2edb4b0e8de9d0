"""The lifetime balance's arithmetic (transforms/common/balance.py): literal counts, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

from transforms.common.balance import (
    LifetimeBalance,
    StateCount,
    dead_letter_surfaces,
    due_states,
    mask_ref,
    stale_unit,
    surface_balance,
)

DAY = timedelta(days=1)
AT = datetime(2026, 11, 20, 6)


def test_states_fall_into_their_categories_and_add_up_to_what_was_received():
    b = surface_balance("exchange_change", totals={"received": 10, "verdicts_without_change": 0}, dead_lettered=2, stale_after=2 * DAY, states={
        "routed": StateCount(5), "superseded": StateCount(1), "quarantined": StateCount(2), "unvalidated": StateCount(1, AT - 3 * DAY, 1),
        "unrouted": StateCount(1, AT - DAY, 0)})
    assert b.holds and b.received == 12
    assert b.categories == {"final": 6, "waiting": 0, "due": 2, "quarantined": 2, "dead_lettered": 2}
    assert sum(b.categories.values()) == b.received
    assert b.stale == 1


def test_states_that_do_not_add_up_an_inconsistent_unit_or_a_failed_check_break_it():
    short = surface_balance("work_order", totals={"received": 5}, states={"held": StateCount(4)}, dead_lettered=0, stale_after=DAY)
    assert not short.holds and "states add up to 4, 5 received" in short.problems
    odd = surface_balance("remote_package", totals={"received": 3}, states={"closed": StateCount(2), "inconsistent": StateCount(1, AT - 9 * DAY, 1)},
                          dead_lettered=0, stale_after=DAY)
    assert not odd.holds and odd.stale == 0 and "1 units in no consistent state" in odd.problems
    orphan = surface_balance("exchange_change", totals={"received": 1, "verdicts_without_change": 2}, states={"routed": StateCount(1)},
                             dead_lettered=0, stale_after=DAY)
    assert orphan.problems == ["verdicts without change: 2"]


def test_a_state_no_surface_knows_is_due_and_goes_stale_rather_than_being_lost():
    b = surface_balance("work_order", totals={"received": 3}, states={"delivery_cancel_pending": StateCount(3, AT - 5 * DAY, 3)},
                        dead_lettered=0, stale_after=2 * DAY)
    assert b.holds and b.categories["due"] == 3 and b.stale == 3
    assert due_states("work_order", {"delivery_cancel_pending": StateCount(3), "held": StateCount(1), "inconsistent": StateCount(1)}) == [
        "delivery_cancel_pending"]


def test_dead_letters_count_on_their_surface_and_an_unknown_one_is_a_surface_of_its_own():
    assert dead_letter_surfaces({"exchange_row": 2, "package_row": 1, "work_order": 0, "feed_oddity": 4}) == {
        "exchange_change": 2, "remote_package": 1, "feed_oddity": 4}
    b = surface_balance("feed_oddity", totals={"received": 0}, states={}, dead_lettered=4, stale_after=DAY)
    assert b.holds and b.received == 4 == b.categories["dead_lettered"]


def test_stale_units_are_shown_masked_and_the_report_names_counts_per_surface():
    rowguid = "6f1c2e0a-9b7d-4c3e-8f21-0d9e8c7b6a54"
    unit = stale_unit("exchange_change", {"unit": "platform#17", "ref": rowguid, "state": "unvalidated", "since": AT - 3 * DAY})
    assert rowguid not in unit.unit and unit.unit == "platform#17 (6f1c****6a54)"
    assert mask_ref("370102199001011234") == "3701****1234" and mask_ref("12345") == "*****" and mask_ref(None) == ""
    b = surface_balance("exchange_change", totals={"received": 4}, states={"routed": StateCount(3), "unvalidated": StateCount(1, AT - 3 * DAY, 1)},
                        dead_lettered=0, stale_after=2 * DAY)
    report = LifetimeBalance(AT, [b], [unit])
    assert report.holds and not report.ok and report.stale == 1
    text = report.text()
    assert "1 stale units" in text and "exchange_change 平台变更 exchange changes" in text and "unvalidated 1 (stale after 48 h)" in text
    assert "platform#17 (6f1c****6a54) since 2026-11-17 06:00 UTC (3.0 days)" in text and rowguid not in text
    assert report.as_dict()["surfaces"][0]["due"] == 1
