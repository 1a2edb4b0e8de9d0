"""Paper handover (纸质材料定期移交) with a fixed clock, on SQLite and PostgreSQL: the paper
originals of delivered packages are batched per collecting hall and property county into
weekly handover lists (printable XLSX and PDF), each original on exactly one list; a
receipt is recorded once; originals not signed for within N days of collection are flagged,
and the report's backlog equals the count worked out from the packages themselves."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from jobs.remote.deliver_packages import deliver_packages
from jobs.remote.handover import make_handover_lists, record_handover_receipt
from jobs.remote.package_intake import load_checklist_form
from jobs.remote.publish_remote_report import write_remote_report
from simulators.remote_module import generate
from tests.integration.conftest import load_packages, utc
from transforms.remote.package_rules import DONE
from transforms.remote.package_tracking import handover_state

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
WEEK1_DELIVERY = datetime(2025, 5, 26, 9, 0)  # Monday: the week 05-19..05-25 has ended
WEEK2_DELIVERY = datetime(2025, 6, 1, 20, 0)  # Sunday evening
MAX_DAYS = 10


def _paper(batch, bwids: set[str]) -> pd.DataFrame:
    """(bwid, clbm, collected day, hall, xzqh) of every paper original the batch's passed packages carry."""
    m = batch.materials.merge(batch.packages[["CHANGE_SEQ", "BWID", "SJSJ", "SJDWDM", "XZQH"]], on=["CHANGE_SEQ", "BWID"])
    m = m[m["BWID"].isin(bwids) & m["SFZZYJ"].astype(str).str.strip().str.upper().isin(DONE)]
    return pd.DataFrame({"bwid": m["BWID"], "clbm": m["CLBM"], "day": pd.to_datetime(m["SJSJ"], format="mixed").dt.date,
                         "hall": m["SJDWDM"], "xzqh": m["XZQH"]}).reset_index(drop=True)


