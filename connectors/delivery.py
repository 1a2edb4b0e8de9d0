"""What every delivery channel does, and the one place channels are opened.

Two shapes of delivery, because the other side works in two ways:

- `Channel` — a receiver spoken to over the signed HTTP protocol (docs/protocol/receivers.md,
  docs/protocol/packages.md): a county system and the grid for work orders
  (connectors/http_receiver.py `HttpReceiver`), a county registration system and the
  cross-province channel for packages (connectors/package_receiver.py `PackageReceiver`, a
  `PackageChannel`: it also takes files). It takes a batch of *items*, each with an idempotency
  key, and answers item by item (`ItemOutcome`); it takes back what it holds that is no longer
  wanted (cancel / withdraw), with the same answers; and it publishes what happened next as a
  *cursor feed* (`FeedPage`s of results or status events).
- `Drop` — account mode's SFTP drop (connectors/sftp_drop.py `SftpDrops`). There are no items
  and no answers: the gateway publishes *batches of files* into an institution's outbox and
  only learns that each batch is there (`JobResult`); what comes back is *files* the
  institution uploads into its inbox, which the gateway lists, reads, moves aside and answers
  with receipts. No cursor, no key per item: one protocol for both would have half its methods
  meaningless for each side, so there are two small ones.

Both are closed after use (`close`). connectors/channels.py opens them from Airflow Connections
(`channel_for`, `Channels`); connectors/testing.py has fakes of both that follow the same
documents. This module names the shapes and imports none of the implementations, so they can
all import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Airflow Connection ids of the channels; secrets live only in the Connections.
SFTP_CONN_ID = "gateway_sftp"  # the drop host: every account-mode institution's drop on it
GRID_CONN_ID = "grid_marketing"  # State Grid Shandong's marketing system (electricity, 总对总)
GRID_DESTINATION = "grid"  # the grid as the work orders name their destination
COUNTY_CONN_PREFIX = "county_system_"  # + XZQH; when absent, county_system_default with "{xzqh}" in its base_path
COUNTY_DEFAULT_CONN_ID = "county_system_default"
CROSS_PROVINCE_CONN_ID = "cross_province"  # 跨省通办: packages whose property lies outside Shandong


@dataclass(frozen=True)
class ItemOutcome:
    """A receiver's answer to one item, as the gateway records it."""

    idempotency_key: str
    status: str  # "delivered" (accepted or duplicate) | "rejected" (permanent) | "pending" (retry next run)
    receipt_id: str | None
    code: str | None  # the receiver's code: 0000, 0201, 0002, 0101, 0301; None when not answered
    reason: str | None
    attempts: int  # HTTP attempts spent on this item's batch (0: not attempted)
    batch_id: str | None = None  # the batch_id sent (None: not attempted)


@dataclass(frozen=True)
class FeedPage:
    """One page of a feed as read: `after` the cursor it was read from (None: the start), `entries`
    exactly as received, `next` the cursor after it (store it once the entries are recorded)."""

    after: str | None
    entries: list
    next: str | None
    more: bool
    number: int


@runtime_checkable
class Channel(Protocol):
    """A receiver that takes keyed items and publishes a feed of what became of them."""

    def deliver(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """One outcome per item, in order: `delivered` (accepted, or a duplicate of a key already
        held: the original receipt), `rejected` (final for this key) or `pending` (send again)."""
        ...

    def cancel(self, items: list[dict], *, batch_id: str | None = None) -> list[ItemOutcome]:
        """Take back keys the receiver holds (work orders cancelled, packages withdrawn): same answers."""
        ...

    def feed_pages(self, after: str | None) -> Iterator[FeedPage]:
        """The feed (handling results, package events) from the cursor `after` (None: the start),
        page by page; raises connectors.signed_http.FeedPageError at a page it cannot read."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PackageChannel(Channel, Protocol):
    """A package receiver: files first, content-addressed, then the packages that cite them."""

    def upload(self, sha256: str, content: bytes) -> bool:
        """True if the receiver stored the file now, False if it held it already."""
        ...


@runtime_checkable
class Drop(Protocol):
    """Account mode's file drops: batches into each institution's outbox, result files from its inbox."""

    def publish_all(self, jobs: Iterable, *, on_result: Callable | None = None) -> list:
        """Publish each `sftp_drop.DropJob` atomically (or find it already there, verified); one
        `sftp_drop.JobResult` per job, each also given to `on_result` as soon as it is known."""
        ...

    def list_outbox(self, drop: str) -> list[str]:
        """The batch directories in the institution's outbox (what it has not taken away yet)."""
        ...

    def list_inbox(self, drop: str) -> list:
        """The regular files in the institution's inbox (`sftp_drop.InboxEntry`, raw names)."""
        ...

    def fetch(self, drop: str, name: bytes | str, *, max_bytes: int | None = None) -> bytes: ...

    def archive(self, drop: str, name: bytes | str, folder: str, *, as_name: str | None = None) -> str:
        """Move an inbox file out of the institution's view; returns where it went."""
        ...

    def write_receipt(self, drop: str, name: str, data: bytes) -> bool:
        """Leave a note in the institution's inbox/receipts, once: False when it is already there."""
        ...

    def close(self) -> None: ...
