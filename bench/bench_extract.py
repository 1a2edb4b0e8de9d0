"""Benchmark: extract BENCH_ROWS (default 1,000,000) rows from a PostgreSQL exchange table
into a PostgreSQL ledger, against `psql \\copy` of the same query to a file, same run.

The last line printed is a JSON object: rows, rows_per_s, copy_rows_per_s, ratio_vs_copy,
peak_rss_mb (of the extraction process alone). Targets: ratio_vs_copy >= 0.5, peak_rss_mb < 1000.
Uses schemas bench_platform and bench_ledger in BENCH_PG_URL (default: the local `test` db).
"""

from __future__ import annotations

import json
import os
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


def _url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


def _reset_schema(schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()


def _source_rows() -> int | None:
    """Rows already in the bench's exchange table (the synthetic data is deterministic by seed)."""
    import sqlalchemy as sa

    engine = sa.create_engine(_url("bench_platform").replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM bdc_sdqr_xbxx").scalar_one())
    except sa.exc.ProgrammingError:
        return None
    finally:
        engine.dispose()


def phase_extract() -> None:
    """Child process: a fresh ledger, one full extraction; prints its own numbers."""
    from connectors.exchange_db import RecordSource
    from connectors.ledger import Ledger
    from jobs.cohandling.extract_records import extract_changes

    ledger = Ledger(_url("bench_ledger"))
    ledger.migrate()
    source = RecordSource(_url("bench_platform"))
    started = time.perf_counter()
    result = extract_changes(source, ledger, run_id="bench")
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": result.rows_new, "wall_s": wall, "peak_rss_mb": peak}))


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    _reset_schema("bench_ledger")
    if _source_rows() == rows:
        print(f"reusing the {rows} rows already in bench_platform", file=sys.stderr)
    else:
        _reset_schema("bench_platform")
        t = time.perf_counter()
        subprocess.run([py, "-m", "simulators.platform", "--url", _url("bench_platform"), "--rows", str(rows), "--fresh"], check=True, env=env, cwd=ROOT)
        print(f"generated {rows} rows in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    out = subprocess.run([py, __file__, "--phase", "extract"], check=True, env=env, cwd=ROOT, capture_output=True, text=True)
    extract = json.loads(out.stdout.strip().splitlines()[-1])

    # The reference: psql's \copy of the same query (same columns, order and bounds) to a file.
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("bench-extract needs the psql client (Debian package postgresql-client)")
    from connectors import sqlfiles

    query = sqlfiles.load("source/select_changes").replace(":after_seq", "0").replace(":before_time", f"'{datetime(2100, 1, 1)}'")
    query = " ".join(query.split())
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "copy.csv"
        env_pg = {**os.environ, "PGOPTIONS": "-csearch_path=bench_platform"}
        t = time.perf_counter()
        subprocess.run([psql, PG, "-v", "ON_ERROR_STOP=1", "-q", "-c", f"\\copy ({query}) TO '{target}' (FORMAT csv)"], check=True, env=env_pg)
        copy_s = time.perf_counter() - t

    rows_per_s = extract["rows"] / extract["wall_s"]
    copy_rows_per_s = rows / copy_s
    print(json.dumps({
        "rows": extract["rows"],
        "rows_per_s": round(rows_per_s),
        "copy_rows_per_s": round(copy_rows_per_s),
        "ratio_vs_copy": round(rows_per_s / copy_rows_per_s, 3),
        "peak_rss_mb": round(extract["peak_rss_mb"], 1),
    }))


if __name__ == "__main__":
    if sys.argv[1:] == ["--phase", "extract"]:
        phase_extract()
    else:
        main()
