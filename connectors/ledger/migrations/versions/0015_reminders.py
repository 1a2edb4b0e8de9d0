"""Weekly overdue reminders (催办提醒): one row per ISO week and recipient — an institution's drop, a county
system, the grid, a county's list — planned once under the key (week, channel, destination), its overdue work
orders fixed when planned, sent once in effect (jobs/cohandling/remind_overdue.py).

Revision ID: 0015_reminders
Revises: 0014_batch_seq
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_reminders"
down_revision = "0014_batch_seq"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "overdue_reminder",
        sa.Column("week", sa.String(8), primary_key=True, comment="ISO week of the reminder, e.g. 2026-W49 (Asia/Shanghai)"),
        sa.Column("channel", sa.String(8), primary_key=True, comment="account | system | grid | county"),
        sa.Column("destination", sa.String(64), primary_key=True,
                  comment="account: the institution's drop; system: county_system_<XZQH>; grid; county: county:<XZQH> (a list in the report folder)"),
        sa.Column("name", sa.String(128), nullable=False,
                  comment="account: the reminder folder in the drop (CB<week>); HTTP: the batch_id; county: the file name"),
        sa.Column("file_format", sa.String(16)),
        sa.Column("institution_code", sa.String(32)),
        sa.Column("xzqh", sa.String(6)),
        sa.Column("records", sa.Integer, nullable=False, comment="overdue work orders in it"),
        sa.Column("items", sa.Text, nullable=False, comment="JSON: the overdue work orders as fixed when planned (a retry sends the same)"),
        sa.Column("status", sa.String(16), nullable=False,
                  comment="pending | sent | failed | superseded (a later week's replaced it unsent)"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("receipt", sa.Text, comment="account: the folder and hashes; HTTP: the receiver's answers by code; county: the files written"),
        sa.Column("run_id", sa.String(250), nullable=False, comment="the run that planned it"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.PrimaryKeyConstraint("week", "channel", "destination", name="pk_overdue_reminder"),
        comment="one overdue reminder per recipient and ISO week: planned once (the key), sent once in effect",
    )
    op.create_index("ix_overdue_reminder_status", "overdue_reminder", ["status"])


def downgrade() -> None:
    op.drop_index("ix_overdue_reminder_status", table_name="overdue_reminder")
    op.drop_table("overdue_reminder")
