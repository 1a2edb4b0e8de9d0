"""Hostile exchange rows on SQLite and PostgreSQL: one bad row never stops extract, validate or route.

Clean synthetic records (simulators/platform.py) are written with hostile rows mixed in — every
kind of tests/hostile.KINDS that a database text column can hold, in many fields — and the run
is compared with a run of the same clean records alone: each hostile row ends with one clear
reason (a dead letter naming its change_seq and field, or a verdict whose failure names the
field), every clean row's verdict and work orders are the same, and received + dead-lettered =
the platform's rows. A seeded generator picks (kind, value, field); HOSTILE_DEPTH adds rows.
"""

from __future__ import annotations

import random
import re
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry, load_form
from simulators.platform import generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry
from tests.hostile import DEPTH, KINDS, covers
from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.exchange_rows import EXCHANGE_LIMITS

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted(p for p in (ROOT / "forms" / "samples").iterdir() if p.is_file())
AS_OF = datetime(2026, 11, 20, 6)
FIELDS = ["ROWGUID", "ZRFXM", "ZCFXM", "ZRFZJHM", "ZCFZJHM", "ZRFLXDH", "FWZL", "FWJZMJ", "XZQH", "DBSJ", "GSJGBM", "GSJGMC", "BDCQZH"]
# PostgreSQL text cannot hold NUL or bytes that are not UTF-8, and its VARCHAR sizes refuse a
# longer value: on PostgreSQL those kinds are driven with what the platform *can* write there.
PG_SIZES = {**EXCHANGE_LIMITS, "GSJGBM": 64, "RQJGBM": 64, "GRJGBM": 64}
# A rule over several fields names one of them (owner counts, account + institution code + name).
GROUPS = [{"ZRFXM", "ZRFZJZL", "ZRFZJHM", "ZRFLXDH"}, {"ZCFXM", "ZCFZJZL", "ZCFZJHM", "ZCFLXDH"}, {"YSHH", "GSJGBM", "GSJGMC"}, {"YQHH", "RQJGBM", "RQJGMC"}, {"YNHH", "GRJGBM", "GRJGMC"}]
CLEANED_KINDS = {"nul", "c0_c1_control", "bidi", "zero_width", "line_break"}


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request, tmp_path):
    """Four databases: (platform, ledger) for the hostile run and for the clean run."""
    if request.param == "sqlite":
        return [f"sqlite:///{tmp_path / name}.db" for name in ("p1", "l1", "p2", "l2")]
    make = request.getfixturevalue("pg_schema_url")
    return [make() for _ in range(4)]


def _value(kind: str, value, field: str, dialect: str):
    if dialect != "postgresql":
        return value
    if kind == "nul":
        return value.replace("\x00", "")  # what the platform can store: the NUL is gone before us
    if kind == "invalid_utf8":
        return value.decode("utf-8", errors="replace")
    if kind == "huge_cell":
        return "房" * PG_SIZES[field]  # the largest value the platform's column takes
    return value


def _hostile_rows(seed: int, dialect: str, registry) -> list[tuple[str, str, dict]]:
    """(kind, field, row): every applicable kind's every value, in a seeded field, DEPTH times over."""
    rng = random.Random(seed)
    base = generate(len(KINDS) * 6 * DEPTH + 50, seed=seed + 7, start="2026-10-01", end="2026-11-19", as_of=AS_OF, registry=registry, defect_rate=0.0, oddity_rate=0.0, first_index=50_000)
    rows = base.astype(object).where(base.notna(), None).to_dict("records")
    out = []
    for round_ in range(DEPTH):
        for kind, values in KINDS.items():
            if kind == "wrong_json_type":
                continue  # a database text column holds text: no JSON types here
            for value in values:
                field = rng.choice(FIELDS) if round_ or kind != "line_break" else "FWZL"
                row = {c: rows[len(out)][c] for c in ("OP", *FIELD_CODES)}
                row[field] = _value(kind, value, field, dialect)
                out.append((kind, field, row))
    return out


