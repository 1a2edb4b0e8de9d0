"""The platform's exchange database (前置库), read side: one connection for both product lines.

The platform writes two kinds of change there, each with its own CHANGE_SEQ and a CHANGE_TIME
stamped by the database clock:

- `RecordSource` (watermark name `platform`): changes to co-handling records (BDC_SDQR_XBXX).
  `read_changes()` streams Arrow tables of bounded size. On PostgreSQL it runs the query as
  `COPY (...) TO STDOUT` and parses the CSV stream with Arrow's C++ reader (the same path
  `psql \\copy` takes, so memory stays flat); on SQLite it pages with fetchmany.
- `PackageSource` (watermark name `remote`): the remote-collection module's packages (异地代收,
  BDC_YDDS_BWXX and its applicant and material tables, plus its file store).
  `read_packages()` yields `PackageChunk`s: up to `chunk_rows` package changes in sequence
  order with their applicants and materials (the child rows carry the package row's
  CHANGE_SEQ and were written in its transaction, so a chunk holds whole package versions).
  For every material the gateway reads the referenced file from the module's file store and
  computes its own SHA-256 and size: the rules compare that digest with the declared one, so
  a file changed or lost after upload is caught here, before anything is pushed to the
  property's authority. Blobs are hashed as they are read and never kept. Volumes are a few
  thousand packages a day, so plain paged SELECTs do (COPY is for millions of rows).

Both share what the incremental reader (jobs/common/incremental.py) asks of a source: `name`,
`clock()`, `first_seq_since()` and `dispose()`. On PostgreSQL each read is one REPEATABLE READ
transaction whose first statement reads what its snapshot shows (`Snapshot`: its xmin, the reader's
own transaction id, the highest sequence and the first written at or after the cut-off; sql/source
select_fence / select_remote_fence), handed to `on_snapshot`; the changes below the watermark are
filtered by the `Reread` bound (transforms/common/fence.py). SQLite reads as before (settle window).

Rows come out *as received*: the text columns as raw bytes (Arrow `binary`), never decoded
or judged here, so no value a row holds can stop the read — a line break inside a quoted CSV
value (the parser is told values may hold newlines), a NUL byte or bytes that are not UTF-8 on
SQLite, a BLOB in a text column. What may be stored is decided afterwards, row by row
(transforms/cohandling/exchange_rows.py). A write time SQLite holds as unreadable text comes
out null (that row is then refused by name).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa

from connectors import sqlfiles
from connectors.dburl import engine_for
from connectors.ledger.schema_remote import REMOTE_APPLICANT_FIELDS, REMOTE_MATERIAL_FIELDS, REMOTE_PACKAGE_FIELDS
from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.exchange_rows import cell_bytes, cell_time
from transforms.common.fence import Snapshot, xid32

if TYPE_CHECKING:
    import pyarrow as pa

SOURCE_COLUMNS: tuple[str, ...] = ("change_seq", "change_time", "op", *(c.lower() for c in FIELD_CODES))
PACKAGE_COLUMNS: tuple[str, ...] = ("change_seq", "change_time", "op", *REMOTE_PACKAGE_FIELDS)
APPLICANT_COLUMNS: tuple[str, ...] = ("change_seq", "xh", *REMOTE_APPLICANT_FIELDS)
MATERIAL_COLUMNS: tuple[str, ...] = ("change_seq", "xh", *REMOTE_MATERIAL_FIELDS, "file_sha256", "file_size")


@dataclass(frozen=True)
class Reread:
    """Which changes at or below the watermark a PostgreSQL read takes again (the rest are held): those written at
    or after `since` or by a transaction whose id is at or above `writer_from` (64-bit; None: all of them)."""

    fresh_above: int  # the watermark
    since: datetime
    writer_from: int | None

    def params(self, after_seq: int) -> dict:
        if self.writer_from is None:  # no snapshot known yet: everything above the fence
            return {"fresh_above": after_seq, "reread_from": self.since, "writer_from": 0}
        return {"fresh_above": self.fresh_above, "reread_from": self.since, "writer_from": xid32(self.writer_from)}


class ExchangeDb:
    """Read-only view of one change table of the exchange database. `name` identifies it in the ledger's watermarks."""

    name: ClassVar[str]
    FIRST_SEQ_SINCE: ClassVar[str]  # sql/ file: the lowest sequence written at or after :since
    FENCE: ClassVar[str]  # sql/ file (PostgreSQL): what the reading snapshot shows (transforms/common/fence.Snapshot)
    TABLE: ClassVar[str]  # the change table it reads

    def __init__(self, url: str | sa.URL) -> None:
        self.engine = engine_for(url)
        self.dialect = self.engine.dialect.name

    @classmethod
    def from_conn_id(cls, conn_id: str):
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
            value = conn.execute(sa.text(sqlfiles.load(self.FIRST_SEQ_SINCE)), {"since": self._time(since)}).scalar_one()
        return None if value is None else int(value)

    def dispose(self) -> None:
        self.engine.dispose()

    def _snapshot(self, conn, before_time: datetime) -> Snapshot:
        """The first statement of a REPEATABLE READ transaction: what its snapshot shows (PostgreSQL)."""
        reader, xmin, top, late = conn.execute(sa.text(sqlfiles.load(self.FENCE, self.dialect)), {"before_time": before_time}).one()
        return Snapshot(int(xmin), int(reader), None if top is None else int(top), None if late is None else int(late))

    def _filter(self, after_seq: int, reread: Reread | None) -> dict:
        if self.dialect != "postgresql":
            return {}
        return (reread or Reread(after_seq, datetime.max, None)).params(after_seq)

    @property
    def address(self) -> str:
        """Where the database is, for people: its URL with the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def holds_changes(self) -> bool:
        """Whether the database has this source's change table (a URL naming another database has not)."""
        inspector = sa.inspect(self.engine)
        return any(inspector.has_table(name) for name in (self.TABLE, self.TABLE.lower()))

    def _time(self, value: datetime) -> datetime | str:
        # SQLite keeps CHANGE_TIME as text in one fixed format; compare like with like.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if self.dialect == "sqlite" else value


