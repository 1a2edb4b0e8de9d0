"""The signed HTTP transport the receivers' protocols share (docs/protocol/receivers.md,
docs/protocol/packages.md): every request signed (HMAC-SHA256 over timestamp, method, path and
body), retried with backoff, paced, bounded in time and size; batches of keyed items answered
item by item; cursor feeds read page by page.

`SignedHttpClient` is the base of the work-order receiver (connectors/http_receiver.py) and the
package receiver (connectors/package_receiver.py); it has no endpoint of its own. What it
returns is the vocabulary of connectors/delivery.py (`ItemOutcome`, `FeedPage`).

Every request has a **total** deadline (`deadline_s`, 60 s by default) besides the per-operation
timeout (`timeout_s`): each connect, write and read gets at most what is left of the deadline, and
the answer is read as a stream that is dropped once the deadline passes or it grows beyond
`max_answer_bytes` (8 MiB) — so a receiver that trickles bytes cannot hold a task, and one that
sends without end cannot fill its memory. Both count as "no answer" and are retried like a timeout.

Retried: timeouts, connection errors, 5xx and unreadable 200s with backoff, 429/503 after their
Retry-After. Not retried: other 4xx (a configuration or protocol fault); an item they leave
unconfirmed is `pending`, never given up. Every answer the gateway acts on (200, 404
unknown_work_order) must be signed by the receiver for this request (connectors/answer_check.py):
one unsigned, wrongly signed, stale or replayed is an unreadable answer (retried, then the items
stay pending / the page is dead-lettered), never taken. Secrets come only from the Airflow Connection and are
never logged; records are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from connectors.answer_check import NONCE_HEADER, check_answer
from connectors.delivery import FeedPage, ItemOutcome

log = logging.getLogger(__name__)

MAX_BATCH_ITEMS = 500  # the protocol's limit per request
MAX_RESULTS_LIMIT = 500  # the protocol's limit per page of a feed
DEADLINE_S = 60.0  # total time per request (connect + send + the whole answer), whatever the per-read timeout
MAX_ANSWER_BYTES = 8 << 20  # an answer's body; a page of 500 results is well under 1 MiB
MAX_CURSOR_CHARS = 256  # a feed cursor is stored and sent back in a query: short, printable
MIN_SEND_BYTES_PER_S = 256 * 1024  # a large body (a package's file) adds its size at this rate to the deadline
FEED_BUDGET_S = 300.0  # one call reading a feed stops asking for more pages after this (the rest: next call)
_CURSOR = re.compile(rf"[\x21-\x7e]{{1,{MAX_CURSOR_CHARS}}}")
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
_HINTS = {
    400: " — the gateway sent something the protocol does not allow (a gateway bug); kept pending",
    401: " — check the connection's key id (login) and secret (password), and this host's clock",
    403: " — the receiver refuses this key; check the connection with the receiver's operator",
    404: " — check the connection's host and extra base_path",
}



def signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "{timestamp}\\n{METHOD}\\n{path}\\n{hex sha256(body)}")."""
    canonical = f"{timestamp}\n{method.upper()}\n{path}\n{hashlib.sha256(body).hexdigest()}"
    return hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(key_id: str, secret: str, *, method: str, path: str, body: bytes, timestamp: float) -> dict[str, str]:
    """The three auth headers for a request to `path` (the URL's path as sent, without the query)."""
    stamp = str(int(timestamp))
    return {"X-Gateway-Key": key_id, "X-Timestamp": stamp, "X-Signature": signature(secret, stamp, method, path, body)}



class ReceiverError(RuntimeError):
    """A status query or a page of results the receiver could not answer (after retries), or a
    page that is not a page of results."""


class FeedPageError(ReceiverError):
    """A page of a feed that could not be read: `malformed` when the receiver answered but the
    answer is not a page of the feed (not JSON, not the shape, too large, a cursor that does not
    move) — `body` is the last such answer as received (at most MAX_ANSWER_BYTES) — else the
    receiver could not be reached or refused the request (transport, 4xx, 5xx)."""

    def __init__(self, message: str, *, after: str | None, page: int, malformed: bool, body: bytes | None = None) -> None:
        super().__init__(message)
        self.after = after
        self.page = page
        self.malformed = malformed
        self.body = body



@dataclass(frozen=True)
class _Failure:
    reason: str
    halt: bool  # also leave the call's remaining batches for the next run
    malformed: bool = False  # the last attempt got an answer that was not readable
    body: bytes | None = None  # that answer, as received
    too_large: bool = False  # that answer was over max_answer_bytes


