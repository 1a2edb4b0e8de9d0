"""The collecting halls and the checklists property counties publish for remote collection
(异地代收), synthetic, with the sample checklist forms written from them:

- `build_halls()`: one or two collecting halls per Shandong county (hall code = the county
  code + a two-digit number, the platform's 大厅编码 in this project).
- `build_checklists()`: every county's checklist per business type, as item rows with the
  date each takes effect: a small default list per type, a few counties asking for more,
  a few not offering a type, and a second version from 2024-07-01 for some of them.
- `write_checklist_samples(out)`: those checklists as the forms counties send
  (`forms/samples/remote/`, written by `python -m simulators.remote_module samples forms/samples/remote`).

Deterministic by seed. The packages drawn against them are simulators/remote_module.py's.
"""

from __future__ import annotations

import csv
import random
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import reference
from transforms.remote.package_rules import BUSINESS_TYPES, CHECKLIST_COLUMNS

# Counties of other provinces whose properties Shandong halls collect for (跨省通办), with the
# province's certificate abbreviation; their lists come in the cross-province checklist form.
OTHER_PROVINCE_COUNTIES: dict[str, tuple[str, str, str]] = {
    "110105": ("北京市", "朝阳区", "京"),
    "120101": ("天津市", "和平区", "津"),
    "310115": ("上海市", "浦东新区", "沪"),
    "320102": ("南京市", "玄武区", "苏"),
    "130102": ("石家庄市", "长安区", "冀"),
}

MATERIALS: dict[str, str] = {
    "SQS": "不动产登记申请书",
    "SFZM": "申请人身份证明",
    "QSZS": "不动产权属证书",
    "YSHT": "商品房预售合同",
    "GFHT": "商品房买卖合同",
    "DYHT": "抵押合同",
    "ZZQHT": "主债权合同",
    "BGZM": "变更证明材料（更名更址）",
    "YSSM": "遗失（灭失）声明",
    "WSPZ": "完税凭证",
    "YGZM": "预告登记证明",
    "SQWTS": "授权委托书",
    "HYZM": "婚姻状况证明",
    "CHBG": "房屋测绘成果报告",
    "WXBL": "现场问询笔录",
    "HKB": "户口簿",
    "DYQR": "抵押权人资格证明",
}
# (material code, required, paper original wanted) per business type: the default list.
DEFAULT_CHECKLISTS: dict[str, list[tuple[str, bool, bool]]] = {
    "01": [("SQS", True, False), ("SFZM", True, False), ("YSHT", True, False), ("SQWTS", False, False)],
    "02": [("SQS", True, False), ("SFZM", True, False), ("QSZS", True, True), ("DYHT", True, False), ("ZZQHT", True, False), ("SQWTS", False, False)],
    "03": [("SQS", True, False), ("SFZM", True, False), ("QSZS", True, True), ("BGZM", True, False), ("HYZM", False, False)],
    "04": [("SQS", True, False), ("SFZM", True, False), ("YSSM", True, False), ("QSZS", False, True)],
    "05": [("SQS", True, False), ("SFZM", True, False), ("GFHT", True, False), ("WSPZ", True, False), ("YGZM", False, False), ("SQWTS", False, False)],
}
EXTRA_MATERIALS: list[tuple[str, bool, bool]] = [("CHBG", True, False), ("WXBL", True, False), ("HKB", True, True), ("HYZM", True, False)]
FIRST_EFFECTIVE = "2021-08-01"  # the month after the guidance (2021-07-21)
SECOND_EFFECTIVE = "2024-07-01"


