"""Validation: per-run counts, a verdict per record version, every rule failure, and the
state of each ROWGUID (the version in force; quarantine is the state `quarantined`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validation_run",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("validated_at", sa.DateTime, nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False, comment="the clock the rules used (the run's data_interval_end)"),
        sa.Column("records_in", sa.BigInteger, nullable=False),
        sa.Column("passed", sa.BigInteger, nullable=False),
        sa.Column("partial", sa.BigInteger, nullable=False, comment="some utilities blocked, others go on"),
        sa.Column("quarantined", sa.BigInteger, nullable=False),
        sa.Column("warnings", sa.BigInteger, nullable=False),
        sa.Column("docs_path", sa.Text, comment="the run's Great Expectations Data Docs"),
        sa.PrimaryKeyConstraint("run_id", name="pk_validation_run"),
    )
    op.create_table(
        "record_verdict",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("rowguid", sa.String(64)),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="passed | partial | quarantined"),
        sa.Column("requested", sa.String(64), nullable=False, comment="utilities asked for, comma-joined"),
        sa.Column("blocked", sa.String(64), nullable=False, comment="utilities stopped by an error"),
        sa.Column("validated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "change_seq", name="pk_record_verdict"),
    )
    op.create_table(
        "rule_failure",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False, comment="'' for a record-level rule"),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("value", sa.Text, comment="as the platform sent it"),
        sa.Column("message_zh", sa.Text, nullable=False),
        sa.Column("message_en", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("source", "change_seq", "rule_id", "field", "utility", name="pk_rule_failure"),
    )
    op.create_table(
        "record_state",
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False, comment="the version in force"),
        sa.Column("op", sa.String(1), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="passed | partial | quarantined | withdrawn"),
        sa.Column("blocked", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("rowguid", name="pk_record_state"),
    )


def downgrade() -> None:
    for table in ("record_state", "rule_failure", "record_verdict", "validation_run"):
        op.drop_table(table)
