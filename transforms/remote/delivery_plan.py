"""Which planned package deliveries stop, and why: the supersede / withdraw plan of remote collection.

A pending delivery never attempted whose BWID has another version in force never leaves: it is
`withdrawn` when that version in force is a withdrawal, `superseded` otherwise. A version a
receiver may hold (sent before) whose BWID was withdrawn since, or whose version in force goes to
another authority (a corrected XZQH), is withdrawn at that receiver — with the reason the receiver
reads: 申请人撤回申请 (the applicant withdrew), or 更正后改由 <authority> 办理 (after the correction,
another authority handles it). The ledger finds the candidates (connectors/ledger/package_flow_store.py)
and writes the plan; the decisions are here.
"""

from __future__ import annotations

import pandas as pd

SUPERSEDED_REASON = "a later version of the package replaced it before it was sent"
WITHDRAWN_BY_APPLICANT = "申请人撤回申请"


def plan_unsent(left: pd.DataFrame) -> pd.DataFrame:
    """Pending, never-sent deliveries left behind (source, change_seq, status_now: the BWID's version in force's status)
    -> source, change_seq, status (withdrawn | superseded), reason."""
    status = left["status_now"].map(lambda s: "withdrawn" if s == "withdrawn" else "superseded")
    return pd.DataFrame({"source": left["source"], "change_seq": left["change_seq"], "status": status,
                         "reason": SUPERSEDED_REASON}, columns=["source", "change_seq", "status", "reason"])


def plan_withdrawals(stale: pd.DataFrame) -> pd.DataFrame:
    """Sent versions whose BWID was withdrawn or moved (source, change_seq, status_now, destination_now)
    -> source, change_seq, withdrawal_reason (Chinese, as the receiver reads it)."""
    reason = [WITHDRAWN_BY_APPLICANT if s == "withdrawn" else f"更正后改由 {d} 办理" for s, d in zip(stale["status_now"], stale["destination_now"])]
    return pd.DataFrame({"source": stale["source"], "change_seq": stale["change_seq"], "withdrawal_reason": reason},
                        columns=["source", "change_seq", "withdrawal_reason"])
