"""Each Annex 1 rule on literal records: one that passes and one that fails, at least."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from jobs.common import reference
from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.normalize import normalize_records
from transforms.cohandling.record_rules import evaluate
from transforms.cohandling.rule_catalogue import RULES, build_context, message

REGISTRY = pd.DataFrame(
    [
        ("water", "W0001", "济南水务集团有限公司", "370102"),
        ("gas", "G0001", "济南港华燃气有限公司", "370102"),
        ("heat", "H0001", "济南热力集团有限公司（历下分公司）", "370102"),
    ],
    columns=["utility", "code", "name", "xzqh"],
)
CTX = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=REGISTRY, as_of=datetime(2024, 12, 31, 23, 59),
                    xzqh_history=reference.xzqh_history())
BASE = {
    "ROWGUID": "7d9f2c1e-0000-4000-8000-000000000001", "YCYWH": "202406040000000001",
    "ZRFXM": "张三", "ZRFZJZL": "1", "ZRFZJHM": "11010519491231002X", "ZRFLXDH": "13812345678",
    "ZCFXM": "李四", "ZCFZJZL": "1", "ZCFZJHM": "360426199101010071", "ZCFLXDH": "0531-88557856",
    "XZQH": "370102", "FWZL": "山东省济南市历下区泉城路1号3号楼2单元501室", "FWJZMJ": "89.5",
    "BDCQZH": "鲁(2021)济南市不动产权第0000001号", "DBSJ": "2024-06-04 10:00:00",
    "YDHH": "0123456789", "YSHH": "12345678", "GSJGBM": "W0001", "GSJGMC": "济南水务集团有限公司",
    "YQHH": None, "RQJGBM": None, "RQJGMC": None, "YNHH": None, "GRJGBM": None, "GRJGMC": None,
}


def check(*changes: dict, ctx=CTX) -> tuple[set[str], pd.DataFrame, pd.DataFrame]:
    rows = [{**BASE, "ROWGUID": f"{BASE['ROWGUID'][:-2]}{i:02d}", "OP": "I", **c} for i, c in enumerate(changes)]
    frame = pd.DataFrame(rows, columns=["OP", *FIELD_CODES])
    failures, outcome = evaluate(normalize_records(frame), ctx)
    return set(failures["rule_id"]), failures, outcome


def rules_of(change: dict) -> set[str]:
    return check(change)[0]


def test_the_base_record_is_clean():
    rules, _, outcome = check({})
    assert rules == set() and list(outcome["status"]) == ["passed"]


CASES = [
    # rule, a record that fails it, a record that passes it
    ("REQUIRED", {"ZRFXM": "  "}, {"ZRFXM": " 张三 "}),
    ("REQUIRED", {"DBSJ": None}, {"DBSJ": "2024/06/04 10:00:00"}),
    ("REQUIRED", {"ROWGUID": " \u3000 "}, {"ROWGUID": "g-1"}),
    ("REQUIRED", {"ROWGUID": ""}, {"ROWGUID": "g-2"}),
    ("ROWGUID_LENGTH", {"ROWGUID": "g" * 65}, {"ROWGUID": "g" * 64}),
    ("ID_CHECKSUM", {"ZRFZJHM": "110105194912310021"}, {"ZRFZJHM": "11010519491231002x"}),
    ("ID_CHECKSUM", {"ZRFZJHM": "360426199101010072"}, {"ZRFZJHM": "３６０４２６１９９１０１０１００７１"}),
    ("ID_BIRTH_DATE", {"ZRFZJHM": "110105199902301234"[:17] + "X"}, {"ZRFZJHM": "44011320141005001X"}),
    ("ID_BIRTH_DATE", {"ZCFZJHM": "110105202503150010"}, {"ZCFZJHM": "360426199101010071"}),
    ("ID_PROVINCE", {"ZRFZJHM": "990105194912310027"}, {"ZRFZJHM": "810000199001010011"}),
    ("ID_LEGACY_15", {"ZRFZJHM": "110105491231002"}, {"ZRFZJHM": "11010519491231002X"}),
    ("ID_FORMAT", {"ZRFZJHM": "1101051949123100"}, {"ZRFZJZL": "3", "ZRFZJHM": "E12345678"}),
    ("ID_FORMAT", {"ZRFZJZL": "2", "ZRFZJHM": "ABC"}, {"ZRFZJZL": "2", "ZRFZJHM": "A123456(3)"}),
    ("ID_TYPE_UNKNOWN", {"ZRFZJZL": "42"}, {"ZRFZJZL": "4"}),
    ("USCC_CHECKSUM", {"ZCFXM": "某公司", "ZCFZJZL": "8", "ZCFZJHM": "91110000600037341M"}, {"ZCFXM": "某公司", "ZCFZJZL": "8", "ZCFZJHM": "91110000600037341L"}),
    ("ID_FORMAT", {"ZCFZJZL": "8", "ZCFZJHM": "91110000600037341"}, {"ZCFZJZL": "6", "ZCFZJHM": "60003734-1"}),
    # GB 11714-1997: 60003734-1 has the right check character, -2 does not.
    ("ORG_CODE_CHECKSUM", {"ZCFZJZL": "6", "ZCFZJHM": "60003734-2"}, {"ZCFZJZL": "6", "ZCFZJHM": "600037341"}),
    ("NAME_FORMAT", {"ZRFXM": "123"}, {"ZRFXM": "阿依古丽・买买提"}),
    ("PHONE", {"ZRFLXDH": "0531-1234567"}, {"ZRFLXDH": "0531-12345678"}),
    ("PHONE", {"ZRFLXDH": "0633-12345678"}, {"ZRFLXDH": "06331234567"}),
    ("PHONE", {"ZRFLXDH": "12812345678"}, {"ZRFLXDH": "+8613812345678"}),
    ("PHONE", {"ZCFLXDH": "电话13912345678"}, {"ZCFLXDH": "010-12345678-801"}),
    ("OWNER_COUNT", {"ZRFXM": "张三,王五", "ZRFZJHM": "11010519491231002X"}, {"ZRFXM": "张三，王五", "ZRFZJZL": "1", "ZRFZJHM": "11010519491231002X、360426199101010071", "ZRFLXDH": "13812345678"}),
    ("XZQH_COUNTY", {"XZQH": "370100"}, {"XZQH": "370103", "FWZL": "济南市市中区经十路1号"}),
    ("XZQH_ZONE", {"XZQH": "370176", "FWZL": "济南市高新区舜华路1号"}, {"XZQH": "370102"}),
    ("ADDRESS_PLACE", {"FWZL": "泉城路1号"}, {"FWZL": "济南市泉城路1号"}),
    ("AREA_FORMAT", {"FWJZMJ": "89.567"}, {"FWJZMJ": "８９.５６"}),
    ("AREA_FORMAT", {"FWJZMJ": "八十九"}, {"FWJZMJ": "89"}),
    ("AREA_POSITIVE", {"FWJZMJ": "0"}, {"FWJZMJ": "0.01"}),
    ("AREA_LARGE", {"FWJZMJ": "12000"}, {"FWJZMJ": "9999.99"}),
    ("CERT_FORMAT", {"BDCQZH": "济南市不动产权第0000001号"}, {"BDCQZH": "鲁（2021）济南市 不动产权第0000001号"}),
    ("CERT_FORMAT", {"BDCQZH": "鲁(2021)济南市不动产权第12号"}, {"BDCQZH": "鲁(2021)济南市不动产证明第000000123号(销)"}),
    ("CERT_LEGACY", {"BDCQZH": "济房权证历字第012345号"}, {"BDCQZH": "鲁(2019)章丘区不动产权第0012345号"}),
    ("DBSJ_FORMAT", {"DBSJ": "2024年6月31日"}, {"DBSJ": "2024年6月4日"}),  # the Chinese form is read (test_rules_variants_formats.py); June has 30 days
    ("DBSJ_FUTURE", {"DBSJ": "2025-01-01 00:00:01"}, {"DBSJ": "2024-12-31T23:00:00"}),
    ("DBSJ_OLD", {"DBSJ": "1989-12-31"}, {"DBSJ": "1990-01-02"}),
    ("UTILITY_NONE", {"YDHH": None, "YSHH": None, "GSJGBM": None, "GSJGMC": None}, {"YSHH": None, "GSJGBM": None, "GSJGMC": None}),
    ("ACCOUNT_INSTITUTION", {"YQHH": "1234567890"}, {"YQHH": "1234567890", "RQJGBM": "G0001", "RQJGMC": "济南港华燃气有限公司"}),
    ("ACCOUNT_INSTITUTION", {"GSJGBM": None}, {"YSHH": None, "GSJGBM": None, "GSJGMC": None}),
    ("INSTITUTION_UNKNOWN", {"GSJGBM": "G0001"}, {"GSJGBM": "w0001"}),
    ("INSTITUTION_NAME", {"GSJGMC": "济南港华燃气有限公司"}, {"GSJGMC": " 济南水务集团有限公司 "}),
    ("INSTITUTION_NAME", {"YNHH": "1", "GRJGBM": "H0001", "GRJGMC": "济南热力集团有限公司"}, {"YNHH": "1", "GRJGBM": "H0001", "GRJGMC": "济南热力集团有限公司(历下分公司)"}),
    # Cross-field checks (transforms/cohandling/crossfield.py; more cases with their reasons in tests/unit/transforms/cohandling/test_crossfield.py).
    ("BIRTH_AFTER_DBSJ", {"ZRFZJHM": "110105202406300010", "DBSJ": "2024-06-04 10:00:00"},
     {"ZRFZJHM": "110105202406300010", "DBSJ": "2024-07-01 10:00:00"}),
    ("OWNER_AGE", {"ZCFZJHM": "11010519000101001X"}, {"ZCFZJHM": "11010519491231002X"}),
    ("OWNER_ID_REPEATED", {"ZRFXM": "张三,王五", "ZRFZJZL": "1,1", "ZRFZJHM": "11010519491231002X,11010519491231002X", "ZRFLXDH": "13812345678,13812345678"},
     {"ZRFXM": "张三,王五", "ZRFZJZL": "1,1", "ZRFZJHM": "11010519491231002X,44011320141005001X", "ZRFLXDH": "13812345678,13812345678"}),
    ("BUYER_IS_SELLER", {"ZCFZJHM": "11010519491231002X"}, {"ZCFZJHM": "360426199101010071"}),
    ("CERT_YEAR_AFTER_DBSJ", {"BDCQZH": "鲁(2025)济南市不动产权第0000001号"}, {"BDCQZH": "鲁(2024)济南市不动产权第0000001号"}),
    ("CERT_YEAR_OLD", {"BDCQZH": "鲁(2012)济南市不动产权第0000001号"}, {"BDCQZH": "鲁(2015)济南市不动产权第0000001号"}),
    ("CERT_PLACE", {"BDCQZH": "鲁(2021)青岛市不动产权第0000001号"}, {"BDCQZH": "鲁(2021)历下区不动产权第0000001号"}),
    ("XZQH_RETIRED", {"XZQH": "371202", "FWZL": "山东省莱芜市莱城区凤城大街1号", "YSHH": None, "GSJGBM": None, "GSJGMC": None},
     {"XZQH": "370116", "FWZL": "山东省济南市莱芜区凤城大街1号", "YSHH": None, "GSJGBM": None, "GSJGMC": None}),
    ("INSTITUTION_COUNTY", {"XZQH": "370103", "FWZL": "山东省济南市市中区经七路1号"}, {"XZQH": "370102"}),
]


@pytest.mark.parametrize(("rule", "failing", "passing"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fails_and_passes(rule, failing, passing):
    assert rule in rules_of(failing)
    assert rule not in rules_of(passing)


def test_every_rule_has_a_case():
    # TEXT_CLEANED is added by validation from what the ingest sanitiser changed (jobs/cohandling/validate_records.py).
    assert {c[0] for c in CASES} | {"ROWGUID_DUPLICATE", "TEXT_CLEANED"} == set(RULES)


def test_a_second_new_record_under_a_rowguid_is_the_duplicate():
    rules, failures, outcome = check({}, {}, {})
    assert rules == set()
    rows = [{**BASE, "OP": "I"}, {**BASE, "OP": "I", "YCYWH": "other"}, {**BASE, "OP": "U"}]
    frame = pd.DataFrame(rows, columns=["OP", *FIELD_CODES])
    failures, outcome = evaluate(normalize_records(frame), CTX)
    assert list(failures.loc[failures["rule_id"] == "ROWGUID_DUPLICATE", "row"]) == [1]
    known = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=REGISTRY, as_of=CTX.as_of, known_rowguids=[BASE["ROWGUID"]])
    failures, _ = evaluate(normalize_records(frame.iloc[[0]]), known)
    assert set(failures["rule_id"]) == {"ROWGUID_DUPLICATE"}


def test_a_utility_error_blocks_only_that_utility():
    _, _, outcome = check({"YQHH": "1234567890", "RQJGBM": "BAD", "RQJGMC": "不存在的燃气公司"})
    assert outcome.loc[0, "status"] == "partial"
    assert outcome.loc[0, "blocked"] == "gas" and outcome.loc[0, "requested"] == "electricity,water,gas"


def test_a_record_whose_only_utility_is_blocked_is_quarantined():
    _, _, outcome = check({"YDHH": None, "GSJGMC": "别的名字"})
    assert outcome.loc[0, "status"] == "quarantined"


def test_warnings_do_not_stop_a_record():
    rules, _, outcome = check({"FWJZMJ": "12000", "XZQH": "370176", "FWZL": "济南市高新区舜华路1号"})
    assert {"AREA_LARGE", "XZQH_ZONE"} <= rules and outcome.loc[0, "status"] == "passed"


def test_failures_report_the_value_as_sent():
    _, failures, _ = check({"ZRFLXDH": " ０５３１-１２３４５６７ "})
    assert failures.loc[failures["rule_id"] == "PHONE", "value"].item() == " ０５３１-１２３４５６７ "


def test_messages_name_the_field_in_both_languages():
    zh, en = message("ID_CHECKSUM", "ZRFZJHM")
    assert zh.startswith("买方证件号码（ZRFZJHM）：") and "MOD 11-2" in en and en.startswith("ZRFZJHM: ")
