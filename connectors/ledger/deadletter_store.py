"""Dead letters in the ledger (part of `Ledger`): every unit that could not enter its stage.

A unit is the smallest thing a surface takes in — an exchange row, a form, a result file, a
feed entry, a package event. When it cannot be admitted it is kept here as received (its
bytes, up to `DEAD_LETTER_PAYLOAD_MAX`, with the whole size and SHA-256), where it came from,
one rule id and a reason naming file / row / column, and who is told (`owner`). The stage
then goes on with the next unit.

`(surface, unit_key)` is unique: the same bad unit met again (a file still in the inbox, a
feed page read again) is the same row, its `seen_count` raised — never a second entry, and
never retried for ever (the surface decides, by the key, not to try it again). A corrected
unit that later enters resolves its dead letter (`resolve_dead_letters`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from connectors.ledger.schema_common import dead_letter
from connectors.ledger.statements import statement

DEAD_LETTER_PAYLOAD_MAX = 1 << 20  # 1 MiB of a unit is kept; a larger one keeps its size and hash
_KEY_MAX = 250  # the unit_key column; longer keys are hashed


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def unit_key(*parts: object) -> str:
    """A stable key from its parts; one longer than the column is shortened with its SHA-256."""
    key = ":".join("" if p is None else str(p) for p in parts)
    if len(key) <= _KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
    return f"{key[:_KEY_MAX - 66]}…#{digest}"


class DeadLetterStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine
    seal_bytes: Callable[..., list]  # connectors/ledger/personal.py
    unseal_bytes: Callable[..., bytes | None]

    def dead_letter(
        self,
        *,
        surface: str,
        unit_key: str,
        origin: str,
        rule_id: str,
        reason: str,
        location: str | None = None,
        payload: bytes | str | None = None,
        owner: str | None = None,
        run_id: str | None = None,
        conn: sa.Connection | None = None,
    ) -> bool:
        """Keep one bad unit; True when it is new, False when it was already held (seen again)."""
        if conn is None:
            with self.engine.begin() as own:
                return self.dead_letter(
                    surface=surface, unit_key=unit_key, origin=origin, rule_id=rule_id, reason=reason,
                    location=location, payload=payload, owner=owner, run_id=run_id, conn=own,
                )
        key = _clip_key(unit_key)
        now = _now()
        held = conn.execute(statement("select_dead_letter_id"), {"surface": surface, "unit_key": key}).scalar()
        if held is None:  # kept once, even when two runs meet the same unit at the same moment (insert … on conflict do nothing)
            data = payload.encode("utf-8", errors="surrogatepass") if isinstance(payload, str) else payload
            kept = conn.execute(statement("insert_dead_letter"), {
                "surface": surface, "unit_key": key, "origin": origin, "location": location,
                "rule_id": rule_id[:40], "reason": reason, "owner": owner, "run_id": run_id,
                "payload": None if data is None else self.seal_bytes([bytes(data[:DEAD_LETTER_PAYLOAD_MAX])], "dead_letter", "payload")[0],
                "payload_size": None if data is None else len(data),
                "payload_sha256": None if data is None else hashlib.sha256(data).hexdigest(),
                "first_seen_at": now, "last_seen_at": now,
            }).rowcount
            if kept:
                return True
            held = conn.execute(statement("select_dead_letter_id"), {"surface": surface, "unit_key": key}).scalar_one()
        conn.execute(statement("update_dead_letter_seen"), {"dl_id": held, "now": now})
        return False

    def is_dead_lettered(self, surface: str, unit_key: str) -> bool:
        """Whether this unit is already held (open or resolved): a surface does not try it again."""
        with self.engine.connect() as conn:
            return conn.execute(statement("count_dead_letters_of_unit"), {"surface": surface, "unit_key": _clip_key(unit_key)}).scalar_one() > 0

    def resolve_dead_letters(self, surface: str, unit_keys: list[str], *, resolution: str, conn: sa.Connection | None = None) -> int:
        """Mark open dead letters resolved (a corrected unit entered, or an operator decided); returns how many."""
        if not unit_keys:
            return 0
        if conn is None:
            with self.engine.begin() as own:
                return self.resolve_dead_letters(surface, unit_keys, resolution=resolution, conn=own)
        keys = [_clip_key(k) for k in unit_keys]
        done = 0
        for start in range(0, len(keys), 500):
            done += conn.execute(statement("update_dead_letters_resolved", expanding=("keys",)),
                                 {"surface": surface, "keys": keys[start:start + 500], "now": _now(), "resolution": resolution}).rowcount
        return done

    def dead_letters(self, surface: str | None = None, *, status: str | None = "open"):
        """Dead letters as a DataFrame (without payloads), newest first."""
        import pandas as pd

        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_dead_letters"), {"surface": surface, "status": status}).mappings().all()
        return pd.DataFrame(rows, columns=[c.name for c in dead_letter.c if c.name != "payload"])

    def dead_letter_payload(self, dl_id: int) -> bytes | None:
        with self.engine.connect() as conn:
            sealed = conn.execute(statement("select_dead_letter_payload"), {"dl_id": dl_id}).scalar()
        return self.unseal_bytes(sealed, "dead_letter", "payload")  # only an operator's replay or export opens it

    def dead_letter_counts(self) -> dict[str, dict[str, int]]:
        """{surface: {"open": n, "resolved": n}} over the whole ledger."""
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for surface, status, n in conn.execute(statement("select_dead_letter_counts")):
                out.setdefault(surface, {"open": 0, "resolved": 0})[status] = int(n)
        return out


def _clip_key(key: str) -> str:
    return key if len(key) <= _KEY_MAX else unit_key(key)
