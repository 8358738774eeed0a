"""DAT deadline reminders: once per draft and person

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:00:00

A partial unique index on the outbox: two reminder runs at once cannot queue the same reminder twice.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WHERE = sa.text("kind = 'dat_deadline_reminder'")


def upgrade():
    op.create_index(
        "uq_outbox_dat_reminder",
        "outbox_message",
        ["related_id", "recipient"],
        unique=True,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade():
    op.drop_index("uq_outbox_dat_reminder", table_name="outbox_message")
