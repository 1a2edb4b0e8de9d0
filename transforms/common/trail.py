"""The trail of a record or a package as one time-ordered event table (pure: frames in, one frame out).

`assemble_record(frames, as_of=…)` and `assemble_package(frames, as_of=…)` read the frames the ledger's trace
store returns (connectors/ledger/trace_store.py) and give one row per event, columns `EVENT_COLUMNS`:

| column | meaning |
|---|---|
| time | when it happened, Asia/Shanghai (tz-aware): the ledger's recording time, or as_of for the current state |
| stage | the stage's code: `STAGES` (received, validated, quarantine, work_order, delivery, cancel, result, exception, sms, remind, state, overdue, collect, package_check, package_delivery, package_status, handover) |
| stage_zh | the stage in Chinese (接收, 校验, 隔离, 工单, 推送, 撤销, 结果, 异常, 短信, 催办, 状态, 超期, 代收, …) |
| subject | what the event is about: the ROWGUID, `ROWGUID:utility:version` (a work order's key), or the BWID |
| what | what happened, in Chinese with the codes alongside |
| evidence | where the ledger has it: source row and watermark, rule ids with their names and reasons, batch file and line, receipt, result file |

Personal data never leaves it clear: names, ID numbers, phones and addresses are masked
(transforms/common/mask.py) in their own fields, and ID numbers and phones anywhere in `what` / `evidence`.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from transforms.common.mask import mask_address, mask_id, mask_in_text, mask_names, mask_phone

TZ = "Asia/Shanghai"
EVENT_COLUMNS: tuple[str, ...] = ("time", "stage", "stage_zh", "subject", "what", "evidence")
STAGES: dict[str, str] = {
    "received": "接收", "validated": "校验", "quarantine": "隔离", "work_order": "工单", "delivery": "推送", "cancel": "撤销",
    "result": "结果", "exception": "异常", "sms": "短信", "remind": "催办", "state": "状态", "overdue": "超期",
    "collect": "代收", "package_check": "代收校验", "package_delivery": "代收推送", "package_status": "登记状态", "handover": "原件移交",
}
KINDS: dict[str, str] = {"rowguid": "记录标识(ROWGUID)", "ycywh": "平台业务号(YCYWH)", "bwid": "代收报文标识(BWID)"}
UTILITY_ZH = {"electricity": "用电", "water": "供水", "gas": "燃气", "heat": "供热"}
OP_ZH = {"I": "新增", "U": "更正", "D": "撤回"}
VERDICT_ZH = {"passed": "通过", "partial": "部分通过（部分协办类型阻断）", "quarantined": "隔离", "withdrawn": "已撤回", "returned": "退回收件大厅"}
ORDER_ZH = {"ready": "待推送", "held": "暂缓（待开通）", "quarantined": "隔离", "cancelled": "已取消", "withdrawn": "已撤回", "superseded": "已被新版本替代",
            "delivered": "已推送", "failed": "推送失败", "cancel_pending": "撤销通知中", "cancel_refused": "撤销被拒（已办理）"}
DELIVERY_ZH = {"pending": "待推送", "delivered": "已送达", "failed": "失败", "superseded": "已被新版本替代", "rejected": "被拒收", "withdrawn": "已撤回"}
CANCEL_ZH = {"pending": "待通知", "cancelled": "接收方已确认撤销", "refused": "接收方拒绝撤销（已办理）"}
RESULT_ZH = {"received": "已受理", "done": "办结", "rejected": "不予办理"}
PACKAGE_STATUS_ZH = {"accepted": "已受理", "refused": "不予受理", "correction": "补正", "review": "审核中", "fee_notice": "缴费通知",
                     "registered": "已登簿", "certificate_issued": "电子证照已发放"}
_STAGE_ORDER = {code: n for n, code in enumerate(STAGES)}


def empty() -> pd.DataFrame:
    """The event table with no event (its columns and types)."""
    return pd.DataFrame({c: pd.Series([], dtype=f"datetime64[ns, {TZ}]" if c == "time" else object) for c in EVENT_COLUMNS})


def _utc(value) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_localize("UTC").tz_convert(TZ)


def _local(value) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_localize(TZ)


def _s(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _one(mask, value) -> str:
    text = _s(value)
    return _s(mask(pd.Series([text])).iloc[0]) if text else "（空）"


def _utility(code) -> str:
    return f"{UTILITY_ZH.get(_s(code), _s(code))}({_s(code)})"


def _key(r) -> str:
    return f"{r.rowguid}:{r.utility}:{int(r.version)}"


def _rules(failures: pd.DataFrame, catalogue: dict) -> dict[tuple, list[str]]:
    out: dict[tuple, list[str]] = {}
    for f in failures.itertuples(index=False) if len(failures) else []:
        rule = catalogue.get(f.rule_id)
        name = rule.zh if rule is not None else ""
        where = f"字段 {f.field}" + (f"/{_s(getattr(f, 'utility', ''))}" if _s(getattr(f, "utility", "")) else "") + (
            f"/{_s(getattr(f, 'item', ''))}" if _s(getattr(f, "item", "")) else "")
        out.setdefault((f.source, int(f.change_seq)), []).append(f"{f.rule_id}「{name}」[{f.severity}] {where}：{_s(f.message_zh)}")
    return out


class _Events(list):
    """The events of one trail as they are found; `add` skips an event with no time (the ledger has no record of it)."""

    def add(self, time, stage: str, subject: str, what: str, evidence: str = "") -> None:
        if time is not None:
            self.append({"time": time, "stage": stage, "stage_zh": STAGES[stage], "subject": subject, "what": what, "evidence": evidence, "_n": len(self)})


def _finish(events: list[dict], as_of: datetime | None, keep: set[str] = frozenset()) -> pd.DataFrame:
    """The events ordered (time, then the stage's place in `STAGES`, then as added), ID numbers and phones in the text masked —
    except the codes in `keep` (the platform's business numbers: long digit runs, not personal data)."""
    if not events:
        return empty()
    frame = pd.DataFrame(events, columns=[*EVENT_COLUMNS, "_n"])
    frame["time"] = pd.to_datetime(frame["time"])
    if as_of is not None:
        frame = frame[frame["time"] <= _as_of(as_of)]
    frame = frame.assign(_rank=frame["stage"].map(_STAGE_ORDER)).sort_values(["time", "_rank", "_n"], kind="stable")
    codes = sorted((k for k in keep if len(k) >= 8 and "\x00" not in k), key=len, reverse=True)
    for column in ("what", "evidence"):
        text = frame[column].fillna("")
        for n, code in enumerate(codes):  # a whole number only: never the digits inside a longer run (a phone, an ID)
            text = text.str.replace(re.compile(rf"(?<![0-9A-Za-z]){re.escape(code)}(?![0-9A-Za-z])"), f"\x00{n}\x00", regex=True)
        text = mask_in_text(text)
        for n, code in enumerate(codes):
            text = text.str.replace(f"\x00{n}\x00", code, regex=False)
        frame[column] = text
    frame["stage_zh"] = frame["stage"].map(STAGES)
    return frame[list(EVENT_COLUMNS)].reset_index(drop=True)


def _as_of(as_of: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(as_of)
    return stamp.tz_convert(TZ) if stamp.tzinfo is not None else stamp.tz_localize(TZ)


def assemble_record(frames: dict[str, pd.DataFrame], *, as_of: datetime, states: pd.DataFrame | None = None) -> pd.DataFrame:
    """The co-handling trail of one or more records (one ROWGUID, or the ROWGUIDs of one YCYWH).

    `frames`: connectors/ledger/trace_store.py `trace_record_frames` (received, failures, work_orders, deliveries, cancels,
    results, exceptions, sms, reminders); `states`: the records' work orders as transforms/cohandling/reconcile.py
    `reconcile` judges them at `as_of` (local time) — the current state and the overdue days; None: not shown.
    Events after `as_of` are left out."""
    from transforms.cohandling.result_files import RESULT_CODES
    from transforms.cohandling.rule_catalogue import RULES

    events = _Events()
    add = events.add

    get = frames.get
    rules = _rules(get("failures", pd.DataFrame()), RULES)
    for r in _rows(get("received")):
        seq = int(r.change_seq)
        watermark = (f"抽取批次 extract_batch={int(r.extract_batch_id)}，水位 CHANGE_SEQ {int(r.after_seq)}→{int(r.max_seq)}"
                     if not pd.isna(r.extract_batch_id) and not pd.isna(r.max_seq) else "抽取批次：未找到（水位不详）")
        add(_utc(r.received_at), "received", r.rowguid,
            f"收到平台变更 {OP_ZH.get(r.op, r.op)}(op={r.op})，平台业务号 YCYWH={_s(r.ycywh)}，县区 XZQH={_s(r.xzqh)}；"
            f"受让方 {_one(mask_names, r.zrfxm)}，证件 {_one(mask_id, r.zrfzjhm)}，电话 {_one(mask_phone, r.zrflxdh)}，坐落 {_one(mask_address, r.fwzl)}",
            f"来源 {r.source} 行 CHANGE_SEQ={seq}，平台写入 {_s(r.change_time)}(UTC)，运行 {r.run_id}；{watermark}")
        if _s(r.verdict_status):
            found = rules.get((r.source, seq), [])
            add(_utc(r.validated_at), "quarantine" if r.verdict_status == "quarantined" else "validated", r.rowguid,
                f"校验结论 {VERDICT_ZH.get(r.verdict_status, r.verdict_status)}(status={r.verdict_status})，版本 CHANGE_SEQ={seq}；"
                f"申请协办 {_s(r.requested) or '无'}；阻断 {_s(r.blocked) or '无'}",
                (f"规则 {len(found)} 条：" + "；".join(found) if found else "无规则失败") + f"（校验运行 {r.verdict_run_id}）")
    for w in _rows(get("work_orders")):
        reason = f"；原因 {w.reason_code} {_s(w.reason)}" if _s(w.reason_code) else ""
        add(_utc(w.routed_at), "work_order", _key(w),
            f"工单 {_utility(w.utility)} 第{int(w.version)}版{'（更正 correction）' if bool(w.correction) else ''}：{ORDER_ZH.get(w.status, w.status)}(status={w.status})，"
            f"渠道 {_s(w.channel)} → {_s(w.destination)}" + (f"，机构 {_s(w.institution_code)} {_s(w.institution_name)}" if _s(w.institution_code) else "") + reason,
            f"由 CHANGE_SEQ={int(w.change_seq)} 生成，路由运行 {w.run_id}" + (f"，暂缓至 {_s(w.hold_until)}" if _s(w.hold_until) else ""))
    for d in _rows(get("deliveries")):
        if d.channel == "account" and not pd.isna(d.batch_id):
            position = int(d.batch_position) if not pd.isna(d.batch_position) else None
            where = f"批次 {_s(d.batch_name)}（机构第 {_s(_int(d.batch_seq))} 批，共 {_s(_int(d.batch_records))} 条）"
            if position is not None:
                part = "" if (_int(d.batch_records) or 0) <= ROWS_PER_FILE else f"_p{position // ROWS_PER_FILE + 1:03d}"
                where += "，" + _line(_s(d.batch_name) + part, _s(d.batch_format) or "csv", position % ROWS_PER_FILE)
            evidence = where + (f"；回执 {_receipt(_s(d.receipt))}" if _s(d.receipt) else "")
        else:
            evidence = f"接收方回执 receipt：{_s(d.receipt) or '（无）'}"
        if _s(d.last_error):
            evidence += f"；最近错误 {_s(d.last_error)}"
        add(_utc(d.delivered_at) or _utc(d.updated_at), "delivery", _key(d),
            f"推送 {DELIVERY_ZH.get(d.status, d.status)}(status={d.status}) {_utility(d.utility)} 第{int(d.version)}版 → {d.channel} {d.destination}，"
            f"尝试 {int(d.attempts)} 次", evidence + f"（计划运行 {d.planned_run_id}）")
    for c in _rows(get("cancels")):
        add(_utc(c.cancelled_at) or _utc(c.updated_at) or _utc(c.created_at), "cancel", _key(c),
            f"撤销 {_utility(c.utility)} 第{int(c.version)}版（因第{int(c.cause_version)}版）：{CANCEL_ZH.get(c.status, c.status)}(status={c.status})，"
            f"原因 {c.reason_code} {_s(c.reason)}",
            f"{c.channel} → {c.destination}" + (f"，撤销批次 {_s(c.batch_name)}" if _s(c.batch_name) else "") + (f"；回执 {_receipt(_s(c.receipt))}" if _s(c.receipt) else ""))
    for h in _rows(get("results")):
        name = RESULT_CODES.get(_s(h.code), ("", ""))[1]
        origin = f"结果文件 {_s(h.file_name)}" if _s(h.file_name) else (f"结果接口 feed seq={_int(h.feed_seq)}" if not pd.isna(h.feed_seq) else "")
        add(_utc(h.received_at), "result", _key(h),
            f"办理结果 {RESULT_ZH.get(h.result, h.result)}(result={h.result})，代码 {h.code} {name}" + (f"，原因 {_s(h.reason)}" if _s(h.reason) else "")
            + f"；办理时间 {_s(h.handled_at)}（北京时间），办理人 {_one(mask_names, h.handler)}",
            f"来源 {h.source} {origin}（result_id={int(h.result_id)}）")
    for e in _rows(get("exceptions")):
        add(_utc(e.received_at), "exception", f"{e.rowguid}:{_s(e.utility)}",
            f"结果异常 {e.reason_code}：{_s(e.reason)}",
            f"来源 {e.source}" + (f" 文件 {_s(e.file_name)}" if _s(e.file_name) else "") + (f" 第 {_int(e.row_number)} 行" if not pd.isna(e.row_number) else "")
            + (f"，值 {_s(e.value)}" if _s(e.value) else ""))
    for m in _rows(get("sms")):
        add(_utc(m.created_at), "sms", _key(m), f"短信 {m.status}（发往 {_one(mask_phone, m.phone)}）：{_s(m.text)}", f"sms_id={int(m.sms_id)}")
    for n in _rows(get("reminders")):
        add(_utc(n.sent_at) or _utc(n.created_at), "remind", "",
            f"催办 {n.week}：{n.channel} → {n.destination}，{_s(n.status)}", f"{_s(n.name)}" + (f"；回执 {_s(n.receipt)}" if _s(n.receipt) else ""))
    if states is not None:
        from transforms.reporting.cohandling_tables import STATUSES

        at = _as_of(as_of)
        for s in _rows(states):
            overdue = s.status == "overdue"
            detail = [f"应办结日 {_s(s.due_date)}"] if _s(s.due_date) and s.status not in ("pending", "held") else []
            if overdue:
                detail.append(f"已超期 {int(s.overdue_working_days)} 个工作日")
            elif not pd.isna(s.handle_working_days):
                detail.append(f"办理用时 {int(s.handle_working_days)} 个工作日")
            if _s(s.institution_code):
                detail.append(f"机构 {_s(s.institution_code)} {_s(s.institution_name)}")
            add(at, "overdue" if overdue else "state", _key(s),
                f"截至 {at:%Y-%m-%d %H:%M} 当前状态 {STATUSES.get(s.status, s.status)}(status={s.status}) {_utility(s.utility)} 第{int(s.version)}版",
                "；".join(detail))
    received = get("received")
    keep = set(received["ycywh"].dropna().astype(str)) if received is not None and "ycywh" in received else set()
    return _finish(events, as_of, keep - _personal(received))


def _personal(received: pd.DataFrame | None) -> set[str]:
    """The ID numbers and phones of the records: never kept clear, even where a business number equals one."""
    if received is None or not len(received):
        return set()
    return {str(v) for c in ("zrfzjhm", "zrflxdh") if c in received for v in received[c].dropna()}


def _receipt(text: str) -> str:
    """An account-mode receipt (JSON: the folder and the SHA-256 of each file) said shortly; any other receipt as it is."""
    import json

    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return text
    if not isinstance(data, dict) or "path" not in data:
        return text
    files = "，".join(f"{name} sha256={str(digest)[:12]}…" for name, digest in (data.get("files") or {}).items())
    return f"{data['path']}" + ("（已在，未重发）" if data.get("already_there") else "") + (f"：{files}" if files else "")


ROWS_PER_FILE = 50_000  # transforms/cohandling/batchfiles.py batch_files(rows_per_file=…) as delivery uses it
# Where a batch file's first work order is (transforms/cohandling/batchfiles.py render): XLSX row 3 (labels, codes above),
# CSV line 2 (the header above), JSON lines line 1; Parquet has records, not lines.
_FIRST_LINE = {"xlsx": 3, "csv": 2, "csv_gb18030": 2, "jsonl": 1}


def _line(base: str, file_format: str, index: int) -> str:
    """The file a batch's `index`-th work order (0-based, in the batch's ROWGUID, utility, version order) is in, and its line."""
    from transforms.cohandling.batchfiles import EXTENSIONS

    name = f"{base}.{EXTENSIONS.get(file_format, file_format)}"
    if file_format in _FIRST_LINE:
        return f"文件 {name} 第 {index + _FIRST_LINE[file_format]} 行（第 {index + 1} 条工单）"
    return f"文件 {name} 第 {index + 1} 条记录"


def assemble_package(frames: dict[str, pd.DataFrame], *, as_of: datetime) -> pd.DataFrame:
    """The remote-collection trail (异地代收) of one BWID: each version collected, its verdict with the rules, its delivery
    to the property's authority (receipt), every status event up to the e-certificate, the paper originals' handover.

    `frames`: connectors/ledger/trace_store.py `trace_package_frames`. Events after `as_of` are left out."""
    from transforms.remote.package_rules import RULES

    events = _Events()
    add = events.add

    get = frames.get
    rules = _rules(get("package_failures", pd.DataFrame()), RULES)
    for p in _rows(get("packages")):
        seq = int(p.change_seq)
        add(_utc(p.received_at), "collect", p.bwid,
            f"收到代收报文 {OP_ZH.get(p.op, p.op)}(op={p.op})：收件大厅 {_s(p.sjdwdm)} {_s(p.sjdwmc)}（XZQH={_s(p.sjxzqh)}），收件时间 {_s(p.sjsj)}，"
            f"业务类型 {_s(p.ywlx)}，不动产所在县 XZQH={_s(p.xzqh)}，坐落 {_one(mask_address, p.zl)}",
            f"来源 {p.source} 行 CHANGE_SEQ={seq}，运行 {p.run_id}")
        if _s(p.verdict_status):
            found = rules.get((p.source, seq), [])
            add(_utc(p.validated_at), "package_check", p.bwid,
                f"校验结论 {VERDICT_ZH.get(p.verdict_status, p.verdict_status)}(status={p.verdict_status})，去向 {_s(p.verdict_channel)} → {_s(p.verdict_destination)}，"
                f"错误 {_int(p.errors)}，警告 {_int(p.warnings)}" + ("，须移交纸质原件" if bool(p.paper_handover) else ""),
                (f"规则 {len(found)} 条：" + "；".join(found) if found else "无规则失败") + (f"；材料清单版本 {_int(p.checklist_version_id)}" if not pd.isna(p.checklist_version_id) else ""))
        if _s(p.delivery_status):
            add(_utc(p.delivered_at) or _utc(p.first_sent_at) or _utc(p.updated_at), "package_delivery", p.bwid,
                f"推送 {DELIVERY_ZH.get(p.delivery_status, p.delivery_status)}(status={p.delivery_status}) → {p.delivery_channel} {p.delivery_destination}"
                + ("（更正版本）" if bool(p.correction) else "") + f"，电子材料 {_int(p.files)} 件，尝试 {_int(p.attempts)} 次"
                + (f"，应答 {_s(p.delivery_code)} {_s(p.delivery_reason)}".rstrip() if _s(p.delivery_code) else ""),
                f"幂等键 {p.idempotency_key}；接收方回执 receipt_id={_s(p.receipt_id) or '（无）'}")
            if _s(p.withdrawal):
                add(_utc(p.withdrawn_at) or _utc(p.updated_at), "cancel", p.bwid,
                    f"撤回通知 {_s(p.withdrawal)}：{_s(p.withdrawal_reason)}", f"幂等键 {p.idempotency_key}")
    for e in _rows(get("package_events")):
        status = _s(e.status)
        what = f"登记机构状态 {PACKAGE_STATUS_ZH.get(status, status)}(status={status})，登记机构时间 {_s(e.at)}（北京时间）" + (f"，{_s(e.reason)}" if _s(e.reason) else "")
        if not bool(e.accepted):
            what += f"；未采纳：{_s(e.issue)} {_s(e.issue_message)}"
        add(_utc(e.received_at), "package_status" if bool(e.accepted) else "exception", e.bwid, what,
            f"接口 {e.feed} seq={_s(e.seq)}" + (f"；详情 {_detail(_s(e.detail))}" if _s(e.detail) else ""))
    for h in _rows(get("package_handover")):
        add(_utc(h.created_at), "handover", h.bwid,
            f"纸质原件 {_s(h.clbm)} {_s(h.clmc)}（{_int(h.ys)} 页）列入移交清单 {h.list_no}：大厅 {h.hall} → 县 {h.xzqh}",
            f"签收 {_s(h.received_at) or '未签收'}" + (f"，签收人 {_one(mask_names, h.received_by)}" if _s(h.received_by) else ""))
    packages = get("packages")
    keep = set(packages["bwid"].dropna().astype(str)) if packages is not None and "bwid" in packages else set()
    return _finish(events, as_of, keep)


_PEOPLE = frozenset({"handler", "received_by", "name", "applicant", "contact", "sqrxm", "sjry", "blr"})  # keys whose values name people


def _detail(text: str) -> str:
    """A status event's detail (JSON) with the people in it masked (who handled it, who signed); other text as it is."""
    import json

    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return text

    def walk(value, key=""):
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key.lower() in _PEOPLE:
            return _one(mask_names, value)
        return value

    return json.dumps(walk(data), ensure_ascii=False, sort_keys=True)


def _rows(frame: pd.DataFrame | None):
    return frame.itertuples(index=False) if frame is not None and len(frame) else ()


def _int(value):
    return None if value is None or pd.isna(value) else int(value)
