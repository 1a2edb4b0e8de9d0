"""Feedback to the applicant (办理结果反馈申请人): one SMS text per work order that reached a
final state, to the buyer's phone. Sending is another system's job; the gateway queues.
Pure: rows in, messages out."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

UTILITY_ZH = {"electricity": "用电", "water": "用水", "gas": "用气", "heat": "供热"}
GRID_NAME = "国网山东省电力公司"


def first_phone(value) -> str:
    """The first phone of a multi-owner field, normalised (full width to half, no spaces)."""
    if not isinstance(value, str):
        return ""
    parts = re.split(r"[,，、/;；]", unicodedata.normalize("NFKC", value))
    return re.sub(r"\s+", "", parts[0]) if parts else ""


def notification_texts(candidates: pd.DataFrame) -> list[dict]:
    """rowguid, utility, version, phone, text for each final outcome (connectors.ledger `notification_candidates`)."""
    messages = []
    for c in candidates.to_dict("records"):
        who = GRID_NAME if c["utility"] == "electricity" else (c.get("institution_name") or "办理机构")
        what = f"您的{UTILITY_ZH.get(c['utility'], '')}过户申请（不动产权证号{c.get('certificate') or '—'}）"
        if c["result"] == "done":
            text = f"【不动产登记】{what}已由{who}办理完成。"
        else:
            contact = f"，咨询电话{c['institution_phone']}" if isinstance(c.get("institution_phone"), str) and c.get("institution_phone") else ""
            text = f"【不动产登记】{what}{who}未能办理：{c.get('reason') or '原因未说明'}。请与{who}联系{contact}。"
        messages.append({"rowguid": c["rowguid"], "utility": c["utility"], "version": int(c["version"]), "phone": first_phone(c.get("buyer_phone")), "text": text})
    return messages
