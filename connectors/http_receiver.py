"""HTTP push of work orders to the receivers: county systems (系统对接) and the grid (总对总).

The protocol is the gateway's own, documented for the receivers in docs/protocol/receivers.md
(OpenAPI: docs/protocol/receiver-openapi.yaml). `HttpReceiver.deliver(items)` sends items in
signed batches and returns one `ItemOutcome` per item, in order:

- `delivered` — the receiver answered `accepted` (0000) or `duplicate` (0201: it already had
  this idempotency key; the receipt id is the original one). Both mean "the receiver has it".
- `rejected` — the receiver refused this item (0002 no such account, 0101 a required field,
  0301 not its area): permanent for this version of the work order; a correction makes a new
  version with a new key.
- `pending` — not confirmed: retry on the next run. Every transport problem ends here once
  retries are spent (timeouts, connection errors, 5xx, 503, 429 longer than we may wait), and
  so do 400 / 401 / 403 / 404: those are the gateway's configuration or protocol at fault, not
  the item's, so nothing is given up — the next run sends again once an operator has fixed the
  connection. Re-sending is always safe: the receiver de-duplicates by idempotency key.

`HttpReceiver.cancel(items)` tells the receiver work orders it holds are no longer wanted (the
platform withdrew the record, a correction dropped the utility or sends it elsewhere), with the same
answers: `delivered` (cancelled, or already), `rejected` (0404 not held, 0409 already handled),
`pending`.

`HttpReceiver.remind(items)` sends the weekly overdue reminder (催办提醒, `POST /v1/reminders`, protocol 1.4):
one item per overdue work order the receiver holds, keyed `<work-order key>:remind:<week>`; the same answers —
`delivered` (noted 0000, or 0201 already this week), `rejected` (0404 not held, 0409 already handled: the
gateway has not heard of the result yet), `pending`.

`HttpReceiver.results(after)` reads the receiver's feed of handling results (办理结果, `GET
/v1/results`) from a cursor, page after page, and returns the results exactly as received with
the cursor to resume from; `feed_pages(after)` yields the same page by page (`FeedPage`: the
cursor it was read from, its entries, the next cursor), so a caller can store each page with its
cursor and a page that cannot be read (`FeedPageError`, with the body as received) stops only what
comes after it. Only the shape of each page is checked here; judging every entry (types, lengths,
known key, right receiver, dates, codes, conflicts) is the gateway's.

Signing, retries, deadlines and feed paging: connectors/signed_http.py. The outcome and page
types, and the `Channel` protocol this class implements: connectors/delivery.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from urllib.parse import quote

from connectors.delivery import FeedPage, ItemOutcome
from connectors.signed_http import KEY_PATTERN, MAX_RESULTS_LIMIT, ReceiverError, SignedHttpClient, protocol_text
from transforms.cohandling.annex1 import FIELD_CODES, UTILITIES

BATCH_PATH = "/v1/work-orders:batch"
CANCEL_PATH = "/v1/work-orders:cancel"
REMIND_PATH = "/v1/reminders"
_REMIND_KEYS = frozenset({"idempotency_key", "rowguid", "utility", "version", "week", "due_date", "overdue_working_days"})
_WEEK = re.compile(r"\d{4}-W\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CANCEL_REASONS = frozenset({"RECORD_WITHDRAWN", "UTILITY_DROPPED", "DESTINATION_CHANGED"})
_CANCEL_KEYS = frozenset({"idempotency_key", "rowguid", "utility", "version", "reason_code", "reason"})
STATUS_PATH = "/v1/work-orders/{key}"
RESULTS_PATH = "/v1/results"
_SAFE_ROWGUID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}")
_ITEM_KEYS = frozenset({"idempotency_key", "rowguid", "utility", "version", "correction", "record"})


def idempotency_key(rowguid: str, utility: str, version: int) -> str:
    """`{ROWGUID}:{utility}:{version}` — one per work-order version, stable across runs and retries.

    A ROWGUID with characters outside [A-Za-z0-9._-] (or very long) is replaced by `h` + the first
    32 hex digits of its SHA-256, so the key is always safe in a URL path.
    """
    if utility not in UTILITIES:
        raise ValueError(f"utility must be one of {', '.join(UTILITIES)}, not {utility!r}")
    base = rowguid if _SAFE_ROWGUID.fullmatch(rowguid) else "h" + hashlib.sha256(rowguid.encode("utf-8")).hexdigest()[:32]
    return f"{base}:{utility}:{int(version)}"


def make_item(*, rowguid: str, utility: str, version: int, correction: bool, record: Mapping[str, object]) -> dict:
    """One protocol item: every Annex 1 field as a string or None (NaN / NA / missing become None)."""
    unknown = sorted(set(record) - set(FIELD_CODES))
    if unknown:
        raise ValueError(f"record has fields that are not Annex 1 codes: {', '.join(unknown)}")
    return {
        "idempotency_key": idempotency_key(rowguid, utility, version),
        "rowguid": rowguid,
        "utility": utility,
        "version": int(version),
        "correction": bool(correction),
        "record": {code: protocol_text(record.get(code)) for code in FIELD_CODES},
    }


class HttpReceiver(SignedHttpClient):
    """One work-order receiver (a county system or the grid) at `base_url`, e.g. http://host/county/370102."""

    def deliver(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """One outcome per item, same order. Items as `make_item` builds them.

        Items go in batches of `batch_size`, one after the other. When a batch ends in a way that
        says the receiver is unreachable or refuses us (retries spent, 401, 404, a Retry-After
        longer than max_backoff_s), the call's later batches are not attempted: they are
        `pending` with attempts 0, for the next run. `batch_id` (optional) names the batches:
        `{batch_id}` for one batch, `{batch_id}.{n}` for several; by default a random id.
        """
        for i, item in enumerate(items):
            check_item(i, item)
        return self._deliver_items(items, batch_id=batch_id, path=BATCH_PATH)

    def cancel(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """Tell the receiver work orders it holds are no longer wanted (`POST /v1/work-orders:cancel`); one outcome
        per item, same order. Items: idempotency_key (`<key of the version held>:cancel`), rowguid, utility, version
        (the version held), reason_code, reason. `delivered`: cancelled (0000) or already (0201); `rejected`: 0404
        (the receiver holds no such work order) or 0409 (already handled: too late); `pending`: send again next run."""
        for i, item in enumerate(items):
            check_cancel_item(i, item)
        return self._deliver_items(items, batch_id=batch_id, path=CANCEL_PATH)

    def remind(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """The weekly overdue reminder (`POST /v1/reminders`): one outcome per item, same order. Items: idempotency_key
        (`<work-order key>:remind:<week>`), rowguid, utility, version, week (`2026-W49`), due_date, overdue_working_days."""
        for i, item in enumerate(items):
            check_reminder_item(i, item)
        return self._deliver_items(items, batch_id=batch_id, path=REMIND_PATH)

    def status(self, idempotency_key: str) -> dict | None:
        """The receiver's record of an accepted key (receipt_id, accepted_at, and `result`: its latest
        handling result or null), or None if it has none. As received: not validated."""
        if not KEY_PATTERN.fullmatch(idempotency_key):
            raise ValueError(f"not an idempotency key: {idempotency_key!r}")
        path = STATUS_PATH.format(key=quote(idempotency_key, safe=""))
        value, _, failure = self._exchange("GET", path, b"", read=lambda r: None if r.status_code == 404 else r.json())
        if failure is not None:
            raise ReceiverError(f"{self.base_url}: status of {idempotency_key}: {failure.reason}")
        return value

    def results(self, after: str | None, *, limit: int = MAX_RESULTS_LIMIT, max_pages: int = 50) -> tuple[list[dict], str | None]:
        """(results, cursor): the handling results after the cursor `after` (None: from the start
        of the feed), in feed order, exactly as received, and the cursor to pass next time.

        Reads pages of `limit` until the receiver says there are no more, or `max_pages` pages have
        been read (then the rest waits for the next call from the returned cursor). The cursor is
        the receiver's, opaque; store it only once the results are safely recorded. The results
        are not checked at all (normally objects, but anything the receiver sent, for the gateway
        to judge); a page that is not JSON, has no `results` list, or lacks `next` / `more` is
        retried like an unreadable answer, and then raises ReceiverError, as do transport errors,
        5xx and 429 / 503 once retries are spent, and 4xx. On an error nothing is returned: call
        again with the same cursor.
        """
        return self._feed(RESULTS_PATH, "results", after, limit=limit, max_pages=max_pages)

    def feed_pages(self, after: str | None, *, limit: int = MAX_RESULTS_LIMIT, max_pages: int = 50) -> Iterator[FeedPage]:
        """The results feed page by page (`FeedPage`), from the cursor `after`; raises FeedPageError
        at the first page that cannot be read (the pages before it were yielded)."""
        return self._pages(RESULTS_PATH, "results", after, limit=limit, max_pages=max_pages)


def check_cancel_item(i: int, item: dict) -> None:
    """A cancellation that breaks the protocol is the gateway's bug: fail loudly before sending anything."""
    if not isinstance(item, dict) or set(item) != _CANCEL_KEYS:
        raise ValueError(f"items[{i}] must have exactly the keys {', '.join(sorted(_CANCEL_KEYS))}")
    if not isinstance(item["idempotency_key"], str) or not KEY_PATTERN.fullmatch(item["idempotency_key"]) \
            or not item["idempotency_key"].endswith(":cancel"):
        raise ValueError(f"items[{i}].idempotency_key {item['idempotency_key']!r} is not a cancel key (<work-order key>:cancel)")
    if item["utility"] not in UTILITIES or item["reason_code"] not in CANCEL_REASONS:
        raise ValueError(f"items[{i}]: utility must be one of {', '.join(UTILITIES)}, reason_code one of {', '.join(sorted(CANCEL_REASONS))}")


def check_reminder_item(i: int, item: dict) -> None:
    """A reminder item that breaks the protocol is the gateway's bug: fail loudly before sending anything."""
    if not isinstance(item, dict) or set(item) != _REMIND_KEYS:
        raise ValueError(f"items[{i}] must have exactly the keys {', '.join(sorted(_REMIND_KEYS))}")
    week = item["week"]
    if not isinstance(week, str) or not _WEEK.fullmatch(week) or not isinstance(item["idempotency_key"], str) \
            or not KEY_PATTERN.fullmatch(item["idempotency_key"]) or not item["idempotency_key"].endswith(f":remind:{week}"):
        raise ValueError(f"items[{i}]: week must be YYYY-Www and idempotency_key <work-order key>:remind:<week>")
    if item["utility"] not in UTILITIES or not isinstance(item["due_date"], str) or not _DAY.fullmatch(item["due_date"]) \
            or type(item["overdue_working_days"]) is not int or item["overdue_working_days"] < 0:
        raise ValueError(f"items[{i}]: utility one of {', '.join(UTILITIES)}, due_date YYYY-MM-DD, overdue_working_days an integer >= 0")


def check_item(i: int, item: dict) -> None:
    """Items that break the protocol are the gateway's bug: fail loudly before sending anything."""
    if not isinstance(item, dict) or set(item) != _ITEM_KEYS:
        raise ValueError(f"items[{i}] must have exactly the keys {', '.join(sorted(_ITEM_KEYS))} (build it with make_item)")
    if not isinstance(item["idempotency_key"], str) or not KEY_PATTERN.fullmatch(item["idempotency_key"]):
        raise ValueError(f"items[{i}].idempotency_key {item['idempotency_key']!r} does not match {KEY_PATTERN.pattern}")
    if item["utility"] not in UTILITIES:
        raise ValueError(f"items[{i}].utility must be one of {', '.join(UTILITIES)}")
    record = item["record"]
    if not isinstance(record, dict) or set(record) - set(FIELD_CODES) or any(v is not None and not isinstance(v, str) for v in record.values()):
        raise ValueError(f"items[{i}].record must map Annex 1 field codes to strings or None")

