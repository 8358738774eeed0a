"""QR Pro (issue 13): a case's instruction (stage, victim, disease, receipts, D0, decision), its stored legal
dates, its letters to each party, its timeline of dated events and its dossier (pieces, observations)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:10:00

Existing cases (issue 12's, without an instruction) stay « à ouvrir »; their victim's département is taken
from their caisse's first département when they have one, else from their establishment's (the best the
data tells). Existing declarations do not get a case here: received from now on, each DAT opens its own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def new_columns():
    return (
        sa.Column("declaration_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False, server_default="a_ouvrir"),
        sa.Column("fatal", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("victim_departement", sa.String(length=3), nullable=False, server_default=""),
        sa.Column("victim_nir", sa.String(length=15), nullable=False, server_default=""),
        sa.Column("victim_address", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("disease_table", sa.String(length=10), nullable=True),
        sa.Column("disease_label", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("first_finding_on", sa.Date(), nullable=True),
        sa.Column("declaration_received_on", sa.Date(), nullable=True),
        sa.Column("cmi_received_on", sa.Date(), nullable=True),
        sa.Column("d0", sa.Date(), nullable=True),
        sa.Column("employer_model", sa.String(length=60), nullable=True),
        sa.Column("victim_model", sa.String(length=60), nullable=True),
        sa.Column("instruction_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decision_reasons", sa.Text(), nullable=False, server_default=""),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
    )


DEFAULTED = (
    "stage",
    "fatal",
    "victim_departement",
    "victim_nir",
    "victim_address",
    "disease_label",
    "decision_reasons",
)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies the table, which drafts and submissions reference.
        op.execute("PRAGMA foreign_keys=OFF")
    for column in new_columns():
        op.add_column("case_file", column)
    _fill_existing_rows()
    with op.batch_alter_table("case_file") as batch:
        # The defaults served the existing rows; the application writes every value itself.
        for column in new_columns():
            if column.name in DEFAULTED:
                batch.alter_column(column.name, existing_type=column.type, server_default=None)
        batch.create_unique_constraint(op.f("uq_case_file_declaration_id"), ["declaration_id"])
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    op.create_index("ix_case_file_queue", "case_file", ["caisse_id", "next_due_on", "id"])
    op.create_index("ix_case_file_victim_departement", "case_file", ["victim_departement", "establishment_id"])

    op.create_table(
        "case_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("legal_basis", sa.String(length=80), nullable=False),
        sa.Column("start_event", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("rule_version", sa.String(length=40), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("override_on", sa.Date(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("overridden_by_id", sa.Integer(), nullable=True),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_date_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["overridden_by_id"], ["user_account.id"], name=op.f("fk_case_date_overridden_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_date")),
        sa.UniqueConstraint("case_id", "kind", name=op.f("uq_case_date_case_id")),
    )
    op.create_index(op.f("ix_case_date_case_id"), "case_date", ["case_id"])

    op.create_table(
        "case_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=10), nullable=False),
        sa.Column("letter_type", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("not_deposited", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_letter_case_id_case_file")),
        sa.ForeignKeyConstraint(["letter_id"], ["letter.id"], name=op.f("fk_case_letter_letter_id_letter")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_case_letter_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_letter")),
        sa.UniqueConstraint("case_id", "letter_type", "party", name=op.f("uq_case_letter_case_id")),
    )
    op.create_index(op.f("ix_case_letter_case_id"), "case_letter", ["case_id"])

    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=10), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("case_letter_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_event_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_case_event_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["case_letter_id"], ["case_letter.id"], name=op.f("fk_case_event_case_letter_id_case_letter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    op.create_index("ix_case_event_case_at", "case_event", ["case_id", "at"])

    op.create_table(
        "case_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("party", sa.String(length=10), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("secret_medical", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_document_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_case_document_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_document")),
    )
    op.create_index("ix_case_document_case", "case_document", ["case_id", "created_at"])


def _fill_existing_rows():
    """The victim's département of the cases issue 12 created: their caisse's first, else their
    establishment's (D0 unknown: their instruction cannot open before a receipt is recorded)."""
    op.execute(
        sa.text(
            "UPDATE case_file SET victim_departement = COALESCE("
            "(SELECT substr(caisse.departements, 1, instr(caisse.departements || ' ', ' ') - 1) "
            "FROM caisse WHERE caisse.id = case_file.caisse_id), "
            "(SELECT establishment.departement FROM establishment "
            "WHERE establishment.id = case_file.establishment_id), '')"
        )
        if op.get_bind().dialect.name == "sqlite"
        else sa.text(
            "UPDATE case_file SET victim_departement = COALESCE("
            "(SELECT split_part(caisse.departements, ' ', 1) FROM caisse WHERE caisse.id = case_file.caisse_id), "
            "(SELECT establishment.departement FROM establishment "
            "WHERE establishment.id = case_file.establishment_id), '')"
        )
    )


def downgrade():
    op.drop_index("ix_case_document_case", table_name="case_document")
    op.drop_table("case_document")
    op.drop_index("ix_case_event_case_at", table_name="case_event")
    op.drop_table("case_event")
    op.drop_index(op.f("ix_case_letter_case_id"), table_name="case_letter")
    op.drop_table("case_letter")
    op.drop_index(op.f("ix_case_date_case_id"), table_name="case_date")
    op.drop_table("case_date")
    op.drop_index("ix_case_file_victim_departement", table_name="case_file")
    op.drop_index("ix_case_file_queue", table_name="case_file")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("case_file") as batch:
        batch.drop_constraint(op.f("uq_case_file_declaration_id"), type_="unique")
        for column in reversed(new_columns()):
            batch.drop_column(column.name)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
