"""Who is reminded of what (transforms/cohandling/reminders.py): only overdue work orders; one reminder per account drop,
county system and the grid, one list per county over all of them; ISO weeks; protocol keys as the HTTP client writes
them; the buyer's name masked; the same items give the same bytes."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from connectors.http_receiver import check_reminder_item, idempotency_key
from transforms.cohandling.reminders import COLUMNS, county_files, folder_name, http_items, iso_week, overdue_items, plan, reminder_files


def _statuses() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [
        # rowguid, utility, status, channel, destination, xzqh, overdue wd
        ("a1", "water", "overdue", "account", "drop_a", "370102", 3),
        ("a2", "gas", "overdue", "account", "drop_a", "370102", 7),
        ("a3", "gas", "done", "account", "drop_a", "370102", None),
        ("b1", "heat", "overdue", "system", "county_system_370203", "370203", 1),
        ("c1", "electricity", "overdue", "grid", "grid", "370102", 2),
        ("c2", "electricity", "acknowledged", "grid", "grid", "370203", None),
        ("d/1", "water", "overdue", "system", "county_system_370203", "370203", 4),  # a ROWGUID not safe in a URL
    ]
    statuses = pd.DataFrame([{
        "rowguid": r, "utility": u, "version": 1, "status": s, "channel": c, "destination": d, "xzqh": x, "county_name": {"370102": "历下区", "370203": "市北区"}[x],
        "institution_code": "91370102X" if c != "grid" else None, "institution_name": "某水务公司" if c != "grid" else "国网山东省电力公司",
        "delivered_at": datetime(2026, 11, 16, 6), "due_date": date(2026, 11, 23), "overdue_working_days": float("nan") if w is None else float(w),
        "buyer_name": "欧阳娜娜、李四"} for r, u, s, c, d, x, w in rows])
    facts = pd.DataFrame([{"rowguid": r, "utility": u, "version": 1, "account_no": f"00{i}", "ycywh": f"YW{i:04d}", "file_format": "csv" if r == "a1" else None}
                          for i, (r, u, *_ ) in enumerate(rows)])
    return statuses, facts


def test_only_overdue_work_orders_and_one_reminder_per_recipient_and_a_list_per_county():
    statuses, facts = _statuses()
    items = overdue_items(statuses, facts, as_of=date(2026, 11, 30))
    assert sorted(items["GDBH"]) == ["a1:water:1", "a2:gas:1", "b1:heat:1", "c1:electricity:1", "d/1:water:1"]
    assert set(items["MFXM"]) == {"欧***、李*"} and set(items["CQTS"]) == {"7"} and set(items["BLQX"]) == {"2026-11-23"}
    week = iso_week(date(2026, 11, 30))
    reminders = {(r["channel"], r["destination"]): r for r in plan(items, week=week)}
    assert set(reminders) == {("account", "drop_a"), ("system", "county_system_370203"), ("grid", "grid"), ("county", "county:370102"), ("county", "county:370203")}
    drop = reminders[("account", "drop_a")]
    assert drop["name"] == "CB2026W49" and drop["file_format"] == "csv" and [i["GDBH"] for i in drop["items"]] == ["a2:gas:1", "a1:water:1"]  # longest first
    assert [i["GDBH"] for i in reminders[("county", "county:370102")]["items"]] == ["a2:gas:1", "a1:water:1", "c1:electricity:1"]
    assert [i["GDBH"] for i in reminders[("county", "county:370203")]["items"]] == ["d/1:water:1", "b1:heat:1"]  # across institutions
    assert reminders[("county", "county:370203")]["name"] == "催办清单_370203市北区_2026-W49"
    assert all(set(i) == set(COLUMNS) for r in reminders.values() for i in r["items"])


def test_iso_weeks_across_the_year_end():
    assert (iso_week(date(2026, 12, 28)), iso_week(date(2027, 1, 3)), iso_week(date(2027, 1, 4))) == ("2026-W53", "2026-W53", "2027-W01")
    assert folder_name("2027-W01") == "CB2027W01"


def test_protocol_items_are_keyed_as_the_http_client_keys_work_orders():
    statuses, facts = _statuses()
    items = plan(overdue_items(statuses, facts, as_of=date(2026, 11, 30)), week="2026-W49")
    system = next(r for r in items if r["channel"] == "system")
    sent = http_items(system["items"], week="2026-W49")
    for i, item in enumerate(sent):
        check_reminder_item(i, item)
        assert item["idempotency_key"] == f"{idempotency_key(item['rowguid'], item['utility'], item['version'])}:remind:2026-W49"
    assert [s["overdue_working_days"] for s in sent] == [4, 1]


def test_the_same_items_give_the_same_bytes():
    statuses, facts = _statuses()
    drop = next(r for r in plan(overdue_items(statuses, facts, as_of=date(2026, 11, 30)), week="2026-W49") if r["channel"] == "account")
    made = datetime(2026, 11, 30, 1, 0, 3)
    first = reminder_files(drop["items"], base_name="CB2026W49", file_format="xlsx", week="2026-W49", institution="drop_a", created=made)
    again = reminder_files(drop["items"], base_name="CB2026W49", file_format="xlsx", week="2026-W49", institution="drop_a", created=made)
    assert [f.sha256 for f in first] == [f.sha256 for f in again] and [f.name for f in first] == ["CB2026W49.xlsx", "CB2026W49.sha256", "CB2026W49.manifest.json"]
    county = county_files(drop["items"], base_name="x", week="2026-W49", county="370102 历下区", created=made)
    assert [f.name for f in county] == ["x.xlsx", "x.csv"] and county[1].data.decode("utf-8").startswith('\ufeff"GDBH","YCYWH"')


def test_nothing_overdue_reminds_nobody():
    statuses, facts = _statuses()
    statuses = statuses[statuses["status"] != "overdue"]
    items = overdue_items(statuses, facts, as_of=date(2026, 11, 30))
    assert len(items) == 0 and plan(items, week="2026-W49") == []
    assert plan(overdue_items(statuses.iloc[:0], facts.iloc[:0], as_of=date(2026, 11, 30)), week="2026-W49") == []
