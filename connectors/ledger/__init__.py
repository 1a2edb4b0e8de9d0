"""The gateway ledger: the gateway's own database (SQLite file by default, PostgreSQL by URL).

`Ledger` is the only way the rest of the gateway touches it. Loads are set-based: a chunk
of changes is staged (COPY on PostgreSQL), then merged with one statement per table, and
the watermark moves in the same transaction.

Persistence only: what a business rule decides (which package deliveries stop, the registry's
state-dependent form rules, drop names) is in transforms/; the ledger reads the state they need
and writes what they return.

Statements. Every statement the ledger runs is a file under `sql/ledger/<line>/` (common,
cohandling, registry, remote), starting with `-- purpose:`, its values bound, loaded through
connectors/ledger/statements.py (`statement`, `nested`; `script` for the staging tables' DDL).
`conn.execute` takes nothing else, with two kinds of row writes that are data, not statements:
`<Table>.insert()` with a row or a list of rows (a plain insert of the table's columns — no
WHERE, no RETURNING, no expression), and `Ledger._insert`, the Arrow bulk path (COPY on
PostgreSQL, an executemany INSERT on SQLite) into a ledger or staging table. `drop_all` removes
the tables from their definitions (`metadata.drop_all`). tests/unit/connectors/test_ledger_sql.py reads the
sources and holds this rule; it also keeps every caller outside connectors/ledger off the
ledger's engine (a caller that needs something new gets a method).
"""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from connectors.dburl import engine_for
from connectors.ledger.audit_store import AuditStore
from connectors.ledger.balance_store import BalanceStore
from connectors.ledger.deadletter_store import DeadLetterStore
from connectors.ledger.lines import CohandlingLedger, RegistryLedger, RemoteLedger
from connectors.ledger.lock_store import LockStore
from connectors.ledger.personal import PersonalStore
from connectors.ledger.retention_store import RetentionStore
from connectors.ledger.schema import metadata
from connectors.ledger.schema_cohandling import ANNEX1_COLUMNS
from connectors.ledger.statements import script, statement
from connectors.ledger.summary_store import SummaryStore
from connectors.ledger.trace_store import TraceStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
RECEIVED_COLUMNS: tuple[str, ...] = ("source", "change_seq", "change_time", "op", *ANNEX1_COLUMNS, "run_id", "received_at")


def utcnow() -> datetime:
    """Naive UTC, as every ledger timestamp is stored."""
    return datetime.now(UTC).replace(tzinfo=None)


