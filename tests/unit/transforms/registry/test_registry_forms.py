"""Annex 2 / Annex 3 forms as counties fill them, and as they break: exact per-row issues."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from connectors.form_inbox import Sheet
from jobs.common import reference
from transforms.common.checkdigits import USCC_CHARSET, uscc_check_chars
from transforms.common.form_sheets import Places
from transforms.registry.institution_forms import parse_annex2, parse_annex3, parse_contact, parse_form_date, parse_service_phone, uscc_ok

PLACES = Places(reference.divisions())


def _valid(body: str) -> str:
    """A unified social credit code: the 17-character body and its GB 32100 check character."""
    values = np.array([[USCC_CHARSET.index(c) for c in body]])
    return body + uscc_check_chars(values)[0]


LIXIA_WATER = _valid("91370102MA3C5LXX1")
LIXIA_GAS = _valid("91370102MA3C5LXX2")
LIXIA_HEAT = _valid("91370102MA3C5LXX3")
SHIZHONG_GAS = _valid("91370103MA3C5LXX4")


HEAD = ["县（市、区）", "业务类型\n（水/气/热）", "机构名称", "机构编码", "是否知晓\n10月1日全面开通协办过户", "过户业务\n服务电话", "联系人及\n电话", "协办方式", "文件格式"]
SUB = ["县（市、区）", "业务类型\n（水/气/热）", "机构名称", "机构编码", "是否知晓\n10月1日全面开通协办过户", "区号+座机号码", "姓名+手机号及座机", "协办方式", "文件格式"]


def annex2(rows, preamble=None) -> list[Sheet]:
    lines = preamble if preamble is not None else [["水气热机构信息摸底表"], ["城市：济南市", "", "填表部门：济南市住房和城乡建设局", "", "填表人：刘洋", "电话：0531-66012345"]]
    grid = lines + [HEAD, SUB] + rows
    return [Sheet("Sheet1", [(i, list(r)) for i, r in enumerate(grid, start=1)])]


def test_a_form_filled_as_a_county_fills_it():
    sheets = annex2([
        ["历下区", "水", "济南水务集团历下区分公司", LIXIA_WATER, "是", "0531-86001234", "王伟 13812345678", "配置账号", ""],
        ["", "气", "济南港华燃气有限公司", LIXIA_GAS, "是", "（0531）8600 5678", "李娜13912345678", "", "CSV(GB18030)"],  # county merged: blank
        ["", "", "济南历下区华润燃气有限公司", _valid("91370102MA3C5LXX5"), "否", "０５３１－８６００９９９９", "张强/13712345678/0531-86009999", "", "JSONL"],
        ["", "热", "", "", "", "", "", "", ""],  # the empty slot left under 热
        ["", "", "", "", "", "", "", "", ""],  # a blank line
        ["市中区", "气", "济南市中区燃气有限公司", SHIZHONG_GAS, "是", "400-123-4567", "赵敏 15012345678", "系统对接", "Parquet"],
        ["合计", "燃气公司3个，热力公司0个，供水公司1个", "", "", "", "", "", "", ""],
        ["填表说明：本表由各县（市、区）填写", "", "", "", "", "", "", "", ""],
    ])
    form = parse_annex2(sheets, file="附件2_济南市.xlsx", places=PLACES)
    assert form.issues == []
    assert form.city_code == "370100"
    assert [(r["row"], r["xzqh"], r["utility"], r["code"], r["channel"], r["file_format"]) for r in form.rows] == [
        (5, "370102", "water", LIXIA_WATER, "account", None),  # left empty: no choice (the registry gives a new one XLSX)
        (6, "370102", "gas", LIXIA_GAS, "account", "csv_gb18030"),
        (7, "370102", "gas", _valid("91370102MA3C5LXX5"), "account", "jsonl"),
        (10, "370103", "gas", SHIZHONG_GAS, "system", "parquet"),
    ]
    first, second, third, fourth = form.rows
    assert (first["service_phone"], first["contact_name"], first["contact_mobile"], first["informed"]) == ("0531-86001234", "王伟", "13812345678", True)
    assert second["service_phone"] == "0531-86005678" and second["contact_name"] == "李娜"
    assert third["service_phone"] == "0531-86009999" and third["contact_landline"] == "0531-86009999" and third["informed"] is False
    assert fourth["service_phone"] == "4001234567"


def test_a_broken_form_names_each_bad_row_and_column_and_loads_the_good_rows():
    dup = LIXIA_WATER
    bad_check = LIXIA_GAS[:17] + ("0" if LIXIA_GAS[17] != "0" else "1")
    ok = ["是", "0531-86001234", "王伟 13812345678"]
    sheets = annex2([
        ["历下区", "水", "济南水务集团历下区分公司", LIXIA_WATER, *ok, "配置账号", ""],
        ["历城县", "气", "某燃气公司", _valid("91370102MA3C5LXY1"), *ok, "", ""],  # no such county in Jinan
        ["370999", "气", "某燃气公司", _valid("91370102MA3C5LXY2"), *ok, "", ""],  # unknown county code
        ["370211", "气", "某燃气公司", _valid("91370102MA3C5LXY3"), *ok, "", ""],  # a Qingdao county on Jinan's form
        ["历下区", "水", "重复的供水公司", dup, *ok, "", ""],  # duplicate code
        ["历下区", "气", "济南港华燃气有限公司", LIXIA_GAS, *ok, "微信群", ""],  # unknown channel
        ["历下区", "电", "国网济南供电公司", _valid("91370102MA3C5LXY4"), *ok, "", ""],  # not 水/气/热
        ["历下区", "热", "历下热力", bad_check, *ok, "", ""],  # check character wrong
        ["历下区", "热", "", SHIZHONG_GAS, *ok, "", "Excel"],  # no name, unknown format
        ["历下区", "热", "济南热力有限公司", LIXIA_HEAT, "是", "八六零零一二三四", "刘洋", "", ""],  # loads, with two warnings
    ])
    form = parse_annex2(sheets, file="附件2_济南市.xlsx", places=PLACES)
    got = [(i.row, i.column, i.severity, i.rule) for i in form.issues]
    assert got == [
        (6, "A 县（市、区）", "error", "FORM_COUNTY_UNKNOWN"),
        (7, "A 县（市、区）", "error", "FORM_COUNTY_UNKNOWN"),
        (8, "A 县（市、区）", "error", "FORM_COUNTY_UNKNOWN"),
        (9, "D 机构编码", "error", "FORM_CODE_DUPLICATE"),
        (10, "H 协办方式", "error", "FORM_CHANNEL_UNKNOWN"),
        (11, "B 业务类型（水/气/热）", "error", "FORM_TYPE_UNKNOWN"),
        (12, "D 机构编码", "error", "FORM_CODE_INVALID"),
        (13, "C 机构名称", "error", "FORM_REQUIRED"),
        (13, "I 文件格式", "error", "FORM_FORMAT_UNKNOWN"),
        (14, "F 过户业务服务电话", "warning", "FORM_PHONE_INVALID"),
        (14, "G 联系人及电话", "warning", "FORM_CONTACT_INCOMPLETE"),
    ]
    messages = {i.row: i.message for i in form.issues}
    assert messages[6] == "县（市、区）“历城县”不是济南市的县（市、区）"
    assert messages[7] == "县（市、区）“370999”不是山东省县级行政区划代码"
    assert messages[8] == "县（市、区）“370211”（黄岛区）不属于济南市"
    assert messages[9] == f"机构编码“{dup}”与第5行重复"
    assert messages[10] == "协办方式“微信群”应为 配置账号 或 系统对接"
    assert str(form.issues[0]).startswith("附件2_济南市.xlsx 工作表 Sheet1 第6行 A 县（市、区）列: [error FORM_COUNTY_UNKNOWN]")
    assert [r["row"] for r in form.rows] == [5, 14]  # the good rows still load


def test_totals_row_that_disagrees_with_the_table_is_a_warning():
    sheets = annex2([
        ["历下区", "水", "济南水务集团历下区分公司", LIXIA_WATER, "是", "0531-86001234", "王伟 13812345678", "", ""],
        ["合计", "燃气公司2个，热力公司0个，供水公司1个"],
    ])
    form = parse_annex2(sheets, file="f.csv", places=PLACES)
    assert [(i.row, i.rule, i.severity) for i in form.issues] == [(6, "FORM_TOTAL_MISMATCH", "warning")]
    assert form.issues[0].message == "合计写燃气公司2个，表中填了0个"
    assert len(form.rows) == 1


def test_form_without_the_annex2_headings_or_city():
    form = parse_annex2([Sheet("Sheet1", [(1, ["名称", "编码"]), (2, ["甲", "乙"])])], file="x.xlsx", places=PLACES)
    assert [i.rule for i in form.issues] == ["FORM_NO_HEADER"]
    unknown_city = annex2([["历下区", "水", "甲", LIXIA_WATER]], preamble=[["城市：长安市"]])
    form = parse_annex2(unknown_city, file="x.xlsx", places=PLACES)
    assert [i.rule for i in form.issues][:1] == ["FORM_CITY_UNKNOWN"]


def test_effective_date_above_the_table():
    row = ["历下区", "水", "甲公司", LIXIA_WATER, "是", "0531-86001234", "王伟 13812345678"]
    form = parse_annex2(annex2([row], preamble=[["城市：济南市", "生效日期：2022年3月1日"]]), file="x", places=PLACES)
    assert form.effective == date(2022, 3, 1) and len(form.rows) == 1
    form = parse_annex2(annex2([row], preamble=[["城市：济南市", "生效日期：2022-02-30"]]), file="x", places=PLACES)
    assert [i.rule for i in form.issues] == ["FORM_DATE_INVALID"]


def test_annex3_as_the_letter_is_written():
    lines = [
        ["济南市不动产登记与水气热过户网上协同办理开通申请"],
        ["经调度，我市历下区、章丘区县（市、区）水气热机构已统一了……请予开通查询权限。其中："],
        ["1. 历下区共有燃气公司2个、热力公司1个，供水公司1个，共同申请于7月15日开通。"],
        ["2. 章丘区共有燃气公司1个、热力公司0个，供水公司2个，共同申请于８月１日开通。"],
        ["3. 莱芜县共有燃气公司1个、热力公司0个，供水公司2个，共同申请于8月1日开通。"],
        ["部门 1（盖章）：济南市住房和城乡建设局"],
        ["2021 年 6 月 20 日"],
    ]
    form = parse_annex3([Sheet("Sheet1", [(i, r) for i, r in enumerate(lines, start=1)])], file="附件3.docx.csv", places=PLACES)
    assert [(r["row"], r["xzqh"], r["gas"], r["heat"], r["water"], r["open_date"]) for r in form.rows] == [
        (3, "370102", 2, 1, 1, date(2021, 7, 15)),
        (4, "370114", 1, 0, 2, date(2021, 8, 1)),
    ]
    assert [(i.row, i.rule) for i in form.issues] == [(5, "FORM_COUNTY_UNKNOWN")]


def test_annex3_table_with_bad_dates_counts_and_duplicates():
    rows = [
        ["青岛市不动产登记与水气热过户网上协同办理开通申请"],
        ["序号", "县（市、区）", "燃气公司（个）", "热力公司（个）", "供水公司（个）", "申请开通日期"],
        ["1", "市南区", "2", "1", "1", "2021-07-15"],
        ["2", "市北区", "2", "1", "1", "2021-02-30"],
        ["3", "黄岛区", "两", "1", "1", "2021/9/1"],
        ["4", "崂山区", "1", "0", "1", "下个月"],
        ["5", "市南区", "1", "0", "1", "2021年8月1日"],
        ["6", "李沧区", "1", "", "1", "9月1日"],  # no year anywhere on the form
    ]
    form = parse_annex3([Sheet("开通申请", [(i, r) for i, r in enumerate(rows, start=1)])], file="附件3_青岛市.xlsx", places=PLACES)
    assert [(r["row"], r["xzqh"], r["open_date"]) for r in form.rows] == [(3, "370202", date(2021, 7, 15))]
    assert [(i.row, i.column, i.rule) for i in form.issues] == [
        (4, "F 申请开通日期", "FORM_DATE_INVALID"),
        (5, "C 燃气公司（个）", "FORM_COUNT_INVALID"),
        (6, "F 申请开通日期", "FORM_DATE_INVALID"),
        (7, "B 县（市、区）", "FORM_COUNTY_DUPLICATE"),
        (8, "F 申请开通日期", "FORM_DATE_INVALID"),
    ]
    assert form.issues[0].message == "开通日期“2021-02-30”不是有效日期"
    assert form.issues[4].message == "开通日期“9月1日”没有年份，表中也没有申请日期可推断年份"


@pytest.mark.parametrize(("text", "year", "expected"), [
    ("2021-07-15", None, date(2021, 7, 15)), ("2021/7/5", None, date(2021, 7, 5)), ("2021.7.5", None, date(2021, 7, 5)),
    ("2021年7月5日", None, date(2021, 7, 5)), ("20210705", None, date(2021, 7, 5)), ("7月5日", 2021, date(2021, 7, 5)),
    ("２０２１－０７－１５", None, date(2021, 7, 15)), ("2021-07-15 00:00:00", None, date(2021, 7, 15)),
    ("7月5日", None, None), ("2021-13-01", None, None), ("明天", None, None), ("", None, None),
])
def test_form_dates(text, year, expected):
    assert parse_form_date(text, year=year)[0] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("0531-88001234", "0531-88001234"), ("(0531)88001234", "0531-88001234"), ("0531 8800 1234", "0531-88001234"),
    ("０５３１－８８００１２３４", "0531-88001234"), ("0634-6212345转123", "0634-6212345-123"), ("13812345678", "13812345678"),
    ("0531-88001234，0531-88004321", "0531-88001234,0531-88004321"), ("4001234567", "4001234567"), ("88001234", None), ("无", None),
])
def test_service_phones(text, expected):
    assert parse_service_phone(text)[0] == expected


def test_contacts():
    assert parse_contact("王伟 13812345678") == ("王伟", "13812345678", None, None)
    assert parse_contact("王伟13812345678/0531-86001234") == ("王伟", "13812345678", "0531-86001234", None)
    assert parse_contact("13812345678")[3] == "缺少姓名"
    assert parse_contact("王伟")[3] == "缺少电话"


def test_uscc_ok():
    assert uscc_ok("91110000600037341L")
    assert not uscc_ok("91110000600037341M") and not uscc_ok("91110000600037341") and not uscc_ok("9111000060003734IL")


def test_an_effective_date_written_with_spaces_is_read_and_an_unreadable_one_stops_the_form():
    row = ["历下区", "水", "甲公司", LIXIA_WATER, "是", "0531-86001234", "王伟 13812345678"]
    form = parse_annex2(annex2([row], preamble=[["城市：济南市  生效日期：2026 年 12 月 1 日"]]), file="x", places=PLACES)
    assert form.effective == date(2026, 12, 1) and len(form.rows) == 1 and form.city_code == "370100"
    form = parse_annex2(annex2([row], preamble=[["城市：济南市", "生效日期：下个月"]]), file="x", places=PLACES)
    assert form.rows == [] and [i.rule for i in form.issues] == ["FORM_DATE_INVALID"] and "整张表未载入" in form.issues[0].message
