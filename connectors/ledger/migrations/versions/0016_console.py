"""The console's read model (issue 16 item 5): `order_status`, the reconciled status of each work order in force
(overdue derived when read), and `order_status_count`, its counts by county, utility, institution and status —
kept by jobs/cohandling/order_status.py, filled by its first refresh (the console's first request, or the hourly
results run, whichever comes first: an empty read model over a ledger with work orders is filled whole). And the
indexes the trace lacked: received_record by ROWGUID and YCYWH, result_exception by ROWGUID (and by received_at,
the exceptions page's order), remote_package by BWID; and record_verdict's held verdicts (quarantined, duplicate,
partial) by change_seq, the quarantine page's order.

Revision ID: 0016_console
Revises: 0015_reminders
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_console"
down_revision = "0015_reminders"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_received_record_rowguid", "received_record", ["rowguid"]),
    ("ix_received_record_ycywh", "received_record", ["ycywh"]),
    ("ix_result_exception_rowguid", "result_exception", ["rowguid"]),
    ("ix_result_exception_received_at", "result_exception", ["received_at"]),
    ("ix_remote_package_bwid", "remote_package", ["bwid"]),
)


def upgrade() -> None:
    op.create_table(
        "order_status",
        sa.Column("rowguid", sa.String(64), primary_key=True),
        sa.Column("utility", sa.String(16), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("utility_rank", sa.SmallInteger, nullable=False, comment="the lists' order of utilities: electricity 0, water 1, gas 2, heat 3"),
        sa.Column("status", sa.String(24), nullable=False,
                  comment="reconcile's status with overdue left as the open status under it (delivered | acknowledged): overdue is derived when read"),
        sa.Column("due_date", sa.Date, comment="the due date in working days (reconcile); NULL when not delivered"),
        sa.Column("delivered_at", sa.DateTime, comment="local time"),
        sa.Column("handled_at", sa.DateTime, comment="local time"),
        sa.Column("result_code", sa.String(16)),
        sa.Column("channel", sa.String(8)),
        sa.Column("destination", sa.String(64)),
        sa.Column("institution_code", sa.String(32)),
        sa.Column("institution_name", sa.Text),
        sa.Column("xzqh", sa.String(6), nullable=False, comment="'' when the record's XZQH is not a known county"),
        sa.Column("county_name", sa.Text, nullable=False),
        sa.Column("city_code", sa.String(6), nullable=False),
        sa.Column("city_name", sa.Text, nullable=False),
        sa.Column("platform_no", sa.Text, comment="YCYWH"),
        sa.Column("refreshed_at", sa.DateTime, nullable=False, comment="UTC: the refresh that wrote it began"),
        sa.PrimaryKeyConstraint("rowguid", "utility", name="pk_order_status"),
        comment="the console's read model: each work order in force as reconciled at its last refresh (overdue derived when read)",
    )
    op.create_index("ix_order_status_city", "order_status", ["city_code", "status", "due_date"])
    op.create_index("ix_order_status_county", "order_status", ["xzqh", "status", "due_date"])
    op.create_index("ix_order_status_institution", "order_status", ["institution_code", "status", "due_date"])
    op.create_index("ix_order_status_open", "order_status", ["status", "due_date"])
    op.create_index("ix_order_status_refreshed", "order_status", ["refreshed_at"])
    op.create_index("ix_order_status_overdue", "order_status",
                    ["city_code", "utility_rank", "institution_code", "institution_name", "due_date", "xzqh", "platform_no", "rowguid"],
                    postgresql_where=sa.text("status IN ('delivered', 'acknowledged')"), sqlite_where=sa.text("status IN ('delivered', 'acknowledged')"))
    op.create_table(
        "order_status_count",
        sa.Column("city_code", sa.String(6), nullable=False),
        sa.Column("city_name", sa.Text, nullable=False),
        sa.Column("xzqh", sa.String(6), nullable=False),
        sa.Column("county_name", sa.Text, nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("institution_code", sa.String(32)),
        sa.Column("institution_name", sa.Text),
        sa.Column("channel", sa.String(8)),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("due_date", sa.Date, comment="open statuses only (overdue is derived from it when read); NULL otherwise"),
        sa.Column("n", sa.BigInteger, nullable=False),
        comment="order_status counted by county, utility, institution, status (and due date while open): the console's counts",
    )
    op.create_index("ix_order_status_count_city", "order_status_count", ["city_code"])
    op.create_index("ix_order_status_count_county", "order_status_count", ["xzqh"])
    op.create_index("ix_order_status_count_institution", "order_status_count", ["institution_code"])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    held = sa.text("status IN ('quarantined', 'duplicate', 'partial')")
    op.create_index("ix_record_verdict_held", "record_verdict", ["change_seq"], postgresql_where=held, sqlite_where=held)


def downgrade() -> None:
    op.drop_index("ix_record_verdict_held", table_name="record_verdict")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("order_status_count")
    op.drop_table("order_status")
