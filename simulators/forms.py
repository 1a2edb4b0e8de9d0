"""Annex 2 and Annex 3 forms filled in as a city's departments fill them, from a registry.

The forms that ship in `forms/samples/` (what `make run` loads) are written by
`python -m simulators.forms forms/samples` from the synthetic registry, with the awkward
parts real forms have: the heading line `城市： 填表部门： 填表人： 电话：`, two-line merged
headings, the county and type cells merged down their rows (left blank in a CSV), empty
slots under a type, blank lines, the 合计 row, full-width digits, phones written as
`(0531)8800 1234` or `０５３１－８８００１２３４`, contacts as `姓名 手机` or `姓名/手机/座机`.
Annex 3 comes as the letter's sentences for some cities and as a table for others.

Two account-mode counties have not applied yet (`LATE_COUNTIES`): `make run` drops their
application into the registry inbox between its two runs, so their records wait in the
first run and are released in the second.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

import pandas as pd

from jobs.common import reference

UTILITY_CHAR = {"water": "水", "gas": "气", "heat": "热"}
FORMAT_LABEL = {"xlsx": "", "csv": "CSV", "csv_gb18030": "CSV(GB18030)", "jsonl": "JSONL", "parquet": "Parquet"}  # empty: the default (XLSX)
CHANNEL_LABEL = {"account": "配置账号", "system": "系统对接"}
ANNEX2_HEADINGS = [
    "县（市、区）", "业务类型\n（水/气/热）", "机构名称", "机构编码", "是否知晓\n10月1日全面开通协办过户",
    "过户业务\n服务电话", "联系人及\n电话", "协办方式", "文件格式", "原机构编码",
]
ANNEX2_SUBHEADINGS = ["", "", "", "", "", "区号+座机号码", "姓名+手机号及座机", "", "", ""]
CSV_CITIES = {"370300": "utf-8-sig", "370600": "gb18030", "371300": "utf-8-sig"}  # the rest send .xlsx
LETTER_CITIES = {"370100", "370200", "370700", "371000", "371600"}  # Annex 3 as the letter's sentences
FULL_WIDTH = str.maketrans("0123456789-()", "０１２３４５６７８９－（）")


def late_counties(registry: pd.DataFrame) -> list[str]:
    """Two account-mode counties whose Annex 3 application is not in the samples: the last of 菏泽 and 聊城."""
    account = registry[registry["channel"] == "account"]
    return [str(account[account["xzqh"].str.startswith(prefix)]["xzqh"].max()) for prefix in ("3717", "3715")]


def _service_phone(phone: str, rng: random.Random) -> str:
    area, local = phone.split("-")
    style = rng.random()
    if style < 0.5:
        return phone
    if style < 0.7:
        return f"({area}){local}"
    if style < 0.85:
        return f"{area} {local[:4]} {local[4:]}"
    return phone.translate(FULL_WIDTH)


def _contact(contact: str, service_phone: str, rng: random.Random) -> str:
    name, mobile = contact.split(" ")
    style = rng.random()
    if style < 0.5:
        return f"{name} {mobile}"
    if style < 0.8:
        return f"{name}{mobile}"
    return f"{name}/{mobile}/{service_phone}"


def annex2_rows(registry: pd.DataFrame, city_code: str, rng: random.Random, *, blank_lines: bool) -> tuple[list[list[str]], list[tuple[int, int, int, int]]]:
    """Data rows of one city's Annex 2 and the (first row, last row, first col, last col) spans to merge (0-based rows)."""
    rows: list[list[str]] = []
    merges: list[tuple[int, int, int, int]] = []
    divisions = reference.divisions()
    city = registry[registry["xzqh"].map(lambda c: divisions[c].parent_code) == city_code]
    totals = {"gas": 0, "heat": 0, "water": 0}
    for _, county in city.groupby("xzqh", sort=True):
        first = len(rows)
        for utility in ("water", "gas", "heat"):
            members = county[county["utility"] == utility].sort_values("code")
            start = len(rows)
            if members.empty:
                rows.append(["", UTILITY_CHAR[utility], "", "", "", "", "", "", "", ""])  # the empty slot
            for _, inst in members.iterrows():
                totals[utility] += 1
                rows.append([
                    "", UTILITY_CHAR[utility], inst["name"], inst["code"], rng.choice(["是", "是", "是", "否"]),
                    _service_phone(inst["service_phone"], rng), _contact(inst["contact"], inst["service_phone"], rng),
                    CHANNEL_LABEL[inst["channel"]], FORMAT_LABEL[inst["file_format"]], "",
                ])
            if len(rows) - start > 1:
                merges.append((start, len(rows) - 1, 1, 1))
        rows[first][0] = county["county"].iloc[0]
        merges.append((first, len(rows) - 1, 0, 0))
        if blank_lines and rng.random() < 0.3:
            rows.append([""] * 10)
    rows.append(["合计", f"燃气公司{totals['gas']}个，热力公司{totals['heat']}个，供水公司{totals['water']}个"] + [""] * 8)
    merges.append((len(rows) - 1, len(rows) - 1, 1, 9))
    return rows, merges


