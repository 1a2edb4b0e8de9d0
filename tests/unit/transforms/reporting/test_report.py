"""The reconciliation report tables and page: every number against hand-counted truth, the balance, masking, escaping."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from transforms.cohandling.quarantine import quarantine_list
from transforms.reporting.cohandling_html import render_html
from transforms.reporting.cohandling_tables import METRICS, ReportBalanceError, report_tables

PERIOD = (date(2026, 11, 1), date(2026, 11, 30))
AS_OF = datetime(2026, 12, 1, 8, 0)

# Institution codes carry letters, as most unified social credit codes do: an all-digit one would
# look like an ID number to the "no full ID anywhere" check below.
W1, G1, H1, W2, W3, G3 = "91370102MA3W0001XA", "91370102MA3G0001XB", "91370103MA3H0001XC", "91370202MA3W0002XD", "91370303MA3W0003XE", "91370303MA3G0003XF"
PLACES = {
    "370102": ("历下区", "370100", "济南市"),
    "370103": ("市中区", "370100", "济南市"),
    "370202": ("市南区", "370200", "青岛市"),
    "370303": ("张店区", "370300", "淄博市"),
}
NAMES = {W1: "历下供水", G1: "=HYPERLINK(\"http://x\",\"点我\")", H1: "市中热力<script>alert(1)</script>", W2: "市南水务", W3: "张店供水", G3: "张店燃气"}
CHANNELS = {W1: "account", G1: "system", H1: "account", W2: "system", W3: "account", G3: "account"}

# (no, xzqh, utility, institution, status, handle working days, overdue working days, correction)
ORDERS = [
    (1, "370102", "electricity", None, "done", 2, None, False),
    (2, "370102", "electricity", None, "done", 3, None, False),
    (3, "370102", "electricity", None, "rejected", 1, None, False),
    (4, "370102", "water", W1, "done_late", 7, None, False),
    (5, "370102", "water", W1, "overdue", None, 3, False),
    (6, "370102", "water", W1, "acknowledged", None, None, False),
    (7, "370102", "gas", G1, "delivered", None, None, False),
    (8, "370102", "gas", G1, "pending", None, None, False),
    (9, "370102", "gas", G1, "failed", None, None, False),
    (10, "370102", "water", W1, "done", 4, None, True),
    (11, "370103", "electricity", None, "overdue", None, 1, False),
    (12, "370103", "heat", H1, "held", None, None, False),
    (13, "370103", "heat", H1, "quarantined", None, None, False),
    (14, "370103", "heat", H1, "done", 5, None, False),
    (15, "370103", "electricity", None, "cancelled", None, None, True),
    (16, "370202", "electricity", None, "done", 1, None, False),
    (17, "370202", "water", W2, "done", 2, None, False),
    (18, "370202", "water", W2, "rejected", 3, None, False),
    (19, "370202", "water", W2, "withdrawn", None, None, False),  # withdrawn after delivery: in neither side
    (20, "370202", "water", W2, "overdue", None, 6, False),
    (21, "370202", "electricity", None, "done_late", 9, None, False),
    (22, "370303", "water", W3, "done", 0.5, None, False),
    (23, "370303", "gas", G3, "done", 12, None, False),
    (24, "370303", "gas", G3, "delivered", None, None, False),
    (25, "370303", "water", W3, "pending", None, None, False),
]
DELIVERED = {"done", "done_late", "rejected", "delivered", "acknowledged", "overdue"}


def buyer_id(no: int) -> str:
    return f"37010219900101{no:03d}7"


def platform_no(no: int) -> str:
    """YCYWH: the day and a sequence, 18 digits (simulators/platform.py writes them so)."""
    return f"20261101{no:010d}"


def buyer_phone(no: int) -> str:
    return f"138{no:08d}"


def statuses_frame() -> pd.DataFrame:
    rows = []
    for no, xzqh, utility, inst, status, handle, overdue, correction in ORDERS:
        county, city_code, city = PLACES[xzqh]
        delivered = status in DELIVERED or status == "withdrawn"
        delivered_at = datetime(2026, 11, 2 + no % 20, 9, 30) if delivered else pd.NaT
        rows.append({
            "rowguid": f"R{no:02d}", "utility": utility, "version": 2 if correction else 1, "correction": correction,
            "channel": "grid" if utility == "electricity" else CHANNELS[inst], "destination": "grid" if utility == "electricity" else f"xb{inst.lower()}",
            "institution_code": inst, "institution_name": NAMES.get(inst), "xzqh": xzqh, "county_name": county,
            "city_code": city_code, "city_name": city, "status": status, "delivered_at": delivered_at,
            "due_date": (delivered_at + timedelta(days=7)).date() if delivered else None,
            "handled_at": delivered_at + timedelta(days=3) if handle is not None else pd.NaT,
            "result_code": "0000" if status in ("done", "done_late") else None, "result_reason": None,
            "handle_working_days": float("nan") if handle is None else float(handle),
            "overdue_working_days": float("nan") if overdue is None else float(overdue),
            "buyer_name": "欧阳娜娜、李四" if no == 5 else "张三", "buyer_phone": buyer_phone(no), "buyer_id": buyer_id(no),
            "address": f"{city}{county}某路{no}号{no % 7 + 1}号楼{no % 3 + 1}单元{no + 100}室", "certificate": f"鲁(2026){city}不动产权第{no:07d}号",
            "platform_no": platform_no(no),
        })
    frame = pd.DataFrame(rows)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"])
    frame["handled_at"] = pd.to_datetime(frame["handled_at"])
    return frame


def exceptions_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"source": f"sftp:xb{W1.lower()}:/inbox/result_20261122.csv", "row": 3, "rowguid": "R04", "utility": "water", "reason_code": "RESULT_UNKNOWN_CODE",
         "reason": "结果代码无法识别", "value": "R04,water,7777,37010219900101004X,13812345678,0531-88557856", "received_at": datetime(2026, 11, 22, 10, 0)},
        {"source": "feed:grid", "row": None, "rowguid": "R99", "utility": "electricity", "reason_code": "RESULT_NO_WORK_ORDER",
         "reason": "=HYPERLINK(\"http://evil\",\"点我\")", "value": "+8613912345678", "received_at": datetime(2026, 11, 23, 11, 0)},
        {"source": "feed:grid", "row": None, "rowguid": None, "utility": None, "reason_code": "RESULT_MALFORMED",
         "reason": "无法解析<script>alert(2)</script>", "value": "@SUM(A1)", "received_at": datetime(2026, 11, 24, 12, 0)},
    ])


def quarantine_frame() -> pd.DataFrame:
    rows = pd.DataFrame([
        {"change_seq": 41, "rowguid": "Q1", "ycywh": "YW1", "xzqh": "370102", "zrfxm": "王五", "zrfzjhm": "370102199001011237", "zrflxdh": "13700001111",
         "status": "quarantined", "utility": "", "rule_id": "ID_CHECKSUM", "field": "ZRFZJHM", "value": "370102199001011237",
         "message_zh": "证件号码校验位错误", "message_en": "bad ID check digit"},
        {"change_seq": 42, "rowguid": "Q2", "ycywh": "YW2", "xzqh": "370202", "zrfxm": "赵六", "zrfzjhm": "370202199001011234", "zrflxdh": "13700002222",
         "status": "partial", "utility": "gas", "rule_id": "INSTITUTION_UNKNOWN", "field": "RQJGBM", "value": "-1",
         "message_zh": "机构编码不在名录中", "message_en": "unknown institution"},
    ])
    return quarantine_list(rows)


def daily_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "day": [date(2026, 11, d) for d in range(1, 6)],
        "delivered": [4, 5, 3, 6, 0], "done": [0, 2, 3, 2, 3], "rejected": [0, 0, 1, 1, 0], "overdue": [0, 0, 0, 1, 2],
    })


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return report_tables(statuses_frame(), exceptions_frame(), quarantine_frame(), daily_frame(), period=PERIOD, as_of=AS_OF)


@pytest.fixture(scope="module")
def page(tables) -> str:
    return render_html(tables, statuses_frame(), daily_frame(), period=PERIOD, as_of=AS_OF)


# Hand-counted from ORDERS, in METRICS order: received, pending, held, delivered, acknowledged, done, done_late,
# rejected, overdue, quarantined, cancelled, withdrawn, failed, delivered_total, completed, open, corrections,
# completion_rate, overdue_rate, handle median, handle p90 (linear: value at (n - 1) × 0.9 of the sorted times).
N = None
TOTAL = (25, 2, 1, 2, 1, 8, 2, 2, 3, 1, 1, 1, 1, 0, 0, 0, 18, 10, 6, 2, 10 / 18, 5 / 18, 3.0, 8.8)
BY_UTILITY = {
    "electricity": (7, 0, 0, 0, 0, 3, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 6, 4, 1, 1, 4 / 6, 2 / 6, 2.0, 6.6),
    "water": (10, 1, 0, 0, 1, 3, 1, 1, 2, 0, 0, 1, 0, 0, 0, 0, 8, 4, 3, 1, 4 / 8, 3 / 8, 3.0, 5.8),
    "gas": (5, 1, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 0, 1 / 3, 0.0, 12.0, 12.0),
    "heat": (3, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1.0, 0.0, 5.0, 5.0),
}
BY_CITY = {
    ("370100", "济南市"): (15, 1, 1, 1, 1, 4, 1, 1, 2, 1, 1, 0, 1, 0, 0, 0, 10, 5, 4, 2, 0.5, 0.3, 3.5, 6.0),
    ("370200", "青岛市"): (6, 0, 0, 0, 0, 2, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 5, 3, 1, 0, 0.6, 0.4, 2.5, 7.2),
    ("370300", "淄博市"): (4, 1, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 2, 1, 0, 2 / 3, 0.0, 6.25, 10.85),
}
BY_COUNTY = {
    ("370100", "济南市", "370102", "历下区"): (10, 1, 0, 1, 1, 3, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 8, 4, 3, 1, 0.5, 0.25, 3.0, 5.8),
    ("370100", "济南市", "370103", "市中区"): (5, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 2, 1, 1, 1, 0.5, 0.5, 5.0, 5.0),
    ("370200", "青岛市", "370202", "市南区"): BY_CITY[("370200", "青岛市")],
    ("370300", "淄博市", "370303", "张店区"): BY_CITY[("370300", "淄博市")],
}
# (xzqh, utility, institution code, institution name, channel): metrics
BY_INSTITUTION = {
    ("370102", "电（electricity）", "", "国网山东省电力公司", "总对总（grid）"): (3, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 2, 0, 0, 2 / 3, 0.0, 2.0, 2.8),
    ("370102", "水（water）", W1, "历下供水", "配置账号（account）"): (4, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 2, 2, 1, 0.5, 0.5, 5.5, 6.7),
    ("370102", "气（gas）", G1, "'=HYPERLINK(\"http://x\",\"点我\")", "系统对接（system）"): (3, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0.0, 0.0, N, N),
    ("370103", "电（electricity）", "", "国网山东省电力公司", "总对总（grid）"): (2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0.0, 1.0, N, N),
    ("370103", "热（heat）", H1, "市中热力<script>alert(1)</script>", "配置账号（account）"): (3, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1.0, 0.0, 5.0, 5.0),
    ("370202", "电（electricity）", "", "国网山东省电力公司", "总对总（grid）"): (2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 1.0, 0.5, 5.0, 8.2),
    ("370202", "水（water）", W2, "市南水务", "系统对接（system）"): (4, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 3, 1, 1, 0, 1 / 3, 1 / 3, 2.5, 2.9),
    ("370303", "水（water）", W3, "张店供水", "配置账号（account）"): (2, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1.0, 0.0, 0.5, 0.5),
    ("370303", "气（gas）", G3, "张店燃气", "配置账号（account）"): (2, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 0, 0.5, 0.0, 12.0, 12.0),
}
METRIC_HEADINGS = [f"{label}({code})" for code, label in METRICS.items()]


def same(actual, expected) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if isinstance(expected, float):
        return actual == pytest.approx(expected, abs=1e-9)
    return actual == expected and not isinstance(actual, float)


def check_rows(table: pd.DataFrame, keys: list[str], truth: dict) -> None:
    assert list(table.columns) == keys + METRIC_HEADINGS
    got = {tuple(row[:len(keys)]): tuple(row[len(keys):]) for row in table.itertuples(index=False)}
    assert list(got) == list(truth), "rows and their order"
    for key, expected in truth.items():
        for heading, a, e in zip(METRIC_HEADINGS, got[key], expected):
            assert same(a, e), f"{key} {heading}: {a!r} != {e!r}"


def test_every_table_has_its_sheet_name(tables):
    assert list(tables) == ["汇总", "按市", "按县", "按机构", "超期清单", "异常清单", "隔离清单", "每日趋势"]


def test_summary_numbers_equal_the_hand_count(tables):
    summary = tables["汇总"]
    assert list(summary.columns) == ["项目(item)", "代码(code)", "合计(total)", "电(electricity)", "水(water)", "气(gas)", "热(heat)", "说明(note)"]
    rows = summary.set_index("代码(code)")
    assert rows.loc["period", "合计(total)"] == "2026-11-01 至 2026-11-30"
    assert rows.loc["as_of", "合计(total)"] == "2026-12-01 08:00"
    for i, (code, label) in enumerate(METRICS.items()):
        assert rows.loc[code, "项目(item)"] == label
        assert same(rows.loc[code, "合计(total)"], TOTAL[i]), code
        for utility, truth in BY_UTILITY.items():
            heading = next(c for c in summary.columns if c.endswith(f"({utility})"))
            assert same(rows.loc[code, heading], truth[i]), f"{code} {utility}"
    assert rows.loc["exceptions", "合计(total)"] == 3
    assert rows.loc["quarantine_lines", "合计(total)"] == 2


def test_breakdowns_equal_the_hand_count(tables):
    check_rows(tables["按市"], ["市代码(city_code)", "市(city_name)"], BY_CITY)
    check_rows(tables["按县"], ["市代码(city_code)", "市(city_name)", "行政区划代码(XZQH)", "县（市、区）(county_name)"], BY_COUNTY)
    institutions = tables["按机构"].drop(columns=["市代码(city_code)", "市(city_name)", "县（市、区）(county_name)"])
    check_rows(
        institutions,
        ["行政区划代码(XZQH)", "业务类型(utility)", "机构编码(institution_code)", "机构名称(institution_name)", "推送方式(channel)"],
        BY_INSTITUTION,
    )
    assert tables["按机构"]["县（市、区）(county_name)"].tolist() == ["历下区"] * 3 + ["市中区"] * 2 + ["市南区"] * 2 + ["张店区"] * 2


def test_overdue_list_is_what_the_province_would_publish(tables):
    overdue = tables["超期清单"]
    assert list(overdue.columns) == [
        "序号(no)", "市(city_name)", "县（市、区）(county_name)", "平台业务号(YCYWH)", "房屋坐落（已脱敏）(FWZL)", "业务类型(utility)",
        "承办单位(institution_name)", "推送日期(delivered_at)", "办理期限(due_date)", "超期工作日(overdue_working_days)",
        # machine columns, after the public ones (XLSX and CSV; never printed)
        "市代码(city_code)", "行政区划代码(XZQH)", "机构编码(institution_code)", "推送方式(channel)", "标识码(ROWGUID)", "工单版本(version)",
        "是否更正(correction)", "期限暂定(due_provisional)", "买方姓名(ZRFXM，已脱敏)", "买方证件号码(ZRFZJHM，已脱敏)", "买方联系电话(ZRFLXDH，已脱敏)",
    ]
    assert overdue["期限暂定(due_provisional)"].tolist() == ["", "", ""]  # every due date in a year with a known arrangement
    assert overdue["序号(no)"].tolist() == [1, 2, 3]
    # by city (济南 370100, 青岛 370200), then institution (electricity before water), the longest overdue first within one
    assert overdue["标识码(ROWGUID)"].tolist() == ["R11", "R05", "R20"]
    assert overdue["平台业务号(YCYWH)"].tolist() == [platform_no(11), platform_no(5), platform_no(20)]
    assert overdue["市(city_name)"].tolist() == ["济南市", "济南市", "青岛市"]
    assert overdue["房屋坐落（已脱敏）(FWZL)"].tolist() == ["济南市市中区某路***", "济南市历下区某路***", "青岛市市南区某路***"]
    assert overdue["超期工作日(overdue_working_days)"].tolist() == [1.0, 3.0, 6.0]
    assert overdue["承办单位(institution_name)"].tolist() == ["国网山东省电力公司", "历下供水", "市南水务"]
    assert overdue["推送日期(delivered_at)"].tolist() == [date(2026, 11, 13), date(2026, 11, 7), date(2026, 11, 2)]
    assert overdue["办理期限(due_date)"].tolist() == [date(2026, 11, 20), date(2026, 11, 14), date(2026, 11, 9)]
    assert overdue["买方姓名(ZRFXM，已脱敏)"].tolist() == ["张*", "欧***、李*", "张*"]
    assert overdue["买方证件号码(ZRFZJHM，已脱敏)"].tolist() == ["370102********0117", "370102********0057", "370102********0207"]
    assert overdue["买方联系电话(ZRFLXDH，已脱敏)"].tolist() == ["138****0011", "138****0005", "138****0020"]


def test_overdue_list_groups_many_rows_by_city_then_institution_and_keeps_every_one():
    from transforms.reporting.cohandling_tables import OVERDUE_HEADINGS, overdue_groups

    frame = statuses_frame()
    template = frame[frame["status"] == "overdue"]
    many = pd.concat([template.assign(rowguid=template["rowguid"] + f"-{i}", platform_no=template["platform_no"].str[:-7] + f"{i:04d}" + template["platform_no"].str[-3:],
                                      overdue_working_days=template["overdue_working_days"] + i % 5) for i in range(450)], ignore_index=True)
    overdue = report_tables(many, None, None, None, period=PERIOD, as_of=AS_OF)["超期清单"]
    assert len(overdue) == 1350 and overdue["序号(no)"].tolist() == list(range(1, 1351))
    assert overdue["平台业务号(YCYWH)"].is_unique
    city, institution = OVERDUE_HEADINGS["city_code"], OVERDUE_HEADINGS["institution_name"]
    assert overdue[city].tolist() == sorted(overdue[city].tolist())  # grouped by city
    groups = overdue_groups(overdue)
    assert [(g.city_name, [(i.name, len(i.rows)) for i in g.institutions]) for g in groups] == [
        ("济南市", [("国网山东省电力公司", 450), ("历下供水", 450)]), ("青岛市", [("市南水务", 450)])]
    for group in groups:
        for inst in group.institutions:
            days = inst.rows[OVERDUE_HEADINGS["overdue_working_days"]].tolist()
            assert days == sorted(days, reverse=True)  # the longest overdue first within an institution
    assert sum(len(i.rows) for g in groups for i in g.institutions) == len(overdue)
    assert overdue[institution].iloc[0] == "国网山东省电力公司"


def test_exceptions_are_masked_and_neutralised(tables):
    ex = tables["异常清单"]
    assert list(ex.columns) == ["来源(source)", "行号(row)", "标识码(ROWGUID)", "业务类型(utility)", "原因代码(reason_code)", "原因(reason)", "原始内容（已脱敏）(value)", "接收时间(received_at)"]
    assert ex["原始内容（已脱敏）(value)"].tolist() == ["R04,water,7777,370102********004X,138****5678,053******7856", "'+86*******5678", "'@SUM(A1)"]
    assert ex["原因(reason)"].iloc[1] == "'=HYPERLINK(\"http://evil\",\"点我\")"
    assert ex["行号(row)"].tolist()[0] == 3 and ex["行号(row)"].isna().tolist() == [False, True, True]
    assert ex["业务类型(utility)"].tolist()[:2] == ["水（water）", "电（electricity）"]


def test_quarantine_and_daily_pass_through(tables):
    assert list(tables["隔离清单"].columns) == list(quarantine_frame().columns)
    assert tables["隔离清单"].values.tolist() == quarantine_frame().values.tolist()
    assert tables["隔离清单"]["原始值（已脱敏）"].tolist() == ["370102********1237", "'-1"]
    daily = tables["每日趋势"]
    assert list(daily.columns) == ["日期(day)", "推送(delivered)", "办结(done)", "退回(rejected)", "超期(overdue)"]
    assert daily["推送(delivered)"].sum() == 18


FULL_ID = re.compile(r"\d{17}[\dXx]")
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_no_full_id_or_phone_anywhere(tables, page):
    originals = {buyer_id(no) for no, *_ in ORDERS} | {buyer_phone(no) for no, *_ in ORDERS} | {"37010219900101004X", "13812345678", "13912345678", "370102199001011237"}
    platform_nos = {platform_no(no) for no, *_ in ORDERS}  # 18 digits, but the record's number on the platform, not a person's
    for name, table in tables.items():
        for column in table.columns:
            for value in table[column]:
                text = str(value)
                if text in platform_nos and column == "平台业务号(YCYWH)":
                    continue
                assert not FULL_ID.search(text) and not FULL_PHONE.search(text), f"{name}/{column}: {text}"
                assert not any(o in text for o in originals), f"{name}/{column}: {text}"
    assert platform_nos & set(re.findall(r"\d{18}", page)), "the page names overdue orders by their platform number"
    page = re.sub("|".join(sorted(platform_nos)), "", page)
    assert not FULL_ID.search(page) and not FULL_PHONE.search(page)
    assert not any(o in page for o in originals)
    assert "欧阳" not in page and "欧阳" not in tables["超期清单"].to_string()


def test_every_formula_like_text_cell_is_neutralised(tables):
    for name, table in tables.items():
        for column in table.columns:
            for value in table[column]:
                assert not (isinstance(value, str) and value[:1] != "" and value[0] in "=+-@"), f"{name}/{column}: {value}"
    names = tables["按机构"]["机构名称(institution_name)"].tolist()
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in names


def test_html_is_self_contained_with_charts_and_escaped(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>水电气热过户协同办理对账报告（2026-11-01 至 2026-11-30）</title>" in page
    assert page.count("<svg") == 3  # by city, handle time, trend
    assert "<script" not in page.lower()
    assert "市中热力&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "无法解析&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<details" in page and "说明" in page and "超期未办结清单（公示）" in page
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", page), "no external asset"
    assert "<link" not in page and "@import" not in page
    assert 'href="report.xlsx"' in page and 'href="csv/%E8%B6%85%E6%9C%9F%E6%B8%85%E5%8D%95.csv"' in page  # csv/超期清单.csv
    # headline numbers and the balance in words
    assert "已推送合计 18 = 按时办结 8 + 超期办结 2 + 退回 2 + 在办 6" in page
    assert "55.6%" in page and "27.8%" in page


def test_a_status_without_delivery_does_not_balance():
    frame = statuses_frame()
    frame.loc[frame["rowguid"] == "R01", "delivered_at"] = pd.NaT  # "done" but never delivered
    with pytest.raises(ReportBalanceError, match=r"对账不平衡：有推送时间的工单 17 件 ≠ 按时办结 8 \+ 超期办结 2 \+ 退回 2 \+ 在办 6 = 18 件") as err:
        report_tables(frame, None, None, None, period=PERIOD, as_of=AS_OF)
    assert "R01:electricity status=done" in str(err.value)


def test_a_delivery_of_a_pending_order_does_not_balance():
    frame = statuses_frame()
    frame.loc[frame["rowguid"] == "R08", "delivered_at"] = pd.Timestamp("2026-11-20 10:00")
    with pytest.raises(ReportBalanceError, match="有推送时间的工单 19 件"):
        report_tables(frame, None, None, None, period=PERIOD, as_of=AS_OF)


def test_two_rows_for_one_work_order_do_not_balance():
    frame = statuses_frame()
    frame = pd.concat([frame, frame[frame["rowguid"] == "R04"]], ignore_index=True)
    with pytest.raises(ReportBalanceError, match=r"同一工单（标识码 \+ 业务）出现多行.*R04:water"):
        report_tables(frame, None, None, None, period=PERIOD, as_of=AS_OF)


def test_an_unknown_status_is_refused():
    frame = statuses_frame()
    frame.loc[0, "status"] = "ready"
    with pytest.raises(ValueError, match="未知的工单状态 / unknown work-order status: ready"):
        report_tables(frame, None, None, None, period=PERIOD, as_of=AS_OF)


def test_empty_inputs_make_an_empty_report():
    empty = statuses_frame().iloc[0:0]
    tables = report_tables(empty, None, None, None, period=PERIOD, as_of=AS_OF)
    assert all(len(tables[name]) == 0 for name in ("按市", "按县", "按机构", "超期清单", "异常清单", "隔离清单", "每日趋势"))
    rows = tables["汇总"].set_index("代码(code)")
    assert rows.loc["received", "合计(total)"] == 0 and rows.loc["completion_rate", "合计(total)"] is None
    page = render_html(tables, empty, None, period=PERIOD, as_of=AS_OF)
    assert "本期未提供每日数据" in page and "</html>" in page


def test_time_zone_aware_timestamps_are_read_in_beijing_time():
    frame = statuses_frame()
    # 02:00 Beijing is 18:00 UTC the day before: the dates must be Beijing's
    frame["delivered_at"] = (frame["delivered_at"].dt.normalize() + pd.Timedelta(hours=2)).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    tables = report_tables(frame, exceptions_frame(), None, None, period=PERIOD, as_of=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    assert tables["超期清单"]["推送日期(delivered_at)"].tolist() == [date(2026, 11, 13), date(2026, 11, 7), date(2026, 11, 2)]
    assert tables["汇总"].set_index("代码(code)").loc["as_of", "合计(total)"] == "2026-12-01 08:00"


def test_the_exceptions_list_carries_the_row_number_the_ledger_keeps():
    """The ledger's result_exception rows name the row `row_number`: the 异常清单 shows it (the console and the report)."""
    from datetime import datetime

    import pandas as pd

    from transforms.reporting.cohandling_tables import EXCEPTION_HEADINGS, exceptions_list

    ledger_rows = pd.DataFrame([{"exception_id": 1, "source": "sftp:xb1", "row_number": 3, "rowguid": "g", "utility": "water",
                                 "reason_code": "RESULT_UNKNOWN_CODE", "reason": "结果代码不在约定范围内：7777", "value": "g:water:1",
                                 "file_id": 1, "received_at": datetime(2026, 12, 3, 2, 0)}])
    table = exceptions_list(ledger_rows)
    assert table[EXCEPTION_HEADINGS["row"]].tolist() == [3]
    assert table[EXCEPTION_HEADINGS["reason_code"]].tolist() == ["RESULT_UNKNOWN_CODE"]
