"""Hostile remote-collection packages on SQLite and PostgreSQL: one bad package row, applicant or
material never stops extraction or validation of the other packages.

Clean synthetic packages (simulators/remote_module.py) are written with hostile package versions mixed
in — one hostile value each, of every kind a database text column can hold, in package, applicant
and material fields (and a non-integer XH where SQLite lets the module write one) — and the run is
compared with a run of the clean packages alone: each hostile version is dead-lettered (surface
`package_row`, reason naming change_seq and field) or gets a verdict; every clean package's
verdict is the same; received + dead-lettered = the module's package rows.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.exchange_db import PackageSource
from connectors.ledger import Ledger
from jobs.remote.package_intake import extract_packages, load_checklist_form, validate_packages
from simulators.remote_db import RemoteBatch, RemoteDB
from simulators.remote_module import generate
from tests.hostile import DEPTH, KINDS, covers
from transforms.cohandling.exchange_rows import APPLICANT_LIMITS, MATERIAL_LIMITS, PACKAGE_LIMITS

SAMPLES = sorted((Path(__file__).resolve().parents[3] / "forms" / "samples" / "remote").iterdir())
LOADED_AT = datetime(2021, 7, 25, 9, 0)
AS_OF = datetime(2025, 1, 1, 0, 0)
TARGETS = [("packages", f) for f in ("BWID", "SJDWMC", "ZL", "SJSJ", "XZQH", "BDCDYH", "YWLX")] + \
          [("applicants", f) for f in ("SQRXM", "ZJHM", "HYSJ")] + [("materials", f) for f in ("CLMC", "CLBM", "WJDZ")]
LIMITS = {"packages": PACKAGE_LIMITS, "applicants": APPLICANT_LIMITS, "materials": MATERIAL_LIMITS}
OFFSET = 100_000  # provisional CHANGE_SEQ of the hostile packages, apart from the clean ones


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request, tmp_path):
    if request.param == "sqlite":
        return [f"sqlite:///{tmp_path / name}.db" for name in ("p1", "l1", "p2", "l2")]
    make = request.getfixturevalue("pg_schema_url")
    return [make() for _ in range(4)]


def _value(kind: str, value, table: str, field: str, dialect: str):
    if dialect != "postgresql":
        return value
    if kind == "nul":
        return value.replace("\x00", "")
    if kind == "invalid_utf8":
        return value.decode("utf-8", errors="replace")
    if kind == "huge_cell":
        return "房" * LIMITS[table][field]
    return value


def _hostile_batch(dialect: str) -> tuple[RemoteBatch, list[tuple[int, str, str, str]]]:
    """Hostile package versions (provisional seq, kind, table, field), one hostile value each."""
    cases = [(kind, value) for _ in range(DEPTH) for kind, values in KINDS.items() if kind != "wrong_json_type" for value in values]
    extra = generate(len(cases) + 1, seed=12, start="2024-01-01", end="2024-12-31", defect_rate=0.0, oddity_rate=0.0, first_index=50_000)
    packages, applicants, materials = (frame.copy().astype(object) for frame in (extra.packages, extra.applicants, extra.materials))
    rng = random.Random(7)
    labels = []
    seqs = list(packages["CHANGE_SEQ"])
    for (kind, value), seq in zip(cases, seqs):
        table, field = rng.choice(TARGETS)
        frame = {"packages": packages, "applicants": applicants, "materials": materials}[table]
        where = frame.index[frame["CHANGE_SEQ"] == seq]
        if not len(where):
            table, field, frame, where = "packages", "ZL", packages, packages.index[packages["CHANGE_SEQ"] == seq]
        frame.loc[where[0], field] = _value(kind, value, table, field, dialect)
        labels.append((seq + OFFSET, kind, table, field))
    if dialect == "sqlite":  # an XH that is not a number: SQLite's INTEGER column keeps the text
        seq = seqs[len(cases)]
        where = materials.index[materials["CHANGE_SEQ"] == seq]
        if len(where):
            materials.loc[where[0], "XH"] = "二"
            labels.append((seq + OFFSET, "non_ascii_digits", "materials", "XH"))
    for frame in (packages, applicants, materials):
        frame["CHANGE_SEQ"] = frame["CHANGE_SEQ"] + OFFSET
    return RemoteBatch(packages, applicants, materials, extra.files), labels


def _mixed(clean: RemoteBatch, hostile: RemoteBatch) -> RemoteBatch:
    rng = random.Random(3)
    order = [("c", i) for i in range(len(clean.packages))]
    for i in range(len(hostile.packages)):
        order.insert(rng.randrange(len(order) + 1), ("h", i))
    rows = [(clean if src == "c" else hostile).packages.iloc[i] for src, i in order]
    return RemoteBatch(pd.DataFrame(rows).reset_index(drop=True), pd.concat([clean.applicants, hostile.applicants], ignore_index=True),
                       pd.concat([clean.materials, hostile.materials], ignore_index=True), pd.concat([clean.files, hostile.files], ignore_index=True))


def _run(platform_url: str, ledger_url: str, batch: RemoteBatch):
    module = RemoteDB(platform_url)
    module.create()
    module.write(batch)
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for path in SAMPLES:
        load_checklist_form(ledger, path, now=LOADED_AT)
    source = PackageSource(platform_url)
    extracted = extract_packages(source, ledger, run_id="r1", chunk_rows=53)
    validated = validate_packages(ledger, run_id="r1", as_of=AS_OF)
    with module.engine.connect() as conn:
        platform_seqs = [r[0] for r in conn.exec_driver_sql("SELECT CHANGE_SEQ FROM BDC_YDDS_BWXX ORDER BY CHANGE_SEQ")]
    source.dispose()
    module.dispose()
    return ledger, extracted, validated, platform_seqs


def _verdicts(ledger: Ledger, bwids: set[str]) -> dict:
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT bwid, status, channel, destination, errors, warnings FROM remote_verdict")).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows if r[0] in bwids}


def test_hostile_packages_are_isolated_and_every_other_package_flows_as_without_them(urls):
    p_bad, l_bad, p_clean, l_clean = urls
    dialect = "postgresql" if p_bad.startswith("postgresql") else "sqlite"
    clean = generate(80, seed=11, start="2024-01-01", end="2024-12-31", defect_rate=0.15)
    hostile, labels = _hostile_batch(dialect)
    mixed = _mixed(clean, hostile)

    bad_ledger, extracted, validated, platform_seqs = _run(p_bad, l_bad, mixed)
    good_ledger, _, _, _ = _run(p_clean, l_clean, clean)

    # Nothing lost or duplicated.
    with bad_ledger.engine.connect() as conn:
        received = [r[0] for r in conn.execute(sa.text("SELECT change_seq FROM remote_package ORDER BY change_seq"))]
        verdict = {r[0]: r[1] for r in conn.execute(sa.text("SELECT change_seq, status FROM remote_verdict"))}
    dead = bad_ledger.dead_letters("package_row")
    dead_seqs = sorted(int(k.split(":")[1]) for k in dead["unit_key"])
    assert sorted(received + dead_seqs) == platform_seqs and not set(received) & set(dead_seqs)
    assert extracted["read"] == len(platform_seqs) and extracted["dead_lettered"] == len(dead_seqs)
    assert validated["packages_in"] == len(received) == len(verdict)

    # Every clean package: the same verdict as in the run without hostile packages.
    bwids = set(clean.packages["BWID"])
    assert _verdicts(bad_ledger, bwids) == _verdicts(good_ledger, bwids)

    # Every hostile package version: dead-lettered with a reason naming change_seq and field, or a verdict.
    provisional = {p: s for p, s in zip(mixed.packages["CHANGE_SEQ"], platform_seqs)}
    reasons = {int(k.split(":")[1]): r for k, r in zip(dead["unit_key"], dead["reason"])}
    for seq, kind, _table, field in labels:
        real = provisional[seq]
        if real in reasons:
            assert f"变更序号 {real}" in reasons[real] and field in reasons[real], (kind, field, reasons[real])
        else:
            assert real in verdict, (kind, field)
        covers("package_row", kind)
    bad_ledger.dispose()
    good_ledger.dispose()
