"""Remote collection (异地代收) after validation: delivery to the property's authority, the
statuses it sends back, the lists that go back to the collecting halls, and the paper
handover (纸质材料定期移交).

- `deliver_packages`: plan (ledger first: one delivery per passed version in force, key
  `{BWID}:{change_seq}`), then per destination read every file from the module's file store
  and hash it again — a file that changed or vanished since validation is not sent (the
  version fails back to its hall) — upload the files (content-addressed, idempotent), send
  the packages, record each outcome. A retry re-sends the same keys: the authority answers
  "duplicate" with the original receipt. What could not be sent stays pending.
- `collect_package_events`: poll each destination's status feed from its cursor, check every
  event (transforms/remote_tracking.check_events), store all with the cursor.
- `write_hall_returns`: per collecting hall, what came back in a run: the gateway's
  validation returns with every reason, and the authorities' 补正 / 不予受理 with what is
  missing — one workbook per hall.
- `make_handover_lists`: at the end of each period, the paper originals of delivered
  packages not yet on a list, one list per (hall, property county), written as a printable
  XLSX and PDF (移交清单) with signature lines; `record_handover_receipt` records the
  property county's signature.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from connectors.delivery import PackageChannel
from connectors.ledger import Ledger, utcnow
from connectors.ledger.deadletter_store import unit_key
from connectors.ledger.package_flow_store import FEED_PREFIX

log = logging.getLogger(__name__)

LOCAL_OFFSET = timedelta(hours=8)
EVENT_SURFACE = "package_event"


def deliver_packages(ledger: Ledger, source, *, run_id: str, receiver_for: Callable[[str], PackageChannel], now: datetime | None = None,
                     after_send: Callable[[str], None] | None = None) -> dict:
    """Plan and send; returns counts. `source`: connectors.package_source.RemoteSource (the file store);
    `receiver_for(destination)`: its `PackageChannel` (connectors.delivery.Channels(packages=True) in the DAG); `now`: UTC (naive)."""
    from connectors.delivery import CROSS_PROVINCE_CONN_ID
    from connectors.package_receiver import FileRefused
    from connectors.signed_http import ReceiverError

    now = now or utcnow()
    plan = ledger.plan_remote_deliveries(run_id=run_id, now=now)
    pending = ledger.pending_remote_deliveries()
    summary = {**plan, "sent": 0, "delivered": 0, "rejected": 0, "failed": 0, "pending": 0, "files_uploaded": 0, "errors": []}
    by_destination: dict[str, list[dict]] = {}
    for d in pending:
        by_destination.setdefault(d["destination"], []).append(d)
    for destination, deliveries in sorted(by_destination.items()):
        try:
            receiver = receiver_for(destination)
        except Exception as exc:  # noqa: BLE001 - a missing connection leaves the packages pending, with the reason
            summary["errors"].append(f"{destination}: {exc}")
            summary["pending"] += len(deliveries)
            continue
        outcomes, items, uploaded = [], [], set()
        for n, d in enumerate(deliveries):
            try:
                item, problem = _prepare(d, source, receiver, uploaded, summary, cross_province=destination == CROSS_PROVINCE_CONN_ID)
            except FileRefused as exc:
                item, problem = None, f"属地系统拒收材料文件，未推送，请代收窗口核对后更正: {exc}"
            except ReceiverError as exc:  # the receiver cannot take files now: this destination waits for the next run
                summary["errors"].append(f"{destination}: {exc}")
                outcomes += [{"idempotency_key": x["idempotency_key"], "status": "pending", "code": None, "reason": f"files not uploaded: {exc}",
                              "attempts": 0} for x in deliveries[n:]]
                break
            if problem is not None:
                outcomes.append({"idempotency_key": d["idempotency_key"], "status": "failed", "code": None, "reason": problem, "attempts": 0})
            else:
                items.append((d, item))
        if items:
            ledger.mark_remote_sending([d["idempotency_key"] for d, _ in items], now=now)
            sent = receiver.deliver([item for _, item in items], batch_id=f"{run_id}:{destination}"[:120])
            summary["sent"] += len(items)
            if after_send is not None:
                after_send(destination)
            by_key = {d["idempotency_key"]: d for d, _ in items}
            for o in sent:
                outcomes.append({"idempotency_key": o.idempotency_key, "status": o.status, "receipt_id": o.receipt_id, "code": o.code,
                                 "reason": o.reason, "attempts": o.attempts, "files": len(by_key[o.idempotency_key]["materials"])})
        ledger.record_remote_outcomes(outcomes, run_id=run_id, now=now)
        for o in outcomes:
            summary[o["status"]] += 1
    _send_withdrawals(ledger, receiver_for, run_id=run_id, now=now, summary=summary)
    log.info("remote packages delivered: %s", {k: v for k, v in summary.items() if k != "errors"})
    for error in summary["errors"]:
        log.warning("remote delivery: %s", error)
    return summary


def _send_withdrawals(ledger: Ledger, receiver_for, *, run_id: str, now: datetime, summary: dict) -> None:
    """Tell each receiver about the versions it holds that were withdrawn, or that now go to another authority."""

    summary.update(withdrawn=0, withdrawal_refused=0, withdrawal_pending=0)
    by_destination: dict[str, list[dict]] = {}
    for w in ledger.pending_remote_withdrawals():
        by_destination.setdefault(w["destination"], []).append(w)
    for destination, rows in sorted(by_destination.items()):
        items = [{"idempotency_key": w["idempotency_key"], "bwid": w["bwid"], "change_seq": int(w["change_seq"]), "reason": w["withdrawal_reason"]}
                 for w in rows]
        try:
            outcomes = receiver_for(destination).cancel(items, batch_id=f"{run_id}:withdraw:{destination}"[:120])
        except Exception as exc:  # noqa: BLE001 - ReceiverError, or a missing connection: the withdrawals wait for the next run
            summary["errors"].append(f"{destination}: withdrawals: {exc}")
            summary["withdrawal_pending"] += len(items)
            continue
        ledger.record_remote_withdrawals([{"idempotency_key": o.idempotency_key, "status": o.status, "code": o.code, "reason": o.reason}
                                          for o in outcomes], run_id=run_id, now=now)
        for o in outcomes:
            summary[{"delivered": "withdrawn", "rejected": "withdrawal_refused"}.get(o.status, "withdrawal_pending")] += 1


def _prepare(d: dict, source, receiver, uploaded: set[str], summary: dict, *, cross_province: bool = False) -> tuple[dict | None, str | None]:
    """(item, None), or (None, why it cannot go). A version never sent: each file read from the store
    again, its SHA-256 compared with the one validation saw, uploaded once per run and destination.
    A version sent before and not confirmed: sent again exactly as it was (its files went before it).
    Cross-province: each applicant also carries its national document code (`ZJZLDM`)."""
    import hashlib

    from connectors.package_receiver import make_package_item

    materials = []
    for m in d["materials"]:
        if d["first_sent_at"] is not None:
            materials.append({**m, "sha256": m["FILE_SHA256"], "size": int(m["FILE_SIZE"])})
            continue
        content = source.read_file(m["WJDZ"]) if m.get("WJDZ") else None
        digest = None if content is None else hashlib.sha256(content).hexdigest()
        if digest is None or digest != m.get("FILE_SHA256"):
            return None, (f"材料 {m.get('CLMC') or m.get('CLBM')}（{m.get('CLBM')}）的电子文件"
                          + ("已不在文件库中" if digest is None else "自校验后已被改动（SHA-256 不一致）") + "，未推送，请代收窗口重新上传后更正")
        if digest not in uploaded:
            summary["files_uploaded"] += int(receiver.upload(digest, content))
            uploaded.add(digest)
        materials.append({**m, "sha256": digest, "size": len(content)})
    package = {k: (_code(v) if k in CODE_FIELDS else v) for k, v in d["package"].items()}
    applicants = [{k: (_code(v) if k in CODE_FIELDS else v) for k, v in a.items()} for a in d["applicants"]]
    if cross_province:
        from transforms.cohandling.annex1 import ID_TYPE_TABLE, NATIONAL_ID_TYPES
        from transforms.common.codetables import national_code_for

        applicants = [{**a, "ZJZLDM": national_code_for(ID_TYPE_TABLE, NATIONAL_ID_TYPES, a.get("ZJZL"), a.get("ZJHM"))} for a in applicants]
    item = make_package_item(bwid=d["bwid"], change_seq=d["change_seq"], correction=d["correction"], package=package,
                             applicants=applicants, materials=materials, cross_province=cross_province)
    return item, None


CODE_FIELDS = frozenset({"SJXZQH", "BDCDYH", "HYDDM", "HYXZQH", "ZJZL", "ZJHM", "SQRLB"})  # sent as validation read them


def _code(value):
    """A code as validation reads it (transforms.remote.package_rules.code_text): NFKC, no spaces, upper case."""
    import unicodedata

    if not isinstance(value, str):
        return value
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    return text or None


def collect_package_events(ledger: Ledger, *, receiver_for: Callable[[str], PackageChannel], run_id: str, as_of: datetime, now: datetime | None = None) -> dict:
    """Read every destination's status feed from its cursor, page by page; `as_of` local time, `now` UTC.

    Each event is screened first (transforms/remote_tracking.screen_events: JSON types, ranges,
    lengths, text cleaned); one that cannot be stored is a dead letter (surface `package_event`,
    the event as received, the feed, the cursor it was read after and its position, the field) and
    the cursor moves past it. Each page is stored with the cursor after it. A page that is not a
    page of events is a dead letter too, read again by the next runs and, after MAX_PAGE_READS
    runs, left at its cursor for the operator with an alert in `alerts`. One feed's trouble never
    stops another feed."""
    from connectors.signed_http import FeedPageError
    from jobs.cohandling.collect_results import MAX_PAGE_READS, note

    now = now or utcnow()
    summary = {"feeds": 0, "events": 0, "accepted": 0, "issues": 0, "dead_letters": 0, "isolated": [], "alerts": [], "errors": []}
    for feed in ledger.remote_feeds():
        source = FEED_PREFIX + feed
        cursor = ledger.remote_feed_cursor(feed)
        page_key = unit_key(source, "page", f"after={cursor}")
        tries = ledger.open_dead_letter_seen(EVENT_SURFACE, page_key)
        if tries >= MAX_PAGE_READS:
            summary["alerts"].append(f"{feed}: 游标 {cursor!r} 之后的状态页已 {tries} 次无法读取，暂停读取，请与接收方核对后处理死信（package_event / {page_key}）")
            continue
        try:
            receiver = receiver_for(feed)
            summary["feeds"] += 1
            for page in receiver.feed_pages(cursor):
                _store_event_page(ledger, feed, page, run_id=run_id, as_of=as_of, now=now, summary=summary,
                                  settled=[(EVENT_SURFACE, page_key)] if tries and page.after == cursor else [])
        except FeedPageError as exc:
            summary["errors"].append(f"{feed}: {exc}")
            if exc.malformed:
                key = unit_key(source, "page", f"after={exc.after}")
                seen = ledger.feed_page_unreadable(
                    surface=EVENT_SURFACE, unit_key=key, origin=f"{feed} after={exc.after!r}", rule_id="FEED_PAGE_MALFORMED", payload=exc.body,
                    owner=f"receiver:{feed}", run_id=run_id,
                    reason=f"状态接口 {feed} 游标 {exc.after!r} 之后的页面不是约定格式的状态页，无法读取（{exc}）；网关每次运行再读，"
                           f"共 {MAX_PAGE_READS} 次，之后暂停读取该接口等待处理")
                summary["dead_letters"] += 1
                note(summary["isolated"], f"{feed} after={exc.after!r} page FEED_PAGE_MALFORMED ({seen}/{MAX_PAGE_READS})")
                if seen >= MAX_PAGE_READS:
                    summary["alerts"].append(f"{feed}: 游标 {exc.after!r} 之后的状态页已 {seen} 次无法读取，暂停读取，请与接收方核对后处理死信"
                                             f"（package_event / {key}）")
        except Exception as exc:  # noqa: BLE001 - a missing Airflow connection, or anything else: that feed waits, the others go on
            summary["errors"].append(f"{feed}: {type(exc).__name__}: {exc}")
    log.info("remote package events: %s", {k: v for k, v in summary.items() if k not in ("errors", "isolated", "alerts")})
    for alert in summary["alerts"]:
        log.error("remote package events: %s", alert)
    return summary


def _store_event_page(ledger: Ledger, feed: str, page, *, run_id: str, as_of: datetime, now: datetime, summary: dict, settled: list) -> None:
    from jobs.cohandling.collect_results import note
    from transforms.common.feeds import raw_json
    from transforms.remote.package_tracking import check_events, screen_events

    source = FEED_PREFIX + feed
    good, bad = screen_events(page.entries)
    letters = []
    for i, problem in bad:
        where = f"{feed} after={page.after!r} #{i + 1}"
        letters.append({
            "surface": EVENT_SURFACE, "unit_key": unit_key(source, f"after={page.after}", f"#{i + 1}"), "origin": where, "location": problem.field,
            "rule_id": problem.rule, "payload": raw_json(page.entries[i]), "owner": f"receiver:{feed}",
            "reason": f"状态接口 {feed}，游标 {page.after!r} 之后第 {i + 1} 条，字段 {problem.field or '（整条）'}：{problem.message}",
        })
        note(summary["isolated"], f"{where} {problem.field or '-'} {problem.rule}")
    deliveries, held = ledger.remote_event_context([e.get("idempotency_key") for e in good])
    rows = check_events(good, feed=feed, deliveries=deliveries, held=held, as_of=as_of)
    ledger.save_remote_events(feed=feed, rows=rows, cursor=page.next, run_id=run_id, now=now, dead_letters=letters, resolved=settled)
    summary["events"] += len(rows)
    summary["accepted"] += sum(bool(r["accepted"]) for r in rows)
    summary["dead_letters"] += len(letters)
    for r in rows:
        if not r["accepted"]:
            summary["issues"] += 1
            log.warning("%s: event %s (%s) not counted: %s", feed, r["seq"], r["idempotency_key"], r["issue_message"])


# --- back to the collecting halls ---------------------------------------------------------------

RETURN_HEADINGS = {
    "bwid": "报文编号 BWID", "change_seq": "版本号 CHANGE_SEQ", "collected": "收件时间 SJSJ", "xzqh": "不动产所在县 XZQH", "business_type": "业务类型 YWLX",
    "who": "退回方", "rule": "规则/状态", "item": "涉及对象", "value": "报送值（已脱敏）", "message": "原因（请据此补正）",
}


def hall_returns(ledger: Ledger, run_id: str):
    """What goes back to the collecting halls for a run (pandas): validation failures of returned
    versions, the authorities' 补正 / 不予受理 received in the run, and deliveries the receiver refused
    or the gateway could not send (a file changed). ID numbers and phones masked in every text."""
    import pandas as pd

    from transforms.remote.package_rules import BUSINESS_TYPES
    from transforms.remote.package_tracking import EVENT_STATUSES, missing_text
    from transforms.reporting.cohandling_tables import mask_in_text

    returns = ledger.remote_returns(run_id)
    frames = []
    if len(returns):
        errors = returns[returns["severity"] == "error"]
        frames.append(pd.DataFrame({
            "hall": errors["hall"], "hall_name": errors["hall_name"], "bwid": errors["bwid"], "change_seq": errors["change_seq"],
            "collected": errors["collected"], "xzqh": errors["xzqh"], "business_type": errors["business_type"], "who": "网关校验",
            "rule": errors["rule_id"], "item": (errors["field"].fillna("") + " " + errors["item"].fillna("")).str.strip(),
            "value": errors["value"].where(errors["value"] != "nan"), "message": errors["message_zh"],
        }))
    notices = ledger.remote_hall_notices(run_id)
    if len(notices):
        events = notices["kind"] == "event"
        missing = [missing_text(d) for d in notices["detail"]]
        labels = {"rejected": "属地系统拒收", "failed": "未推送（文件问题）", "withdrawal_refused": "撤回未成功"}
        frames.append(pd.DataFrame({
            "hall": notices["hall"], "hall_name": notices["hall_name"], "bwid": notices["bwid"], "change_seq": notices["change_seq"],
            "collected": notices["collected"], "xzqh": notices["xzqh"], "business_type": notices["business_type"],
            "who": np.where(events, "属地登记机构 " + notices["xzqh"].fillna(""), "网关推送"),
            "rule": [f"{EVENT_STATUSES[s]} {s}" if e else f"{labels[s]} {s}" + (f" {c}" if isinstance(c, str) else "")
                     for s, e, c in zip(notices["status"], events, notices["code"])],
            "item": [m or "" for m in missing], "value": None,
            "message": [r if isinstance(r, str) and r else ("请补充：" + m if m else "") for r, m in zip(notices["reason"], missing)],
        }))
    if not frames:
        return pd.DataFrame(columns=["hall", "hall_name", *RETURN_HEADINGS])
    out = pd.concat(frames, ignore_index=True)
    for column in ("value", "message", "item"):
        out[column] = mask_in_text(out[column].astype(object))
    out["business_type"] = out["business_type"].map(lambda t: f"{BUSINESS_TYPES.get(t, '')} {t}".strip() if isinstance(t, str) else t)
    return out.sort_values(["hall", "change_seq", "who", "rule"]).reset_index(drop=True)


def write_hall_returns(ledger: Ledger, *, run_id: str, out_dir: Path) -> dict[str, str]:
    """One workbook per collecting hall with something coming back in this run: {hall: path}."""
    from jobs.cohandling.publish_report import _replacing, write_workbook
    from transforms.common.mask import neutralise_formula

    returns = hall_returns(ledger, run_id)
    paths = {}
    out_dir = Path(out_dir)
    for hall, group in returns.groupby("hall", sort=True):
        table = group.loc[:, list(RETURN_HEADINGS)].rename(columns=RETURN_HEADINGS)
        for column in table.columns:
            if table[column].dtype == object:
                text = table[column].map(lambda v: isinstance(v, str) and v != "").astype(bool)
                table.loc[text, column] = neutralise_formula(table.loc[text, column])
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"退回清单_{_safe(hall)}_{_safe(run_id)}.xlsx"
        with _replacing(path) as tmp:
            write_workbook({"退回清单": table}, tmp)
        paths[hall] = str(path)
    if paths:
        ledger.audit(run_id=run_id, actor="remote", action="hall_returns_written", object_type="remote_verdict", object_id=None,
                     detail={"halls": len(paths), "rows": len(returns)})
    return paths


def _safe(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", str(text))[:80]


# --- paper handover -------------------------------------------------------------------------------


def make_handover_lists(ledger: Ledger, *, run_id: str, today: date, out_dir: Path, period_days: int = 7, now: datetime | None = None) -> list[dict]:
    """Lists for every period that has ended by `today` (local): originals collected before the
    current period's start, not yet listed. Writes each list's XLSX and PDF; returns the lists."""
    from transforms.remote.package_tracking import period_bounds, plan_handover

    now = now or utcnow()
    period_end, _ = period_bounds(today, period_days)
    known = ledger.handover_lists()
    for lst in known:  # a list whose documents could not be written before (disk full, …) gets them now
        if not all(Path(p).exists() for p in handover_paths(lst, Path(out_dir)).values()):
            write_handover_documents(ledger, lst, Path(out_dir))
    lists = plan_handover(ledger.paper_originals(), period_end=period_end, period_days=period_days, existing={h["list_no"] for h in known})
    if not lists:
        return []
    created = ledger.create_handover_lists(lists, run_id=run_id, now=now)
    for lst in created:
        lst["files"] = write_handover_documents(ledger, lst, Path(out_dir))
    log.info("handover lists: %d (%d originals)", len(created), sum(c["originals"] for c in created))
    return created


def record_handover_receipt(ledger: Ledger, list_no: str, *, received_at: datetime, received_by: str, note: str | None = None,
                            now: datetime | None = None) -> dict:
    """The property county signed for a list (received_at local, not after `now`, local: the clock by default)."""
    if not received_by or not received_by.strip():
        raise ValueError("received_by (who signed for the originals) is required")
    if received_at.tzinfo is not None:  # a time with an offset: as Shandong local time
        from zoneinfo import ZoneInfo

        received_at = received_at.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    from jobs.registry.form_intake import local_now

    if received_at > (now or local_now()) + timedelta(minutes=10):
        raise ValueError(f"handover list {list_no}: receipt time {received_at:%Y-%m-%d %H:%M} is in the future")
    return ledger.record_handover_receipt(list_no, received_at=received_at, received_by=received_by.strip(), note=note, now=utcnow())


def write_handover_documents(ledger: Ledger, lst: dict, out_dir: Path) -> dict[str, str]:
    """移交清单 as a printable XLSX (A4 landscape, title and signature rows, header repeated on each
    page) and a PDF (reportlab, the built-in STSong-Light CID font: no font file needed)."""
    from jobs.cohandling.publish_report import _replacing
    from jobs.common import reference
    from transforms.remote.package_rules import BUSINESS_TYPES

    items = ledger.handover_items(lst["list_id"])
    names = reference.divisions()
    county = _county_name(names, lst["xzqh"])
    title = "异地代收纸质材料移交清单"
    period_to = lst["period_to"] - timedelta(days=1)
    info = [
        f"清单编号：{lst['list_no']}",
        f"移交方（代收窗口）：{lst.get('hall_name') or ''}（{lst['hall']}）",
        f"接收方（属地登记机构）：{county}（{lst['xzqh']}）",
        f"收件期间：{lst['period_from']:%Y-%m-%d} 至 {period_to:%Y-%m-%d}　报文 {lst['packages']} 件，原件 {lst['originals']} 份，共 {lst['pages']} 页",
    ]
    headings = ["序号", "报文编号 BWID", "申请编号 SQBH", "收件时间 SJSJ", "业务类型 YWLX", "不动产单元号 BDCDYH", "坐落 ZL", "材料编码 CLBM", "材料名称 CLMC", "页数 YS"]
    rows = [[n, *(_cell(v) for v in (i["bwid"], i["sqbh"], str(i["sjsj"] or "")[:16], f"{BUSINESS_TYPES.get(i['ywlx'], '')} {i['ywlx'] or ''}".strip(),
                                      i["bdcdyh"], i["zl"], i["clbm"], i["clmc"])), int(i["ys"] or 0)] for n, i in enumerate(items, start=1)]
    signatures = ["移交人（签字）：", "移交日期：", "接收人（签字）：", "接收日期：", "接收单位（盖章）："]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = handover_paths(lst, out_dir)
    xlsx, pdf = Path(paths["xlsx"]), Path(paths["pdf"])
    with _replacing(xlsx) as tmp:
        _handover_xlsx(tmp, title, info, headings, rows, signatures)
    with _replacing(pdf) as tmp:
        _handover_pdf(tmp, title, info, headings, rows, signatures)
    return {"xlsx": str(xlsx), "pdf": str(pdf)}


def handover_paths(lst: dict, out_dir: Path) -> dict[str, str]:
    """Where a list's printable documents are: 移交清单_<list no>.xlsx / .pdf under out_dir."""
    base = Path(out_dir) / f"移交清单_{_safe(lst['list_no'])}"
    return {"xlsx": str(base.with_suffix(".xlsx")), "pdf": str(base.with_suffix(".pdf"))}


