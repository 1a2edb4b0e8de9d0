"""The remote-collection (异地代收) report's page (pure: its tables in, one self-contained HTML page out): contents,
cards, charts, the breakdowns and lists. The tables are transforms/reporting/remote_tables.py's; conventions as
the reconciliation report's page (cohandling_html.py, html_page.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import pandas as pd

from transforms.remote.package_tracking import STAGES
from transforms.reporting.cells import code_of, format_cell
from transforms.reporting.cohandling_tables import SUMMARY_HEADINGS
from transforms.reporting.html_page import CSS, escape, link, table_html
from transforms.reporting.remote_tables import (
    CERTIFICATE_HEADINGS,
    COUNTY_KEYS,
    HALL_KEYS,
    HANDOVER_HEADINGS,
    LIST_HEADINGS,
    METRICS,
    NOTES,
    heading,
)


def _summary_shown(summary: pd.DataFrame) -> pd.DataFrame:
    """The 汇总 rows for the page: each total formatted by its own code (rates as %, working days with one decimal)."""
    shown = summary.drop(columns=[SUMMARY_HEADINGS["note"]]).copy()
    shown[SUMMARY_HEADINGS["total"]] = [format_cell(v, c) for v, c in zip(shown[SUMMARY_HEADINGS["total"]], shown[SUMMARY_HEADINGS["code"]])]
    return shown


# --- the page ------------------------------------------------------------------------------------------------------
# Tables fit a 1366 px screen and A4 landscape: a breakdown's 19 figures are shown as two tables (收件与办理, 在办与时效)
# with the hall's (county's) name on one line and its code beneath, codes in headings breakable at "_", the lists with
# name and code in one cell. Charts reuse the reconciliation report's SVG helpers (transforms/reporting/cohandling_html.py).

FLOW = ("received", "returned", "not_sent", "delivered", "accepted", "refused", "correction", "registered", "certified", "replaced", "withdrawn")
TIMING = ("open", "overdue", "late", "acceptance_rate", "correction_rate", "certificate_median_wd", "paper_owed", "paper_flagged")
PAGE_LABELS = {"not_sent": "未送达", "certificate_median_wd": "发证用时中位数（工作日）", "replaced": "由更正版本接续"}
PAGE_MAX_ROWS = 1000  # a list on the page stops here (and says so); the XLSX and CSV hold every row
STATE_SEGMENTS = (  # the states a county's packages are in, left to right; they add up to 收件版本数 (check_adds_up)
    ("registered", "已登簿", "#2e7d32"), ("open_in_time", "在办（未超期）", "#1565c0"), ("overdue", "超期未办结", "#c62828"),
    ("correction", "退回补正", "#ef6c00"), ("refused", "不予受理", "#6d4c41"), ("moved_on", "接续或撤回", "#9e9e9e"),
    ("not_sent", "未送达", "#cfd8dc"), ("returned", "网关退回", "#8e24aa"),
)
CHART_ROWS = 30  # bars per chart; the rest named in a line beneath
REMOTE_CSS = """
.cards { grid-template-columns: repeat(4, 1fr); }
table.fig { width: auto; min-width: 60%; }
table.fig th small wbr { display: inline; }
td.name { white-space: nowrap; }
td.name code, td.who code, td.id code { display: block; font-size: 11px; }
td.who { min-width: 9em; }
td.id { white-space: nowrap; }
td.when { white-space: nowrap; }
td.text { min-width: 14em; }
th { hyphens: none; }
@media print {
  body { font-size: 10px; }
  table { font-size: 9.5px; }
  th small, td.name code, td.who code, td.id code { font-size: 8.5px; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  th, td { padding: 1px 4px; line-height: 1.35; }
  td.name code, td.id code { display: inline; margin-left: .6em; }  /* one line a row on paper */
  figure svg { max-height: 155mm; width: auto; }  /* a chart and its heading on one page */
  h2 { margin-top: 14px; }
}
"""


def render_remote_html(tables: dict[str, pd.DataFrame], *, period: tuple[date, date], as_of: datetime, provenance: dict | None = None) -> str:
    """One self-contained page (inline CSS and SVG, no script, no external asset): a contents list, headline figures,
    charts (states by county, working days to certificate, open and overdue by hall), the two breakdowns and the lists
    (the first PAGE_MAX_ROWS rows each, said when cut); `provenance` (transforms/reporting/provenance.py): what it was
    computed from, in the footer."""
    from transforms.reporting.provenance import provenance_html

    title = "异地代收业务办理情况报告"
    span = f"{period[0].isoformat()} 至 {period[1].isoformat()}"
    summary = tables["汇总"]
    total = dict(zip(summary[SUMMARY_HEADINGS["code"]], summary[SUMMARY_HEADINGS["total"]]))
    notes = "".join(f"<dt>{escape(METRICS[c])} <code>{escape(c)}</code></dt><dd>{escape(n)}</dd>" for c, n in NOTES.items())
    by_hall, by_county = tables["按代收大厅"], tables["按不动产所在县"]
    sections = [
        ("notes", "说明", "说明", '<p>按报文版本统计；属地办理时限按工作日（含调休）计算。各表标题下为字段代码，与 report.xlsx、csv/ 中的一致。'
                               "证件号码、电话与申请人姓名已脱敏。</p>" f'<dl class="statuses">{notes}</dl>'),
        ("summary", "汇总", "汇总", _cards_html(total) + table_html(_summary_shown(summary))),
        ("states", "图：各县报文状态", "各县报文状态", _chart(_svg_states(by_county), "收件最多的不动产所在县各一条，按收件版本数从多到少；各段为报文当前所处的状态，合计为收件版本数。")),
        ("certificate", "图：收件至发证用时", "收件至发证用时", _chart(_svg_certificate_days(tables.get("发证用时")),
                                                   "已发证照（含电子证照）的报文，自首次收件至证照发出的工作日数。")),
        ("halls-open", "图：各代收大厅在办与超期", "各代收大厅在办与超期", _chart(_svg_hall_open(by_hall), "有在办报文的代收大厅，按超期未办结件数从多到少。")),
        ("by-hall", "按代收大厅", "按代收大厅", _breakdown_html(by_hall, "hall_name", ["hall", "hall_xzqh"], total)),
        ("by-county", "按不动产所在县", "按不动产所在县", _breakdown_html(by_county, "county_name", ["xzqh"], total)),
        ("overdue", "超期清单", "超期清单", _list_html(tables["超期清单"], "超期清单", [
            ("报文(BWID)", "bwid", _package_cell), ("代收大厅(SJDWMC)", "hall_name", _hall_cell), ("不动产所在县(XZQH)", "county_name", _county_cell),
            ("业务类型(YWLX)", "business_type", None), ("收件时间(SJSJ)", "collected", "when"), ("推送时间(delivered_at)", "delivered_local", "when"),
            ("办理期限(due)", "due", _due_cell), ("当前状态(stage)", "stage_label", None), ("超期工作日(overdue_wd)", "overdue_wd", "n")])),
        ("returns", "退回与补正", "退回与补正", _list_html(tables["退回与补正"], "退回与补正", [
            ("报文(BWID)", "bwid", _package_cell), ("代收大厅(SJDWMC)", "hall_name", _hall_cell), ("不动产所在县(XZQH)", "county_name", _county_cell),
            ("业务类型(YWLX)", "business_type", None), ("当前状态(stage)", "stage_label", None), ("原因(reason)", "reason", "text"),
            ("所缺材料(missing)", "detail", "text")])),
        ("handover", "纸质移交", "纸质移交", _handover_html(tables["纸质移交"])),
    ]
    toc = "".join(f'<li><a href="#{key}">{escape(name)}</a></li>' for key, name, _, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{escape(heading)}</h2>{content}</section>' for key, _, heading, content in sections)
    stamp = as_of.strftime("%Y-%m-%d %H:%M")
    stages = "、".join(STAGES.values())
    return ('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}（{escape(span)}）</title><style>{CSS}{REMOTE_CSS}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><p class=\"period\">收件期间：{escape(span)}　数据截至：{escape(stamp)}（北京时间）</p></header>"
            f"<nav><strong>目录</strong><ol>{toc}</ol></nav>{body}"
            f"<footer>由协办网关生成，数据截至 {escape(stamp)}。状态：{escape(stages)}。完整数据见 {link('report.xlsx', 'report.xlsx')} 与 csv/ 目录。"
            f"{provenance_html(provenance) if provenance else ''}</footer></body></html>\n")


def _cards_html(total: Mapping[str, object]) -> str:
    cards = [
        ("收件版本数", format_cell(total["received"])), ("已推送属地", format_cell(total["delivered"])),
        ("受理率", format_cell(total["acceptance_rate"], "acceptance_rate")), ("在办", format_cell(total["open"])),
        ("超期未办结", format_cell(total["overdue"])), ("收件至发证中位数（工作日）", format_cell(total["certificate_median_wd"], "certificate_median_wd")),
        ("网关校验退回", format_cell(total["returned"])), ("纸质原件未签收 / 超期", f"{format_cell(total['paper_owed'])} / {format_cell(total['paper_flagged'])}"),
    ]
    return '<div class="cards">' + "".join(f'<div class="card"><div class="v">{escape(v)}</div><div class="k">{escape(k)}</div></div>' for k, v in cards) + "</div>"


def _th(label: str, code: str | None = None) -> str:
    """A heading: the Chinese label over its code, the code breakable after each "_" (never inside a word)."""
    if not code:
        return f"<th>{escape(label)}</th>"
    return f"<th>{escape(label)}<small>{'_<wbr>'.join(escape(p) for p in code.split('_'))}</small></th>"


def _number(value, code: str = "") -> str:
    return f'<td class="n">{escape(format_cell(value, code))}</td>'


def _breakdown_html(table: pd.DataFrame, name_key: str, code_keys: list[str], total: Mapping[str, object]) -> str:
    """The breakdown as two tables of one row per hall (county): name on one line, its codes beneath, then the figures."""
    keys = {**HALL_KEYS, **COUNTY_KEYS}
    name_heading = keys[name_key]
    label = name_heading[: name_heading.index("(")]
    out = []
    for caption, metrics in (("收件与办理", FLOW), ("在办、时效与纸质移交", TIMING)):
        head = _th(label, "、".join(code_of(keys[k]) for k in (name_key, *code_keys)).replace("_", "-")) + "".join(
            _th(PAGE_LABELS.get(m, METRICS[m]), m) for m in metrics)
        rows = []
        for record in table.to_dict("records"):
            codes = " · ".join(str(record[keys[k]]) for k in code_keys if isinstance(record[keys[k]], str) and record[keys[k]])
            cells = "".join(_number(record[heading(m)], m) for m in metrics)
            rows.append(f'<tr><td class="name"><span class="label">{escape(record[name_heading] or "（未登记名称）")}</span><code>{escape(codes)}</code></td>{cells}</tr>')
        sums = "".join(_number(total[m], m) for m in metrics)
        rows.append(f'<tr class="total"><td>合计</td>{sums}</tr>')
        out.append(f'<h3>{escape(caption)}</h3><table class="fig"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return "".join(out)


def _package_cell(row: Mapping[str, object]) -> str:
    return f'<td class="id">{escape(row[LIST_HEADINGS["bwid"]])}<code>版本 {escape(format_cell(row[LIST_HEADINGS["change_seq"]]))}</code></td>'


def _hall_cell(row: Mapping[str, object]) -> str:
    return f'<td class="who">{escape(row[LIST_HEADINGS["hall_name"]] or "")}<code>{escape(row[LIST_HEADINGS["hall"]])}</code></td>'


def _county_cell(row: Mapping[str, object]) -> str:
    code, name = row[LIST_HEADINGS["xzqh"]], str(row[LIST_HEADINGS["county_name"]] or "")
    name = name[: -len(code)] if isinstance(code, str) and code and name.endswith(code) else name  # 外省（跨省通办）320102: the code once
    return f'<td class="who">{escape(name)}<code>{escape(code)}</code></td>'


def _due_cell(row: Mapping[str, object]) -> str:
    flag = row.get(LIST_HEADINGS["due_provisional"])
    return f'<td class="when">{escape(format_cell(row[LIST_HEADINGS["due"]]))}{"<code>暂定</code>" if flag else ""}</td>'


def _table_html(table: pd.DataFrame, columns: list[tuple], headings: dict[str, str]) -> str:
    """The first PAGE_MAX_ROWS rows of `table`, one cell per (heading, key, how): how is a function of the row, or a cell
    class ("n", "when", "text", or None); `headings` names the table's column of each key."""
    head = "".join(_th(h[: h.index("(")], code_of(h)) for h, _, _ in columns)
    rows = []
    for record in table.head(PAGE_MAX_ROWS).to_dict("records"):
        cells = []
        for _, key, how in columns:
            if callable(how):
                cells.append(how(record))
            else:
                text = escape(format_cell(record[headings[key]], key))
                cells.append(f'<td class="{how}">{text}</td>' if how else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}" class="note">（无）</td></tr>')
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _list_html(table: pd.DataFrame, name: str, columns: list[tuple]) -> str:
    """A list with one cell per (heading, key, how), as `_table_html`, with its count and where the whole of it is."""
    n = len(table)
    files = f"{link(f'csv/{name}.csv', f'csv/{name}.csv')} 或 report.xlsx（工作表“{escape(name)}”）"
    lead = f"<p>共 <strong>{n:,}</strong> 件，完整清单（含全部字段）见 {files}。</p>"
    more = f'<p class="note">页面列出前 {PAGE_MAX_ROWS:,} 件，其余 {n - PAGE_MAX_ROWS:,} 件见上述文件。</p>' if n > PAGE_MAX_ROWS else ""
    return f"{lead}{_table_html(table, columns, LIST_HEADINGS)}{more}"


def _handover_html(table: pd.DataFrame) -> str:
    h = HANDOVER_HEADINGS
    columns = [("清单编号(list_no)", "list_no", "id"), ("代收大厅(SJDWMC)", None, lambda r: f'<td class="who">{escape(r[h["hall_name"]] or "")}<code>{escape(r[h["hall"]])}</code></td>'),
               ("不动产所在县(XZQH)", None, lambda r: f'<td class="who">{escape(r[h["county_name"]] or "")}<code>{escape(r[h["xzqh"]])}</code></td>'),
               ("状态(state)", "state", None), ("原件份数(originals)", "originals", "n"), ("超期未签收(flagged)", "flagged", "n"),
               ("最早收件距今天数(oldest_days)", "oldest_days", "n"), ("签收时间(received_at)", "received_at", "when"), ("签收人(received_by)", "received_by", None)]
    more = f'<p class="note">页面列出前 {PAGE_MAX_ROWS:,} 张清单，其余见 csv/纸质移交.csv。</p>' if len(table) > PAGE_MAX_ROWS else ""
    return f"{_table_html(table, columns, h)}{more}"


# --- charts: inline SVG in the reconciliation report's style (its helpers), no script; every text escaped


def _chart(svg: str, caption: str) -> str:
    from transforms.reporting.cohandling_html import _figure

    return _figure(svg, caption) if svg.startswith("<svg") else svg


def _top_rows(frame: pd.DataFrame, columns: list[str], order: list[str], rest: str) -> tuple[pd.DataFrame, str]:
    """The first CHART_ROWS rows by `order` (descending), and a line on the others (`rest` formatted with their number n and
    their sum total of columns[0] … as `total`; empty when none): bars on one scale, not dwarfed by a sum of the rest."""
    ranked = frame.sort_values(order, ascending=False, kind="stable")
    others = ranked.iloc[CHART_ROWS:]
    line = rest.format(n=len(others), total=int(others[columns[0]].sum())) if len(others) else ""
    return ranked.head(CHART_ROWS).reset_index(drop=True), line


def _hbar_chart(rows: pd.DataFrame, label: str, segments: list[tuple[str, str, str]], title: str, rest: str = "") -> str:
    """Stacked horizontal bars, one per row: `segments` (column, legend text, colour) left to right, the row's total at the end;
    `rest` a line beneath (the rows not drawn)."""
    from transforms.reporting.cohandling_html import _count_ticks, _svg, _svg_legend

    longest = max((len(str(v)) for v in rows[label]), default=4)
    left, scale, row_h, top = min(14.0 + 12.5 * longest, 300.0), 520.0, 22.0, 60.0
    width = left + scale + 70
    height = top + row_h * len(rows) + (30 if rest else 8)
    totals = rows[[c for c, _, _ in segments]].sum(axis=1)
    ticks = _count_ticks(float(totals.max()) if len(rows) else 1.0)
    out = [_svg_legend([(text, color) for _, text, color in segments[:5]], 10, 16)]
    if len(segments) > 5:
        out.append(_svg_legend([(text, color) for _, text, color in segments[5:]], 10, 34))
    for tick in ticks:
        x = left + scale * tick / ticks[-1]
        out.append(f'<line x1="{x:.1f}" y1="{top - 6:.1f}" x2="{x:.1f}" y2="{top + row_h * len(rows):.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{x:.1f}" y="{top - 10:.1f}" text-anchor="middle" font-size="11">{tick:,}</text>')
    for i, (record, row_total) in enumerate(zip(rows.to_dict("records"), totals)):
        y = top + i * row_h
        name = str(record[label])
        out.append(f'<text x="{left - 6:.1f}" y="{y + 15:.1f}" text-anchor="end">{escape(name)}</text>')
        x = left
        for column, text, color in segments:
            n = int(record[column])
            if n <= 0:
                continue
            w = scale * n / ticks[-1]
            out.append(f'<rect x="{x:.1f}" y="{y + 3:.1f}" width="{w:.1f}" height="15" fill="{color}"><title>{escape(name)} {escape(text)} {n:,} 件</title></rect>')
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 15:.1f}" font-size="11">{int(row_total):,}</text>')
    if rest:
        out.append(f'<text x="{left:.1f}" y="{height - 10:.1f}" font-size="12">{escape(rest)}</text>')
    return _svg(width, height, title, "".join(out))


