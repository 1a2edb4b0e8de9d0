"""Remote collection (异地代收): packages as received with their applicants and materials,
the property counties' checklists with their history, one verdict per package version with
every failure, the version in force per BWID, and the counts of each validation run.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PACKAGE_FIELDS = ("bwid", "sqbh", "sjdwdm", "sjdwmc", "sjxzqh", "sjsj", "sjry", "ywlx", "bdcdyh", "bdcqzh", "zl", "xzqh")
APPLICANT_FIELDS = ("bwid", "sqrxm", "zjzl", "zjhm", "sqrlb", "hyddm", "hyxzqh", "sfzdq", "htjc", "zwcj", "dzqm", "wxjlbh", "hysj")
MATERIAL_FIELDS = ("bwid", "clbm", "clmc", "ys", "wjdz", "wjhx", "sfzzyj")


def upgrade() -> None:
    op.create_table(
        "remote_package",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("change_time", sa.DateTime, nullable=False),
        sa.Column("op", sa.String(1), nullable=False),
        *(sa.Column(name, sa.Text) for name in PACKAGE_FIELDS),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "change_seq", name="pk_remote_package"),
        comment="every remote-collection package version received, as received",
    )
    op.create_index("ix_remote_package_run_id", "remote_package", ["run_id"])
    op.create_table(
        "remote_applicant",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("xh", sa.Integer, autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Text) for name in APPLICANT_FIELDS),
        sa.PrimaryKeyConstraint("source", "change_seq", "xh", name="pk_remote_applicant"),
        comment="the applicants of each package version, as received",
    )
    op.create_table(
        "remote_material",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("xh", sa.Integer, autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Text) for name in MATERIAL_FIELDS),
        sa.Column("file_sha256", sa.String(64), comment="SHA-256 the gateway computed from the file store at receipt; null: no such file"),
        sa.Column("file_size", sa.BigInteger),
        sa.PrimaryKeyConstraint("source", "change_seq", "xh", name="pk_remote_material"),
        comment="the materials of each package version, as received",
    )
    op.create_table(
        "remote_checklist_form",
        sa.Column("form_id", BigId, autoincrement=True, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, comment="a form already loaded is not loaded again"),
        sa.Column("city_code", sa.String(6)),
        sa.Column("effective", sa.DateTime, nullable=False, comment="when its lists take effect (生效日期, else load time)"),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
        sa.Column("lists_loaded", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("form_id", name="pk_remote_checklist_form"),
        sa.UniqueConstraint("sha256", name="uq_remote_checklist_form_sha256"),
    )
    op.create_table(
        "remote_checklist_form_issue",
        sa.Column("form_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("row_number", sa.Integer),
        sa.Column("column_name", sa.Text),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("form_id", "seq", name="pk_remote_checklist_form_issue"),
    )
    op.create_table(
        "remote_checklist",
        sa.Column("version_id", BigId, autoincrement=True, nullable=False),
        sa.Column("xzqh", sa.String(6), nullable=False, comment="the property county that publishes it"),
        sa.Column("business_type", sa.String(4), nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.DateTime, nullable=False),
        sa.Column("valid_to", sa.DateTime, comment="null while in force"),
        sa.Column("form_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_remote_checklist"),
        comment="one version of a county's list of materials for one business type",
    )
    op.create_index("ix_remote_checklist_xzqh_business_type", "remote_checklist", ["xzqh", "business_type"])
    op.create_table(
        "remote_checklist_item",
        sa.Column("version_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("material_code", sa.String(20), nullable=False),
        sa.Column("material_name", sa.Text, nullable=False),
        sa.Column("required", sa.Boolean, nullable=False),
        sa.Column("paper_original", sa.Boolean, nullable=False, comment="the window takes the paper original"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("source_row", sa.Integer),
        sa.PrimaryKeyConstraint("version_id", "material_code", name="pk_remote_checklist_item"),
    )
    op.create_table(
        "remote_verdict",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("bwid", sa.String(64)),
        sa.Column("op", sa.String(1), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
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
        sa.PrimaryKeyConstraint("source", "change_seq", name="pk_remote_verdict"),
        comment="one verdict per package version",
    )
    op.create_index("ix_remote_verdict_run_id", "remote_verdict", ["run_id"])
    op.create_table(
        "remote_failure",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("item", sa.String(40), nullable=False, comment="'' for the package; SQR#n an applicant, CL#n a material, a code a missing material"),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("value", sa.Text, comment="as the module sent it"),
        sa.Column("message_zh", sa.Text, nullable=False),
        sa.Column("message_en", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("source", "change_seq", "rule_id", "field", "item", name="pk_remote_failure"),
    )
    op.create_table(
        "remote_package_state",
        sa.Column("bwid", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False, comment="the version in force"),
        sa.Column("op", sa.String(1), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="passed | returned | withdrawn"),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("paper_handover", sa.Boolean, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("bwid", name="pk_remote_package_state"),
        comment="the package version in force per BWID",
    )
    op.create_index("ix_remote_package_state_run_id", "remote_package_state", ["run_id"])
    op.create_table(
        "remote_validation_run",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("validated_at", sa.DateTime, nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False),
        sa.Column("packages_in", sa.BigInteger, nullable=False),
        sa.Column("passed", sa.BigInteger, nullable=False),
        sa.Column("returned", sa.BigInteger, nullable=False),
        sa.Column("withdrawn", sa.BigInteger, nullable=False),
        sa.Column("warnings", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_remote_validation_run"),
    )


def downgrade() -> None:
    op.drop_index("ix_remote_package_state_run_id", "remote_package_state")
    op.drop_index("ix_remote_verdict_run_id", "remote_verdict")
    op.drop_index("ix_remote_checklist_xzqh_business_type", "remote_checklist")
    op.drop_index("ix_remote_package_run_id", "remote_package")
    for table in (
        "remote_validation_run", "remote_package_state", "remote_failure", "remote_verdict", "remote_checklist_item", "remote_checklist",
        "remote_checklist_form_issue", "remote_checklist_form", "remote_material", "remote_applicant", "remote_package",
    ):
        op.drop_table(table)