def test_weekly_handover_lists_receipts_and_flags_with_a_fixed_clock(remote_flow, tmp_path):
    module, source, ledger, sim, receiver_for = remote_flow
    for path in SAMPLES:
        load_checklist_form(ledger, path, now=datetime(2021, 7, 25, 9, 0))
    out = tmp_path / "handover"

    # Week 1: packages collected 05-12..05-25, delivered Monday 05-26.
    first = generate(120, seed=91, start="2025-05-12", end="2025-05-26", defect_rate=0.0, first_index=0)
    load_packages(module, source, ledger, first, run_id="run-1", as_of=WEEK1_DELIVERY)
    sim.clock(WEEK1_DELIVERY)
    assert deliver_packages(ledger, source, run_id="run-1", receiver_for=receiver_for, now=utc(WEEK1_DELIVERY))["delivered"] == 120
    lists = make_handover_lists(ledger, run_id="run-1", today=date(2025, 5, 26), out_dir=out, now=utc(WEEK1_DELIVERY))
    owed1 = _paper(first, set(first.packages["BWID"]))
    assert len(owed1) > 20 and lists
    # One list per (hall, property county), each original on exactly one of them, named for the period's last day.
    expected_lists = set(zip(owed1["hall"], owed1["xzqh"]))
    assert {(x["hall"], x["xzqh"]) for x in lists} == expected_lists and len(lists) == len(expected_lists)
    assert all(x["list_no"] == f"YJ-{x['hall']}-{x['xzqh']}-20250525" for x in lists)
    items = [(i["bwid"], i["clbm"]) for x in lists for i in ledger.remote.handover_items(x["list_id"])]
    assert sorted(items) == sorted(zip(owed1["bwid"], owed1["clbm"]))
    # Printable: the XLSX names the list and has one row per original; the PDF is a PDF.
    sample = lists[0]
    sheet = load_workbook(sample["files"]["xlsx"]).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert any(sample["list_no"] in str(v) for v in values) and sheet.title == "移交清单"
    assert sum(1 for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)) == sample["originals"]
    assert Path(sample["files"]["pdf"]).read_bytes()[:5] == b"%PDF-" and sheet.page_setup.orientation == "landscape"
    # The same day again: nothing new; a list's document lost since (disk trouble) is written again.
    Path(sample["files"]["pdf"]).unlink()
    assert make_handover_lists(ledger, run_id="run-1b", today=date(2025, 5, 26), out_dir=out, now=utc(WEEK1_DELIVERY)) == []
    assert Path(sample["files"]["pdf"]).read_bytes()[:5] == b"%PDF-"

    # Week 2: collected 05-26..05-31; Saturday's run still belongs to the open week, Monday's lists them.
    second = generate(60, seed=92, start="2025-05-26", end="2025-06-01", defect_rate=0.0, first_index=1000)
    load_packages(module, source, ledger, second, run_id="run-2", as_of=WEEK2_DELIVERY)
    sim.clock(WEEK2_DELIVERY)
    deliver_packages(ledger, source, run_id="run-2", receiver_for=receiver_for, now=utc(WEEK2_DELIVERY))
    assert make_handover_lists(ledger, run_id="run-2", today=date(2025, 5, 31), out_dir=out, now=utc(WEEK2_DELIVERY)) == []
    week2 = make_handover_lists(ledger, run_id="run-3", today=date(2025, 6, 2), out_dir=out, now=utc(WEEK2_DELIVERY))
    owed2 = _paper(second, set(second.packages["BWID"]))
    assert sum(x["originals"] for x in week2) == len(owed2) and all(x["list_no"].endswith("-20250601") for x in week2)

    # The property counties sign for half of the first week's lists on 05-30; a list is signed for once.
    signed = lists[::2]
    for x in signed:
        record_handover_receipt(ledger, x["list_no"], received_at=datetime(2025, 5, 30, 10, 0), received_by="档案室 李华")
    with pytest.raises(ValueError, match="already signed"):
        record_handover_receipt(ledger, signed[0]["list_no"], received_at=datetime(2025, 5, 30, 11, 0), received_by="李华")
    with pytest.raises(ValueError, match="no handover list"):
        record_handover_receipt(ledger, "YJ-NONE", received_at=datetime(2025, 5, 30, 11, 0), received_by="李华")
    with pytest.raises(ValueError, match="in the future"):
        record_handover_receipt(ledger, lists[1]["list_no"], received_at=datetime(2030, 1, 2, 9, 0), received_by="李华")
    with pytest.raises(ValueError, match="before the list was made"):
        record_handover_receipt(ledger, lists[1]["list_no"], received_at=datetime(2025, 5, 20, 11, 0), received_by="李华")

    # Flags on 06-03 (fixed clock): not signed for and collected more than 10 days before.
    as_of = date(2025, 6, 3)
    state = handover_state(ledger.remote.paper_originals(), as_of=as_of, max_days=MAX_DAYS)
    owed = pd.concat([owed1, owed2], ignore_index=True)
    signed_pairs = {(i["bwid"], i["clbm"]) for x in signed for i in ledger.remote.handover_items(x["list_id"])}
    owed["signed"] = [(b, c) in signed_pairs for b, c in zip(owed["bwid"], owed["clbm"])]
    owed["flagged"] = ~owed["signed"] & owed["day"].map(lambda d: (as_of - d).days > MAX_DAYS)
    got = dict(zip(zip(state["bwid"], state["clbm"]), state["flagged"]))
    assert got == dict(zip(zip(owed["bwid"], owed["clbm"]), owed["flagged"]))
    assert 0 < owed["flagged"].sum() < (~owed["signed"]).sum()
    assert set(state.loc[state["received_at"].notna(), "state"]) == {"已签收"}

    # The report's backlog is the same count.
    paths = write_remote_report(ledger, first=date(2025, 5, 1), last=date(2025, 6, 30), as_of=datetime(2025, 6, 3, 9, 0), out_dir=tmp_path / "report",
                                handover_days=MAX_DAYS)
    totals = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["totals"]
    assert (totals["paper_owed"], totals["paper_flagged"]) == (int((~owed["signed"]).sum()), int(owed["flagged"].sum()))

    # The command a county's clerk (or the hall) uses; a list signed for twice is refused with the reason.
    from tools.cli import main as cli

    ledger_url = ledger.engine.url.render_as_string(hide_password=False)
    cli(["handover-receipt", "--ledger", ledger_url, "--list", week2[0]["list_no"], "--at", "2025-06-03 15:00", "--by", "档案室 张敏"])
    assert next(x for x in ledger.remote.handover_lists() if x["list_no"] == week2[0]["list_no"])["received_by"] == "档案室 张敏"
    with pytest.raises(SystemExit, match="already signed"):
        cli(["handover-receipt", "--ledger", ledger_url, "--list", week2[0]["list_no"], "--at", "2025-06-03 16:00", "--by", "张敏"])
