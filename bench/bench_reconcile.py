"""Benchmark: reconcile BENCH_ORDERS (default 2,000,000) work orders against 0.9 × as many
handling results (1,800,000: mixed outcomes, late results, duplicates and results after a
cancellation), against a plain pyarrow join of the same two tables on the key, same run.

Staged (not measured): a Parquet table of work orders as the ledger holds them (delivery,
place, applicant), one of handling results, and the reconciliation input built from the two
the way `reconciliation_of_versions.sql` over `reconciliation_in_force_all.sql` does (the newest final result per key, "received"
alone is no outcome, a result after a cancellation flagged) — the DataFrame the ledger hands
`reconcile_now`. Measured in a fresh process, compute only (both sides start from memory):

- wall_s: `reconcile_now` itself (jobs/cohandling/collect_results.py) over a ledger stub that
  returns the staged input: the working-day calendar from jobs/common/reference, the divisions,
  and transforms/cohandling/reconcile.py `reconcile`;
- join_wall_s: `orders.join(results, keys=(rowguid, utility, version), join_type="left outer")`
  in pyarrow on the two staged tables.

Each side runs BENCH_REPEAT (default 3) times after a warm-up and its fastest run counts (on a
shared machine the slower runs measure the neighbours). The last line printed is a JSON object: work_orders, results, wall_s, join_wall_s,
ratio_vs_join (wall_s / join_wall_s), peak_rss_mb (after reconciling, before the join's
tables are read). Target: ratio_vs_join <= 3.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from staged import measured

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AS_OF = datetime(2026, 12, 1, 18, 0)  # local time; deliveries from 2026-09-01 (National Day inside) to the day before
KEY = ["rowguid", "utility", "version"]
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))  # each side runs this many times; the fastest run counts (the machine is shared)
ORDER_STATUSES = {"delivered": 0.87, "ready": 0.03, "held": 0.02, "quarantined": 0.02, "cancelled": 0.025, "withdrawn": 0.01, "failed": 0.01,
                  "cancel_pending": 0.01, "cancel_refused": 0.005}


def generate(orders: int, seed: int = 18):
    """(work orders, handling results) as pyarrow tables; deterministic by seed."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from jobs.common import reference

    rng = np.random.default_rng(seed)
    n = orders
    # two work orders per record (rowguid), of different utilities: electricity or water, and gas or heat
    record = np.arange(n) // 2
    utility = np.where(np.arange(n) % 2 == 0, rng.choice(np.array(["electricity", "water"], dtype=object), n, p=[0.6, 0.4]),
                       rng.choice(np.array(["gas", "heat"], dtype=object), n, p=[0.7, 0.3]))
    version = np.where(rng.random(n) < 0.05, 2, 1)
    rowguid = np.char.add("bench-", np.char.zfill(record.astype(str), 10)).astype(object)
    counties = [d.code for d in reference.counties()]
    xzqh = rng.choice(np.array(counties + ["370199", "", None], dtype=object), n, p=[0.97 / len(counties)] * len(counties) + [0.01, 0.01, 0.01])
    fullwidth = rng.random(n) < 0.01  # a few written in full-width digits, or with spaces, as people type them
    xzqh = np.where(fullwidth & (xzqh != None), pd.Series(xzqh).str.translate(str.maketrans("0123456789", "０１２３４５６７８９")).to_numpy(), xzqh)  # noqa: E711
    xzqh = np.where((rng.random(n) < 0.01) & (xzqh != None), pd.Series(xzqh).astype(str) + " ", xzqh)  # noqa: E711
    channel = np.where(utility == "electricity", "grid", rng.choice(np.array(["account", "system"], dtype=object), n, p=[0.7, 0.3]))
    institution = rng.integers(1, 600, n)
    institution_code = np.where(utility == "electricity", "GRID", np.char.add("INST", institution.astype(str)).astype(object))
    destination = np.where(channel == "grid", "grid", np.where(channel == "account", np.char.add("xbinst", institution.astype(str)).astype(object),
                                                              np.char.add("county_system_", xzqh.astype(str)).astype(object)))
    names = np.array([f"第{i}供水有限公司" for i in range(600)], dtype=object)
    status = rng.choice(np.array(list(ORDER_STATUSES), dtype=object), n, p=list(ORDER_STATUSES.values()))
    was_delivered = np.isin(status, ["delivered", "cancelled", "cancel_pending", "cancel_refused"])
    start = np.datetime64("2026-09-01T08:00")
    span_minutes = int((np.datetime64(AS_OF.date()) - np.datetime64("2026-09-01")).astype("timedelta64[m]").astype(int)) - 24 * 60
    delivered_at = start + rng.integers(0, span_minutes, n).astype("timedelta64[m]")
    delivered_at = np.where(was_delivered, delivered_at, np.datetime64("NaT"))
    acknowledged_at = np.where(was_delivered & (rng.random(n) < 0.5), delivered_at + rng.integers(10, 3000, n).astype("timedelta64[m]"),
                               np.datetime64("NaT"))
    work_orders = pa.table({
        "rowguid": rowguid.astype(str), "utility": utility.astype(str), "version": version.astype(np.int32),
        "correction": (version > 1).astype(np.int32), "channel": channel.astype(str), "destination": destination.astype(str),
        "institution_code": institution_code.astype(str), "institution_name": names[institution].astype(str),
        "record_xzqh": pa.array(xzqh, type=pa.string()), "order_status": status.astype(str),
        "hold_until": pa.nulls(n, type=pa.date32()),
        "delivery_status": np.where(was_delivered, "delivered", np.where(status == "failed", "failed", "pending")).astype(str),
        "delivered_at": delivered_at.astype("datetime64[us]"), "acknowledged_at": acknowledged_at.astype("datetime64[us]"),
        "buyer_name": np.char.add("张", (record % 97).astype(str)).astype(str),
        "buyer_phone": np.char.add("138", np.char.zfill((record * 7919 % 10**8).astype(str), 8)).astype(str),
        "buyer_id": np.char.add("37010219800101", np.char.zfill((record % 10**4).astype(str), 4)).astype(str),
        "address": np.char.add("历下区某路", (record % 1000).astype(str)).astype(str),
        "certificate": np.char.add("鲁(2026)济南市不动产权第", np.char.zfill(record.astype(str), 7)).astype(str),
        "platform_no": np.char.add("2026", np.char.zfill(record.astype(str), 10)).astype(str),
    })

    # Results: 0.9 per work order. Most delivered work orders get one final result (done about 85 %, rejected the rest),
    # some also an earlier "received"; some results arrive twice (resent); a few arrive after a cancellation.
    results = int(n * 0.9)
    delivered_idx = np.flatnonzero(was_delivered)
    final_idx = rng.choice(delivered_idx, min(len(delivered_idx), int(results * 0.85)), replace=False)
    extra = results - len(final_idx)
    received_idx = rng.choice(final_idx, extra // 2, replace=False)  # "received" first, then the final result
    duplicate_idx = rng.choice(final_idx, extra - extra // 2, replace=True)  # the same final result resent (or a second, later one)
    idx = np.concatenate([final_idx, received_idx, duplicate_idx])
    kind = np.concatenate([np.zeros(len(final_idx), int), np.ones(len(received_idx), int), np.full(len(duplicate_idx), 2)])
    outcome = np.where(rng.random(len(idx)) < 0.85, "done", "rejected").astype(object)
    outcome[kind == 1] = "received"
    # handled 0–9 calendar days after delivery: the slow ones are late (the deadline is 5 working days)
    handled_at = delivered_at[idx] + rng.integers(30, 9 * 24 * 60, len(idx)).astype("timedelta64[m]")
    handled_at = np.where(kind == 1, delivered_at[idx] + np.timedelta64(20, "m"), handled_at)
    handled_at = np.minimum(handled_at, np.datetime64(AS_OF.replace(hour=12)))
    received_at = handled_at + rng.integers(1, 600, len(idx)).astype("timedelta64[m]")
    received_at = np.where(kind == 2, received_at + np.timedelta64(1, "D"), received_at)
    code = np.where(outcome == "done", "0000", np.where(outcome == "received", "0001", "0002")).astype(str)
    handling_results = pa.table({
        "rowguid": rowguid[idx].astype(str), "utility": utility[idx].astype(str), "version": version[idx].astype(np.int32),
        "result": outcome.astype(str), "code": code, "reason": np.where(outcome == "rejected", "户号不存在", "").astype(str),
        "handled_at": handled_at.astype("datetime64[us]"), "received_at": received_at.astype("datetime64[us]"),
    })
    return work_orders, handling_results


def reconciliation_input(work_orders, handling_results):
    """The ledger's reconciliation input for the staged tables (reconciliation_of_versions.sql, everything known)."""
    import pandas as pd

    orders = work_orders.to_pandas()
    results = handling_results.to_pandas()
    final = results[results["result"] != "received"].sort_values("received_at").drop_duplicates(KEY, keep="last")
    final = final.rename(columns={"code": "result_code", "reason": "result_reason"}).drop(columns="received_at")
    out = orders.merge(final, on=KEY, how="left")
    out["result_after_cancel"] = ((out["order_status"] == "cancelled") & out["result"].notna()).astype(int)
    out.loc[out["order_status"] == "cancelled", ["result", "result_code", "result_reason", "handled_at"]] = None
    out["handled_at"] = pd.to_datetime(out["handled_at"])
    return out


def stage(path: Path, orders: int) -> None:
    import pyarrow.parquet as pq

    path.mkdir()
    work_orders, handling_results = generate(orders)
    pq.write_table(work_orders, path / "work_orders.parquet")
    pq.write_table(handling_results, path / "results.parquet")
    reconciliation_input(work_orders, handling_results).to_parquet(path / "input.parquet", index=False)


def _ledger(frame):
    """A stand-in for the Ledger whose reconciliation input is `frame`, in parts (all reconcile_now asks of it)."""
    def parts(known_by, rows):  # as the ledger reads it: a part at a time (copies, as a driver's rows would be)
        for start in range(0, max(len(frame), 1), rows):
            yield frame.iloc[start:start + rows].reset_index(drop=True).copy()

    return SimpleNamespace(frame=frame, cohandling=SimpleNamespace(reconciliation_input_parts=parts))


def measure(path: Path) -> None:
    """Child process: reconcile_now on the staged input, then the pyarrow join; prints its numbers."""
    import pandas as pd
    import pyarrow.parquet as pq

    from jobs.cohandling.collect_results import reconcile_now

    stub = _ledger(pd.read_parquet(path / "input.parquet"))
    reconcile_now(_ledger(stub.frame.head(1000)), as_of=AS_OF)  # warm-up
    walls = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        statuses = reconcile_now(stub, as_of=AS_OF)
        walls.append(time.perf_counter() - t)
        counts = statuses["status"].value_counts().to_dict()
        del statuses
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del stub

    work_orders = pq.read_table(path / "work_orders.parquet")
    results = pq.read_table(path / "results.parquet")
    work_orders.slice(0, 1000).join(results.slice(0, 1000), keys=KEY, join_type="left outer")  # warm-up
    join_walls = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        joined = work_orders.join(results, keys=KEY, join_type="left outer")
        join_walls.append(time.perf_counter() - t)
        joined_rows = joined.num_rows
        del joined
    print(f"reconcile_now runs (s): {[round(w, 3) for w in walls]}; pyarrow join runs (s): {[round(w, 3) for w in join_walls]}", file=sys.stderr)
    wall, join_wall = min(walls), min(join_walls)
    print(json.dumps({"work_orders": work_orders.num_rows, "results": results.num_rows, "joined_rows": joined_rows, "wall_s": wall,
                      "join_wall_s": join_wall, "statuses": counts, "peak_rss_mb": peak}))


def main() -> None:
    m = measured(__file__, stage, file_name="reconcile", size_env="BENCH_ORDERS", default_size=2_000_000)
    print(f"statuses: {m['statuses']}; the join gave {m['joined_rows']} rows", file=sys.stderr)
    print(json.dumps({
        "work_orders": m["work_orders"],
        "results": m["results"],
        "wall_s": round(m["wall_s"], 3),
        "join_wall_s": round(m["join_wall_s"], 3),
        "ratio_vs_join": round(m["wall_s"] / m["join_wall_s"], 2),
        "peak_rss_mb": round(m["peak_rss_mb"], 1),
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]))
    else:
        main()
