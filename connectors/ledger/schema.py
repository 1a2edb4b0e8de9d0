"""The gateway ledger's tables (SQLAlchemy Core). Migrations in `migrations/` create them.

Designed for what follows extraction: every change received is kept as received, once,
with the run that received it (`received_record`, keyed by the platform's change sequence,
indexed by run); the stages after it (validation outcomes, work orders per
utility, deliveries, results) hang off (ROWGUID, change_seq). Everything the gateway does
is appended to `audit_log`, which the database refuses to change.
"""

from __future__ import annotations

import sqlalchemy as sa

from transforms.cohandling.annex1 import FIELD_CODES

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
    sa.Column("run_id", sa.String(250), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # migration 0012_state (state): routing takes every record whose version in force it has not taken yet
    sa.Column("routed_seq", sa.BigInteger, comment="the version routing last took; the record is due for routing while it differs from change_seq"),
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

# --- remote collection: 异地代收 (migration 0006) ----------------------------------------------
# Packages as received (one row per package version, children keyed by it), the checklists
# the property counties publish (a changed list is a new version), and one verdict per package
# version with every failure: delivery, tracking, handover and reports hang off
# (source, change_seq) and the BWID's state.

REMOTE_PACKAGE_FIELDS: tuple[str, ...] = ("bwid", "sqbh", "sjdwdm", "sjdwmc", "sjxzqh", "sjsj", "sjry", "ywlx", "bdcdyh", "bdcqzh", "zl", "xzqh")
REMOTE_APPLICANT_FIELDS: tuple[str, ...] = ("bwid", "sqrxm", "zjzl", "zjhm", "sqrlb", "hyddm", "hyxzqh", "sfzdq", "htjc", "zwcj", "dzqm", "wxjlbh", "hysj")
REMOTE_MATERIAL_FIELDS: tuple[str, ...] = ("bwid", "clbm", "clmc", "ys", "wjdz", "wjhx", "sfzzyj")

remote_package = sa.Table(
    "remote_package",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("change_time", sa.DateTime, nullable=False),
    sa.Column("op", sa.String(1), nullable=False),
    *(sa.Column(name, sa.Text) for name in REMOTE_PACKAGE_FIELDS),
    sa.Column("run_id", sa.String(250), nullable=False, index=True),  # validation reads a run's packages by it
    sa.Column("received_at", sa.DateTime, nullable=False),
    comment="every remote-collection package version received, as received",
)

remote_applicant = sa.Table(
    "remote_applicant",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("xh", sa.Integer, primary_key=True, autoincrement=False),
    *(sa.Column(name, sa.Text) for name in REMOTE_APPLICANT_FIELDS),
    comment="the applicants of each package version, as received",
)

remote_material = sa.Table(
    "remote_material",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("xh", sa.Integer, primary_key=True, autoincrement=False),
    *(sa.Column(name, sa.Text) for name in REMOTE_MATERIAL_FIELDS),
    sa.Column("file_sha256", sa.String(64), comment="SHA-256 the gateway computed from the file store at receipt; null: no such file"),
    sa.Column("file_size", sa.BigInteger),
    comment="the materials of each package version, as received",
)

remote_checklist_form = sa.Table(
    "remote_checklist_form",
    metadata,
    sa.Column("form_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True, comment="a form already loaded is not loaded again"),
    sa.Column("city_code", sa.String(6)),
    sa.Column("effective", sa.DateTime, nullable=False, comment="when its lists take effect (生效日期, else load time)"),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
    sa.Column("lists_loaded", sa.Integer, nullable=False),
    sa.Column("added", sa.Integer, nullable=False),
    sa.Column("changed", sa.Integer, nullable=False),
    sa.Column("unchanged", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
)

remote_checklist_form_issue = sa.Table(
    "remote_checklist_form_issue",
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

remote_checklist = sa.Table(
    "remote_checklist",
    metadata,
    sa.Column("version_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("xzqh", sa.String(6), nullable=False, comment="the property county that publishes it"),
    sa.Column("business_type", sa.String(4), nullable=False),
    sa.Column("items", sa.Integer, nullable=False),
    sa.Column("valid_from", sa.DateTime, nullable=False),
    sa.Column("valid_to", sa.DateTime, comment="null while in force"),
    sa.Column("form_id", sa.BigInteger, nullable=False),
    sa.Index("ix_remote_checklist_xzqh_business_type", "xzqh", "business_type"),
    comment="one version of a county's list of materials for one business type",
)

remote_checklist_item = sa.Table(
    "remote_checklist_item",
    metadata,
    sa.Column("version_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("material_code", sa.String(20), primary_key=True),
    sa.Column("material_name", sa.Text, nullable=False),
    sa.Column("required", sa.Boolean, nullable=False),
    sa.Column("paper_original", sa.Boolean, nullable=False, comment="the window takes the paper original"),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("source_row", sa.Integer),
)

remote_verdict = sa.Table(
    "remote_verdict",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("bwid", sa.String(64)),
    sa.Column("op", sa.String(1), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, comment="passed | returned (to the collecting hall) | withdrawn"),
    sa.Column("xzqh", sa.String(12)),
    sa.Column("sjdwdm", sa.String(32), comment="the collecting hall"),
    sa.Column("business_type", sa.String(16)),
    sa.Column("checklist_version_id", sa.BigInteger, comment="the checklist it was checked against"),
    sa.Column("channel", sa.String(16), nullable=False, comment="county_system | cross_province | return_to_hall | none"),
    sa.Column("destination", sa.String(64), nullable=False, comment="county_system_<XZQH> | cross_province | the hall code"),
    sa.Column("paper_collected", sa.Boolean, nullable=False),
    sa.Column("paper_handover", sa.Boolean, nullable=False, comment="the hall owes paper originals to the property's authority"),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("validated_at", sa.DateTime, nullable=False),
    comment="one verdict per package version",
)

remote_failure = sa.Table(
    "remote_failure",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("rule_id", sa.String(40), primary_key=True),
    sa.Column("field", sa.String(16), primary_key=True),
    sa.Column("item", sa.String(40), primary_key=True, comment="'' for the package; SQR#n an applicant, CL#n a material, a code a missing material"),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("value", sa.Text, comment="as the module sent it"),
    sa.Column("message_zh", sa.Text, nullable=False),
    sa.Column("message_en", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
)

remote_package_state = sa.Table(
    "remote_package_state",
    metadata,
    sa.Column("bwid", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False, comment="the version in force"),
    sa.Column("op", sa.String(1), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="passed | returned | withdrawn"),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("destination", sa.String(64), nullable=False),
    sa.Column("paper_handover", sa.Boolean, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    comment="the package version in force per BWID",
)

remote_validation_run = sa.Table(
    "remote_validation_run",
    metadata,
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("validated_at", sa.DateTime, nullable=False),
    sa.Column("as_of", sa.DateTime, nullable=False),
    sa.Column("packages_in", sa.BigInteger, nullable=False),
    sa.Column("passed", sa.BigInteger, nullable=False),
    sa.Column("returned", sa.BigInteger, nullable=False),
    sa.Column("withdrawn", sa.BigInteger, nullable=False),
    sa.Column("warnings", sa.BigInteger, nullable=False),
)

# --- remote collection: delivery, status events, paper handover (migration 0007) -----------
# One delivery per package version that passed (key `{BWID}:{change_seq}`); every status
# event a property authority sent, with the check it passed or the issue it raised; the
# handover lists of paper originals (移交清单) and each original on exactly one list.

remote_delivery = sa.Table(
    "remote_delivery",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("bwid", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("channel", sa.String(16), nullable=False, comment="county_system | cross_province"),
    sa.Column("destination", sa.String(64), nullable=False, index=True),
    sa.Column("correction", sa.Boolean, nullable=False, comment="an earlier version of the BWID was delivered"),
    sa.Column("status", sa.String(16), nullable=False, index=True, comment="pending | delivered | rejected | failed | superseded | withdrawn"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("files", sa.Integer, nullable=False, comment="electronic files sent with it"),
    sa.Column("receipt_id", sa.String(200)),
    sa.Column("code", sa.String(8), comment="the receiver's answer code"),
    sa.Column("reason", sa.Text),
    sa.Column("planned_run_id", sa.String(250), nullable=False),
    sa.Column("outcome_run_id", sa.String(250), index=True, comment="the run that recorded rejected / failed: the hall hears of it in that run's return list"),
    sa.Column("planned_at", sa.DateTime, nullable=False),
    sa.Column("first_sent_at", sa.DateTime, comment="UTC: the first attempt (the receiver may hold it from then on)"),
    sa.Column("withdrawal", sa.String(16), comment="null | pending | done | refused: telling the receiver it was withdrawn or went elsewhere"),
    sa.Column("withdrawal_reason", sa.Text),
    sa.Column("withdrawn_at", sa.DateTime, comment="UTC: when the receiver confirmed the withdrawal"),
    sa.Column("delivered_at", sa.DateTime, comment="UTC: since when the receiver holds it (a duplicate answer: since the first attempt)"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    comment="one delivery per passed package version to the property's authority",
)

remote_event = sa.Table(
    "remote_event",
    metadata,
    sa.Column("event_id", BigId, primary_key=True, autoincrement=True),
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
    sa.Column("run_id", sa.String(250), nullable=False, index=True),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Index("ix_remote_event_source_change_seq", "source", "change_seq"),
    comment="every status event a property authority sent",
)

remote_handover = sa.Table(
    "remote_handover",
    metadata,
    sa.Column("list_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("list_no", sa.String(64), nullable=False, unique=True, comment="YJ-<hall>-<XZQH>-<period end>"),
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
    comment="a handover list (移交清单) of paper originals, one hall to one property county for one period",
)

remote_handover_item = sa.Table(
    "remote_handover_item",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("xh", sa.Integer, primary_key=True, autoincrement=False, comment="the material's number in its package"),
    sa.Column("list_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("bwid", sa.String(64), nullable=False),
    sa.Column("clbm", sa.Text),
    sa.Column("clmc", sa.Text),
    sa.Column("ys", sa.Integer),
    comment="each paper original on exactly one handover list",
)

# --- dead letters (migration 0008) -------------------------------------------------------

dead_letter = sa.Table(
    "dead_letter",
    metadata,
    sa.Column("dl_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("surface", sa.String(32), nullable=False, comment="exchange_row | package_row | registry_form | remote_checklist | result_file | result_feed | package_event | …"),
    sa.Column("unit_key", sa.String(250), nullable=False, comment="stable per unit: the same bad unit seen again is the same row"),
    sa.Column("origin", sa.Text, nullable=False, comment="where it came from: file path, feed and cursor, table and change sequence"),
    sa.Column("location", sa.Text, comment="row / column / field inside the unit, where known"),
    sa.Column("rule_id", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, comment="for the person who can fix it (Chinese, naming file / row / column)"),
    sa.Column("payload", sa.LargeBinary, comment="the unit as received (its first DEAD_LETTER_PAYLOAD_MAX bytes)"),
    sa.Column("payload_size", sa.BigInteger, comment="the whole unit's size in bytes"),
    sa.Column("payload_sha256", sa.String(64)),
    sa.Column("owner", sa.Text, comment="who is told: platform | county:<XZQH> | institution:<code> | receiver:<name> | hall:<code>"),
    sa.Column("run_id", sa.String(250)),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("seen_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("status", sa.String(16), nullable=False, server_default="open", comment="open | resolved"),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("resolution", sa.Text, comment="what resolved it: a corrected unit, an operator's decision"),
    sa.UniqueConstraint("surface", "unit_key"),
    comment="every unit that could not enter its stage: kept as received with one rule and a reason, never retried for ever",
)

# --- files (issue 12: result files in the institutions' drops) -------------------------------

inbox_sighting = sa.Table(
    "inbox_sighting",
    metadata,
    sa.Column("source", sa.String(128), primary_key=True, comment="sftp:<drop>"),
    sa.Column("name_key", sa.String(64), primary_key=True, comment="SHA-256 of the file name's raw bytes"),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime", sa.BigInteger, nullable=False, comment="as the server reports it (epoch seconds)"),
    sa.Column("first_seen_at", sa.DateTime, nullable=False, comment="first seen under this name: the wait bound counts from here"),
    sa.Column("stable_since", sa.DateTime, nullable=False, comment="first seen with this size and mtime: the settle time counts from here"),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    comment="a file in a drop's inbox not read yet, as the gateway saw it: completeness by the gateway's own clock",
)

# --- ingest: originals of cleaned text (migration 0010_ingest) -------------

received_original = sa.Table(
    "received_original",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("part", sa.String(32), primary_key=True, comment="'' the row itself; applicant:<XH> | material:<XH> for a package's children"),
    sa.Column("field", sa.String(16), primary_key=True),
    sa.Column("original", sa.LargeBinary, nullable=False, comment="the value as received (UTF-8 bytes, NUL and all)"),
    sa.Column("changes", sa.String(64), nullable=False, comment="kinds cleaned out: control, bidi, zero_width, line_break, odd_space"),
    comment="the value as received where the ingest sanitiser (transforms/text.clean_text) changed it",
)

# --- cancellations of delivered work orders (migration 0011_cancel) ------------

cancel_batch = sa.Table(
    "cancel_batch",
    metadata,
    sa.Column("batch_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(250), nullable=False, comment="the run that planned it"),
    sa.Column("destination", sa.String(64), nullable=False, comment="the institution's drop account"),
    sa.Column("name", sa.String(128), nullable=False, comment="the cancellation batch directory (XBCX<day>_<id>)"),
    sa.Column("file_format", sa.String(16), nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), comment="SHA-256 of the manifest, fixed at the first render"),
    sa.Column("status", sa.String(16), nullable=False, comment="planned | pending | delivered | failed"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime),
    comment="account mode: one cancellation batch per institution and run, its contents fixed when planned",
)

work_order_cancel = sa.Table(
    "work_order_cancel",
    metadata,
    sa.Column("rowguid", sa.String(64), primary_key=True),
    sa.Column("utility", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False, comment="the version the receiver holds (its latest there)"),
    sa.Column("idempotency_key", sa.String(250), nullable=False, unique=True, comment="<key of the version held>:cancel"),
    sa.Column("cause_version", sa.Integer, nullable=False, comment="the version in force that made it (withdrawn, dropped, or sent elsewhere)"),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("destination", sa.String(64), nullable=False),
    sa.Column("reason_code", sa.String(40), nullable=False, comment="RECORD_WITHDRAWN | UTILITY_DROPPED | DESTINATION_CHANGED"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True, comment="pending | cancelled | refused"),
    sa.Column("batch_id", sa.BigInteger, index=True, comment="account: the cancel_batch it goes (went) out in"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("receipt", sa.Text, comment="account: batch path and hashes; HTTP: the receiver's code and receipt"),
    sa.Column("planned_run_id", sa.String(250), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("cancelled_at", sa.DateTime, comment="UTC: when the receiver confirmed (HTTP) or the batch was published (account)"),
    comment="telling a receiver that a work order it holds is no longer wanted: planned once, sent exactly once in effect",
)
