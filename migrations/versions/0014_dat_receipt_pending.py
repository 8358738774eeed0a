"""a declaration whose accusé de réception still waits for the file store (LUCIE copy)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:00:00

The receipt PDF is rendered and deposited in the establishment's LUCIE mailbox after the submission
commits (not while the reference counter is locked), and a full file store no longer stops the
declaration: the declaration records since when its receipt waits, and the background loop deposits
it (`flask dat remind`, `flask dat receipts`). Existing declarations have their receipt already.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "dat_declaration", sa.Column("receipt_pending_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        op.f("ix_dat_declaration_receipt_pending_since"), "dat_declaration", ["receipt_pending_since"]
    )


def downgrade():
    op.drop_index(op.f("ix_dat_declaration_receipt_pending_since"), table_name="dat_declaration")
    op.drop_column("dat_declaration", "receipt_pending_since")