@lru_cache(maxsize=4)
def build_halls(seed: int = 2021) -> pd.DataFrame:
    """Collecting halls: code (county code + 2 digits), name, xzqh (the hall's county), city."""
    rng = np.random.default_rng(seed)
    rows = []
    for county in reference.counties():
        city = reference.city_of(county.code)
        place = city.name + county.name if county.name.endswith("区") else county.name
        rows.append({"code": f"{county.code}01", "name": f"{place}不动产登记中心", "xzqh": county.code, "city": city.code})
        if rng.random() < 0.4:
            rows.append({"code": f"{county.code}02", "name": f"{place}政务服务中心不动产登记窗口", "xzqh": county.code, "city": city.code})
    return pd.DataFrame(rows)


def _all_property_counties() -> list[str]:
    return [c.code for c in reference.counties()] + list(OTHER_PROVINCE_COUNTIES)


@lru_cache(maxsize=4)
def build_checklists(seed: int = 2021) -> pd.DataFrame:
    """Every checklist item: xzqh, business_type, material_code, material_name, required, paper_original, position, valid_from.

    The default list per type everywhere; about one county in ten asks for one more material
    for one type; a few counties do not offer 补换证 or 新建商品房转移登记; from SECOND_EFFECTIVE
    some (county, type) lists change (a material added, a paper original asked for).
    """
    rng = random.Random(seed)
    counties = _all_property_counties()
    shandong = [c for c in counties if c.startswith("37")]
    not_offered = {(c, t) for c, t in zip(rng.sample(shandong, 6), ["04", "05", "04", "05", "04", "05"])}
    extras = {(c, rng.choice(list(DEFAULT_CHECKLISTS))): rng.choice(EXTRA_MATERIALS) for c in rng.sample(shandong, 14)}
    rows = []
    lists: dict[tuple[str, str], list[tuple[str, bool, bool]]] = {}
    for county in counties:
        for business_type, items in DEFAULT_CHECKLISTS.items():
            if (county, business_type) in not_offered:
                continue
            items = list(items)
            extra = extras.get((county, business_type))
            if extra is not None:
                items = [i for i in items if i[0] != extra[0]] + [extra]
            lists[(county, business_type)] = items
    changed = rng.sample(sorted(k for k in lists if k[0].startswith("37")), 10)
    for key, items in lists.items():
        rows += _items(key, items, FIRST_EFFECTIVE)
    for i, key in enumerate(changed):
        items = list(lists[key])
        if i % 2 == 0:  # a material added
            extra = next(e for e in EXTRA_MATERIALS if e[0] not in {c for c, _, _ in items})
            items.append(extra)
        else:  # an optional material becomes required, or a paper original is asked for
            items = [(c, True, paper) if not req else (c, req, True if c == "SFZM" else paper) for c, req, paper in items]
        rows += _items(key, items, SECOND_EFFECTIVE)
    return pd.DataFrame(rows)


def _items(key: tuple[str, str], items: list[tuple[str, bool, bool]], valid_from: str) -> list[dict]:
    return [
        {"xzqh": key[0], "business_type": key[1], "material_code": code, "material_name": MATERIALS[code], "required": required,
         "paper_original": paper, "position": i, "valid_from": pd.Timestamp(valid_from)}
        for i, (code, required, paper) in enumerate(items, start=1)
    ]


def checklist_versions(items: pd.DataFrame) -> pd.DataFrame:
    """Checklist items as the ledger returns them (transforms.remote.package_rules.CHECKLIST_COLUMNS): a version_id and valid_to per (county, type, valid_from)."""
    keys = items[["xzqh", "business_type", "valid_from"]].drop_duplicates().sort_values(["xzqh", "business_type", "valid_from"]).reset_index(drop=True)
    keys["version_id"] = np.arange(1, len(keys) + 1)
    keys["valid_to"] = keys.groupby(["xzqh", "business_type"])["valid_from"].shift(-1)
    return items.merge(keys, on=["xzqh", "business_type", "valid_from"])[list(CHECKLIST_COLUMNS)]


HEADINGS = ["县（市、区）", "业务类型", "材料编码", "材料名称", "是否必须", "是否需要纸质原件", "备注"]
CSV_CITIES = {"370300": "utf-8-sig", "371300": "gb18030"}  # the rest send .xlsx


