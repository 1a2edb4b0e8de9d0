"""Benchmark: the daily pipeline end to end at several sizes on PostgreSQL (issue 18, item 2).

For each size N of BENCH_SCALE_SIZES (default "10000,100000,1000000"), on fresh databases of its own on the server of
BENCH_PG_URL (default the local `test` database's server): `<BENCH_SCALE_DB>_src` (the platform's exchange table) and
`<BENCH_SCALE_DB>_ledger` (the gateway's ledger); BENCH_SCALE_DB defaults to `gateway_bench_scale`. Both are dropped
at the end unless BENCH_KEEP=1.

Staged, not measured: N synthetic records (5 % labelled defects, DBSJ over the last 30 days) written into the exchange
table by the platform simulator (`python -m simulators.platform`, COPY on PostgreSQL); the ledger migrated and the
counties' sample Annex 2 / Annex 3 forms (forms/samples) loaded, as `make run` does.

Measured, each stage in a fresh interpreter (its wall time and its own peak RSS, `ru_maxrss` of that process; the
PostgreSQL server's memory is not in it), each calling the code the DAG tasks call:

- extract   — jobs/cohandling/extract_records.extract_changes (cohandling_daily.extract);
- validate  — jobs/cohandling/validate_records.validate_run, with the Great Expectations suite and its Data Docs
              (cohandling_daily.validate);
- route     — jobs/cohandling/route_records.route_run (cohandling_daily.route);
- deliver   — jobs/cohandling/deliver_orders.deliver_run to the in-memory channels of connectors/testing.py: a
              local-folder SFTP drop (`LocalDrops`: batches rendered, signed, written and renamed as on the drop host)
              and in-memory receivers (`FakeReceiver`) for the county systems and the grid (cohandling_daily.deliver);
- results   — jobs/cohandling/collect_results.collect_results over the drops and every feed (cohandling_results'
              three collect tasks in one call), run again until a run finds nothing new: a run reads at most 50 pages
              of 500 entries per feed (the protocol's page limit; connectors/http_receiver.py), so the grid's feed
              needs several runs at 100,000 records and more — as the hourly DAG would take them;
- reconcile — jobs/cohandling/collect_results.reconcile_now (what every report and the console's board start from)
              and record_balance, 20 days on.

Between deliver and results, staged and timed apart (`answer`, not in the totals): the institutions answer with the
simulator's mix (simulators/institutions.py: one result file per drop, uploaded with its completion marker) and the
receivers publish a result for most of what they hold (done, some rejected, some silent). The in-memory receivers are
kept from deliver to answer in a pickle in the work folder (written after the stage's clock stopped); what each
publishes is then written to the work folder, one JSON line an entry (`feeds/<receiver>.jsonl`), and the results
stage reads each feed from there a page at a time (`FeedOnDisk`, the receiver's paging): the feeds are the other
side's store, and a million work orders' worth of them held in the results stage's process was most of its memory.

Statistics and dead rows: this CI server runs with autovacuum off (conf.d/90-ci.conf); a production server has it on.
The bench does autovacuum's work (`analyze`: its default rules — vacuum on dead or inserted rows, analyze on rows
changed since a table's last analyze) before each stage (untimed) and, while the stages run, every BENCH_SCALE_NAPTIME
seconds (default 10) in a thread of its own (`Autovacuum`). Without the analyzing, a ledger whose statistics lag its
size gets plans that grow with the square of it: at 10,000 records reconcile's input took 31 s instead of 1 s, and the
results stage's first (whole) refresh of the console's read model 136 s instead of 2 s when `handling_result` had been
analyzed while empty. Without the vacuuming, tables rewritten run after run (the read model) carry every dead row
(docs/benchmarks.md). BENCH_SCALE_ANALYZE=0 leaves both alone.

Every stage's counts are checked against the one before — records extracted = validated = passed + partial +
quarantined + withdrawn; records routed = records in force (one per ROWGUID); records work-ordered = records with
work orders; every ready work order delivered, nothing pending; results collected = results published, no exceptions;
one status per work order in force — and the bench exits non-zero if any does not hold. The last line printed is a JSON object: sizes, stages (per stage, per size: wall_s, peak_rss_mb),
total_wall_s (per size, the six stages), growth (per stage and total: wall at the largest size / wall at the smallest),
growth_100x (total wall at 1,000,000 / at 10,000; null when either was not run), peak_rss_mb_1m (the largest stage
peak at 1,000,000; null when not run), counts (per size). Targets: growth_100x <= 110 (linear), peak RSS < 2 GB.

Knobs for looking closer: BENCH_SCALE_PROFILE=deliver,results (cProfile those stages into <work>/<stage>.prof),
BENCH_SCALE_WORK=<dir> with BENCH_KEEP=1 (keep the work folder — drops, receivers, feeds — and the databases).
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.testing import FakeReceiver  # noqa: E402 - after the path

STAGES = ("extract", "validate", "route", "deliver", "results", "reconcile")
RUN_ID = "scale"
LATER_DAYS = 20  # results collected and reconciled this many days after delivery (some work orders are then overdue)
FEED_MIX = {"0000": 0.8, "0002": 0.05, "silent": 0.15}  # what the in-memory receivers publish for what they hold


def pg_url() -> str:
    return os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def db_urls(prefix: str) -> tuple[str, str]:
    """(exchange database URL, ledger database URL) on BENCH_PG_URL's server."""
    base = pg_url().rpartition("/")[0]
    return f"{base}/{prefix}_src", f"{base}/{prefix}_ledger"


