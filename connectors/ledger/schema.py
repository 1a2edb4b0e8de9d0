"""The gateway ledger's tables (SQLAlchemy Core). Migrations in `migrations/` create them.

Designed for what follows extraction: every change received is kept as received, once,
with the run that received it (`received_record`, keyed by the platform's change sequence,
indexed by run); the stages after it (validation outcomes, work orders per
utility, deliveries, results) hang off (ROWGUID, change_seq). Everything the gateway does
is appended to `audit_log`, which the database refuses to change.
"""

from __future__ import annotations

import sqlalchemy as sa

from transforms.annex1 import FIELD_CODES

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# An auto-increment id that is BIGINT on PostgreSQL and the rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ANNEX1_COLUMNS: tuple[str, ...] = tuple(code.lower() for code in FIELD_CODES)

extract_watermark = sa.Table(
    "extract_watermark",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False, comment="highest platform CHANGE_SEQ loaded"),
    sa.Column("reread_from", sa.DateTime, comment="UTC: changes written at or after this are read again"),
    sa.Column("run_id", sa.String(250)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

extract_batch = sa.Table(
    "extract_batch",
    metadata,
    sa.Column("batch_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(250), nullable=False, index=True),
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
)

received_record = sa.Table(
    "received_record",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("change_time", sa.DateTime, nullable=False),
    sa.Column("op", sa.String(1), nullable=False),
    *(sa.Column(name, sa.Text) for name in ANNEX1_COLUMNS),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
    # Only the primary key: every secondary index costs the bulk load a third or more (random
    # ROWGUIDs scatter a B-tree over the whole table). A run's changes are found through the
    # key range its extract_batch rows cover (after_seq, max_seq] plus run_id; later stages
    # keep their own per-ROWGUID state.
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("run_id", sa.String(250)),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("object_type", sa.String(64)),
    sa.Column("object_id", sa.String(250)),
    sa.Column("detail", sa.Text, comment="JSON"),
)

# --- validation (migration 0002) ---------------------------------------------------------

validation_run = sa.Table(
    "validation_run",
    metadata,
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("validated_at", sa.DateTime, nullable=False),
    sa.Column("as_of", sa.DateTime, nullable=False, comment="the clock the rules used (the run's data_interval_end)"),
    sa.Column("records_in", sa.BigInteger, nullable=False),
    sa.Column("passed", sa.BigInteger, nullable=False),
    sa.Column("partial", sa.BigInteger, nullable=False, comment="some utilities blocked, others go on"),
    sa.Column("quarantined", sa.BigInteger, nullable=False),
    sa.Column("warnings", sa.BigInteger, nullable=False),
    sa.Column("docs_path", sa.Text, comment="the run's Great Expectations Data Docs"),
)

record_verdict = sa.Table(
    "record_verdict",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("rowguid", sa.String(64)),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="passed | partial | quarantined"),
    sa.Column("requested", sa.String(64), nullable=False, comment="utilities asked for, comma-joined"),
    sa.Column("blocked", sa.String(64), nullable=False, comment="utilities stopped by an error"),
    sa.Column("validated_at", sa.DateTime, nullable=False),
)

rule_failure = sa.Table(
    "rule_failure",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("rule_id", sa.String(40), primary_key=True),
    sa.Column("field", sa.String(16), primary_key=True),
    sa.Column("utility", sa.String(16), primary_key=True, comment="'' for a record-level rule"),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("value", sa.Text, comment="as the platform sent it"),
    sa.Column("message_zh", sa.Text, nullable=False),
    sa.Column("message_en", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
)

record_state = sa.Table(
    "record_state",
    metadata,
    sa.Column("rowguid", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False, comment="the version in force"),
    sa.Column("op", sa.String(1), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="passed | partial | quarantined | withdrawn"),
    sa.Column("blocked", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False, index=True),  # routing reads a run's records by it
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

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


work_order = sa.Table(
    "work_order",
    metadata,
    sa.Column("rowguid", sa.String(64), primary_key=True),
    sa.Column("utility", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    *_work_order_columns(),
    comment="the version of each (ROWGUID, utility) work order in force",
)

work_order_version = sa.Table(
    "work_order_version",
    metadata,
    sa.Column("rowguid", sa.String(64), primary_key=True),
    sa.Column("utility", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    *_work_order_columns(),
    comment="every version of every work order, as last routed",
)

# --- delivery (migration 0004) -----------------------------------------------------------

delivery_batch = sa.Table(
    "delivery_batch",
    metadata,
    sa.Column("batch_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(250), nullable=False, comment="the run that planned it"),
    sa.Column("channel", sa.String(8), nullable=False, comment="account | system | grid"),
    sa.Column("destination", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False, comment="account: the batch directory; HTTP: the batch_id sent"),
    sa.Column("file_format", sa.String(16)),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), comment="account: SHA-256 of the manifest, fixed at the first render"),
    sa.Column("status", sa.String(16), nullable=False, comment="planned | pending | delivered | failed"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime),
)

delivery = sa.Table(
    "delivery",
    metadata,
    sa.Column("rowguid", sa.String(64), primary_key=True),
    sa.Column("utility", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("destination", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.BigInteger, index=True, comment="the batch it went (or goes) out in"),
    sa.Column("status", sa.String(16), nullable=False, comment="pending | delivered | failed | superseded"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("receipt", sa.Text, comment="account: file and SHA-256; HTTP: the receiver's receipt id (and code)"),
    sa.Column("planned_run_id", sa.String(250), nullable=False),
    sa.Column("delivered_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# --- handling results and reconciliation (migration 0005) ------------------------------------

result_source = sa.Table(
    "result_source",
    metadata,
    sa.Column("source", sa.String(128), primary_key=True, comment="feed:<receiver> (HTTP results feed) or sftp:<drop>"),
    sa.Column("cursor", sa.Text, comment="feeds: where the next poll starts"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

result_file = sa.Table(
    "result_file",
    metadata,
    sa.Column("file_id", BigId, primary_key=True, autoincrement=True),
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
    sa.UniqueConstraint("source", "sha256"),
)

handling_result = sa.Table(
    "handling_result",
    metadata,
    sa.Column("result_id", BigId, primary_key=True, autoincrement=True),
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
    sa.Index("ix_handling_result_key", "rowguid", "utility", "version"),
)

result_exception = sa.Table(
    "result_exception",
    metadata,
    sa.Column("exception_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("row_number", sa.Integer),
    sa.Column("rowguid", sa.String(64)),
    sa.Column("utility", sa.String(16)),
    sa.Column("reason_code", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("file_id", sa.BigInteger),
    sa.Column("received_at", sa.DateTime, nullable=False),
)

work_order_outcome = sa.Table(
    "work_order_outcome",
    metadata,
    sa.Column("rowguid", sa.String(64), primary_key=True),
    sa.Column("utility", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("acknowledged_at", sa.DateTime, comment="the receiver confirmed it has it (受理)"),
    sa.Column("result", sa.String(16), comment="done | rejected (final), null while open"),
    sa.Column("code", sa.String(8)),
    sa.Column("reason", sa.Text),
    sa.Column("handled_at", sa.DateTime),
    sa.Column("handler", sa.Text),
    sa.Column("source", sa.String(128)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

sms_outbox = sa.Table(
    "sms_outbox",
    metadata,
    sa.Column("sms_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("rowguid", sa.String(64), nullable=False),
    sa.Column("utility", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="queued (sending is another system's job)"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("rowguid", "utility", "version"),
)
