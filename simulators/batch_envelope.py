"""What every simulated receiver speaks alike — the work-order receivers (simulators/receivers/) and
the property side (simulators/registration.py): the JSON envelope of a batch, the shape of an
idempotency key, the cross-province channel's name, and local business time (Asia/Shanghai, no offset).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")  # handled_at and the business clock are local time, no offset
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
CROSS_PROVINCE = "cross-province"  # the 跨省通办 channel's receiver name and base path (packages only)


def local_text(moment: datetime) -> str:
    """ISO 8601 local time without offset, whole seconds: 2026-11-23T10:15:00."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL)
    return moment.replace(tzinfo=None, microsecond=0).isoformat()


def settings_of(cls, wanted: object):
    """A /_sim settings dataclass `cls` from a POST body: keys not given take their defaults; ValueError for a body that
    is not an object or names settings `cls` does not have (its own parse checks the values)."""
    from dataclasses import fields

    if not isinstance(wanted, dict):
        raise ValueError("body must be a JSON object")
    unknown = sorted(set(wanted) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(unknown)}")
    return cls(**wanted)


def parse_envelope(body: bytes, *, limit: int, bad) -> tuple[str, list]:
    """(batch_id, items) of a batch body `{"batch_id", "items"}` (work orders and packages alike);
    `bad(message)` makes the exception to raise."""
    try:
        batch = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"body is not UTF-8 JSON: {exc}") from None
    if not isinstance(batch, dict) or set(batch) != {"batch_id", "items"}:
        raise bad("body must be an object with exactly the keys batch_id and items")
    batch_id, items = batch["batch_id"], batch["items"]
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= 128:
        raise bad("batch_id must be a string of 1 to 128 characters")
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        raise bad(f"items must be a list of 1 to {limit} items")
    return batch_id, items
