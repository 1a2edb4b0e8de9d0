"""`make bench-scale`'s core at a tiny size on PostgreSQL (issue 18, item 2): the pipeline runs end to end through the
real stage code, every stage accounts for every record, and the JSON it prints has the fields the README quotes — so the
benchmark cannot rot silently between the runs that measure it."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))

import bench_scale  # noqa: E402

SIZE = 200


@pytest.fixture
def scale_run(pg_server, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_PG_URL", pg_server)
    prefix = f"gateway_bench_scale_t{uuid.uuid4().hex[:8]}"
    try:
        yield bench_scale.run_size(SIZE, prefix=prefix, root=tmp_path, env=bench_scale.child_env(tmp_path))
    finally:
        bench_scale.drop_databases(prefix)


def test_every_stage_accounts_for_every_record_and_the_json_has_its_fields(scale_run):
    m = scale_run
    assert bench_scale.check_accounts(SIZE, m) == []
    e, v, r, d, a, c, z = (m[k] for k in ("extract", "validate", "route", "deliver", "answer", "results", "reconcile"))
    assert e["rows_new"] == SIZE
    assert v["records_in"] == SIZE == v["passed"] + v["partial"] + v["quarantined"] + v["withdrawn"]
    assert v["quarantined"] > 0 and v["passed"] > 0  # the simulator's labelled defects were caught, the rest went on
    assert r["records"] == z["records"]["received"] and r["work_orders"] == z["work_orders"] == sum(r["by_status"].values())
    assert d["planned"] == r["by_status"]["ready"] and d["account_delivered"] == d["account_batches"] > 0 and d["http_delivered"] > 0
    assert c["results"] == a["published"] == a["file_rows"] + a["feed_entries"] > 0 and c["files"] == a["files"]
    assert sum(z["statuses"].values()) == z["work_orders"] and {"done", "rejected"} <= set(z["statuses"])
    for stage in (*bench_scale.STAGES, "answer"):
        assert m[stage]["wall_s"] > 0 and 50 < m[stage]["peak_rss_mb"] < 2000, stage

    out = json.loads(json.dumps(bench_scale.summary([SIZE], {SIZE: m})))
    assert set(out) >= {"sizes", "stages", "total_wall_s", "growth", "growth_100x", "peak_rss_mb_1m", "counts"}
    assert set(out["stages"]) == set(bench_scale.STAGES)
    assert out["total_wall_s"][str(SIZE)] == pytest.approx(sum(m[s]["wall_s"] for s in bench_scale.STAGES), abs=0.01)
    assert out["growth_100x"] is None and out["peak_rss_mb_1m"] is None  # neither 10k nor 1M was run


def test_a_stage_that_loses_records_is_named():
    def stage(**counts):
        return {**counts, "wall_s": 1.0, "peak_rss_mb": 100.0}

    good = {
        "extract": stage(rows_read=10, rows_new=10, rows_dead_lettered=0),
        "validate": stage(records_in=10, passed=8, partial=1, quarantined=1, withdrawn=0),
        "route": stage(records=10, work_orders=20, by_status={"ready": 19, "held": 1}),
        "deliver": stage(planned=19, account_pending=0, http_pending=0, errors=0),
        "answer": stage(published=15),
        "results": stage(results=15, exceptions=0, dead_letters=0, errors=0, files_refused=0),
        "reconcile": stage(work_orders=20, records={"received": 10, "work_ordered": 9, "records_with_work_orders": 9}),
    }
    assert bench_scale.check_accounts(10, good) == []
    lost = {**good, "results": stage(results=14, exceptions=0, dead_letters=0, errors=0, files_refused=0)}
    assert bench_scale.check_accounts(10, lost) == ["10: results collected = published: 14 != 15"]


def test_growth_is_the_total_at_1m_over_the_total_at_10k():
    runs = {n: {s: {"wall_s": n / 10_000 * (i + 1), "peak_rss_mb": 100.0 + n / 10_000} for i, s in enumerate((*bench_scale.STAGES, "answer"))}
            for n in (10_000, 100_000, 1_000_000)}
    out = bench_scale.summary([10_000, 100_000, 1_000_000], runs)
    assert out["growth_100x"] == 100.0 and out["growth"]["extract"] == 100.0 and out["growth"]["total"] == 100.0
    assert out["peak_rss_mb_1m"] == 200.0
    assert out["answer_wall_s"]["10000"] == 7.0 and out["total_wall_s"]["10000"] == 21.0  # the simulators' side is not in the total


@pytest.mark.parametrize("published", [0, 1, 7, 12, 23])
def test_a_feed_read_from_disk_pages_as_the_receiver_does(tmp_path, published):
    """The results stage reads the receivers' feeds from the work folder (`FeedOnDisk`): from every cursor, with any
    page size and page cap, the same pages — entries, cursors, `more` — as the in-memory receiver serves."""
    from connectors.http_receiver import make_item
    from connectors.testing import FakeReceiver

    receiver = FakeReceiver("grid", page_size=5)
    for i in range(published):
        item = make_item(rowguid=f"r{i:03d}", utility="electricity", version=1, correction=False, record={})
        receiver.deliver([item])
        receiver.publish_result(item["idempotency_key"], code="0002" if i % 4 == 0 else "0000", handled_at="2026-12-01T10:00:00", reason="户号不存在" if i % 4 == 0 else None)
    bench_scale.FeedOnDisk.write(receiver, tmp_path / "grid.jsonl")
    disk = bench_scale.FeedOnDisk(tmp_path / "grid.jsonl", page_size=5)
    for after in [None, *map(str, range(published + 1))]:
        for limit, max_pages in ((500, 50), (3, 2), (5, 1)):
            assert list(disk.feed_pages(after, limit=limit, max_pages=max_pages)) == list(receiver.feed_pages(after, limit=limit, max_pages=max_pages))
