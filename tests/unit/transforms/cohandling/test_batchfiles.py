"""Batch files: the same work orders always give the same bytes; every format reads back; the manifest and sums agree."""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.batchfiles import COLUMNS, batch_files


def orders(n: int = 3) -> pa.Table:
    rows = []
    for i in range(n):
        record = {code: None for code in FIELD_CODES} | {"ROWGUID": f"g{i}", "ZRFXM": "张三，李四", "FWZL": "济南市历下区（东）1号", "YSHH": f"=HYPERLINK({i})"}
        rows.append({"rowguid": f"g{i}", "utility": "water", "version": 1 + (i == 1), "correction": i == 1, **record})
    return pa.Table.from_pylist(list(reversed(rows)))


@pytest.mark.parametrize("file_format", ["csv", "csv_gb18030", "jsonl", "parquet"])
def test_formats_read_back_sorted_and_deterministic(file_format):
    first = batch_files(orders(), base_name="XB_1", file_format=file_format, run_id="r", batch_id=1, institution="xb1")
    again = batch_files(orders(), base_name="XB_1", file_format=file_format, run_id="r", batch_id=1, institution="xb1")
    assert [f.data for f in first] == [f.data for f in again]
    data, sums, manifest = first
    assert [f.name for f in first] == [f"XB_1.{'csv' if file_format.startswith('csv') else file_format}", "XB_1.sha256", "XB_1.manifest.json"]
    if file_format == "parquet":
        table = pq.read_table(io.BytesIO(data.data))
        keys = table["GDBH"].to_pylist()
        assert table.column_names == list(COLUMNS)
    elif file_format == "jsonl":
        rows = [json.loads(line) for line in data.data.decode("utf-8").splitlines()]
        keys = [r["GDBH"] for r in rows]
        assert rows[0]["ZRFXM"] == "张三，李四" and list(rows[0]) == list(COLUMNS)
    else:
        text = data.data.decode("utf-8-sig" if file_format == "csv" else "gb18030")
        assert data.data.startswith(b"\xef\xbb\xbf") == (file_format == "csv")
        header, *lines = text.splitlines()
        assert header.replace('"', "").split(",") == list(COLUMNS)
        keys = [line.split(",")[0].strip('"') for line in lines]
        assert "济南市历下区（东）1号" in text
    assert keys == ["g0:water:1", "g1:water:2", "g2:water:1"]
    assert sums.data.decode() == f"{hashlib.sha256(data.data).hexdigest()}  {data.name}\n"
    meta = json.loads(manifest.data)
    assert meta["records"] == 3 and meta["files"] == [{"name": data.name, "records": 3, "size": data.size, "sha256": data.sha256}]
    assert meta["checksums"] == {"name": "XB_1.sha256", "sha256": sums.sha256}


def test_large_batches_split_into_parts_listed_in_one_manifest():
    files = batch_files(orders(5), base_name="XB_2", file_format="csv", run_id="r", batch_id=2, institution="xb1", rows_per_file=2)
    assert [f.name for f in files] == ["XB_2_p001.csv", "XB_2_p002.csv", "XB_2_p003.csv", "XB_2.sha256", "XB_2.manifest.json"]
    meta = json.loads(files[-1].data)
    assert [f["records"] for f in meta["files"]] == [2, 2, 1] and meta["records"] == 5
    assert len(files[-2].data.decode().splitlines()) == 3
