"""Benchmark: extract BENCH_ROWS (default 1,000,000) rows from a PostgreSQL exchange table
into a PostgreSQL ledger, against two references in the same run, both running the statement
the extraction ran (sql/source/select_changes.postgresql.sql, bound to the values it was bound to):

- copy: `psql \\copy (…) TO` a file;
- pipe: `psql \\copy (…) TO STDOUT` piped into `psql \\copy … FROM STDIN` into a table of the same
  shape (the statement's columns and types, keyed on CHANGE_SEQ) in the ledger's database: the plain
  database-to-database move that the extraction does with admission, provenance and indexes on top;
- indexed pipe: the same pipe into a table that also has received_record's two other indexes (ROWGUID, YCYWH), which
  the extraction's COPY maintains: the same rows moved into a table indexed as the ledger's is.

The last line printed is a JSON object: rows, rows_per_s, copy_rows_per_s, ratio_vs_copy,
pipe_wall_s, ratio_vs_pipe, pipe_indexed_wall_s, ratio_vs_indexed_pipe, plain_ratio_vs_indexed_pipe (the extraction
without field encryption against it), peak_rss_mb (of the extraction process alone), plain_wall_s and encryption_ratio (the
same extraction into a fresh ledger without field encryption — docs/security.md —, and the gateway's wall time over it:
what SM4 on ID numbers, phones and names costs). Targets: ratio_vs_copy >= 0.5, ratio_vs_pipe >= 0.8, peak_rss_mb < 1000.
Uses schemas bench_platform and bench_ledger in BENCH_PG_URL (default: the local `test` db; BENCH_SCHEMA_PREFIX
replaces "bench").
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = os.environ.get("BENCH_SCHEMA_PREFIX", "bench")  # another prefix keeps parallel runs on one server apart
PLATFORM, LEDGER = f"{PREFIX}_platform", f"{PREFIX}_ledger"


def _url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


def _engine(schema: str):
    import sqlalchemy as sa

    return sa.create_engine(_url(schema).replace("postgresql://", "postgresql+psycopg://"))


def _reset_schema(schema: str) -> None:
    engine = _engine(schema)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()


def _source_rows() -> int | None:
    """Rows already in the bench's exchange table (the synthetic data is deterministic by seed)."""
    import sqlalchemy as sa

    engine = _engine(PLATFORM)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM bdc_sdqr_xbxx").scalar_one())
    except sa.exc.ProgrammingError:
        return None
    finally:
        engine.dispose()


def phase_extract(*, plain: bool = False) -> None:
    """Child process: a fresh ledger, one full extraction; prints its own numbers and the values its read was bound to.
    `plain`: without field encryption (the reference that prices it; never a setting of the gateway)."""
    from connectors.exchange_db import RecordSource
    from connectors.ledger import Ledger
    from jobs.cohandling.extract_records import extract_changes

    ledger = Ledger(_url(LEDGER))
    ledger.personal_at_rest = not plain
    ledger.migrate()
    source = RecordSource(_url(PLATFORM))
    bound: list[dict] = []
    read_changes = source.read_changes

    def recording(*, after_seq, before_time, reread=None, **kwargs):
        # The values select_changes gets, as RecordSource.read_changes binds them: the references run the same statement.
        bound.append({"after_seq": after_seq, "before_time": before_time, **source._filter(after_seq, reread)})
        return read_changes(after_seq=after_seq, before_time=before_time, reread=reread, **kwargs)

    source.read_changes = recording
    if not plain:  # the keyring's one load per process, untimed: it imports Airflow to look for the Connection (≈ 3 s in a
        ledger.use_keyring(ledger.keyring)  # fresh process; an Airflow worker has Airflow loaded already)
    started = time.perf_counter()
    result = extract_changes(source, ledger, run_id="bench")
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if len(bound) != 1:
        raise SystemExit(f"the extraction read {len(bound)} times; the references repeat one read")
    print(json.dumps({"rows": result.rows_new, "wall_s": wall, "peak_rss_mb": peak,
                      "bound": {k: v.isoformat(sep=" ") if isinstance(v, datetime) else v for k, v in bound[0].items()}}))


def literal_query(bound: dict) -> str:
    """select_changes as the extraction ran it on PostgreSQL, its parameters written in as literals (psql's \\copy binds none)."""
    from connectors import sqlfiles

    def literal(match: re.Match) -> str:
        value = bound[match.group(1)]  # a KeyError names a parameter this bench does not know
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"

    query = re.sub(r"(?<!:):(\w+)", literal, sqlfiles.load("source/select_changes", "postgresql"))
    return " ".join(query.split())


