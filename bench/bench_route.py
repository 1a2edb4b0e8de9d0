"""Benchmark: route BENCH_RECORDS (default 1,000,000) validated records into work orders
against a registry of ~600 institutions, against only reading the same staged data, in
the same run.

The staged data is a Parquet file of generated records with their validation outcome
(status, requested, blocked utilities) as the ledger hands them to routing; the registry
is the synthetic one, loaded the way `registry_at` returns it (opening dates included, a
few counties not yet open). The last line printed is a JSON object: records,
records_per_s, read_records_per_s, work_orders, peak_rss_mb. Target: records_per_s >= 500,000.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date, datetime
from pathlib import Path

from staged import measured

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AS_OF = date(2021, 8, 15)  # some counties open for account mode later than this: their work orders are held


def stage(path: Path, records: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulators.platform import generate
    from simulators.registry import build_registry

    registry = build_registry()
    writer = None
    for start in range(0, records, 250_000):
        frame = generate(min(250_000, records - start), seed=start, start="2021-06-01", end="2021-08-14", as_of=datetime(2021, 8, 15),
                         registry=registry, first_index=start)
        asked = {u: frame[a].notna() | (frame[c].notna() if c else False) for u, a, c in (
            ("electricity", "YDHH", None), ("water", "YSHH", "GSJGBM"), ("gas", "YQHH", "RQJGBM"), ("heat", "YNHH", "GRJGBM"))}
        requested = np.full(len(frame), "", dtype=object)
        for utility, mask in asked.items():
            requested = np.where(mask, np.where(requested == "", utility, requested + "," + utility), requested)
        defect = frame["defect"].to_numpy(dtype=object)
        status = np.where(defect == "", "passed", np.where(np.isin(defect, ["institution_mismatch", "account_without_institution", "institution_other_county"]), "partial", "quarantined"))
        blocked = np.where(status == "partial", "water", "")
        out = frame.drop(columns=["defect", "defect_field", "oddity"]).assign(
            source="platform", change_seq=np.arange(start, start + len(frame)), status=status, requested=requested, blocked=blocked)
        table = pa.Table.from_pandas(out[["ROWGUID", "source", "change_seq", "status", "requested", "blocked", "XZQH", "YDHH", "YSHH", "GSJGBM",
                                          "GSJGMC", "YQHH", "RQJGBM", "RQJGMC", "YNHH", "GRJGBM", "GRJGMC"]], preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def registry_frame():
    """The synthetic registry as `registry_at` returns it."""
    import pandas as pd

    from simulators.registry import build_registry

    reg = build_registry().reset_index(drop=True)
    reg["version_id"] = range(1, len(reg) + 1)
    reg["in_force"] = True
    reg["successor_code"] = None
    reg["drop_account"] = ("xb" + reg["code"].str.lower()).where(reg["channel"] == "account")
    reg["endpoint_conn_id"] = ("county_system_" + reg["xzqh"]).where(reg["channel"] == "system")
    reg["open_date"] = pd.to_datetime(reg["open_date"]).where(reg["channel"] == "account")
    return reg


def measure(path: Path) -> None:
    """Child process: read-only pass, then read + route; prints its numbers."""
    import pyarrow.parquet as pq

    from transforms.cohandling.workorder_routing import route_work_orders

    registry = registry_frame()
    route_work_orders(pq.read_table(path).slice(0, 1000), registry, as_of=AS_OF)  # warm-up
    t = time.perf_counter()
    table = pq.read_table(path)
    read_s = time.perf_counter() - t
    del table
    t = time.perf_counter()
    table = pq.read_table(path)
    orders = route_work_orders(table, registry, as_of=AS_OF)
    wall = time.perf_counter() - t
    statuses = {str(k["values"]): int(k["counts"]) for k in orders["status"].value_counts().to_pylist()}
    print(json.dumps({"records": table.num_rows, "wall_s": wall, "read_s": read_s, "work_orders": orders.num_rows, "statuses": statuses,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    m = measured(__file__, stage, file_name="validated.parquet")
    print(f"work orders by status: {m['statuses']}", file=sys.stderr)
    print(json.dumps({
        "records": m["records"],
        "records_per_s": round(m["records"] / m["wall_s"]),
        "read_records_per_s": round(m["records"] / m["read_s"]),
        "work_orders": m["work_orders"],
        "peak_rss_mb": round(m["peak_rss_mb"], 1),
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]))
    else:
        main()