def _admin(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(pg_url(), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def reset_databases(prefix: str) -> None:
    _admin([f'DROP DATABASE IF EXISTS "{prefix}_{kind}" WITH (FORCE)' for kind in ("src", "ledger")]
           + [f'CREATE DATABASE "{prefix}_{kind}"' for kind in ("src", "ledger")])


def analyze(url: str) -> list[str]:
    """What autovacuum would have done by now on a server where it is on (this one's is off: conf.d/90-ci.conf), by its
    rules with PostgreSQL's defaults: VACUUM every table with more dead rows than autovacuum_vacuum_threshold 50 +
    autovacuum_vacuum_scale_factor 0.2 × its rows, or more rows inserted since its last vacuum than
    autovacuum_vacuum_insert_threshold 1000 + autovacuum_vacuum_insert_scale_factor 0.2 × its rows; ANALYZE every table
    with more rows changed since its last analyze than autovacuum_analyze_threshold 50 + autovacuum_analyze_scale_factor
    0.1 × its rows. A table never changed (an empty one) is left alone, as autovacuum leaves it: the planner then sizes
    it from its pages. Returns the tables analyzed (those vacuumed are not counted). Without the vacuuming, the console's
    read model (`order_status`, rewritten by each whole refresh) reached 12 million dead rows beside 2.4 million live
    ones at 1,000,000 records, and each refresh's COPY slowed with it."""
    import psycopg

    reltuples = "GREATEST(c.reltuples, 0)"
    vacuum_rule = f"""SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                      WHERE s.n_dead_tup > 50 + 0.2 * {reltuples} OR s.n_ins_since_vacuum > 1000 + 0.2 * {reltuples} ORDER BY s.relname"""
    analyze_rule = f"""SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                       WHERE s.n_mod_since_analyze > 50 + 0.1 * {reltuples} ORDER BY s.relname"""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in [r[0] for r in conn.execute(vacuum_rule)]:
            conn.execute(f'VACUUM "{table}"')
        tables = [r[0] for r in conn.execute(analyze_rule)]
        for table in tables:
            conn.execute(f'ANALYZE "{table}"')
    return tables


class Autovacuum:
    """`analyze(url)` every `naptime` seconds in a thread while the stages run: autovacuum's vacuuming and analyzing as a
    server with it on does them (PostgreSQL's default naptime is 60 s; 10 s here, a setting a ledger's server can take)."""

    def __init__(self, url: str, naptime: float, *, on: bool = True) -> None:
        import threading

        self.url, self.naptime, self.on, self.passes = url, naptime, on, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.naptime):
            analyze(self.url)
            self.passes += 1

    def __enter__(self) -> Autovacuum:
        if self.on:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.on:
            self._thread.join()


def drop_databases(prefix: str) -> None:
    _admin([f'DROP DATABASE IF EXISTS "{prefix}_{kind}" WITH (FORCE)' for kind in ("src", "ledger")])


# ---------------------------------------------------------------------------------------------------------------- stages
# Each runs in its own interpreter (`--phase <name> <work dir>`); the work folder's settings.json says where the
# databases are and what the run's clock is. Each returns its counts; the caller adds wall_s and peak_rss_mb.

def _settings(work: Path) -> dict:
    return json.loads((work / "settings.json").read_text(encoding="utf-8"))


def _ledger(work: Path):
    from connectors.ledger import Ledger

    return Ledger(_settings(work)["ledger_url"])


def _as_of(work: Path, *, later: bool = False):
    from datetime import datetime

    at = datetime.fromisoformat(_settings(work)["as_of"])
    return at + timedelta(days=LATER_DAYS) if later else at


class SlimReceiver(FakeReceiver):
    """connectors/testing.py's in-memory receiver keeping of each item only its key (ROWGUID, utility, version): it is
    the other side, whose memory is not the gateway's — a real receiver is another system —, and the full items of a
    million work orders it would hold (every record as sent, and every batch it got) were most of the deliver and results
    stages' peak RSS. (A class of this module's: the receivers are pickled from stage to stage.)"""

    def _answer(self, items, batch_id, judge):
        out = super()._answer(items, batch_id, judge)
        self.received.clear()
        return out

    def _accept(self, item):
        answer = super()._accept(item)
        held = self.held.get(item["idempotency_key"])
        if held is not None and held["item"] is item:
            held["item"] = {k: item.get(k) for k in ("rowguid", "utility", "version")}
        return answer


class FeedOnDisk:
    """A receiver's results feed as the results stage polls it: the entries `answer` published, one JSON line each in
    `<name>.jsonl` with their offsets in `<name>.idx`, served page by page after a cursor (the last seq read) exactly as
    `FakeReceiver.feed_pages` serves them from memory — entries as received, `page_size` a page, at most `max_pages`."""

    def __init__(self, path: Path, page_size: int) -> None:
        from array import array

        self.path, self.page_size = path, page_size
        self.offsets = array("q")
        self.offsets.frombytes(path.with_suffix(".idx").read_bytes())

    @staticmethod
    def write(receiver: FakeReceiver, path: Path) -> None:
        from array import array

        offsets = array("q")
        with path.open("wb") as out:
            for entry in receiver.feed:
                offsets.append(out.tell())
                out.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
        path.with_suffix(".idx").write_bytes(offsets.tobytes())

    def feed_pages(self, after: str | None, *, limit: int = 500, max_pages: int = 50):
        from connectors.delivery import FeedPage

        start, size = int(after or 0), min(limit, self.page_size)  # seq k is line k (seqs run from 1)
        with self.path.open("rb") as feed:
            if start < len(self.offsets):
                feed.seek(self.offsets[start])
            for number in range(1, max_pages + 1):
                entries = [json.loads(line) for line in (feed.readline() for _ in range(min(size, len(self.offsets) - start))) if line]
                start += len(entries)
                cursor = str(entries[-1]["seq"]) if entries else after
                yield FeedPage(after=after, entries=entries, next=cursor, more=start < len(self.offsets), number=number)
                after = cursor
                if start >= len(self.offsets):
                    return


def _receivers(work: Path) -> dict:
    path = work / "receivers.pkl"
    return pickle.loads(path.read_bytes()) if path.exists() else {}


def _keep_receivers(work: Path, made: dict) -> None:
    (work / "receivers.pkl").write_bytes(pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL))


