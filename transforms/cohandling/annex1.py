"""The co-handling record of Annex 1 (附件1 不动产登记与水电气热过户网上协办信息): 25 fields.

Field codes are exactly as in Annex 1; labels are the Annex's Chinese wording, used for
headings in everything a person reads. ZRF* is the buyer (买方) and ZCF* the seller (卖方),
as in the seed document.
"""

from __future__ import annotations

from pathlib import Path

from transforms.common import codetables

FIELDS: tuple[tuple[str, str], ...] = (
    ("ROWGUID", "标识码"),
    ("YCYWH", "“一网通办”平台业务号"),
    ("ZRFXM", "买方姓名"),
    ("ZRFZJZL", "买方证件种类"),
    ("ZRFZJHM", "买方证件号码"),
    ("ZRFLXDH", "买方联系电话"),
    ("ZCFXM", "卖方姓名"),
    ("ZCFZJZL", "卖方证件种类"),
    ("ZCFZJHM", "卖方证件号码"),
    ("ZCFLXDH", "卖方联系电话"),
    ("XZQH", "行政区划代码"),
    ("FWZL", "房屋坐落"),
    ("FWJZMJ", "房屋建筑面积"),
    ("BDCQZH", "不动产权证号"),
    ("DBSJ", "登簿时间"),
    ("YDHH", "用电户号"),
    ("YSHH", "用水户号"),
    ("GSJGBM", "供水机构编码"),
    ("GSJGMC", "供水机构名称"),
    ("YQHH", "用气户号"),
    ("RQJGBM", "燃气公司编码"),
    ("RQJGMC", "燃气公司名称"),
    ("YNHH", "用暖户号"),
    ("GRJGBM", "供热机构编码"),
    ("GRJGMC", "供热机构名称"),
)

FIELD_CODES: tuple[str, ...] = tuple(code for code, _ in FIELDS)
LABELS: dict[str, str] = dict(FIELDS)

# The code tables are data (reference/id_types*.csv, reference/utility_types.csv; sources in
# reference/SOURCES.md), parsed and checked by transforms/common/codetables.py. They are read once, here,
# from the files shipped with the code: static data like a constant, not input.
_REFERENCE = Path(__file__).resolve().parents[2] / "reference"


def _table(name: str) -> list[dict[str, str]]:
    return codetables.rows_of((_REFERENCE / name).read_text(encoding="utf-8"))


UTILITY_TYPES = codetables.parse_utility_types(_table("utility_types.csv"), FIELD_CODES)
# Per utility: (account field, institution code field, institution name field).
# Electricity has one receiver for the province (State Grid Shandong), so no institution.
UTILITIES: dict[str, tuple[str, str | None, str | None]] = {u: (t.account_field, t.code_field, t.name_field) for u, t in UTILITY_TYPES.items()}
UTILITY_LABELS: dict[str, str] = {u: t.label for u, t in UTILITY_TYPES.items()}

# 证件种类 (docs/domain.md §3) and the national codes (GA/T 2000.156) they map to.
NATIONAL_ID_TYPES: dict[str, str] = codetables.parse_national_id_types(_table("id_types_national.csv"))
ID_TYPE_TABLE = codetables.parse_id_types(_table("id_types.csv"), NATIONAL_ID_TYPES)
ID_TYPES: dict[str, str] = {c: t.name for c, t in ID_TYPE_TABLE.items()}
