"""audit trail: a person's events by time, for « Mon compte »'s last sign-ins

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 23:10:00

« Mon compte » shows the account's last five sign-ins from the audit trail. With an index on user_id
alone, the database read every event of the person to keep the five newest sign-ins: 66 ms on SQLite
for someone with 150 000 events (every autosave is one), growing with use. The index (user_id, at, id)
replaces it: the newest events come first and the read stops at the fifth sign-in. It serves whatever
the old one served (its first column is the same).
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_event_user_recent", "audit_event", ["user_id", "at", "id"])
    op.drop_index("ix_audit_event_user_id", table_name="audit_event")


def downgrade():
    op.create_index("ix_audit_event_user_id", "audit_event", ["user_id"])
    op.drop_index("ix_audit_event_user_recent", table_name="audit_event")
