"""The reconciliation report's page (pure): one self-contained HTML file of the tables of
transforms/reporting/cohandling_tables.py — inline CSS and SVG charts, no script, no external asset.

Sections, in order: 说明 (what each status and metric means), 总体情况 (headline figures and the
balance), 各市完成率与超期情况 (bar chart), 分级明细 (city → county → institution, folded), 办理用时分布
(histogram), 每日趋势 (line chart), 超期未办结清单 (every row, one section per city, grouped by institution), and the exception,
quarantine and data-file lists. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd

from transforms.cohandling.quarantine import HEADINGS as QUARANTINE_HEADINGS
from transforms.reporting.cells import RATES, code_of, format_cell, is_missing, local_dates, local_naive_one
from transforms.reporting.cohandling_tables import (
    CSV_DIR,
    EXCEPTION_HEADINGS,
    FINAL,
    KEY_HEADINGS,
    METRICS,
    OPEN,
    OVERDUE_HEADINGS,
    OVERDUE_PUBLIC,
    STATUS_NOTES,
    STATUSES,
    SUMMARY_HEADINGS,
    TABLES,
    UTILITY_ORDER,
    XLSX_NAME,
    metric_heading,
    overdue_groups,
)
from transforms.reporting.html_page import CSS, escape, heading_cell, link, table_html

DRILL_COLUMNS = (
    "received", "delivered_total", "done", "done_late", "rejected", "open", "overdue", "completion_rate", "overdue_rate", "handle_median_wd", "handle_p90_wd",
)
_COLORS = {"done": "#2e7d32", "done_late": "#ef6c00", "rejected": "#6d4c41", "overdue": "#c62828", "delivered": "#1565c0"}


def render_html(
    tables: Mapping[str, pd.DataFrame],
    statuses: pd.DataFrame,
    daily: pd.DataFrame | None,
    *,
    period: tuple[date, date],
    as_of: datetime,
    provenance: Mapping[str, object] | None = None,
) -> str:
    """One self-contained HTML page (inline CSS and SVG, no script, no external asset) of the report's tables;
    `provenance` (transforms/reporting/provenance.py): what it was computed from, in the footer."""
    from transforms.reporting.provenance import provenance_html

    first, last = period
    title = "水电气热过户协同办理对账报告"
    span = f"{first.isoformat()} 至 {last.isoformat()}"
    summary = tables["汇总"]
    total = dict(zip(summary[SUMMARY_HEADINGS["code"]], summary[SUMMARY_HEADINGS["total"]]))
    sections = [
        ("notes", "说明", _notes_html()),
        ("headline", "总体情况", _headline_html(summary, total)),
        ("cities", "各市完成率与超期情况", _figure(_svg_city_rates(tables["按市"]), "每市两条：上为完成率，下为超期率（含超期办结）；右侧为仍超期未办结的件数。")),
        ("drill", "分级明细：市 → 县 → 机构", _drill_html(tables["按市"], tables["按县"], tables["按机构"])),
        ("handle", "办理用时分布", _figure(_svg_histogram(statuses), "已有最终结果（按时办结、超期办结、退回）的工单，自推送起的工作日数，按整工作日分组。")),
        ("trend", "每日趋势", _figure(_svg_trend(daily), "每日推送、办结、退回与超期的件数。") if daily is not None and len(daily) else '<p class="note">本期未提供每日数据。</p>'),
        ("overdue", "超期未办结清单（公示）", _overdue_html(tables["超期清单"])),
        ("files", "异常、隔离与数据文件", _files_html(tables)),
    ]
    toc = "".join(f'<li><a href="#{key}">{escape(name)}</a></li>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{escape(name)}</h2>{content}</section>' for key, name, content in sections)
    stamp = local_naive_one(as_of).strftime("%Y-%m-%d %H:%M")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}（{escape(span)}）</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p class=\"period\">统计期间：{escape(span)}　数据截至：{escape(stamp)}（北京时间）</p></header>"
        f'<nav><strong>目录</strong><ol>{toc}</ol></nav>{body}'
        f"<footer>由协办网关生成，数据截至 {escape(stamp)}。证件号码、电话与姓名已脱敏；"
        f"完整数据见 {link(XLSX_NAME, XLSX_NAME)} 与 {escape(CSV_DIR)}/ 目录下的 CSV 文件。"
        f"{provenance_html(provenance) if provenance else ''}</footer>"
        "</body></html>\n"
    )


def csv_href(name: str) -> str:
    """The page's link to a table's CSV file."""
    return f"{CSV_DIR}/{name}.csv"


def _notes_html() -> str:
    statuses = "".join(f"<dt>{escape(label)} <code>{escape(code)}</code></dt><dd>{escape(STATUS_NOTES[code])}</dd>" for code, label in STATUSES.items())
    return (
        "<p>本报告按工单统计：一条协办记录（附件1）申请几项过户，就生成几张工单（电、水、气、热各一张），"
        "每张工单取现行版本（平台更正后以更正版本为准）。工单状态的含义：</p>"
        f'<dl class="statuses">{statuses}</dl>'
        "<p><strong>平衡关系：</strong>已推送合计 = 按时办结 + 超期办结 + 退回 + 在办（已推送待签收 + 已签收办理中 + 超期未办结），"
        "并与每张工单的推送时间逐条核对，不平衡时不出报告。</p>"
        "<p><strong>完成率</strong> =（按时办结 + 超期办结）÷ 已推送合计；<strong>超期率</strong> =（超期未办结 + 超期办结）÷ 已推送合计。"
        "<strong>办理用时</strong>为自推送至最终结果的工作日数（扣除法定节假日，计入调休上班日），给出中位数和第90百分位数（P90）。"
        "各表标题后括号内为字段代码，与 XLSX、CSV 文件一致。</p>"
        "<p>买方姓名、证件号码、联系电话均已脱敏（如 张*、370102********123X、138****5678）。"
        "以 = + - @ 开头的文字前加了单引号，防止在 Excel/WPS 中被当作公式执行。</p>"
    )


def _headline_html(summary: pd.DataFrame, total: Mapping[str, object]) -> str:
    cards = [
        ("协办工单", format_cell(total["received"])),
        ("已推送", format_cell(total["delivered_total"])),
        ("完成率", format_cell(total["completion_rate"], "completion_rate")),
        ("超期率", format_cell(total["overdue_rate"], "overdue_rate")),
        ("超期未办结（公示）", format_cell(total["overdue"])),
        ("办理用时中位数 / P90（工作日）", f"{format_cell(total['handle_median_wd'], 'handle_median_wd')} / {format_cell(total['handle_p90_wd'], 'handle_p90_wd')}"),
        ("异常记录", format_cell(total["exceptions"])),
        ("隔离清单条目", format_cell(total["quarantine_lines"])),
    ]
    html_cards = "".join(f'<div class="card"><div class="v">{escape(v)}</div><div class="k">{escape(k)}</div></div>' for k, v in cards)
    open_n = sum(int(total[s]) for s in OPEN)
    balance = (
        f'<p><span class="ok">平衡校验通过：</span>已推送合计 {format_cell(total["delivered_total"])} = 按时办结 {format_cell(total["done"])} + '
        f'超期办结 {format_cell(total["done_late"])} + 退回 {format_cell(total["rejected"])} + 在办 {format_cell(open_n)}。</p>'
    )
    code_col, item_col = SUMMARY_HEADINGS["code"], SUMMARY_HEADINGS["item"]
    value_cols = [SUMMARY_HEADINGS[k] for k in ("total", *UTILITY_ORDER)]
    head = heading_cell(item_col) + "".join(heading_cell(c) for c in value_cols)
    rows = []
    for _, row in summary.iterrows():
        code = row[code_col]
        if code in ("period", "as_of"):
            continue
        cells = "".join(f'<td class="n">{escape(format_cell(row[c], code))}</td>' for c in value_cols)
        rows.append(f"<tr><td>{escape(row[item_col])} <code>{escape(code)}</code></td>{cells}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="cards">{html_cards}</div>{balance}<h3>按状态与业务类型</h3>{table}'


def _drill_html(by_city: pd.DataFrame, by_county: pd.DataFrame, by_institution: pd.DataFrame) -> str:
    metric_cols = [metric_heading(c) for c in DRILL_COLUMNS]
    city_code, city_name = KEY_HEADINGS["city_code"], KEY_HEADINGS["city_name"]
    xzqh, county_name = KEY_HEADINGS["xzqh"], KEY_HEADINGS["county_name"]
    overview = table_html(by_city, [city_code, city_name, *metric_cols], total=_totals(by_city))
    parts = [f"<h3>各市</h3>{overview}<h3>逐级展开</h3>"]
    institution_cols = [KEY_HEADINGS[k] for k in ("utility", "institution_code", "institution_name", "channel")] + metric_cols
    for city in by_city.itertuples(index=False):
        row = dict(zip(by_city.columns, city))
        counties = by_county[by_county[city_code] == row[city_code]]
        inner = [table_html(counties, [xzqh, county_name, *metric_cols])]
        for county in counties.itertuples(index=False):
            crow = dict(zip(counties.columns, county))
            institutions = by_institution[by_institution[xzqh] == crow[xzqh]]
            inner.append(
                f"<details><summary>{escape(crow[county_name])} <code>{escape(crow[xzqh])}</code>{_figures(crow)}</summary>"
                f'<div class="body">{table_html(institutions, institution_cols)}</div></details>'
            )
        parts.append(
            f"<details><summary>{escape(row[city_name])} <code>{escape(row[city_code])}</code>{_figures(row)}</summary>"
            f'<div class="body">{"".join(inner)}</div></details>'
        )
    return "".join(parts)


def _totals(frame: pd.DataFrame) -> dict[str, object]:
    """Column sums of the count columns for a 合计 row (rates are not summed)."""
    return {code_of(c): int(frame[c].sum()) for c in frame.columns if code_of(c) in METRICS and code_of(c) not in RATES and not code_of(c).endswith("_wd")}


def _figures(row: Mapping[str, object]) -> str:
    get = {code_of(k): v for k, v in row.items()}
    return (
        f'<span class="fig">工单 {escape(format_cell(get["received"]))}，已推送 {escape(format_cell(get["delivered_total"]))}，'
        f'完成率 {escape(format_cell(get["completion_rate"], "completion_rate"))}，超期未办结 {escape(format_cell(get["overdue"]))}</span>'
    )


def _overdue_html(overdue: pd.DataFrame) -> str:
    """Every overdue order (no cut): one section per city (its own heading, a new page in print), in it one table whose
    rows are grouped by institution; the public columns only (OVERDUE_PUBLIC: no ROWGUID, no buyer)."""
    n = len(overdue)
    lead = (
        f"<p>截至数据时点，已推送、办理期限已过仍无最终结果的工单共 <strong>{n:,}</strong> 件，按市分节、每市按承办单位分组，"
        "组内按超期工作日从多到少排列；以平台业务号和房屋坐落（已脱敏，只列到道路）标识。"
        f"同一清单（另有标识码等核对用列）见 {link(csv_href('超期清单'), csv_href('超期清单'))} 或 {link(XLSX_NAME, XLSX_NAME)}"
        "（工作表“超期清单”，打印时每市从新页开始）。</p>"
    )
    groups = overdue_groups(overdue)
    if not groups:
        return lead + '<p class="note">（无）</p>'
    index = "".join(f'<li><a href="#overdue-{escape(g.city_code)}">{escape(g.city_name)}</a> {g.count:,} 件</li>' for g in groups)
    columns = [OVERDUE_HEADINGS[k] for k in OVERDUE_PUBLIC if k not in ("city_name",)]
    head = "".join(heading_cell(c) for c in columns)
    classes = {OVERDUE_HEADINGS["platform_no"]: "id", OVERDUE_HEADINGS["address"]: "addr", OVERDUE_HEADINGS["no"]: "n",
               OVERDUE_HEADINGS["utility"]: "d", OVERDUE_HEADINGS["delivered_on"]: "d", OVERDUE_HEADINGS["due_date"]: "d"}
    sections = []
    for group in groups:
        bodies = []
        for inst in group.institutions:
            label = f"{inst.name} · {inst.utility}" + (f" · {inst.code}" if inst.code else "")
            rows = [f'<tr class="group"><th colspan="{len(columns)}" scope="rowgroup">{escape(label)}：{len(inst.rows):,} 件</th></tr>']
            for values in inst.rows.loc[:, columns].itertuples(index=False):
                cells = []
                for heading, value in zip(columns, values):
                    code = code_of(heading)
                    numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
                    css = "n" if numeric else classes.get(heading, "")
                    cells.append(f'<td class="{css}">{escape(format_cell(value, code))}</td>' if css else f"<td>{escape(format_cell(value, code))}</td>")
                rows.append("<tr>" + "".join(cells) + "</tr>")
            bodies.append(f"<tbody>{''.join(rows)}</tbody>")
        sections.append(
            f'<section class="city" id="overdue-{escape(group.city_code)}"><h3>{escape(group.city_name)}　超期未办结 {group.count:,} 件'
            f'<small>（{len(group.institutions):,} 个承办单位）</small></h3>'
            f'<table class="list"><thead><tr class="city"><th colspan="{len(columns)}">{escape(group.city_name)}　超期未办结清单（公示）</th></tr>'
            f'<tr>{head}</tr></thead>{"".join(bodies)}</table></section>'
        )
    return lead + f'<ol class="cities">{index}</ol>' + "".join(sections)


def _files_html(tables: Mapping[str, pd.DataFrame]) -> str:
    exceptions, quarantine = tables["异常清单"], tables["隔离清单"]
    code_col, reason_col = EXCEPTION_HEADINGS["reason_code"], EXCEPTION_HEADINGS["reason"]
    parts = [
        f"<p>异常记录 <strong>{len(exceptions):,}</strong> 条（回执文件、接口返回中无法处理的行），"
        f"见 {link(csv_href('异常清单'), csv_href('异常清单'))}。</p>"
    ]
    if len(exceptions):
        by_reason = (
            exceptions.assign(**{code_col: exceptions[code_col].fillna(""), reason_col: exceptions[reason_col].fillna("")})
            .groupby([code_col, reason_col], sort=True).size().rename("条数(count)").reset_index()
            .sort_values("条数(count)", ascending=False, kind="stable")
        )
        parts.append(table_html(by_reason))
    rowguid = QUARANTINE_HEADINGS["rowguid"]
    records = quarantine[rowguid].nunique() if rowguid in quarantine.columns else len(quarantine)
    parts.append(
        f"<p>隔离清单 <strong>{len(quarantine):,}</strong> 条（涉及 {records:,} 个标识码），"
        f"见 {link(csv_href('隔离清单'), csv_href('隔离清单'))}。</p>"
    )
    rule, name, state = QUARANTINE_HEADINGS["rule_id"], QUARANTINE_HEADINGS["rule_name"], QUARANTINE_HEADINGS["state"]
    if len(quarantine) and rule in quarantine.columns:
        frame = quarantine.assign(**{name: quarantine[name].fillna("") if name in quarantine.columns else "",
                                     state: quarantine[state].fillna("") if state in quarantine.columns else ""})
        still = frame[state].astype(str).str.startswith("仍在隔离")
        by_rule = (
            frame.assign(_still=still, _known=frame[state].astype(str) != "")
            .groupby([rule, name], sort=True)
            .agg(**{"条数(count)": (rule, "size"), "仍在隔离(still)": ("_still", "sum"), "_known": ("_known", "any")})
            .reset_index()
        )
        by_rule["已更正或撤回(resolved)"] = (by_rule["条数(count)"] - by_rule["仍在隔离(still)"]).where(by_rule["_known"])
        by_rule["仍在隔离(still)"] = by_rule["仍在隔离(still)"].where(by_rule["_known"])
        by_rule = by_rule.drop(columns="_known").rename(columns={rule: "规则编号(rule_id)", name: "规则名称(rule_name)"})
        parts.append("<p>按规则统计（当前状态为数据截至时的状态：之后已更正通过或平台撤回的，不再计入“仍在隔离”）：</p>" + table_html(by_rule))
    files = "".join(
        f"<tr><td>{escape(name)} <code>{escape(code)}</code></td><td>{link(csv_href(name), csv_href(name))}</td>"
        f'<td class="n">{len(tables[name]):,}</td></tr>'
        for name, code in TABLES.items() if name in tables
    )
    parts.append(
        f"<h3>数据文件</h3><p>{link(XLSX_NAME, XLSX_NAME)}：每张表一个工作表（工作表名同下）；CSV 为 UTF-8（带 BOM），可直接用 Excel/WPS 打开。</p>"
        f"<table><thead><tr><th>表</th><th>CSV</th><th>行数</th></tr></thead><tbody>{files}</tbody></table>"
    )
    return "".join(parts)


# --- charts: inline SVG, no script; every text escaped


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _count_ticks(value: float) -> list[int]:
    """Whole-number ticks from 0 to a round top at or above value, at most 6 of them (1, 2 or 5 × 10^k apart)."""
    value = max(float(value), 1.0)
    power = 10 ** max(0, math.floor(math.log10(value / 5)))
    step = next(s * power for s in (1, 2, 5, 10) if value / (s * power) <= 5)
    top = math.ceil(value / step) * step
    return list(range(0, top + 1, step))


def _svg(width: float, height: float, label: str, content: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>{content}</svg>'
    )


def _svg_legend(items: Iterable[tuple[str, str]], x: float, y: float) -> str:
    out = []
    for label, color in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{color}"/><text x="{x + 16:.1f}" y="{y:.1f}">{escape(label)}</text>')
        x += 30 + 13 * len(label)
    return "".join(out)


def _svg_y_axis(ticks: list[int], left: float, top: float, plot_w: float, plot_h: float) -> str:
    out = []
    for tick in ticks:
        y = top + plot_h - plot_h * tick / ticks[-1]
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick:,}</text>')
    return "".join(out)


def _svg_city_rates(by_city: pd.DataFrame) -> str:
    """Horizontal bars per city: completion rate and overdue rate, 0–100 %, with the open overdue count."""
    if by_city.empty:
        return '<p class="note">本期无工单。</p>'
    left, scale, row_h, top = 130.0, 460.0, 42.0, 46.0
    width = left + scale + 210
    height = top + row_h * len(by_city) + 10
    out = [_svg_legend([("完成率", _COLORS["done"]), ("超期率", _COLORS["overdue"])], left, 16)]
    for pct in (0, 25, 50, 75, 100):
        x = left + scale * pct / 100
        out.append(f'<line x1="{x:.1f}" y1="{top - 8:.1f}" x2="{x:.1f}" y2="{height - 6:.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{x:.1f}" y="{top - 12:.1f}" text-anchor="middle" font-size="11">{pct}%</text>')
    name = KEY_HEADINGS["city_name"]
    for i, (_, row) in enumerate(by_city.iterrows()):
        y = top + i * row_h
        out.append(f'<text x="{left - 8:.1f}" y="{y + 20:.1f}" text-anchor="end">{escape(row[name])}</text>')
        for j, (code, color) in enumerate((("completion_rate", _COLORS["done"]), ("overdue_rate", _COLORS["overdue"]))):
            rate = row[metric_heading(code)]
            by = y + 4 + j * 15
            if is_missing(rate):
                out.append(f'<text x="{left + 4:.1f}" y="{by + 11:.1f}" font-size="11">无推送</text>')
                continue
            w = scale * max(0.0, min(float(rate), 1.0))
            out.append(f'<rect x="{left:.1f}" y="{by:.1f}" width="{w:.1f}" height="13" fill="{color}"><title>{escape(row[name])} {escape(METRICS[code])} {escape(format_cell(rate, code))}</title></rect>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{by + 11:.1f}" font-size="11">{escape(format_cell(rate, code))}</text>')
        overdue = int(row[metric_heading("overdue")])
        out.append(f'<text x="{left + scale + 50:.1f}" y="{y + 20:.1f}" font-size="12">超期未办结 {overdue:,} 件</text>')
    return _svg(width, height, "各市完成率与超期率（条形图）", "".join(out))


def _svg_histogram(statuses: pd.DataFrame) -> str:
    """Stacked columns: work orders with a final result by whole working days to handle (≥10 in one column)."""
    final = statuses[statuses["status"].isin(list(FINAL))]
    days = pd.to_numeric(final["handle_working_days"], errors="coerce")
    final, days = final[days.notna()], days[days.notna()]
    if final.empty:
        return '<p class="note">本期尚无已有最终结果的工单。</p>'
    top_bin = 10
    bins = np.floor(days.clip(lower=0, upper=top_bin)).astype(int)
    counts = pd.crosstab(bins, final["status"]).reindex(index=range(top_bin + 1), columns=list(FINAL), fill_value=0)
    left, bottom, plot_w, plot_h, top = 52.0, 48.0, 640.0, 220.0, 34.0
    width, height = left + plot_w + 20, top + plot_h + bottom
    ticks = _count_ticks(float(counts.sum(axis=1).max()))
    y_max = ticks[-1]
    col_w = plot_w / len(counts)
    out = [_svg_legend([(STATUSES[s], _COLORS[s]) for s in FINAL], left, 16), _svg_y_axis(ticks, left, top, plot_w, plot_h)]
    for i, (bin_, row) in enumerate(counts.iterrows()):
        x = left + i * col_w + 4
        y = top + plot_h
        label = f"≥{top_bin}" if bin_ == top_bin else f"{bin_}–{bin_ + 1}"
        for status in FINAL:
            n = int(row[status])
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w - 8:.1f}" height="{h:.1f}" fill="{_COLORS[status]}"><title>{escape(label)} 个工作日：{escape(STATUSES[status])} {n:,} 件</title></rect>')
        total = int(row.sum())
        if total:
            out.append(f'<text x="{x + (col_w - 8) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11">{total:,}</text>')
        out.append(f'<text x="{x + (col_w - 8) / 2:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" font-size="11">{escape(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8:.1f}" text-anchor="middle">办理用时（工作日）</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 {top + plot_h / 2:.1f})">工单数</text>')
    return _svg(width, height, "办理用时分布（直方图，工作日）", "".join(out))


def _svg_trend(daily: pd.DataFrame) -> str:
    """Lines per day: delivered, done, rejected, overdue."""
    frame = daily.sort_values("day").reset_index(drop=True)
    series = (("delivered", "推送"), ("done", "办结"), ("rejected", "退回"), ("overdue", "超期"))
    values = {code: pd.to_numeric(frame[code], errors="coerce").fillna(0).to_numpy(dtype=float) for code, _ in series}
    days = list(local_dates(frame["day"]))
    left, bottom, plot_w, plot_h, top = 52.0, 44.0, 660.0, 220.0, 34.0
    width, height = left + plot_w + 20, top + plot_h + bottom
    ticks = _count_ticks(max(float(v.max()) for v in values.values()) if len(frame) else 1.0)
    y_max = ticks[-1]
    step = plot_w / max(len(days) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + (i * step if len(days) > 1 else plot_w / 2), top + plot_h - plot_h * v / y_max

    out = [_svg_legend([(label, _COLORS[code]) for code, label in series], left, 16), _svg_y_axis(ticks, left, top, plot_w, plot_h)]
    every = max(1, math.ceil(len(days) / 12))
    for i, day in enumerate(days):
        if i % every == 0 or i == len(days) - 1:
            x, _ = xy(i, 0)
            text = day.strftime("%m-%d") if day else ""
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" font-size="11">{escape(text)}</text>')
    for code, label in series:
        points = [xy(i, v) for i, v in enumerate(values[code])]
        color = _COLORS[code]
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>')
        for (x, y), v, day in zip(points, values[code], days):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>{escape(day.isoformat() if day else "")} {escape(label)} {int(v):,} 件</title></circle>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6:.1f}" text-anchor="middle">日期</text>')
    return _svg(width, height, "每日趋势（折线图）", "".join(out))
