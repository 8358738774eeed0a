"""QR Pro (issue 13, item 2): an MP case with several employer establishments

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:30:00

The victim of an occupational disease may have been exposed at several employers: each is a party
« employeur » of the case. The first establishment stays the case's own (``case_file.establishment_id``);
the others are rows of ``case_employer`` (position 1, 2, … in the agent's order).

- ``case_letter`` names the employer establishment a letter was deposited for: a letter is once per
  (case, type, establishment) for the employers, once per (case, type, party) for the victim (two partial
  unique indexes replace the unique constraint on (case, type, party)). The existing employer letters get
  their case's establishment, the only employer they could have been for.
- ``case_document`` names the establishment an employer's observations come from (existing ones: the
  case's establishment).
- A case party's live draft is unique per (workflow, case, party, establishment): each employer
  establishment answers its own questionnaire.

Downgrading is refused while a case has another employer: the letters deposited for it, its
questionnaire and its observations are the proof of the contradictory phase and cannot be folded into
one employer.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

EMPLOYER = sa.text("establishment_id IS NOT NULL")
VICTIM = sa.text("establishment_id IS NULL")
LIVE = sa.text("case_id IS NOT NULL AND discarded_at IS NULL")


def upgrade():
    op.create_table(
        "case_employer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_employer_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_case_employer_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_employer")),
        sa.UniqueConstraint("case_id", "establishment_id", name="uq_case_employer_establishment"),
        sa.UniqueConstraint("case_id", "position", name="uq_case_employer_position"),
    )
    op.create_index(op.f("ix_case_employer_establishment_id"), "case_employer", ["establishment_id"])

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies the tables, which the case's events reference.
        op.execute("PRAGMA foreign_keys=OFF")
    op.add_column("case_letter", sa.Column("establishment_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE case_letter SET establishment_id = (SELECT case_file.establishment_id FROM case_file "
        "WHERE case_file.id = case_letter.case_id) WHERE party = 'employeur'"
    )
    with op.batch_alter_table("case_letter") as batch:
        batch.drop_constraint(op.f("uq_case_letter_case_id"), type_="unique")
        batch.create_foreign_key(
            op.f("fk_case_letter_establishment_id_establishment"), "establishment", ["establishment_id"], ["id"]
        )
    op.add_column("case_document", sa.Column("establishment_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE case_document SET establishment_id = (SELECT case_file.establishment_id FROM case_file "
        "WHERE case_file.id = case_document.case_id) WHERE kind = 'observation' AND party = 'employeur'"
    )
    with op.batch_alter_table("case_document") as batch:
        batch.create_foreign_key(
            op.f("fk_case_document_establishment_id_establishment"),
            "establishment",
            ["establishment_id"],
            ["id"],
        )
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    op.create_index(
        "uq_case_letter_employer",
        "case_letter",
        ["case_id", "letter_type", "establishment_id"],
        unique=True,
        sqlite_where=EMPLOYER,
        postgresql_where=EMPLOYER,
    )
    op.create_index(
        "uq_case_letter_party",
        "case_letter",
        ["case_id", "letter_type", "party"],
        unique=True,
        sqlite_where=VICTIM,
        postgresql_where=VICTIM,
    )

    op.drop_index("uq_draft_case_party_live", table_name="draft")
    op.create_index(
        "uq_draft_case_party_live",
        "draft",
        ["workflow", "case_id", "party", "establishment_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade():
    if op.get_bind().execute(sa.text("SELECT count(*) FROM case_employer")).scalar():
        raise RuntimeError(
            "Des dossiers ont plusieurs employeurs (table case_employer) : leurs courriers, questionnaires "
            "et observations ne peuvent pas être ramenés à un seul employeur. Rétrogradation refusée."
        )
    op.drop_index("uq_draft_case_party_live", table_name="draft")
    op.create_index(
        "uq_draft_case_party_live",
        "draft",
        ["workflow", "case_id", "party"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.drop_index("uq_case_letter_party", table_name="case_letter")
    op.drop_index("uq_case_letter_employer", table_name="case_letter")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("case_document") as batch:
        batch.drop_constraint(op.f("fk_case_document_establishment_id_establishment"), type_="foreignkey")
        batch.drop_column("establishment_id")
    with op.batch_alter_table("case_letter") as batch:
        batch.drop_constraint(op.f("fk_case_letter_establishment_id_establishment"), type_="foreignkey")
        batch.drop_column("establishment_id")
        batch.create_unique_constraint(op.f("uq_case_letter_case_id"), ["case_id", "letter_type", "party"])
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    op.drop_index(op.f("ix_case_employer_establishment_id"), table_name="case_employer")
    op.drop_table("case_employer")
