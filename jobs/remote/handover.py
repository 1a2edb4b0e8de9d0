"""Remote collection (异地代收): the paper handover (纸质材料定期移交).

`make_handover_lists`: at the end of each period, the paper originals of delivered packages
not yet on a list, one list per (hall, property county) (transforms/remote/package_tracking.py:
plan_handover), written as a printable XLSX and PDF (移交清单) with signature lines
(transforms/reporting/handover_sheets.py); `record_handover_receipt` records the property
county's signature.

Overlapping runs (jobs/common/stage_clock.py): making lists holds the ledger lock
`remote.handover` (a list is numbered and its originals taken once), and `today` is never before
the `remote` clock's day: a backfill makes no list that the newest run would not make.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from connectors.ledger import Ledger, utcnow

log = logging.getLogger(__name__)


def make_handover_lists(ledger: Ledger, *, run_id: str, today: date, out_dir: Path, period_days: int = 7, now: datetime | None = None) -> list[dict]:
    """Lists for every period that has ended by `today` (local): originals collected before the
    current period's start, not yet listed. Writes each list's XLSX and PDF; returns the lists."""
    from jobs.common.settings import REMOTE_WAIT_S, lock_wait_s
    from jobs.common.stage_clock import run_day

    with ledger.stage_lock("remote.handover", run_id=run_id, wait_s=lock_wait_s(REMOTE_WAIT_S)):
        today = run_day(ledger, "remote", today, run_id=run_id, stage="remote.handover")
        return _make_lists(ledger, run_id=run_id, today=today, out_dir=out_dir, period_days=period_days, now=now or utcnow())


def _make_lists(ledger: Ledger, *, run_id: str, today: date, out_dir: Path, period_days: int, now: datetime) -> list[dict]:
    from transforms.remote.package_tracking import period_bounds, plan_handover

    period_end, _ = period_bounds(today, period_days)
    known = ledger.remote.handover_lists()
    for lst in known:  # a list whose documents could not be written before (disk full, …) gets them now
        if not all(Path(p).exists() for p in handover_paths(lst, Path(out_dir)).values()):
            write_handover_documents(ledger, lst, Path(out_dir))
    lists = plan_handover(ledger.remote.paper_originals(), period_end=period_end, period_days=period_days, existing={h["list_no"] for h in known})
    if not lists:
        return []
    created = ledger.remote.create_handover_lists(lists, run_id=run_id, now=now)
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
    from jobs.common.inbox import local_now

    if received_at > (now or local_now()) + timedelta(minutes=10):
        raise ValueError(f"handover list {list_no}: receipt time {received_at:%Y-%m-%d %H:%M} is in the future")
    return ledger.remote.record_handover_receipt(list_no, received_at=received_at, received_by=received_by.strip(), note=note, now=utcnow())


def write_handover_documents(ledger: Ledger, lst: dict, out_dir: Path) -> dict[str, str]:
    """移交清单 as a printable XLSX and PDF (layout: transforms/reporting/handover_sheets.py), each renamed into place."""
    from jobs.cohandling.publish_report import _replacing
    from jobs.common import reference
    from transforms.remote.package_rules import BUSINESS_TYPES
    from transforms.reporting.handover_sheets import handover_pdf, handover_xlsx, printable

    items = ledger.remote.handover_items(lst["list_id"])
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
    headings = ["序号", "报文编号(BWID)", "申请编号(SQBH)", "收件时间(SJSJ)", "业务类型(YWLX)", "不动产单元号(BDCDYH)", "坐落(ZL)", "材料编码(CLBM)", "材料名称(CLMC)", "页数(YS)"]
    rows = [[n, *(printable(v) for v in (i["bwid"], i["sqbh"], str(i["sjsj"] or "")[:16], f"{BUSINESS_TYPES.get(i['ywlx'], '')}({i['ywlx']})" if i["ywlx"] else "",
                                      i["bdcdyh"], i["zl"], i["clbm"], i["clmc"])), int(i["ys"] or 0)] for n, i in enumerate(items, start=1)]
    signatures = ["移交人（签字）：", "移交日期：", "接收人（签字）：", "接收日期：", "接收单位（盖章）："]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = handover_paths(lst, out_dir)
    xlsx, pdf = Path(paths["xlsx"]), Path(paths["pdf"])
    with _replacing(xlsx) as tmp:
        handover_xlsx(tmp, title, info, headings, rows, signatures)
    with _replacing(pdf) as tmp:
        handover_pdf(tmp, title, info, headings, rows, signatures)
    return {"xlsx": str(xlsx), "pdf": str(pdf)}


def handover_paths(lst: dict, out_dir: Path) -> dict[str, str]:
    """Where a list's printable documents are: 移交清单_<list no>.xlsx / .pdf under out_dir."""
    from jobs.common.settings import safe_name

    base = Path(out_dir) / f"移交清单_{safe_name(lst['list_no'])}"
    return {"xlsx": str(base.with_suffix(".xlsx")), "pdf": str(base.with_suffix(".pdf"))}


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
