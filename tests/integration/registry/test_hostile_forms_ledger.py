"""Hostile forms into the ledger on SQLite and PostgreSQL (PostgreSQL refuses NUL in text, and
checks every length): a form whose rows carry every hostile kind loads its good rows, each bad
row gets its issue, and an unreadable form is dead-lettered — no database error reaches the task."""

from __future__ import annotations

from connectors.ledger import Ledger
from tests.hostile import KINDS, covers
from tests.unit.jobs.test_hostile_forms import GOOD, _load, _outcome, annex2_grid, checklist_grid, write_csv, write_xlsx


def test_every_hostile_kind_in_one_form_on_both_databases(db_urls, tmp_path):
    ledger = Ledger(db_urls[1])
    ledger.migrate()
    kinds = [k for k in KINDS if k != "wrong_json_type"]
    grid = annex2_grid()
    checklist = checklist_grid()
    for kind in kinds:
        for value in KINDS[kind]:
            other = "" if kind == "huge_cell" else value  # one 1 M-character cell per row: the form stays under its size bound
            grid.append(["历下区", "气", value, other, other, other, other, other, other])
            checklist.append(["历下区", "预告登记", other, value, other, other, other])
    inbox = tmp_path / "registry"
    inbox.mkdir()
    write_csv(inbox / "a_form.csv", grid)
    write_xlsx(inbox / "b_form.xlsx", [[c.decode("utf-8", "replace") if isinstance(c, bytes) else c for c in row] for row in grid])
    (inbox / "c_broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    summaries = _load(ledger, inbox, False)
    assert [s.file_name for s in summaries] == ["a_form.csv", "b_form.xlsx"]
    assert {code for code, _ in _outcome(ledger, False)} >= set(GOOD)
    assert list(ledger.dead_letters("registry_form")["rule_id"]) == ["FORM_XLSX_BROKEN"]

    boxes = tmp_path / "checklists"
    boxes.mkdir()
    write_csv(boxes / "list.csv", checklist)
    [summary] = _load(ledger, boxes, True)
    assert {g[0] for g in _outcome(ledger, True)} == {"370102", "370103"}  # 历下区 抵押登记 and 市中区 抵押登记 loaded
    assert any(i.rule == "CHECKLIST_INCOMPLETE" for i in summary.issues)  # 历下区 预告登记: bad rows, the list waits
    for kind in kinds:
        covers("registry_form", kind)
        covers("remote_checklist", kind)
    ledger.dispose()
