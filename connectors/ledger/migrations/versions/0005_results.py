"""Handling results: result files and feed cursors, every result received, the exceptions
list, the outcome of each work-order version, and the SMS outbox for applicants.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "result_source",
        sa.Column("source", sa.String(128), nullable=False, comment="feed:<receiver> (HTTP results feed) or sftp:<drop>"),
        sa.Column("cursor", sa.Text, comment="feeds: where the next poll starts"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_result_source"),
    )
    op.create_table(
        "result_file",
        sa.Column("file_id", BigId, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(128), nullable=False, comment="sftp:<drop>"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="processed | rejected"),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("exceptions", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, comment="why a whole file was rejected"),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("file_id", name="pk_result_file"),
        sa.UniqueConstraint("source", "sha256", name="uq_result_file_source_sha256"),
    )
    op.create_table(
        "handling_result",
        sa.Column("result_id", BigId, autoincrement=True, nullable=False),
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("result", sa.String(16), nullable=False, comment="received | done | rejected"),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("handled_at", sa.DateTime, nullable=False, comment="local time"),
        sa.Column("handler", sa.Text),
        sa.Column("file_id", sa.BigInteger),
        sa.Column("feed_seq", sa.BigInteger),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("result_id", name="pk_handling_result"),
    )
    op.create_index("ix_handling_result_key", "handling_result", ["rowguid", "utility", "version"])
    op.create_table(
        "result_exception",
        sa.Column("exception_id", BigId, autoincrement=True, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("row_number", sa.Integer),
        sa.Column("rowguid", sa.String(64)),
        sa.Column("utility", sa.String(16)),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("file_id", sa.BigInteger),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("exception_id", name="pk_result_exception"),
    )
    op.create_table(
        "work_order_outcome",
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("acknowledged_at", sa.DateTime, comment="the receiver confirmed it has it (受理)"),
        sa.Column("result", sa.String(16), comment="done | rejected (final), null while open"),
        sa.Column("code", sa.String(8)),
        sa.Column("reason", sa.Text),
        sa.Column("handled_at", sa.DateTime),
        sa.Column("handler", sa.Text),
        sa.Column("source", sa.String(128)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("rowguid", "utility", "version", name="pk_work_order_outcome"),
    )
    op.create_table(
        "sms_outbox",
        sa.Column("sms_id", BigId, autoincrement=True, nullable=False),
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="queued (sending is another system's job)"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("sms_id", name="pk_sms_outbox"),
        sa.UniqueConstraint("rowguid", "utility", "version", name="uq_sms_outbox_rowguid_utility_version"),
    )


def downgrade() -> None:
    for table in ("sms_outbox", "work_order_outcome", "result_exception", "handling_result", "result_file", "result_source"):
        op.drop_table(table)
