"""write_reports on disk: the XLSX reopened with openpyxl, the CSVs read back with pandas, the page beside them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pandas as pd
import pytest

from jobs.cohandling.publish_report import write_reports
from tests.unit.transforms.reporting.test_report import AS_OF, PERIOD, daily_frame, exceptions_frame, quarantine_frame, statuses_frame
from transforms.reporting.cohandling_html import render_html
from transforms.reporting.cohandling_tables import report_tables

SHEETS = ["汇总", "按市", "按县", "按机构", "超期清单", "异常清单", "隔离清单", "每日趋势"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("reports")
    statuses, daily = statuses_frame(), daily_frame()
    tables = report_tables(statuses, exceptions_frame(), quarantine_frame(), daily, period=PERIOD, as_of=AS_OF)
    paths = write_reports(tables, render_html(tables, statuses, daily, period=PERIOD, as_of=AS_OF), out_dir=out)
    return out, paths, tables


def test_the_files_are_where_the_paths_say(written):
    out, paths, _ = written
    assert paths["html"] == str(out / "report.html") and paths["xlsx"] == str(out / "report.xlsx")
    assert {k: Path(v) for k, v in paths.items() if k.startswith("csv:")} == {f"csv:{name}": out / "csv" / f"{name}.csv" for name in SHEETS}
    assert all(Path(p).is_file() for p in paths.values())
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == sorted(["report.html", "report.xlsx", *(f"{n}.csv" for n in SHEETS)]), "no temporary file left"


def test_the_workbook_has_one_sheet_per_table_with_a_frozen_header(written):
    _, paths, tables = written
    book = openpyxl.load_workbook(paths["xlsx"])
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        assert [c.value for c in sheet[1]] == list(tables[name].columns)
        assert sheet.max_row == len(tables[name]) + 1
        assert all(sheet.column_dimensions[c.column_letter].width >= 8 for c in sheet[1])

    by_city = book["按市"]
    header = [c.value for c in by_city[1]]
    jinan = next(row for row in by_city.iter_rows(min_row=2, values_only=True) if row[1] == "济南市")
    assert jinan[header.index("协办工单数(received)")] == 15 == tables["按市"]["协办工单数(received)"].iloc[0]
    rate = header.index("完成率(completion_rate)")
    assert jinan[rate] == pytest.approx(0.5)
    assert by_city.cell(row=2, column=rate + 1).number_format == "0.0%"

    summary = book["汇总"]
    rows = {row[1]: row for row in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["delivered_total"][2] == 18 and rows["received"][3:7] == (7, 10, 5, 3)
    assert rows["completion_rate"][2] == pytest.approx(10 / 18)

    overdue = book["超期清单"]
    assert [c.value for c in overdue["O"][1:]] == ["R11", "R05", "R20"]  # by city, then institution
    assert overdue["O1"].value == "标识码(ROWGUID)" and overdue["D1"].value == "平台业务号(YCYWH)"
    assert [c.value for c in overdue["D"][1:]] == ["202611010000000011", "202611010000000005", "202611010000000020"]  # text, not 2.0261E+17
    assert overdue["R1"].value == "期限暂定(due_provisional)" and overdue["R2"].value in ("", None)
    assert overdue["T2"].value == "370102********0117"
    # a neutralised cell stays text in the workbook, never a formula
    names = [c.value for c in book["按机构"]["G"][1:]]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in names
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)


def test_the_csvs_read_back_as_utf8_with_bom(written):
    out, paths, tables = written
    for name in SHEETS:
        path = Path(paths[f"csv:{name}"])
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
        back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert list(back.columns) == list(tables[name].columns)
        assert len(back) == len(tables[name])
    by_county = pd.read_csv(out / "csv" / "按县.csv", encoding="utf-8-sig", dtype={"行政区划代码(XZQH)": str, "市代码(city_code)": str})
    assert by_county["行政区划代码(XZQH)"].tolist() == ["370102", "370103", "370202", "370303"]
    assert by_county["协办工单数(received)"].tolist() == [10, 5, 6, 4]
    assert by_county["超期率(overdue_rate)"].tolist() == pytest.approx([0.25, 0.5, 0.4, 0.0])


def test_the_page_links_the_files_it_was_written_with(written):
    out, paths, _ = written
    page = Path(paths["html"]).read_text(encoding="utf-8")
    assert page.count("<svg") == 3
    for href in set(re.findall(r'href="([^"#]+)"', page)):
        assert (out / unquote(href)).is_file(), href
