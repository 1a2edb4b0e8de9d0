"""Remote-collection checklist forms (异地代收材料清单) as counties fill them, and as they break:
exact per-row issues, and a list with a bad row never loaded in part."""

from __future__ import annotations

from datetime import date

from connectors.form_inbox import Sheet
from jobs.common import reference
from transforms.common.form_sheets import Places
from transforms.remote.checklists import checklist_groups, parse_business_type, parse_checklist, parse_county

PLACES = Places(reference.divisions())
HEAD = ["县（市、区）", "业务类型", "材料编码", "材料名称", "是否必须", "是否需要\n纸质原件", "备注"]


def form(rows, preamble=None) -> list[Sheet]:
    lines = preamble if preamble is not None else [["异地代收服务材料清单"], ["城市：济南市", "", "生效日期：2024-07-01"]]
    grid = lines + [HEAD] + rows
    return [Sheet("材料清单", [(i, list(r)) for i, r in enumerate(grid, start=1)])]


def test_a_checklist_filled_as_a_county_fills_it():
    sheets = form([
        ["历下区", "抵押登记", "SQS", "不动产登记申请书", "是", "否", ""],
        ["", "", "SFZM", "申请人身份证明", "是", "", ""],  # county and type merged / left blank: carried down; paper blank = 否
        ["", "", "ＱＳＺＳ", "不动产权属证书", "必须", "是", "收回原证"],
        ["", "变更登记（更名更址）", "SQS", "不动产登记申请书", "是", "否", ""],
        ["", "", "BGZM", "变更证明材料", "是", "否", ""],
        ["", "", "", "", "", "", ""],  # a blank line
        ["370103", "04", "sqs", "不动产登记申请书", "是", "否", ""],
        ["110105 北京市朝阳区", "抵押登记", "SQS", "不动产登记申请书", "是", "否", ""],  # another province's county, by code
        ["填表说明：材料编码以省平台为准", "", "", "", "", "", ""],
    ])
    parsed = parse_checklist(sheets, file="异地代收材料清单_济南市.xlsx", places=PLACES)
    assert parsed.issues == []
    assert (parsed.kind, parsed.city_code, parsed.effective) == ("checklist", "370100", date(2024, 7, 1))
    assert [(r["row"], r["xzqh"], r["business_type"], r["material_code"], r["required"], r["paper_original"]) for r in parsed.rows] == [
        (4, "370102", "02", "SQS", True, False),
        (5, "370102", "02", "SFZM", True, False),
        (6, "370102", "02", "QSZS", True, True),
        (7, "370102", "03", "SQS", True, False),
        (8, "370102", "03", "BGZM", True, False),
        (10, "370103", "04", "SQS", True, False),
        (11, "110105", "02", "SQS", True, False),
    ]
    assert list(checklist_groups(parsed.rows)) == [("370102", "02"), ("370102", "03"), ("370103", "04"), ("110105", "02")]