def prepare(work: Path) -> dict:
    """Staging: the ledger's schema and the counties' sample forms (as `make run` loads them before its first run)."""
    from jobs.registry.form_intake import load_form

    ledger = _ledger(work)
    ledger.migrate()
    forms = sorted(p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file())
    for form in forms:
        load_form(ledger, form, now=_as_of(work) - timedelta(days=365))
    ledger.dispose()
    return {"forms": len(forms)}


def extract(work: Path) -> dict:
    from connectors.exchange_db import RecordSource
    from jobs.cohandling.extract_records import extract_changes

    ledger = _ledger(work)
    result = extract_changes(RecordSource(_settings(work)["src_url"]), ledger, run_id=RUN_ID)
    return {"rows_read": result.rows_read, "rows_new": result.rows_new, "rows_dead_lettered": result.rows_dead_lettered}


def validate(work: Path) -> dict:
    from jobs.cohandling.validate_records import validate_run
    from jobs.registry.form_intake import current_registry

    ledger, as_of = _ledger(work), _as_of(work)
    result = validate_run(ledger, run_id=RUN_ID, as_of=as_of, registry=current_registry(ledger, as_of), out_dir=work / "out")
    return {k: getattr(result, k) for k in ("records_in", "passed", "partial", "quarantined", "withdrawn")}


