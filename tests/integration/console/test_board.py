"""The institutions' board (配置账号): download the open work orders (XLSX codes as text, CSV), record one result,
upload a result file — checked by the same code as a file from the drop's inbox (jobs/cohandling/collect_results.py
check_result_file), with the same exceptions: the good row counts, the bad one is reported with row and rule."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.integration.console.conftest import sign_in


@pytest.fixture
def inst(world):
    client = TestClient(world.app)
    sign_in(client, "inst_a")
    return client


def _open_keys(world, user: str) -> set[str]:
    rows = world.visible(user)
    rows = rows[rows["status"].isin(["delivered", "acknowledged", "overdue"])]
    return {f"{g}:{u}:{v}" for g, u, v in zip(rows["rowguid"], rows["utility"], rows["version"])}


def test_the_download_is_the_institutions_open_orders_with_codes_as_text_and_audited(world, inst):
    r = inst.get("/board/download.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    codes = [c.value for c in sheet[2]]
    assert codes[:4] == ["GDBH", "XBLX", "BBH", "SFGZ"] and "ZRFZJHM" in codes
    rows = list(sheet.iter_rows(min_row=3))
    for row in rows:
        assert all(c.value is None or (c.data_type == "s" and c.number_format == "@") for c in row)  # every code stays text
    keys = {row[0].value for row in rows}
    assert keys == _open_keys(world, "inst_a") - _recorded(world)
    text = inst.get("/board/download.csv").content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert {t["GDBH"] for t in table} == keys
    downloads = [e for e in world.ledger.audit_entries("console_download") if e["actor"] == "console:inst_a"]
    assert len(downloads) >= 2 and world.ids["A"].lower() in downloads[-1]["object_id"]


def _recorded(world) -> set[str]:
    o = world.ledger.cohandling.outcomes()
    return {f"{g}:{u}:{v}" for g, u, v, res in zip(o["rowguid"], o["utility"], o["version"], o["result"]) if isinstance(res, str)}


def test_recording_one_result_counts_it_and_a_second_is_a_duplicate(world, inst):
    rowguid, utility, version = world.ids["order_a"].split("/")
    when = world.clock[0].strftime("%Y-%m-%d %H:%M")
    r = inst.post(f"/board/orders/{rowguid}/{utility}/{version}", data={"JGDM": "0000", "BLSJ": when, "BLR": "王工"})
    assert r.status_code == 200 and "结果已记录" in r.text and 'id="status">done' in r.text
    assert f"{rowguid}:{utility}:{version}" in _recorded(world)
    again = inst.post(f"/board/orders/{rowguid}/{utility}/{version}", data={"JGDM": "0000", "BLSJ": when})
    assert "RESULT_DUPLICATE" in again.text
    audit = [e for e in world.ledger.audit_entries("console_result_recorded") if e["object_id"] == f"{rowguid}:{utility}:{version}"]
    assert len(audit) == 2 and all(e["actor"] == "console:inst_a" for e in audit)


def test_an_uploaded_file_with_one_bad_row_counts_the_good_row_and_reports_the_bad_one(world, inst):
    from jobs.cohandling.collect_results import check_result_file
    from transforms.cohandling.result_files import KnownWorkOrders

    good, other = sorted(_open_keys(world, "inst_a") - _recorded(world))[:2]
    when = world.clock[0].strftime("%Y-%m-%d %H:%M")
    data = ("GDBH,JGDM,JGSM,BLSJ,BLR\n" f"{good},0000,,{when},李工\n" f"{other},7777,,{when},李工\n").encode()
    drop = f"sftp:{world.statuses.loc[world.statuses['institution_code'] == world.ids['A'], 'destination'].iloc[0]}"
    known = KnownWorkOrders(world.ledger.cohandling.delivered_versions(), world.ledger.cohandling.outcomes())
    _, accepted, expected, _ = check_result_file("results.csv", data, source=drop, known=known, as_of=world.clock[0])  # what the inbox would say

    r = inst.post("/board/upload", files={"file": ("results.csv", data, "text/csv")})
    assert r.status_code == 200
    assert '<strong id="accepted">1</strong>' in r.text and '<strong id="refused">1</strong>' in r.text
    assert len(accepted) == 1 and [(p["row_number"], p["reason_code"]) for p in expected] == [(3, "RESULT_UNKNOWN_CODE")]
    assert "RESULT_UNKNOWN_CODE" in r.text and expected[0]["reason"] in r.text
    assert good in _recorded(world) and other not in _recorded(world)
    again = inst.post("/board/upload", files={"file": ("results.csv", data, "text/csv")})
    assert "已处理过" in again.text  # the same bytes never count twice
    assert any(e["detail"] and "results.csv" in e["detail"] for e in world.ledger.audit_entries("console_result_upload"))


def test_a_row_for_another_institutions_order_is_refused_as_from_the_inbox(world, inst):
    other = world.ids["order_b"].replace("/", ":")
    when = world.clock[0].strftime("%Y-%m-%d %H:%M")
    r = inst.post("/board/upload", files={"file": ("theirs.csv", f"GDBH,JGDM,BLSJ\n{other},0000,{when}\n".encode(), "text/csv")})
    assert "RESULT_WRONG_SOURCE" in r.text and other not in _recorded(world)


def test_a_file_refused_whole_says_why(world, inst):
    r = inst.post("/board/upload", files={"file": ("bad.csv", b"A,B\n1,2\n", "text/csv")})
    assert "整个未处理" in r.text and "FILE_COLUMNS_MISSING" in r.text


def test_the_institution_sees_its_own_exceptions_with_row_and_rule_and_not_where_anothers_order_went(world, inst):
    r = inst.get("/exceptions")
    assert r.status_code == 200
    table = r.text.split('id="exceptions"', 1)[1]
    assert "RESULT_UNKNOWN_CODE" in table and "<td>3</td>" in table  # the bad row of the upload, by its row number
    assert "RESULT_WRONG_SOURCE" in table  # the row for another institution's work order, refused
    b_drop = world.statuses.loc[world.statuses["institution_code"] == world.ids["B"], "destination"].iloc[0]
    assert b_drop not in r.text  # but not where that work order went
    other = TestClient(world.app)
    sign_in(other, "inst_b")
    assert "RESULT_UNKNOWN_CODE" not in other.get("/exceptions").text.split('id="exceptions"', 1)[1]  # A's exceptions are A's
