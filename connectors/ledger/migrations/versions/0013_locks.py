"""Concurrent runs: stage-lock leases (SQLite; PostgreSQL uses session advisory locks) and each
product line's clock, which never goes back (connectors/ledger/lock_store.py).

Revision ID: 0013_locks
Revises: 0012_state
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_locks"
down_revision = "0012_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_lock",
        sa.Column("name", sa.String(200), nullable=False, comment="the stage lock: extract:<source>, cohandling.route, inbox:<surface>, …"),
        sa.Column("holder", sa.String(250), nullable=False, comment="host:pid:run of the holder (for people)"),
        sa.Column("token", sa.String(32), nullable=False, comment="the holder's own: only it renews or releases the lease"),
        sa.Column("acquired_at", sa.DateTime, nullable=False, comment="UTC"),
        sa.Column("expires_at", sa.DateTime, nullable=False, comment="UTC: a lease not renewed by then is free (its holder died)"),
        sa.PrimaryKeyConstraint("name", name="pk_ledger_lock"),
        comment="stage-lock leases on SQLite (one host); on PostgreSQL stage locks are session advisory locks and leave no row",
    )
    op.create_table(
        "stage_clock",
        sa.Column("clock", sa.String(32), nullable=False, comment="the product line: cohandling | remote"),
        sa.Column("high_water", sa.DateTime, nullable=False, comment="local time: the newest as-of any stage of the line has run with"),
        sa.Column("run_id", sa.String(250), comment="the run that moved it there"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("clock", name="pk_stage_clock"),
        comment="each line's clock never goes back: a run as of an older time (a backfill) runs as of this one",
    )


def downgrade() -> None:
    op.drop_table("stage_clock")
    op.drop_table("ledger_lock")
