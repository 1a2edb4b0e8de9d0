"""The receivers' side of signed answers (protocol 1.5, docs/protocol/receivers.md "Signed
answers"), written from the protocol page on its own (not shared with the gateway's check, so
the two are tested against each other): every answer to an authenticated request is signed with
the answer key of the request's key id, over the request's nonce, status, method, path, feed
cursor and body.

`Faults.answers` makes the simulator misbehave for tests: "unsigned" (no headers), "forged"
(signed with a key the gateway does not hold), "stale" (timestamp 10 minutes old).
"""

from __future__ import annotations

import hashlib
import hmac
import time

ANSWER_MODES = ("signed", "unsigned", "forged", "stale")
STALE_BY_S = 600


def sign_answer(response, request, *, secret: str | None, mode: str = "signed", now: float | None = None):
    """`response` (a Starlette Response with its body) with X-Receiver-Timestamp / X-Receiver-Signature for `request`."""
    if secret is None or mode == "unsigned":
        return response
    stamp = str(int((time.time() if now is None else now) - (STALE_BY_S if mode == "stale" else 0)))
    raw_path = request.scope["raw_path"].decode("latin-1").split("?", 1)[0]
    canonical = "\n".join(("answer", stamp, request.headers.get("x-nonce", ""), str(response.status_code), request.method.upper(), raw_path,
                           request.query_params.get("after", ""), hashlib.sha256(response.body).hexdigest()))
    key = ("forged:" + secret) if mode == "forged" else secret
    response.headers["X-Receiver-Timestamp"] = stamp
    response.headers["X-Receiver-Signature"] = hmac.new(key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    return response
