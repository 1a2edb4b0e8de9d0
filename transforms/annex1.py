"""The co-handling record of Annex 1 (附件1 不动产登记与水电气热过户网上协办信息): 25 fields.

Field codes are exactly as in Annex 1; labels are the Annex's Chinese wording, used for
headings in everything a person reads. ZRF* is the buyer (买方) and ZCF* the seller (卖方),
as in the seed document.
"""

from __future__ import annotations

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

# Per utility: (account field, institution code field, institution name field).
# Electricity has one receiver for the province (State Grid Shandong), so no institution.
UTILITIES: dict[str, tuple[str, str | None, str | None]] = {
    "electricity": ("YDHH", None, None),
    "water": ("YSHH", "GSJGBM", "GSJGMC"),
    "gas": ("YQHH", "RQJGBM", "RQJGMC"),
    "heat": ("YNHH", "GRJGBM", "GRJGMC"),
}
UTILITY_LABELS: dict[str, str] = {"electricity": "电", "water": "水", "gas": "气", "heat": "热"}

# 证件种类 (DOMAIN.md §3)
ID_TYPES: dict[str, str] = {
    "1": "身份证",
    "2": "港澳台身份证",
    "3": "护照",
    "4": "户口簿",
    "5": "军官证（士兵证）",
    "6": "组织机构代码",
    "7": "营业执照",
    "8": "统一社会信用代码",
    "99": "其它",
}
