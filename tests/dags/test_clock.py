"""The run's clock every task uses (dags/_common.clock): the DAG param `as_of`, else the data
interval, else the trigger time; a malformed as_of fails without retries, saying what is wrong."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException

from dags._common import clock

START = pendulum.datetime(2026, 3, 14, 23, 30, tz="UTC")  # a 07:30 Shandong report's interval: 15 March 07:30 to 16 March 07:30
END = pendulum.datetime(2026, 3, 15, 23, 30, tz="UTC")
TRIGGERED = datetime(2026, 3, 20, 2, 0, tzinfo=pendulum.UTC)  # a manual run without a logical date: run_after only


def test_as_of_wins_over_the_interval_and_the_trigger_time():
    context = {"params": {"as_of": "2026-03-25T07:30"}, "data_interval_start": START, "data_interval_end": END,
               "dag_run": SimpleNamespace(run_after=TRIGGERED)}
    now = clock(context)
    assert now.source == "as_of" and now.local() == datetime(2026, 3, 25, 7, 30) and now.utc() == datetime(2026, 3, 24, 23, 30)
    assert now.day() == date(2026, 3, 24)  # a report covers the day before as_of's date


@pytest.mark.parametrize(("given", "local"), [
    ("2026-03-25", datetime(2026, 3, 25)),  # a date: that day's 00:00 in Shandong
    ("2026-03-25 06:00:00", datetime(2026, 3, 25, 6)),
    ("2026-03-24T22:00:00+00:00", datetime(2026, 3, 25, 6)),  # an offset is honoured
    ("2026-03-24T22:00Z", datetime(2026, 3, 25, 6)),
])
def test_as_of_is_an_iso_date_or_date_time_in_shandong_unless_it_says_otherwise(given, local):
    now = clock({"params": {"as_of": given}})
    assert now.local() == local and now.day() == date(2026, 3, 24)


def test_without_as_of_the_interval_then_the_trigger_time():
    for empty in ({}, {"as_of": None}, {"as_of": "  "}):
        now = clock({"params": empty, "data_interval_start": START, "data_interval_end": END, "dag_run": SimpleNamespace(run_after=TRIGGERED)})
        assert (now.source, now.local(), now.day()) == ("data interval", datetime(2026, 3, 16, 7, 30), date(2026, 3, 15))
    # Airflow 3: a manual run without a logical date has no data interval (None in the context, or no key at all).
    for context in ({"data_interval_end": None, "data_interval_start": None}, {}):
        now = clock({"params": {"as_of": None}, "dag_run": SimpleNamespace(run_after=TRIGGERED), **context})
        assert (now.source, now.local(), now.day()) == ("trigger time", datetime(2026, 3, 20, 10), date(2026, 3, 19))


@pytest.mark.parametrize("bad", ["next tuesday", "2026-02-30", "15/03/2026", 20260315, ["2026-03-15"]])
def test_a_malformed_as_of_fails_for_good_naming_the_value(bad):
    with pytest.raises(AirflowFailException, match=r"invalid DAG param as_of=.*not an ISO date or date-time.*e\.g\. 2026-03-15") as failed:
        clock({"params": {"as_of": bad}, "data_interval_end": END})
    assert repr(bad) in str(failed.value)
