"""failed sign-ins since the last one that succeeded, to tell the account's holder

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:00:00

`failed_logins` counts towards the lock-out and starts again at each lock; `failed_since_login` counts
every wrong password (and every attempt refused during a lock) until the next successful sign-in, which
tells the user how many there were and sets it back to 0.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # A column with a constant default: ALTER TABLE ... ADD COLUMN in place, no copy of the table.
    op.add_column(
        "user_account",
        sa.Column("failed_since_login", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade():
    # A plain column (no index, no key): SQLite 3.35+ drops it in place too.
    op.drop_column("user_account", "failed_since_login")
