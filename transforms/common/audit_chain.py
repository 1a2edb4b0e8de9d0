"""The audit log's hash chain (GB/T 39786-2021: SM3): canonical form of an entry, the link, and the check.

Every audit entry has a position `seq` (1, 2, 3, … without gaps) and is chained to the one before:

    hash(seq) = SM3( bytes.fromhex(hash(seq - 1)) || canonical(entry) )     hash(0) = 64 zeros (genesis)

stored as 64 lower-case hex characters in `prev` (the hash it follows) and `hash`. The canonical form
is the UTF-8 of a JSON object with exactly these keys, sorted, no spaces (separators "," and ":"),
non-ASCII characters as they are (not \\u-escaped), every key present (an empty value is `null`):

    {"action":…,"actor":…,"at":"YYYY-MM-DDTHH:MM:SS.ffffffZ","detail":…,"object_id":…,
     "object_type":…,"run_id":…,"seq":N}

`at` is the entry's UTC time to the microsecond; `detail` is the stored JSON text itself, as a string
(not re-serialised: the bytes the ledger holds are what is hashed); `seq` is an integer. The database
id (`audit_id`) is not hashed — it is only required to rise with `seq` (the chain is written under one
lock, so it does) — and a pair that falls is reported as reordered.

`check_chain` walks the entries in `seq` order and names the first one that breaks the chain and how
(`Break.kind`): removed (a gap in seq), altered (its hash is not SM3 over what it says), reordered (it
follows another entry than the one before it, or its id falls), or unlinked. Seals (signed checkpoints
of the chain head, jobs/common/audit_seal.py) are checked against the same entries by `check_seal`.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

GENESIS = "0" * 64
FIELDS: tuple[str, ...] = ("seq", "at", "run_id", "actor", "action", "object_type", "object_id", "detail")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sm3(data: bytes) -> str:
    """SM3 of `data` (GB/T 32905), as 64 lower-case hex characters."""
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def utc_text(at: datetime | str) -> str:
    """A naive-UTC (or aware) time in the canonical form, YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is not None:
        from datetime import UTC

        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime(TIME_FORMAT)


