"""Delivery: batches (an account-mode batch directory, or an HTTP batch) and the delivery
state of every work-order version — pending / delivered / failed, attempts, last error,
receipt.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delivery_batch",
        sa.Column("batch_id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False, comment="the run that planned it"),
        sa.Column("channel", sa.String(8), nullable=False, comment="account | system | grid"),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False, comment="account: the batch directory; HTTP: the batch_id sent"),
        sa.Column("file_format", sa.String(16)),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), comment="account: SHA-256 of the manifest, fixed at the first render"),
        sa.Column("status", sa.String(16), nullable=False, comment="planned | pending | delivered | failed"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime),
        sa.PrimaryKeyConstraint("batch_id", name="pk_delivery_batch"),
    )
    op.create_table(
        "delivery",
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.BigInteger, comment="the batch it went (or goes) out in"),
        sa.Column("status", sa.String(16), nullable=False, comment="pending | delivered | failed | superseded"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("receipt", sa.Text, comment="account: file and SHA-256; HTTP: the receiver's receipt id (and code)"),
        sa.Column("planned_run_id", sa.String(250), nullable=False),
        sa.Column("delivered_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("rowguid", "utility", "version", name="pk_delivery"),
    )
    op.create_index("ix_delivery_batch_id", "delivery", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_batch_id", "delivery")
    op.drop_table("delivery")
    op.drop_table("delivery_batch")
