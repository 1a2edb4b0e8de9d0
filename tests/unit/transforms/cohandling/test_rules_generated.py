"""Over 100,000 generated records: every labelled defect is caught by the rule it names,
and no clean record — odd-looking ones included — is flagged at all."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from jobs.common import reference
from simulators.platform import generate
from simulators.registry import build_registry
from transforms.cohandling.normalize import normalize_records
from transforms.cohandling.record_rules import evaluate
from transforms.cohandling.rule_catalogue import build_context

AS_OF = datetime(2024, 12, 31, 23, 59, 59)
RULE_OF_DEFECT = {
    "bad_id_checksum": "ID_CHECKSUM",
    "impossible_birth_date": "ID_BIRTH_DATE",
    "bad_phone": "PHONE",
    "unknown_county": "XZQH_COUNTY",
    "nonpositive_area": "AREA_POSITIVE",
    "future_dbsj": "DBSJ_FUTURE",
    "institution_mismatch": "INSTITUTION_NAME",
    "account_without_institution": "ACCOUNT_INSTITUTION",
    "missing_required": "REQUIRED",
    "duplicate_rowguid": "ROWGUID_DUPLICATE",
    "birth_after_dbsj": "BIRTH_AFTER_DBSJ",
    "institution_other_county": "INSTITUTION_COUNTY",
}


@pytest.fixture(scope="module")
def verdicts():
    registry = build_registry()
    records = generate(100_000, seed=2024, start="2024-01-01", end="2024-12-31", as_of=AS_OF, defect_rate=0.05, oddity_rate=0.08, registry=registry)
    ctx = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=registry, as_of=AS_OF)
    failures, outcome = evaluate(normalize_records(records), ctx)
    return records, failures, outcome


def test_every_labelled_defect_is_caught_by_the_rule_it_names(verdicts):
    records, failures, _ = verdicts
    labelled = records.reset_index(drop=True)
    caught = set(zip(failures["row"], failures["rule_id"], failures["field"]))
    missed = []
    for row, kind, field in zip(labelled.index, labelled["defect"], labelled["defect_field"]):
        if kind and (row, RULE_OF_DEFECT[kind], field) not in caught:
            missed.append((row, kind, field))
    assert (labelled["defect"] != "").sum() > 4000
    assert missed == []


def test_no_clean_record_is_flagged(verdicts):
    records, failures, outcome = verdicts
    clean = np.flatnonzero((records["defect"] == "").to_numpy())
    flagged = set(failures["row"]) & set(clean)
    assert (records["oddity"] != "").sum() > 7000
    assert sorted(flagged)[:10] == []
    assert set(outcome["status"].to_numpy()[clean]) == {"passed"}


def test_every_record_has_exactly_one_outcome(verdicts):
    records, _, outcome = verdicts
    counts = outcome["status"].value_counts()
    assert len(outcome) == len(records) == counts.sum()
    assert set(counts.index) <= {"passed", "partial", "quarantined"}
