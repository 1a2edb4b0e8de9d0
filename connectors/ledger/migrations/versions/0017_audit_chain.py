"""A tamper-evident audit log: every entry chained to the one before with SM3 over its canonical form
(transforms/common/audit_chain.py), in one total order kept by the chain head row (audit_chain_head).
The entries already written are chained here in audit_id order, so a ledger with history gets a chain
from its first entry; the append-only triggers are suspended for that one update and put back.

Revision ID: 0017_audit_chain
Revises: 0015_reminders
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connectors.ledger.statements import statement

revision = "0017_audit_chain"
down_revision = "0016_console"
branch_labels = None
depends_on = None

_SQLITE_NO_UPDATE = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                     "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def upgrade() -> None:
    from datetime import UTC, datetime

    from transforms.common.audit_chain import GENESIS, link

    op.add_column("audit_log", sa.Column("seq", sa.BigInteger, comment="place in the chain: 1, 2, 3, … without gaps"))
    op.add_column("audit_log", sa.Column("prev", sa.String(64), comment="hex SM3 hash of the entry before (64 zeros for the first)"))
    op.add_column("audit_log", sa.Column("hash", sa.String(64), comment="hex SM3(prev || canonical form of this entry)"))
    op.create_table(
        "audit_chain_head",
        sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False, comment="always 1: one chain"),
        sa.Column("seq", sa.BigInteger, nullable=False, comment="the last entry's place (0: none yet)"),
        sa.Column("hash", sa.String(64), nullable=False, comment="the last entry's hash"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        comment="the audit chain's head: one row, locked by each append so the chain has one order",
    )
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only" if postgres else "DROP TRIGGER IF EXISTS audit_log_no_update")
    prev, seq, links = GENESIS, 0, []
    for row in bind.execute(statement("select_audit_unchained")).mappings():
        seq += 1
        entry = dict(row) | {"seq": seq}
        prev_hash, prev = prev, link(prev, entry)
        links.append({"audit_id": row["audit_id"], "seq": seq, "prev": prev_hash, "hash": prev})
    for start in range(0, len(links), 1000):
        bind.execute(statement("update_audit_link"), links[start:start + 1000])
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only" if postgres else _SQLITE_NO_UPDATE)
    bind.execute(statement("insert_audit_chain_head"), {"seq": seq, "hash": prev, "updated_at": datetime.now(UTC).replace(tzinfo=None)})
    op.create_index("ux_audit_log_seq", "audit_log", ["seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_audit_log_seq", table_name="audit_log")
    op.drop_table("audit_chain_head")
    for column in ("hash", "prev", "seq"):
        op.drop_column("audit_log", column)
