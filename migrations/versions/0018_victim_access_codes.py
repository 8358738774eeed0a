"""QR Pro (issue 13, item 6): the victim's one-time access codes, stored hashed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 15:10:00

One row per code printed in a victim's letter: its keyed hash (never the code), who issued it, when it
was used and by which account, whether a newer code revoked it, and the count of wrong attempts on the
case with the lock they set.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "victim_access_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_victim_access_code_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_victim_access_code_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"], ["user_account.id"], name=op.f("fk_victim_access_code_used_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_access_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_victim_access_code_code_hash")),
    )
    op.create_index(op.f("ix_victim_access_code_case_id"), "victim_access_code", ["case_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_victim_access_code_case_id"), table_name="victim_access_code")
    op.drop_table("victim_access_code")
