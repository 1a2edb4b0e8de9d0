"""The Annex 1 Great Expectations suite on one good and one bad frame, and its Data Docs."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from jobs.common import reference
from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.normalize import normalize_records
from transforms.cohandling.rule_catalogue import build_context

from .test_rules import BASE, REGISTRY

CTX = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=REGISTRY, as_of=datetime(2024, 12, 31))


def _records(*changes):
    return normalize_records(pd.DataFrame([{**BASE, **c} for c in changes], columns=FIELD_CODES))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from expectations.cohandling import run_suite

    def go(records, name):
        docs = tmp_path_factory.mktemp(name)
        return run_suite(records, registry=REGISTRY, ctx=CTX, docs_dir=docs, run_name=name), docs

    return go


def test_check_characters_inside_multi_owner_fields():
    from expectations.cohandling import check_characters_ok

    values = pd.Series(["11010519491231002X，360426199101010071", "11010519491231002X,360426199101010072", "91110000600037341L", None])
    assert check_characters_ok(values, "gb11643").tolist() == [True, False, True, True]
    companies = pd.Series(["91110000600037341L，91110000600037341L", "91110000600037341M", "60003734-1"])
    assert check_characters_ok(companies, "gb32100").tolist() == [True, False, True]
    assert check_characters_ok(pd.Series(["91110000600037341M"]), "gb32100").tolist() == [False]


def test_suite_passes_a_good_frame_and_fails_a_bad_one(run):
    import great_expectations as gx

    good, _ = run(_records({}, {"ROWGUID": "x2"}), "good")
    bad, docs = run(_records({}, {"ROWGUID": "x3", "ZRFZJHM": "110105194912310021", "XZQH": "370100", "GSJGMC": "别的公司"}), "bad")
    assert good["success"] is True and good["failed_rules"] == []
    assert bad["success"] is False and bad["failed_rules"] == ["ID_CHECKSUM", "INSTITUTION_NAME", "XZQH_COUNTY"]
    assert (docs / "index.html").exists()
    assert any("validations" in str(p) for p in docs.rglob("*.html"))
    del gx
