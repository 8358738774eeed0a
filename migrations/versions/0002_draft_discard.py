"""draft discard: who deleted a draft, and when

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:45:00

A discarded draft keeps its row (the audit trail and a stale tab still name it) but not its answers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable columns: ALTER TABLE ... ADD COLUMN in place, no copy of the table.
    op.add_column("draft", sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but takes a foreign key inline with a new column.
        op.execute(
            "ALTER TABLE draft ADD COLUMN discarded_by_id INTEGER "
            "CONSTRAINT fk_draft_discarded_by_id_user_account REFERENCES user_account (id)"
        )
    else:
        op.add_column("draft", sa.Column("discarded_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_draft_discarded_by_id_user_account"), "draft", "user_account", ["discarded_by_id"], ["id"]
        )


def downgrade():
    # The foreign key goes with its column. SQLite: batch mode copies the table without both, then drops
    # the old one, which the rows of `submission` still reference: foreign keys are switched off for
    # the copy (SQLite's documented procedure; the PRAGMA works before the first write opens a transaction).
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("draft") as batch:
        batch.drop_column("discarded_by_id")
        batch.drop_column("discarded_at")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
