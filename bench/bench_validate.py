"""Benchmark: every Annex 1 rule (normalise + vectorised rules) over BENCH_RECORDS (default
1,000,000) staged records, against only reading the same staged data, in the same run.

The staged data is a Parquet file of generated records (5 % labelled defects). The last
line printed is a JSON object: records, records_per_s, read_records_per_s, peak_rss_mb.
Targets: records_per_s >= 250,000; peak_rss_mb < 2000.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

from staged import measured

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AS_OF = datetime(2024, 12, 31, 23, 59)


def stage(path: Path, records: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulators.platform import generate
    from simulators.registry import build_registry

    registry = build_registry()
    writer = None
    for start in range(0, records, 250_000):
        frame = generate(min(250_000, records - start), seed=start, start="2024-01-01", end="2024-12-31", as_of=AS_OF, registry=registry, first_index=start)
        table = pa.Table.from_pandas(frame.drop(columns=["defect", "defect_field", "oddity"]), preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def measure(path: Path) -> None:
    """Child process: read-only pass, then read + all rules; prints its numbers."""
    import pyarrow.parquet as pq

    from jobs.common import reference
    from simulators.registry import build_registry
    from transforms.cohandling.normalize import normalize_records
    from transforms.cohandling.record_rules import evaluate
    from transforms.cohandling.rule_catalogue import build_context

    ctx = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=build_registry(), as_of=AS_OF)
    evaluate(normalize_records(pq.read_table(path).slice(0, 1000)), ctx)  # warm-up: imports, regex compilation
    t = time.perf_counter()
    table = pq.read_table(path)
    read_s = time.perf_counter() - t
    del table
    t = time.perf_counter()
    table = pq.read_table(path)
    failures, outcome = evaluate(normalize_records(table), ctx)
    wall = time.perf_counter() - t
    print(json.dumps({"records": len(outcome), "wall_s": wall, "read_s": read_s, "failures": len(failures), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    m = measured(__file__, stage, file_name="staged.parquet")
    print(json.dumps({
        "records": m["records"],
        "records_per_s": round(m["records"] / m["wall_s"]),
        "read_records_per_s": round(m["records"] / m["read_s"]),
        "peak_rss_mb": round(m["peak_rss_mb"], 1),
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]))
    else:
        main()
