"""The institution registry's tables: the forms loaded, and institutions and county openings as versions."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.ledger.schema import BigId, metadata

# --- registry and routing (migration 0003) -----------------------------------------------

registry_form = sa.Table(
    "registry_form",
    metadata,
    sa.Column("form_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True, comment="a form already loaded is not loaded again"),
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
)

registry_form_issue = sa.Table(
    "registry_form_issue",
    metadata,
    sa.Column("form_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sheet", sa.Text, nullable=False),
    sa.Column("row_number", sa.Integer),
    sa.Column("column_name", sa.Text),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

institution = sa.Table(
    "institution",
    metadata,
    sa.Column("version_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(32), nullable=False, index=True),
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
)

county_opening = sa.Table(
    "county_opening",
    metadata,
    sa.Column("version_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("xzqh", sa.String(6), nullable=False, index=True),
    sa.Column("open_date", sa.Date, nullable=False, comment="account mode opens on this day (Annex 3)"),
    sa.Column("gas", sa.Integer, nullable=False),
    sa.Column("heat", sa.Integer, nullable=False),
    sa.Column("water", sa.Integer, nullable=False),
    sa.Column("valid_from", sa.DateTime, nullable=False),
    sa.Column("valid_to", sa.DateTime),
    sa.Column("form_id", sa.BigInteger, nullable=False),
    sa.Column("source_row", sa.Integer),
)