def _pipe(psql: str, query: str, env_pg: dict, *, indexed: bool = False) -> tuple[float, int]:
    """`psql \\copy (query) TO STDOUT | psql \\copy <prefix>_ledger.pipe_copy FROM STDIN`, into a fresh table of the query's
    shape keyed on change_seq: (seconds, rows landed). `indexed`: with received_record's two other indexes too (ROWGUID,
    YCYWH: the ledger looks records up by them), which the extraction's COPY maintains and the bare pipe does not."""
    engine = _engine(PLATFORM)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {LEDGER}.pipe_copy")
        conn.exec_driver_sql(f"CREATE TABLE {LEDGER}.pipe_copy AS SELECT * FROM ({query}) AS q WITH NO DATA")
        conn.exec_driver_sql(f"ALTER TABLE {LEDGER}.pipe_copy ADD PRIMARY KEY (change_seq)")
        if indexed:
            conn.exec_driver_sql(f"CREATE INDEX ix_pipe_copy_rowguid ON {LEDGER}.pipe_copy (rowguid)")
            conn.exec_driver_sql(f"CREATE INDEX ix_pipe_copy_ycywh ON {LEDGER}.pipe_copy (ycywh)")
    command = [psql, PG, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    t = time.perf_counter()
    out = subprocess.Popen([*command, f"\\copy ({query}) TO PSTDOUT (FORMAT csv)"], stdout=subprocess.PIPE, env=env_pg)
    into = subprocess.Popen([*command, f"\\copy {LEDGER}.pipe_copy FROM PSTDIN (FORMAT csv)"], stdin=out.stdout, env=env_pg)
    out.stdout.close()  # the reading psql alone holds the pipe's reading end
    if into.wait() | out.wait():
        raise SystemExit(f"the psql pipe failed (exit {out.returncode} | {into.returncode})")
    pipe_s = time.perf_counter() - t
    with engine.begin() as conn:
        landed = int(conn.exec_driver_sql(f"SELECT count(*) FROM {LEDGER}.pipe_copy").scalar_one())
        conn.exec_driver_sql(f"DROP TABLE {LEDGER}.pipe_copy")
    engine.dispose()
    return pipe_s, landed


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    _reset_schema(LEDGER)
    if _source_rows() == rows:
        print(f"reusing the {rows} rows already in {PLATFORM}", file=sys.stderr)
    else:
        _reset_schema(PLATFORM)
        t = time.perf_counter()
        subprocess.run([py, "-m", "simulators.platform", "--url", _url(PLATFORM), "--rows", str(rows), "--fresh"], check=True, env=env, cwd=ROOT)
        print(f"generated {rows} rows in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    # The same extraction without field encryption first (prices it), then the gateway's own, each into a fresh ledger.
    out = subprocess.run([py, __file__, "--phase", "extract", "--plain"], check=True, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    plain = json.loads(out.stdout.strip().splitlines()[-1])
    _reset_schema(LEDGER)
    out = subprocess.run([py, __file__, "--phase", "extract"], check=True, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    extract = json.loads(out.stdout.strip().splitlines()[-1])

    # The references: psql's \copy of the statement the extraction ran (same columns, order, bounds) to a file, and
    # piped into a table of the same shape in the ledger's database.
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("bench-extract needs the psql client (Debian package postgresql-client)")
    query = literal_query(extract["bound"])
    env_pg = {**os.environ, "PGOPTIONS": f"-csearch_path={PLATFORM}"}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "copy.csv"
        t = time.perf_counter()
        subprocess.run([psql, PG, "-X", "-v", "ON_ERROR_STOP=1", "-q", "-c", f"\\copy ({query}) TO '{target}' (FORMAT csv)"], check=True, env=env_pg)
        copy_s = time.perf_counter() - t
    pipe_s, piped = _pipe(psql, query, env_pg)
    indexed_s, _ = _pipe(psql, query, env_pg, indexed=True)
    if piped != extract["rows"]:
        print(f"the pipe moved {piped} rows, the extraction {extract['rows']}: the ratios compare unlike work", file=sys.stderr)
    print(f"extraction {extract['wall_s']:.1f}s (without field encryption {plain['wall_s']:.1f}s), \\copy to a file {copy_s:.1f}s, "
          f"pipe into a table {pipe_s:.1f}s (with received_record's indexes {indexed_s:.1f}s)", file=sys.stderr)

    rows_per_s = extract["rows"] / extract["wall_s"]
    copy_rows_per_s = rows / copy_s
    print(json.dumps({
        "rows": extract["rows"],
        "rows_per_s": round(rows_per_s),
        "copy_rows_per_s": round(copy_rows_per_s),
        "ratio_vs_copy": round(rows_per_s / copy_rows_per_s, 3),
        "pipe_wall_s": round(pipe_s, 3),
        "ratio_vs_pipe": round(rows_per_s / (piped / pipe_s), 3),
        "pipe_indexed_wall_s": round(indexed_s, 3),
        "ratio_vs_indexed_pipe": round(rows_per_s / (piped / indexed_s), 3),
        "plain_ratio_vs_indexed_pipe": round(plain["rows"] / plain["wall_s"] / (piped / indexed_s), 3),
        "peak_rss_mb": round(extract["peak_rss_mb"], 1),
        "plain_wall_s": round(plain["wall_s"], 3),
        "encryption_ratio": round(extract["wall_s"] / plain["wall_s"], 3),
    }))


if __name__ == "__main__":
    if sys.argv[1:3] == ["--phase", "extract"]:
        phase_extract(plain=sys.argv[3:] == ["--plain"])
    else:
        main()