# --- co-handling records ----------------------------------------------------------------------


def _arrow_schema():
    """The chunks as read: text columns as bytes, as received (admission decodes them)."""
    import pyarrow as pa

    return pa.schema(
        [pa.field("change_seq", pa.int64()), pa.field("change_time", pa.timestamp("us"))]
        + [pa.field(name, pa.binary()) for name in SOURCE_COLUMNS[2:]]
    )


class RecordSource(ExchangeDb):
    """The co-handling records' change table (BDC_SDQR_XBXX)."""

    name = "platform"
    FIRST_SEQ_SINCE = "source/select_first_seq_since"
    FENCE = "source/select_fence"
    TABLE = "BDC_SDQR_XBXX"

    def read_changes(self, *, after_seq: int, before_time: datetime, chunk_rows: int = 50_000, reread: Reread | None = None,
                     on_snapshot: Callable[[Snapshot], None] | None = None) -> Iterator:
        """Changes with CHANGE_SEQ > after_seq written before `before_time`, ascending, as Arrow tables; on PostgreSQL
        only those `reread` lets through at or below the watermark, and what the snapshot showed goes to `on_snapshot`."""
        params = {"after_seq": after_seq, "before_time": self._time(before_time), **self._filter(after_seq, reread)}
        if self.dialect == "postgresql":
            yield from self._copy_chunks(params, chunk_rows, on_snapshot)
        else:
            yield from self._fetch_chunks(params, chunk_rows)

    def _fetch_chunks(self, params: dict, chunk_rows: int) -> Iterator:
        import pyarrow as pa

        schema = _arrow_schema()
        raw = self.engine.raw_connection()
        try:
            # Text as bytes: sqlite3 would raise on the first value that is not UTF-8.
            raw.driver_connection.text_factory = bytes
            cursor = raw.driver_connection.cursor()
            cursor.execute(sqlfiles.load("source/select_changes"), params)  # sqlite3 binds :name itself
            while rows := cursor.fetchmany(chunk_rows):
                columns = list(zip(*rows))
                arrays = [pa.array([int(v) for v in columns[0]], pa.int64()), pa.array([cell_time(v) for v in columns[1]], pa.timestamp("us"))]
                arrays += [pa.array([cell_bytes(v) for v in c], pa.binary()) for c in columns[2:]]
                yield pa.Table.from_arrays(arrays, schema=schema)
            cursor.close()
        finally:
            raw.driver_connection.text_factory = str
            raw.close()

    def _copy_chunks(self, params: dict, chunk_rows: int, on_snapshot=None, block_bytes: int = 16 << 20) -> Iterator:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        read_options = pacsv.ReadOptions(column_names=list(SOURCE_COLUMNS))
        # A quoted value may hold a line break (an address typed over two lines): without this,
        # Arrow's block splitter cuts a record at it and the whole read fails.
        parse_options = pacsv.ParseOptions(newlines_in_values=True)
        convert_options = pacsv.ConvertOptions(
            column_types=_arrow_schema(), strings_can_be_null=True, quoted_strings_can_be_null=False, null_values=[""]
        )
        statement = f"COPY ({sqlfiles.pyformat(sqlfiles.load('source/select_changes', self.dialect))}) TO STDOUT (FORMAT csv)"
        # One snapshot for the fence and the changes: the COPY runs in the transaction the fence query began.
        with self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snap = self._snapshot(conn, params["before_time"])
            if on_snapshot is not None:
                on_snapshot(snap)
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(statement, params) as copy:
                for block in _csv_blocks(copy, block_bytes):
                    try:
                        table = pacsv.read_csv(io.BytesIO(block), read_options=read_options, parse_options=parse_options, convert_options=convert_options)
                    except pa.ArrowInvalid:  # Arrow refuses something in this block: read it value by value
                        table = _csv_table(block)
                    for start in range(0, table.num_rows, chunk_rows):
                        yield table.slice(start, chunk_rows)


