"""Issue 13 point 1, field by field: every well-formed variant accepted (normalised, original
kept), every malformed one refused with the rule naming the field. Each case cites its source;
where a fact could not be confirmed the comment says so."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.unit.transforms.cohandling.test_rules import check
from transforms.cohandling.normalize import normalize_records

# 2023 foreigners' permanent residence ID card (国家移民管理局《新版外国人永久居留身份证机读信息
# 规则(2023版)》, issued from 2023-12-01): 15 characters (3 letters + 12 digits) become 18 (17 digits
# + check), first digit '9' marks a foreigner, the 3-letter nationality becomes a numeric code, check
# MOD 11-2 as GB 11643. The position of province / nationality / birth date is taken as
# 9 + province (2) + nationality (3) + birth date (8) + sequence (3) from secondary descriptions. 911840198001010013: province 11, nationality 840, born 1980-01-01 (made up here,
# check character computed with GB 11643's algorithm).
PR_2023 = "911840198001010013"
PR_2023_BAD_CHECK = "911840198001010010"

ACCEPTED = [
    # --- ID documents ---
    ({"ZRFZJZL": "1", "ZRFZJHM": PR_2023}, "2023 PR card filed under 身份证 (common practice)"),
    ({"ZRFZJZL": "99", "ZRFZJHM": PR_2023}, "2023 PR card filed under 其它"),
    ({"ZRFZJZL": "2", "ZRFZJHM": PR_2023}, "2023 PR card filed under 港澳台身份证 (clerk's choice)"),
    # Old PR card (2004 and 2017 editions, same rules text): 3 Latin letters + 12 digits.
    ({"ZRFZJZL": "1", "ZRFZJHM": "USA110080010101"}, "2004 PR card under 身份证"),
    ({"ZRFZJZL": "99", "ZRFZJHM": "usa110080010101"}, "2004 PR card under 其它, lower case"),
    # Residence permits for HK/Macao/Taiwan residents (国办发〔2018〕81号): 810000/820000/830000, GB 11643 check.
    ({"ZRFZJZL": "1", "ZRFZJHM": "810000199001010019"}, "HK residence permit under 身份证"),
    # 港澳居民来往内地通行证: 公安部出入境管理局 2010-03-10 号码规则: 11 characters, H (HK) / M (Macao)
    # + 8-digit lifetime number + 2-digit renewal count (00 first issue). Written with or without the count.
    ({"ZRFZJZL": "2", "ZRFZJHM": "H12345678"}, "HK travel permit"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "M1234567801"}, "Macao travel permit with issue count"),
    # 台湾居民来往大陆通行证: the 2015 card carries an 8-digit lifetime number; the older booklet a
    # 10-digit number, sometimes with a bracketed letter (as seen in practice: not confirmed from a spec).
    ({"ZRFZJZL": "2", "ZRFZJHM": "12345678"}, "Taiwan travel permit, card"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "1234567890(B)"}, "Taiwan travel permit, booklet (form as reported, not confirmed from an official spec)"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "A123456（3）"}, "HK identity card, full-width brackets (the published example A123456(3); check in brackets)"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "A1234563"}, "HK identity card written without the brackets"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "AB987654(3)"}, "HK identity card with two letters (check computed by the published algorithm)"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "A123456789"}, "Taiwan ID, the published example (letter + sex 1/2 + 8 digits, weights 1 9 8 … 1)"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "1234567(8)"}, "Macao resident ID (1/5/7 + 6 digits + check in brackets; no published check, shape only)"),
    # Passports: Chinese ordinary passport E+8 digits (2012), E+letter+7 (from 2017, E numbers ran out), G+8 (2006 edition).
    ({"ZRFZJZL": "3", "ZRFZJHM": "EA1234567"}, "Chinese e-passport E+letter+7"),
    ({"ZRFZJZL": "3", "ZRFZJHM": "G12345678"}, "Chinese passport G+8"),
    ({"ZRFZJZL": "3", "ZRFZJHM": "X1234567 8"}, "foreign passport typed with a space (ICAO 9303 document number; spaces are never part of it)"),
    # GB 11714-1997 organisation code: 8 body characters, check digit, often written with '-'.
    ({"ZCFZJZL": "6", "ZCFZJHM": "600037341"}, "organisation code without dash"),
    # --- invisible / full-width characters are normalisation, not errors ---
    ({"ZRFZJHM": "11010519491231002X\u200b"}, "zero-width space at the end of an ID"),
    ({"ZRFZJHM": "11010519491231002X\u00a0"}, "no-break space at the end of an ID"),
    ({"ZRFZJHM": "\ufeff11010519491231002X"}, "BOM at the start of an ID"),
    ({"ZRFZJHM": "１１０１０５１９４９１２３１００２Ｘ"}, "full-width ID (NFKC)"),
    # --- phones: number ranges from 工信部《电信网编号计划》(mobile 1[3-9], 400/800 10 digits, 95xxx
    # national short numbers, 96xxx local); the written forms are the ones people and systems use. ---
    ({"ZRFLXDH": "138-1234-5678"}, "mobile 3-4-4 with dashes (common written form)"),
    ({"ZRFLXDH": "138 1234 5678"}, "mobile with spaces"),
    ({"ZRFLXDH": "+86 138 1234 5678"}, "E.164 with country code +86"),
    ({"ZRFLXDH": "008613812345678"}, "international prefix 00 + 86"),
    ({"ZRFLXDH": "86-13812345678"}, "86 prefix with dash"),
    ({"ZRFLXDH": "(0531)88557856"}, "area code in brackets"),
    ({"ZRFLXDH": "（0531）8855-7856"}, "area code in full-width brackets, local number split"),
    ({"ZRFLXDH": "0531-88557856转801"}, "landline with extension 转"),
    ({"ZRFLXDH": "0531-88557856分机801"}, "landline with extension 分机"),
    ({"ZRFLXDH": "0531-88557856 ext.801"}, "landline with extension ext."),
    ({"ZRFLXDH": "+86-531-88557856"}, "landline in international form (trunk 0 dropped)"),
    ({"ZCFLXDH": "400-123-4567"}, "400 national service number (工信部 400 号码业务, 10 digits)"),
    ({"ZCFLXDH": "4001234567"}, "400 number, no dashes"),
    ({"ZCFLXDH": "800-123-4567"}, "800 free-phone"),
    ({"ZCFLXDH": "95588"}, "95xxx national short number (ICBC)"),
    ({"ZCFLXDH": "95105-888"}, "95xxx-xxx extended short number"),
    ({"ZCFLXDH": "96777"}, "96xxx local public service number (which 96 numbers a city uses is not checked)"),
    ({"ZRFLXDH": "13812345678/0531-88557856"}, "one owner, a mobile and a landline (several phones for one person)"),
    ({"ZRFLXDH": "13812345678，13912345678"}, "one owner, two mobiles with a full-width comma"),
    ({"ZRFXM": "张三,李四", "ZRFZJHM": "11010519491231002X,110105198001010016", "ZRFLXDH": "13812345678"},
     "two owners, one phone for both (common and unambiguous)"),
    # --- names ---
    ({"ZRFXM": "阿依古丽・买买提"}, "minority name with katakana middle dot U+30FB"),
    ({"ZRFXM": "阿依古丽•买买提"}, "bullet U+2022 used as a middle dot"),
    ({"ZRFXM": "阿依古丽．买买提"}, "full-width full stop as a middle dot"),
    ({"ZRFXM": "John Smith"}, "Latin name with a space"),
    ({"ZCFXM": "济南某某置业有限公司（历下分公司）", "ZCFZJZL": "8", "ZCFZJHM": "91110000600037341L"}, "company with full-width brackets"),
]


@pytest.mark.parametrize(("change", "why"), ACCEPTED, ids=[a[1] for a in ACCEPTED])
def test_well_formed_variant_is_accepted(change, why):
    rules, failures, outcome = check(change)
    errors = set(failures.loc[failures["severity"] == "error", "rule_id"])
    assert errors == set(), (why, failures.to_dict("records"))
    assert outcome.loc[0, "status"] == "passed"


REFUSED = [
    ({"ZRFZJZL": "1", "ZRFZJHM": PR_2023_BAD_CHECK}, "ID_CHECKSUM", "ZRFZJHM", "2023 PR card with a wrong check character"),
    ({"ZRFZJZL": "99", "ZRFZJHM": PR_2023_BAD_CHECK}, "ID_CHECKSUM", "ZRFZJHM", "under 其它 too: the 9-form is recognisable and checked"),
    ({"ZRFZJZL": "1", "ZRFZJHM": "991840198001010011"[:17] + "X"}, "ID_PROVINCE", "ZRFZJHM", "9 + province 99 is no province"),
    ({"ZRFZJZL": "1", "ZRFZJHM": "US110080010101"}, "ID_FORMAT", "ZRFZJHM", "old PR card needs 3 letters"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "A123456(7)"}, "ID_CHECKSUM", "ZRFZJHM", "HK identity card with a wrong check character (A123456 takes 3)"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "A123456788"}, "ID_CHECKSUM", "ZRFZJHM", "Taiwan ID with a wrong check digit"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "H1234567"}, "ID_CHECKSUM", "ZRFZJHM",
     "a travel permit one digit short reads as a HK identity card, whose check character is then wrong"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "H12345"}, "ID_FORMAT", "ZRFZJHM", "travel permit: 5 digits"),
    ({"ZRFZJZL": "2", "ZRFZJHM": "K12345678"}, "ID_FORMAT", "ZRFZJHM", "travel permit letter is H or M"),
    ({"ZRFZJZL": "3", "ZRFZJHM": "E123"}, "ID_FORMAT", "ZRFZJHM", "passport too short (fewer than 5 characters)"),
    ({"ZRFZJZL": "3", "ZRFZJHM": "E12345678#"}, "ID_FORMAT", "ZRFZJHM", "passport with a symbol"),
    ({"ZCFZJZL": "6", "ZCFZJHM": "60003734-2"}, "ORG_CODE_CHECKSUM", "ZCFZJHM", "GB 11714 check digit wrong"),
    ({"ZRFLXDH": "138-1234-567"}, "PHONE", "ZRFLXDH", "mobile one digit short"),
    ({"ZRFLXDH": "+85 13812345678"}, "PHONE", "ZRFLXDH", "wrong country code"),
    ({"ZRFLXDH": "(0531)1234567"}, "PHONE", "ZRFLXDH", "Jinan local numbers have 8 digits"),
    ({"ZRFLXDH": "0531-88557856转"}, "PHONE", "ZRFLXDH", "extension marker without extension"),
    ({"ZCFLXDH": "400-123-456"}, "PHONE", "ZCFLXDH", "400 number one digit short"),
    ({"ZCFLXDH": "9558"}, "PHONE", "ZCFLXDH", "short number of 4 digits"),
    ({"ZCFLXDH": "97588"}, "PHONE", "ZCFLXDH", "97xxx is no service range"),
    ({"ZRFXM": "张三,李四", "ZRFZJHM": "11010519491231002X,110105198001010016", "ZRFLXDH": "13812345678,13912345678,13712345678"},
     "OWNER_COUNT", "ZRFLXDH", "two owners, three phones: which is whose cannot be told (the phone list is at fault)"),
    ({"ZRFXM": "张三,李四", "ZRFZJHM": "11010519491231002X", "ZRFLXDH": "13812345678"},
     "OWNER_COUNT", "ZRFZJHM", "two names, one ID number: the ID list is short"),
    ({"ZRFXM": "张三,李四,王五", "ZRFZJZL": "1,1", "ZRFZJHM": "11010519491231002X,110105198001010016,110105199001010029"},
     "OWNER_COUNT", "ZRFZJZL", "three owners, two ID types: the type list is at fault"),
    ({"ZRFXM": "12345"}, "NAME_FORMAT", "ZRFXM", "a name of digits only"),
    ({"ZRFXM": "张三,\u0007"}, "NAME_FORMAT", "ZRFXM", "a control character left in an owner's name (raw, not ingest-cleaned)"),
]


@pytest.mark.parametrize(("change", "rule", "field", "why"), REFUSED, ids=[r[3] for r in REFUSED])
def test_malformed_value_is_refused_naming_the_field(change, rule, field, why):
    rules, failures, outcome = check(change)
    assert rule in rules, (why, failures.to_dict("records"))
    assert field in set(failures.loc[failures["rule_id"] == rule, "field"])
    assert outcome.loc[0, "status"] == "quarantined"


def test_name_dots_are_normalised_and_the_original_kept():
    frame = pd.DataFrame([{"ZRFXM": n} for n in ("阿依古丽・买买提", "阿依古丽•买买提", "阿依古丽．买买提", "阿依古丽·买买提")])
    out = normalize_records(frame)
    assert set(out["ZRFXM"]) == {"阿依古丽·买买提"}
    assert list(out["ZRFXM__orig"])[0] == "阿依古丽・买买提"
    # A middle dot is not an owner separator.
    assert [list(x) for x in out["ZRF_NAMES"]] == [["阿依古丽·买买提"]] * 4


def test_invisible_characters_in_ids_are_normalised_without_the_ingest_cleaner():
    frame = pd.DataFrame({"ZRFZJHM": ["11010519491231002X\u200b", "\u2060110105194912310\u200d02x\u00a0"]})
    out = normalize_records(frame)
    assert list(out["ZRFZJHM"]) == ["11010519491231002X"] * 2


def test_phones_are_given_in_canonical_form_with_the_original_kept():
    from transforms.cohandling.normalize import canonical_phone

    # (as written, canonical)
    for raw, canonical in [
        ("138-1234-5678", "13812345678"), ("+86 138 1234 5678", "13812345678"), ("008613812345678", "13812345678"),
        ("(0531)88557856", "0531-88557856"), ("（0531）8855-7856", "0531-88557856"), ("0531-88557856转801", "0531-88557856-801"),
        ("+86-531-88557856", "0531-88557856"), ("400-123-4567", "4001234567"), ("95105-888", "95105888"), ("95588", "95588"),
        ("电话13912345678", None), ("", None),
    ]:
        assert canonical_phone(raw) == canonical, raw


def test_owner_phone_lists_hold_the_canonical_forms():
    frame = pd.DataFrame({"ZRFLXDH": ["138-1234-5678，(0531)8855-7856", "13812345678", "053188557856转801", None, "电话1391234"]})
    out = normalize_records(frame)
    assert [None if x is None or x is pd.NA or (isinstance(x, float)) else list(x) for x in out["ZRF_PHONES"]] == [
        ["13812345678", "0531-88557856"], ["13812345678"], ["0531-88557856-801"], None, ["电话1391234"]]
    assert out["ZRFLXDH__orig"][0] == "138-1234-5678，(0531)8855-7856"


def test_canonical_phone_lists_agree_with_rewriting_every_item():
    import pyarrow as pa

    from transforms.cohandling import normalize

    items = ["13812345678", "1381234567X", "138-1234-5678", "053188557856", "0531-88557856", "12345678901", "+8613812345678", "", "95588"]
    lists = pa.array([items[:3], items[3:], [], None], pa.list_(pa.string()))
    fast = normalize._canonical_phone_lists(lists).to_pylist()
    general = [None if x is None else normalize.canonical_phones(pa.array(x, pa.string())).to_pylist() for x in lists.to_pylist()]
    assert fast == general
