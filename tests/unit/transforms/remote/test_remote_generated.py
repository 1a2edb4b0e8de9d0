"""Over 6,000 generated remote-collection packages: every labelled defect is caught by the rule
it names (on the field and applicant / material it names), no clean package — odd-looking
ones included — is flagged at all, every package has exactly one verdict, and routing goes
by the property's county."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from jobs.common import reference
from simulators.remote_checklists import OTHER_PROVINCE_COUNTIES, build_checklists, checklist_versions
from simulators.remote_module import DEFECT_RULES, ODDITY_KINDS, generate, with_file_digests
from transforms.remote.package_routing import route_packages
from transforms.remote.package_rules import build_context, evaluate

AS_OF = datetime(2024, 12, 31, 23, 59, 59)


@pytest.fixture(scope="module")
def verdicts():
    batch = generate(6000, seed=2024, start="2024-01-01", end="2024-12-31", defect_rate=0.12, oddity_rate=0.08)
    ctx = build_context(divisions=reference.divisions(), checklists=checklist_versions(build_checklists()), as_of=AS_OF)
    materials = with_file_digests(batch.materials, batch.files)
    failures, outcome = evaluate(batch.packages, batch.applicants, materials, ctx)
    routes = route_packages(batch.packages, materials, outcome)
    return batch, materials, failures, outcome, routes


def test_every_labelled_defect_is_caught_by_the_rule_it_names(verdicts):
    batch, _, failures, _, _ = verdicts
    packages = batch.packages.reset_index(drop=True)
    caught = set(zip(failures["row"], failures["rule_id"], failures["field"], failures["item"]))
    labelled = packages[packages["defect"] != ""]
    missed = [(row, d.defect, d.defect_rule, d.defect_field, d.defect_item) for row, d in zip(labelled.index, labelled.itertuples())
              if (row, d.defect_rule, d.defect_field, d.defect_item) not in caught]
    assert set(labelled["defect"]) == set(DEFECT_RULES)
    assert labelled["defect"].value_counts().min() >= 20
    assert (labelled["defect_rule"] == labelled["defect"].map(DEFECT_RULES)).all()
    assert missed == []


def test_no_clean_package_is_flagged(verdicts):
    batch, _, failures, outcome, _ = verdicts
    clean = np.flatnonzero((batch.packages["defect"] == "").to_numpy())
    flagged = failures[failures["row"].isin(clean)]
    assert set(batch.packages["oddity"]) - {""} == set(ODDITY_KINDS)
    assert (batch.packages["oddity"] != "").sum() > 300
    assert flagged[["row", "rule_id", "field", "item", "value"]].head(10).to_dict("records") == []
    assert set(outcome["status"].to_numpy()[clean]) == {"passed"}


def test_every_package_has_exactly_one_verdict_and_defective_ones_go_back(verdicts):
    batch, _, _, outcome, routes = verdicts
    counts = outcome["status"].value_counts()
    assert len(outcome) == len(batch.packages) == counts["passed"] + counts["returned"]
    defective = (batch.packages["defect"] != "").to_numpy()
    assert set(outcome["status"].to_numpy()[defective]) == {"returned"}
    assert (routes["destination"].to_numpy()[defective] == batch.packages["SJDWDM"].to_numpy()[defective]).all()


def test_routing_is_by_the_property_county_never_the_collecting_hall(verdicts):
    batch, materials, _, outcome, routes = verdicts
    passed = (outcome["status"] == "passed").to_numpy()
    xzqh = batch.packages["XZQH"].to_numpy()
    shandong = np.char.startswith(xzqh.astype(str), "37")
    assert (routes["destination"].to_numpy()[passed & shandong] == np.char.add("county_system_", xzqh[passed & shandong].astype(str))).all()
    assert set(routes["destination"].to_numpy()[passed & ~shandong]) == {"cross_province"}
    assert set(xzqh[passed & ~shandong]) == set(OTHER_PROVINCE_COUNTIES)
    assert (batch.packages["SJXZQH"].to_numpy()[passed] != xzqh[passed]).all()
    paper = set(materials.loc[materials["SFZZYJ"] == "1", "CHANGE_SEQ"])
    expected = passed & batch.packages["CHANGE_SEQ"].isin(paper).to_numpy()
    assert (routes["paper_handover"].to_numpy() == expected).all() and expected.sum() > 1000


def test_two_applicants_in_two_places_occur_and_pass(verdicts):
    batch, _, _, outcome, _ = verdicts
    a = batch.applicants.merge(batch.packages[["CHANGE_SEQ", "XZQH", "SJXZQH", "defect"]], on="CHANGE_SEQ")
    a = a[a["defect"] == ""]
    at_property = a[a["HYXZQH"] == a["XZQH"]]
    third_place = a[(a["HYXZQH"] != a["XZQH"]) & (a["HYXZQH"] != a["SJXZQH"])]
    assert len(at_property) > 100 and len(third_place) > 50
    rows = batch.packages.index.get_indexer(batch.packages.index[batch.packages["CHANGE_SEQ"].isin(at_property["CHANGE_SEQ"])])
    assert set(outcome["status"].to_numpy()[rows]) == {"passed"}
