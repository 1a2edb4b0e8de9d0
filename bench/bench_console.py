"""Benchmark: the web console and the trace of a record on a ledger of BENCH_ORDERS work orders (default 5,000,000),
against a plain indexed SELECT of the same rows in the same run (issue 16, item 5).

Builds its own PostgreSQL database (BENCH_DB, default `gateway_bench_console`, on the server of BENCH_PG_URL, default
the local `test` database's), migrates it, and bulk-loads it in SQL (generate_series, INSERT … SELECT; no row by
row): BENCH_ORDERS / 2 records over the synthetic registry's 136 counties and ~585 institutions, each with a grid work
order and one for an institution of its county, delivered over the last 180 days — most done, some late, rejected,
acknowledged, open and overdue —, their deliveries, outcomes and handling results, the read model (order_status and
its counts, as jobs/cohandling/order_status.py writes them), results exceptions (one per 200 work orders) and
quarantined records (one per 100). BENCH_KEEP=1 keeps (and reuses) the database.

Then, BENCH_REPEAT times each (default 20, after 2 warm-ups): every console page through the FastAPI app in process
(home as province / city / county / institution, overdue with and without filters, county, institution, board,
quarantine, exceptions) and the trace of a record by ROWGUID and by YCYWH (jobs/common/trace.py), each beside its
reference — a plain indexed SELECT of the rows it shows. Prints a table (p50, p95, reference p50, ratio) and, last, a
JSON line; exits 1 when any page's (or trace's) p95 is over 1 s.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DB = os.environ.get("BENCH_DB", "gateway_bench_console")
LIMIT_S = 1.0
PASSWORD = "bench"


def _db_url() -> str:
    base, _, _ = PG.rpartition("/")
    return f"{base}/{DB}"


def _psycopg(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def create_database(orders: int) -> bool:
    """(Re)create the bench database; False when BENCH_KEEP=1 and it is there already, loaded whole with as many work
    orders (reused as it is)."""
    with _psycopg(PG) as conn:
        there = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone()
        if there and os.environ.get("BENCH_KEEP") == "1":
            with _psycopg(_db_url()) as bench:
                loaded = bench.execute("SELECT to_regclass('bench_loaded') IS NOT NULL").fetchone()[0]
                if loaded and bench.execute("SELECT orders FROM bench_loaded").fetchone()[0] == orders:
                    return False
        if there:
            conn.execute(f'DROP DATABASE "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    return True


def load(orders: int) -> None:
    """Migrate the bench database and fill it (module docstring)."""
    from connectors.ledger import Ledger
    from jobs.common import reference
    from simulators.registry import build_registry
    from transforms.cohandling.reconcile import GRID_NAME

    ledger = Ledger(_db_url())
    ledger.migrate()
    ledger.dispose()
    divisions = reference.divisions()
    registry = build_registry().reset_index(drop=True)
    registry = registry[registry["xzqh"].isin(divisions)]
    counties = sorted(set(registry["xzqh"]))
    inst = registry.assign(vid=range(1, len(registry) + 1))
    inst["k"] = inst.groupby("xzqh").cumcount()
    inst["cnt"] = inst.groupby("xzqh")["code"].transform("size")
    inst["destination"] = ["xb" + c.lower() if ch == "account" else f"county_system_{x}" for c, ch, x in zip(inst["code"], inst["channel"], inst["xzqh"])]
    county_rows = [(i, x, divisions[x].name, divisions[x].parent_code, divisions[divisions[x].parent_code].name) for i, x in enumerate(counties)]
    records = orders // 2
    t = time.perf_counter()
    with _psycopg(_db_url()) as conn:
        conn.execute("CREATE UNLOGGED TABLE bench_county (ci int PRIMARY KEY, xzqh text, county_name text, city_code text, city_name text)")
        conn.execute("CREATE UNLOGGED TABLE bench_inst (vid int, code text, utility text, xzqh text, name text, channel text, file_format text,"
                     " destination text, k int, cnt int)")
        with conn.cursor().copy("COPY bench_county FROM STDIN") as copy:
            for row in county_rows:
                copy.write_row(row)
        with conn.cursor().copy("COPY bench_inst FROM STDIN") as copy:
            for r in inst[["vid", "code", "utility", "xzqh", "name", "channel", "file_format", "destination", "k", "cnt"]].itertuples(index=False):
                copy.write_row(tuple(r))
        conn.execute("INSERT INTO institution (version_id, code, utility, xzqh, name, channel, file_format, drop_account, endpoint_conn_id, valid_from, form_id)"
                     " SELECT vid, code, utility, xzqh, name, channel, file_format, CASE WHEN channel = 'account' THEN destination END,"
                     " CASE WHEN channel = 'system' THEN destination END, TIMESTAMP '2020-01-01', 1 FROM bench_inst")
        conn.execute(f"""
            CREATE UNLOGGED TABLE bench_rec AS
            SELECT r, c.*, (r % 180) AS d,
                   substr(md5('r' || r), 1, 8) || '-' || substr(md5('r' || r), 9, 4) || '-4' || substr(md5('r' || r), 14, 3) || '-a'
                     || substr(md5('r' || r), 18, 3) || '-' || substr(md5('r' || r), 21, 12) AS rowguid,
                   'YC' || lpad(r::text, 10, '0') AS ycywh
            FROM generate_series(0, {records - 1}) r JOIN bench_county c ON c.ci = (r::bigint * 7919) % {len(counties)}""")
        now = datetime.utcnow().replace(microsecond=0)
        conn.execute(f"""
            CREATE UNLOGGED TABLE bench_wo AS
            SELECT b.*, u.utility, u.code, u.iname, u.channel, u.destination, u.vid,
                   TIMESTAMP '{now}' - (b.d || ' days')::interval - ((b.r % 24) || ' hours')::interval AS delivered_utc,
                   ((b.r * 31 + u.n * 17) % 100) AS h
            FROM bench_rec b
            CROSS JOIN LATERAL (
                SELECT 0 AS n, 'electricity' AS utility, NULL AS code, '{GRID_NAME}' AS iname, 'grid' AS channel, 'grid' AS destination, NULL::int AS vid
                UNION ALL
                SELECT 1, i.utility, i.code, i.name, i.channel, i.destination, i.vid FROM bench_inst i WHERE i.xzqh = b.xzqh AND i.k = b.r % i.cnt
            ) u""")
        conn.execute("""
            CREATE UNLOGGED TABLE bench_st AS
            SELECT w.*, (w.delivered_utc + INTERVAL '8 hours')::date + 7 AS due_date,
                   CASE WHEN w.d < 7 THEN CASE WHEN h < 30 THEN 'acknowledged' WHEN h < 40 THEN 'done' ELSE 'delivered' END
                        ELSE CASE WHEN h < 75 THEN 'done' WHEN h < 80 THEN 'done_late' WHEN h < 84 THEN 'rejected' WHEN h < 90 THEN 'acknowledged'
                                  ELSE 'delivered' END END AS st
            FROM bench_wo w""")
        conn.execute("""
            INSERT INTO received_record (source, change_seq, change_time, op, rowguid, ycywh, zrfxm, zrfzjhm, zrflxdh, xzqh, fwzl, bdcqzh, run_id, received_at)
            SELECT 'platform', r, TIMESTAMP '2020-01-01' + (r || ' seconds')::interval, 'I', rowguid, ycywh, '张' || (r % 997) || '明',
                   '37010219800101' || lpad((r % 10000)::text, 4, '0'), '138' || lpad((r % 100000000)::text, 8, '0'), xzqh,
                   '山东省' || county_name || '幸福路' || (r % 500) || '号', '鲁(2026)不动产权第' || r || '号', 'bench', TIMESTAMP '2020-01-01'
            FROM bench_rec""")
        conn.execute("""
            INSERT INTO record_state (rowguid, source, change_seq, op, status, blocked, run_id, updated_at, routed_seq)
            SELECT rowguid, 'platform', r, 'I', 'passed', '', 'bench', TIMESTAMP '2020-01-01', r FROM bench_rec""")
        conn.execute("""
            INSERT INTO record_verdict (source, change_seq, rowguid, run_id, status, requested, blocked, validated_at)
            SELECT 'platform', r, rowguid, 'bench', 'passed', 'electricity', '', TIMESTAMP '2020-01-01' FROM bench_rec""")
        for table in ("work_order_version", "work_order"):
            conn.execute(f"""
                INSERT INTO {table} (rowguid, utility, version, source, change_seq, correction, institution_code, institution_version_id, xzqh, channel,
                                     destination, file_format, status, run_id, routed_at)
                SELECT rowguid, utility, 1, 'platform', r, false, code, vid, xzqh, channel, destination, 'csv', 'delivered', 'bench', delivered_utc - INTERVAL '1 hour'
                FROM bench_st""")
        conn.execute("""
            INSERT INTO delivery (rowguid, utility, version, channel, destination, status, attempts, planned_run_id, delivered_at, updated_at)
            SELECT rowguid, utility, 1, channel, destination, 'delivered', 1, 'bench', delivered_utc, delivered_utc FROM bench_st""")
        handled = ("CASE WHEN st = 'done' THEN delivered_utc + INTERVAL '2 days 8 hours' WHEN st IN ('done_late', 'rejected') "
                   "THEN due_date + INTERVAL '3 days 10 hours' END")
        conn.execute(f"""
            INSERT INTO work_order_outcome (rowguid, utility, version, acknowledged_at, result, code, reason, handled_at, handler, source, updated_at)
            SELECT rowguid, utility, 1, delivered_utc + INTERVAL '1 day', CASE WHEN st IN ('done', 'done_late') THEN 'done' WHEN st = 'rejected' THEN 'rejected' END,
                   CASE WHEN st IN ('done', 'done_late') THEN '0000' WHEN st = 'rejected' THEN '0003' END, NULL, {handled}, NULL,
                   'sftp:' || destination, delivered_utc + INTERVAL '1 day'
            FROM bench_st WHERE st <> 'delivered'""")
        conn.execute(f"""
            INSERT INTO handling_result (rowguid, utility, version, source, result, code, handled_at, received_at)
            SELECT rowguid, utility, 1, 'sftp:' || destination, CASE WHEN st = 'acknowledged' THEN 'received' WHEN st = 'rejected' THEN 'rejected' ELSE 'done' END,
                   CASE WHEN st = 'acknowledged' THEN '0100' WHEN st = 'rejected' THEN '0003' ELSE '0000' END,
                   COALESCE({handled}, delivered_utc + INTERVAL '1 day 8 hours'), delivered_utc + INTERVAL '1 day'
            FROM bench_st WHERE st <> 'delivered'""")
        conn.execute(f"""
            INSERT INTO order_status (rowguid, utility, version, utility_rank, status, due_date, delivered_at, handled_at, result_code, channel, destination,
                                      institution_code, institution_name, xzqh, county_name, city_code, city_name, platform_no, refreshed_at)
            SELECT rowguid, utility, 1, CASE utility WHEN 'electricity' THEN 0 WHEN 'water' THEN 1 WHEN 'gas' THEN 2 ELSE 3 END, st, due_date, delivered_utc + INTERVAL '8 hours', {handled},
                   CASE WHEN st IN ('done', 'done_late') THEN '0000' WHEN st = 'rejected' THEN '0003' END, channel, destination,
                   code, iname, xzqh, county_name, city_code, city_name, ycywh, TIMESTAMP '{now}'
            FROM bench_st""")
        conn.execute("""
            INSERT INTO result_exception (source, row_number, rowguid, utility, reason_code, reason, value, received_at)
            SELECT 'sftp:' || destination, 1, rowguid, utility, 'RESULT_DUPLICATE', '重复的结果，已忽略', rowguid || ':' || utility || ':1',
                   delivered_utc + INTERVAL '2 days'
            FROM bench_st WHERE (r * 2 + (CASE WHEN utility = 'electricity' THEN 0 ELSE 1 END)) % 200 = 0""")
        quarantined = max(records // 100, 1)
        conn.execute(f"""
            INSERT INTO received_record (source, change_seq, change_time, op, rowguid, ycywh, zrfxm, zrfzjhm, xzqh, run_id, received_at)
            SELECT 'platform', {records} + q, TIMESTAMP '2020-01-01', 'I', md5('q' || q), 'YQ' || lpad(q::text, 10, '0'), '李' || (q % 97),
                   '3701021980010' || lpad((q % 100000)::text, 5, '0'), c.xzqh, 'bench', TIMESTAMP '2020-01-01'
            FROM generate_series(0, {quarantined - 1}) q JOIN bench_county c ON c.ci = q % {len(counties)}""")
        conn.execute(f"""
            INSERT INTO record_verdict (source, change_seq, rowguid, run_id, status, requested, blocked, validated_at)
            SELECT 'platform', {records} + q, md5('q' || q), 'bench', 'quarantined', 'electricity', 'electricity', TIMESTAMP '2020-01-01' + (q || ' seconds')::interval
            FROM generate_series(0, {quarantined - 1}) q""")
        conn.execute(f"""
            INSERT INTO rule_failure (source, change_seq, rule_id, field, utility, severity, value, message_zh, message_en, run_id)
            SELECT 'platform', {records} + q, 'R010', 'ZRFZJHM', '', 'error', '3701021980010' || lpad((q % 100000)::text, 5, '0'),
                   '证件号码校验位错误', 'ID number check digit wrong', 'bench'
            FROM generate_series(0, {quarantined - 1}) q""")
        from connectors import sqlfiles
        from connectors.ledger.console_store import PAST

        count = sqlfiles.load("ledger/cohandling/console_count_all").replace(":cutoff", f"DATE '{(now + timedelta(hours=8)).date()}'")
        conn.execute(count.replace(":past", f"DATE '{PAST}'"))  # the counts as jobs/cohandling/order_status.py writes them
        for table in ("bench_st", "bench_wo", "bench_rec"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("VACUUM ANALYZE")
        conn.execute(f"CREATE TABLE bench_loaded AS SELECT {orders} AS orders")
    print(f"loaded {orders} work orders in {time.perf_counter() - t:.1f}s", file=sys.stderr)


def _pick(conn) -> dict:
    """The users and keys measured: the busiest city, county and account-mode institution, a record."""
    county, city = conn.execute("SELECT xzqh, city_code FROM order_status_count GROUP BY xzqh, city_code ORDER BY SUM(n) DESC LIMIT 1").fetchone()
    institution = conn.execute("SELECT institution_code FROM order_status_count WHERE channel = 'account' GROUP BY institution_code"
                               " ORDER BY SUM(n) DESC LIMIT 1").fetchone()[0]
    rowguid, ycywh = conn.execute("SELECT rowguid, ycywh FROM received_record WHERE change_seq = 12345 % (SELECT COUNT(*) FROM record_state)").fetchone()
    return {"city": city, "county": county, "institution": institution, "rowguid": rowguid, "ycywh": ycywh}


def _timed(fn, repeat: int) -> list[float]:
    for _ in range(2):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def measure(repeat: int) -> list[dict]:
    from fastapi.testclient import TestClient

    from connectors.ledger import Ledger
    from console.app import create_app
    from console.auth import FormSignIn
    from console.scopes import Scope
    from jobs.common.trace import trace

    ledger = Ledger(_db_url())
    conn = _psycopg(_db_url())
    ids = _pick(conn)
    today = (datetime.utcnow() + timedelta(hours=8)).date()
    users = {"province": Scope("province", "province", password=PASSWORD), "city": Scope("city", "city", ids["city"], password=PASSWORD),
             "county": Scope("county", "county", ids["county"], password=PASSWORD),
             "institution": Scope("institution", "institution", ids["institution"], password=PASSWORD)}
    app = create_app(ledger, signin=FormSignIn("bench-secret"), users=users, files={})
    clients = {}
    for user in users:
        client = TestClient(app)
        r = client.post("/login", data={"user": user, "password": PASSWORD, "next": "/"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        clients[user] = client

    def get(user: str, path: str):
        def go():
            r = clients[user].get(path)
            assert r.status_code == 200, (path, r.status_code)
        return go

    def sql(query: str, *params):
        return lambda: conn.execute(query, params).fetchall()

    listed = "SELECT * FROM order_status WHERE {} LIMIT 500"
    overdue = "status IN ('delivered', 'acknowledged') AND due_date < %s"
    cases = [
        ("home province", get("province", "/"), sql("SELECT * FROM order_status_count")),
        ("home city", get("city", "/"), sql("SELECT * FROM order_status_count WHERE city_code = %s", ids["city"])),
        ("home county", get("county", "/"), sql("SELECT * FROM order_status_count WHERE xzqh = %s", ids["county"])),
        ("home institution", get("institution", "/"), sql("SELECT * FROM order_status_count WHERE institution_code = %s", ids["institution"])),
        ("overdue province", get("province", "/overdue"), sql(listed.format(overdue), today)),
        ("overdue province county=", get("province", f"/overdue?county={ids['county']}"), sql(listed.format(f"xzqh = %s AND {overdue}"), ids["county"], today)),
        ("overdue city utility=water", get("city", "/overdue?utility=water"),
         sql(listed.format(f"city_code = %s AND utility = 'water' AND {overdue}"), ids["city"], today)),
        ("county page", get("county", f"/counties/{ids['county']}"), sql("SELECT * FROM order_status_count WHERE xzqh = %s", ids["county"])),
        ("institution page", get("province", f"/institutions/{ids['institution']}"),
         sql("SELECT * FROM order_status_count WHERE institution_code = %s", ids["institution"])),
        ("board", get("institution", "/board"), sql(listed.format("institution_code = %s"), ids["institution"])),
        ("quarantine province", get("province", "/quarantine"), sql("SELECT * FROM record_verdict WHERE status = 'quarantined' LIMIT 500")),
        ("quarantine county", get("county", "/quarantine"), sql("SELECT * FROM received_record WHERE xzqh = %s LIMIT 500", ids["county"])),
        ("exceptions province", get("province", "/exceptions"), sql("SELECT * FROM result_exception ORDER BY received_at DESC LIMIT 500")),
        ("exceptions county", get("county", "/exceptions"), sql("SELECT * FROM result_exception ORDER BY received_at DESC LIMIT 500")),
        ("exceptions institution", get("institution", "/exceptions"), sql("SELECT * FROM result_exception ORDER BY received_at DESC LIMIT 500")),
        ("trace ROWGUID", lambda: trace(ledger, ids["rowguid"]), sql("SELECT * FROM received_record WHERE rowguid = %s", ids["rowguid"])),
        ("trace YCYWH", lambda: trace(ledger, ids["ycywh"]), sql("SELECT * FROM received_record WHERE ycywh = %s", ids["ycywh"])),
    ]
    out = []
    for name, page, reference in cases:
        times, refs = _timed(page, repeat), _timed(reference, repeat)
        out.append({"case": name, "p50_ms": _p(times, 50) * 1000, "p95_ms": _p(times, 95) * 1000, "ref_p50_ms": _p(refs, 50) * 1000,
                    "ref_p95_ms": _p(refs, 95) * 1000})
        print(f"  {name}: p50 {out[-1]['p50_ms']:.0f} ms, p95 {out[-1]['p95_ms']:.0f} ms", file=sys.stderr, flush=True)
    conn.close()
    ledger.dispose()
    return out


def main() -> int:
    orders = int(os.environ.get("BENCH_ORDERS", "5000000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "20"))
    if create_database(orders):
        load(orders)
    rows = measure(repeat)
    print(f"{'case':32} {'p50 ms':>9} {'p95 ms':>9} {'ref p50 ms':>11} {'ratio p50':>10}")
    for r in rows:
        r["ratio"] = r["p50_ms"] / max(r["ref_p50_ms"], 1e-3)
        print(f"{r['case']:32} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} {r['ref_p50_ms']:11.2f} {r['ratio']:10.1f}")
    slow = [r["case"] for r in rows if r["p95_ms"] > LIMIT_S * 1000]
    print(json.dumps({"orders": orders, "repeat": repeat, "worst_p95_ms": round(max(r["p95_ms"] for r in rows), 1), "over_1s": slow,
                      "cases": {r["case"]: {k: round(r[k], 2) for k in ("p50_ms", "p95_ms", "ref_p50_ms", "ratio")} for r in rows}}, ensure_ascii=False))
    if os.environ.get("BENCH_KEEP") != "1":
        with _psycopg(PG) as conn:
            conn.execute(f'DROP DATABASE "{DB}" WITH (FORCE)')
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
