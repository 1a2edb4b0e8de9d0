from __future__ import annotations

import io

import pyarrow.csv as pacsv

from connectors.exchange_db import _csv_blocks, _last_record_end


def test_blocks_end_only_at_newlines_outside_quotes():
    data = b'1,"a\nb"\n2,"c ""q"" d"\n3,"x"\n'
    pieces = [data[i : i + 3] for i in range(0, len(data), 3)]
    blocks = list(_csv_blocks(pieces, block_bytes=4))
    assert b"".join(blocks) == data
    rows = []
    for block in blocks:
        rows += pacsv.read_csv(io.BytesIO(block), read_options=pacsv.ReadOptions(column_names=["n", "s"])).to_pylist()
    assert [r["s"] for r in rows] == ["a\nb", 'c "q" d', "x"]


def test_a_record_longer_than_a_block_is_kept_whole():
    data = b'1,"' + b"z\n" * 50 + b'"\n2,"y"\n'
    blocks = list(_csv_blocks([data[:10], data[10:]], block_bytes=5))
    assert b"".join(blocks) == data
    assert all(_last_record_end(b) == len(b) for b in blocks)
