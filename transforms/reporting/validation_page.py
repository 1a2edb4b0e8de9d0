"""The validation page (数据校验结果) a person opens offline: one self-contained HTML file per run —
inline stylesheet, no script, no external URL — and an index listing the runs (pure: results in, HTML out).

It is built from the same results as the ledger's verdicts and the Great Expectations suite: every
Annex 1 rule of transforms/cohandling/rule_catalogue.py with its id and Chinese name, how often it failed
and on how many records, the fields involved with their Annex 1 label and code, a few failing values
(masked: ID numbers, phones, names, addresses), and every expectation of the suite with its rule id. GX's
own Data Docs load their styles and scripts from CDNs, so offline they are bare text; they stay in the run
folder for engineers, but this page is the one linked from the DAG run.

A run's digest (`page_digest`) is a small JSON-able dict with masked samples only; pages of one run (and a
retry's) are added up with `merge_digests`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import pandas as pd

from transforms.cohandling.annex1 import LABELS, UTILITY_LABELS
from transforms.cohandling.rule_catalogue import RULES
from transforms.common.mask import mask_id, mask_in_text, mask_names, mask_phone
from transforms.reporting.html_page import CSS, escape

SAMPLES_PER_RULE = 5  # failing values shown per rule: enough to see the kind of error
VALUE_CHARS = 60  # a sample value is cut to this many characters

SEVERITY_ZH = {"error": "错误", "warning": "警告"}
SCOPE_ZH = {"record": "整条记录", "utility": "单项业务"}
SOURCE_ZH = {"platform": "“一网通办”平台交换库"}

ID_FIELDS = ("ZRFZJHM", "ZCFZJHM")
PHONE_FIELDS = ("ZRFLXDH", "ZCFLXDH")
NAME_FIELDS = ("ZRFXM", "ZCFXM")
ADDRESS_FIELDS = ("FWZL",)
ADDRESS_KEPT = 8  # characters of an address shown (city, county, street) before the mask

# The suite's derived columns (expectations/cohandling.py gx_frame): the Annex 1 field each is made from, and how.
DERIVED = {
    "FWJZMJ_NUM": ("FWJZMJ", "数值"),
    "DBSJ_TS": ("DBSJ", "时间"),
    **{f"{side}_PERSON_IDS": (f"{side}ZJHM", "个人证件") for side in ("ZRF", "ZCF")},
    **{f"{side}_COMPANY_IDS": (f"{side}ZJHM", "单位证件") for side in ("ZRF", "ZCF")},
    **{f"{side}_N_NAMES": (f"{side}XM", "人数") for side in ("ZRF", "ZCF")},
    **{f"{side}_N_IDS": (f"{side}ZJHM", "人数") for side in ("ZRF", "ZCF")},
    **{f"{name}_REGISTERED": (name, "名录登记名称") for name in ("GSJGMC", "RQJGMC", "GRJGMC")},
}

# Great Expectations' expectation types in Chinese (the code stays beside it).
EXPECTATION_ZH = {
    "expect_column_values_to_not_be_null": "不为空",
    "expect_column_values_to_be_in_set": "取值在代码集内",
    "expect_column_values_to_be_between": "取值在范围内",
    "expect_column_values_to_match_regex": "符合格式",
    "expect_column_values_to_have_valid_check_characters": "校验位正确",
    "expect_column_pair_values_to_be_equal": "两列一致",
}


def column_label(column: str) -> tuple[str, str]:
    """(Chinese label, code) of an Annex 1 field or of one of the suite's derived columns: ("买方证件号码·个人证件", "ZRF_PERSON_IDS")."""
    if column in LABELS:
        return LABELS[column], column
    if column in DERIVED:
        base, how = DERIVED[column]
        return f"{LABELS.get(base, base)}·{how}", column
    return column, column


