"""Where a DAG run's link points: the page's URL under the served folder's base URL, else its file:// path."""

from __future__ import annotations

from jobs.common.settings import page_url


def test_a_page_in_a_served_folder_gets_its_url_and_any_other_its_file_path(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("GATEWAY_OUTPUT_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("GATEWAY_REPORT_URL", raising=False)
    monkeypatch.delenv("GATEWAY_OUTPUT_URL", raising=False)
    report = tmp_path / "reports" / "2026-11-19" / "remote" / "report.html"
    page = tmp_path / "runs" / "scheduled__2026-11-20T06_00_00_08_00" / "validation.html"
    assert page_url(report) == report.as_uri() and page_url(page) == page.as_uri()

    monkeypatch.setenv("GATEWAY_REPORT_URL", "https://gw.example.gov.cn/reports/")
    monkeypatch.setenv("GATEWAY_OUTPUT_URL", "https://gw.example.gov.cn/runs")
    assert page_url(report) == "https://gw.example.gov.cn/reports/2026-11-19/remote/report.html"
    assert page_url(str(page)) == "https://gw.example.gov.cn/runs/scheduled__2026-11-20T06_00_00_08_00/validation.html"
    assert page_url(tmp_path / "reports" / "汇总 表.html") == "https://gw.example.gov.cn/reports/%E6%B1%87%E6%80%BB%20%E8%A1%A8.html"
    elsewhere = tmp_path / "elsewhere" / "report.html"
    assert page_url(elsewhere) == elsewhere.as_uri()  # outside both folders: its file path
