"""Key rotation of encrypted columns, independent of any table (docs/security.md): every token not under the active key
— and every legacy clear value — is (re-)encrypted under it, and every blind index not under the active key recomputed.

The rows come through a small `TokenRows` protocol: read a batch of rows in primary-key order after a key, write a batch
of changes. Each `write_batch` commits on its own, so an interrupted rotation keeps every batch it finished; a re-run
reads from the start and rewrites only what is still not under the active key (resumable by construction, nothing to
remember between runs). A write is a compare-and-set on the values it read: a row changed meanwhile by the gateway is
left as the gateway wrote it (`conflicts`; the gateway writes under the active key, so nothing is lost — a re-run
checks it again).

Implementations: `InMemoryTokenRows` here (tests), connectors/token_table.py `TokenTable` (SQLAlchemy Core, SQLite and
PostgreSQL).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from transforms.common.fieldcrypt import Keyring, blind_index_column, encrypt_column, kind_of, rotate_bytes_column

log = logging.getLogger(__name__)


class TokenRows(Protocol):
    key: tuple[str, ...]  # the primary key's columns

    def read_batch(self, after: tuple | None, limit: int) -> list[dict]:
        """Up to `limit` rows (key columns, token and index columns) with key > `after`, in key order."""

    def write_batch(self, changes: Sequence[tuple[dict, dict]]) -> int:
        """For each (row as read, new values): set the new values where the row still holds what was read; commit.
        The number of rows written."""


@dataclass(frozen=True)
class RotationSpec:
    """What to rotate in one table: its token columns, its blind index columns with (source token column, kind), and its
    byte columns holding tokens (dead_letter.payload, received_original.original: connectors/ledger/personal.py)."""

    table: str
    tokens: tuple[str, ...]
    indexes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    byte_tokens: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [src for src, _ in self.indexes.values() if src not in self.tokens]
        if missing:
            raise ValueError(f"{self.table}: blind index sources {missing} are not among the token columns {list(self.tokens)}")


@dataclass
class RotationReport:
    table: str
    key_id: str
    scanned: int = 0
    rewritten: int = 0
    conflicts: int = 0
    batches: int = 0
    last_key: tuple | None = None

    def line(self) -> str:
        return (f"{self.table}: {self.scanned} rows read, {self.rewritten} rewritten under {self.key_id}, "
                f"{self.conflicts} changed meanwhile (left as written), {self.batches} batches")


def plan_batch(rows: Sequence[dict], keyring: Keyring, spec: RotationSpec) -> list[tuple[dict, dict]]:
    """The changes that bring `rows` under the active key: (row, {column: new value}) for rows that need any."""
    new: dict[str, list] = {}
    for column in spec.tokens:
        before = [r[column] for r in rows]
        new[column] = encrypt_column(before, keyring, table=spec.table, column=column)
    for column in spec.byte_tokens:
        new[column] = rotate_bytes_column([r[column] for r in rows], keyring, table=spec.table, column=column)
    prefix = keyring.active + ":"
    for column, (source, kind) in spec.indexes.items():
        values = [r[source] for r in rows]
        stale = [i for i, (r, v) in enumerate(zip(rows, values, strict=True))
                 if (r[column] is not None if kind_of(v) in ("null", "empty", "purged") else not str(r[column] or "").startswith(prefix))]
        fresh = blind_index_column([values[i] for i in stale], keyring, kind=kind, column=source, table=spec.table)
        after = [r[column] for r in rows]
        for i, value in zip(stale, fresh, strict=True):
            after[i] = value
        new[column] = after
    changes = []
    for i, row in enumerate(rows):
        diff = {c: values[i] for c, values in new.items() if values[i] != (bytes(row[c]) if isinstance(row[c], memoryview) else row[c])}
        if diff:
            changes.append((row, diff))
    return changes


def rotate(rows: TokenRows, keyring: Keyring, spec: RotationSpec, *, batch: int = 1000,
           progress: Callable[[RotationReport], None] | None = None) -> RotationReport:
    """Bring every row of `rows` under the active key, `batch` rows at a time, each batch committed; the report."""
    if batch < 1:
        raise ValueError("batch: at least 1 row")
    report = RotationReport(spec.table, keyring.active)
    after = None
    while True:
        chunk = rows.read_batch(after, batch)
        if not chunk:
            break
        changes = plan_batch(chunk, keyring, spec)
        written = rows.write_batch(changes) if changes else 0
        after = tuple(chunk[-1][k] for k in rows.key)
        report.scanned += len(chunk)
        report.rewritten += written
        report.conflicts += len(changes) - written
        report.batches += 1
        report.last_key = after
        log.info("key rotation %s", report.line())
        if progress is not None:
            progress(report)
        if len(chunk) < batch:
            break
    return report


class InMemoryTokenRows:
    """`TokenRows` over a list of dicts (tests); `fail_on_write` raises on that write call (1-based), as a crash would."""

    def __init__(self, rows: list[dict], key: tuple[str, ...] = ("id",), *, fail_on_write: int | None = None) -> None:
        self.rows, self.key, self.fail_on_write, self.writes = rows, key, fail_on_write, 0

    def _key(self, row: dict) -> tuple:
        return tuple(row[k] for k in self.key)

    def read_batch(self, after: tuple | None, limit: int) -> list[dict]:
        ordered = sorted(self.rows, key=self._key)
        return [dict(r) for r in ordered if after is None or self._key(r) > after][:limit]

    def write_batch(self, changes: Sequence[tuple[dict, dict]]) -> int:
        self.writes += 1
        if self.fail_on_write == self.writes:
            raise ConnectionError("interrupted")
        by_key = {self._key(r): r for r in self.rows}
        written = 0
        for old, new in changes:
            row = by_key.get(self._key(old))
            if row is not None and all(row[c] == old[c] for c in new):
                row.update(new)
                written += 1
        return written
