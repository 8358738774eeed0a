"""QR Pro (issue 13, leftovers): the questionnaire models a case pins, and the editions of a letter

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 18:30:00

- ``case_file.employer_model_version`` / ``victim_model_version``: the version of the chosen form model
  the party answers on, pinned when the agent chooses it (a version published later does not change the
  case's questionnaire). Existing cases get the version their party's draft was started on, else the
  highest version published now — the one their party would have started on until today.
- ``case_letter.edition``: a step's letter is edition 1; each rescheduling of the consultation issues
  the next edition of the information letter, the earlier ones staying. The two unique keys of 0021
  gain the edition — (case, type, establishment, edition) for the employers, (case, type, party, edition)
  for the victim: still once per step and per rescheduling.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

PIN = """
UPDATE case_file SET {party}_model_version = COALESCE(
    (SELECT MAX(draft.form_version) FROM draft
     WHERE draft.case_id = case_file.id AND draft.party = '{label}'
       AND draft.workflow = case_file.{party}_model),
    (SELECT MAX(form_model_version.version) FROM form_model_version
     WHERE form_model_version.code = case_file.{party}_model AND form_model_version.status = 'published')
)
WHERE {party}_model IS NOT NULL
"""


EMPLOYER = sa.text("establishment_id IS NOT NULL")
VICTIM = sa.text("establishment_id IS NULL")


def _letter_keys(*, with_edition: bool):
    edition = ["edition"] if with_edition else []
    op.create_index(
        "uq_case_letter_employer",
        "case_letter",
        ["case_id", "letter_type", "establishment_id", *edition],
        unique=True,
        sqlite_where=EMPLOYER,
        postgresql_where=EMPLOYER,
    )
    op.create_index(
        "uq_case_letter_party",
        "case_letter",
        ["case_id", "letter_type", "party", *edition],
        unique=True,
        sqlite_where=VICTIM,
        postgresql_where=VICTIM,
    )


def upgrade():
    # A column with a default: added in place, no copy of the table.
    op.add_column("case_letter", sa.Column("edition", sa.Integer(), server_default="1", nullable=False))
    op.drop_index("uq_case_letter_party", table_name="case_letter")
    op.drop_index("uq_case_letter_employer", table_name="case_letter")
    _letter_keys(with_edition=True)
    # Nullable columns: added in place, no copy of the table.
    op.add_column("case_file", sa.Column("employer_model_version", sa.Integer(), nullable=True))
    op.add_column("case_file", sa.Column("victim_model_version", sa.Integer(), nullable=True))
    op.execute(PIN.format(party="employer", label="employeur"))
    op.execute(PIN.format(party="victim", label="victime"))


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Before the first write: SQLite ignores the pragma inside a transaction (see 0002). Batch mode
        # copies the tables, which others reference.
        op.execute("PRAGMA foreign_keys=OFF")
    # The later editions of a rescheduled consultation's letter cannot fit the old keys: they go (their
    # timeline events first, which point to them); the LUCIE letters themselves stay in the mailbox.
    op.execute(
        "DELETE FROM case_event WHERE case_letter_id IN (SELECT id FROM case_letter WHERE edition > 1)"
    )
    op.execute("DELETE FROM case_letter WHERE edition > 1")
    op.drop_index("uq_case_letter_party", table_name="case_letter")
    op.drop_index("uq_case_letter_employer", table_name="case_letter")
    _letter_keys(with_edition=False)
    with op.batch_alter_table("case_letter") as batch:
        batch.drop_column("edition")
    with op.batch_alter_table("case_file") as batch:
        batch.drop_column("victim_model_version")
        batch.drop_column("employer_model_version")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
