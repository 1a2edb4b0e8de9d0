"""Remote collection, second part: a delivery per passed package version, the status events the
property authorities send, and the paper handover lists (移交清单) with their items.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "remote_delivery",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("bwid", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False, comment="county_system | cross_province"),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("correction", sa.Boolean, nullable=False, comment="an earlier version of the BWID was delivered"),
        sa.Column("status", sa.String(16), nullable=False, comment="pending | delivered | rejected | failed | superseded | withdrawn"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("files", sa.Integer, nullable=False, comment="electronic files sent with it"),
        sa.Column("receipt_id", sa.String(200)),
        sa.Column("code", sa.String(8), comment="the receiver's answer code"),
        sa.Column("reason", sa.Text),
        sa.Column("planned_run_id", sa.String(250), nullable=False),
        sa.Column("outcome_run_id", sa.String(250), comment="the run that recorded rejected / failed: the hall hears of it in that run's return list"),
        sa.Column("planned_at", sa.DateTime, nullable=False),
        sa.Column("first_sent_at", sa.DateTime, comment="UTC: the first attempt (the receiver may hold it from then on)"),
        sa.Column("withdrawal", sa.String(16), comment="null | pending | done | refused: telling the receiver it was withdrawn or went elsewhere"),
        sa.Column("withdrawal_reason", sa.Text),
        sa.Column("withdrawn_at", sa.DateTime, comment="UTC: when the receiver confirmed the withdrawal"),
        sa.Column("delivered_at", sa.DateTime, comment="UTC: since when the receiver holds it (a duplicate answer: since the first attempt)"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "change_seq", name="pk_remote_delivery"),
        sa.UniqueConstraint("idempotency_key", name="uq_remote_delivery_idempotency_key"),
        comment="one delivery per passed package version to the property's authority",
    )
    op.create_index("ix_remote_delivery_destination", "remote_delivery", ["destination"])
    op.create_index("ix_remote_delivery_status", "remote_delivery", ["status"])
    op.create_index("ix_remote_delivery_outcome_run_id", "remote_delivery", ["outcome_run_id"])
    op.create_table(
        "remote_event",
        sa.Column("event_id", BigId, autoincrement=True, nullable=False),
        sa.Column("feed", sa.String(64), nullable=False, comment="the destination whose feed it came from"),
        sa.Column("seq", sa.Text, comment="the receiver's seq, as sent"),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("source", sa.String(64)),
        sa.Column("change_seq", sa.BigInteger, comment="the package version it is about (null: not ours)"),
        sa.Column("bwid", sa.String(64)),
        sa.Column("status", sa.String(24), comment="accepted | refused | correction | review | fee_notice | registered | certificate_issued"),
        sa.Column("at", sa.DateTime, comment="local (Asia/Shanghai) time the authority recorded it"),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.Text, comment="JSON: missing materials, certificate, fee"),
        sa.Column("accepted", sa.Boolean, nullable=False, comment="counts for tracking; false: an issue"),
        sa.Column("issue", sa.String(40)),
        sa.Column("issue_message", sa.Text),
        sa.Column("raw", sa.Text, nullable=False, comment="the event as received (JSON)"),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_remote_event"),
        comment="every status event a property authority sent",
    )
    op.create_index("ix_remote_event_run_id", "remote_event", ["run_id"])
    op.create_index("ix_remote_event_source_change_seq", "remote_event", ["source", "change_seq"])
    op.create_table(
        "remote_handover",
        sa.Column("list_id", BigId, autoincrement=True, nullable=False),
        sa.Column("list_no", sa.String(64), nullable=False, comment="YJ-<hall>-<XZQH>-<period end>"),
        sa.Column("hall", sa.String(32), nullable=False, comment="the collecting hall that hands the originals over"),
        sa.Column("hall_name", sa.Text),
        sa.Column("xzqh", sa.String(12), nullable=False, comment="the property county that receives them"),
        sa.Column("period_from", sa.DateTime, nullable=False),
        sa.Column("period_to", sa.DateTime, nullable=False, comment="exclusive"),
        sa.Column("packages", sa.Integer, nullable=False),
        sa.Column("originals", sa.Integer, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("received_at", sa.DateTime, comment="when the property county signed for them (local)"),
        sa.Column("received_by", sa.Text),
        sa.Column("receipt_note", sa.Text),
        sa.Column("receipt_recorded_at", sa.DateTime),
        sa.PrimaryKeyConstraint("list_id", name="pk_remote_handover"),
        sa.UniqueConstraint("list_no", name="uq_remote_handover_list_no"),
        comment="a handover list (移交清单) of paper originals, one hall to one property county for one period",
    )
    op.create_table(
        "remote_handover_item",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("xh", sa.Integer, autoincrement=False, nullable=False, comment="the material's number in its package"),
        sa.Column("list_id", sa.BigInteger, nullable=False),
        sa.Column("bwid", sa.String(64), nullable=False),
        sa.Column("clbm", sa.Text),
        sa.Column("clmc", sa.Text),
        sa.Column("ys", sa.Integer),
        sa.PrimaryKeyConstraint("source", "change_seq", "xh", name="pk_remote_handover_item"),
        comment="each paper original on exactly one handover list",
    )
    op.create_index("ix_remote_handover_item_list_id", "remote_handover_item", ["list_id"])


def downgrade() -> None:
    op.drop_index("ix_remote_handover_item_list_id", "remote_handover_item")
    op.drop_index("ix_remote_event_source_change_seq", "remote_event")
    op.drop_index("ix_remote_event_run_id", "remote_event")
    op.drop_index("ix_remote_delivery_outcome_run_id", "remote_delivery")
    op.drop_index("ix_remote_delivery_status", "remote_delivery")
    op.drop_index("ix_remote_delivery_destination", "remote_delivery")
    for table in ("remote_handover_item", "remote_handover", "remote_event", "remote_delivery"):
        op.drop_table(table)
