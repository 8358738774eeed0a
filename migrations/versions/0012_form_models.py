"""form models as data: their versions, and the version each draft and submission was made on

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:00:00

A questionnaire published by the caisse is a form model version (app/workflows/models/*.yaml, loaded
by `flask forms load`); a draft pins the version it was started on, and its submission records it.
Existing drafts and submissions are of workflows written in Python: their form_version stays NULL.

A published (or retired) version is frozen in the database too: a trigger refuses any change of its
content, any status change but published → retired, and its deletion.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_model_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_model_version")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_form_model_version_code_version")),
    )
    op.add_column("draft", sa.Column("form_version", sa.Integer(), nullable=True))
    op.add_column("submission", sa.Column("form_version", sa.Integer(), nullable=True))
    _freeze_published_versions()


FROZEN = "OLD.status IN ('published', 'retired')"
CONTENT = ("code", "version", "title", "service", "sha256", "published_at")
MESSAGE = "a published form model version is immutable"


def _freeze_published_versions():
    if op.get_bind().dialect.name == "postgresql":
        new = ", ".join([*(f"NEW.{c}" for c in CONTENT), "NEW.definition::text"])
        old = ", ".join([*(f"OLD.{c}" for c in CONTENT), "OLD.definition::text"])
        op.execute(
            f"""
            CREATE FUNCTION form_model_version_frozen() RETURNS trigger AS $$
            BEGIN
              IF {FROZEN} THEN
                IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
                IF ROW({new}) IS DISTINCT FROM ROW({old})
                   OR (NEW.status IS DISTINCT FROM OLD.status
                       AND NOT (OLD.status = 'published' AND NEW.status = 'retired')) THEN
                  RAISE EXCEPTION '{MESSAGE}';
                END IF;
              END IF;
              IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER form_model_version_frozen BEFORE UPDATE OR DELETE ON form_model_version "
            "FOR EACH ROW EXECUTE FUNCTION form_model_version_frozen()"
        )
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in [*CONTENT, "definition"])
    status = "(NEW.status IS NOT OLD.status AND NOT (OLD.status = 'published' AND NEW.status = 'retired'))"
    op.execute(
        f"CREATE TRIGGER form_model_version_no_change BEFORE UPDATE ON form_model_version "
        f"WHEN {FROZEN} AND ({changed} OR {status}) BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )
    op.execute(
        f"CREATE TRIGGER form_model_version_no_delete BEFORE DELETE ON form_model_version "
        f"WHEN {FROZEN} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies the tables, which other tables reference (see 0002, 0011).
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("form_version")
    with op.batch_alter_table("draft") as batch:
        batch.drop_column("form_version")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    else:
        op.execute("DROP TRIGGER IF EXISTS form_model_version_frozen ON form_model_version")
        op.execute("DROP FUNCTION IF EXISTS form_model_version_frozen()")
    op.drop_table("form_model_version")  # SQLite drops its triggers with it
