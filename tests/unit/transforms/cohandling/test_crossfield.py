"""Cross-field rules (transforms/cohandling/crossfield.py) and the code tables (transforms/common/codetables.py),
on literal records, each with the reason it is right.

ID numbers below are built with the GB 11643-1999 check (ISO 7064 MOD 11-2, docs/domain.md §4);
11010519491231002X is the standard's published example.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from jobs.common import reference
from tests.unit.transforms.cohandling.test_rules import BASE, REGISTRY, check
from transforms.cohandling import crossfield
from transforms.cohandling.annex1 import FIELD_CODES, ID_TYPE_TABLE, NATIONAL_ID_TYPES, UTILITIES
from transforms.cohandling.normalize import normalize_records
from transforms.cohandling.record_rules import evaluate
from transforms.cohandling.rule_catalogue import build_context, message
from transforms.common import codetables

BORN_2024_06_30 = "110105202406300010"  # a child born 2024-06-30 (check character computed)
BORN_1900 = "11010519000101001X"
LAIWU_1980 = "371202198001010011"  # a 莱城区 number: still valid for a person (docs/domain.md §4)


def failures_of(change: dict) -> pd.DataFrame:
    return check(change)[1]


def fields_of(change: dict, rule: str) -> list[str]:
    f = failures_of(change)
    return sorted(f.loc[f["rule_id"] == rule, "field"])


# --- dates against dates ------------------------------------------------------------------


def test_a_birth_after_the_recording_is_an_error_on_that_owners_id_field():
    # Nobody can be recorded as owner before they are born: the ID (or DBSJ) is wrong; the ID is
    # named because DBSJ is written by the registration system, the ID typed by a clerk.
    change = {"ZCFZJHM": BORN_2024_06_30, "DBSJ": "2024-06-04 10:00:00"}
    assert fields_of(change, "BIRTH_AFTER_DBSJ") == ["ZCFZJHM"]
    assert check(change)[2]["status"].tolist() == ["quarantined"]
    # Born the day before the recording: a newborn heir is possible — not flagged, no warning either.
    assert "BIRTH_AFTER_DBSJ" not in check({"ZCFZJHM": BORN_2024_06_30, "DBSJ": "2024-07-01 00:00:00"})[0]


def test_a_birth_in_the_future_stays_id_birth_date_only():
    # One clear reason: a birth after today is ID_BIRTH_DATE, not also BIRTH_AFTER_DBSJ.
    rules = check({"ZRFZJHM": "110105202503010015"})[0]  # born 2025-03-01, after as_of 2024-12-31
    assert "ID_BIRTH_DATE" in rules
    assert "BIRTH_AFTER_DBSJ" not in rules


def test_an_owner_over_120_is_a_warning_and_a_minor_is_not_flagged():
    # The oldest verified person lived to 122: over 120 is almost surely a mistyped year, a
    # warning; a minor may lawfully own (gift, inheritance, guardian acting), so no flag.
    rules, failures, outcome = check({"ZCFZJHM": BORN_1900})
    assert "OWNER_AGE" in rules and outcome["status"].tolist() == ["passed"]
    assert list(failures.loc[failures["rule_id"] == "OWNER_AGE", "field"]) == ["ZCFZJHM"]
    minor = "11010520100101001" + "10X98765432"[sum(int(d) * w for d, w in zip("11010520100101001", crossfield._WEIGHTS)) % 11]
    assert check({"ZRFZJHM": minor})[0] == set()


def test_certificate_year_after_the_recording_year_is_an_error_on_bdcqzh():
    # The certificate is issued at or after 登簿: its year can never be later than DBSJ's.
    assert fields_of({"BDCQZH": "鲁(2025)济南市不动产权第0000001号", "DBSJ": "2024-06-04 10:00:00"}, "CERT_YEAR_AFTER_DBSJ") == ["BDCQZH"]
    # A full-width certificate is normalised first (docs/domain.md §4): same verdict.
    assert fields_of({"BDCQZH": "鲁（2025）济南市不动产权第0000001号"}, "CERT_YEAR_AFTER_DBSJ") == ["BDCQZH"]
    # The same year, and an earlier one (the certificate the transfer rests on), are fine.
    assert check({"BDCQZH": "鲁(2024)济南市不动产证明第0000001号"})[0] == set()
    assert check({"BDCQZH": "鲁(2016)济南市不动产权第0000001号"})[0] == set()


def test_a_certificate_year_before_the_unified_certificate_is_a_warning():
    # 《不动产登记暂行条例》 took force 2015-03-01; no 不动产权 certificate carries an earlier year.
    rules, _, outcome = check({"BDCQZH": "鲁(2013)济南市不动产权第0000001号"})
    assert rules == {"CERT_YEAR_OLD"} and outcome["status"].tolist() == ["passed"]


# --- places against places ----------------------------------------------------------------


def test_certificate_place_of_another_city_is_a_warning():
    rules, failures, outcome = check({"BDCQZH": "鲁(2021)青岛市不动产权第0000001号"})
    assert rules == {"CERT_PLACE"} and outcome["status"].tolist() == ["passed"]
    # The county itself, the city with or without 市: all name XZQH 370102's place.
    for place in ("历下区", "济南市", "济南"):
        assert check({"BDCQZH": f"鲁(2021){place}不动产权第0000001号"})[0] == set(), place


def test_an_institution_registered_for_another_county_blocks_only_that_utility():
    # W0001 is registered for 370102 (历下区); the property is in 370103 (市中区): the water
    # work order would go to 历下's utility. Electricity still goes.
    change = {"XZQH": "370103", "FWZL": "山东省济南市市中区经七路1号"}
    rules, failures, outcome = check(change)
    assert rules == {"INSTITUTION_COUNTY"}
    row = failures.iloc[0]
    assert (row["field"], row["utility"], row["value"], row["scope"]) == ("GSJGBM", "water", "W0001", "utility")
    assert outcome["status"].tolist() == ["partial"] and outcome["blocked"].tolist() == ["water"]
    zh, en = message("INSTITUTION_COUNTY", "GSJGBM")
    assert "供水机构编码（GSJGBM）" in zh and en.startswith("GSJGBM:")


def test_an_institution_serving_several_counties_is_registered_once_per_county():
    # Annex 2 is filled in county by county: a company serving 历下 and 市中 appears under both.
    registry = pd.concat([REGISTRY, pd.DataFrame([("water", "W0001", "济南水务集团有限公司", "370103")], columns=REGISTRY.columns)])
    ctx = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=registry, as_of=datetime(2024, 12, 31, 23, 59),
                        xzqh_history=reference.xzqh_history())
    assert check({"XZQH": "370103", "FWZL": "山东省济南市市中区经七路1号"}, ctx=ctx)[0] == set()


def test_an_unregistered_institution_stays_institution_unknown_only():
    assert check({"GSJGBM": "W9999"})[0] == {"INSTITUTION_UNKNOWN"}


def test_a_retired_county_code_is_its_own_error_and_never_a_crash():
    # 莱芜市 (371200) was abolished in 2019 (国函〔2019〕4号): 371202 莱城区 became 370116 莱芜区.
    rules, failures, outcome = check({"XZQH": "371202", "FWZL": "山东省莱芜市莱城区凤城大街1号", "YSHH": None, "GSJGBM": None, "GSJGMC": None})
    assert rules == {"XZQH_RETIRED"} and outcome["status"].tolist() == ["quarantined"]
    assert failures.iloc[0]["value"] == "371202"
    assert "370116" in message("XZQH_RETIRED", "XZQH")[0]
    assert reference.xzqh_history()["371203"].successor == "370117"


@pytest.mark.parametrize("code", ["379999", "370000", "371200", "000000", "37010", "ABCDEF"])
def test_an_unknown_county_code_is_a_clear_error(code):
    rules, failures, _ = check({"XZQH": code})
    assert "XZQH_COUNTY" in rules
    assert list(failures.loc[failures["rule_id"] == "XZQH_COUNTY", "value"]) == [code]


# --- owners against owners ----------------------------------------------------------------


def test_one_id_for_two_owners_on_one_side_is_an_error_on_that_side():
    change = {"ZCFXM": "李四、王五", "ZCFZJZL": "1、1", "ZCFZJHM": "360426199101010071、360426199101010071", "ZCFLXDH": "13812345678、13812345678"}
    assert fields_of(change, "OWNER_ID_REPEATED") == ["ZCFZJHM"]
    assert check(change)[2]["status"].tolist() == ["quarantined"]


def test_buyer_also_seller_is_a_warning():
    # 张三 owns with 李四 and buys 李四's share: the buyers (owners after the transfer) list 张三
    # again. Lawful, so a warning for a person to look at, not a quarantine.
    change = {"ZCFZJHM": "11010519491231002X,360426199101010071", "ZCFXM": "张三,李四", "ZCFZJZL": "1,1", "ZCFLXDH": "13812345678,13812345678"}
    rules, failures, outcome = check(change)
    assert rules == {"BUYER_IS_SELLER"} and outcome["status"].tolist() == ["passed"]


def test_a_residence_permit_is_checked_like_a_resident_id():
    permit = "81000020240701001"
    permit += "10X98765432"[sum(int(d) * w for d, w in zip(permit, crossfield._WEIGHTS)) % 11]
    assert fields_of({"ZRFZJZL": "2", "ZRFZJHM": permit, "DBSJ": "2024-06-04 10:00:00"}, "BIRTH_AFTER_DBSJ") == ["ZRFZJHM"]


def test_birth_date_reads_only_well_formed_numbers():
    assert crossfield.birth_date("11010519491231002X", "1").isoformat() == "1949-12-31"
    assert crossfield.birth_date("110105194912310021", "1") is None  # wrong check character
    assert crossfield.birth_date("11010519491231002X", "3") is None  # a passport number
    assert crossfield.birth_date("110105491231002", "1") is None  # 15 digits


def test_cross_checks_on_many_rows_in_one_block_match_row_by_row():
    rows = [BASE, {**BASE, "BDCQZH": "鲁(2030)济南市不动产权第0000001号"}, {**BASE, "ZCFZJHM": BORN_1900}, {**BASE, "XZQH": "371203"}]
    frame = pd.DataFrame([{**r, "OP": "I", "ROWGUID": f"g{i}"} for i, r in enumerate(rows)], columns=["OP", *FIELD_CODES])
    from tests.unit.transforms.cohandling.test_rules import CTX

    failures, _ = evaluate(normalize_records(frame), CTX)
    got = sorted(zip(failures["row"], failures["rule_id"]))
    assert (1, "CERT_YEAR_AFTER_DBSJ") in got and (2, "OWNER_AGE") in got and (3, "XZQH_RETIRED") in got
    assert not [g for g in got if g[0] == 0]


# --- code tables ---------------------------------------------------------------------------


def test_id_types_map_to_national_codes_both_ways():
    assert codetables.to_national(ID_TYPE_TABLE, "1") == "111"
    assert codetables.to_national(ID_TYPE_TABLE, "4") == "113"
    assert codetables.to_national(ID_TYPE_TABLE, "3") == "414"
    assert codetables.from_national(ID_TYPE_TABLE, "111") == "1"
    assert codetables.to_national(ID_TYPE_TABLE, "8") is None  # a company code: no personal document
    assert codetables.to_national(ID_TYPE_TABLE, "77") is None  # unknown code: None, no KeyError
    assert codetables.from_national(ID_TYPE_TABLE, "999") is None
    assert {"516", "511", "553"} <= set(NATIONAL_ID_TYPES)


@pytest.mark.parametrize(("zjzl", "number", "national", "source"), [
    ("1", "11010519491231002X", "111", "身份证 → 居民身份证 (GA/T 2000.156; GB 11643 example number)"),
    ("3", "E12345678", "414", "护照 → 普通护照 (GA/T 2000.156)"),
    ("4", "11010519491231002X", "113", "户口簿 (GA/T 2000.156)"),
    ("5", "军字第2001988号", "114", "军官证 → 中国人民解放军军官证 (GA/T 2000.156)"),
    ("99", "ANY-DOC-1", "990", "其它 → 其他证件 (GA/T 2000.156)"),
    ("2", "H12345678", "516", "港澳居民来往内地通行证, 2013 card: H/M + 8 digits (出入境管理局 card layout)"),
    ("2", "M1234567801", "516", "the same permit, older card: H/M + 10 digits"),
    ("2", "12345678", "511", "台湾居民来往大陆通行证, 2015 card: 8 digits"),
    ("2", "810000199408230021", None, "港澳台居民居住证 (GB 11643 layout, 810000): no national code in the shipped table"),
    ("2", "", None, "no number: nothing to decide by"),
    ("8", "91370100MA3C5XXX1X", None, "统一社会信用代码: an organisation, not a personal document"),
    ("77", "whatever", None, "a code the table does not know: None, never a KeyError"),
    (None, None, None, "no code at all"),
])
def test_each_document_gets_its_national_code_for_packages_leaving_the_province(zjzl, number, national, source):
    assert codetables.national_code_for(ID_TYPE_TABLE, NATIONAL_ID_TYPES, zjzl, number) == national, source


def test_a_permit_code_missing_from_the_national_table_is_not_invented():
    without = {k: v for k, v in NATIONAL_ID_TYPES.items() if k != "516"}
    assert codetables.national_code_for(ID_TYPE_TABLE, without, "2", "H12345678") is None


def test_utility_types_come_from_the_table():
    assert UTILITIES["water"] == ("YSHH", "GSJGBM", "GSJGMC") and UTILITIES["electricity"] == ("YDHH", None, None)


@pytest.mark.parametrize(("text", "where"), [
    ("code,name,national_code,national_name,national_verified\n1,身份证,999,不存在,no\n", "national_code='999'"),
    ("code,name,national_code,national_name,national_verified\n1,身份证,111,居民身份证,no\n1,身份证,111,居民身份证,no\n", "重复"),
    ("code,name,national_code,national_name,national_verified\nX1,身份证,,,no\n", "code='X1'"),
    ("code,name,national_code,national_name,national_verified\n1,身份证,,,maybe\n", "national_verified='maybe'"),
    ("code,name\n1,身份证\n", "missing columns"),
])
def test_a_bad_id_type_table_is_refused_with_row_and_column(text, where):
    with pytest.raises(codetables.CodeTableError, match=where.replace("(", r"\(")):
        codetables.parse_id_types(codetables.rows_of(text), NATIONAL_ID_TYPES)


@pytest.mark.parametrize(("row", "where"), [
    ("370102,历下区,2019,370116,莱芜区,x,yes", "仍是现行代码"),  # a code in force cannot be retired
    ("371202,莱城区,2019,379999,莱芜区,x,yes", "successor='379999'"),  # unknown successor
    ("371202,莱城区,2019,370116,历下区,x,yes", "successor='370116'"),  # successor's name wrong
    ("110101,东城区,2019,370116,莱芜区,x,yes", "code='110101'"),  # not Shandong
    ("371202,莱城区,19,370116,莱芜区,x,yes", "retired_in='19'"),
])
def test_a_bad_county_history_is_refused(row, where):
    current = {d.code: d.name for d in reference.divisions().values() if d.level == "county"}
    text = "code,name,retired_in,successor,successor_name,change,verified\n" + row + "\n"
    with pytest.raises(codetables.CodeTableError, match=where):
        codetables.parse_xzqh_history(codetables.rows_of(text), current)


def test_a_bad_utility_table_is_refused():
    text = "utility,label,account_field,code_field,name_field\nwater,水,YSHH,GSJGBM,\n"
    with pytest.raises(codetables.CodeTableError, match="utility='water'"):
        codetables.parse_utility_types(codetables.rows_of(text), FIELD_CODES)
    text = "utility,label,account_field,code_field,name_field\nsteam,汽,ZQHH,,\n"
    with pytest.raises(codetables.CodeTableError, match="account_field='ZQHH'"):
        codetables.parse_utility_types(codetables.rows_of(text), FIELD_CODES)


def test_the_shipped_history_holds_together():
    history = reference.xzqh_history()
    assert history["371202"].successor_name == "莱芜区"
    assert not set(history) & {d.code for d in reference.counties()}
    assert np.all([h.successor in {d.code for d in reference.counties()} for h in history.values()])