def _pipeline(platform_url: str, ledger_url: str, rows: list[dict], tmp: Path, *, data_docs: bool = False):
    platform = PlatformDB(platform_url)
    platform.create()
    platform.write_rows(rows)
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for form in SAMPLES:
        load_form(ledger, form, now=datetime(2026, 1, 1))
    source = RecordSource(platform_url)
    extracted = extract_changes(source, ledger, run_id="r1", chunk_rows=97)
    validated = validate_run(ledger, run_id="r1", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp, data_docs=data_docs)
    route_run(ledger, run_id="r1", as_of=AS_OF)
    source.dispose()
    platform.dispose()
    return ledger, extracted, validated


def _clean_outcomes(ledger: Ledger, rowguids: set[str]) -> tuple[dict, dict]:
    with ledger.engine.connect() as conn:
        verdicts = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(sa.text("SELECT rowguid, status, requested, blocked FROM record_verdict")) if r[0] in rowguids}
        orders = {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(sa.text("SELECT rowguid, utility, status, channel, destination, reason_code FROM work_order")) if r[0] in rowguids}
    return verdicts, orders


def test_hostile_rows_are_isolated_and_every_other_row_flows_as_without_them(urls, registry, tmp_path):
    p_bad, l_bad, p_clean, l_clean = urls
    dialect = "postgresql" if p_bad.startswith("postgresql") else "sqlite"
    clean = generate(150, seed=5, start="2026-10-01", end="2026-11-19", as_of=AS_OF, registry=registry)
    clean_rows = clean.astype(object).where(clean.notna(), None)[["OP", *FIELD_CODES]].to_dict("records")
    hostile = _hostile_rows(11, dialect, registry)
    # Mixed in at seeded places, the clean rows keeping their order.
    rng = random.Random(3)
    mixed: list[tuple[str | None, str | None, dict]] = [(None, None, r) for r in clean_rows]
    for item in hostile:
        mixed.insert(rng.randrange(len(mixed) + 1), item)

    bad_ledger, extracted, validated = _pipeline(p_bad, l_bad, [r for _, _, r in mixed], tmp_path / "bad", data_docs=True)
    good_ledger, _, _ = _pipeline(p_clean, l_clean, clean_rows, tmp_path / "good")

    # Nothing lost or duplicated: every platform row is received or dead-lettered, once.
    with bad_ledger.engine.connect() as conn:
        received = [r[0] for r in conn.execute(sa.text("SELECT change_seq FROM received_record ORDER BY change_seq"))]
    dead = bad_ledger.dead_letters("exchange_row")
    dead_seqs = sorted(int(k.split(":")[1]) for k in dead["unit_key"])
    assert sorted(received + dead_seqs) == list(range(1, len(mixed) + 1))
    assert not set(received) & set(dead_seqs)
    assert extracted.rows_new + extracted.rows_dead_lettered == len(mixed) == extracted.rows_read

    # Every clean row: the same verdict and the same work orders as in the run without hostile rows.
    guids = {r["ROWGUID"] for r in clean_rows}
    assert _clean_outcomes(bad_ledger, guids) == _clean_outcomes(good_ledger, guids)

    # Every hostile row: one clear reason naming its field (and change_seq for a dead letter).
    with bad_ledger.engine.connect() as conn:
        verdict = {r[0]: r[1] for r in conn.execute(sa.text("SELECT change_seq, status FROM record_verdict"))}
        failures: dict[int, list[tuple[str, str]]] = {}
        for seq, rule, field in conn.execute(sa.text("SELECT change_seq, rule_id, field FROM rule_failure")):
            failures.setdefault(seq, []).append((rule, field))
    reasons = {int(k.split(":")[1]): (rule, reason) for k, rule, reason in zip(dead["unit_key"], dead["rule_id"], dead["reason"])}
    for seq, (kind, field, _row) in enumerate(mixed, start=1):
        if kind is None:
            continue
        if seq in reasons:
            rule, reason = reasons[seq]
            assert f"变更序号 {seq}" in reason and field in reason, (kind, field, reason)
            assert rule in ("TEXT_ENCODING", "TEXT_TOO_LONG"), (kind, field, rule)
        else:
            assert seq in verdict, (kind, field)
            named = {f for _, f in failures.get(seq, [])}
            if verdict[seq] != "passed":
                related = next((g for g in GROUPS if field in g), {field})
                assert named & related, (kind, field, verdict[seq], failures.get(seq))
            if kind in CLEANED_KINDS and not (dialect == "postgresql" and kind == "nul"):
                assert ("TEXT_CLEANED", field) in failures[seq], (kind, field, failures.get(seq))
        covers("exchange_row", kind)

    # The files a person opens from this run: no clear ID or mobile in the Data Docs nor in the validation
    # page and its digest, and the quarantine workbook written (control characters never reach it).
    assert validated.quarantined > 0 and Path(validated.quarantine_xlsx).stat().st_size > 0
    # The page names records by their platform number (YCYWH, 18 digits like an ID number): there, no ID number or
    # phone of any row sent may appear in clear.
    clear = {part.strip() for _, _, row in mixed for column in ("ZRFZJHM", "ZCFZJHM", "ZRFLXDH", "ZCFLXDH")
             for part in re.split(r"[,，、/;；]", str(row.get(column) or "")) if len(part.strip()) >= 11}
    for path in (Path(validated.page_path), tmp_path / "bad" / "validation.json", tmp_path / "validation_index.html"):
        text = path.read_text(encoding="utf-8")
        assert not [value for value in clear if value in text], path
    for path in (tmp_path / "bad" / "data_docs").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", text), path
            assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text), path
    bad_ledger.dispose()
    good_ledger.dispose()


