"""Registry and routing: the forms loaded (with every issue), institutions and county
openings with their history (a change is a new version, valid_from / valid_to), and work
orders — the version in force per (ROWGUID, utility) and every version made.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _work_order_columns() -> list[sa.Column]:
    return [
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False, comment="the record version it was made from"),
        sa.Column("correction", sa.Boolean, nullable=False, comment="made from a correction of a routed record"),
        sa.Column("account_no", sa.Text),
        sa.Column("institution_code", sa.String(32), comment="as the record gave it"),
        sa.Column("institution_version_id", sa.BigInteger, comment="the registry version it was routed by"),
        sa.Column("xzqh", sa.String(6)),
        sa.Column("channel", sa.String(8), comment="grid | account | system"),
        sa.Column("destination", sa.String(64), comment="grid | SFTP drop account | county endpoint connection id"),
        sa.Column("file_format", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False, comment="ready | held | quarantined | cancelled | withdrawn | superseded"),
        sa.Column("hold_until", sa.Date, comment="held: the county's account-mode opening date, if it has one"),
        sa.Column("reason_code", sa.String(40)),
        sa.Column("reason", sa.Text),
        sa.Column("run_id", sa.String(250), nullable=False, comment="the run that last routed it"),
        sa.Column("routed_at", sa.DateTime, nullable=False),
    ]


def upgrade() -> None:
    op.create_index("ix_record_state_run_id", "record_state", ["run_id"])
    op.create_table(
        "registry_form",
        sa.Column("form_id", BigId, autoincrement=True, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, comment="a form already loaded is not loaded again"),
        sa.Column("kind", sa.String(8), nullable=False, comment="annex2 | annex3"),
        sa.Column("city_code", sa.String(6)),
        sa.Column("effective", sa.DateTime, nullable=False, comment="when its contents take effect (生效日期, else load time)"),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("form_id", name="pk_registry_form"),
        sa.UniqueConstraint("sha256", name="uq_registry_form_sha256"),
    )
    op.create_table(
        "registry_form_issue",
        sa.Column("form_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("row_number", sa.Integer),
        sa.Column("column_name", sa.Text),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("form_id", "seq", name="pk_registry_form_issue"),
    )
    op.create_table(
        "institution",
        sa.Column("version_id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("utility", sa.String(8), nullable=False, comment="water | gas | heat"),
        sa.Column("xzqh", sa.String(6), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False, comment="account (配置账号) | system (系统对接)"),
        sa.Column("file_format", sa.String(16), nullable=False, comment="csv | csv_gb18030 | jsonl | parquet"),
        sa.Column("drop_account", sa.String(64), comment="account mode: the institution's SFTP drop account"),
        sa.Column("endpoint_conn_id", sa.String(64), comment="system mode: Airflow connection id of the county system"),
        sa.Column("service_phone", sa.Text),
        sa.Column("contact_name", sa.Text),
        sa.Column("contact_mobile", sa.String(16)),
        sa.Column("contact_landline", sa.String(24)),
        sa.Column("informed", sa.Boolean),
        sa.Column("successor_code", sa.String(32), comment="set when this code was replaced (re-coded)"),
        sa.Column("valid_from", sa.DateTime, nullable=False),
        sa.Column("valid_to", sa.DateTime, comment="null while in force"),
        sa.Column("form_id", sa.BigInteger, nullable=False),
        sa.Column("source_row", sa.Integer),
        sa.PrimaryKeyConstraint("version_id", name="pk_institution"),
    )
    op.create_index("ix_institution_code", "institution", ["code"])
    op.create_table(
        "county_opening",
        sa.Column("version_id", BigId, autoincrement=True, nullable=False),
        sa.Column("xzqh", sa.String(6), nullable=False),
        sa.Column("open_date", sa.Date, nullable=False, comment="account mode opens on this day (Annex 3)"),
        sa.Column("gas", sa.Integer, nullable=False),
        sa.Column("heat", sa.Integer, nullable=False),
        sa.Column("water", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.DateTime, nullable=False),
        sa.Column("valid_to", sa.DateTime),
        sa.Column("form_id", sa.BigInteger, nullable=False),
        sa.Column("source_row", sa.Integer),
        sa.PrimaryKeyConstraint("version_id", name="pk_county_opening"),
    )
    op.create_index("ix_county_opening_xzqh", "county_opening", ["xzqh"])
    op.create_table(
        "work_order",
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_work_order_columns(),
        sa.PrimaryKeyConstraint("rowguid", "utility", name="pk_work_order"),
        comment="the version of each (ROWGUID, utility) work order in force",
    )
    op.create_table(
        "work_order_version",
        sa.Column("rowguid", sa.String(64), nullable=False),
        sa.Column("utility", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, autoincrement=False, nullable=False),
        *_work_order_columns(),
        sa.PrimaryKeyConstraint("rowguid", "utility", "version", name="pk_work_order_version"),
        comment="every version of every work order, as last routed",
    )


def downgrade() -> None:
    op.drop_index("ix_record_state_run_id", "record_state")
    for table in ("work_order_version", "work_order", "county_opening", "institution", "registry_form_issue", "registry_form"):
        op.drop_table(table)
