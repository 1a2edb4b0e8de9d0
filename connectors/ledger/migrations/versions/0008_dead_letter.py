"""Dead letters: every unit (row, form, file, feed entry, event) that could not enter its stage,
kept as received with one rule id and a reason for the person who can fix it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dead_letter",
        sa.Column("dl_id", BigId, autoincrement=True, nullable=False),
        sa.Column("surface", sa.String(32), nullable=False, comment="exchange_row | package_row | registry_form | remote_checklist | result_file | result_feed | package_event | …"),
        sa.Column("unit_key", sa.String(250), nullable=False, comment="stable per unit: the same bad unit seen again is the same row"),
        sa.Column("origin", sa.Text, nullable=False, comment="where it came from: file path, feed and cursor, table and change sequence"),
        sa.Column("location", sa.Text, comment="row / column / field inside the unit, where known"),
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, comment="for the person who can fix it (Chinese, naming file / row / column)"),
        sa.Column("payload", sa.LargeBinary, comment="the unit as received (its first DEAD_LETTER_PAYLOAD_MAX bytes)"),
        sa.Column("payload_size", sa.BigInteger, comment="the whole unit's size in bytes"),
        sa.Column("payload_sha256", sa.String(64)),
        sa.Column("owner", sa.Text, comment="who is told: platform | county:<XZQH> | institution:<code> | receiver:<name> | hall:<code>"),
        sa.Column("run_id", sa.String(250)),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("seen_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String(16), nullable=False, server_default="open", comment="open | resolved"),
        sa.Column("resolved_at", sa.DateTime),
        sa.Column("resolution", sa.Text, comment="what resolved it: a corrected unit, an operator's decision"),
        sa.PrimaryKeyConstraint("dl_id", name="pk_dead_letter"),
        sa.UniqueConstraint("surface", "unit_key", name="uq_dead_letter_surface_unit_key"),
        comment="every unit that could not enter its stage: kept as received with one rule and a reason, never retried for ever",
    )


def downgrade() -> None:
    op.drop_table("dead_letter")