def test_line_breaks_in_addresses_do_not_stop_a_postgresql_read(pg_schema_url, registry):
    """The Arrow CSV reader of the COPY stream split records at a quoted line break."""
    platform_url, ledger_url = pg_schema_url(), pg_schema_url()
    platform = PlatformDB(platform_url)
    platform.create()
    batch = generate(6000, seed=9, registry=registry)
    broken_rows = int(batch.loc[::3, "FWZL"].notna().sum())
    batch.loc[::3, "FWZL"] = batch.loc[::3, "FWZL"] + "\n" + batch.loc[::3, "FWZL"]
    platform.write(batch)
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = RecordSource(platform_url)
    result = extract_changes(source, ledger, run_id="r1")
    assert (result.rows_read, result.rows_new, result.rows_dead_lettered) == (6000, 6000, 0)
    with ledger.engine.connect() as conn:
        broken = conn.execute(sa.text("SELECT count(*) FROM received_record WHERE fwzl LIKE '%' || chr(10) || '%'")).scalar_one()
        originals = conn.execute(sa.text("SELECT count(*) FROM received_original WHERE field = 'FWZL'")).scalar_one()
    assert broken == 0 and originals == broken_rows  # stored as one line, the original kept
    covers("exchange_row", "line_break")
    for thing in (platform, source, ledger):
        thing.dispose()


def test_a_row_the_ledger_cannot_store_is_dead_lettered_and_the_watermark_passes_it(tmp_path, registry):
    """SQLite platform: a ROWGUID longer than the ledger's column, bytes that are not UTF-8."""
    platform_url, ledger_url = f"sqlite:///{tmp_path / 'p.db'}", f"sqlite:///{tmp_path / 'l.db'}"
    platform = PlatformDB(platform_url)
    platform.create()
    rows = generate(10, seed=4, registry=registry).astype(object)[["OP", *FIELD_CODES]].to_dict("records")
    rows[2]["ROWGUID"] = "g" * 65
    rows[5]["ZRFXM"] = b"\xff\xfe\xfa"
    platform.write_rows(rows)
    ledger = Ledger(ledger_url)
    ledger.migrate()
    source = RecordSource(platform_url)
    first = extract_changes(source, ledger, run_id="r1")
    assert (first.rows_new, first.rows_dead_lettered) == (8, 2)
    dead = ledger.dead_letters("exchange_row").sort_values("unit_key")
    assert list(dead["unit_key"]) == ["platform:3", "platform:6"]
    assert list(dead["rule_id"]) == ["TEXT_TOO_LONG", "TEXT_ENCODING"]
    assert "变更序号 3 字段 ROWGUID" in dead["reason"].iloc[0] and "变更序号 6 字段 ZRFXM" in dead["reason"].iloc[1]
    payload = ledger.dead_letter_payload(int(dead["dl_id"].iloc[1]))
    assert b'"hex": "fffefa"' in payload  # the row as received
    assert ledger.watermark("platform").last_seq == 10
    again = extract_changes(source, ledger, run_id="r2")
    assert again.rows_new == 0 and ledger.dead_letters("exchange_row")["seen_count"].max() >= 1
    for thing in (platform, source, ledger):
        thing.dispose()
