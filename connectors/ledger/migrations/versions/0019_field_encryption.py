"""Personal data at rest as SM4-GCM tokens (issue 15 item 1; connectors/ledger/personal.py, docs/security.md): the one
personal column too narrow for a token (`sms_outbox.phone`, String(32); a phone's token is about 66 characters) becomes
Text. Every other personal column is Text or bytes already. Rows written before this revision stay clear until a
rotation run encrypts them (`python -m tools.cli keys rotate`, docs/security.md "Encrypting an existing ledger").

Revision ID: 0019_field_encryption
Revises: 0018_extract_fence
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_field_encryption"
down_revision = "0018_extract_fence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_outbox") as batch:
        batch.alter_column("phone", type_=sa.Text, existing_type=sa.String(32), existing_nullable=False,
                           comment="an SM4 token (connectors/ledger/personal.py)")


def downgrade() -> None:
    with op.batch_alter_table("sms_outbox") as batch:
        batch.alter_column("phone", type_=sa.String(32), existing_type=sa.Text, existing_nullable=False, comment=None)
