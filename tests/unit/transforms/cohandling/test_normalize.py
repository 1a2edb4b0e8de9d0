from __future__ import annotations

import pandas as pd

from transforms.cohandling.annex1 import FIELD_CODES
from transforms.cohandling.normalize import normalize_records, parse_dbsj


def _frame(**values):
    return pd.DataFrame([{c: values.get(c) for c in FIELD_CODES}])


def test_fullwidth_spaces_and_lowercase_x_become_canonical_and_originals_stay():
    out = normalize_records(_frame(ZRFZJHM=" ３７０１０２１９９０１２３１００１ｘ ", ZRFLXDH="１３８ １２３４ ５６７８", BDCQZH="鲁（２０２１）济南市 不动产权第０００１号"))
    row = out.iloc[0]
    assert row["ZRFZJHM"] == "37010219901231001X"
    assert row["ZRFLXDH"] == "13812345678"
    assert row["BDCQZH"] == "鲁(2021)济南市不动产权第0001号"
    assert row["ZRFZJHM__orig"] == " ３７０１０２１９９０１２３１００１ｘ "


def test_owner_fields_split_on_every_separator_consistently():
    out = normalize_records(_frame(ZRFXM="张三，李四、王五", ZRFZJZL="1;1/1", ZRFZJHM="a,b；c", ZRFLXDH="1/2/3"))
    row = out.iloc[0]
    assert list(row["ZRF_NAMES"]) == ["张三", "李四", "王五"]
    assert [len(row[f"ZRF_{k}"]) for k in ("TYPES", "IDS", "PHONES")] == [3, 3, 3]


def test_dbsj_forms_the_platform_sends():
    forms = pd.Series(["2024-03-05 10:11:12", "2024/03/05 10:11:12", "20240305101112", "2024-03-05T10:11:12", "2024-03-05", "2024-3-5 10:11:12", "三月五日", None])
    import pyarrow as pa

    parsed = parse_dbsj(pa.chunked_array([pa.array(forms, pa.string())]))
    assert list(parsed[:4]) == [pd.Timestamp("2024-03-05 10:11:12")] * 4
    assert parsed[4] == pd.Timestamp("2024-03-05") and parsed[5] == pd.Timestamp("2024-03-05 10:11:12")
    assert parsed[6:].isna().all()


def test_area_as_decimal_with_its_decimals_and_blanks_as_null():
    # A comma is a thousands separator (zh-CN number format); one in the wrong place is no number.
    out = normalize_records(pd.concat([_frame(FWJZMJ="８９.５６", ZRFXM="  "), _frame(FWJZMJ="1,000"), _frame(FWJZMJ="1,00")]))
    assert out["FWJZMJ_NUM"].iloc[0] == 89.56 and out["FWJZMJ_DECIMALS"].iloc[0] == 2
    assert pd.isna(out["ZRFXM"].iloc[0]) and out["FWJZMJ_NUM"].iloc[1] == 1000 and out["FWJZMJ_DECIMALS"].iloc[1] == 0
    assert pd.isna(out["FWJZMJ_NUM"].iloc[2])
