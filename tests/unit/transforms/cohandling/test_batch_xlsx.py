"""The XLSX batch format read back as a clerk's spreadsheet would: every code text, both header rows, the print setup, stable bytes."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime

import openpyxl
import pyarrow as pa

from transforms.cohandling.annex1 import FIELD_CODES, LABELS
from transforms.cohandling.batchfiles import COLUMNS, batch_files, cancel_files

ID18 = "370102198001010012"   # 18 digits: a float in Excel would show 3.70102E+17
YCYWH = "370102202611220001"
ROWGUID = "0e5a1c2d-0000-4f00-9000-000000000001"


def orders() -> pa.Table:
    record = {code: None for code in FIELD_CODES} | {
        "ROWGUID": ROWGUID, "YCYWH": YCYWH, "ZRFXM": "张三", "ZRFZJHM": ID18, "ZRFLXDH": "053188886666", "ZCFLXDH": "013800000000",
        "YSHH": "000123456", "GSJGBM": "0012", "FWJZMJ": "89.50", "XZQH": "370102", "ZCFXM": "=HYPERLINK(1)",
    }
    return pa.Table.from_pylist([{"rowguid": ROWGUID, "utility": "water", "version": 1, "correction": False, **record}])


def render(**kw) -> list:
    return batch_files(orders(), base_name="XB20261122_000003", file_format="xlsx", run_id="r", batch_id=9, institution="xb1",
                       sequence=3, created=datetime(2026, 11, 22, 3, 0), **kw)


def test_every_code_stays_text_under_chinese_labels_and_codes():
    data, sums, manifest = render()
    assert data.name == "XB20261122_000003.xlsx"
    ws = openpyxl.load_workbook(io.BytesIO(data.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["工单编号", "协办类型", "版本号", "是否更正", *(LABELS[c] for c in FIELD_CODES)]
    assert list(rows[1]) == list(COLUMNS)
    row = dict(zip(COLUMNS, rows[2]))
    assert row["ZRFZJHM"] == ID18 and row["YCYWH"] == YCYWH and row["ROWGUID"] == ROWGUID
    assert row["ZRFLXDH"] == "053188886666" and row["YSHH"] == "000123456" and row["GSJGBM"] == "0012" and row["FWJZMJ"] == "89.50"
    assert row["GDBH"] == f"{ROWGUID}:water:1" and row["BBH"] == "1"
    assert row["ZCFXM"] == "'=HYPERLINK(1)"  # as the CSV carries it: never a formula
    for cell in ws[3]:
        assert cell.number_format == "@"
        assert cell.value is None or (cell.data_type == "s" and isinstance(cell.value, str))
    assert json.loads(manifest.data)["sequence"] == 3 and json.loads(manifest.data)["format"] == "xlsx"
    assert sums.data.decode() == f"{data.sha256}  {data.name}\n"


def test_frozen_header_widths_and_print_setup():
    ws = openpyxl.load_workbook(io.BytesIO(render()[0].data)).active
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$1:$2"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert "xb1" in ws.oddHeader.center.text and "XB20261122_000003" in ws.oddHeader.center.text and "&P" in ws.oddFooter.center.text
    assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width >= 6  # GDBH is long, XBLX short


def test_same_batch_same_bytes_later():
    first = render()
    time.sleep(2.1)  # zip entries and the workbook's modified time would otherwise move with the clock
    again = render()
    assert [f.data for f in first] == [f.data for f in again]
    other = batch_files(orders(), base_name="XB20261122_000003", file_format="xlsx", run_id="r", batch_id=9, institution="xb1",
                        sequence=3, created=datetime(2026, 11, 23, 3, 0))
    assert other[0].sha256 != first[0].sha256  # the time is in the file: it must be the batch's own, fixed when planned


def test_cancellation_batch_as_xlsx():
    items = [{"rowguid": ROWGUID, "utility": "gas", "version": 2, "reason_code": "RECORD_WITHDRAWN", "reason": "平台已撤回", "YCYWH": YCYWH}]
    data, _, manifest = cancel_files(items, base_name="XBCX20261123_000001", file_format="xlsx", run_id="r", batch_id=4, institution="xb1",
                                     sequence=1, created=datetime(2026, 11, 23))
    ws = openpyxl.load_workbook(io.BytesIO(data.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:2] == ("被撤销的工单编号", "标识码") and rows[1][:3] == ("GDBH", "ROWGUID", "YCYWH")
    assert rows[2][2] == YCYWH and json.loads(manifest.data)["kind"] == "cancel" and json.loads(manifest.data)["sequence"] == 1
