"""`TokenTable`: key rotation's rows (jobs/common/key_rotation.py `TokenRows`) in one table of a SQLite or PostgreSQL
database, by SQLAlchemy Core.

The table and its columns are the caller's (a rotation names them), so the two statements are built from quoted
identifiers rather than kept as files: a keyset read (`key > :after ORDER BY key LIMIT :n`) and a compare-and-set
update per changed row (`... WHERE key = :key AND column IS NOT DISTINCT FROM :as_read`), one transaction per batch.
The wiring into the ledger (docs/security.md) goes through a `Ledger` method that hands its engine to this class, so no
caller outside connectors/ledger touches the ledger's engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from connectors.dburl import engine_for


class TokenTable:
    def __init__(self, engine_or_url: sa.Engine | str, table: str, *, key: Sequence[str], columns: Sequence[str]) -> None:
        self.engine = engine_or_url if isinstance(engine_or_url, sa.Engine) else engine_for(engine_or_url)
        self._owned = not isinstance(engine_or_url, sa.Engine)
        self.key = tuple(key)
        self.columns = tuple(c for c in columns if c not in self.key)
        self.table = sa.table(table, *(sa.column(c) for c in (*self.key, *self.columns)))
        self.binary: tuple[str, ...] = ()  # the columns of bytes (reflected): their tokens are ASCII bytes

    @classmethod
    def reflected(cls, url: str, table: str, *, columns: Sequence[str]) -> TokenTable:
        """The table `table` at `url` with its primary key read from the database; ValueError naming what is missing."""
        engine = engine_for(url)
        try:
            inspector = sa.inspect(engine)
            if not inspector.has_table(table):
                raise ValueError(f"no table {table!r}")
            have = {c["name"] for c in inspector.get_columns(table)}
            key = tuple(inspector.get_pk_constraint(table).get("constrained_columns") or ())
        except Exception:
            engine.dispose()
            raise
        missing = [c for c in columns if c not in have]
        if missing or not key:
            engine.dispose()
            raise ValueError(f"table {table!r}: " + (f"no column {', '.join(missing)}" if missing else "no primary key to go through it by"))
        rows = cls(engine, table, key=key, columns=columns)
        rows._owned = True
        rows.binary = tuple(c["name"] for c in inspector.get_columns(table) if c["name"] in columns and isinstance(c["type"], sa.LargeBinary))
        return rows

    def dispose(self) -> None:
        if self._owned:
            self.engine.dispose()

    def _key_expr(self):
        cols = [self.table.c[k] for k in self.key]
        return cols[0] if len(cols) == 1 else sa.tuple_(*cols)

    def read_batch(self, after: tuple | None, limit: int) -> list[dict]:
        query = sa.select(self.table).order_by(*(self.table.c[k] for k in self.key)).limit(limit)
        if after is not None:
            query = query.where(self._key_expr() > (after[0] if len(self.key) == 1 else sa.tuple_(*after)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def write_batch(self, changes: Sequence[tuple[dict, dict]]) -> int:
        written = 0
        with self.engine.begin() as conn:
            for old, new in changes:
                where = [self.table.c[k] == old[k] for k in self.key]
                where += [self.table.c[c].is_not_distinct_from(old[c]) for c in new]
                written += conn.execute(sa.update(self.table).where(*where).values(new)).rowcount
        return written
