"""Exchange-row admission (pure) and the cells of the files written from these records."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.hostile import KINDS, covers
from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.batchfiles import batch_files
from transforms.cohandling.exchange_rows import admit_changes
from transforms.cohandling.quarantine import quarantine_list


def raw_chunk(rows: list[dict]) -> pa.Table:
    """Rows as the reader hands them over: text columns as bytes."""
    def b(v):
        return v if v is None or isinstance(v, bytes) else str(v).encode("utf-8")

    columns = {
        "change_seq": pa.array([r["seq"] for r in rows], pa.int64()),
        "change_time": pa.array([r.get("time", datetime(2026, 11, 1)) for r in rows], pa.timestamp("us")),
        "op": pa.array([b(r.get("OP", "I")) for r in rows], pa.binary()),
    }
    for code in FIELD_CODES:
        columns[code.lower()] = pa.array([b(r.get(code, f"{code}{r['seq']}")) for r in rows], pa.binary())
    return pa.table(columns)


def test_admission_cleans_text_keeps_originals_and_refuses_by_field():
    rows = [
        {"seq": 1},
        {"seq": 2, "FWZL": "济南市\n历下区", "ZRFXM": "张\u202e三\x00"},
        {"seq": 3, "ZRFXM": b"\xff\xfe"},
        {"seq": 4, "ROWGUID": "g" * 65},
        {"seq": 5, "OP": "X"},
        {"seq": 6, "time": None},
        {"seq": 7, "GSJGBM": "A" * 33, "ZCFXM": b"\xc3("},  # first problem in column order wins
    ]
    admitted = admit_changes(raw_chunk(rows))
    assert admitted.table["change_seq"].to_pylist() == [1, 2] and admitted.max_seq == 7 and admitted.rows_read == 7
    assert admitted.table["fwzl"].to_pylist()[1] == "济南市 历下区" and admitted.table["zrfxm"].to_pylist()[1] == "张三"
    assert {(o.change_seq, o.field, o.value) for o in admitted.originals} == {(2, "FWZL", "济南市\n历下区".encode()), (2, "ZRFXM", "张\u202e三\x00".encode())}
    got = {r.change_seq: (r.rule_id, r.field) for r in admitted.rejects}
    assert got == {3: ("TEXT_ENCODING", "ZRFXM"), 4: ("TEXT_TOO_LONG", "ROWGUID"), 5: ("OP_INVALID", "OP"), 6: ("CHANGE_TIME_INVALID", "CHANGE_TIME"), 7: ("TEXT_ENCODING", "ZCFXM")}
    reasons = {r.change_seq: r.reason for r in admitted.rejects}
    assert reasons[3].startswith("变更序号 3 字段 ZRFXM（") and "\\xff" in reasons[3]
    assert json.loads(admitted.rejects[0].payload)["ZRFXM"] == {"hex": "fffe"}


def test_admission_of_every_text_kind_in_every_field_never_raises():
    rows = []
    seq = 0
    for kind, values in KINDS.items():
        if kind == "wrong_json_type":
            continue
        for value in values:
            for code in FIELD_CODES:
                seq += 1
                rows.append({"seq": seq, code: value})
    admitted = admit_changes(raw_chunk(rows))
    assert admitted.table.num_rows + len(admitted.rejects) == len(rows)
    for column in admitted.table.column_names[2:]:
        for value in admitted.table[column].to_pylist():
            assert value is None or ("\x00" not in value and "\u202e" not in value and "\n" not in value)


def _quarantine_rows(name: str) -> pd.DataFrame:
    return pd.DataFrame([{
        "change_seq": 1, "rowguid": "g1", "ycywh": "=cmd|'/c calc'!A1", "xzqh": "370102", "zrfxm": name,
        "zrfzjhm": "370102199001011234", "zrflxdh": "13812345678", "status": "quarantined", "utility": "",
        "rule_id": "ID_CHECKSUM", "field": "ZRFXM", "value": name, "message_zh": "x", "message_en": "x",
    }])


@pytest.mark.parametrize("name", ["张\x1b三", "a\x00b", "=SUM(A1)", "\u202e三", "李\n四"])
def test_the_quarantine_workbook_takes_any_name(name):
    """A control character in a quarantined record's name broke writing the workbook."""
    table = quarantine_list(_quarantine_rows(name))
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="隔离清单", index=False)
    back = pd.read_excel(io.BytesIO(buf.getvalue()), dtype=str)
    cells = back.fillna("").to_numpy().ravel().tolist()
    assert not any(isinstance(c, str) and c[:1] and c[:1] in "=+-@" for c in cells)
    assert "'=cmd|'/c calc'!A1" in cells


def _orders(value: str) -> pa.Table:
    record = {code: None for code in FIELD_CODES} | {"ROWGUID": "g1", "ZRFXM": value, "FWZL": "济南市", "FWJZMJ": "-1"}
    return pa.Table.from_pylist([{"rowguid": "g1", "utility": "water", "version": 1, "correction": False, **record}])


@pytest.mark.parametrize("value", KINDS["formula_prefix"])
def test_batch_csv_cells_are_never_formulas_and_machine_formats_stay_exact(value):
    for file_format, encoding in (("csv", "utf-8-sig"), ("csv_gb18030", "gb18030")):
        data = batch_files(_orders(value), base_name="XB", file_format=file_format, run_id="r", batch_id=1, institution="x")[0].data
        frame = pd.read_csv(io.BytesIO(data), encoding=encoding, dtype=str, keep_default_na=False)
        assert frame.loc[0, "ZRFXM"].startswith("'") and frame.loc[0, "FWJZMJ"] == "'-1"
        assert not any(c[:1] and c[:1] in "=+-@\t" for c in frame.to_numpy().ravel())
    parquet = batch_files(_orders(value), base_name="XB", file_format="parquet", run_id="r", batch_id=1, institution="x")[0].data
    assert pq.read_table(io.BytesIO(parquet))["ZRFXM"].to_pylist() == [value]
    jsonl = batch_files(_orders(value), base_name="XB", file_format="jsonl", run_id="r", batch_id=1, institution="x")[0].data
    assert json.loads(jsonl)["ZRFXM"] == value
    covers("exchange_row", "formula_prefix")
