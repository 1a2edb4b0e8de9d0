"""Remote collection's (异地代收) tables: packages as received, checklists, verdicts, deliveries,
status events and paper handover lists."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.ledger.schema import BigId, metadata

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

sa.Index("ix_remote_package_bwid", remote_package.c.bwid)  # migration 0016: the trace's lookup by BWID