def _svg_states(by_county: pd.DataFrame) -> str:
    """Each property county's package versions by the state they are in (adds up to 收件版本数)."""
    if by_county.empty:
        return '<p class="note">本期无收件。</p>'
    name = COUNTY_KEYS["county_name"]
    frame = pd.DataFrame({name: by_county[name].fillna("").astype(str), "received": by_county[heading("received")]})
    for code in ("registered", "overdue", "correction", "refused", "not_sent", "returned"):
        frame[code] = by_county[heading(code)]
    frame["open_in_time"] = by_county[heading("open")] - by_county[heading("overdue")]
    frame["moved_on"] = by_county[heading("replaced")] + by_county[heading("withdrawn")]
    rows, rest = _top_rows(frame, ["received"], ["received"], "其余 {n} 个县共 {total:,} 件未画出，见“按不动产所在县”表。")
    return _hbar_chart(rows, name, list(STATE_SEGMENTS), "各县报文状态（堆积条形图，按不动产所在县）", rest)


def _svg_hall_open(by_hall: pd.DataFrame) -> str:
    """Each collecting hall with packages open at the property county: in time and overdue."""
    frame = by_hall[by_hall[heading("open")] > 0]
    if frame.empty:
        return '<p class="note">没有在办的报文。</p>'
    name = HALL_KEYS["hall_name"]
    shown = pd.DataFrame({name: frame[name].fillna("").astype(str).where(frame[name].fillna("") != "", frame[HALL_KEYS["hall"]]),
                          "overdue": frame[heading("overdue")], "open_in_time": frame[heading("open")] - frame[heading("overdue")],
                          "open": frame[heading("open")]})
    rows, rest = _top_rows(shown, ["overdue"], ["overdue", "open"], "其余 {n} 个代收大厅（超期未办结共 {total:,} 件）未画出，见“按代收大厅”表。")
    return _hbar_chart(rows, name, [("overdue", "超期未办结", "#c62828"), ("open_in_time", "在办（未超期）", "#1565c0")], "各代收大厅在办与超期（条形图）", rest)


