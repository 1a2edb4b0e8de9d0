"""The platform's remote-collection exchange tables (前置库, 异地代收), read side.

`RemoteSource.read_packages()` yields `PackageChunk`s: up to `chunk_rows` package changes in
sequence order with their applicants and materials (the child rows carry the package row's
CHANGE_SEQ and were written in its transaction, so a chunk holds whole package versions).
For every material the gateway reads the referenced file from the module's file store and
computes its own SHA-256 and size: the rules compare that digest with the declared one, so a
file changed or lost after upload is caught here, before anything is pushed to the
property's authority. Blobs are hashed as they are read and never kept.

Volumes are a few thousand packages a day, so plain paged SELECTs do (the Annex 1 flow's
COPY path is for millions of rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from connectors import sqlfiles
from connectors.dburl import engine_for
from connectors.ledger.schema_remote import REMOTE_APPLICANT_FIELDS, REMOTE_MATERIAL_FIELDS, REMOTE_PACKAGE_FIELDS
from transforms.cohandling.exchange_rows import cell_bytes, cell_time

if TYPE_CHECKING:
    import pyarrow as pa

PACKAGE_COLUMNS: tuple[str, ...] = ("change_seq", "change_time", "op", *REMOTE_PACKAGE_FIELDS)
APPLICANT_COLUMNS: tuple[str, ...] = ("change_seq", "xh", *REMOTE_APPLICANT_FIELDS)
MATERIAL_COLUMNS: tuple[str, ...] = ("change_seq", "xh", *REMOTE_MATERIAL_FIELDS, "file_sha256", "file_size")


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


class RemoteSource:
    """Read-only view of the remote-collection tables. `name` identifies it in the ledger's watermarks."""

    name = "remote"

    def __init__(self, url: str | sa.URL) -> None:
        self.engine = engine_for(url)
        self.dialect = self.engine.dialect.name

    @classmethod
    def from_conn_id(cls, conn_id: str) -> RemoteSource:
        from connectors.dburl import url_from_conn_id

        return cls(url_from_conn_id(conn_id))

    def clock(self) -> datetime:
        """The exchange database's UTC clock: the one that stamps CHANGE_TIME."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.text(sqlfiles.load("source/select_clock", self.dialect))).scalar_one()
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    def first_seq_since(self, since: datetime) -> int | None:
        """The lowest package sequence written at or after `since` (UTC), or None."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.text(sqlfiles.load("source/select_remote_first_seq_since")), {"since": self._time(since)}).scalar_one()
        return None if value is None else int(value)

    def read_packages(self, *, after_seq: int, before_time: datetime, chunk_rows: int = 5_000) -> Iterator[PackageChunk]:
        """Package changes with CHANGE_SEQ > after_seq written before `before_time`, ascending, with their children."""

        after = after_seq
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                # Text as bytes, decided on at admission: sqlite3 raises on the first value that is not UTF-8.
                conn.connection.driver_connection.text_factory = bytes
            try:
                yield from self._read_packages(conn, after, before_time, chunk_rows)
            finally:
                if self.dialect == "sqlite":
                    conn.connection.driver_connection.text_factory = str

    def _read_packages(self, conn, after: int, before_time: datetime, chunk_rows: int) -> Iterator[PackageChunk]:
        import pyarrow as pa

        while True:
            rows = conn.execute(sa.text(sqlfiles.load("source/select_remote_packages")),
                                {"after_seq": after, "before_time": self._time(before_time), "limit": chunk_rows}).fetchall()
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

    def dispose(self) -> None:
        self.engine.dispose()

    def _time(self, value: datetime) -> datetime | str:
        # SQLite keeps CHANGE_TIME as text in one fixed format; compare like with like.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if self.dialect == "sqlite" else value


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