def canonical(entry: Mapping) -> bytes:
    """The bytes an entry's hash covers (module docstring): sorted-key JSON of FIELDS, `null` for an empty value."""
    values = {name: entry.get(name) for name in FIELDS}
    values["seq"] = int(values["seq"])
    values["at"] = utc_text(values["at"])
    for name in ("run_id", "actor", "action", "object_type", "object_id", "detail"):
        if values[name] is not None:
            values[name] = str(values[name])
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def link(prev: str, entry: Mapping) -> str:
    """The hash of `entry` following the hash `prev`: SM3(prev bytes || canonical(entry))."""
    return sm3(bytes.fromhex(prev) + canonical(entry))


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold."""

    kind: str  # removed | altered | reordered | unlinked | truncated
    seq: int | None
    audit_id: int | None
    action: str | None
    at: datetime | str | None
    reason: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "seq": self.seq, "audit_id": self.audit_id, "action": self.action,
                "at": None if self.at is None else str(self.at), "reason": self.reason}


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    head_seq: int
    head_hash: str
    broken: Break | None
    hashes: dict = field(default_factory=dict, repr=False)  # seq -> hash of the entries that hold

    @property
    def ok(self) -> bool:
        return self.broken is None


def _break(kind: str, row: Mapping, reason: str) -> Break:
    return Break(kind, row.get("seq"), row.get("audit_id"), row.get("action"), row.get("at"), reason)


def check_chain(rows: Iterable[Mapping], *, head: tuple[int, str] | None = None, locate: Callable[[str], int | None] | None = None,
                keep: Collection[int] | None = None) -> ChainCheck:
    """Recompute the chain over `rows` (audit entries with audit_id, seq, prev, hash and FIELDS, in seq order; read once,
    as they come) and name the first entry that breaks it. `head` (seq, hash), the ledger's own record of the chain head
    read before the rows, must be among them (else the tail was removed). `locate(hash)`: the seq of the entry with that
    hash, if any (asked only at a break, to tell an entry that follows another one from one that follows a removed one).

    `ChainCheck.hashes`: the hash by seq of the entries that hold, those in `keep` (None: all) — for the seals."""
    expected_prev, last_seq, last_id, hashes, count, at_head = GENESIS, 0, None, {}, 0, None

    def stop(kind: str, row: Mapping, reason: str) -> ChainCheck:
        return ChainCheck(count, last_seq, expected_prev, hashes=hashes, broken=_break(kind, row, reason))

    for row in rows:
        count += 1
        seq = row.get("seq")
        if seq is None or not row.get("hash") or not row.get("prev"):
            return stop("unlinked", row, "the entry has no place in the chain (seq, prev or hash empty)")
        if seq > last_seq + 1:
            return stop("removed", row, f"seq {last_seq + 1}{'' if seq == last_seq + 2 else f'–{seq - 1}'} missing before this entry")
        if seq != last_seq + 1:
            return stop("reordered", row, f"seq {seq} appears again after seq {last_seq}")
        if last_id is not None and row.get("audit_id") is not None and row["audit_id"] <= last_id:
            return stop("reordered", row, f"audit_id {row['audit_id']} does not rise after audit_id {last_id} (seq {last_seq})")
        if row["prev"] != expected_prev:
            follows = locate(row["prev"]) if locate else None
            if follows is not None:
                return stop("reordered", row, f"it follows seq {follows}, not seq {last_seq}")
            return stop("removed", row, f"it follows an entry no longer in the log, not seq {last_seq}")
        if link(row["prev"], row) != row["hash"]:
            return stop("altered", row, "its content is not what its hash was computed over")
        expected_prev, last_seq, last_id = row["hash"], seq, row.get("audit_id")
        if keep is None or seq in keep:
            hashes[seq] = row["hash"]
        if head is not None and seq == head[0]:
            at_head = row
    if head is not None and head[0] > last_seq:
        gone = {"seq": last_seq + 1, "audit_id": None, "action": None, "at": None}
        return stop("truncated", gone, f"the ledger's chain head is seq {head[0]}: seq {last_seq + 1}–{head[0]} removed from the end")
    if head is not None and at_head is not None and at_head["hash"] != head[1]:
        return stop("altered", at_head, "it is not the entry the ledger's chain head records")
    return ChainCheck(count, last_seq, expected_prev, hashes=hashes, broken=None)


# --- seals -----------------------------------------------------------------------------------------

SEAL_FIELDS: tuple[str, ...] = ("seq", "hash", "sealed_at", "key_id", "algorithm")


def seal_payload(seal: Mapping) -> bytes:
    """The bytes a seal's signature covers: sorted-key JSON of SEAL_FIELDS (sealed_at in the canonical time form)."""
    values = {name: seal.get(name) for name in SEAL_FIELDS}
    values["seq"] = int(values["seq"])
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def check_seal(seal: Mapping, hashes_by_seq: Mapping[int, str], *, last_seq: int) -> str | None:
    """None if the chain — which holds up to `last_seq`, with `hashes_by_seq` among them — still has the sealed head
    (entry `seq` with the sealed hash), else what is wrong."""
    seq = int(seal["seq"])
    if seq == 0:
        return None if seal["hash"] == GENESIS else "a seal of the empty chain with a hash"
    if seq > last_seq:
        return f"sealed seq {seq} is gone: the chain ends at seq {last_seq} (truncated after the seal)"
    if seq not in hashes_by_seq:
        return f"sealed seq {seq} was not kept while checking the chain"
    if hashes_by_seq[seq] != seal["hash"]:
        return f"entry seq {seq} is not the one sealed (hash {hashes_by_seq[seq][:12]}…, sealed {seal['hash'][:12]}…): the chain was rewritten"
    return None
