"""Weekly overdue reminders (jobs/cohandling/remind_overdue.py) against the in-memory channels: a reminder reaches each
institution's drop once per ISO week, not twice; a county system gets one message; a dead receiver stops nobody else
and is sent next run; every county's list is complete. Work orders delivered now, no result: overdue two weeks later."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from connectors.ledger import utcnow
from connectors.testing import FakeReceiver, LocalDrops
from jobs.cohandling.collect_results import reconcile_now
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.remind_overdue import RemindersUnsent, remind_run
from simulators.institutions import read_batch
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.reminders import COLUMNS, LABELS, folder_name, iso_week


@pytest.fixture
def world(tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=63)
    drops, made = LocalDrops(tmp_path / "drops"), {}

    def receiver_for(channel: str, destination: str) -> FakeReceiver:
        return made.setdefault(destination, FakeReceiver(destination))

    deliver_run(ledger, run_id="d1", day=AS_OF, drops=drops, receiver_for=receiver_for)
    monday = (utcnow() + timedelta(hours=8, days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday())  # a Monday two weeks on: everything delivered now is overdue then
    yield ledger, drops, made, receiver_for, monday
    ledger.dispose()


def _overdue(ledger, as_of) -> set[str]:
    statuses = reconcile_now(ledger, as_of=as_of)
    od = statuses[statuses["status"] == "overdue"]
    return {f"{r}:{u}:{v}" for r, u, v in zip(od["rowguid"], od["utility"], od["version"])}


def _rows_xlsx(data: bytes) -> tuple[list, list, list[dict]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    for row in sheet.iter_rows(min_row=3):
        assert all(c.value is None or (c.data_type == "s" and c.number_format == "@") for c in row)  # every code stays text
    return rows[0], rows[1], [dict(zip(rows[1], r)) for r in rows[2:]]


def test_a_reminder_reaches_each_institution_once_per_week_not_twice(world, tmp_path):
    ledger, drops, made, receiver_for, monday = world
    week = iso_week(monday.date())
    overdue = _overdue(ledger, monday)
    accounts = {d["destination"] for d in ledger.cohandling.deliveries() if d["channel"] == "account" and d["status"] == "delivered"}
    assert overdue and len(accounts) >= 2

    first = remind_run(ledger, run_id="w1", as_of=monday, county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for)
    assert first.overdue == len(overdue) and first.pending == {} and first.failed == {}
    assert first.sent["account"] == len(accounts) and first.sent["system"] >= 1 and first.sent["grid"] == 1
    name = folder_name(week)
    for drop in accounts:
        assert drops.list_outbox(drop).count(name) == 1
        folder = tmp_path / "drops" / drop / "outbox" / name
        manifest = json.loads((folder / f"{name}.manifest.json").read_text(encoding="utf-8"))
        assert (manifest["kind"], manifest["week"], manifest["institution"]) == ("reminder", week, drop)
        data = (folder / manifest["files"][0]["name"]).read_bytes()
        mine = {f"{d['rowguid']}:{d['utility']}:{d['version']}" for d in ledger.cohandling.deliveries() if d["destination"] == drop}
        kind, rows = read_batch(folder)  # as the institution reads its outbox
        assert kind == "reminder"
        if manifest["format"] == "xlsx":
            labels, codes, cells = _rows_xlsx(data)
            assert codes == list(COLUMNS) and labels == [LABELS[c] for c in COLUMNS] and cells == rows
        assert {r["GDBH"] for r in rows} == mine & overdue and manifest["records"] == len(rows)
        assert all(r["BLQX"] < str(monday.date()) and int(r["CQGZR"]) > 0 and int(r["CQTS"]) > 0 for r in rows)
        assert all(r["MFXM"] is None or "*" in r["MFXM"] for r in rows) and all(r["YCYWH"] and r["HH"] for r in rows)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "drops").rglob(f"{name}/*")}
    http_sent = {d: len(r.received) for d, r in made.items()}
    channel_of = {f"{d['rowguid']}:{d['utility']}:{d['version']}": d["channel"] for d in ledger.cohandling.deliveries()}
    reminded = [k.rsplit(":remind:", 1)[0] for r in made.values() for k in r.reminded]
    assert sorted(reminded) == sorted(k for k in overdue if channel_of[k] != "account")  # every overdue HTTP work order, once
    http_sent = {d: len(r.received) for d, r in made.items()}

    # run again the same week (a re-run, an Airflow retry): nothing sent twice, the files untouched
    again = remind_run(ledger, run_id="w1-again", as_of=monday + timedelta(days=3), county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for)
    assert (again.planned, again.sent, again.pending) == (0, {}, {})
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "drops").rglob(f"{name}/*")} == stamps
    assert {d: len(r.received) for d, r in made.items()} == http_sent
    assert all(drops.list_outbox(drop).count(name) == 1 for drop in accounts)

    # the next week: a new reminder, with what is overdue then
    later = monday + timedelta(days=7)
    nxt = remind_run(ledger, run_id="w2", as_of=later, county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for)
    assert nxt.sent["account"] == len(accounts) and nxt.week == iso_week(later.date()) != week
    for drop in accounts:
        assert {name, folder_name(nxt.week)} <= set(drops.list_outbox(drop))
    reminded = [k for r in made.values() for k in r.reminded]
    assert len(reminded) == len(set(reminded)) == 2 * sum(1 for k in overdue if channel_of[k] != "account")  # once per work order and week
    weeks = {(r["week"], r["channel"], r["destination"]): r["status"] for r in ledger.cohandling.reminders()}
    assert set(weeks.values()) == {"sent"} and len(weeks) == 2 * len(ledger.cohandling.reminders(week))


def test_a_system_mode_county_receives_one_message_and_a_dead_receiver_stops_nobody(world, tmp_path):
    ledger, drops, made, receiver_for, monday = world
    counties = sorted({d["destination"] for d in ledger.cohandling.deliveries() if d["channel"] == "system" and d["status"] == "delivered"})
    dead, alive = counties[0], counties[1:]
    made[dead].unreachable = True
    blocked = sorted({d["destination"] for d in ledger.cohandling.deliveries() if d["channel"] == "account" and d["status"] == "delivered"})[0]
    (tmp_path / "drops" / blocked / "outbox").rename(tmp_path / "moved")
    (tmp_path / "drops" / blocked / "outbox").write_text("not a folder")

    with pytest.raises(RemindersUnsent) as unsent:
        remind_run(ledger, run_id="w1", as_of=monday, county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for, fail_if_unsent=True)
    text = str(unsent.value)
    assert f"system {dead}:" in text and f"account {blocked}:" in text and "pending {'account': 1, 'system': 1}" in text
    state = {(r["channel"], r["destination"]): r["status"] for r in ledger.cohandling.reminders()}
    assert state.pop(("system", dead)) == "pending" and state.pop(("account", blocked)) == "pending"
    assert set(state.values()) == {"sent"} and ("grid", "grid") in state and any(c == "county" for c, _ in state)
    reminded = [c for c in alive if ("system", c) in state]
    assert reminded
    for county in reminded:  # one message each: its batch, every item once
        assert [b for b in made[county].batches if b.startswith("reminder:")] == [f"reminder:{iso_week(monday.date())}:{county}"]
        keys = [i["idempotency_key"] for i in made[county].received if i["idempotency_key"].count(":remind:")]
        assert len(keys) == len(set(keys)) == len(made[county].reminded) > 0

    made[dead].unreachable = False  # back: the next run of the week sends what is pending, and only that
    (tmp_path / "drops" / blocked / "outbox").unlink()
    (tmp_path / "moved").rename(tmp_path / "drops" / blocked / "outbox")
    before = {d: len(r.received) for d, r in made.items()}
    retry = remind_run(ledger, run_id="w1-retry", as_of=monday + timedelta(hours=1), county_dir=tmp_path / "reports", drops=drops,
                       receiver_for=receiver_for, fail_if_unsent=True)
    assert retry.sent == {"account": 1, "system": 1} and retry.pending == {}
    assert {d: len(r.received) for d, r in made.items() if d != dead} == {d: n for d, n in before.items() if d != dead}
    assert [b for b in made[dead].batches if b.startswith("reminder:")] == [f"reminder:{iso_week(monday.date())}:{dead}"]
    assert len(made[dead].reminded) > 0
    assert {r["status"] for r in ledger.cohandling.reminders()} == {"sent"}


def test_every_county_gets_a_complete_list_of_its_overdue_work_orders(world, tmp_path):
    ledger, drops, made, receiver_for, monday = world
    result = remind_run(ledger, run_id="w1", as_of=monday, county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for)
    folder = Path(result.county_dir)
    assert folder == tmp_path / "reports" / iso_week(monday.date())
    seen: list[str] = []
    statuses = reconcile_now(ledger, as_of=monday)
    od = statuses[statuses["status"] == "overdue"]
    by_county = {x: {f"{r}:{u}:{v}" for r, u, v in zip(g["rowguid"], g["utility"], g["version"])} for x, g in od.groupby("xzqh")}
    xlsx = sorted(folder.glob("催办清单_*.xlsx"))
    assert len(xlsx) == len(by_county) == result.sent["county"]
    for path in xlsx:
        _, codes, rows = _rows_xlsx(path.read_bytes())
        xzqh = {r["XZQH"] for r in rows}
        assert len(xzqh) == 1 and path.name.startswith(f"催办清单_{next(iter(xzqh))}")
        assert {r["GDBH"] for r in rows} == by_county[next(iter(xzqh))]
        with open(path.with_suffix(".csv"), encoding="utf-8-sig", newline="") as fh:
            assert [r["GDBH"] for r in csv.DictReader(fh)] == [r["GDBH"] for r in rows]  # the CSV says the same, in the same order
        assert len({r["TSFS"] for r in rows}) >= 1 and all(r["JGMC"] for r in rows)  # across institutions (and the grid)
        seen += [r["GDBH"] for r in rows]
    assert sorted(seen) == sorted(_overdue(ledger, monday))  # complete, each once
    assert not list(folder.glob(".*.tmp"))


def test_two_workers_reminding_the_same_week_at_once_send_once(world, tmp_path):
    ledger, drops, made, receiver_for, monday = world
    results, errors = [], []

    def work(n: int) -> None:
        try:
            results.append(remind_run(ledger, run_id=f"worker{n}", as_of=monday, county_dir=tmp_path / "reports", drops=drops, receiver_for=receiver_for))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 2
    assert sum(r.planned for r in results) == len(ledger.cohandling.reminders())
    assert sum(sum(r.sent.values()) for r in results) == len(ledger.cohandling.reminders())  # each reminder sent by one of them
    reminded = [i["idempotency_key"] for r in made.values() for i in r.received if ":remind:" in i["idempotency_key"]]
    assert len(reminded) == len(set(reminded)) > 0
