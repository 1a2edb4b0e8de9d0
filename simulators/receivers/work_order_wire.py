"""What a work-order request must look like to the simulated receivers (docs/protocol/receivers.md):
batches and cancellations well formed (else 400 naming what is wrong), the results feed's query,
and the business rules by which a receiver refuses an item (simulators/receivers/__init__.py).
"""

from __future__ import annotations

import re

from simulators.batch_envelope import KEY_PATTERN, parse_envelope
from transforms.cohandling.annex1 import FIELD_CODES, LABELS, UTILITIES

MAX_ITEMS = 500
CLOCK_WINDOW_S = 300  # |receiver clock - X-Timestamp| beyond this is refused: bounds replays
COUNTY_PATTERN = re.compile(r"\d{6}")
ACCOUNT_FIELD = {utility: fields_[0] for utility, fields_ in UTILITIES.items()}
GRID_UTILITIES = frozenset({"electricity"})
COUNTY_UTILITIES = frozenset({"water", "gas", "heat"})
RECEIVER_PATTERN = re.compile(r"grid|county/\d{6}")
FEED_LIMIT_DEFAULT, FEED_LIMIT_MAX = 100, 500


class Answer(Exception):
    """Raised inside a handler to answer at once with an error body."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None, *, counted: bool = True) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}
        self.counted = counted  # False: an answer from before a reset, kept out of the new stats


def parse_feed_query(query) -> tuple[int, int]:
    """(after, limit) from the query of GET /v1/results, else Answer(400)."""
    after, limit = query.get("after") or "0", query.get("limit") or str(FEED_LIMIT_DEFAULT)
    if not re.fullmatch(r"\d{1,18}", after):
        raise Answer(400, "bad_request", "after must be a cursor this receiver returned as next")
    if not re.fullmatch(r"\d{1,4}", limit) or not 1 <= int(limit) <= FEED_LIMIT_MAX:
        raise Answer(400, "bad_request", f"limit must be a whole number from 1 to {FEED_LIMIT_MAX}")
    return int(after), int(limit)


def business_rule(item: dict, county: str | None) -> tuple[str, str] | None:
    """(code, reason) when the receiver refuses the item, else None. See the module docstring."""
    record, utility = item["record"], item["utility"]
    account_field = ACCOUNT_FIELD[utility]
    account = (record.get(account_field) or "").replace(" ", "")
    if (record.get("ROWGUID") or "").strip() != item["rowguid"]:
        return "0101", f"ROWGUID ({LABELS['ROWGUID']}) does not match the item's rowguid"
    if not account:
        return "0101", f"{account_field} ({LABELS[account_field]}) is missing"
    if county is not None:
        xzqh = (record.get("XZQH") or "").strip()
        if not xzqh:
            return "0101", f"XZQH ({LABELS['XZQH']}) is missing"
        if utility not in COUNTY_UTILITIES:
            return "0301", f"{utility} is not handled by county system {county} (非本系统受理业务)"
        if xzqh != county:
            return "0301", f"XZQH {xzqh} is not county {county} served here (非本辖区)"
    elif utility not in GRID_UTILITIES:
        return "0301", f"{utility} is not handled by the grid marketing system (非本系统受理业务)"
    if account.endswith("0002"):
        return "0002", f"no such account: {account_field} (户号不存在)"
    return None


def bad(message: str) -> Answer:
    """The answer to a malformed batch or cancel call."""
    return Answer(400, "malformed_batch", message)


def _exact_items(items: list, wanted: set[str]):
    """(`items[i]`, item) one at a time, each checked first to be an object with exactly the keys `wanted` (else Answer(400))."""
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) != wanted:
            raise bad(f"{where} must be an object with exactly the keys {', '.join(sorted(wanted))}")
        yield where, item


def _check_order_key(where: str, item: dict, *, suffix: str = "") -> None:
    """What names a work-order version in a batch item and in a cancel item alike: the
    idempotency key (ending with `suffix`), ROWGUID, utility and version. Answer(400) if wrong."""
    key = item["idempotency_key"]
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key) or not key.endswith(suffix):
        raise bad(f"{where}.idempotency_key must match {KEY_PATTERN.pattern}" + (f" and end with {suffix}" if suffix else ""))
    if not isinstance(item["rowguid"], str) or not item["rowguid"]:
        raise bad(f"{where}.rowguid must be a non-empty string")
    if item["utility"] not in ACCOUNT_FIELD:
        raise bad(f"{where}.utility must be one of {', '.join(ACCOUNT_FIELD)}")
    if type(item["version"]) is not int or item["version"] < 1:
        raise bad(f"{where}.version must be an integer >= 1")


def parse_batch(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed batch, else Answer(400) naming what is wrong."""
    batch_id, items = parse_envelope(body, limit=MAX_ITEMS, bad=bad)
    for where, item in _exact_items(items, {"idempotency_key", "rowguid", "utility", "version", "correction", "record"}):
        _check_order_key(where, item)
        if type(item["correction"]) is not bool:
            raise bad(f"{where}.correction must be true or false")
        record = item["record"]
        if not isinstance(record, dict):
            raise bad(f"{where}.record must be an object")
        unknown = sorted(set(record) - set(FIELD_CODES))
        if unknown:
            raise bad(f"{where}.record has fields that are not Annex 1 codes: {', '.join(unknown)}")
        for code, value in record.items():
            if value is not None and not isinstance(value, str):
                raise bad(f"{where}.record.{code} must be a string or null")
    return batch_id, items


CANCEL_REASON_CODES = frozenset({"RECORD_WITHDRAWN", "UTILITY_DROPPED", "DESTINATION_CHANGED"})


def parse_cancels(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed cancel call, else Answer(400) naming what is wrong."""
    batch_id, items = parse_envelope(body, limit=MAX_ITEMS, bad=bad)
    for where, item in _exact_items(items, {"idempotency_key", "rowguid", "utility", "version", "reason_code", "reason"}):
        _check_order_key(where, item, suffix=":cancel")
        if item["reason_code"] not in CANCEL_REASON_CODES:
            raise bad(f"{where}.reason_code must be one of {', '.join(sorted(CANCEL_REASON_CODES))}")
        if item["reason"] is not None and (not isinstance(item["reason"], str) or len(item["reason"]) > 200):
            raise bad(f"{where}.reason must be a string of at most 200 characters, or null")
    return batch_id, items


def parse_reminders(body: bytes) -> tuple[str, list[dict]]:
    """(batch_id, items) of a well-formed reminder call (POST /v1/reminders), else Answer(400) naming what is wrong."""
    batch_id, items = parse_envelope(body, limit=MAX_ITEMS, bad=bad)
    for where, item in _exact_items(items, {"idempotency_key", "rowguid", "utility", "version", "week", "due_date", "overdue_working_days"}):
        week = item["week"]
        if not isinstance(week, str) or not re.fullmatch(r"\d{4}-W\d{2}", week):
            raise bad(f"{where}.week must be an ISO week YYYY-Www")
        _check_order_key(where, item, suffix=f":remind:{week}")
        if not isinstance(item["due_date"], str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["due_date"]):
            raise bad(f"{where}.due_date must be a date YYYY-MM-DD")
        if type(item["overdue_working_days"]) is not int or item["overdue_working_days"] < 0:
            raise bad(f"{where}.overdue_working_days must be an integer >= 0")
    return batch_id, items