def _form_rows(items: pd.DataFrame, *, by_code: bool) -> tuple[list[list[str]], list[tuple[int, int, int]]]:
    """Data rows (county and type cells filled on every row) and (first, last, column) spans to merge."""
    divisions = reference.divisions()
    rows: list[list[str]] = []
    merges: list[tuple[int, int, int]] = []
    for xzqh, county in items.groupby("xzqh", sort=True):
        first = len(rows)
        name = xzqh if by_code else divisions[xzqh].name
        for business_type, group in county.groupby("business_type", sort=True):
            start = len(rows)
            for it in group.sort_values("position").itertuples():
                rows.append([name, BUSINESS_TYPES[business_type], it.material_code, it.material_name, "是" if it.required else "否",
                             "是" if it.paper_original else "否", ""])
            merges.append((start, len(rows) - 1, 1))
        merges.append((first, len(rows) - 1, 0))
    return rows, merges


def write_checklist_form(items: pd.DataFrame, path: Path, *, city: str = "", effective: str = "", by_code: bool = False, encoding: str = "utf-8-sig") -> Path:
    """One checklist form: .xlsx (county and type cells merged) or .csv (left blank under their first row)."""
    preamble = [["异地代收服务材料清单"] + [""] * 6, [f"城市：{city}" if city else "", "", f"生效日期：{effective}" if effective else "", "", "", "", ""]]
    data, merges = _form_rows(items, by_code=by_code)
    if path.suffix == ".csv":
        for r1, r2, c in merges:
            for r in range(r1 + 1, r2 + 1):
                data[r][c] = ""
        with open(path, "w", encoding=encoding, newline="") as fh:
            csv.writer(fh).writerows(preamble + [HEADINGS] + data)
        return path
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "材料清单"
    for row in preamble + [HEADINGS] + data:
        ws.append(row)
    offset = len(preamble) + 2  # 1-based, after the heading row
    for r1, r2, c in merges:
        if r2 > r1:
            ws.merge_cells(start_row=r1 + offset, end_row=r2 + offset, start_column=c + 1, end_column=c + 1)
    for col, width in zip("ABCDEFG", (14, 20, 10, 26, 10, 16, 16)):
        ws.column_dimensions[col].width = width
    book.save(path)
    return path


def write_checklist_samples(out: Path, checklists: pd.DataFrame | None = None) -> list[Path]:
    """Every checklist as forms: one per city (first version), one for the other provinces' counties, one for the later changes."""
    checklists = build_checklists() if checklists is None else checklists
    out.mkdir(parents=True, exist_ok=True)
    divisions = reference.divisions()
    first = checklists[checklists["valid_from"] == pd.Timestamp(FIRST_EFFECTIVE)]
    later = checklists[checklists["valid_from"] != pd.Timestamp(FIRST_EFFECTIVE)]
    written = []
    shandong = first[first["xzqh"].str.startswith("37")]
    cities = shandong["xzqh"].map(lambda c: divisions[c].parent_code)
    for city, items in shandong.groupby(cities, sort=True):
        name = divisions[city].name
        encoding = CSV_CITIES.get(city)
        suffix = ".csv" if encoding else ".xlsx"
        written.append(write_checklist_form(items, out / f"异地代收材料清单_{name}{suffix}", city=name, effective=FIRST_EFFECTIVE, encoding=encoding or "utf-8-sig"))
    others = first[~first["xzqh"].str.startswith("37")]
    written.append(write_checklist_form(others, out / "异地代收材料清单_跨省通办.xlsx", effective=FIRST_EFFECTIVE, by_code=True))
    for valid_from, items in later.groupby("valid_from", sort=True):
        day = pd.Timestamp(valid_from)
        written.append(write_checklist_form(items, out / f"异地代收材料清单_变更_{day:%Y%m%d}.xlsx", effective=f"{day:%Y-%m-%d}", by_code=True))
    return written