def _cell(value) -> str:
    """Text for a printed cell: a value starting with = + - @ is prefixed with ' (never a formula in Excel/WPS)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _county_name(divisions: dict, code: str) -> str:
    """城市 + 县 for a Shandong county; a county of another province goes by its code (跨省通办)."""
    from jobs.common import reference

    entry = divisions.get(code)
    if entry is None:
        return f"外省县级单位（跨省通办）{code}"
    try:
        return reference.city_of(code).name + entry.name
    except (KeyError, LookupError, ValueError):
        return entry.name


def _handover_xlsx(path: Path, title: str, info: list[str], headings: list[str], rows: list[list], signatures: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "移交清单"
    width = len(headings)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font, ws["A1"].alignment = Font(bold=True, size=16), Alignment(horizontal="center")
    for line in info:
        ws.append([line])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
    ws.append(headings)
    head_row = ws.max_row
    thin = Side(style="thin")
    for cell in ws[head_row]:
        cell.font, cell.alignment = Font(bold=True), Alignment(wrap_text=True, horizontal="center", vertical="center")
    for row in rows:
        ws.append(row)
    for r in ws.iter_rows(min_row=head_row, max_row=ws.max_row, max_col=width):
        for cell in r:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([])
    for line in signatures:
        ws.append([line])
    for letter, w in zip("ABCDEFGHIJ", (6, 22, 16, 17, 16, 31, 36, 10, 22, 7)):
        ws.column_dimensions[letter].width = w
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    wb.save(path)


def _handover_pdf(path: Path, title: str, info: list[str], headings: list[str], rows: list[list], signatures: list[str]) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    heading = ParagraphStyle("h", fontName=font, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    cell = ParagraphStyle("c", fontName=font, fontSize=7.5, leading=9.5)

    def footer(canvas, doc) -> None:
        canvas.setFont(font, 8)
        canvas.drawCentredString(landscape(A4)[0] / 2, 8 * mm, f"第 {doc.page} 页")

    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm, topMargin=12 * mm, bottomMargin=14 * mm,
                            title=title, author="协办网关")
    data = [[Paragraph(h, cell) for h in headings]] + [[Paragraph(_pdf_text(v), cell) for v in row] for row in rows]
    widths = [x * mm for x in (10, 32, 26, 26, 26, 46, 50, 16, 30, 12)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story = [Paragraph(title, heading), Spacer(1, 4 * mm), *(Paragraph(_pdf_text(line), body) for line in info), Spacer(1, 3 * mm), table,
             Spacer(1, 8 * mm), Table([[Paragraph(s, body) for s in signatures[:2]], [Paragraph(s, body) for s in signatures[2:4]],
                                       [Paragraph(signatures[4], body), ""]], colWidths=[130 * mm, 130 * mm])]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _pdf_text(value) -> str:
    from xml.sax.saxutils import escape

    return escape("" if value is None else str(value))
