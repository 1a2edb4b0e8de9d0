"""Tracking remote-collection packages after delivery (pure): the statuses the property
authorities send back, each package version's stage and time limit, and the paper
originals owed to the property counties (纸质材料定期移交).

- `check_events`: every event of a feed judged before it counts — known key, this feed's
  package, a known status, a readable time neither before the delivery nor in the future,
  the detail a person needs (a refusal's reason, what a correction asks for, the
  certificate), not a repeat, nothing after the version was closed (refused or sent back for
  correction). Every event is kept; one with an issue is kept out of tracking.
- `track`: one row per package version: its stage, the time limit (the county's, in working
  days from delivery; 5 by default), overdue (still open after the due day) and late
  (decided after it), working days from collection to certificate per BWID.
- `plan_handover` / `handover_state`: paper originals batched per collecting hall and
  property county and period into handover lists (移交清单); originals not signed for
  within N days of collection are flagged.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from transforms.common.feeds import INT64, Field, Problem, screen_entry
from transforms.common.localtime import to_local
from transforms.remote.package_rules import DONE, parse_local_time

DEFAULT_LIMIT_WD = 5  # working days the property county has to decide (登簿 or 不予受理)
HANDOVER_DAYS = 10  # calendar days from collection within which originals must be signed for
EVENT_STATUSES: dict[str, str] = {
    "accepted": "受理",
    "review": "审核",
    "fee_notice": "缴费通知",
    "registered": "登簿",
    "certificate_issued": "证照已发",
    "refused": "不予受理",
    "correction": "补正",
    "withdrawn": "撤回",
}
PROGRESS = ("accepted", "review", "fee_notice", "registered", "certificate_issued")  # in order
CLOSING = ("refused", "correction", "withdrawn")  # end a package version (a correction comes back as a new version)
STAGES: dict[str, str] = {
    "returned": "网关退回（校验未通过）",
    "pending": "待推送",
    "rejected": "属地系统拒收",
    "failed": "推送失败（文件已变化）",
    "superseded": "已被新版本替代",
    "withdrawn": "已撤回",
    "delivered": "已推送待受理",
    "accepted": "已受理",
    "review": "审核中",
    "fee_notice": "待缴费",
    "registered": "已登簿",
    "certificate_issued": "证照已发",
    "refused": "不予受理",
    "correction": "补正（退回代收窗口）",
    "replaced": "已由更正版本接续办理",
}
EVENT_ISSUES: dict[str, str] = {
    "EVENT_NOT_OBJECT": "状态记录不是对象，无法读取",
    "EVENT_KEY_UNKNOWN": "幂等键不对应网关推送过的任何报文",
    "EVENT_WRONG_FEED": "该报文推送给了另一接收方",
    "EVENT_BWID_MISMATCH": "报文编号与幂等键对应的报文不一致",
    "EVENT_NOT_DELIVERED": "该报文未送达（被拒收、推送失败或从未发出），不应有办理状态",
    "EVENT_STATUS_UNKNOWN": "未知的办理状态",
    "EVENT_TIME_INVALID": "办理时间缺失或无法识别",
    "EVENT_FUTURE": "办理时间晚于当前时间",
    "EVENT_BEFORE_DELIVERY": "办理时间早于网关推送时间",
    "EVENT_DETAIL_MISSING": "缺少必要说明（不予受理原因、补正材料或证照信息）",
    "EVENT_DUPLICATE": "重复的状态记录",
    "EVENT_AFTER_CLOSE": "该报文已不予受理、退回补正或撤回，之后不应再有状态",
}
# A status event's fields (docs/protocol/packages.md), checked by transforms.common.feeds before any of it is
# stored: an event that fails is a dead letter (surface package_event), not a remote_event row.
EVENT_FIELDS: tuple[Field, ...] = (
    Field("idempotency_key", "id", 200), Field("bwid", "id", 64), Field("change_seq", "int", low=INT64[0], high=INT64[1], digits_ok=True),
    Field("receipt_id", "text", 100), Field("status", "id", 24), Field("at", "time", 40), Field("reason", "text", 500),
    Field("missing", "json"), Field("certificate", "json"), Field("fee", "json"), Field("handler", "text", 64),
    Field("seq", "int", low=INT64[0], high=INT64[1], digits_ok=True),
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK_SKEW = timedelta(minutes=10)  # the receivers' clocks against ours


# --- status events ----------------------------------------------------------------------------


def screen_events(events: list) -> tuple[list[dict], list[tuple[int, Problem]]]:
    """(events fit to check, text cleaned; [(position in the page, problem)] for each that is not)."""
    good, bad = [], []
    for i, event in enumerate(events):
        checked, problem = screen_entry(event, EVENT_FIELDS)
        if problem is None:
            good.append(checked)
        else:
            bad.append((i, problem))
    return good, bad


def check_events(events: list, *, feed: str, deliveries: dict[str, dict], held: set[tuple], as_of: datetime) -> list[dict]:
    """One row per event (remote_event's columns except feed/run/received_at), in feed order.

    `deliveries`: idempotency_key -> {source, change_seq, bwid, destination, status, first_sent_at (UTC; None: never sent)};
    `held`: (key, status, at) of events already accepted; `as_of`: local time now.
    """
    seen = set(held)
    closed = {key for key, status, _ in held if status in CLOSING}
    rows = []
    for event in events:
        raw = json.dumps(event, ensure_ascii=False, sort_keys=True, default=str)
        row = {"seq": None, "idempotency_key": None, "source": None, "change_seq": None, "bwid": None, "status": None, "at": None, "reason": None,
               "detail": None, "accepted": False, "issue": None, "issue_message": None, "raw": raw}
        rows.append(row)
        if not isinstance(event, dict):
            _issue(row, "EVENT_NOT_OBJECT")
            continue
        key, status = event.get("idempotency_key"), event.get("status")
        row.update(seq=_short(event.get("seq")), idempotency_key=_short(key), bwid=_short(event.get("bwid"), 64), status=_short(status, 24),
                   reason=event.get("reason") if isinstance(event.get("reason"), str) else None)
        detail = {k: event.get(k) for k in ("missing", "certificate", "fee", "handler", "receipt_id") if event.get(k) is not None}
        row["detail"] = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
        delivery = deliveries.get(key) if isinstance(key, str) else None
        if delivery is None:
            _issue(row, "EVENT_KEY_UNKNOWN")
            continue
        row.update(source=delivery["source"], change_seq=int(delivery["change_seq"]))
        at = _local_time(event.get("at"))
        row["at"] = at
        if delivery["destination"] != feed:
            _issue(row, "EVENT_WRONG_FEED", f"推送给 {delivery['destination']}")
        elif event.get("bwid") not in (None, delivery["bwid"]):
            _issue(row, "EVENT_BWID_MISMATCH", f"应为 {delivery['bwid']}")
        elif delivery["status"] in ("rejected", "failed") or delivery.get("first_sent_at") is None:
            _issue(row, "EVENT_NOT_DELIVERED")
        elif not isinstance(status, str) or status not in EVENT_STATUSES:  # a list or object as status: unhashable
            _issue(row, "EVENT_STATUS_UNKNOWN", repr(status))
        elif at is None:
            _issue(row, "EVENT_TIME_INVALID", repr(event.get("at")))
        elif at > as_of + CLOCK_SKEW:
            _issue(row, "EVENT_FUTURE", f"{at:%Y-%m-%d %H:%M} > {as_of:%Y-%m-%d %H:%M}")
        elif at < _utc_to_local(delivery["first_sent_at"]) - CLOCK_SKEW:
            _issue(row, "EVENT_BEFORE_DELIVERY", f"首次推送于 {_utc_to_local(delivery['first_sent_at']):%Y-%m-%d %H:%M}")
        elif not _has_detail(status, event):
            _issue(row, "EVENT_DETAIL_MISSING", EVENT_STATUSES[status])
        elif (key, status, at) in seen:
            _issue(row, "EVENT_DUPLICATE")
        elif key in closed:
            _issue(row, "EVENT_AFTER_CLOSE")
        else:
            row["accepted"] = True
            seen.add((key, status, at))
            if status in CLOSING:
                closed.add(key)
    return rows


def _issue(row: dict, rule: str, extra: str | None = None) -> None:
    row["issue"] = rule
    row["issue_message"] = EVENT_ISSUES[rule] + (f"：{extra}" if extra else "")


def _has_detail(status: str, event: dict) -> bool:
    if status == "refused":
        return isinstance(event.get("reason"), str) and bool(event["reason"].strip())
    if status == "correction":
        missing = event.get("missing")
        return (isinstance(missing, list) and len(missing) > 0) or (isinstance(event.get("reason"), str) and bool(event["reason"].strip()))
    if status == "certificate_issued":
        cert = event.get("certificate")
        if not isinstance(cert, dict) or cert.get("form") not in ("electronic", "paper") or not cert.get("number"):
            return False
        return cert["form"] == "electronic" or bool(cert.get("mail_no"))  # a paper certificate goes by post: its tracking number
    if status == "fee_notice":
        fee = event.get("fee")
        amount = fee.get("amount_yuan") if isinstance(fee, dict) else None
        return isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount >= 0
    return True


def _short(value, size: int = 200) -> str | None:
    return None if value is None else str(value)[:size]


def _local_time(value) -> datetime | None:
    """An event's local time (ISO 8601; an offset is converted to Asia/Shanghai), else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(SHANGHAI).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: an offset pushing year 1 or 9999 out of range
        return None
    return moment.replace(microsecond=0)


def _utc_to_local(moment: datetime) -> datetime:
    return to_local(moment)


# --- tracking ---------------------------------------------------------------------------------


def track(packages: pd.DataFrame, events: pd.DataFrame, *, as_of: datetime, calendar, limits: dict[str, int] | None = None,
          default_limit: int = DEFAULT_LIMIT_WD) -> pd.DataFrame:
    """Per package version (ledger.remote.remote_tracking_input()): stage, times, due day, overdue/late, working days.

    `as_of` local; `calendar` a transforms.common.workdays.WorkdayCalendar spanning the dates; `limits`
    the counties' own time limits (XZQH -> working days).
    """
    out = packages.copy().reset_index(drop=True)
    out["collected"] = parse_local_time(out["collected"])
    out["delivered_local"] = to_local(pd.to_datetime(out["delivered_at"]))
    firsts = _first_times(events)
    key = list(zip(out["source"], out["change_seq"].astype("int64")))
    for status in EVENT_STATUSES:
        out[f"{status}_at"] = [firsts.get((k, status)) for k in key]
        out[f"{status}_at"] = pd.to_datetime(out[f"{status}_at"])
    reasons = closing_detail(events)
    out["reason"] = [reasons.get(k, (None, None))[0] for k in key]
    out["detail"] = [reasons.get(k, (None, None))[1] for k in key]
    out["stage"] = _stages(out)
    out["stage_label"] = out["stage"].map(STAGES)
    limit = out["xzqh"].map(lambda x: (limits or {}).get(x, default_limit)).astype("int64")
    out["limit_wd"] = limit
    delivered_day = out["delivered_local"].to_numpy(dtype="datetime64[D]")
    due = calendar.add(delivered_day, limit.to_numpy())
    out["due"] = pd.to_datetime(due)
    out["due_provisional"] = calendar.provisional(due)  # a year with no known holiday arrangement: Mon–Fri assumed
    decided = out["registered_at"].where(out["registered_at"].notna(), out["refused_at"])
    out["decided_at"] = decided
    today = np.datetime64(as_of.date(), "D")
    has_due = ~np.isnat(due)
    open_ = out["stage"].isin(("delivered", "accepted", "review", "fee_notice")).to_numpy()
    out["overdue"] = open_ & has_due & (today > due)
    decided_day = decided.to_numpy(dtype="datetime64[D]")
    out["late"] = ~np.isnat(decided_day) & has_due & (decided_day > due)
    out["overdue_wd"] = np.where(out["overdue"], calendar.between(due, np.full(len(out), today)), np.nan)
    out["wd_to_decision"] = calendar.between(delivered_day, decided_day)
    # Time to certificate per BWID, from the first collection of any version to the certificate.
    first_collected = out.groupby("bwid")["collected"].transform("min")
    out["first_collected"] = first_collected
    out["wd_to_certificate"] = calendar.between(first_collected.to_numpy(dtype="datetime64[D]"), out["certificate_issued_at"].to_numpy(dtype="datetime64[D]"))
    return out


def _first_times(events: pd.DataFrame) -> dict:
    if not len(events):
        return {}
    frame = events.assign(at=pd.to_datetime(events["at"])).sort_values("at")
    first = frame.drop_duplicates(["source", "change_seq", "status"])
    return {((s, int(c)), st): at for s, c, st, at in zip(first["source"], first["change_seq"], first["status"], first["at"])}


def closing_detail(events: pd.DataFrame) -> dict:
    """(reason, missing materials text) of each version's closing event."""
    if not len(events):
        return {}
    closing = events[events["status"].isin(CLOSING)]
    return {(s, int(c)): (reason, missing_text(detail)) for s, c, reason, detail in zip(closing["source"], closing["change_seq"], closing["reason"], closing["detail"])}


def missing_text(detail: str | None) -> str | None:
    """The materials a 补正 asks for, as a person reads them: 不动产权属证书（QSZS）、… (None: none named)."""
    if not isinstance(detail, str) or not detail:
        return None
    items = json.loads(detail).get("missing") or []
    return "、".join(f"{m.get('CLMC') or ''}（{m.get('CLBM')}）" if isinstance(m, dict) else str(m) for m in items) or None


def _stages(out: pd.DataFrame) -> list[str]:
    """What the delivery says first (a version delivered is tracked whatever a later re-validation says),
    then the verdict; a delivered version still open when a later version of its BWID was delivered is
    `replaced` (the county goes on with the new one)."""
    stages = []
    replaced = out["replaced"].astype(int).to_numpy() if "replaced" in out else np.zeros(len(out), dtype=int)
    for row, later in zip(out.itertuples(index=False), replaced):
        if row.delivery_status == "delivered":
            if pd.notna(row.withdrawn_at):
                stages.append("withdrawn")
            elif pd.notna(row.refused_at):
                stages.append("refused")
            elif pd.notna(row.correction_at):
                stages.append("correction")
            else:
                reached = [s for s in PROGRESS if pd.notna(getattr(row, f"{s}_at"))]
                stage = reached[-1] if reached else "delivered"
                stages.append("replaced" if later and stage not in ("registered", "certificate_issued") else stage)
        elif row.verdict == "returned":
            stages.append("returned")
        elif row.verdict == "withdrawn":
            stages.append("withdrawn")
        elif isinstance(row.delivery_status, str):
            stages.append(row.delivery_status)
        else:
            stages.append("pending")
    return stages


# --- paper handover ---------------------------------------------------------------------------


def period_bounds(day: date, period_days: int = 7) -> tuple[date, date]:
    """[from, to) of the handover period holding `day`: weeks from Monday by default, else blocks of `period_days` from 2021-08-02."""
    anchor = date(2021, 8, 2)  # a Monday
    start = anchor + timedelta(days=((day - anchor).days // period_days) * period_days)
    return start, start + timedelta(days=period_days)


def plan_handover(originals: pd.DataFrame, *, period_end: date, period_days: int = 7, existing: set[str] = frozenset()) -> list[dict]:
    """Handover lists for the originals owed and not on a list yet that were collected before
    `period_end` (exclusive): one per (collecting hall, property county). `in_force` here: the
    BWID's latest delivered version (whose originals the hall holds). An earlier version's listed
    originals count: a corrected version lists only what it carries beyond them, per material code."""
    if not len(originals):
        return []
    frame = _owed(originals)
    fresh = frame["owed"] & frame["list_id"].isna() & (frame["collected"] < pd.Timestamp(period_end))
    candidates = frame[fresh]
    lists = []
    taken = set(existing)
    for (hall, xzqh), group in candidates.groupby(["hall", "xzqh"], sort=True):
        base = f"YJ-{hall}-{xzqh}-{period_end - timedelta(days=1):%Y%m%d}"
        list_no, n = base, 1
        while list_no in taken:
            n += 1
            list_no = f"{base}-{n}"
        taken.add(list_no)
        pages = pd.to_numeric(group["ys"], errors="coerce").fillna(0).astype(int)
        lists.append({
            "list_no": list_no, "hall": hall, "hall_name": group["hall_name"].iloc[0], "xzqh": xzqh,
            "period_from": datetime.combine(period_end - timedelta(days=period_days), datetime.min.time()),
            "period_to": datetime.combine(period_end, datetime.min.time()),
            "packages": int(group["bwid"].nunique()), "originals": len(group), "pages": int(pages.sum()),
            "items": [{"source": s, "change_seq": int(c), "xh": int(x), "bwid": b, "clbm": cl, "clmc": cm, "ys": int(p)}
                      for s, c, x, b, cl, cm, p in zip(group["source"], group["change_seq"], group["xh"], group["bwid"], group["clbm"], group["clmc"], pages)],
        })
    return lists


def _owed(originals: pd.DataFrame) -> pd.DataFrame:
    """`owed`: a paper original on a list, or of the latest delivered version and beyond what earlier
    versions of its BWID already listed under the same material code (counted, not just present)."""
    frame = originals.copy()
    frame["collected"] = parse_local_time(frame["collected"])
    paper = frame["sfzzyj"].fillna("").astype(str).str.strip().str.upper().isin(DONE)
    listed = frame["list_id"].notna()
    key = frame["bwid"].astype(str) + "\x1f" + frame["clbm"].fillna("").astype(str)
    already = key[listed & paper].value_counts()
    latest = paper & (frame["in_force"].astype(int) == 1) & ~listed
    # The n-th unlisted original of a (BWID, code) in the latest version is owed if n > what is listed already.
    rank = frame.loc[latest].sort_values(["change_seq", "xh"]).groupby(key[latest]).cumcount() + 1
    beyond = pd.Series(False, index=frame.index)
    beyond.loc[rank.index] = rank.to_numpy() > key.loc[rank.index].map(already).fillna(0).to_numpy()
    frame["owed"] = (listed & paper) | beyond
    return frame


def handover_state(originals: pd.DataFrame, *, as_of: date, max_days: int = HANDOVER_DAYS) -> pd.DataFrame:
    """Every paper original owed (listed, or in force and not listed), with its state and whether it
    is flagged: not signed for by the property county more than `max_days` days after collection."""
    if not len(originals):
        return originals.assign(state=pd.Series(dtype=object), days=pd.Series(dtype="int64"), flagged=pd.Series(dtype=bool))
    frame = _owed(originals)
    frame = frame[frame["owed"]].drop(columns="owed").copy()
    received = frame["received_at"].notna()
    frame["state"] = np.where(received, "已签收", np.where(frame["list_id"].notna(), "已列清单待签收", "未列入移交清单"))
    frame["days"] = (pd.Timestamp(as_of) - frame["collected"].dt.normalize()).dt.days.astype("int64")
    frame["flagged"] = ~received & (frame["days"] > max_days)
    return frame.reset_index(drop=True)