class _Turn:
    """Signals that a chunk's transaction has ended: committed (ok) or not."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.ok = False

    @classmethod
    def done(cls) -> _Turn:
        turn = cls()
        turn.succeed()
        return turn

    def succeed(self) -> None:
        self.ok = True
        self._event.set()

    def fail(self) -> None:
        if not self._event.is_set():
            self._event.set()

    def wait(self) -> None:
        self._event.wait()
        if not self.ok:
            raise RuntimeError("an earlier chunk of this batch did not commit; this one is rolled back so the watermark leaves no gap")


@dataclass(frozen=True)
class Watermark:
    last_seq: int
    reread_from: datetime | None
    fence: str | None = None  # PostgreSQL sources: the snapshot fence, JSON (transforms/common/fence.py)


@dataclass(frozen=True)
class ChunkLoaded:
    rows_read: int
    rows_new: int
    max_seq: int
    rows_dead_lettered: int = 0  # refused rows, kept as dead letters (the watermark still passed them)

    @property
    def rows_known(self) -> int:
        return self.rows_read - self.rows_new - self.rows_dead_lettered


class Ledger(PersonalStore, AuditStore, DeadLetterStore, BalanceStore, SummaryStore, LockStore, TraceStore, RetentionStore):
    """The gateway ledger. Build it from a SQLAlchemy URL or an Airflow Connection id.

    One engine, and a store per product line on it: `ledger.cohandling`, `ledger.registry`,
    `ledger.remote`. The ledger itself keeps what every line shares (migrations, extraction
    batches and watermarks, the exchange changes and their verdicts, audit, dead letters, the
    lifetime balance, summaries, and what concurrent runs share: stage locks and line clocks,
    connectors/ledger/lock_store.py)."""

    def __init__(self, url: str | sa.URL) -> None:
        self.engine = engine_for(url)
        self.dialect = self.engine.dialect.name
        self.cohandling = CohandlingLedger(self)
        self.registry = RegistryLedger(self)
        self.remote = RemoteLedger(self)

    @classmethod
    def from_conn_id(cls, conn_id: str) -> Ledger:
        from connectors.dburl import url_from_conn_id

        return cls(url_from_conn_id(conn_id))

    # --- schema -----------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def schema_revision(self) -> tuple[str | None, str]:
        """(the migration the database is at — None when it has no ledger schema —, the newest migration).
        Reads only; raises the driver's error (wrapped by SQLAlchemy) when the database cannot be read."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision(), head

    def drop_all(self) -> None:
        """Remove every ledger table (tests and the demo's fresh start only)."""
        with self.engine.begin() as conn:
            conn.execute(statement("drop_alembic_version"))
            metadata.drop_all(conn)  # DDL from the tables' definitions, in dependency order
            if self.dialect == "postgresql":
                conn.execute(statement("drop_audit_append_only_function"))

    # --- extraction -------------------------------------------------------------------------

    def watermark(self, source: str) -> Watermark:
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_watermark"), {"source": source}).first()
        return Watermark(int(row[0]), row[1], row[2]) if row else Watermark(0, None)

    def begin_batch(self, *, run_id: str, source: str, after_seq: int, before_time: datetime) -> int:
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                statement("insert_extract_batch"),
                {"run_id": run_id, "source": source, "started_at": utcnow(), "after_seq": after_seq, "before_time": before_time},
            ).scalar_one()
            self._audit(conn, run_id, "extract", "batch_started", "extract_batch", batch_id, {"after_seq": after_seq, "before_time": before_time})
        return int(batch_id)

    def load_changes(self, chunks: Iterable, *, batch_id: int, run_id: str, source: str, fresh_above: int, writers: int = 1) -> Iterator[ChunkLoaded]:
        """Merge Arrow chunks of platform changes, each with its watermark move, atomically.

        Each chunk has the columns change_seq, change_time, op and the 25 Annex 1 fields
        (lower case). Changes above `fresh_above` (the watermark when the batch began)
        cannot be held yet and go straight in (COPY on PostgreSQL); the others come from
        the re-read window and are merged so that one already held is counted, not loaded
        twice.

        With `writers` > 1 (PostgreSQL only) that many chunks load at once on separate
        connections — one backend's COPY is the bottleneck — but they *commit in order*:
        a chunk moves the watermark only after every earlier chunk has committed, and if
        one fails the later ones roll back. Yields one ChunkLoaded per chunk, in order.
        """
        if writers <= 1 or self.dialect != "postgresql":
            for chunk in chunks:
                yield self._load_chunk(chunk, batch_id=batch_id, run_id=run_id, source=source, fresh_above=fresh_above)
            return
        from concurrent.futures import ThreadPoolExecutor

        before = _Turn.done()
        pending: deque = deque()
        with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="ledger-load") as pool:
            try:
                for chunk in chunks:
                    mine = _Turn()
                    pending.append(pool.submit(self._load_chunk, chunk, batch_id=batch_id, run_id=run_id, source=source, fresh_above=fresh_above, after=before, mine=mine))
                    before = mine
                    while len(pending) >= writers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                before.fail()  # nothing queued after an error may commit
                for future in pending:
                    future.cancel()

    def _load_chunk(self, chunk, *, batch_id: int, run_id: str, source: str, fresh_above: int, after: _Turn | None = None, mine: _Turn | None = None) -> ChunkLoaded:
        import pyarrow.compute as pc

        from transforms.cohandling.exchange_rows import Admitted

        # An admitted chunk (transforms/cohandling/exchange_rows.py) brings the rows it refused and the
        # originals of cleaned values: kept in the same transaction, and the watermark moves
        # past the refused rows too — nothing after a bad row waits for it.
        rejects, originals, max_seq = [], [], None
        if isinstance(chunk, Admitted):
            rejects, originals, max_seq, n = chunk.rejects, chunk.originals, chunk.max_seq, chunk.rows_read
            chunk = chunk.table
        else:
            n = chunk.num_rows
        try:
            if n == 0:
                if after is not None:
                    after.wait()
                if mine is not None:
                    mine.succeed()
                return ChunkLoaded(0, 0, 0)
            now = utcnow()
            chunk = _with_constants(chunk, source=source, run_id=run_id, received_at=now).select(list(RECEIVED_COLUMNS))
            chunk = self.seal(chunk, "received_record")  # IDs, phones, names as SM4 tokens before any table sees them
            if chunk.num_rows:
                max_seq = max(max_seq or 0, int(pc.max(chunk["change_seq"]).as_py()))
            above = pc.greater(chunk["change_seq"], fresh_above)
            fresh, reread = chunk.filter(above), chunk.filter(pc.invert(above))
            with self.engine.begin() as conn:
                self._insert(conn, "received_record", fresh)
                new = fresh.num_rows
                self._keep_rejects_and_originals(conn, rejects, originals, source=source, run_id=run_id)
                if reread.num_rows:
                    for ddl in script("create_stage", self.dialect):
                        conn.exec_driver_sql(ddl)
                    self._insert(conn, "stage_received", reread)
                    new += conn.execute(statement("insert_received")).rowcount
                if after is not None:
                    after.wait()  # commit order = chunk order: the watermark never passes a gap
                last = self._last_seq(conn, source)
                conn.execute(
                    statement("upsert_watermark"),
                    {"source": source, "last_seq": max(last, max_seq), "reread_from": None, "fence": None, "run_id": run_id, "updated_at": now},
                )
                conn.execute(
                    statement("update_batch_progress"),
                    {"batch_id": batch_id, "rows_read": n, "rows_new": new, "rows_known": n - new - len(rejects), "max_seq": max_seq},
                )
        except BaseException:
            if mine is not None:
                mine.fail()
            raise
        if mine is not None:
            mine.succeed()
        return ChunkLoaded(n, int(new), max_seq, len(rejects))

    def _keep_rejects_and_originals(self, conn: sa.Connection, rejects: list, originals: list, *, source: str, run_id: str, surface: str = "exchange_row", table: str = "BDC_SDQR_XBXX") -> None:
        """Dead-letter refused rows (surface `exchange_row`, key source:change_seq) and keep cleaned values' originals."""
        from connectors.ledger.deadletter_store import unit_key
        from connectors.ledger.schema_common import received_original

        for r in rejects:
            self.dead_letter(
                surface=surface, unit_key=unit_key(source, r.change_seq), origin=f"{table} CHANGE_SEQ={r.change_seq}",
                location=f"CHANGE_SEQ {r.change_seq} / {r.field}", rule_id=r.rule_id, reason=r.reason, payload=r.payload,
                owner="platform", run_id=run_id, conn=conn,
            )
        if not originals:
            return
        part = lambda o: getattr(o, "part", "")  # noqa: E731 - exchange rows have none, package children do
        seqs = sorted({o.change_seq for o in originals})
        held = set()
        for start in range(0, len(seqs), 500):
            held |= {tuple(r) for r in conn.execute(statement("select_originals_held", expanding=("seqs",)),
                                                   {"source": source, "seqs": seqs[start:start + 500]})}
        rows = [
            {"source": source, "change_seq": o.change_seq, "part": part(o), "field": o.field, "original": o.value, "changes": o.changes[:64]}
            for o in originals if (o.change_seq, part(o), o.field) not in held
        ]
        if rows:
            for row, sealed in zip(rows, self.seal_bytes([r["original"] for r in rows], "received_original", "original"), strict=True):
                row["original"] = sealed
            conn.execute(received_original.insert(), rows)

    def originals(self, source: str, change_seqs: list[int]) -> list[tuple[int, str, str, bytes, str]]:
        """(change_seq, part, field, original bytes, changes) of cleaned values among `change_seqs`."""
        wanted = {int(s) for s in change_seqs}
        if not wanted:
            return []
        # One range scan over the primary key (few values are ever cleaned), filtered here:
        # a run of a million changes is not a thousand IN lists.
        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_originals"), {"source": source, "low": min(wanted), "high": max(wanted)})
            held = [tuple(r) for r in rows if int(r[0]) in wanted]
        return [(r[0], r[1], r[2], self.unseal_bytes(r[3], "received_original", "original"), *r[4:]) for r in held]

    def finish_batch(self, batch_id: int, *, run_id: str, source: str, reread_from: datetime, fence: str | None = None) -> dict:
        """Close a batch: the re-read window starts at `reread_from` from now on — or where it is, if an earlier run's
        cut-off put it later (a backfill's older cut-off never moves it back); `fence` (PostgreSQL) replaces the snapshot fence."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                statement("upsert_watermark"),
                {"source": source, "last_seq": self._last_seq(conn, source), "reread_from": reread_from, "fence": fence, "run_id": run_id, "updated_at": now},
            )
            conn.execute(statement("update_batch_finished"), {"batch_id": batch_id, "status": "success", "finished_at": now, "error": None})
            summary = dict(conn.execute(statement("select_batch_summary"), {"batch_id": batch_id}).mappings().one())
            self._audit(conn, run_id, "extract", "batch_finished", "extract_batch", batch_id, summary)
        return summary

    def fail_batch(self, batch_id: int, *, run_id: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement("update_batch_finished"), {"batch_id": batch_id, "status": "failed", "finished_at": utcnow(), "error": error[:4000]})
            self._audit(conn, run_id, "extract", "batch_failed", "extract_batch", batch_id, {"error": error[:1000]})

    # --- reading ----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Changes received, distinct records (ROWGUIDs), and changes without a ROWGUID."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_counts")).mappings().one()
        return {k: int(v) for k, v in row.items()}

    def run_changes(self, run_id: str, source: str) -> int:
        """How many changes the run `run_id` received (over all its attempts).

        Counted inside the key range its batches covered: received_record has no run_id
        index (it would slow every load), and a scan of the whole ledger grows with it.
        """
        span = self.run_range(run_id, source)
        if span is None:
            return 0
        with self.engine.connect() as conn:
            return int(conn.execute(statement("count_run_changes"), {"run_id": run_id, "source": source, "low": span[0], "high": span[1]}).scalar_one())

    # --- validation ---------------------------------------------------------------------------

    def run_range(self, run_id: str, source: str) -> tuple[int, int] | None:
        """(low, high]: the change-sequence range a run's batches covered, or None if it extracted nothing."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_run_range"), {"run_id": run_id, "source": source}).first()
        if row is None or row[0] is None or row[1] is None:
            return None
        return int(row[0]), int(row[1])

    def due_changes(self, source: str, *, after_seq: int = 0, page_size: int = 200_000):
        """A page of changes received and not yet validated (whichever run received them), in change order.

        Returns (Arrow table with change_seq, OP and the upper-case Annex 1 names; the run
        that received each change). Pass the last change_seq of a page as `after_seq` for
        the next: a backlog is read in pages, nothing skipped.
        """
        import pyarrow as pa

        names = ["change_seq", "OP", *(c.upper() for c in ANNEX1_COLUMNS)]
        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_due_changes"),
                                {"source": source, "after": after_seq, "page_size": page_size}).fetchall()
        columns = list(zip(*rows)) if rows else [[] for _ in range(len(names) + 1)]
        table = pa.table({n: pa.array(list(c), pa.int64() if n == "change_seq" else pa.string()) for n, c in zip(names, columns)})
        return self.unseal(table, "received_record"), list(columns[-1])

    def due_prior_states(self, source: str, *, low: int, high: int) -> dict[str, tuple[int, str, str]]:
        """ROWGUID -> (change_seq, op, status) in force, for the ROWGUIDs of the due changes in [low, high]."""
        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_due_prior_states"), {"source": source, "low": low, "high": high})
            return {r[0]: (int(r[1]), r[2], r[3]) for r in rows}

    def save_validation(self, *, run_id: str, source: str, verdicts, failures, summary: dict) -> None:
        """Write the verdicts and failures of one page of due changes, move record states, and add the
        page's counts to the run's — one transaction.

        `verdicts` (Arrow): change_seq, rowguid, status, requested, blocked; `failures`
        (Arrow): change_seq, rule_id, field, utility, severity, value, message_zh,
        message_en. The page's changes had no verdict (they were due): a change gets one
        verdict, ever. `validation_run` sums every page a run validated (over its attempts);
        an empty page still records the run.
        """
        from connectors.ledger.schema_cohandling import record_verdict, rule_failure

        self._save_verdict_page(run_id=run_id, source=source, verdicts=verdicts, failures=failures, summary=summary,
                                into=(record_verdict, rule_failure), state="upsert_record_state", run_table="validation_run",
                                counted=("records_in", "passed", "partial", "quarantined", "warnings"), keep_first=("docs_path",),
                                audit=("validate", "run_validated"))

    def _save_verdict_page(self, *, run_id: str, source: str, verdicts, failures, summary: dict, into: tuple[sa.Table, sa.Table], state: str,
                           run_table: str, counted: tuple[str, ...], keep_first: tuple[str, ...] = (), audit: tuple[str, str]) -> None:
        """One validated page, in one transaction, for either line: `verdicts` and `failures` (Arrow) stamped with source and
        run into the tables `into`; the state statement `state` over the page's change_seq range (when it has any); the
        page's `counted` counts added to `run_table`'s row for the run; an audit row (actor, action) with the page's counts."""
        now = utcnow()
        verdicts = _with_constants(verdicts, source=source, run_id=run_id, validated_at=now)
        failures = self.seal(_with_constants(failures, source=source, run_id=run_id), into[1].name)  # failing values may be IDs, phones
        with self.engine.begin() as conn:
            for table, rows in zip(into, (verdicts, failures)):
                self._insert(conn, table.name, rows, [c.name for c in table.columns])
            if verdicts.num_rows:
                import pyarrow.compute as pc

                low, high = (int(x.as_py()) for x in pc.min_max(verdicts["change_seq"]).values())
                conn.execute(statement(state), {"run_id": run_id, "source": source, "low": low, "high": high, "updated_at": now})
            _add_run_counts(conn, run_table, run_id, summary, counted=counted, stamp={"validated_at": now}, keep_first=keep_first)
            self._audit(conn, run_id, *audit, run_table, run_id, summary)

    def validation_run(self, run_id: str) -> dict:
        """The run's validation counts (every page it validated), or zeros if it validated nothing."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_validation_run"), {"run_id": run_id}).mappings().first()
        if row is None:
            return {"run_id": run_id, "records_in": 0, "passed": 0, "partial": 0, "quarantined": 0, "warnings": 0, "docs_path": None}
        return dict(row)

    def quarantine(self, run_id: str | None = None, *, known_by: datetime | None = None):
        """Quarantined record versions with every failure (all runs, or one run's; validated by `known_by`, UTC, None: now), as a pandas
        frame; with the record's version number and its newest version validated by `known_by` (latest_*: where it stands since)."""
        import pandas as pd

        from connectors.ledger.result_store import EVER

        with self.engine.connect() as conn:
            query = statement("select_quarantine", types=(("latest_validated_at", sa.DateTime),))
            rows = conn.execute(query, {"run_id": run_id, "known_by": known_by or EVER}).mappings().all()
        return self.unseal(self.unseal(pd.DataFrame(rows), "received_record"), "rule_failure")

    @property
    def address(self) -> str:
        """Where the ledger is, for people: its database URL with the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- internals --------------------------------------------------------------------------

    def _last_seq(self, conn: sa.Connection, source: str) -> int:
        row = conn.execute(statement("select_watermark"), {"source": source}).first()
        return int(row[0]) if row else 0

    def _insert(self, conn: sa.Connection, table: str, rows, names: tuple[str, ...] | list[str] = RECEIVED_COLUMNS) -> None:
        """Bulk-insert the columns `names` of an Arrow table into `table`."""
        if rows.num_rows == 0:
            return
        rows = rows.select(list(names))
        columns = ", ".join(names)
        if self.dialect == "postgresql":
            import pyarrow.csv as pacsv

            # COPY is the fast path into PostgreSQL: Arrow writes the CSV in C++, psycopg streams it.
            # Nulls are written unquoted-empty and empty strings quoted, which COPY CSV tells apart.
            buf = io.BytesIO()
            pacsv.write_csv(rows, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getbuffer())
        else:
            marks = ", ".join("?" for _ in names)
            values = list(zip(*(_python_column(rows[c]) for c in names)))
            conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)


def _add_run_counts(conn, table: str, run_id: str, summary: dict, *, counted: tuple[str, ...], stamp: dict, keep_first: tuple[str, ...] = ()) -> None:
    """Add one page's counts to a run's row of `table` (validation_run, remote_validation_run), or start it.

    The other summary values (as_of, ...) are taken from the page when it has them; those in
    `keep_first` (the run's first Data Docs) only while the run has none."""
    columns = metadata.tables[table].c
    row = conn.execute(statement(f"select_{table}"), {"run_id": run_id}).mappings().first()
    values = {k: v for k, v in summary.items() if k in columns}
    if row is None:
        conn.execute(statement(f"insert_{table}"), {c.name: None for c in columns} | values | stamp | {"run_id": run_id})
        return
    update = {k: int(row[k] or 0) + int(values.get(k) or 0) for k in counted}
    update.update({k: v for k, v in values.items() if k not in counted and v is not None and (k not in keep_first or row[k] is None)})
    conn.execute(statement(f"update_{table}"), dict(row) | update | stamp)


def _with_constants(table, **constants):
    """An Arrow table with one more column per keyword, each holding that value on every row."""
    import pyarrow as pa

    for name, value in constants.items():
        kind = pa.timestamp("us") if isinstance(value, datetime) else pa.string()
        table = table.append_column(name, pa.array([value] * table.num_rows, kind))
    return table


def _python_column(column) -> list:
    """An Arrow column as Python values SQLite binds (timestamps as ISO text, like SQLAlchemy's)."""
    import pyarrow as pa

    if pa.types.is_timestamp(column.type):
        return [None if v is None else v.isoformat(sep=" ") for v in column.to_pylist()]
    return column.to_pylist()
