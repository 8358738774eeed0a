"""LUCIE search: trigram indexes on the letters' titles and case references (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:10:00

The mailbox search is `ILIKE '%term%'` on the title or the case reference. Without these indexes a
term found in no letter reads the whole mailbox. pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it. SQLite has no such index: there the search stays a scan. The indexes are
not in the models' metadata (see app.models.POSTGRESQL_ONLY_INDEXES).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_letter_title_trgm ON letter USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX ix_letter_case_reference_trgm ON letter USING gin (case_reference gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_letter_case_reference_trgm")
    op.execute("DROP INDEX ix_letter_title_trgm")
