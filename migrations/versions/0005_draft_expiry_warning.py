"""draft retention: when the people working on an abandoned draft were told it will be deleted

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:00:00

A draft left without a save for DRAFT_RETENTION_DAYS is deleted (its answers erased), never without a
warning DRAFT_RETENTION_WARNING_DAYS before: `expiry_warned_at` says when it was given.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: ALTER TABLE ... ADD COLUMN in place, no copy of the table.
    op.add_column("draft", sa.Column("expiry_warned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite: batch mode copies the table, which the rows of `submission` reference: foreign keys are
    # switched off for the copy, as in 0002.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("draft") as batch:
        batch.drop_column("expiry_warned_at")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