def test_a_broken_checklist_names_each_bad_row_and_column_and_loads_only_whole_good_lists():
    ok = ["是", "否", ""]
    sheets = form([
        ["历下区", "抵押登记", "SQS", "不动产登记申请书", *ok],       # 4: good, but its list breaks on row 5
        ["", "", "SQS", "申请书（重复）", *ok],                        # 5: duplicate code
        ["历城县", "抵押登记", "SQS", "不动产登记申请书", *ok],       # 6: no such county in Jinan
        ["市中区", "二手房转移登记", "SQS", "不动产登记申请书", *ok],  # 7: not a remote-collection type
        ["市中区", "过户登记", "SQS", "不动产登记申请书", *ok],       # 8: unknown type
        ["槐荫区", "预告登记", "", "申请书", *ok],                    # 9: no material code
        ["", "", "YS HT#", "预售合同", *ok],                         # 10: bad code
        ["", "", "SFZM", "", *ok],                                   # 11: no material name
        ["", "", "SFZM2", "身份证明", "可能", "否", ""],              # 12: neither 是 nor 否
        ["", "", "SFZM3", "身份证明", "", "否", ""],                  # 13: 是否必须 left blank
        ["", "", "SFZM4", "身份证明", "是", "原件", ""],              # 14: neither 是 nor 否
        ["天桥区", "新建商品房转移登记", "SQS", "不动产登记申请书", *ok],  # 15: good
        ["370211", "抵押登记", "SQS", "不动产登记申请书", *ok],       # 16: a Qingdao county on Jinan's form
        ["990101", "抵押登记", "SQS", "不动产登记申请书", *ok],       # 17: not a county code
    ])
    parsed = parse_checklist(sheets, file="清单.xlsx", places=PLACES)
    assert [(i.row, i.column, i.severity, i.rule) for i in parsed.issues] == [
        (5, "C 材料编码", "error", "FORM_CODE_DUPLICATE"),
        (6, "A 县（市、区）", "error", "FORM_COUNTY_UNKNOWN"),
        (7, "B 业务类型", "error", "CHECKLIST_TYPE_NOT_REMOTE"),
        (8, "B 业务类型", "error", "FORM_TYPE_UNKNOWN"),
        (9, "C 材料编码", "error", "FORM_REQUIRED"),
        (10, "C 材料编码", "error", "FORM_CODE_INVALID"),
        (11, "D 材料名称", "error", "FORM_REQUIRED"),
        (12, "E 是否必须", "error", "FORM_YES_NO"),
        (13, "E 是否必须", "error", "FORM_REQUIRED"),
        (14, "F 是否需要纸质原件", "error", "FORM_YES_NO"),
        (16, "A 县（市、区）", "error", "FORM_COUNTY_UNKNOWN"),
        (17, "A 县（市、区）", "error", "FORM_COUNTY_UNKNOWN"),
        (4, None, "error", "CHECKLIST_INCOMPLETE"),
        (9, None, "error", "CHECKLIST_INCOMPLETE"),
    ]
    messages = {(i.row, i.rule): i.message for i in parsed.issues}
    assert messages[(5, "FORM_CODE_DUPLICATE")] == "材料编码“SQS”在该县该业务类型下与第4行重复"
    assert messages[(6, "FORM_COUNTY_UNKNOWN")] == "县（市、区）“历城县”不是济南市的县（市、区）"
    assert messages[(7, "CHECKLIST_TYPE_NOT_REMOTE")] == "业务类型“二手房转移登记”不在异地代收范围（预告登记、抵押登记、变更登记、补换证、新建商品房转移登记）"
    assert messages[(12, "FORM_YES_NO")] == "是否必须“可能”应为 是 或 否"
    assert messages[(16, "FORM_COUNTY_UNKNOWN")] == "县（市、区）“370211”（黄岛区）不属于济南市"
    assert messages[(17, "FORM_COUNTY_UNKNOWN")] == "县（市、区）“990101”不是县级行政区划代码"
    assert messages[(4, "CHECKLIST_INCOMPLETE")] == "370102 抵押登记的材料清单第5行有错误：整张清单未载入，原清单继续有效"
    assert str(parsed.issues[0]) == "清单.xlsx 工作表 材料清单 第5行 C 材料编码列: [error FORM_CODE_DUPLICATE] 材料编码“SQS”在该县该业务类型下与第4行重复"
    # Only the whole good list (天桥区 新建商品房转移登记) loads; 历下区 抵押登记 and 槐荫区 预告登记 keep the lists in force.
    assert [(r["row"], r["xzqh"], r["business_type"]) for r in parsed.rows] == [(15, "370105", "05")]


def test_what_cannot_be_read_as_a_checklist():
    no_header = parse_checklist([Sheet("Sheet1", [(1, ["你好"]), (2, ["世界"])])], file="x.csv", places=PLACES)
    assert [(i.rule, i.severity) for i in no_header.issues] == [("FORM_NO_HEADER", "error")]
    missing = parse_checklist(form([], preamble=[]), file="x.csv", places=PLACES)
    assert missing.issues == []  # all columns there, no rows
    narrow = [Sheet("s", [(1, ["县（市、区）", "材料编码", "材料名称"]), (2, ["历下区", "SQS", "申请书"])])]
    parsed = parse_checklist(narrow, file="x.csv", places=PLACES)
    assert [(i.row, i.rule, i.message) for i in parsed.issues] == [(1, "FORM_COLUMN_MISSING", "表头缺少列：业务类型、是否必须")]
    bad_date = parse_checklist(form([["历下区", "抵押登记", "SQS", "申请书", "是", "否", ""]], preamble=[["城市：济南市", "生效日期：2024-13-01"]]),
                               file="x.csv", places=PLACES)
    assert [(i.rule, i.message) for i in bad_date.issues] == [("FORM_DATE_INVALID", "生效日期“2024-13-01”不是有效日期")]


def test_business_types_and_counties_as_forms_write_them():
    assert parse_business_type("变更登记(更名更址)") == ("03", None)
    assert parse_business_type("０５") == ("05", None)
    assert parse_business_type("补证")[0] == "04"
    assert parse_business_type("查封登记") == ("12", None)  # known, but not accepted: the parser says so
    assert parse_business_type("")[1] == "业务类型未填写"
    assert parse_county("历下", PLACES, "370100") == ("370102", None)
    assert parse_county("320102", PLACES, None) == ("320102", None)
    assert parse_county("320100", PLACES, None) == (None, "“320100”不是县级行政区划代码")
