"""draft subjects: cases, a draft's case and party, opening and closing times

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:00:00

A draft belongs to an establishment (every existing draft) or to a party of a case — the employer side
of an AT/MP case, or the victim, who has no company. `case_file` is the case (kept small: QR Pro adds
its instruction around it). A draft, or its case, may carry the times it opens and closes; existing
drafts have neither (no bound), existing submissions no case.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SUBJECT_TABLES = ("draft", "submission")


def upgrade():
    op.create_table(
        "case_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=2), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=True),
        sa.Column("victim_name", sa.String(length=200), nullable=False),
        sa.Column("caisse_id", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishment.id"], name=op.f("fk_case_file_establishment_id_establishment")
        ),
        sa.ForeignKeyConstraint(["victim_id"], ["user_account.id"], name=op.f("fk_case_file_victim_id_user_account")),
        sa.ForeignKeyConstraint(["caisse_id"], ["caisse.id"], name=op.f("fk_case_file_caisse_id_caisse")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_file")),
        sa.UniqueConstraint("reference", name=op.f("uq_case_file_reference")),
    )
    for column in ("establishment_id", "victim_id", "caisse_id"):
        op.create_index(op.f(f"ix_case_file_{column}"), "case_file", [column])

    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in SUBJECT_TABLES:
        # Nullable columns: ALTER TABLE ... ADD COLUMN in place, no copy of the table.
        if sqlite:
            # SQLite cannot add a constraint to a table, but takes one inline with a new column.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN case_id INTEGER "
                f"CONSTRAINT fk_{table}_case_id_case_file REFERENCES case_file (id)"
            )
        else:
            op.add_column(table, sa.Column("case_id", sa.Integer(), nullable=True))
            op.create_foreign_key(op.f(f"fk_{table}_case_id_case_file"), table, "case_file", ["case_id"], ["id"])
        op.create_index(op.f(f"ix_{table}_case_id"), table, ["case_id"])
    op.add_column("submission", sa.Column("party", sa.String(length=10), nullable=True))
    if sqlite:
        op.execute(
            "ALTER TABLE draft ADD COLUMN party VARCHAR(10) "
            "CONSTRAINT ck_draft_case_party CHECK ((case_id IS NULL) = (party IS NULL))"
        )
    else:
        op.add_column("draft", sa.Column("party", sa.String(length=10), nullable=True))
        op.create_check_constraint(op.f("ck_draft_case_party"), "draft", "(case_id IS NULL) = (party IS NULL)")
    op.add_column("draft", sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("draft", sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))
    live = sa.text("case_id IS NOT NULL AND discarded_at IS NULL")
    op.create_index(
        "uq_draft_case_party_live",
        "draft",
        ["workflow", "case_id", "party"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )


def downgrade():
    # The foreign keys and the check go with their columns. SQLite: batch mode copies the tables, whose
    # rows other tables reference: foreign keys are switched off for the copy (see 0002).
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("uq_draft_case_party_live", table_name="draft")
    for table in SUBJECT_TABLES:
        op.drop_index(op.f(f"ix_{table}_case_id"), table_name=table)
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("draft") as batch:
        batch.drop_constraint(op.f("ck_draft_case_party"), type_="check")
        for column in ("closes_at", "opens_at", "party", "case_id"):
            batch.drop_column(column)
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("party")
        batch.drop_column("case_id")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    for column in ("establishment_id", "victim_id", "caisse_id"):
        op.drop_index(op.f(f"ix_case_file_{column}"), table_name="case_file")
    op.drop_table("case_file")