def _csv_table(block: bytes):
    """A block of COPY CSV read by Python's csv module, values kept as bytes (the slow, lenient path).

    COPY writes NULL unquoted-empty and an empty string quoted; csv.reader cannot tell them
    apart, so both come out null here (admission then treats them alike: empty).
    """
    import csv

    import pyarrow as pa

    schema = _arrow_schema()
    text = block.decode("utf-8", errors="surrogateescape")
    columns: list[list] = [[] for _ in SOURCE_COLUMNS]
    for record in csv.reader(io.StringIO(text, newline="")):
        if len(record) != len(SOURCE_COLUMNS) or not record[0].strip().isdigit():
            continue  # not a row of the query (COPY writes none such); nothing to place it by
        columns[0].append(int(record[0]))
        try:
            columns[1].append(datetime.fromisoformat(record[1]))
        except ValueError:
            columns[1].append(None)
        for i, value in enumerate(record[2:], start=2):
            columns[i].append(value.encode("utf-8", errors="surrogateescape") if value != "" else None)
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema)


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


# --- remote-collection packages ----------------------------------------------------------------


@dataclass(frozen=True)
class PackageChunk:
    """Whole package versions (Arrow tables, lower-case ledger names) and the sequence range read."""

    packages: pa.Table  # PACKAGE_COLUMNS
    applicants: pa.Table  # APPLICANT_COLUMNS
    materials: pa.Table  # MATERIAL_COLUMNS
    low: int  # exclusive
    high: int  # inclusive: the last package change read
    rejects: tuple = ()  # package versions refused at admission (transforms/exchange_rows.Reject), dead-lettered
    originals: tuple = ()  # values the ingest sanitiser changed, as received (transforms/exchange_rows.Original)

    @property
    def num_packages(self) -> int:
        return self.packages.num_rows


