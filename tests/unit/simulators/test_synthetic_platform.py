"""The synthetic platform makes realistic records, and its labels tell the truth."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import pandas as pd
import pytest

from jobs.common import reference
from simulators.platform import DEFECT_KINDS, ODDITY_KINDS, corrections, generate
from simulators.registry import build_registry
from transforms.common.checkdigits import id_check_char

AS_OF = datetime(2024, 12, 31)
SEPARATORS = r"[,，、/;]"
CERT = re.compile(r"^鲁\((\d{4})\)(.+?)不动产权第(\d{5,10})号$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture(scope="module")
def records(registry):
    return generate(20_000, seed=7, start="2024-01-01", end="2024-12-31", as_of=AS_OF, defect_rate=0.1, oddity_rate=0.1, registry=registry)


def _halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "")


def _id_ok(number: str, kind: str = "1") -> bool:
    number = _halfwidth(number).upper()
    # 2004 foreigners' permanent residence card (3 letters + 12 digits); HK/Macao travel permit (H/M + 8 [+2]).
    if kind in ("1", "99") and re.fullmatch(r"[A-Z]{3}\d{12}", number):
        return True
    if kind == "2" and re.fullmatch(r"[HM]\d{8}(\d{2})?", number):
        return True
    if not re.fullmatch(r"\d{17}[\dX]", number) or id_check_char(number[:17]) != number[17]:
        return False
    try:
        born = datetime.strptime(number[6:14], "%Y%m%d")
    except ValueError:
        return False
    return born <= AS_OF


def _phone_ok(phone: str) -> bool:
    phone = _halfwidth(phone).replace(" ", "")
    # As people write them: +86/0086 in front, a mobile in 3-4-4 groups, the area code in brackets, 转 extension.
    phone = re.sub(r"^(\+86|0086)", "", phone)
    if re.fullmatch(r"1\d{2}-\d{4}-\d{4}", phone):
        phone = phone.replace("-", "")
    phone = re.sub(r"^\((0\d{3})\)", r"\1-", re.sub(r"转\d{1,6}$", "", phone))
    if MOBILE.match(phone):
        return True
    m = re.fullmatch(r"(0\d{3})-?(\d{7,8})", phone)
    if not m or m.group(1) not in reference.area_codes():
        return False
    return len(m.group(2)) == int(reference.area_codes()[m.group(1)]["subscriber_digits"])


def test_same_seed_same_records(registry):
    a = generate(500, seed=3, registry=registry)
    b = generate(500, seed=3, registry=registry)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(generate(500, seed=4, registry=registry))


def test_every_defect_and_oddity_kind_is_injected(records):
    assert set(records["defect"].unique()) == {"", *DEFECT_KINDS}
    assert set(records["oddity"].unique()) == {"", *ODDITY_KINDS}
    assert ((records["defect"] != "") & (records["oddity"] != "")).sum() == 0


def _local_time(dbsj: str) -> pd.Timestamp:
    """DBSJ as Shandong local time, read here independently of transforms/cohandling/normalize.py."""
    chinese = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日 (\d{1,2})时(\d{1,2})分(\d{1,2})秒", dbsj)
    if chinese:
        return pd.Timestamp(*map(int, chinese.groups()))
    stamp = pd.Timestamp(dbsj)
    return stamp.tz_convert("Asia/Shanghai").tz_localize(None) if stamp.tzinfo else stamp


def test_clean_records_are_valid(records, registry):
    clean = records[records["defect"] == ""]
    counties = {d.code for d in reference.counties()}
    by_code = dict(zip(registry["code"], zip(registry["name"], registry["utility"], registry["xzqh"])))
    for row in clean.itertuples():
        names, types, ids, phones = (re.split(SEPARATORS, str(getattr(row, f))) for f in ("ZRFXM", "ZRFZJZL", "ZRFZJHM", "ZRFLXDH"))
        assert len(names) == len(types) == len(ids) == len(phones)
        for kind, number, phone in zip(types, ids, phones):
            if kind in ("1", "2", "99"):
                assert _id_ok(number, kind), (row.ROWGUID, number)
            assert _phone_ok(phone), (row.ROWGUID, phone)
        assert row.XZQH in counties
        county = reference.divisions()[row.XZQH].name
        assert county in row.FWZL
        assert 0 < float(re.sub(r"\s*(㎡|平方米|m²|m2)$|,", "", _halfwidth(row.FWJZMJ))) < 10000
        assert CERT.match(_halfwidth(row.BDCQZH).replace("〔", "(").replace("〕", ")")), row.BDCQZH
        assert _local_time(row.DBSJ) <= AS_OF
        for account, code, name, utility in (("YSHH", "GSJGBM", "GSJGMC", "water"), ("YQHH", "RQJGBM", "RQJGMC", "gas"), ("YNHH", "GRJGBM", "GRJGMC", "heat")):
            if pd.notna(getattr(row, account)):
                assert by_code[getattr(row, code)] == (getattr(row, name), utility, row.XZQH)
            else:
                assert pd.isna(getattr(row, code)) and pd.isna(getattr(row, name))
        assert any(pd.notna(getattr(row, f)) for f in ("YDHH", "YSHH", "YQHH", "YNHH"))


def test_labelled_defects_are_really_defective(records, registry):
    counties = {d.code for d in reference.counties()}
    names = dict(zip(registry["code"], registry["name"]))
    clean_guids = set(records.loc[records["defect"] == "", "ROWGUID"])
    for row in records[records["defect"] != ""].itertuples():
        kind = row.defect
        if kind in ("bad_id_checksum", "impossible_birth_date"):
            assert row.ZRFZJZL == "1" and not _id_ok(row.ZRFZJHM)
            if kind == "bad_id_checksum":
                assert id_check_char(row.ZRFZJHM[:17]) != row.ZRFZJHM[17]
        elif kind == "bad_phone":
            assert not _phone_ok(row.ZRFLXDH)
        elif kind == "unknown_county":
            assert row.XZQH not in counties
        elif kind == "nonpositive_area":
            assert float(row.FWJZMJ) <= 0
        elif kind == "future_dbsj":
            assert pd.Timestamp(row.DBSJ) > AS_OF
        elif kind == "institution_mismatch":
            assert names[row.GSJGBM] != row.GSJGMC
        elif kind == "birth_after_dbsj":
            assert row.ZRFZJZL == "1" and _id_ok(row.ZRFZJHM)
            assert row.ZRFZJHM[6:14] > pd.Timestamp(row.DBSJ).strftime("%Y%m%d")
        elif kind == "institution_other_county":
            assert names[row.GSJGBM] == row.GSJGMC
            assert row.XZQH not in set(registry.loc[registry["code"] == row.GSJGBM, "xzqh"])
        elif kind == "account_without_institution":
            assert pd.notna(row.YQHH) and pd.isna(row.RQJGBM) and pd.isna(row.RQJGMC)
        elif kind == "missing_required":
            value = getattr(row, row.defect_field)
            assert pd.isna(value) or not str(value).strip()
        elif kind == "duplicate_rowguid":
            assert row.ROWGUID in clean_guids
        assert row.defect_field


def test_odd_but_valid_forms_look_odd(records):
    odd = records[records["oddity"] != ""]
    fullwidth = odd[odd["oddity"] == "fullwidth_digits"]
    assert fullwidth[["ZRFLXDH", "ZRFZJHM", "FWJZMJ"]].apply(lambda r: any(re.search("[０-９]", str(v)) for v in r), axis=1).all()
    assert odd.loc[odd["oddity"] == "lowercase_x", "ZRFZJHM"].str.endswith("x").all()
    assert odd.loc[odd["oddity"] == "fullwidth_brackets", "BDCQZH"].str.contains("[（〔]").all()
    assert odd.loc[odd["oddity"] == "spaces", "ZRFXM"].str.startswith(" ").all()
    assert not odd.loc[odd["oddity"] == "dbsj_format", "DBSJ"].str.match(r"^\d{4}-\d{2}-\d{2} \d{2}:").any()
    foreign = odd[odd["oddity"] == "foreign_id"]
    assert foreign["ZRFZJHM"].str.match(r"^(9\d{16}[\dX]|[A-Z]{3}\d{12}|[HM]\d{8}(\d{2})?)$").all() and set(foreign["ZRFZJZL"]) == {"1", "2", "99"}
    assert not odd.loc[odd["oddity"] == "phone_written", "ZRFLXDH"].str.match(r"^(1\d{10}|0\d{3}-?\d{7,8})$").any()
    assert odd.loc[odd["oddity"] == "name_dot", "ZRFXM"].str.contains("[·・•．]").all()


def test_realistic_mix(records):
    assert records["ZCFZJZL"].eq("8").mean() > 0.1  # developers sell new homes
    assert records["ZRFXM"].str.contains(SEPARATORS).mean() > 0.1  # couples buy together
    assert records["ZRFZJHM"].str[:2].isin(["81", "82", "83"]).any()  # residence permits
    assert records["ZRFLXDH"].str.startswith("0").any()  # landlines
    assert records["XZQH"].nunique() > 100


def test_corrections_fix_defects_under_the_same_rowguid(records, registry):
    fixes = corrections(records, seed=9, registry=registry)
    bad = records[~records["defect"].isin(["", "duplicate_rowguid", "unknown_county"])]
    assert len(fixes) == len(bad)
    assert (fixes["OP"] == "U").all()
    assert list(fixes["ROWGUID"]) == list(bad["ROWGUID"])
    kept = bad["YCYWH"].fillna("").str.strip() != ""
    assert list(fixes.loc[kept.to_numpy(), "YCYWH"]) == list(bad.loc[kept, "YCYWH"])
    assert fixes["YCYWH"].fillna("").str.strip().ne("").all()
    assert (fixes["defect"] == "").all()
