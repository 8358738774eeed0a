"""the caisse's side by département: indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 23:30:00

The CPAM inbox and the agents' work queues now select declarations by the caisse's départements
(`dat_declaration.departement`), newest first, instead of by the list of every establishment the
caisse covers; an agent's home page counts the establishments of those départements.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_dat_declaration_caisse", "dat_declaration", ["departement", "submitted_at", "id"])
    op.create_index("ix_establishment_departement", "establishment", ["departement"])


def downgrade():
    op.drop_index("ix_establishment_departement", table_name="establishment")
    op.drop_index("ix_dat_declaration_caisse", table_name="dat_declaration")