def write_annex2(registry: pd.DataFrame, city_code: str, path: Path, *, seed: int = 0, encoding: str | None = None, effective: str = "") -> Path:
    """One city's Annex 2 as .xlsx (merged cells) or, with `encoding`, as .csv (merged cells left blank)."""
    rng = random.Random(f"{seed}-{city_code}")
    city = reference.divisions()[city_code].name
    preamble = [
        ["附件2"] + [""] * 9,
        ["水气热机构信息摸底表"] + [""] * 9,
        [f"城市：{city}", "", f"填表部门：{city}住房和城乡建设局", "", "填表人：刘洋", "", "电话：" + reference.area_code_of_city(city_code) + "-66012345", "",
         f"生效日期：{effective}" if effective else "", ""],
    ]
    data, merges = annex2_rows(registry, city_code, rng, blank_lines=encoding is not None)
    if encoding is not None:
        for r1, r2, c1, c2 in merges:  # a merged cell saved as CSV: its value on the first row only
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        data[r][c] = ""
        with open(path, "w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh)
            for row in preamble + [[h.replace("\n", "") for h in ANNEX2_HEADINGS], ANNEX2_SUBHEADINGS] + data:
                writer.writerow(row)
        return path
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = "摸底表"
    for row in preamble + [ANNEX2_HEADINGS, ANNEX2_SUBHEADINGS]:
        ws.append(row)
    ws.merge_cells("A2:J2")
    ws["A2"].font = Font(bold=True, size=16)
    ws["A2"].alignment = Alignment(horizontal="center")
    for col in "ABCDEHIJ":  # two-line headings: merged down; F and G carry a second line
        ws.merge_cells(f"{col}4:{col}5")
    offset = 6
    for values in data:
        ws.append(values)
    for r1, r2, c1, c2 in merges:
        if (r1, c1) != (r2, c2):
            # openpyxl keeps the top-left value only, as Excel does
            ws.merge_cells(start_row=r1 + offset, end_row=r2 + offset, start_column=c1 + 1, end_column=c2 + 1)
    for col, width in zip("ABCDEFGHIJ", (12, 10, 34, 22, 14, 18, 30, 10, 12, 22)):
        ws.column_dimensions[col].width = width
    book.save(path)
    return path


def annex3_lines(registry: pd.DataFrame, city_code: str, *, skip: tuple[str, ...] = (), open_dates: dict[str, str] | None = None) -> list[dict]:
    """The account-mode counties of a city with their counts and opening dates (as the letter gives them)."""
    divisions = reference.divisions()
    account = registry[(registry["channel"] == "account") & (registry["xzqh"].map(lambda c: divisions[c].parent_code) == city_code)]
    lines = []
    for xzqh, county in account.groupby("xzqh", sort=True):
        if xzqh in skip:
            continue
        opened = (open_dates or {}).get(xzqh) or pd.Timestamp(county["open_date"].iloc[0]).strftime("%Y-%m-%d")
        counts = county["utility"].value_counts()
        lines.append({"xzqh": xzqh, "county": county["county"].iloc[0], "gas": int(counts.get("gas", 0)), "heat": int(counts.get("heat", 0)),
                      "water": int(counts.get("water", 0)), "open_date": opened})
    return lines


def write_annex3(lines: list[dict], city_code: str, path: Path, *, letter: bool, applied: str = "2021年6月20日") -> Path:
    """One city's Annex 3 application: the letter's numbered sentences, or a table; .xlsx or UTF-8 .csv by suffix."""
    city = reference.divisions()[city_code].name
    rows = [["附件3"], [f"{city}不动产登记与水气热过户网上协同办理开通申请"]]
    if letter:
        names = "、".join(line["county"] for line in lines)
        rows.append([f"经调度，我市{names}县（市、区）水气热机构已统一了利用省一体化政务服务平台水气热过户信息查询板块办理水气热过户业务过户的时间。请予开通查询权限。其中："])
        for i, line in enumerate(lines, start=1):
            y, m, d = (int(p) for p in line["open_date"].split("-"))
            rows.append([f"{i}. {line['county']}共有燃气公司{line['gas']}个、热力公司{line['heat']}个，供水公司{line['water']}个，共同申请于{m}月{d}日开通。"])
    else:
        rows.append(["序号", "县（市、区）", "燃气公司（个）", "热力公司（个）", "供水公司（个）", "申请开通日期"])
        for i, line in enumerate(lines, start=1):
            rows.append([str(i), line["county"], line["gas"], line["heat"], line["water"], line["open_date"]])
    rows += [[""], [f"部门 1（盖章）：{city}住房和城乡建设局"], ["联系人：刘洋 电话：" + reference.area_code_of_city(city_code) + "-66012345"], [applied]]
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(rows)
        return path
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "开通申请"
    for row in rows:
        ws.append(row)
    ws.column_dimensions["A"].width = 100 if letter else 8
    book.save(path)
    return path


def write_samples(out: Path, registry: pd.DataFrame | None = None) -> list[Path]:
    """Every city's Annex 2 and Annex 3 (late counties left out) into `out`."""
    from simulators.registry import build_registry

    registry = build_registry() if registry is None else registry
    out.mkdir(parents=True, exist_ok=True)
    late = tuple(late_counties(registry))
    written = []
    for city in sorted(d.code for d in reference.divisions().values() if d.level == "city"):
        name = reference.divisions()[city].name
        encoding = CSV_CITIES.get(city)
        suffix = ".csv" if encoding else ".xlsx"
        written.append(write_annex2(registry, city, out / f"附件2_{name}_水气热机构信息摸底表{suffix}", encoding=encoding))
        lines = annex3_lines(registry, city, skip=late)
        if lines:
            written.append(write_annex3(lines, city, out / f"附件3_{name}_协同办理开通申请{suffix if encoding != 'gb18030' else '.xlsx'}", letter=city in LETTER_CITIES))
    return written


if __name__ == "__main__":
    for p in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "forms/samples")):
        print(p)
