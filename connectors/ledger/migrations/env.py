"""Alembic environment for the gateway ledger: always run through `Ledger.migrate()`, which
passes an open connection in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context

from connectors.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
