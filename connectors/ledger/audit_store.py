"""The audit log (part of `Ledger`): append-only in the database, and a hash chain over it
(transforms/common/audit_chain.py) so that a change made around the database's refusal — an UPDATE,
DELETE or swap by someone who can disable the triggers — is found by `audit verify`.

Every entry is appended by `_audit`, inside the caller's transaction. The chain needs one order
though several Airflow workers write at once: the append first moves the one row of
`audit_chain_head` (seq + 1, RETURNING the new seq and the hash still there), which holds that
row's lock on PostgreSQL (the database's write lock on SQLite) until the transaction ends; it links
the entry to that hash with SM3, stores seq, prev and hash with the entry, and makes its hash the head's. A transaction that rolls back gives its place
back with everything else, so the chain has no gaps. The lock is held from the append to the
commit: callers append their audit entry last in a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from connectors.ledger.statements import statement


class AuditStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine

    def audit(self, *, run_id: str | None, actor: str, action: str, object_type: str | None = None, object_id: object = None,
              detail: dict | None = None) -> None:
        """Append one entry in its own transaction."""
        with self.engine.begin() as conn:
            self._audit(conn, run_id, actor, action, object_type, object_id, detail)

    @staticmethod
    def _audit(conn: sa.Connection, run_id, actor, action, object_type, object_id, detail) -> None:
        from transforms.common.audit_chain import link

        now = datetime.now(UTC).replace(tzinfo=None)
        # the lock, taken before anything is read and held to commit; the head's hash is still the previous entry's
        seq, prev = conn.execute(statement("update_audit_chain_head_seq"), {"updated_at": now}).one()
        entry = {
            "at": now, "run_id": run_id, "actor": actor, "action": action, "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail is not None else None,
            "seq": int(seq),
        }
        entry["hash"] = link(prev, entry)
        conn.execute(statement("insert_audit"), entry | {"prev": prev})
        conn.execute(statement("update_audit_chain_head_hash"), {"hash": entry["hash"]})

    def audit_trail(self, run_id: str | None = None) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_audit_trail"), {"run_id": run_id}).mappings()]

    @contextmanager
    def audit_chain(self) -> Iterator[tuple[Iterator[dict], tuple[int, str] | None]]:
        """(every audit entry in chain order — audit_id, seq, prev, hash and the hashed fields —, streamed; the chain head
        (seq, hash) as the ledger records it). The head is read first: entries appended meanwhile only follow it."""
        with self.engine.connect() as conn:
            head = conn.execute(statement("select_audit_chain_head")).first()
            conn.commit()
            rows = conn.execution_options(stream_results=True, yield_per=5000).execute(statement("select_audit_chain")).mappings()
            yield (dict(r) for r in rows), (int(head[0]), head[1]) if head else None

    def audit_seq_of(self, hash_: str) -> int | None:
        """The place of the audit entry whose hash is `hash_`, or None."""
        with self.engine.connect() as conn:
            seq = conn.execute(statement("select_audit_seq_of_hash"), {"hash": hash_}).scalar()
        return None if seq is None else int(seq)
