"""Inbox sightings: a file in an institution's drop inbox not read yet, as the gateway saw it
(size, mtime, since when), so that completeness and the wait bound go by the gateway's clock.

Revision ID: 0009_files
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_files"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_sighting",
        sa.Column("source", sa.String(128), nullable=False, comment="sftp:<drop>"),
        sa.Column("name_key", sa.String(64), nullable=False, comment="SHA-256 of the file name's raw bytes"),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime", sa.BigInteger, nullable=False, comment="as the server reports it (epoch seconds)"),
        sa.Column("first_seen_at", sa.DateTime, nullable=False, comment="first seen under this name: the wait bound counts from here"),
        sa.Column("stable_since", sa.DateTime, nullable=False, comment="first seen with this size and mtime: the settle time counts from here"),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "name_key", name="pk_inbox_sighting"),
        comment="a file in a drop's inbox not read yet, as the gateway saw it: completeness by the gateway's own clock",
    )


def downgrade() -> None:
    op.drop_table("inbox_sighting")
