"""Signed answers (protocol 1.5, docs/protocol/receivers.md "Signed answers"): every answer a
receiver gives to a signed request carries its own HMAC-SHA256 signature, bound to that request.

    canonical = "answer" \\n X-Receiver-Timestamp \\n X-Nonce (the request's) \\n STATUS \\n METHOD \\n path
                \\n after (the feed cursor asked for, "" when none) \\n hex SHA-256(body as received)

signed with the receiver's **answer key** (the connection's extra `answer_secret`, else its
secret), sent back as `X-Receiver-Timestamp` (unix seconds) and `X-Receiver-Signature` (hex).
The gateway sends a fresh random `X-Nonce` with every request, so an answer recorded earlier —
to another request, for another cursor, path or status — never verifies again; an answer whose
timestamp is more than ANSWER_WINDOW_S from the gateway's clock is refused as stale.

Pure: no I/O. `check_answer` gives the reason an answer is refused, or None; `answer_headers` is
what a receiver (or a test server) adds to its answer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

ANSWER_WINDOW_S = 300
TIMESTAMP_HEADER = "X-Receiver-Timestamp"
SIGNATURE_HEADER = "X-Receiver-Signature"
NONCE_HEADER = "X-Nonce"
_STAMP = re.compile(r"\d{1,12}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def answer_canonical(*, timestamp: str, nonce: str, status: int, method: str, path: str, after: str, body: bytes) -> str:
    return "\n".join(("answer", timestamp, nonce, str(int(status)), method.upper(), path, after, hashlib.sha256(body).hexdigest()))


def answer_signature(secret: str, *, timestamp: str, nonce: str, status: int, method: str, path: str, after: str, body: bytes) -> str:
    canonical = answer_canonical(timestamp=timestamp, nonce=nonce, status=status, method=method, path=path, after=after, body=body)
    return hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def answer_headers(secret: str, *, nonce: str, status: int, method: str, path: str, after: str, body: bytes, timestamp: float) -> dict[str, str]:
    """The two headers a receiver adds to its answer to the request (`nonce`, `method`, `path`, `after`)."""
    stamp = str(int(timestamp))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: answer_signature(secret, timestamp=stamp, nonce=nonce, status=status, method=method,
                                                                        path=path, after=after, body=body)}


def check_answer(secret: str, headers: Mapping[str, str], *, nonce: str, status: int, method: str, path: str, after: str, body: bytes,
                 now: float, window_s: float = ANSWER_WINDOW_S) -> str | None:
    """Why this answer is refused (unsigned, malformed, stale, signature does not match), or None when it verifies."""
    stamp, given = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
    if not stamp or not given:
        return f"answer not signed (no {TIMESTAMP_HEADER} / {SIGNATURE_HEADER}): refused"
    if not _STAMP.fullmatch(stamp) or not _HEX64.fullmatch(given):
        return f"answer signature headers malformed ({TIMESTAMP_HEADER} whole unix seconds, {SIGNATURE_HEADER} 64 hex digits): refused"
    skew = now - int(stamp)
    if abs(skew) > window_s:
        return f"answer signed {skew:+.0f} s from the gateway's clock (allowed ±{window_s:g} s): stale or replayed, refused"
    expected = answer_signature(secret, timestamp=stamp, nonce=nonce, status=status, method=method, path=path, after=after, body=body)
    if not hmac.compare_digest(expected, given.lower()):
        return "answer signature does not match (another key, another request or cursor, or the body was altered): refused"
    return None