class PackageSource(ExchangeDb):
    """The remote-collection module's package tables and file store."""

    name = "remote"
    FIRST_SEQ_SINCE = "source/select_remote_first_seq_since"
    FENCE = "source/select_remote_fence"
    TABLE = "BDC_YDDS_BWXX"

    def read_packages(self, *, after_seq: int, before_time: datetime, chunk_rows: int = 5_000, reread: Reread | None = None,
                      on_snapshot: Callable[[Snapshot], None] | None = None) -> Iterator[PackageChunk]:
        """Package changes with CHANGE_SEQ > after_seq written before `before_time`, ascending, with their children; on
        PostgreSQL only those `reread` lets through at or below the watermark, all pages in one snapshot, which goes to `on_snapshot`."""

        after = after_seq
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                # Text as bytes, decided on at admission: sqlite3 raises on the first value that is not UTF-8.
                conn.connection.driver_connection.text_factory = bytes
            else:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                snap = self._snapshot(conn, before_time)
                if on_snapshot is not None:
                    on_snapshot(snap)
            try:
                yield from self._read_packages(conn, after, before_time, chunk_rows, self._filter(after_seq, reread))
            finally:
                if self.dialect == "sqlite":
                    conn.connection.driver_connection.text_factory = str

    def _read_packages(self, conn, after: int, before_time: datetime, chunk_rows: int, reread: dict) -> Iterator[PackageChunk]:
        import pyarrow as pa

        while True:
            rows = conn.execute(sa.text(sqlfiles.load("source/select_remote_packages", self.dialect)),
                                {"after_seq": after, "before_time": self._time(before_time), "limit": chunk_rows, **reread}).fetchall()
            if not rows:
                return
            low, high = after, int(rows[-1][0])
            seqs = {int(r[0]) for r in rows}
            bounds = {"low": low, "high": high}
            # A package row in (low, high] written at or after before_time is not in `rows`:
            # its children wait with it for the run that reads it.
            applicants = [r for r in conn.execute(sa.text(sqlfiles.load("source/select_remote_applicants")), bounds) if int(r[0]) in seqs]
            materials = [(*r[:-1], *_digest(r[-1])) for r in conn.execute(sa.text(sqlfiles.load("source/select_remote_materials")), bounds) if int(r[0]) in seqs]
            packages = [(int(r[0]), cell_time(r[1]), *r[2:]) for r in rows]
            # As received: text columns as bytes (admission decodes, cleans and bounds them),
            # XH as the database gave it (admission refuses one that is not a small integer).
            yield PackageChunk(
                _table(packages, PACKAGE_COLUMNS, {"change_seq": pa.int64(), "change_time": pa.timestamp("us")}),
                _table(applicants, APPLICANT_COLUMNS, {"change_seq": pa.int64()}),
                _table(materials, MATERIAL_COLUMNS, {"change_seq": pa.int64(), "file_size": pa.int64()}),
                low, high,
            )
            after = high
            if len(rows) < chunk_rows:
                return

    def read_file(self, wjdz: str) -> bytes | None:
        """One electronic file as the file store holds it now (None: not there), to be hashed again before it is sent."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.text(sqlfiles.load("source/select_remote_file")), {"wjdz": wjdz}).scalar_one_or_none()
        return None if value is None else bytes(value)


def _digest(content) -> tuple[str | None, int | None]:
    """(SHA-256 hex, size) of a stored file, or (None, None) when the file store has none."""
    if content is None:
        return None, None
    data = bytes(content)
    return hashlib.sha256(data).hexdigest(), len(data)


def _table(rows: list, names: tuple[str, ...], types: dict) -> pa.Table:
    """Typed columns as given in `types`, every other column as raw bytes (Arrow binary)."""
    import pyarrow as pa

    columns = list(zip(*rows)) if rows else [[] for _ in names]
    return pa.table({n: pa.array(list(c), type=types[n]) if n in types else pa.array([cell_bytes(v) for v in c], pa.binary())
                     for n, c in zip(names, columns)})
