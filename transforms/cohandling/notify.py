"""Feedback to the applicant (办理结果反馈申请人): one SMS text per work order that reached a
final state, to the buyer's phone. Sending is another system's job; the gateway queues.
Pure: rows in, messages out.

The text is built from a template chosen by the result code (`TEMPLATES`, documented in
docs/protocol/results.md). What an institution or a receiver wrote (JGSM / `reason`) never
reaches the citizen: a link, a phone number to call back or 400 characters of an institution's
words would otherwise go out under the registration authority's name. The only values filled
in are checked strictly and left out (a neutral word instead) when they do not pass:

- the institution's name (from the county's registry form): at most 40 characters of Chinese,
  letters, digits, brackets and `·`, no run of 5 or more digits;
- its service phone (same form): a landline `0531-12345678` / `053112345678`, a mobile, a
  `400` number or a 5-digit service number, nothing else;
- the certificate number (from the platform): at most 40 characters of Chinese, letters,
  digits and the brackets and signs certificate numbers use.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

UTILITY_ZH = {"electricity": "用电", "water": "用水", "gas": "用气", "heat": "供热"}
GRID_NAME = "国网山东省电力公司"
SIGNATURE = "【不动产登记】"
# One template per result code; {what} = 您的用水过户申请（不动产权证号…）, {who} = the institution, {contact} = ，咨询电话… or nothing.
TEMPLATES: dict[str, str] = {
    "0000": "{what}已由{who}办理完成。",
    "0201": "{what}经{who}核实，该户此前已办理过户，无需再办。",
    "0002": "{what}{who}未能办理：户号不存在。请与该机构联系{contact}。",
    "0003": "{what}{who}未能办理：存在欠费未结清，请结清后再办理。请与该机构联系{contact}。",
    "0009": "{what}{who}未能办理。具体原因请与该机构联系{contact}。",
}
DEFAULT_TEMPLATES = {"done": TEMPLATES["0000"], "rejected": TEMPLATES["0009"]}  # a code without its own template
MAX_SMS_CHARS = 160  # the longest template with the longest values allowed stays within this

_NAME = re.compile(r"[\u4e00-\u9fffA-Za-z0-9（）()·]{2,40}")
_CERT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9（）()〔〕\[\]【】第号\-]{4,40}")
_PHONE = re.compile(r"0\d{2,3}-?\d{7,8}|1[3-9]\d{9}|400-?\d{3}-?\d{4}|\d{5}")
_LONG_DIGITS = re.compile(r"\d{5,}")


def first_phone(value) -> str:
    """The first phone of a multi-owner field, normalised (full width to half, no spaces)."""
    if not isinstance(value, str):
        return ""
    parts = re.split(r"[,，、/;；]", unicodedata.normalize("NFKC", value))
    return re.sub(r"\s+", "", parts[0]) if parts else ""


def safe_name(value) -> str | None:
    """An institution's name fit for a citizen's SMS, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if _NAME.fullmatch(value) and not _LONG_DIGITS.search(value) else None


def safe_phone(value) -> str | None:
    """A service phone fit for a citizen's SMS (normalised to half width), else None."""
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    return value if value.isascii() and _PHONE.fullmatch(value) else None


def safe_certificate(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if _CERT.fullmatch(value) else None


def sms_text(*, utility: str, result: str, code: str | None, certificate=None, institution_name=None, institution_phone=None) -> str:
    """The SMS for one final outcome, from its code's template; nothing an institution wrote."""
    who = GRID_NAME if utility == "electricity" else (safe_name(institution_name) or "办理机构")
    what = f"您的{UTILITY_ZH.get(utility, '')}过户申请（不动产权证号{safe_certificate(certificate) or '—'}）"
    phone = safe_phone(institution_phone)
    template = TEMPLATES.get(code or "") or DEFAULT_TEMPLATES.get(result, DEFAULT_TEMPLATES["rejected"])
    return SIGNATURE + template.format(what=what, who=who, contact=f"，咨询电话{phone}" if phone else "")


def notification_texts(candidates: pd.DataFrame) -> list[dict]:
    """rowguid, utility, version, phone, text for each final outcome (connectors.ledger `notification_candidates`)."""
    messages = []
    for c in candidates.to_dict("records"):
        text = sms_text(utility=c["utility"], result=c["result"], code=c.get("code"), certificate=c.get("certificate"),
                        institution_name=c.get("institution_name"), institution_phone=c.get("institution_phone"))
        messages.append({"rowguid": c["rowguid"], "utility": c["utility"], "version": int(c["version"]), "phone": first_phone(c.get("buyer_phone")), "text": text})
    return messages
