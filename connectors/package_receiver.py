"""Pushing remote-collection packages (异地代收) to the property's registration authority and
reading back the statuses it records: the county registration system of the property's
county (connection `county_system_<XZQH>`, as for the utility work orders) or the
cross-province channel (跨省通办, connection `cross_province`).

Protocol: docs/protocol/packages.md, the same signed HTTP protocol as the work orders
(connectors/http_receiver.py: HMAC, retries with backoff, Retry-After, "pending" when unsure)
with three endpoints of its own:

- `PUT /v1/files/{sha256}` — each electronic file once, content-addressed: a retry or a file
  shared by two packages is answered "already held". The gateway uploads a package's files
  before the package, so the authority never holds a package whose files it lacks.
- `POST /v1/packages:batch` — the package versions; idempotency key `{BWID}:{change_seq}`
  (one per package version: a corrected version is a new key, flagged `correction`).
  0104 (a file not uploaded) is "send again" (pending), not a refusal of the package.
- `POST /v1/packages:withdraw` — versions the authority holds that are withdrawn.
- `GET /v1/package-events` — the authority's statuses, a cursor feed like the results feed.

`PackageReceiver` is a `PackageChannel` (connectors/delivery.py): `deliver` sends packages,
`cancel` withdraws them, `feed_pages` reads the status events, `upload` puts a file. It is opened
by `connectors.channels.channel_for(destination, packages=True)`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping

from connectors.delivery import FeedPage, ItemOutcome
from connectors.signed_http import MAX_RESULTS_LIMIT, BadAnswer, ReceiverError, SignedHttpClient, protocol_text

PACKAGES_PATH = "/v1/packages:batch"
FILES_PATH = "/v1/files/{sha256}"
EVENTS_PATH = "/v1/package-events"
WITHDRAW_PATH = "/v1/packages:withdraw"
MAX_PACKAGES = 100  # the protocol's limit per request (packages are bigger than work orders)
RESEND_CODES = frozenset({"0104"})  # a file was not there: upload and send again
PACKAGE_FIELDS = ("BWID", "SQBH", "SJDWDM", "SJDWMC", "SJXZQH", "SJSJ", "SJRY", "YWLX", "BDCDYH", "BDCQZH", "ZL", "XZQH")
APPLICANT_FIELDS = ("SQRXM", "ZJZL", "ZJHM", "SQRLB", "HYDDM", "HYXZQH", "SFZDQ", "HTJC", "ZWCJ", "DZQM", "WXJLBH", "HYSJ")
NATIONAL_ID_FIELD = "ZJZLDM"  # cross-province packages only: the national document code (GA/T 2000.156), null when none maps
_SAFE_BWID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def package_key(bwid: str, change_seq: int) -> str:
    """`{BWID}:{change_seq}` — one per package version, stable across runs and retries (a BWID with
    characters outside [A-Za-z0-9._-] becomes `h` + 32 hex digits of its SHA-256)."""
    base = bwid if _SAFE_BWID.fullmatch(bwid) else "h" + hashlib.sha256(bwid.encode("utf-8")).hexdigest()[:32]
    return f"{base}:{int(change_seq)}"


def make_package_item(*, bwid: str, change_seq: int, correction: bool, package: Mapping[str, object], applicants: list[Mapping[str, object]],
                      materials: list[Mapping[str, object]], cross_province: bool = False) -> dict:
    """One protocol item. `materials`: CLBM, CLMC, YS, SFZZYJ, sha256, size (the file as uploaded).
    `cross_province`: the item leaves the province, so each applicant also carries `ZJZLDM`."""
    applicant_fields = APPLICANT_FIELDS + ((NATIONAL_ID_FIELD,) if cross_province else ())
    for i, material in enumerate(materials):
        if not isinstance(material.get("sha256"), str) or not _SHA256.fullmatch(material["sha256"]):
            raise ValueError(f"package {bwid}: materials[{i}] has no SHA-256 of an uploaded file")
    return {
        "idempotency_key": package_key(bwid, change_seq),
        "bwid": bwid,
        "change_seq": int(change_seq),
        "correction": bool(correction),
        "package": {name: protocol_text(package.get(name)) for name in PACKAGE_FIELDS},
        "applicants": [{name: protocol_text(a.get(name)) for name in applicant_fields} for a in applicants],
        "materials": [{"CLBM": protocol_text(m.get("CLBM")), "CLMC": protocol_text(m.get("CLMC")), "YS": protocol_text(m.get("YS")), "SFZZYJ": protocol_text(m.get("SFZZYJ")),
                       "sha256": m["sha256"], "size": int(m["size"])} for m in materials],
    }


class FileRefused(ReceiverError):
    """The receiver refuses this file itself (400 hash_mismatch, 413 too large): retrying cannot help;
    the packages that need it go back to their hall rather than holding up the others."""


class PackageReceiver(SignedHttpClient):
    """A property authority's endpoint for packages (a county registration system or the cross-province channel)."""

    def __init__(self, base_url: str, key_id: str, secret: str, **kw) -> None:
        kw["batch_size"] = min(int(kw.get("batch_size", 50)), MAX_PACKAGES)
        super().__init__(base_url, key_id, secret, **kw)

    def upload(self, sha256: str, content: bytes) -> bool:
        """Put one file; True if the receiver stored it now, False if it held it already.
        FileRefused when the receiver refuses the file (400, 413), ReceiverError when it could not be
        put (after retries: try again next run), ValueError if `content` is not `sha256`."""
        if hashlib.sha256(content).hexdigest() != sha256:
            raise ValueError(f"file content does not hash to {sha256}")
        value, _, failure = self._exchange("PUT", FILES_PATH.format(sha256=sha256), content, read=_read_upload,
                                           content_type="application/octet-stream")
        if failure is not None:
            kind = FileRefused if failure.reason.startswith(("HTTP 400", "HTTP 413")) else ReceiverError
            raise kind(f"{self.base_url}: file {sha256[:12]}…: {failure.reason}")
        return bool(value)

    def deliver(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """Send package versions (items as `make_package_item` builds them): one outcome per item, in order,
        as `HttpReceiver.deliver`; 0104 comes back `pending` (upload, then send again)."""
        for i, item in enumerate(items):
            check_package_item(i, item)
        outcomes = self._deliver_items(items, batch_id=batch_id, path=PACKAGES_PATH)
        return [ItemOutcome(o.idempotency_key, "pending", None, o.code, f"send again: {o.reason}", o.attempts, o.batch_id)
                if o.status == "rejected" and o.code in RESEND_CODES else o for o in outcomes]

    def cancel(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """Tell the authority these package versions are withdrawn. Items: idempotency_key, bwid, change_seq,
        reason. `delivered`: withdrawn (0000) or already (0201); `rejected`: 0404 not held, 0409 too late (已登簿)."""
        for i, item in enumerate(items):
            check_withdrawal_item(i, item)
        return self._deliver_items(items, batch_id=batch_id, path=WITHDRAW_PATH)

    def events(self, after: str | None, *, limit: int = MAX_RESULTS_LIMIT, max_pages: int = 50) -> tuple[list, str | None]:
        """(events, cursor): the statuses after the cursor, as received (see `HttpReceiver.results`)."""
        return self._feed(EVENTS_PATH, "events", after, limit=limit, max_pages=max_pages)

    def feed_pages(self, after: str | None, *, limit: int = MAX_RESULTS_LIMIT, max_pages: int = 50) -> Iterator[FeedPage]:
        """The status feed page by page (`FeedPage`), as `HttpReceiver.feed_pages`."""
        return self._pages(EVENTS_PATH, "events", after, limit=limit, max_pages=max_pages)


def check_package_item(i: int, item: dict) -> None:
    """A package item that breaks the protocol is the gateway's bug: fail loudly before sending anything."""
    if not isinstance(item, dict) or not isinstance(item.get("idempotency_key"), str) or "package" not in item:
        raise ValueError(f"items[{i}] is not a package item (build it with make_package_item)")


def check_withdrawal_item(i: int, item: dict) -> None:
    if not isinstance(item, dict) or set(item) != {"idempotency_key", "bwid", "change_seq", "reason"}:
        raise ValueError(f"items[{i}] must have exactly idempotency_key, bwid, change_seq, reason")


def _read_upload(response) -> bool:
    try:
        body = response.json()
        return bool(body["stored"])
    except (ValueError, KeyError, TypeError):
        raise BadAnswer("file upload answered 200 without 'stored'") from None

