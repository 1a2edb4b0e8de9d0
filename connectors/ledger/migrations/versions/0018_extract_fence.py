"""The snapshot fence kept with a PostgreSQL change table's watermark: exactly once without the settle window
(transforms/common/fence.py, jobs/common/incremental.py). SQLite sources keep the settle window and leave it null.

Revision ID: 0018_extract_fence
Revises: 0015_reminders
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_extract_fence"
down_revision = "0017_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("extract_watermark") as batch:
        batch.add_column(sa.Column("fence", sa.Text, comment="PostgreSQL sources: JSON, the snapshot fence (transforms/common/fence.py)"))


def downgrade() -> None:
    with op.batch_alter_table("extract_watermark") as batch:
        batch.drop_column("fence")
