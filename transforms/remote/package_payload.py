"""A package version as it is sent to the property's authority (pure).

Codes go out as validation read them (transforms/remote/package_rules.code_text, one value at
a time here); a cross-province package's applicants also carry their national document code
(ZJZLDM, GA/T 2000.156) mapped from the document type and the number's shape.
"""

from __future__ import annotations

import re
import unicodedata

CODE_FIELDS = frozenset({"SJXZQH", "BDCDYH", "HYDDM", "HYXZQH", "ZJZL", "ZJHM", "SQRLB"})  # sent as validation read them


def code_value(value):
    """A code as validation reads it: NFKC, no spaces, upper case; blank -> None; a non-text value as it is."""
    if not isinstance(value, str):
        return value
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    return text or None


def as_validated(record: dict) -> dict:
    """A package or applicant row with its code fields as validation read them."""
    return {k: (code_value(v) if k in CODE_FIELDS else v) for k, v in record.items()}


def with_national_codes(applicants: list[dict]) -> list[dict]:
    """Each applicant with `ZJZLDM`, the national document code of its ZJZL and ZJHM (跨省通办)."""
    from transforms.cohandling.annex1 import ID_TYPE_TABLE, NATIONAL_ID_TYPES
    from transforms.common.codetables import national_code_for

    return [{**a, "ZJZLDM": national_code_for(ID_TYPE_TABLE, NATIONAL_ID_TYPES, a.get("ZJZL"), a.get("ZJHM"))} for a in applicants]
