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
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
