"""The validation page (pure): every rule with its id and Chinese name, failing values masked, a failing custom
check of the suite shown with its rule id, pages of one run added up, nothing fetched from outside."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from transforms.cohandling.rule_catalogue import RULES
from transforms.reporting.validation_page import SAMPLES_PER_RULE, column_label, mask_value, merge_digests, page_digest, render_index, render_run_page

ID = "370102199003071234"
PHONE = "13812345678"
NAME = "欧阳娜娜"
ADDRESS = "济南市历下区泉城路188号3单元502室"
NOW = datetime(2026, 11, 20, 6, 30)


def _failures() -> pd.DataFrame:
    return pd.DataFrame([
        {"row": 0, "rule_id": "ID_CHECKSUM", "field": "ZRFZJHM", "utility": "", "value": ID, "ROWGUID": "g-0", "YCYWH": "Y0"},
        {"row": 1, "rule_id": "PHONE", "field": "ZRFLXDH", "utility": "", "value": PHONE, "ROWGUID": "g-1", "YCYWH": "Y1"},
        {"row": 2, "rule_id": "NAME_FORMAT", "field": "ZCFXM", "utility": "", "value": NAME, "ROWGUID": "g-2", "YCYWH": "Y2"},
        {"row": 3, "rule_id": "ADDRESS_PLACE", "field": "FWZL", "utility": "", "value": ADDRESS, "ROWGUID": "g-3", "YCYWH": "Y3"},
        {"row": 3, "rule_id": "TEXT_CLEANED", "field": "GSJGMC", "utility": "", "value": f"联系{PHONE}", "ROWGUID": "g-3", "YCYWH": "Y3"},
        {"row": 4, "rule_id": "INSTITUTION_NAME", "field": "GSJGMC", "utility": "water", "value": None, "ROWGUID": "g-4", "YCYWH": "Y4"},
    ])


EXPECTATIONS = [
    {"rule_id": "ID_CHECKSUM", "type": "expect_column_values_to_have_valid_check_characters", "columns": ["ZRF_PERSON_IDS"], "evaluated": 5,
     "unexpected": 1, "missing": 0, "success": False},
    {"rule_id": "REQUIRED", "type": "expect_column_values_to_not_be_null", "columns": ["ROWGUID"], "evaluated": 5, "unexpected": 0, "missing": 0,
     "success": True},
]
TOTALS = {"records_in": 5, "passed": 1, "partial": 1, "quarantined": 3, "withdrawn": 0, "warnings": 1}


def _page() -> str:
    digest = page_digest(_failures(), EXPECTATIONS, run_id="scheduled__2026-11-20", as_of="2026-11-20 06:00", source="platform",
                         data_docs="data_docs/index.html")
    return render_run_page(digest, TOTALS, generated_at=NOW, files={"隔离清单": "quarantine.xlsx"})


def test_every_rule_is_on_the_page_with_its_id_and_chinese_name():
    page = _page()
    for rule in RULES.values():
        assert f"<code>{rule.id}</code>" in page, rule.id
        assert rule.zh.replace("<", "&lt;") in page or rule.zh in page, rule.id
    assert "scheduled__2026-11-20" in page and "2026-11-20 06:00" in page and "“一网通办”平台交换库" in page
    assert "买方证件号码 <code>ZRFZJHM</code>" in page  # a field with its Annex 1 label and code


def test_failing_values_are_masked():
    page = _page()
    for clear in (ID, PHONE, NAME, ADDRESS, "泉城路188号"):
        assert clear not in page, clear
    assert "370102********1234" in page and "138****5678" in page and "欧***" in page and "济南市历下区泉城****" in page
    assert "联系138****5678" in page  # a phone inside other text is masked too
    assert mask_value("ZRFZJHM", f"{ID}，{ID[:-1]}X") == "370102********1234，370102********123X"


def test_a_failing_custom_check_shows_its_rule_id_and_chinese_name():
    page = _page()
    row = next(r for r in page.split("<tr") if "expect_column_values_to_have_valid_check_characters" in r)
    assert "<code>ID_CHECKSUM</code>" in row and RULES["ID_CHECKSUM"].zh in row and "校验位正确" in row and "未通过" in row
    assert "买方证件号码·个人证件" in row and "ZRF_PERSON_IDS" in row
    assert column_label("GSJGMC_REGISTERED") == ("供水机构名称·名录登记名称", "GSJGMC_REGISTERED")


def test_the_page_references_nothing_outside_itself():
    for page in (_page(), render_index([{"run_id": "r1", "as_of": "2026-11-20 06:00", "totals": TOTALS, "rules": {}, "href": "r1/validation.html"}],
                                       generated_at=NOW)):
        assert not re.search(r"https?://|<script|<link|<img|@import|url\(", page)


def test_pages_of_one_run_add_up_and_keep_a_bounded_sample():
    many = pd.DataFrame([{"row": i, "rule_id": "PHONE", "field": "ZRFLXDH", "utility": "", "value": PHONE, "ROWGUID": f"g{i}", "YCYWH": f"Y{i}"}
                         for i in range(SAMPLES_PER_RULE + 2)])
    first = page_digest(many, EXPECTATIONS, run_id="r", as_of="2026-11-20 06:00", source="platform")
    second = page_digest(_failures(), EXPECTATIONS, run_id="r", as_of="2026-11-20 06:00", source="platform")
    both = merge_digests(first, second)
    assert both["rules"]["PHONE"]["failures"] == SAMPLES_PER_RULE + 3 and len(both["rules"]["PHONE"]["samples"]) == SAMPLES_PER_RULE
    assert both["rules"]["ID_CHECKSUM"]["records"] == 1 and both["pages"] == 2
    check = both["expectations"]["ID_CHECKSUM|expect_column_values_to_have_valid_check_characters|ZRF_PERSON_IDS"]
    assert check["evaluated"] == 10 and check["unexpected"] == 2 and check["success"] is False
    assert first["rules"]["PHONE"]["failures"] == SAMPLES_PER_RULE + 2  # the first digest is not changed by the merge


def test_the_index_lists_runs_newest_first_with_the_rules_they_failed():
    runs = [{"run_id": "day1", "as_of": "2026-11-19 06:00", "totals": TOTALS, "rules": {"PHONE": {"failures": 2}}, "href": "day1/validation.html"},
            {"run_id": "day2", "as_of": "2026-11-20 06:00", "totals": TOTALS, "rules": {}, "href": "day2/validation.html"}]
    page = render_index(runs, generated_at=NOW)
    assert page.index("day2/validation.html") < page.index("day1/validation.html")
    assert f'<code title="{RULES["PHONE"].zh}">PHONE</code>' in page  # the id, its Chinese name on hover
