"""The ledger's tables every line shares: extraction watermarks, the audit log (which the database
refuses to change), feed cursors, dead letters, inbox sightings, the originals of cleaned values,
and the shared state of concurrent runs: stage-lock leases (SQLite) and the product lines' clocks."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.ledger.schema import BigId, metadata

extract_watermark = sa.Table(
    "extract_watermark",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False, comment="highest platform CHANGE_SEQ loaded"),
    sa.Column("reread_from", sa.DateTime, comment="UTC: changes written at or after this are read again"),
    sa.Column("fence", sa.Text, comment="PostgreSQL sources: JSON, the snapshot fence (transforms/common/fence.py)"),
    sa.Column("run_id", sa.String(250)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
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
    # The hash chain (migration 0017, transforms/common/audit_chain.py): place, the hash it follows, its SM3 hash.
    sa.Column("seq", sa.BigInteger, comment="place in the chain: 1, 2, 3, … without gaps"),
    sa.Column("prev", sa.String(64), comment="hex SM3 hash of the entry before (64 zeros for the first)"),
    sa.Column("hash", sa.String(64), comment="hex SM3(prev || canonical form of this entry)"),
    sa.Index("ux_audit_log_seq", "seq", unique=True),
)

audit_chain_head = sa.Table(
    "audit_chain_head",
    metadata,
    sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False, comment="always 1: one chain"),
    sa.Column("seq", sa.BigInteger, nullable=False, comment="the last entry's place (0: none yet)"),
    sa.Column("hash", sa.String(64), nullable=False, comment="the last entry's hash"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    comment="the audit chain's head: one row, locked by each append so the chain has one order",
)

# --- handling results and reconciliation (migration 0005) ------------------------------------

result_source = sa.Table(
    "result_source",
    metadata,
    sa.Column("source", sa.String(128), primary_key=True, comment="feed:<receiver> (HTTP results feed) or sftp:<drop>"),
    sa.Column("cursor", sa.Text, comment="feeds: where the next poll starts"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
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


# --- concurrent runs (migration 0013_locks; connectors/ledger/lock_store.py) -----------------

ledger_lock = sa.Table(
    "ledger_lock",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True, comment="the stage lock: extract:<source>, cohandling.route, inbox:<surface>, …"),
    sa.Column("holder", sa.String(250), nullable=False, comment="host:pid:run of the holder (for people)"),
    sa.Column("token", sa.String(32), nullable=False, comment="the holder's own: only it renews or releases the lease"),
    sa.Column("acquired_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("expires_at", sa.DateTime, nullable=False, comment="UTC: a lease not renewed by then is free (its holder died)"),
    comment="stage-lock leases on SQLite (one host); on PostgreSQL stage locks are session advisory locks and leave no row",
)

stage_clock = sa.Table(
    "stage_clock",
    metadata,
    sa.Column("clock", sa.String(32), primary_key=True, comment="the product line: cohandling | remote"),
    sa.Column("high_water", sa.DateTime, nullable=False, comment="local time: the newest as-of any stage of the line has run with"),
    sa.Column("run_id", sa.String(250), comment="the run that moved it there"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    comment="each line's clock never goes back: a run as of an older time (a backfill) runs as of this one",
)
