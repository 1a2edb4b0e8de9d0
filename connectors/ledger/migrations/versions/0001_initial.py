"""Initial ledger: extraction watermarks and batches, received changes, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ANNEX1_COLUMNS = (
    "rowguid", "ycywh", "zrfxm", "zrfzjzl", "zrfzjhm", "zrflxdh", "zcfxm", "zcfzjzl", "zcfzjhm",
    "zcflxdh", "xzqh", "fwzl", "fwjzmj", "bdcqzh", "dbsj", "ydhh", "yshh", "gsjgbm", "gsjgmc",
    "yqhh", "rqjgbm", "rqjgmc", "ynhh", "grjgbm", "grjgmc",
)  # frozen here: a migration must not change when the schema module does
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "extract_watermark",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False, comment="highest platform CHANGE_SEQ loaded"),
        sa.Column("reread_from", sa.DateTime, comment="UTC: changes written at or after this are read again"),
        sa.Column("run_id", sa.String(250)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_extract_watermark"),
    )
    op.create_table(
        "extract_batch",
        sa.Column("batch_id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="running | success | failed"),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("after_seq", sa.BigInteger, nullable=False),
        sa.Column("before_time", sa.DateTime, nullable=False),
        sa.Column("max_seq", sa.BigInteger),
        sa.Column("rows_read", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_new", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_known", sa.BigInteger, nullable=False, server_default="0", comment="re-read, already held"),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("batch_id", name="pk_extract_batch"),
    )
    op.create_index("ix_extract_batch_run_id", "extract_batch", ["run_id"])
    op.create_table(
        "received_record",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("change_time", sa.DateTime, nullable=False),
        sa.Column("op", sa.String(1), nullable=False),
        *(sa.Column(name, sa.Text) for name in ANNEX1_COLUMNS),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "change_seq", name="pk_received_record"),
    )
    op.create_table(
        "audit_log",
        sa.Column("audit_id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(250)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64)),
        sa.Column("object_id", sa.String(250)),
        sa.Column("detail", sa.Text, comment="JSON"),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit_log"),
    )
    # The audit log is append-only: the database itself refuses to change or remove a line.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in ("audit_log", "received_record", "extract_batch", "extract_watermark"):
        op.drop_table(table)