def route(work: Path) -> dict:
    from jobs.cohandling.route_records import route_run

    result = route_run(_ledger(work), run_id=RUN_ID, as_of=_as_of(work))
    return {"records": result.records, "work_orders": result.work_orders_written, "by_status": result.by_status, "by_channel": result.by_channel}


def deliver(work: Path) -> dict:
    from connectors.signed_http import MAX_RESULTS_LIMIT
    from connectors.testing import LocalDrops
    from jobs.cohandling.deliver_orders import deliver_run

    made: dict = {}

    def receiver_for(channel: str, destination: str):
        if destination not in made:
            made[destination] = SlimReceiver(destination, page_size=MAX_RESULTS_LIMIT)
        return made[destination]

    ledger = _ledger(work)
    result = deliver_run(ledger, run_id=RUN_ID, day=_as_of(work), drops=LocalDrops(work / "drops"), receiver_for=receiver_for)
    counts = {"planned": result.planned, "account_batches": result.account_batches, "account_delivered": result.account_delivered,
              "account_pending": result.account_pending + result.account_failed, "http_delivered": result.http_delivered,
              "http_rejected": result.http_rejected, "http_pending": result.http_pending, "errors": len(result.errors),
              "receivers": len(made)}
    counts["_after"] = lambda: _keep_receivers(work, made)  # after the clock stopped
    return counts


def answer(work: Path) -> dict:
    """Staging (the other side, not the gateway): institutions upload result files, receivers publish results."""
    import random

    from connectors.testing import LocalDrops
    from simulators.institutions import answers, completion_marker

    ledger, made, as_of = _ledger(work), _receivers(work), _as_of(work)
    versions = ledger.cohandling.delivered_versions()
    accounts = versions[versions["channel"] == "account"].to_dict("records")
    files, _ = answers(accounts, seed=18, delivered_on=as_of, late_days=9)
    drops, uploaded_at = LocalDrops(work / "drops"), time.time() - 3600
    file_rows = 0
    for drop, (name, data) in files.items():
        drops.put_result(drop, name, data, mtime=uploaded_at)
        drops.put_result(drop, *completion_marker(name, data), mtime=uploaded_at)
        file_rows += data.count(b"\n") - 1
    rng = random.Random(18)
    kinds, weights = zip(*FEED_MIX.items())
    published = 0
    for receiver in made.values():
        for key in list(receiver.held):
            kind = rng.choices(kinds, weights)[0]
            if kind == "silent":
                continue
            handled = as_of + timedelta(days=rng.randint(0, 8), hours=rng.randint(1, 8))
            receiver.publish_result(key, code=kind, handled_at=handled.strftime("%Y-%m-%dT%H:%M:%S"), reason="户号不存在" if kind != "0000" else None)
            published += 1
    (work / "feeds").mkdir(exist_ok=True)
    for name, receiver in made.items():
        FeedOnDisk.write(receiver, work / "feeds" / f"{name}.jsonl")
    return {"files": len(files), "file_rows": file_rows, "feed_entries": published, "published": file_rows + published}


