"""The console's read model (jobs/cohandling/order_status.py, migration 0016) answers as reconcile_now does on the same
ledger, on SQLite and PostgreSQL: every work order's status, overdue judged by the reader's clock (days after the
refresh, with no refresh in between), counts in each scope, and a result recorded on the board shown at once."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from console.scopes import Scope

OPEN = ("delivered", "acknowledged", "overdue")


@pytest.fixture(params=["sqlite", "postgresql"])
def book(request, tmp_path):
    from connectors.testing import FakeReceiver, LocalDrops
    from jobs.cohandling.deliver_orders import deliver_run
    from tests.integration.pipeline import AS_OF, routed_ledger

    url = f"sqlite:///{tmp_path / 'ledger.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")()
    ledger = routed_ledger(url, tmp_path, rows=120, seed=71)
    made = {}
    deliver_run(ledger, run_id="d1", day=AS_OF, drops=LocalDrops(tmp_path / "drops"), receiver_for=lambda c, d: made.setdefault(d, FakeReceiver(d)))
    yield ledger
    ledger.dispose()


def _now():
    from console.app import local_now

    return local_now()


def _reconciled(ledger, at) -> pd.DataFrame:
    from jobs.cohandling.collect_results import reconcile_now

    out = reconcile_now(ledger, as_of=at)
    return out.assign(xzqh=out["xzqh"].fillna(""))


def _read(ledger, at, scope: dict | None = None) -> dict[tuple, str]:
    """(rowguid, utility, version) -> status, as the read model answers at `at` (every status, no limit)."""
    from transforms.cohandling.reconcile import STATUSES

    out = {}
    for status in STATUSES:
        rows = ledger.cohandling.console_orders(scope or {}, at.date(), status, 10**6)
        out |= {(r, u, int(v)): s for r, u, v, s in zip(rows["rowguid"], rows["utility"], rows["version"], rows["status"])}
    return out


def _expected(statuses: pd.DataFrame) -> dict[tuple, str]:
    return {(r, u, int(v)): s for r, u, v, s in zip(statuses["rowguid"], statuses["utility"], statuses["version"], statuses["status"])}


def _record(ledger, statuses, code: str, n: int) -> list[tuple]:
    """Record result `code` for `n` open account-mode work orders through the console's path; their keys."""
    from jobs.cohandling.console_results import record_result

    rows = statuses[(statuses["channel"] == "account") & statuses["status"].isin(OPEN)].head(n)
    now = _now()
    for r in rows.itertuples():
        out = record_result(ledger, r.destination, f"{r.rowguid}:{r.utility}:{int(r.version)}", code=code, reason="", handler="测试",
                            handled_at=(now + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M"), as_of=now + timedelta(hours=1), actor="test")
        assert out.accepted == 1, out.problems
    return [(r.rowguid, r.utility, int(r.version)) for r in rows.itertuples()]


def test_the_read_model_answers_as_reconcile_does_as_the_clock_moves(book):
    from jobs.cohandling.order_status import refresh_order_status

    assert refresh_order_status(book)["mode"] == "whole"  # empty over work orders (a ledger migrated from 0015): filled whole
    done = _record(book, _reconciled(book, _now()), "0000", 3)
    acknowledged = _record(book, _reconciled(book, _now()), "0100", 3)
    now = _now() + timedelta(minutes=10)  # after the results (a reconciliation as of a time sees what was recorded by then)
    for days in (0, 3, 10, 40):  # no refresh in between: overdue comes from the reader's clock
        at = now + timedelta(days=days)
        expected = _reconciled(book, at)
        assert _read(book, at) == _expected(expected)
        counts = book.cohandling.console_counts({}, at.date()).groupby("status")["n"].sum().to_dict()
        assert counts == expected["status"].value_counts().to_dict()
    later = _expected(_reconciled(book, now + timedelta(days=40)))
    assert {later[k] for k in done} == {"done"}
    assert {later[k] for k in acknowledged} == {"overdue"} and set(_expected(_reconciled(book, now)).values()) - {"overdue"}
    # refreshed when work orders are overdue already: stored as their open status, overdue still derived when read
    assert refresh_order_status(book, whole=True, as_of=now + timedelta(days=10))["mode"] == "whole"
    for days in (10, 40):
        at = now + timedelta(days=days)
        expected = _reconciled(book, at)
        assert "overdue" in set(expected["status"]) and _read(book, at) == _expected(expected)
        counts = book.cohandling.console_counts({}, at.date()).groupby("status")["n"].sum().to_dict()
        assert counts == expected["status"].value_counts().to_dict()


def test_each_scope_reads_only_its_own_work_orders(book):
    from console.pages import counts
    from jobs.cohandling.order_status import refresh_order_status

    refresh_order_status(book)
    at = _now() + timedelta(days=10)
    expected = _reconciled(book, at)
    some = expected.iloc[0]
    scopes = [Scope("p", "province"), Scope("c", "city", some["city_code"]), Scope("x", "county", some["xzqh"]),
              Scope("i", "institution", expected["institution_code"].dropna().iloc[0])]
    for scope in scopes:
        mine = scope.orders(expected)
        assert 0 < len(mine) and (scope.role == "province" or len(mine) < len(expected))
        assert _read(book, at, scope.filters()) == _expected(mine)
        assert int(counts(book, scope.filters(), at.date())["n"].sum()) == len(mine)
        overdue = book.cohandling.console_overdue(scope.filters(), at.date(), 500)
        assert set(zip(overdue["rowguid"], overdue["utility"])) == set(zip(*(mine.loc[mine["status"] == "overdue", c] for c in ("rowguid", "utility"))))


def test_a_result_recorded_on_the_board_shows_at_once_and_one_recorded_elsewhere_at_the_next_refresh(book):
    from jobs.cohandling.order_status import refresh_order_status

    refresh_order_status(book)
    (key,) = _record(book, _reconciled(book, _now()), "0000", 1)
    now = _now() + timedelta(minutes=10)
    row = book.cohandling.console_order({}, now.date(), *key)
    assert row["status"].tolist() == ["done"] and row["result_code"].tolist() == ["0000"]

    statuses = _reconciled(book, now)
    other = statuses[(statuses["channel"] == "account") & statuses["status"].isin(OPEN)].iloc[0]
    rows = pd.DataFrame([{"rowguid": other["rowguid"], "utility": other["utility"], "version": int(other["version"]), "result": "rejected",
                          "code": "0003", "reason": "欠费未结清", "handled_at": now + timedelta(minutes=5), "handler": "x", "row": 1}])
    from connectors.ledger import utcnow

    book.cohandling.save_results(source=f"sftp:{other['destination']}", accepted=rows, problems=[], now=utcnow())  # not through the console
    now = _now() + timedelta(minutes=10)
    before = book.cohandling.console_order({}, now.date(), other["rowguid"], other["utility"], int(other["version"]))
    assert before["status"].tolist() != ["rejected"]  # the read model waits for its refresh
    assert refresh_order_status(book)["mode"] == "some"  # what changed since the last refresh (and within its margin)
    after = book.cohandling.console_order({}, now.date(), other["rowguid"], other["utility"], int(other["version"]))
    assert after["status"].tolist() == ["rejected"]
    assert _read(book, now) == _expected(_reconciled(book, now))
    assert refresh_order_status(book)["mode"] in ("none", "some")  # nothing new: nothing (or the margin's few) again


def test_the_quarantine_page_reads_the_same_lines_as_the_whole_list_a_page_at_a_time(book):
    from transforms.cohandling.quarantine import quarantine_list

    whole = quarantine_list(book.quarantine())
    assert len(whole)  # the generated records have defects
    lines, total = book.cohandling.console_quarantine(area=None, limit=10**6)
    assert total == len(whole) and quarantine_list(lines).equals(whole)
    first, _ = book.cohandling.console_quarantine(area=None, limit=3)
    assert quarantine_list(first).equals(whole.head(3))
    xzqh = str(book.quarantine()["xzqh"].iloc[0])
    area, n = book.cohandling.console_quarantine(area=xzqh[:4] + "%", limit=10**6)
    mine = book.quarantine()
    assert n == int(mine["xzqh"].astype(str).str.startswith(xzqh[:4]).sum()) and quarantine_list(area).equals(
        quarantine_list(mine[mine["xzqh"].astype(str).str.startswith(xzqh[:4])].reset_index(drop=True)))


def test_a_refresh_in_small_chunks_answers_as_one_chunk_does(book, monkeypatch):
    """Refreshes reconcile WHOLE_CHUNK ROWGUIDs at a time, whole or touched (issue 18: up to WHOLE_ABOVE touched ROWGUIDs
    in one frame was the results stage's peak memory): with chunks of 7 the read model and its counts are the same."""
    from jobs.cohandling import order_status

    monkeypatch.setattr(order_status, "WHOLE_CHUNK", 7)
    seen, real = [], order_status.read_model_rows
    monkeypatch.setattr(order_status, "read_model_rows", lambda orders, **kw: seen.append(orders["rowguid"].nunique()) or real(orders, **kw))
    assert order_status.refresh_order_status(book)["mode"] == "whole"
    _record(book, _reconciled(book, _now()), "0000", 4)
    every = book.cohandling.work_order_rowguids()
    seen.clear()
    out = order_status.refresh_order_status(book, rowguids=every)
    assert out["mode"] == "some" and out["rowguids"] == len(every) > 7
    assert max(seen) <= 7 and sum(seen) == len(every)  # a chunk at a time
    at = _now() + timedelta(minutes=10)
    expected = _reconciled(book, at)
    assert out["rows"] == len(expected) and _read(book, at) == _expected(expected)
    counts = book.cohandling.console_counts({}, at.date()).groupby("status")["n"].sum().to_dict()
    assert counts == expected["status"].value_counts().to_dict()


def test_reconcile_now_read_a_part_at_a_time_gives_the_same_statuses(book, monkeypatch):
    """reconcile_now reads the ledger's reconciliation input RECONCILE_PART work orders at a time (a server-side cursor on
    PostgreSQL) and shares repeated texts between rows (issue 18: a year's millions of work orders): in parts of 7 the
    statuses are the same frame, value for value, as in one part."""
    from jobs.cohandling import collect_results

    _record(book, _reconciled(book, _now()), "0000", 3)
    at = _now() + timedelta(days=12)
    whole = collect_results.reconcile_now(book, as_of=at)
    sizes, real = [], type(book.cohandling).reconciliation_input_parts

    def parts(self, known_by=None, *, rows):
        for part in real(self, known_by, rows=rows):
            sizes.append(len(part))
            yield part

    monkeypatch.setattr(type(book.cohandling), "reconciliation_input_parts", parts)
    monkeypatch.setattr(collect_results, "RECONCILE_PART", 7)
    parted = collect_results.reconcile_now(book, as_of=at)
    assert len(sizes) > 2 and max(sizes) <= 7 and sum(sizes) == len(whole)
    key = ["rowguid", "utility", "version"]
    pd.testing.assert_frame_equal(whole.sort_values(key).reset_index(drop=True), parted.sort_values(key).reset_index(drop=True))
    assert {"done", "overdue"} <= set(parted["status"])


def test_sms_are_queued_a_page_at_a_time_as_in_one_page(book, monkeypatch):
    """queue_notifications reads the final outcomes still without an SMS a page at a time (issue 18: a day's million
    results were read, with their buyers' phones, in one frame): with pages of 3 the same messages are queued, each once,
    and a second call finds none left."""
    from connectors.ledger.schema_cohandling import sms_outbox
    from jobs.cohandling.collect_results import queue_notifications

    statuses = _reconciled(book, _now())
    _record(book, statuses, "0000", 8)
    _record(book, _reconciled(book, _now()), "0002", 3)
    columns = ["rowguid", "utility", "version", "phone", "text"]
    whole = pd.DataFrame(book.cohandling.sms())[columns].sort_values(columns[:3]).reset_index(drop=True)
    assert len(whole) == 11
    with book.engine.begin() as conn:
        conn.execute(sms_outbox.delete())
    sizes, real = [], type(book.cohandling).notification_candidates

    def pages(self, **kw):
        frame = real(self, **kw)
        sizes.append(len(frame))
        return frame

    monkeypatch.setattr(type(book.cohandling), "notification_candidates", pages)
    assert queue_notifications(book, page=3) == 11
    assert sizes == [3, 3, 3, 2]
    paged = pd.DataFrame(book.cohandling.sms())[columns].sort_values(columns[:3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(whole, paged)
    assert queue_notifications(book, page=3) == 0


def test_a_refresh_goes_whole_only_when_the_touched_are_most_of_the_read_model(book, monkeypatch):
    """A whole refresh rewrites every row of the read model (issue 18: at 1,000,000 records, 2.4 million rows for each
    hourly run that touched 200,000 ROWGUIDs). Touched ROWGUIDs over WHOLE_ABOVE but a small share of the read model are
    refreshed alone; over both, whole — and either way the read model answers as reconcile_now does."""
    from jobs.cohandling import order_status

    assert order_status.refresh_order_status(book)["mode"] == "whole"
    every = book.cohandling.work_order_rowguids()
    assert book.cohandling.read_model_rowguids() == len(every)
    monkeypatch.setattr(order_status, "WHOLE_ABOVE", 3)
    modes = []
    for share, touched in ((0.5, 8), (0.5, len(every) * 2 // 3), (0.9, len(every) * 2 // 3)):
        monkeypatch.setattr(order_status, "WHOLE_SHARE", share)
        monkeypatch.setattr(type(book.cohandling), "touched_rowguids", lambda self, since, n=touched: every[:n])
        _record(book, _reconciled(book, _now()), "0000", 1)
        out = order_status.refresh_order_status(book)
        modes.append((out["mode"], out["rowguids"]))
        at = _now() + timedelta(minutes=10)
        assert _read(book, at) == _expected(_reconciled(book, at))
    assert modes == [("some", 8), ("whole", len(every)), ("some", len(every) * 2 // 3)]
