"""Each remote-collection rule on literal packages: one that fails it and one that passes, at
least; the routing decision; and the wording a collecting hall reads."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd
import pytest

from jobs.common import reference
from transforms.remote.package_routing import route_packages
from transforms.remote.package_rules import RULES, build_context, code_text, evaluate, parse_local_time, unit_number_ok


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _items(version_id, xzqh, business_type, valid_from, valid_to, items):
    return [(version_id, xzqh, business_type, pd.Timestamp(valid_from), pd.Timestamp(valid_to) if valid_to else pd.NaT, *item) for item in items]


MORTGAGE = [("SQS", "不动产登记申请书", True, False), ("SFZM", "申请人身份证明", True, False), ("QSZS", "不动产权属证书", True, True),
            ("DYHT", "抵押合同", True, False), ("SQWTS", "授权委托书", False, False)]
CHECKLISTS = pd.DataFrame(
    _items(1, "370102", "02", "2021-08-01", "2024-07-01", MORTGAGE)
    + _items(2, "370102", "02", "2024-07-01", None, [*MORTGAGE, ("HKB", "户口簿", True, True)])
    + _items(3, "370102", "04", "2021-08-01", None, [("SQS", "不动产登记申请书", True, False)])
    + _items(4, "110105", "02", "2021-08-01", None, MORTGAGE),
    columns=["version_id", "xzqh", "business_type", "valid_from", "valid_to", "material_code", "material_name", "required", "paper_original"],
)
CTX = build_context(divisions=reference.divisions(), checklists=CHECKLISTS, as_of=datetime(2024, 12, 31, 23, 59), known_bwids={"YD2024010100000001"})

UNIT = "370102003012GB00123F00120034"
PACKAGE = {
    "OP": "I", "BWID": "YD2024060400000007", "SQBH": "SQ2024060400000007", "SJDWDM": "37030201", "SJDWMC": "淄博市淄川区不动产登记中心",
    "SJXZQH": "370302", "SJSJ": "2024-06-04 10:00:00", "SJRY": "王芳", "YWLX": "02", "BDCDYH": UNIT,
    "BDCQZH": "鲁(2019)济南市不动产权第0012345号", "ZL": "济南市历下区泉城路1号3号楼2单元501室", "XZQH": "370102",
}
APPLICANT = {
    "XH": 1, "BWID": "YD2024060400000007", "SQRXM": "张三", "ZJZL": "1", "ZJHM": "11010519491231002X", "SQRLB": "2",
    "HYDDM": "37030201", "HYXZQH": "370302", "SFZDQ": "1", "HTJC": "1", "ZWCJ": "1", "DZQM": "1", "WXJLBH": "WX370302012024060400001",
    "HYSJ": "2024-06-04 09:40:00",
}


def _materials(codes=("SQS", "SFZM", "QSZS", "DYHT"), paper=("QSZS",)) -> list[dict]:
    return [
        {"XH": k, "BWID": "YD2024060400000007", "CLBM": code, "CLMC": code, "YS": "2", "WJDZ": f"ydds/2024/06/04/YD/{k:02d}_{code}.pdf",
         "WJHX": _sha(code.encode()), "SFZZYJ": "1" if code in paper else "0", "FILE_SHA256": _sha(code.encode()), "FILE_SIZE": len(code)}
        for k, code in enumerate(codes, start=1)
    ]


def run(package: dict | None = None, applicants: list[dict] | None = None, materials: list[dict] | None = None, *, extra_packages=(), ctx=CTX):
    """Evaluate one package (CHANGE_SEQ 1) plus any others; returns (failures, outcome)."""
    packages = [{"CHANGE_SEQ": 1, **PACKAGE, **(package or {})}] + [{"CHANGE_SEQ": i, **PACKAGE, **p} for i, p in enumerate(extra_packages, start=2)]
    a = pd.DataFrame([{"CHANGE_SEQ": 1, **x} for x in (applicants if applicants is not None else [APPLICANT])],
                     columns=["CHANGE_SEQ", *APPLICANT])
    m = pd.DataFrame([{"CHANGE_SEQ": 1, **x} for x in (materials if materials is not None else _materials())],
                     columns=["CHANGE_SEQ", *_materials()[0]])
    return evaluate(pd.DataFrame(packages), a, m, ctx)


def caught(failures: pd.DataFrame, row: int = 0) -> set[tuple[str, str, str]]:
    f = failures[failures["row"] == row]
    return set(zip(f["rule_id"], f["field"], f["item"]))


def test_the_base_package_passes_and_routes_to_the_property_county():
    failures, outcome = run()
    assert failures.empty and list(outcome["status"]) == ["passed"] and list(outcome["checklist_version_id"]) == [1]
    routes = route_packages(pd.DataFrame([{"CHANGE_SEQ": 1, **PACKAGE}]), pd.DataFrame([{"CHANGE_SEQ": 1, **m} for m in _materials()]), outcome)
    assert routes.to_dict("records") == [{"channel": "county_system", "destination": "county_system_370102", "paper_collected": True, "paper_handover": True}]


# rule, what makes the base package fail it, and a variant of that change that passes.
PACKAGE_CASES = [
    ("PACKAGE_REQUIRED", "BDCDYH", {"BDCDYH": "  "}, {"BDCDYH": f" {UNIT} "}),
    ("PACKAGE_REQUIRED", "SJDWDM", {"SJDWDM": None}, {"SJDWDM": "37030201"}),
    ("SJSJ_FORMAT", "SJSJ", {"SJSJ": "2024-06-31 10:00:00"}, {"SJSJ": "2024/06/04 10:00:00"}),
    ("SJSJ_FORMAT", "SJSJ", {"SJSJ": "六月四日"}, {"SJSJ": "20240604100000"}),
    ("SJSJ_FUTURE", "SJSJ", {"SJSJ": "2025-01-02 08:00:00"}, {"SJSJ": "2024-06-05T09:00:00"}),
    ("HALL_COUNTY", "SJXZQH", {"SJXZQH": "370300"}, {"SJXZQH": "３７０３０２"}),
    ("HALL_COUNTY", "SJXZQH", {"SJXZQH": "110105"}, {"SJXZQH": "371002"}),
    ("XZQH_UNKNOWN", "XZQH", {"XZQH": "370199", "BDCDYH": "370199" + UNIT[6:]}, {}),
    ("XZQH_UNKNOWN", "XZQH", {"XZQH": "110100", "BDCDYH": "110100" + UNIT[6:]}, {"XZQH": "110105", "BDCDYH": "110105" + UNIT[6:]}),
    ("NOT_REMOTE", "SJXZQH", {"SJXZQH": "370102", "SJDWDM": "37010201"}, {"SJXZQH": "370103", "SJDWDM": "37010301"}),
    ("BUSINESS_TYPE_NOT_REMOTE", "YWLX", {"YWLX": "11"}, {"YWLX": " 02"}),
    ("BUSINESS_TYPE_NOT_REMOTE", "YWLX", {"YWLX": "99"}, {"YWLX": "０２"}),
    ("BUSINESS_TYPE_NOT_OFFERED", "YWLX", {"YWLX": "05"}, {"YWLX": "04"}),
    ("BUSINESS_TYPE_NOT_OFFERED", "YWLX", {"SJSJ": "2021-07-31 16:00:00"}, {"SJSJ": "2021-08-01 08:00:00"}),
    ("UNIT_NUMBER_FORMAT", "BDCDYH", {"BDCDYH": UNIT[:-1]}, {"BDCDYH": UNIT.lower()}),
    ("UNIT_NUMBER_FORMAT", "BDCDYH", {"BDCDYH": UNIT[:12] + "GI" + UNIT[14:]}, {"BDCDYH": UNIT[:12] + "JC" + UNIT[14:]}),
    ("UNIT_NUMBER_FORMAT", "BDCDYH", {"BDCDYH": UNIT[:14] + "00000" + UNIT[19:]}, {"BDCDYH": UNIT[:14] + "00001" + UNIT[19:]}),
    ("UNIT_NUMBER_FORMAT", "BDCDYH", {"BDCDYH": UNIT[:19] + "W" + UNIT[20:]}, {"BDCDYH": UNIT[:19] + "W00000000"}),
    ("UNIT_NUMBER_FORMAT", "BDCDYH", {"BDCDYH": UNIT[:19] + "K" + UNIT[20:]}, {"BDCDYH": "３７０１０２ ００３０１２ ＧＢ００１２３ Ｆ００１２００３４"}),
    ("UNIT_NUMBER_XZQH", "BDCDYH", {"BDCDYH": "370103" + UNIT[6:]}, {"BDCDYH": " 370102" + UNIT[6:]}),
]


@pytest.mark.parametrize("rule, field, bad, good", PACKAGE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(PACKAGE_CASES)])
def test_package_rule(rule, field, bad, good):
    failures, outcome = run(bad)
    assert (rule, field, "") in caught(failures)
    assert outcome["status"][0] == "returned"
    failures, outcome = run(good)
    assert rule not in set(failures["rule_id"]), failures.to_dict("records")
    assert outcome["status"][0] == "passed"


def test_a_second_new_package_under_a_bwid_in_use_is_a_duplicate_but_a_correction_is_not():
    failures, _ = run(extra_packages=[{"OP": "I"}, {"OP": "U"}])
    assert set(failures.loc[failures["rule_id"] == "BWID_DUPLICATE", "row"]) == {1}
    failures, _ = run({"BWID": "yd2024010100000001"})  # taken as new by an earlier run
    assert ("BWID_DUPLICATE", "BWID", "") in caught(failures)


def test_a_cross_province_property_is_checked_against_its_own_list_and_routed_cross_province():
    change = {"XZQH": "110105", "BDCDYH": "110105" + UNIT[6:], "ZL": "北京市朝阳区建国路1号"}
    failures, outcome = run(change)
    assert failures.empty and list(outcome["checklist_version_id"]) == [4]
    routes = route_packages(pd.DataFrame([{"CHANGE_SEQ": 1, **PACKAGE, **change}]), pd.DataFrame([{"CHANGE_SEQ": 1, **m} for m in _materials(paper=())]), outcome)
    assert routes.to_dict("records") == [{"channel": "cross_province", "destination": "cross_province", "paper_collected": False, "paper_handover": False}]


def test_a_checklist_change_applies_from_its_effective_date():
    failures, outcome = run({"SJSJ": "2024-06-30 17:00:00"})
    assert failures.empty and list(outcome["checklist_version_id"]) == [1]
    failures, outcome = run({"SJSJ": "2024-07-01 08:30:00"})
    assert caught(failures) == {("MATERIAL_MISSING", "CLBM", "HKB")} and list(outcome["checklist_version_id"]) == [2]
    with_hkb = _materials(("SQS", "SFZM", "QSZS", "DYHT", "HKB"), paper=("QSZS", "HKB"))
    failures, _ = run({"SJSJ": "2024-07-01 08:30:00"}, materials=with_hkb)
    assert failures.empty


def test_applicant_rules():
    assert caught(run(applicants=[])[0]) == {("APPLICANT_NONE", "SQRXM", "")}
    assert caught(run(applicants=[{**APPLICANT, "SQRXM": " "}])[0]) == {("APPLICANT_REQUIRED", "SQRXM", "SQR#1")}
    assert caught(run(applicants=[{**APPLICANT, "HYDDM": None}])[0]) == {("APPLICANT_REQUIRED", "HYDDM", "SQR#1")}
    assert caught(run(applicants=[{**APPLICANT, "SQRLB": "3"}])[0]) == {("APPLICANT_ROLE", "SQRLB", "SQR#1")}
    assert caught(run(applicants=[{**APPLICANT, "SQRLB": "１"}])[0]) == set()
    assert caught(run(applicants=[{**APPLICANT, "ZJHM": "110105194912310021"}])[0]) == {("APPLICANT_ID", "ZJHM", "SQR#1")}  # check character
    assert caught(run(applicants=[{**APPLICANT, "ZJHM": "110105194902300027"}])[0]) == {("APPLICANT_ID", "ZJHM", "SQR#1")}  # 30 February
    assert caught(run(applicants=[{**APPLICANT, "ZJHM": "11010519491231002x"}])[0]) == set()
    assert caught(run(applicants=[{**APPLICANT, "ZJZL": "3", "ZJHM": "E1234"}])[0]) == set()
    assert caught(run(applicants=[{**APPLICANT, "ZJZL": "3", "ZJHM": "护照E12"}])[0]) == {("APPLICANT_ID", "ZJHM", "SQR#1")}


@pytest.mark.parametrize(("number", "ok", "why"), [
    ("810000199408230021", True, "港澳台居民居住证: 18 digits, GB 11643 check"),
    ("810000199408230022", False, "the same permit with a wrong check character"),
    ("H12345678", True, "港澳居民来往内地通行证 (2013 card): H + 8 digits"),
    ("M1234567801", True, "the same permit copied with its 2-digit issue count"),
    ("12345678", True, "台湾居民来往大陆通行证 (2015 card): 8 digits"),
    ("A123456(3)", True, "HK identity card, the published example"),
    ("Ａ１２３４５６（３）", True, "the same written in full width (NFKC)"),
    ("A123456(7)", False, "HK identity card with a wrong check character"),
    ("A123456789", True, "Taiwan ID, the published example"),
    ("A123456788", False, "Taiwan ID with a wrong check digit"),
    ("K12345678", False, "a travel permit's letter is H or M"),
])
def test_hong_kong_macao_taiwan_documents_are_read_as_the_annex_1_rules_read_them(number, ok, why):
    """Applicants with a 港澳台 document (ZJZL 2) hold one of several: each accepted in its own shape."""
    got = caught(run(applicants=[{**APPLICANT, "ZJZL": "2", "ZJHM": number}])[0])
    assert got == (set() if ok else {("APPLICANT_ID", "ZJHM", "SQR#1")}), why


@pytest.mark.parametrize("field, value", [("SFZDQ", "0"), ("HTJC", None), ("ZWCJ", "否"), ("DZQM", ""), ("WXJLBH", " ")])
def test_identity_incomplete_at_a_collecting_window(field, value):
    failures, outcome = run(applicants=[{**APPLICANT, field: value}])
    assert caught(failures) == {("IDENTITY_INCOMPLETE", field, "SQR#1")}
    assert outcome["status"][0] == "returned"
    assert caught(run(applicants=[{**APPLICANT, field: "是" if field != "WXJLBH" else "WX1"}])[0]) == set()


def test_two_applicants_in_two_places_the_property_side_verifies_last():
    elsewhere = {**APPLICANT, "XH": 2, "SQRXM": "李四", "ZJHM": "360426199101010071", "HYDDM": "37020201", "HYXZQH": "370202"}
    at_property = {**elsewhere, "HYDDM": "37010201", "HYXZQH": "370102", "SFZDQ": "0", "HTJC": "0", "ZWCJ": "0", "DZQM": "0", "WXJLBH": None, "HYSJ": None}
    assert caught(run(applicants=[APPLICANT, elsewhere])[0]) == set()
    assert caught(run(applicants=[APPLICANT, at_property])[0]) == set()  # pending: the property's authority verifies
    incomplete = {**elsewhere, "HTJC": "0"}
    assert caught(run(applicants=[APPLICANT, incomplete])[0]) == {("IDENTITY_INCOMPLETE", "HTJC", "SQR#2")}


def test_material_rules():
    assert caught(run(materials=_materials(("SQS", "SFZM", "QSZS")))[0]) == {("MATERIAL_MISSING", "CLBM", "DYHT")}
    assert caught(run(materials=_materials(("SQS", "SFZM", "QSZS", "DYHT", "SQWTS")))[0]) == set()  # optional given: fine
    lost = _materials()
    lost[1]["FILE_SHA256"] = None
    assert caught(run(materials=lost)[0]) == {("FILE_MISSING", "WJDZ", "CL#2")}
    changed = _materials()
    changed[3]["FILE_SHA256"] = _sha(b"another scan")
    assert caught(run(materials=changed)[0]) == {("FILE_HASH_MISMATCH", "WJHX", "CL#4")}
    upper = _materials()
    upper[3]["WJHX"] = upper[3]["WJHX"].upper()
    assert caught(run(materials=upper)[0]) == set()
    blank = _materials()
    blank[0]["WJHX"] = ""
    assert caught(run(materials=blank)[0]) == {("MATERIAL_REQUIRED", "WJHX", "CL#1")}
    assert caught(run(materials=_materials(paper=()))[0]) == {("PAPER_ORIGINAL_MISSING", "SFZZYJ", "CL#3")}
    failures, outcome = run(materials=_materials(("SQS", "SFZM", "QSZS", "DYHT", "WSPZ")))
    assert caught(failures) == {("MATERIAL_UNLISTED", "CLBM", "CL#5")} and outcome["status"][0] == "passed"  # a warning stops nothing


def test_a_withdrawal_is_withdrawn_and_checked_for_nothing():
    failures, outcome = run({"OP": "D", "SJSJ": None, "BDCDYH": None, "YWLX": None}, applicants=[], materials=[])
    assert failures.empty and list(outcome["status"]) == ["withdrawn"]
    routes = route_packages(pd.DataFrame([{"CHANGE_SEQ": 1, **PACKAGE, "OP": "D"}]), pd.DataFrame(columns=["CHANGE_SEQ", "SFZZYJ"]), outcome)
    assert routes.loc[0, "channel"] == "none" and not routes.loc[0, "paper_handover"]


def test_a_returned_package_goes_back_to_its_collecting_hall_with_reasons_naming_field_and_value():
    failures, outcome = run({"YWLX": "11"}, materials=_materials(("SQS", "SFZM")))
    assert list(outcome["status"]) == ["returned"]
    assert list(failures["message_zh"]) == ["业务类型（YWLX）“11”：业务类型不在异地代收范围（预告登记、抵押登记、变更登记、补换证、新建商品房转移登记）"]
    assert list(failures["message_en"]) == [
        "YWLX '11': business type not accepted for remote collection (advance notice, mortgage, change, certificate replacement, new-build transfer)"]
    routes = route_packages(pd.DataFrame([{"CHANGE_SEQ": 1, **PACKAGE}]), pd.DataFrame([{"CHANGE_SEQ": 1, **m} for m in _materials()]), outcome)
    assert routes.to_dict("records") == [{"channel": "return_to_hall", "destination": "37030201", "paper_collected": True, "paper_handover": False}]
    failures, _ = run(applicants=[{**APPLICANT, "HTJC": "0"}], materials=_materials(("SQS", "SFZM", "QSZS")))
    assert sorted(failures["message_zh"]) == [
        "材料 DYHT 抵押合同：材料编码（CLBM）：缺少属地材料清单要求的必需材料",
        "申请人1（张三）：活体检测（HTJC）“0”：代收窗口身份核验未完成（需身份证件识别、活体检测、指纹采集、电子签名和现场问询记录）",
    ]


def test_every_rule_has_a_case_here():
    import inspect
    import sys

    text = inspect.getsource(sys.modules[__name__])
    assert [r for r in RULES if f'"{r}"' not in text] == []


def test_unit_number_structure_and_helpers():
    values = code_text(pd.Series([UNIT, "３７０１０２００３０１２ｇｂ００１２３Ｆ００１２００３４", UNIT[:-1], None]))
    assert list(unit_number_ok(values)) == [True, True, False, False]
    times = parse_local_time(pd.Series(["2024-06-04 10:00:00", "2024/6/4 10:00:00", "20240604100000", "２０２４-06-04T10:00:00", "x"]))
    assert list(times.iloc[:4]) == [pd.Timestamp("2024-06-04 10:00:00")] * 4 and pd.isna(times.iloc[4])


def test_collected_times_with_an_offset_are_read_as_shandong_time_and_never_stop_the_others():
    got = parse_local_time(pd.Series(["2025-05-01 10:00:00", "2025-05-01T10:00:00+08:00", "2025-05-01T02:00:00Z", "2025-05-01T03:00:00+01:00",
                                      "not a time", None, "20250501100000", "2025/05/01 10:00:00"]))
    ten = pd.Timestamp("2025-05-01 10:00:00")
    assert list(got) == [ten, ten, ten, ten, pd.NaT, pd.NaT, ten, ten]
