"""The validation page as a person opens it: a run validated with the Great Expectations suite, its page and the
index of runs opened in headless Chromium with no network — nothing requested outside, no horizontal overflow at
1366 px, every rule id with its Chinese name, no clear ID number or phone — and printed to A4. GX's own Data Docs
stay in the run folder, but they load their assets from CDNs, so they are not the page the DAG run links to."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from connectors.exchange_db import RecordSource
from connectors.ledger import Ledger
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry, load_form
from simulators.platform import generate
from simulators.platform_db import PlatformDB
from simulators.registry import build_registry
from tests.integration.pipeline import SAMPLES
from transforms.cohandling.rule_catalogue import RULES

AS_OF = datetime(2026, 11, 20, 6)


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("validation_page")
    platform_url = f"sqlite:///{tmp / 'platform.db'}"
    platform = PlatformDB(platform_url)
    platform.create()
    records = generate(300, seed=51, start="2026-10-01", end="2026-11-19", as_of=AS_OF, defect_rate=0.15, registry=build_registry())
    platform.write(records)
    ledger = Ledger(f"sqlite:///{tmp / 'ledger.db'}")
    ledger.migrate()
    for form in SAMPLES:
        load_form(ledger, form, now=datetime(2026, 1, 1))
    extract_changes(RecordSource(platform_url), ledger, run_id="r1")
    # Three pages of 120, 120 and 60 changes: the page adds them up.
    result = validate_run(ledger, run_id="r1", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp / "runs" / "r1", page_size=120)
    first = json.loads((tmp / "runs" / "r1" / "validation.json").read_text(encoding="utf-8"))
    # The run again (a retry with nothing left due): its page still shows what the run validated.
    again = validate_run(ledger, run_id="r1", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp / "runs" / "r1", page_size=120)
    ledger.dispose()
    assert again.page_path == result.page_path and again.records_in == result.records_in
    after = json.loads((tmp / "runs" / "r1" / "validation.json").read_text(encoding="utf-8"))
    assert first["pages"] == 3 == after["pages"] and first["rules"] == after["rules"] and first["expectations"] == after["expectations"]
    return result, records, tmp


def test_the_page_opens_offline_fits_1366_px_and_names_every_rule_in_chinese(validated, page_at):
    from tests.viewers import horizontal_overflow

    result, records, tmp = validated
    assert result.page_path == str(tmp / "runs" / "r1" / "validation.html") and result.quarantined > 0
    page = page_at(1366)
    page.goto(f"file://{result.page_path}")
    assert page.blocked == []  # it requested nothing outside itself
    assert horizontal_overflow(page)["overflow_px"] <= 0
    text = page.inner_text("body")
    for rule in RULES.values():
        assert rule.id in text and rule.zh in text, rule.id
    assert "校验位正确" in text and "expect_column_values_to_have_valid_check_characters" in text  # the suite's custom check, with its rule id
    digest = json.loads((tmp / "runs" / "r1" / "validation.json").read_text(encoding="utf-8"))
    assert digest["totals"]["quarantined"] == result.quarantined and digest["rules"]
    assert {e["evaluated"] for e in digest["expectations"].values()} == {300}  # every page's records, in every expectation
    assert len(digest["data_docs"]) == 3
    # No clear ID number or phone of any record on the page (nor in the digest next to it).
    html = open(result.page_path, encoding="utf-8").read() + json.dumps(digest, ensure_ascii=False)
    clear = {v for column in ("ZRFZJHM", "ZCFZJHM", "ZRFLXDH", "ZCFLXDH") for v in records[column].dropna().astype(str) if len(v) >= 11}
    for value in clear:
        for part in re.split(r"[,，、/;；]", value):
            assert len(part) < 11 or part not in html, part
    page.screenshot(path=str(tmp / "validation_1366.png"), full_page=True)
    page.pdf(path=str(tmp / "validation.pdf"), format="A4")
    assert (tmp / "validation.pdf").stat().st_size > 0


def test_the_index_lists_the_run_and_opens_offline(validated, page_at):
    from tests.viewers import horizontal_overflow

    result, _, tmp = validated
    page = page_at(1366)
    page.goto(f"file://{tmp / 'runs' / 'validation_index.html'}")
    assert page.blocked == [] and horizontal_overflow(page)["overflow_px"] <= 0
    page.click("text=r1")
    assert page.url.endswith("/r1/validation.html") and page.blocked == []


def test_gx_data_docs_are_kept_but_are_not_the_page_linked(validated, page_at):
    """GX's index loads bootstrap, jQuery… from CDNs (offline it is bare text): it is kept for engineers, the run links the own page."""
    result, _, tmp = validated
    assert result.docs_path and result.docs_path.endswith("data_docs/index.html") and result.page_path != result.docs_path
    gx = open(result.docs_path, encoding="utf-8").read()
    assert re.search(r"""(src|href)=["']https?://""", gx)  # why it is not the page users open
    page = page_at(1366)
    page.goto(f"file://{result.docs_path}")
    assert page.blocked  # it asks the network
    # Its expectations read as the project's rules: rule id and Chinese name, not GX's English or a Python class name.
    pages = [p.read_text(encoding="utf-8") for p in (tmp / "runs" / "r1" / "data_docs" / "validations").rglob("*.html")]
    assert pages and all(f"ID_CHECKSUM {RULES['ID_CHECKSUM'].zh}" in p and "买方证件号码·个人证件(ZRF_PERSON_IDS)" in p for p in pages)
    own = open(result.page_path, encoding="utf-8").read()
    assert not re.search(r"https?://", own) and "data_docs/index.html" in own  # mentioned for engineers, as a path
