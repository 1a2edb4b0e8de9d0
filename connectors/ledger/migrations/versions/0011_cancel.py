"""Cancellations: telling a receiver that a work order it holds was withdrawn by the platform,
dropped by a correction, or now goes to another receiver (account-mode cancellation batches
and HTTP cancel items, planned once, sent exactly once in effect).

Revision ID: 0011_cancel
Revises: 0010_ingest
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_cancel"
down_revision = "0010_ingest"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cancel_batch",
        sa.Column("batch_id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False, comment="the run that planned it"),
        sa.Column("destination", sa.String(64), nullable=False, comment="the institution's drop account"),
        sa.Column("name", sa.String(128), nullable=False, comment="the cancellation batch directory (XBCX<day>_<id>)"),
        sa.Column("file_format", sa.String(16), nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), comment="SHA-256 of the manifest, fixed at the first render"),
        sa.Column("status", sa.String(16), nullable=False, comment="planned | pending | delivered | failed"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime),
        sa.PrimaryKeyConstraint("batch_id", name="pk_cancel_batch"),
        comment="account mode: one cancellation batch per institution and run, its contents fixed when planned",
    )
    op.create_table(
        "work_order_cancel",
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, autoincrement=False, nullable=False, comment="the version the receiver holds (its latest there)"),
        sa.Column("idempotency_key", sa.String(250), nullable=False, comment="<key of the version held>:cancel"),
        sa.Column("cause_version", sa.Integer, nullable=False, comment="the version in force that made it (withdrawn, dropped, or sent elsewhere)"),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False, comment="RECORD_WITHDRAWN | UTILITY_DROPPED | DESTINATION_CHANGED"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="pending | cancelled | refused"),
        sa.Column("batch_id", sa.BigInteger, comment="account: the cancel_batch it goes (went) out in"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("receipt", sa.Text, comment="account: batch path and hashes; HTTP: the receiver's code and receipt"),
        sa.Column("planned_run_id", sa.String(250), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("cancelled_at", sa.DateTime, comment="UTC: when the receiver confirmed (HTTP) or the batch was published (account)"),
        sa.PrimaryKeyConstraint("rowguid", "utility", "version", name="pk_work_order_cancel"),
        sa.UniqueConstraint("idempotency_key", name="uq_work_order_cancel_idempotency_key"),
        comment="telling a receiver that a work order it holds is no longer wanted: planned once, sent exactly once in effect",
    )
    op.create_index("ix_work_order_cancel_status", "work_order_cancel", ["status"])
    op.create_index("ix_work_order_cancel_batch_id", "work_order_cancel", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_work_order_cancel_batch_id", table_name="work_order_cancel")
    op.drop_index("ix_work_order_cancel_status", table_name="work_order_cancel")
    op.drop_table("work_order_cancel")
    op.drop_table("cancel_batch")
