"""The platform's exchange database (前置库), read side: changes to co-handling records.

`PlatformSource.read_changes()` streams Arrow tables of bounded size. On PostgreSQL it runs
the query as `COPY (...) TO STDOUT` and parses the CSV stream with Arrow's C++ reader (the
same path `psql \\copy` takes, so memory stays flat); on SQLite it pages with fetchmany.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa

from connectors import sqlfiles
from connectors.dburl import engine_for
from transforms.annex1 import FIELD_CODES

SOURCE_COLUMNS: tuple[str, ...] = ("change_seq", "change_time", "op", *(c.lower() for c in FIELD_CODES))


def _arrow_schema():
    import pyarrow as pa

    return pa.schema(
        [pa.field("change_seq", pa.int64()), pa.field("change_time", pa.timestamp("us"))]
        + [pa.field(name, pa.string()) for name in SOURCE_COLUMNS[2:]]
    )


class PlatformSource:
    """Read-only view of the exchange table. `name` identifies it in the ledger's watermarks."""

    name = "platform"

    def __init__(self, url: str | sa.URL) -> None:
        self.engine = engine_for(url)
        self.dialect = self.engine.dialect.name

    @classmethod
    def from_conn_id(cls, conn_id: str) -> PlatformSource:
        from connectors.dburl import url_from_conn_id

        return cls(url_from_conn_id(conn_id))

    def clock(self) -> datetime:
        """The exchange database's UTC clock: the one that stamps CHANGE_TIME."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.text(sqlfiles.load("source/select_clock", self.dialect))).scalar_one()
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    def first_seq_since(self, since: datetime) -> int | None:
        """The lowest sequence written at or after `since` (UTC), or None."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.text(sqlfiles.load("source/select_first_seq_since")), {"since": self._time(since)}).scalar_one()
        return None if value is None else int(value)

    def read_changes(self, *, after_seq: int, before_time: datetime, chunk_rows: int = 50_000) -> Iterator:
        """Changes with CHANGE_SEQ > after_seq written before `before_time`, ascending, as Arrow tables."""
        params = {"after_seq": after_seq, "before_time": self._time(before_time)}
        if self.dialect == "postgresql":
            yield from self._copy_chunks(params, chunk_rows)
        else:
            yield from self._fetch_chunks(params, chunk_rows)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- internals --------------------------------------------------------------------------

    def _time(self, value: datetime) -> datetime | str:
        # SQLite keeps CHANGE_TIME as text in one fixed format; compare like with like.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if self.dialect == "sqlite" else value

    def _fetch_chunks(self, params: dict, chunk_rows: int) -> Iterator:
        import pyarrow as pa

        schema = _arrow_schema()
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(sa.text(sqlfiles.load("source/select_changes")), params)
            while rows := result.fetchmany(chunk_rows):
                columns = list(zip(*rows))
                columns[1] = [datetime.fromisoformat(v) for v in columns[1]]
                yield pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)

    def _copy_chunks(self, params: dict, chunk_rows: int, block_bytes: int = 16 << 20) -> Iterator:
        import pyarrow.csv as pacsv

        read_options = pacsv.ReadOptions(column_names=list(SOURCE_COLUMNS))
        convert_options = pacsv.ConvertOptions(
            column_types=_arrow_schema(), strings_can_be_null=True, quoted_strings_can_be_null=False, null_values=[""]
        )
        statement = f"COPY ({sqlfiles.pyformat(sqlfiles.load('source/select_changes'))}) TO STDOUT (FORMAT csv)"
        raw = self.engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            with cursor.copy(statement, params) as copy:
                for block in _csv_blocks(copy, block_bytes):
                    table = pacsv.read_csv(io.BytesIO(block), read_options=read_options, convert_options=convert_options)
                    for start in range(0, table.num_rows, chunk_rows):
                        yield table.slice(start, chunk_rows)
        finally:
            raw.close()


def _csv_blocks(pieces, block_bytes: int) -> Iterator[bytes]:
    """Whole CSV records in blocks of about `block_bytes`, from a stream cut anywhere.

    A newline ends a record only outside quotes, i.e. where the count of `"` before it is
    even (CSV escapes a quote by doubling it, which keeps the parity). Blocks are cut at
    such a newline, so a quoted newline inside an address never splits a record.
    """
    parts: list[bytes] = []
    have = 0
    for piece in pieces:
        parts.append(bytes(piece))
        have += len(piece)
        if have < block_bytes:
            continue
        data = b"".join(parts)
        cut = _last_record_end(data)
        if cut == 0:  # one record longer than a block: keep gathering
            parts, have = [data], len(data)
            continue
        yield data[:cut]
        rest = data[cut:]
        parts, have = ([rest], len(rest)) if rest else ([], 0)
    if have:
        yield b"".join(parts)


def _last_record_end(data: bytes) -> int:
    """Offset just past the last newline of `data` that lies outside quotes (0 if none)."""
    pos = data.rfind(b"\n")
    while pos >= 0:
        if data.count(b'"', 0, pos) % 2 == 0:
            return pos + 1
        pos = data.rfind(b"\n", 0, pos)
    return 0
