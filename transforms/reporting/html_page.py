"""The HTML both report pages are made of (pure): one stylesheet, escaping, links, and a table
whose headings show the Chinese label over the code and whose cells read as transforms/reporting/cells.py
writes them. No script, no external asset: a page is one file a county can mail or print.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

import numpy as np
import pandas as pd

from transforms.reporting.cells import code_of, format_cell

CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d0d7de; --band:#f6f8fa; --done:#2e7d32; --late:#ef6c00;
        --rej:#6d4c41; --over:#c62828; --sent:#1565c0; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimSun", sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; line-height: 1.55; font-size: 14px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--ink); padding-bottom: 2px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.period { color: var(--muted); margin: 0 0 12px; }
nav ol { columns: 2; margin: 0; padding-left: 20px; }
dl.statuses { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.statuses dt { font-weight: 600; }
dl.statuses dd { margin: 0; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 6px 0 0; }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .v { font-size: 22px; font-weight: 700; }
.card .k { color: var(--muted); font-size: 12px; }
.ok { color: var(--done); font-weight: 600; }
table { border-collapse: collapse; width: 100%; max-width: 100%; margin: 6px 0 14px; font-size: 12.5px; }
th, td { border: 1px solid var(--line); padding: 3px 4px; vertical-align: top; }
/* words stay whole (a column is as wide as its longest word); only a long unbroken token (a ROWGUID, a file name:
   td.long) breaks anywhere, over a column at least 12em wide: it never widens the table past the page, nor runs 4 lines */
th, td { overflow-wrap: break-word; }
td.long { overflow-wrap: anywhere; min-width: 12em; }
th { background: var(--band); font-weight: 600; text-align: left; }
th small { display: block; font-weight: 400; color: var(--muted); font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 10.5px;
           overflow-wrap: normal; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
td.id, td.d { font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }  /* an 18-digit number, a date: one line */
table.list { font-size: 12px; }
table.list td.addr { min-width: 16em; }
thead tr.city { display: none; }  /* on paper only: the city over every page of its list (a thead repeats) */
tr.group th { background: #eef2f6; font-weight: 600; border-top: 2px solid var(--muted); }
ol.cities { columns: 4; margin: 4px 0 10px; padding-left: 22px; }
h3 small { font-weight: 400; color: var(--muted); font-size: 12px; margin-left: 6px; }
tr.total td { font-weight: 700; background: var(--band); }
details { border-left: 3px solid var(--line); padding-left: 10px; margin: 6px 0; }
details details { margin-left: 8px; }
summary { cursor: pointer; font-weight: 600; }
summary .fig { font-weight: 400; color: var(--muted); margin-left: 8px; }
figure { margin: 10px 0 18px; }
figcaption { color: var(--muted); font-size: 12px; }
svg { max-width: 100%; height: auto; font-size: 12px; }
svg text { fill: var(--ink); }
.note { color: var(--muted); font-size: 12px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 6px; }
@page { size: A4 landscape; margin: 10mm 10mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5px; }
  nav, ol.cities { display: none; }
  a { color: inherit; text-decoration: none; }
  table { font-size: 10px; }
  thead { display: table-header-group; }  /* the heading row again on every page a table runs onto */
  thead tr.city { display: table-row; }
  thead tr.city th { background: none; border: none; font-size: 12px; padding: 0 0 4px; }
  h2, h3, tr.group { break-after: avoid; }
  figure, .cards, tr { break-inside: avoid; }
  body > section + section { break-before: page; }  /* each section from a new page */
  section.city + section.city { break-before: page; }  /* the 公示 list: each city from a new page */
  /* print the drill-down whole: a closed <details> would hide it on paper */
  details > .body { display: block !important; }
  details::details-content { content-visibility: visible; display: contents; }
  summary { list-style: none; }
}
"""

_LONG_TOKEN = re.compile(r"[!-~]{24,}")  # 24+ printable ASCII characters without a space: no break a browser would take


def escape(value) -> str:
    """Text safe inside an element or a quoted attribute; None is empty."""
    return html.escape("" if value is None else str(value), quote=True)


def link(href: str, text: str) -> str:
    """<a> to a relative file name (percent-encoded: table names are Chinese)."""
    return f'<a href="{escape(quote(href))}">{escape(text)}</a>'


def heading_cell(heading: str) -> str:
    """<th> with the label over its code in small type: 完成率(completion_rate)."""
    code = code_of(heading)
    label = heading[: -len(code) - 2] if code != heading else heading
    # a long code breaks only after its underscores (completion_<wbr>rate), never inside a word
    shown = "_<wbr>".join(escape(part) for part in code.split("_"))
    return f"<th>{escape(label)}<small>{shown}</small></th>" if code != heading else f"<th>{escape(label)}</th>"


def table_html(frame: pd.DataFrame, columns: Iterable[str] | None = None, *, max_rows: int | None = None, total: Mapping[str, object] | None = None) -> str:
    """<table> of `columns` (default all), at most `max_rows` rows, numbers right-aligned; `total` (by code) adds a 合计 row; （无） when empty."""
    columns = list(frame.columns if columns is None else columns)
    codes = [code_of(c) for c in columns]
    head = "".join(heading_cell(c) for c in columns)
    shown = frame if max_rows is None else frame.head(max_rows)
    rows = []
    for values in shown.loc[:, columns].itertuples(index=False):
        cells = []
        for value, code in zip(values, codes):
            numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            text = format_cell(value, code)
            css = "n" if numeric else "long" if _LONG_TOKEN.search(text) else ""
            cells.append(f'<td class="{css}">{escape(text)}</td>' if css else f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if total is not None:
        cells = [f'<td class="n">{escape(format_cell(total[c], c))}</td>' if c in total else "<td></td>" for c in codes]
        cells[0] = "<td>合计</td>"
        rows.append('<tr class="total">' + "".join(cells) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}" class="note">（无）</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