class BadAnswer(Exception):
    pass


class _AnswerTooLarge(Exception):
    pass


class _DeadlinePassed(httpx.TimeoutException):
    """The request's total deadline passed while the answer was still arriving."""


class _Deadline(dict):
    """httpx's `timeout` request extension, which httpcore reads before every connect, write and
    read of the request: each gets at most what is left until the total deadline, so a peer that
    sends one byte at a time cannot stretch a request past it (httpx's own timeout is per read)."""

    def __init__(self, per_operation: float, deadline: float) -> None:
        super().__init__(connect=per_operation, read=per_operation, write=per_operation, pool=per_operation)
        self.deadline = deadline

    def get(self, key, default=None):  # noqa: D401 - dict protocol
        value = super().get(key, default)
        left = max(0.001, self.deadline - time.monotonic())  # never 0: that would make the socket non-blocking
        return left if value is None else min(value, left)



class SignedHttpClient:
    """A receiver at `base_url` (e.g. http://host/county/370102) spoken to with signed requests; subclasses add the endpoints."""

    def __init__(self, base_url: str, key_id: str, secret: str, *, timeout_s: float = 10, max_attempts: int = 4, backoff_s: float = 0.5,
                 max_backoff_s: float = 8, rate_per_s: float | None = None, batch_size: int = 200,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 deadline_s: float = DEADLINE_S, max_answer_bytes: int = MAX_ANSWER_BYTES, feed_budget_s: float = FEED_BUDGET_S,
                 answer_secret: str | None = None) -> None:
        if not 1 <= batch_size <= MAX_BATCH_ITEMS:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH_ITEMS}, not {batch_size}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not deadline_s > 0 or max_answer_bytes < 1:
            raise ValueError("deadline_s and max_answer_bytes must be positive")
        self.deadline_s = float(deadline_s)
        self.max_answer_bytes = int(max_answer_bytes)
        self.feed_budget_s = float(feed_budget_s)
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self._secret = secret
        self._answer_secret = answer_secret or secret  # the receiver's answer key (protocol 1.5)
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.rate_per_s = rate_per_s
        self.batch_size = batch_size
        self._sleep = sleep
        self._clock = clock
        self._jitter = random.Random()
        self._next_send_at = 0.0
        # One client: keep-alive across batches and retries. No redirects: a signed request
        # must not wander to another path.
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False,
                                    headers={"User-Agent": "cohandling-gateway/1", "Accept": "application/json"})

    def __repr__(self) -> str:  # never the secret
        return f"SignedHttpClient({self.base_url!r}, key_id={self.key_id!r})"

    def __enter__(self) -> SignedHttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- construction from Airflow ------------------------------------------------------------

    @classmethod
    def from_conn_id(cls, conn_id: str, *, xzqh: str | None = None, **kw) -> SignedHttpClient:
        """From an Airflow Connection (type http): host, port, schema http|https, login = key id,
        password = secret; extra: base_path (may contain "{xzqh}"), rate_per_s, timeout_s, deadline_s,
        max_answer_bytes, batch_size, max_attempts, answer_secret (the receiver's answer key; else the
        secret). Keyword arguments win over extra."""
        from airflow.sdk import BaseHook

        return cls._from_connection(conn_id, BaseHook.get_connection(conn_id), xzqh=xzqh, **kw)

    @classmethod
    def _from_connection(cls, conn_id: str, conn, *, xzqh: str | None = None, **kw) -> SignedHttpClient:
        if conn.conn_type not in ("http", "https"):
            raise ValueError(f"connection {conn_id!r}: type {conn.conn_type!r} is not http")
        if not conn.login or not conn.password:
            raise ValueError(f"connection {conn_id!r}: login (the key id) and password (the secret) are both required")
        extra = conn.extra_dejson or {}
        host = conn.host or ""
        scheme = conn.schema if conn.schema in ("http", "https") else ("https" if conn.conn_type == "https" else "http")
        if "://" in host:  # a host written as a URL
            parts = urlsplit(host)
            scheme, host = parts.scheme or scheme, parts.netloc
        if not host:
            raise ValueError(f"connection {conn_id!r}: host is required")
        base_path = str(extra.get("base_path") or "")
        if "{xzqh}" in base_path:
            if xzqh is None:
                raise ValueError(f"connection {conn_id!r}: base_path {base_path!r} needs a county (xzqh)")
            base_path = base_path.replace("{xzqh}", xzqh)
        if base_path and not base_path.startswith("/"):
            base_path = "/" + base_path
        port = f":{conn.port}" if conn.port else ""
        for name, convert in (("rate_per_s", float), ("timeout_s", float), ("batch_size", int), ("max_attempts", int), ("deadline_s", float),
                              ("max_answer_bytes", int)):
            if extra.get(name) is not None and name not in kw:
                kw[name] = convert(extra[name])
        if extra.get("answer_secret") and "answer_secret" not in kw:
            kw["answer_secret"] = str(extra["answer_secret"])
        return cls(f"{scheme}://{host}{port}{base_path}", conn.login, conn.password, **kw)

    def _deliver_items(self, items: list[dict], *, batch_id: str | None, path: str) -> list[ItemOutcome]:
        """`deliver` for any batch endpoint of the protocol (work orders, packages): same answers."""
        outcomes: list[ItemOutcome] = []
        halted: str | None = None
        chunks = [items[i:i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        for n, chunk in enumerate(chunks, start=1):
            if halted is not None:
                outcomes += [ItemOutcome(it["idempotency_key"], "pending", None, None, f"not attempted: {halted}", 0) for it in chunk]
                continue
            name = (batch_id if len(chunks) == 1 else f"{batch_id}.{n}") if batch_id else uuid.uuid4().hex
            got, halted = self._deliver_batch(name, chunk, path)
            outcomes += got
        return outcomes

    def _feed(self, path: str, key: str, after: str | None, *, limit: int, max_pages: int) -> tuple[list, str | None]:
        """A cursor feed of the protocol (`results`, `events`): see `results`."""
        got: list = []
        cursor = after
        for page in self._pages(path, key, after, limit=limit, max_pages=max_pages):
            got += page.entries
            cursor = page.next
        log.info("%s: %d %s read", self.base_url, len(got), key)
        return got, cursor

    def _pages(self, path: str, key: str, after: str | None, *, limit: int, max_pages: int):
        """Pages of a cursor feed until the receiver says there are no more, `max_pages` were read or
        `feed_budget_s` has passed (the rest waits for the next call, from the last page's cursor)."""
        if not 1 <= limit <= MAX_RESULTS_LIMIT:
            raise ValueError(f"limit must be 1 to {MAX_RESULTS_LIMIT}, not {limit}")
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        if after is not None and not isinstance(after, str):
            raise ValueError(f"after must be a cursor string the receiver returned, or None, not {after!r}")
        return self._page_iter(path, key, after, limit=limit, max_pages=max_pages)

    def _page_iter(self, path: str, key: str, after: str | None, *, limit: int, max_pages: int):
        cursor = after
        started = time.monotonic()
        page = 0
        while page < max_pages:
            page += 1
            params = {"limit": str(limit)} if cursor is None else {"after": cursor, "limit": str(limit)}
            value, attempts, failure = self._exchange("GET", path, b"", read=lambda r: _read_page(r, key), params=params)
            if failure is not None and failure.too_large and limit > 1:
                # A page over the size bound (a few huge entries): ask for fewer entries, down to one, so
                # only an entry that is itself too large stops the feed.
                limit = max(1, limit // 10)
                log.warning("%s: %s page after %r over %d bytes: asking for %d at a time", self.base_url, key, cursor, self.max_answer_bytes, limit)
                page -= 1
                continue
            if failure is not None:
                raise FeedPageError(f"{self.base_url}: {key} after {cursor!r} (page {page}): {failure.reason}",
                                    after=cursor, page=page, malformed=failure.malformed, body=failure.body)
            entries, next_cursor, more = value
            if more and next_cursor == cursor:
                raise FeedPageError(f"{self.base_url}: {key} after {cursor!r}: the receiver says there is more but its cursor did not move",
                                    after=cursor, page=page, malformed=True)
            yield FeedPage(after=cursor, entries=entries, next=cursor if next_cursor is None else next_cursor, more=more, number=page)
            cursor = cursor if next_cursor is None else next_cursor
            if not more:
                return
            if time.monotonic() - started > self.feed_budget_s:
                log.info("%s: %s read for %.0f s (budget %g s), more to read from the next call", self.base_url, key, time.monotonic() - started,
                         self.feed_budget_s)
                return
        log.info("%s: read %d pages of %s, more to read from the next call", self.base_url, max_pages, key)

    def close(self) -> None:
        self._client.close()

    # --- internals -----------------------------------------------------------------------------

    def _deliver_batch(self, batch_id: str, chunk: list[dict], path: str) -> tuple[list[ItemOutcome], str | None]:
        body = json.dumps({"batch_id": batch_id, "items": chunk}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        keys = [it["idempotency_key"] for it in chunk]
        results, attempts, failure = self._exchange("POST", path, body, read=lambda r: _read_results(r, keys))
        if failure is not None:
            log.warning("%s: batch %s (%d items) left pending after %d attempts: %s", self.base_url, batch_id, len(chunk), attempts, failure.reason)
            return [ItemOutcome(k, "pending", None, None, failure.reason, attempts, batch_id) for k in keys], (failure.reason if failure.halt else None)
        outcomes = []
        for key, result in zip(keys, results):
            if result["status"] in ("accepted", "duplicate"):
                outcomes.append(ItemOutcome(key, "delivered", result.get("receipt_id"), result.get("code"), result.get("reason"), attempts, batch_id))
            else:
                outcomes.append(ItemOutcome(key, "rejected", None, result.get("code"), result.get("reason"), attempts, batch_id))
                log.info("%s: %s rejected: %s %s", self.base_url, key, result.get("code"), result.get("reason"))
        counts = {s: sum(o.status == s for o in outcomes) for s in ("delivered", "rejected")}
        log.info("%s: batch %s: %d delivered, %d rejected, %d attempts", self.base_url, batch_id, counts["delivered"], counts["rejected"], attempts)
        return outcomes, None

    def _exchange(self, method: str, path: str, body: bytes, *, read: Callable[[httpx.Response], object],
                  params: Mapping[str, str] | None = None, content_type: str = "application/json") -> tuple[object, int, _Failure | None]:
        """(value, attempts, None) once `read` accepts an answer, else (None, attempts, failure).

        Retried: timeouts, connection errors, 5xx and unreadable 200s with backoff, 429/503 after
        their Retry-After. Not retried: other 4xx (a configuration or protocol fault).
        """
        last = ""
        bad_body: bytes | None = None  # the last unreadable answer (None: the last attempt got none)
        for attempt in range(1, self.max_attempts + 1):
            self._take_token()
            wait: float | None = None
            bad_body = None
            try:
                response, nonce = self._send(method, path, body, params, content_type)
            except _DeadlinePassed:
                last = f"no complete answer within the deadline of {self.deadline_s:g} s (the answer was still arriving)"
            except httpx.TimeoutException as exc:
                last = f"no answer within {min(self.timeout_s, self.deadline_s):g} s ({type(exc).__name__})"
            except _AnswerTooLarge:  # the same request gets the same answer: not retried
                return None, attempt, _Failure(f"unreadable answer: larger than {self.max_answer_bytes} bytes", halt=True, malformed=True,
                                               body=b"", too_large=True)
            except httpx.TransportError as exc:
                last = f"cannot reach the receiver ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if status == 200 or (status == 404 and method == "GET" and _error_code(response) == "unknown_work_order"):
                    try:
                        self._check_signed(response, nonce, method, (params or {}).get("after") or "")
                        return read(response), attempt, None
                    except BadAnswer as exc:
                        last = f"unreadable answer: {exc}"
                        bad_body = response.content
                elif status in (429, 503):
                    last = _describe(response)
                    retry_after = _retry_after(response, now=self._clock())
                    if retry_after is not None and retry_after > self.max_backoff_s:
                        return None, attempt, _Failure(
                            f"{last}; asked to retry after {retry_after:g} s, longer than max_backoff_s ({self.max_backoff_s:g} s): left for the next run",
                            halt=True)
                    wait = retry_after
                elif status >= 500:
                    last = _describe(response)
                else:
                    return None, attempt, _Failure(_describe(response) + _HINTS.get(status, " — kept pending"), halt=status != 400)
            if attempt < self.max_attempts:
                wait = self._backoff(attempt) if wait is None else wait
                log.warning("%s: %s %s attempt %d/%d: %s; retrying in %.2f s", self.base_url, method, path, attempt, self.max_attempts, last, wait)
                self._sleep(wait)
        return None, self.max_attempts, _Failure(f"gave up after {self.max_attempts} attempts: {last}", halt=True,
                                                 malformed=bad_body is not None, body=bad_body)

    def _send(self, method: str, path: str, body: bytes, params: Mapping[str, str] | None = None,
              content_type: str = "application/json") -> tuple[httpx.Response, str]:
        nonce = uuid.uuid4().hex
        headers = {"Content-Type": content_type, NONCE_HEADER: nonce} if body else {NONCE_HEADER: nonce}
        request = self._client.build_request(method, self.base_url + path, content=body or None, headers=headers, params=params)
        # Sign the path exactly as it goes on the wire (percent-encoding kept, no query).
        wire_path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        request.headers.update(signed_headers(self.key_id, self._secret, method=method, path=wire_path, body=body, timestamp=self._clock()))
        deadline = time.monotonic() + self.deadline_s + len(body) / MIN_SEND_BYTES_PER_S
        request.extensions["timeout"] = _Deadline(self.timeout_s, deadline)
        response = self._client.send(request, stream=True)
        try:
            chunks, size = [], 0
            for chunk in response.iter_bytes():  # decoded: a compressed answer is bounded by what it expands to
                size += len(chunk)
                if size > self.max_answer_bytes:
                    raise _AnswerTooLarge()
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _DeadlinePassed("deadline passed", request=request)
            response._content = b"".join(chunks)  # what Response.read() would keep; read here under our bounds
        finally:
            response.close()
        return response, nonce

    def _check_signed(self, response: httpx.Response, nonce: str, method: str, after: str) -> None:
        wire_path = response.request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        reason = check_answer(self._answer_secret, response.headers, nonce=nonce, status=response.status_code, method=method, path=wire_path,
                              after=after, body=response.content, now=self._clock())
        if reason is not None:
            raise BadAnswer(reason)

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": never less than half the step, so a recovering
        # receiver is not hit by every client at once, and never beyond max_backoff_s.
        step = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return step / 2 + self._jitter.uniform(0, step / 2)

    def _take_token(self) -> None:
        """Client-side pacing: at most rate_per_s requests a second, evenly spaced (no burst), so
        a receiver with the same or a higher limit never has to answer 429."""
        if not self.rate_per_s:
            return
        now = self._clock()
        if now < self._next_send_at:
            self._sleep(self._next_send_at - now)
            now = self._next_send_at
        self._next_send_at = now + 1.0 / self.rate_per_s


def protocol_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


def _read_results(response: httpx.Response, keys: list[str]) -> list[dict]:
    try:
        results = response.json()["results"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadAnswer(f"200 without a results list ({type(exc).__name__})") from None
    if not isinstance(results, list) or len(results) != len(keys):
        raise BadAnswer(f"{len(results) if isinstance(results, list) else 'no'} results for {len(keys)} items")
    for key, result in zip(keys, results):
        if not isinstance(result, dict) or result.get("idempotency_key") != key:
            raise BadAnswer(f"results out of order: expected {key}")
        if result.get("status") not in ("accepted", "duplicate", "rejected"):
            raise BadAnswer(f"unknown status {result.get('status')!r} for {key}")
    return results


def _read_page(response: httpx.Response, key: str = "results") -> tuple[list, str | None, bool]:
    """(entries, next, more) of a page of a feed (`key`: results, events); only its shape is checked.

    Bytes that are not UTF-8 inside a string make that string carry lone surrogates (the entry is
    then refused on its own by the gateway's checks) rather than the whole page unreadable."""
    try:
        page = json.loads(response.content.decode("utf-8", errors="surrogateescape"))
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
        raise BadAnswer(f"{key} page is not JSON ({type(exc).__name__})") from None
    if not isinstance(page, dict) or not isinstance(page.get(key), list):
        raise BadAnswer(f"200 without a {key} list")
    results, next_cursor, more = page[key], page.get("next"), page.get("more")
    if not isinstance(more, bool):
        raise BadAnswer(f"{key} page: more must be true or false, not {type(more).__name__}")
    if next_cursor is None and (more or results):
        raise BadAnswer(f"{key} page without a next cursor")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise BadAnswer(f"{key} page: next must be a string cursor, not {type(next_cursor).__name__}")
    if next_cursor is not None and not _CURSOR.fullmatch(next_cursor):
        raise BadAnswer(f"{key} page: next must be 1 to {MAX_CURSOR_CHARS} printable ASCII characters")
    return results, next_cursor, more


def _error_code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("error")
    except (ValueError, AttributeError):
        return None


def _describe(response: httpx.Response) -> str:
    """`HTTP 401 bad_signature: X-Signature does not match the request` (the receiver's own words)."""
    try:
        body = response.json()
        detail = f" {body.get('error')}: {body.get('message')}"
    except (ValueError, AttributeError):
        detail = f" {response.text[:200]!r}" if response.text else ""
    return f"HTTP {response.status_code}{detail}"


def _retry_after(response: httpx.Response, *, now: float) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), None if absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None
