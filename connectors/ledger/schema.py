"""The gateway ledger's schema base (SQLAlchemy Core): one `metadata` with its naming convention,
and the id type. The tables are per line — schema_common.py, schema_cohandling.py,
schema_registry.py, schema_remote.py — and all of them are on `metadata` once the package
`connectors.ledger` is imported (its stores import them). Migrations in `migrations/` create them;
a test holds migrations equal to these tables on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# An auto-increment id that is BIGINT on PostgreSQL and the rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
