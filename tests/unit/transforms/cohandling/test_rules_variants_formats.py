"""Issue 13 point 1, the fields DBSJ (登簿时间), FWJZMJ (房屋建筑面积) and BDCQZH (不动产权证号):
each well-formed variant accepted (normalised, original kept), each malformed one refused with
its rule, naming the field and the value as sent. Sources in comments; where a form is a
practice seen in platform exports rather than a published specification, the comment says so.
The standards' numbers and clauses cited here were given from memory, not re-read against the
texts (GB/T 17986.1 on area precision, 国土资发〔2015〕25号, GB/T 9704-2012 7.2.4): check them."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.unit.transforms.cohandling.test_rules import check
from transforms.cohandling.normalize import normalize_records

# (as written, the local time read: DBSJ is Shandong local time, docs/domain.md §2)
DBSJ_ACCEPTED = [
    ("2024-06-03 09:05:03", "2024-06-03 09:05:03"),  # the platform's usual form (Annex 1 gives no format)
    ("2024-06-03T09:05:03", "2024-06-03 09:05:03"),  # ISO 8601 extended form with T (ISO 8601-1:2019 5.4.2)
    ("2024-06-03 09:05:03.250", "2024-06-03 09:05:03.250"),  # fractional seconds (ISO 8601; database timestamp(3) exports)
    ("2024-06-03T09:05:03.123456", "2024-06-03 09:05:03.123456"),  # PostgreSQL timestamp, microseconds
    ("2024/06/03 09:05:03", "2024-06-03 09:05:03"),  # slash form (Oracle / Excel exports, common practice)
    ("2024/6/3 9:05", "2024-06-03 09:05:00"),  # single-digit month/day/hour (Excel's default zh-CN display)
    ("20240603", "2024-06-03 00:00:00"),  # ISO 8601 basic date
    ("20240603090503", "2024-06-03 09:05:03"),  # basic date-time without separators (GB/T 7408 basic format)
    ("2024-06-03", "2024-06-03 00:00:00"),  # date only
    ("2024-6-3", "2024-06-03 00:00:00"),  # single-digit month and day
    ("2024年6月3日", "2024-06-03 00:00:00"),  # Chinese date, the ordinary written form (common practice; not checked against a standard's text)
    ("2024年6月3日 9时5分", "2024-06-03 09:05:00"),  # Chinese date and time as clerks type it
    ("2024年06月03日09时05分03秒", "2024-06-03 09:05:03"),  # the same, zero-padded, with seconds, no space
    ("2024年6月3日 9点5分", "2024-06-03 09:05:00"),  # 点 for 时, common spoken writing
    ("2024.6.3", "2024-06-03 00:00:00"),  # dotted date, as people in China commonly type dates (common practice, not a standard form)
    ("2024.06.03 09:05:03", "2024-06-03 09:05:03"),  # dotted date with a time
    ("２０２４－０６－０３　０９：０５：０３", "2024-06-03 09:05:03"),  # full-width digits, dash, colon, ideographic space (NFKC)
    ("2024-06-03 09:05:03+08:00", "2024-06-03 09:05:03"),  # ISO 8601 offset: Beijing time is Shandong local time
    ("2024-06-03T01:05:03Z", "2024-06-03 09:05:03"),  # UTC (Z) converted to local time, as transforms/remote/package_rules.py does
    ("2024-06-03T01:05:03+0000", "2024-06-03 09:05:03"),  # basic-format offset
    (" 2024-06-03 09:05:03 ", "2024-06-03 09:05:03"),  # spaces around
]


@pytest.mark.parametrize(("written", "local"), DBSJ_ACCEPTED, ids=[a[0] for a in DBSJ_ACCEPTED])
def test_dbsj_written_forms_are_read_as_local_time(written, local):
    rules, failures, outcome = check({"DBSJ": written})
    assert "DBSJ_FORMAT" not in rules, failures.to_dict("records")
    assert outcome.loc[0, "status"] == "passed", failures.to_dict("records")
    out = normalize_records(pd.DataFrame({"DBSJ": [written]}))
    assert out.loc[0, "DBSJ_TS"] == pd.Timestamp(local)
    assert out.loc[0, "DBSJ__orig"] == written


DBSJ_REFUSED = [
    "2024-02-30 10:00:00",  # 2024 February has 29 days (Gregorian calendar)
    "2023-02-29",  # 2023 is no leap year
    "2024-06-03 25:00:00",  # no hour 25
    "2024-06-03 10:60:00",  # no minute 60
    "2024-13-01",  # no month 13
    "24-06-03 10:00:00",  # two-digit year: the century is a guess (ISO 8601 requires four digits)
    "24/6/3",  # two-digit year, slash form
    "2024年13月3日",  # no month 13, Chinese form
    "2024-06-03 10:00:00+25:00",  # no such offset
    "20240230",  # impossible basic date
    "2024.06.03.10",  # not a date: four dotted parts
    "2024.13.03",  # dotted, no month 13
    "昨天",  # text
    "1717376703",  # a Unix timestamp is not a form Annex 1 uses: refused rather than guessed
]


@pytest.mark.parametrize("written", DBSJ_REFUSED)
def test_malformed_dbsj_is_refused_with_its_value(written):
    rules, failures, outcome = check({"DBSJ": written})
    assert "DBSJ_FORMAT" in rules, failures.to_dict("records")
    row = failures.loc[failures["rule_id"] == "DBSJ_FORMAT"].iloc[0]
    assert row["field"] == "DBSJ" and row["value"] == written
    assert outcome.loc[0, "status"] == "quarantined"


# (as written, number, decimals). docs/domain.md §2: m², decimal > 0 with at most 2 decimals.
AREA_ACCEPTED = [
    ("89.5", 89.5, 1),
    ("89.50", 89.5, 2),  # trailing zero kept in the count of decimals: still ≤ 2
    ("120", 120.0, 0),
    ("１２０．３５", 120.35, 2),  # full-width digits and full stop (NFKC: U+FF0E → '.')
    ("120.35㎡", 120.35, 2),  # U+33A1 SQUARE M SQUARED (NFKC gives 'm2'), as platforms print it
    ("120.35平方米", 120.35, 2),  # unit in Chinese (GB 3100-1993 name of m²)
    ("120.35 m²", 120.35, 2),  # SI symbol with a space (GB 3101)
    ("120.35m2", 120.35, 2),  # the symbol typed without superscript
    ("1,234.5", 1234.5, 1),  # thousands separator (Excel number format #,##0.00)
    ("1，234.50", 1234.5, 2),  # full-width comma as thousands separator
    ("  89.5  ", 89.5, 1),  # spaces around
]


@pytest.mark.parametrize(("written", "number", "decimals"), AREA_ACCEPTED, ids=[a[0] for a in AREA_ACCEPTED])
def test_area_written_forms_are_accepted(written, number, decimals):
    rules, failures, outcome = check({"FWJZMJ": written})
    assert not {"AREA_FORMAT", "AREA_POSITIVE"} & rules, failures.to_dict("records")
    assert outcome.loc[0, "status"] == "passed"
    out = normalize_records(pd.DataFrame({"FWJZMJ": [written]}))
    assert out.loc[0, "FWJZMJ_NUM"] == number and out.loc[0, "FWJZMJ_DECIMALS"] == decimals
    assert out.loc[0, "FWJZMJ__orig"] == written


AREA_REFUSED = [
    ("-85.3", "AREA_POSITIVE"),  # an area is > 0
    ("0", "AREA_POSITIVE"),
    ("0.00", "AREA_POSITIVE"),
    # More than 2 decimals is refused, not rounded: the registered area is given to the cm²
    # (0.01 m², GB/T 17986.1-2000 房产测量规范 area to 0.01 m²); a third decimal means the value
    # did not come from the register, and rounding would change what the certificate says.
    ("89.555", "AREA_FORMAT"),
    ("1.2.3", "AREA_FORMAT"),
    ("约90", "AREA_FORMAT"),  # "about 90": not a number
    ("90平方", "AREA_FORMAT"),  # half a unit: not one of the units accepted
    ("12,34.5", "AREA_FORMAT"),  # thousands separator in the wrong place
    ("abc", "AREA_FORMAT"),
    ("1e3", "AREA_FORMAT"),  # scientific notation is no way to write an area
]


@pytest.mark.parametrize(("written", "rule"), AREA_REFUSED, ids=[a[0] for a in AREA_REFUSED])
def test_malformed_area_is_refused(written, rule):
    rules, failures, outcome = check({"FWJZMJ": written})
    assert rule in rules, failures.to_dict("records")
    row = failures.loc[failures["rule_id"] == rule].iloc[0]
    assert row["field"] == "FWJZMJ" and row["value"] == written
    assert outcome.loc[0, "status"] == "quarantined"


# Certificate numbers: 《不动产权证书和登记证明监制办法》(国土资发〔2015〕25号) and the certificate
# specimen: 鲁(2021)济南市不动产权第0000001号, proof 鲁(2021)济南市不动产证明第0000001号; the
# number is 7 digits in the specimen, platforms and counties use 5-10.
CERT_ACCEPTED = [
    ("鲁(2021)济南市不动产权第0000001号", "the specimen form"),
    ("鲁（2021）济南市不动产权第0000001号", "full-width brackets (as printed on the certificate)"),
    ("鲁 (2021) 济南市 不动产权第 0000001 号", "spaces typed between the parts"),
    ("鲁(2021)济南市不动产权第00001号", "5 digits"),
    ("鲁(2021)济南市不动产权第0000000001号", "10 digits"),
    ("鲁(2021)济南市不动产权第0000001号(销)", "suffix (销): a cancelled certificate, as registration systems mark it"),
    ("鲁(2021)济南市不动产权第0000001号（补）", "suffix （补）: a re-issued certificate"),
    ("鲁(2021)济南市不动产证明第0000001号", "不动产登记证明 (proof, e.g. mortgage)"),
    ("鲁(2021)济南市不动产权第０００００01号", "full-width digits"),
    # 〔〕 (U+3014/3015, the bracket of 发文字号 in GB/T 9704-2012 7.2.4) and [] are typed around
    # the year by some platforms (documented practice of exports seen, not a published rule): read as ().
    ("鲁〔2021〕济南市不动产权第0000001号", "hexagonal brackets around the year (GB/T 9704 style)"),
    ("鲁[2021]济南市不动产权第0000001号", "square brackets around the year"),
    ("鲁【2021】济南市不动产权第0000001号", "black lenticular brackets around the year"),
]


@pytest.mark.parametrize(("written", "why"), CERT_ACCEPTED, ids=[a[1] for a in CERT_ACCEPTED])
def test_certificate_written_forms_are_accepted(written, why):
    rules, failures, outcome = check({"BDCQZH": written})
    assert not {"CERT_FORMAT", "CERT_LEGACY"} & rules, (why, failures.to_dict("records"))
    assert outcome.loc[0, "status"] == "passed"
    out = normalize_records(pd.DataFrame({"BDCQZH": [written]}))
    assert out.loc[0, "BDCQZH__orig"] == written
    assert "〔" not in out.loc[0, "BDCQZH"] and "[" not in out.loc[0, "BDCQZH"] and " " not in out.loc[0, "BDCQZH"]


def test_legacy_certificates_are_flagged_not_rejected():
    # 房屋所有权证 (before the 2015 unified certificate, 《房屋登记办法》建设部令第168号): e.g. 济房权证历字第123456号.
    for written in ("济房权证历字第123456号", "房权证济字第0012345号", "淄房字第12345号"):
        rules, failures, outcome = check({"BDCQZH": written})
        assert "CERT_LEGACY" in rules and "CERT_FORMAT" not in rules, (written, failures.to_dict("records"))
        assert outcome.loc[0, "status"] == "passed", written


CERT_REFUSED = [
    ("鲁(2021)济南市不动产权第1234号", "4 digits"),
    ("鲁(2021)济南市不动产权第12345678901号", "11 digits"),
    ("鲁(21)济南市不动产权第0000001号", "two-digit year"),
    ("鲁(2021济南市不动产权第0000001号", "unbalanced bracket"),
    ("鲁(2021)济南市不动产权0000001号", "第 missing"),
    ("鲁(2021)济南市不动产权第0000001", "号 missing"),
    ("京(2021)朝阳区不动产权第0000001号", "not a Shandong certificate (鲁)"),
    ("0000001", "a bare number"),
]


@pytest.mark.parametrize(("written", "why"), CERT_REFUSED, ids=[a[1] for a in CERT_REFUSED])
def test_malformed_certificate_is_refused(written, why):
    rules, failures, outcome = check({"BDCQZH": written})
    assert "CERT_FORMAT" in rules, (why, failures.to_dict("records"))
    row = failures.loc[failures["rule_id"] == "CERT_FORMAT"].iloc[0]
    assert row["field"] == "BDCQZH" and row["value"] == written
    assert outcome.loc[0, "status"] == "quarantined"