def results(work: Path) -> dict:
    from connectors.signed_http import MAX_RESULTS_LIMIT
    from connectors.testing import LocalDrops
    from jobs.cohandling.collect_results import collect_results

    ledger = _ledger(work)
    feeds = {"feed:grid" if path.stem == "grid" else f"feed:county/{path.stem.removeprefix('county_system_')}": FeedOnDisk(path, MAX_RESULTS_LIMIT)
             for path in sorted((work / "feeds").glob("*.jsonl"))}
    total = {"runs": 0, "files": 0, "files_refused": 0, "results": 0, "exceptions": 0, "dead_letters": 0, "notifications": 0, "errors": 0}
    while True:
        out = collect_results(ledger, as_of=_as_of(work, later=True), drops=LocalDrops(work / "drops"), feeds=feeds, run_id=f"{RUN_ID}-{total['runs']}")
        total["runs"] += 1
        for key in ("files", "files_refused", "results", "exceptions", "dead_letters", "notifications"):
            total[key] += getattr(out, key)
        total["errors"] += len(out.errors)
        if out.files + out.results + out.exceptions + out.dead_letters == 0 or out.errors:
            return total


def reconcile(work: Path) -> dict:
    from jobs.cohandling.collect_results import reconcile_now, record_balance

    ledger = _ledger(work)
    statuses = reconcile_now(ledger, as_of=_as_of(work, later=True))
    balance = record_balance(ledger)
    return {"work_orders": len(statuses), "statuses": {str(k): int(v) for k, v in statuses["status"].value_counts().items()}, "records": balance}


PHASES = {f.__name__: f for f in (prepare, extract, validate, route, deliver, answer, results, reconcile)}


def phase(name: str, work: Path) -> None:
    """Child process: one stage, timed; prints its counts, wall_s and peak_rss_mb as the last line."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    profile = None
    if name in os.environ.get("BENCH_SCALE_PROFILE", "").split(","):  # cProfile a stage: <work dir>/<stage>.prof
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    started = time.perf_counter()
    counts = PHASES[name](work)
    wall = time.perf_counter() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(str(work.parent / f"{name}.prof"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    after = counts.pop("_after", None)
    if after is not None:
        after()
    print(json.dumps({**counts, "wall_s": wall, "peak_rss_mb": peak}, ensure_ascii=False))


# ------------------------------------------------------------------------------------------------------------------ core

def _child(name: str, work: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--phase", name, str(work)], check=True, env=env, cwd=ROOT,
                         stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_accounts(size: int, m: dict) -> list[str]:
    """Every stage accounted for every record (module docstring); the problems, empty when all hold."""
    e, v, r, d, a, c, z = (m[k] for k in ("extract", "validate", "route", "deliver", "answer", "results", "reconcile"))
    problems = []

    def want(what: str, got, expected) -> None:
        if got != expected:
            problems.append(f"{size}: {what}: {got} != {expected}")

    want("rows read = rows generated", e["rows_read"], size)
    want("rows read = new + dead-lettered", e["rows_new"] + e["rows_dead_lettered"], e["rows_read"])
    want("validated = extracted", v["records_in"], e["rows_new"])
    want("validated = passed + partial + quarantined + withdrawn", v["passed"] + v["partial"] + v["quarantined"] + v["withdrawn"], v["records_in"])
    want("routed = records in force (one per ROWGUID)", r["records"], z["records"]["received"])
    ready = r["by_status"].get("ready", 0)
    want("delivered = ready work orders", d["planned"], ready)
    want("nothing left pending or failed", (d["account_pending"], d["http_pending"], d["errors"]), (0, 0, 0))
    want("results collected = published", c["results"], a["published"])
    want("no exception, dead letter or error collecting", (c["exceptions"], c["dead_letters"], c["errors"], c["files_refused"]), (0, 0, 0, 0))
    want("one status per work order", z["work_orders"], r["work_orders"])
    want("records with work orders = work-ordered records", z["records"]["records_with_work_orders"], z["records"]["work_ordered"])
    return problems


def run_size(size: int, *, prefix: str, root: Path, env: dict, keep: bool = False) -> dict:
    """The pipeline at `size` records on fresh databases `<prefix>_src` / `<prefix>_ledger`: {stage: counts, wall_s, peak_rss_mb}."""
    from transforms.common import localtime

    src_url, ledger_url = db_urls(prefix)
    work = root / f"n{size}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    as_of = localtime.local_now().replace(microsecond=0, tzinfo=None)
    (work / "settings.json").write_text(json.dumps({"src_url": src_url, "ledger_url": ledger_url, "as_of": as_of.isoformat()}), encoding="utf-8")
    reset_databases(prefix)
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simulators.platform", "--url", src_url, "--rows", str(size), "--fresh"], check=True, env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        _child("prepare", work, env)
        print(f"{size}: staged {size} records and the forms in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        measured = {}
        analyzing = os.environ.get("BENCH_SCALE_ANALYZE", "1") != "0"
        if analyzing:
            analyze(src_url)
        with Autovacuum(ledger_url, float(os.environ.get("BENCH_SCALE_NAPTIME", "10")), on=analyzing):
            for name in ("extract", "validate", "route", "deliver", "answer", "results", "reconcile"):
                analyzed = analyze(ledger_url) if analyzing else []  # untimed: autovacuum's work between stages, where it is on
                measured[name] = _child(name, work, env)
                measured[name]["analyzed"] = len(analyzed)
                print(f"{size}: {name} {measured[name]['wall_s']:.1f}s, peak RSS {measured[name]['peak_rss_mb']:.0f} MB", file=sys.stderr)
    finally:
        if not keep:
            drop_databases(prefix)
            shutil.rmtree(work, ignore_errors=True)
    problems = check_accounts(size, measured)
    if problems:
        print(json.dumps(measured, ensure_ascii=False), file=sys.stderr)
        raise AssertionError("; ".join(problems))
    return measured


def child_env(work_root: Path) -> dict:
    """The children's environment: as the gateway runs (Makefile), with a signing key of the bench's own."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from jobs.common.signing_key import private_pem

    key = work_root / "gateway-signing.pem"
    if not key.exists():
        key.write_bytes(private_pem(Ed25519PrivateKey.generate()))
    return {"ARROW_DEFAULT_MEMORY_POOL": "system", **os.environ, "PYTHONPATH": str(ROOT), "GATEWAY_SIGNING_KEY_FILE": str(key),
            "GATEWAY_DELIVER_PENDING_HOURS": "24"}


