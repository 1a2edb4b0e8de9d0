"""Originals of cleaned text: a value the ingest sanitiser changed (NUL, controls, bidi or
zero-width marks, line breaks) is stored cleaned where it belongs, and kept here as received.

Revision ID: 0010_ingest
Revises: 0009_files
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_ingest"
down_revision = "0009_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_original",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("part", sa.String(32), nullable=False, comment="'' the row itself; applicant:<XH> | material:<XH> for a package's children"),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("original", sa.LargeBinary, nullable=False, comment="the value as received (UTF-8 bytes, NUL and all)"),
        sa.Column("changes", sa.String(64), nullable=False, comment="kinds cleaned out: control, bidi, zero_width, line_break, odd_space"),
        sa.PrimaryKeyConstraint("source", "change_seq", "part", "field", name="pk_received_original"),
        comment="the value as received where the ingest sanitiser (transforms/text.clean_text) changed it",
    )


def downgrade() -> None:
    op.drop_table("received_original")
