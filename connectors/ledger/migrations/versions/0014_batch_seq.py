"""Per-institution batch numbers: each account-mode delivery batch and each cancellation batch takes
the next number of its institution drop (1, 2, 3, … without gaps) when planned, so a clerk sees a
missing batch. Batches planned before keep their names; they are numbered here per drop in
batch_id order, and the next batch continues from there.

Revision ID: 0014_batch_seq
Revises: 0013_locks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connectors.ledger.statements import statement

revision = "0014_batch_seq"
down_revision = "0013_locks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_batch") as batch:
        batch.add_column(sa.Column("seq", sa.Integer,
                                   comment="account: the batch's number at its institution drop, 1, 2, 3, … without gaps (migration 0014)"))
    with op.batch_alter_table("cancel_batch") as batch:
        batch.add_column(sa.Column("seq", sa.Integer,
                                   comment="the batch's number among the institution's cancellation batches, 1, 2, 3, … (migration 0014)"))
    op.execute(statement("backfill_batch_seq"))
    op.execute(statement("backfill_cancel_batch_seq"))
    op.create_index("ux_delivery_batch_destination_seq", "delivery_batch", ["destination", "seq"], unique=True)
    op.create_index("ux_cancel_batch_destination_seq", "cancel_batch", ["destination", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_cancel_batch_destination_seq", table_name="cancel_batch")
    op.drop_index("ux_delivery_batch_destination_seq", table_name="delivery_batch")
    with op.batch_alter_table("cancel_batch") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("delivery_batch") as batch:
        batch.drop_column("seq")