def summary(sizes: list[int], runs: dict[int, dict]) -> dict:
    """The JSON the bench prints last (module docstring)."""
    stages = {s: {str(n): {"wall_s": round(runs[n][s]["wall_s"], 3), "peak_rss_mb": round(runs[n][s]["peak_rss_mb"], 1)} for n in sizes} for s in STAGES}
    total = {str(n): round(sum(runs[n][s]["wall_s"] for s in STAGES), 3) for n in sizes}
    low, high = str(min(sizes)), str(max(sizes))
    growth = {s: round(stages[s][high]["wall_s"] / stages[s][low]["wall_s"], 2) for s in STAGES}
    growth["total"] = round(total[high] / total[low], 2)
    one_m = "1000000" in total
    return {
        "sizes": sizes,
        "stages": stages,
        "answer_wall_s": {str(n): round(runs[n]["answer"]["wall_s"], 3) for n in sizes},  # the simulators' side: not in the totals
        "total_wall_s": total,
        "growth": {"from": int(low), "to": int(high), **growth},
        "growth_100x": round(total["1000000"] / total["10000"], 2) if one_m and "10000" in total else None,
        "peak_rss_mb_1m": max(stages[s]["1000000"]["peak_rss_mb"] for s in STAGES) if one_m else None,
        "counts": {str(n): {s: {k: v for k, v in runs[n][s].items() if k not in ("wall_s", "peak_rss_mb")} for s in (*STAGES[:4], "answer", *STAGES[4:])}
                   for n in sizes},
        "analyze": os.environ.get("BENCH_SCALE_ANALYZE", "1") != "0",
    }


def main() -> None:
    sizes = sorted(int(x) for x in os.environ.get("BENCH_SCALE_SIZES", "10000,100000,1000000").split(",") if x.strip())
    prefix = os.environ.get("BENCH_SCALE_DB", "gateway_bench_scale")
    keep = os.environ.get("BENCH_KEEP") == "1"
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(os.environ.get("BENCH_SCALE_WORK") or tmp)  # BENCH_KEEP=1 with BENCH_SCALE_WORK keeps the drops and receivers too
        root.mkdir(parents=True, exist_ok=True)
        env = child_env(root)
        runs = {n: run_size(n, prefix=prefix, root=root, env=env, keep=keep) for n in sizes}
    print(json.dumps(summary(sizes, runs), ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--phase":
        phase(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