def _svg_certificate_days(days: pd.DataFrame | None) -> str:
    """Columns: packages by whole working days from first collection to certificate (the 发证用时 table)."""
    from transforms.reporting.cohandling_html import _count_ticks, _svg, _svg_y_axis

    if days is None or not int(days[CERTIFICATE_HEADINGS["certified"]].sum()):
        return '<p class="note">本期尚无发证的报文。</p>'
    labels = [str(v) for v in days[CERTIFICATE_HEADINGS["wd_to_certificate"]]]
    counts = [int(v) for v in days[CERTIFICATE_HEADINGS["certified"]]]
    left, bottom, plot_w, plot_h, top = 52.0, 48.0, 640.0, 200.0, 24.0
    width, height = left + plot_w + 20, top + plot_h + bottom
    ticks = _count_ticks(float(max(counts)))
    col_w = plot_w / len(counts)
    out = [_svg_y_axis(ticks, left, top, plot_w, plot_h)]
    for i, (label, n) in enumerate(zip(labels, counts)):
        x = left + i * col_w + 3
        short = label.replace("及以上", "+")
        if n:
            h = plot_h * n / ticks[-1]
            out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{col_w - 6:.1f}" height="{h:.1f}" fill="#2e7d32">'
                       f"<title>{escape(label)} 个工作日：{n:,} 件</title></rect>")
            out.append(f'<text x="{x + (col_w - 6) / 2:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" font-size="11">{n:,}</text>')
        out.append(f'<text x="{x + (col_w - 6) / 2:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" font-size="11">{escape(short)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8:.1f}" text-anchor="middle">收件至发证（工作日）</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 {top + plot_h / 2:.1f})">报文数</text>')
    return _svg(width, height, "收件至发证用时分布（直方图，工作日）", "".join(out))