def mask_value(field: str, value) -> str:
    """A failing value as it may be shown: ID numbers, phones, names and addresses masked, any ID or phone in other text too."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    one = pd.Series([text], dtype=object)
    if field in ID_FIELDS:
        text = mask_id(one).iloc[0]
    elif field in PHONE_FIELDS:
        text = mask_phone(one).iloc[0]
    elif field in NAME_FIELDS:
        text = mask_names(one).iloc[0]
    elif field in ADDRESS_FIELDS:
        text = text[:ADDRESS_KEPT] + ("****" if len(text) > ADDRESS_KEPT else "")
    text = mask_in_text(pd.Series([text], dtype=object)).iloc[0]
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def page_digest(failures: pd.DataFrame, expectations: Iterable[Mapping] = (), *, run_id: str, as_of: datetime | str, source: str,
                data_docs: str | None = None) -> dict:
    """The digest of one validated page: per rule its failures, records, fields and masked samples; the suite's expectations.

    `failures`: one row per failure (rule_id, field, utility, value, row; ROWGUID and YCYWH of the record when known);
    `expectations`: per expectation rule_id, type, columns, evaluated, unexpected, missing, success (expectations/cohandling.py)."""
    rules: dict[str, dict] = {}
    if len(failures):
        for rule_id, group in failures.groupby("rule_id", sort=False):
            fields = group["field"].fillna("").astype(str)
            sample = group.head(SAMPLES_PER_RULE)
            rules[str(rule_id)] = {
                "failures": int(len(group)),
                "records": int(group["row"].nunique()) if "row" in group else int(len(group)),
                "fields": {k: int(v) for k, v in fields.value_counts().items()},
                "samples": [
                    {"ycywh": _cut(r.get("YCYWH")), "rowguid": _cut(r.get("ROWGUID")), "field": str(r.get("field") or ""),
                     "utility": str(r.get("utility") or ""), "value": mask_value(str(r.get("field") or ""), r.get("value"))}
                    for r in sample.to_dict("records")
                ],
            }
    shown = {}
    for e in expectations:
        key = f"{e['rule_id']}|{e['type']}|{','.join(e['columns'])}"
        shown[key] = {"rule_id": e["rule_id"], "type": e["type"], "columns": list(e["columns"]), "evaluated": int(e.get("evaluated") or 0),
                      "unexpected": int(e.get("unexpected") or 0), "missing": int(e.get("missing") or 0), "success": bool(e["success"])}
    return {"run_id": run_id, "source": source, "as_of": str(as_of), "pages": 1, "rules": rules, "expectations": shown,
            "data_docs": [data_docs] if data_docs else []}


def merge_digests(old: Mapping | None, new: Mapping) -> dict:
    """Two digests of one run (pages, or an attempt and its retry) added up: counts summed, samples kept up to the limit."""
    if not old:
        return dict(new)
    rules = {k: {**v, "fields": dict(v["fields"]), "samples": list(v["samples"])} for k, v in old["rules"].items()}
    for rule_id, r in new["rules"].items():
        if rule_id not in rules:
            rules[rule_id] = r
            continue
        mine = rules[rule_id]
        mine["failures"] += r["failures"]
        mine["records"] += r["records"]
        for field, n in r["fields"].items():
            mine["fields"][field] = mine["fields"].get(field, 0) + n
        mine["samples"] = (mine["samples"] + r["samples"])[:SAMPLES_PER_RULE]
    shown = {k: dict(v) for k, v in old["expectations"].items()}
    for key, e in new["expectations"].items():
        if key not in shown:
            shown[key] = e
            continue
        mine = shown[key]
        for count in ("evaluated", "unexpected", "missing"):
            mine[count] += e[count]
        mine["success"] = mine["success"] and e["success"]
    return {**old, "as_of": new["as_of"], "pages": old["pages"] + new["pages"], "rules": rules, "expectations": shown,
            "data_docs": list(old["data_docs"]) + [d for d in new["data_docs"] if d not in old["data_docs"]]}


PAGE_CSS = CSS + """
body { max-width: 1180px; }
td { overflow-wrap: anywhere; }
td.code, td code, td.nw, th.nw { white-space: nowrap; }
.cards { grid-template-columns: repeat(6, 1fr); }
.fail { color: var(--over); font-weight: 600; }
.warn { color: var(--late); font-weight: 600; }
tr.failed td:first-child { border-left: 3px solid var(--over); }
tr.warned td:first-child { border-left: 3px solid var(--late); }
dl.provenance dt { color: var(--muted); }
@page { size: A4 portrait; margin: 12mm; }
@media print { .cards { grid-template-columns: repeat(6, 1fr); } body { font-size: 10px; } table { font-size: 9.5px; } }
"""


NO_VALUE = '<span class="note">（无值）</span>'
FAILED_ROW = ' class="failed"'
NONE_FAILED = '<span class="ok">无</span>'


def _shown_value(value: str) -> str:
    if not value:
        return NO_VALUE
    return escape(value) if value.strip() else '<span class="note">（空白）</span>'


def _cut(value, n: int = 40) -> str:
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _label_cell(column: str) -> str:
    label, code = column_label(column)
    return f"{escape(label)} <code>{escape(code)}</code>" if label != code else f"<code>{escape(code)}</code>"


def _rule_code(rule_id: str) -> str:
    """The rule id, its Chinese name on hover."""
    return f'<code title="{escape(_rule_name(rule_id))}">{escape(rule_id)}</code>'


def _rule_name(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return rule.zh if rule else rule_id


def _verdict(failed: int, severity: str) -> str:
    if not failed:
        return '<span class="ok">通过</span>'
    return '<span class="warn">有警告</span>' if severity == "warning" else '<span class="fail">未通过</span>'


def _number(n) -> str:
    return f"{int(n):,}"


def render_run_page(digest: Mapping, totals: Mapping, *, generated_at: datetime, files: Mapping[str, str] | None = None) -> str:
    """The run's validation page: counts, every rule (failing first), masked samples, every expectation of the suite.

    `totals`: the run's counts as the ledger keeps them (records_in, passed, partial, quarantined, withdrawn, warnings);
    `files`: other files of the run a reader may want, label → relative path (quarantine list, GX Data Docs)."""
    run_id = digest["run_id"]
    source = digest["source"]
    rules = digest["rules"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>数据校验结果 {escape(run_id)}</title><style>{PAGE_CSS}</style></head><body>",
        "<h1>数据校验结果（附件1 协办信息）<small class=\"note\"> validation results</small></h1>",
        '<dl class="provenance">',
        f"<dt>运行编号(run_id)</dt><dd><code>{escape(run_id)}</code></dd>",
        f"<dt>截至(as_of)</dt><dd>{escape(digest['as_of'])}（北京时间）</dd>",
        f"<dt>数据来源(source)</dt><dd>{escape(SOURCE_ZH.get(source, source))} <code>{escape(source)}</code></dd>",
        f"<dt>生成时间</dt><dd>{escape(generated_at.strftime('%Y-%m-%d %H:%M:%S'))}（北京时间）</dd>",
        "</dl>",
        '<div class="cards">',
    ]
    for label, code in (("收到记录", "records_in"), ("通过", "passed"), ("部分通过", "partial"), ("隔离", "quarantined"), ("撤回", "withdrawn"),
                        ("有警告", "warnings")):
        parts.append(f'<div class="card"><div class="v">{_number(totals.get(code, 0))}</div><div class="k">{label}({code})</div></div>')
    parts.append("</div>")

    failing = sorted((r for r in rules if r in RULES), key=lambda r: (-rules[r]["failures"], list(RULES).index(r)))
    unknown = sorted(r for r in rules if r not in RULES)
    order = failing + unknown + [r for r in RULES if r not in rules]
    parts += [
        "<h2>规则检查（每条记录，附件1 全部规则）</h2>",
        f'<p class="note">共 {len(RULES)} 条规则，{len([r for r in failing if RULES[r].severity == "error"])} 条未通过，'
        f'{len([r for r in failing if RULES[r].severity == "warning"])} 条有警告。未通过的错误使记录（或其中一项业务）被隔离；警告不阻止推送。</p>',
        "<table><thead><tr><th>规则编号<small>rule_id</small></th><th>规则</th><th>级别<small>severity</small></th>"
        "<th>范围<small>scope</small></th><th>涉及字段<small>field</small></th><th class=\"nw\">不符合<small>failures</small></th>"
        "<th class=\"nw\">涉及记录<small>records</small></th><th class=\"nw\">结果</th></tr></thead><tbody>",
    ]
    for rule_id in order:
        rule = RULES.get(rule_id)
        r = rules.get(rule_id, {"failures": 0, "records": 0, "fields": {}})
        severity = rule.severity if rule else "error"
        fields = "、".join(_label_cell(f) + (f"×{n}" if len(r["fields"]) > 1 else "") for f, n in sorted(r["fields"].items(), key=lambda x: -x[1]) if f)
        klass = "" if not r["failures"] else (' class="warned"' if severity == "warning" else ' class="failed"')
        parts.append(
            f"<tr{klass}><td class=\"code\"><code>{escape(rule_id)}</code></td><td>{escape(_rule_name(rule_id))}</td>"
            f"<td class=\"nw\">{SEVERITY_ZH.get(severity, severity)}</td><td class=\"nw\">{SCOPE_ZH.get(rule.scope, rule.scope) if rule else ''}</td>"
            f"<td>{fields or '—'}</td><td class=\"n\">{_number(r['failures'])}</td><td class=\"n\">{_number(r['records'])}</td>"
            f"<td class=\"nw\">{_verdict(r['failures'], severity)}</td></tr>"
        )
    parts.append("</tbody></table>")

    parts += [
        "<h2>不符合的样例（已脱敏）</h2>",
        f'<p class="note">每条规则最多 {SAMPLES_PER_RULE} 例。证件号码、电话、姓名、房屋坐落已脱敏；完整清单（隔离记录及全部原因）见隔离清单。</p>',
        "<table><thead><tr><th>规则编号<small>rule_id</small></th><th>“一网通办”平台业务号<small>YCYWH</small></th>"
        "<th>标识码<small>ROWGUID</small></th><th>字段<small>field</small></th><th>业务<small>utility</small></th>"
        "<th>报送的值（已脱敏）<small>value</small></th></tr></thead><tbody>",
    ]
    samples = [(rule_id, s) for rule_id in failing + unknown for s in rules[rule_id]["samples"]]
    for rule_id, s in samples:
        utility = UTILITY_LABELS.get(s["utility"], s["utility"]) if s["utility"] else ""
        parts.append(
            f"<tr><td class=\"code\"><code>{escape(rule_id)}</code></td><td>{escape(s['ycywh'])}</td><td><code>{escape(s['rowguid'])}</code></td>"
            f"<td>{_label_cell(s['field']) if s['field'] else '—'}</td><td class=\"nw\">{escape(utility)}</td><td>{_shown_value(s['value'])}</td></tr>"
        )
    if not samples:
        parts.append('<tr><td colspan="6" class="note">（无：所有记录通过全部规则）</td></tr>')
    parts.append("</tbody></table>")

    expectations = sorted(digest["expectations"].values(), key=lambda e: (e["success"], list(RULES).index(e["rule_id"]) if e["rule_id"] in RULES else 99))
    parts += [
        "<h2>Great Expectations 期望（同一批记录）</h2>",
        '<p class="note">同一批记录上运行的期望套件 <code>annex1_cohandling</code>：每个期望标注其规则编号；人员证件号码与电话在交给套件前已脱敏，套件只报告条数。</p>',
        "<table><thead><tr><th>规则编号<small>rule_id</small></th><th>规则</th><th>检查<small>expectation</small></th><th>字段<small>column</small></th>"
        "<th class=\"nw\">检查条数<small>evaluated</small></th><th class=\"nw\">不符合<small>unexpected</small></th><th class=\"nw\">结果</th></tr></thead><tbody>",
    ]
    for e in expectations:
        kind = EXPECTATION_ZH.get(e["type"], e["type"])
        columns = " = ".join(_label_cell(c) for c in e["columns"])
        parts.append(
            f"<tr{'' if e['success'] else FAILED_ROW}><td class=\"code\"><code>{escape(e['rule_id'])}</code></td><td>{escape(_rule_name(e['rule_id']))}</td>"
            f"<td>{escape(kind)}<small class=\"note\"><br><code>{escape(e['type'])}</code></small></td><td>{columns}</td>"
            f"<td class=\"n\">{_number(e['evaluated'])}</td><td class=\"n\">{_number(e['unexpected'])}</td>"
            f"<td class=\"nw\">{_verdict(0 if e['success'] else 1, 'error')}</td></tr>"
        )
    if not expectations:
        parts.append('<tr><td colspan="7" class="note">（本次未运行期望套件）</td></tr>')
    parts.append("</tbody></table>")

    parts.append("<footer>")
    if files:
        parts.append("本次运行的其他文件：" + "；".join(f"{escape(label)} <code>{escape(path)}</code>" for label, path in files.items()) + "。<br>")
    parts.append("本页为单个文件，不引用任何外部资源，可离线打开、转发和打印（A4）。Great Expectations 自带的 Data Docs 需联网加载样式，仅供技术人员参考。")
    parts.append("</footer></body></html>")
    return "\n".join(parts)


def render_index(runs: Iterable[Mapping], *, generated_at: datetime) -> str:
    """The list of runs with a validation page, newest first: counts, rules failed, a link to each page (relative `href`)."""
    rows = []
    for r in sorted(runs, key=lambda r: (str(r.get("as_of", "")), str(r["run_id"])), reverse=True):
        totals = r.get("totals", {})
        failed = [k for k, v in r.get("rules", {}).items() if v["failures"] and RULES.get(k) and RULES[k].severity == "error"]
        rows.append(
            f"<tr><td class=\"nw\"><a href=\"{escape(r['href'])}\"><code>{escape(r['run_id'])}</code></a></td><td class=\"nw\">{escape(r.get('as_of', ''))}</td>"
            + "".join(f"<td class=\"n\">{_number(totals.get(c, 0))}</td>" for c in ("records_in", "passed", "partial", "quarantined", "warnings"))
            + f"<td>{'、'.join(_rule_code(k) for k in failed) or NONE_FAILED}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="8" class="note">（无）</td></tr>'
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>数据校验结果索引</title><style>{PAGE_CSS}</style></head><body>"
        "<h1>数据校验结果索引<small class=\"note\"> validation runs</small></h1>"
        f'<p class="period">生成时间 {escape(generated_at.strftime("%Y-%m-%d %H:%M:%S"))}（北京时间）；点击运行编号打开该次运行的校验结果。</p>'
        '<table><thead><tr><th class="nw">运行编号<small>run_id</small></th><th class="nw">截至<small>as_of</small></th>'
        '<th class="nw">收到记录<small>records_in</small></th><th class="nw">通过<small>passed</small></th><th class="nw">部分通过<small>partial</small></th>'
        '<th class="nw">隔离<small>quarantined</small></th><th class="nw">有警告<small>warnings</small></th><th>未通过的规则<small>rule_id</small></th></tr></thead>'
        f"<tbody>{body}</tbody></table><footer>本页及各运行页面均为单个文件，不引用外部资源，可离线打开。</footer></body></html>"
    )
