"""Routing works from state: each record's version in force remembers which version routing last
took (`record_state.routed_seq`), so the next run routes whatever a failed run validated and
did not route.

Revision ID: 0012_state
Revises: 0011_cancel
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_state"
down_revision = "0011_cancel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_state") as batch:
        batch.add_column(sa.Column("routed_seq", sa.BigInteger, comment="the version routing last took; the record is due for routing while it differs from change_seq"))
    # What earlier runs routed: the version in force has work orders made from it. The rest (never
    # routed, or quarantined before any work order) is routed once by the next run: that changes
    # nothing that was right, and finishes what a failed run left.
    op.execute(
        "UPDATE record_state SET routed_seq = change_seq WHERE EXISTS ("
        " SELECT 1 FROM work_order_version w WHERE w.rowguid = record_state.rowguid AND w.change_seq = record_state.change_seq)"
    )


def downgrade() -> None:
    with op.batch_alter_table("record_state") as batch:
        batch.drop_column("routed_seq")
