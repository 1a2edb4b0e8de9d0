"""The co-handling line's tables: every exchange change as received, once, with the run that
received it (`received_record`, keyed by the platform's change sequence, indexed by run); the
stages after it (validation, work orders per utility, deliveries, cancellations, results) hang
off (ROWGUID, change_seq)."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.ledger.schema import BigId, metadata
from transforms.cohandling.annex1 import FIELD_CODES

ANNEX1_COLUMNS: tuple[str, ...] = tuple(code.lower() for code in FIELD_CODES)

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
    # A run's changes are found through the key range its extract_batch rows cover (after_seq,
    # max_seq] plus run_id; later stages keep their own per-ROWGUID state. Two secondary indexes
    # since migration 0016 (below the tables): ROWGUID and YCYWH, for the trace of a record — each
    # costs the bulk load (random ROWGUIDs scatter a B-tree over the whole table): bench-extract says how much.
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
    sa.Column("seq", sa.Integer, comment="account: the batch's number at its institution drop, 1, 2, 3, … without gaps (migration 0014)"),
    sa.Index("ux_delivery_batch_destination_seq", "destination", "seq", unique=True),
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
    sa.Column("phone", sa.Text, nullable=False, comment="an SM4 token (connectors/ledger/personal.py)"),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="queued (sending is another system's job)"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("rowguid", "utility", "version"),
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
    sa.Column("seq", sa.Integer, comment="the batch's number among the institution's cancellation batches, 1, 2, 3, … (migration 0014)"),
    sa.Index("ux_cancel_batch_destination_seq", "destination", "seq", unique=True),
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

# --- weekly overdue reminders (migration 0015_reminders) ---------------------------------------

overdue_reminder = sa.Table(
    "overdue_reminder",
    metadata,
    sa.Column("week", sa.String(8), primary_key=True, comment="ISO week of the reminder, e.g. 2026-W49 (Asia/Shanghai)"),
    sa.Column("channel", sa.String(8), primary_key=True, comment="account | system | grid | county"),
    sa.Column("destination", sa.String(64), primary_key=True,
              comment="account: the institution's drop; system: county_system_<XZQH>; grid; county: county:<XZQH> (a list in the report folder)"),
    sa.Column("name", sa.String(128), nullable=False, comment="account: the reminder folder in the drop (CB<week>); HTTP: the batch_id; county: the file name"),
    sa.Column("file_format", sa.String(16)),
    sa.Column("institution_code", sa.String(32)),
    sa.Column("xzqh", sa.String(6)),
    sa.Column("records", sa.Integer, nullable=False, comment="overdue work orders in it"),
    sa.Column("items", sa.Text, nullable=False, comment="JSON: the overdue work orders as fixed when planned (a retry sends the same)"),
    sa.Column("status", sa.String(16), nullable=False, index=True, comment="pending | sent | failed | superseded (a later week's replaced it unsent)"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("receipt", sa.Text, comment="account: the folder and hashes; HTTP: the receiver's answers by code; county: the files written"),
    sa.Column("run_id", sa.String(250), nullable=False, comment="the run that planned it"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    comment="one overdue reminder per recipient and ISO week: planned once (the key), sent once in effect",
)

# --- the console's read model (migration 0016_console) -----------------------------------------
# The reconciled status of every work order in force, kept by jobs/cohandling/order_status.py (hourly with the results,
# and at once for the work orders a console result touches), read by the console's pages with SQL in their scope.
# "overdue" is never stored: it is a clock's verdict, derived when read (status delivered/acknowledged and due_date
# before the reader's today — sql/ledger/cohandling/console_*.sql). No personal field: the pages read those by key.

order_status = sa.Table(
    "order_status",
    metadata,
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
    sa.Index("ix_order_status_city", "city_code", "status", "due_date"),
    sa.Index("ix_order_status_county", "xzqh", "status", "due_date"),
    sa.Index("ix_order_status_institution", "institution_code", "status", "due_date"),
    sa.Index("ix_order_status_open", "status", "due_date"),
    sa.Index("ix_order_status_refreshed", "refreshed_at"),
    comment="the console's read model: each work order in force as reconciled at its last refresh (overdue derived when read)",
)

# the overdue list's order (console_overdue_rows.sql), over the open work orders only: its first page without a sort
_open = order_status.c.status.in_(["delivered", "acknowledged"])
sa.Index("ix_order_status_overdue", *(order_status.c[c] for c in ("city_code", "utility_rank", "institution_code", "institution_name", "due_date", "xzqh",
                                                                    "platform_no", "rowguid")), postgresql_where=_open, sqlite_where=_open)

order_status_count = sa.Table(
    "order_status_count",
    metadata,
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
    sa.Index("ix_order_status_count_city", "city_code"),
    sa.Index("ix_order_status_count_county", "xzqh"),
    sa.Index("ix_order_status_count_institution", "institution_code"),
    comment="order_status counted by county, utility, institution, status (and due date while open): the console's counts",
)

# migration 0016: the trace's lookups by ROWGUID / YCYWH, the exceptions page's newest first, the quarantine page's lines
_held = record_verdict.c.status.in_(["quarantined", "duplicate", "partial"])
sa.Index("ix_record_verdict_held", record_verdict.c.change_seq, postgresql_where=_held, sqlite_where=_held)
sa.Index("ix_received_record_rowguid", received_record.c.rowguid)
sa.Index("ix_received_record_ycywh", received_record.c.ycywh)
sa.Index("ix_result_exception_rowguid", result_exception.c.rowguid)
sa.Index("ix_result_exception_received_at", result_exception.c.received_at)
