"""QR Pro (issue 13, items 6 and 8): a victim's letter's first download is dated once

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:00:00

A partial unique index on the case's events: two downloads at the same moment cannot both record the
« courrier téléchargé » event of one letter (the victim's counterpart of LUCIE's first consultation).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

WHERE = sa.text("kind = 'courrier_telecharge'")


def upgrade():
    op.create_index(
        "uq_case_event_letter_downloaded",
        "case_event",
        ["case_letter_id"],
        unique=True,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade():
    op.drop_index("uq_case_event_letter_downloaded", table_name="case_event")
