"""uploads follow what holds them: the draft or the declaration, and whether a PDF has active content

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00

An upload was read by anyone who could see its establishment with its service — a CPAM agent read
the attachment of a draft never sent, and a deleted draft's file stayed readable. Each upload now
names what holds it: the draft it was attached to (erased with it) and, once sent, the declaration.

Existing rows are linked from what references them: a reserves addendum's file is its declaration's;
the file named by a draft's reserves step is that draft's, and the declaration's when the draft was
sent. A file nothing references any more (detached, or of a draft already deleted) keeps no holder:
nobody reads it. `active_content` stays NULL for existing rows (never checked): they are offered as
downloads only, never shown in the browser.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("draft_id", "draft", "fk_upload_draft_id_draft"),
    ("declaration_id", "dat_declaration", "fk_upload_declaration_id_dat_declaration"),
)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, table, name in FOREIGN_KEYS:
        if sqlite:
            # SQLite cannot add a constraint to a table, but takes a foreign key inline with a new column.
            op.execute(f"ALTER TABLE upload ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {table} (id)")
        else:
            op.add_column("upload", sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, "upload", table, [column], ["id"])
        op.create_index(f"ix_upload_{column}", "upload", [column])
    op.add_column("upload", sa.Column("active_content", sa.Boolean(), nullable=True))
    _link_existing_rows()


def _link_existing_rows():
    bind = op.get_bind()
    upload = sa.table(
        "upload", sa.column("id"), sa.column("establishment_id"), sa.column("draft_id"), sa.column("declaration_id")
    )
    # The reserves addenda: their files are their declarations'.
    for upload_id, declaration_id in bind.execute(
        sa.text("SELECT upload_id, declaration_id FROM dat_reserve_addendum WHERE upload_id IS NOT NULL")
    ):
        bind.execute(upload.update().where(upload.c.id == upload_id).values(declaration_id=declaration_id))
    # The drafts naming a file on their reserves step (deleted drafts have no answers left).
    rows = bind.execute(
        sa.text(
            "SELECT draft.id, draft.establishment_id, draft.answers, dat_declaration.id FROM draft "
            "LEFT JOIN submission ON submission.draft_id = draft.id "
            "LEFT JOIN dat_declaration ON dat_declaration.submission_id = submission.id "
            "WHERE draft.discarded_at IS NULL"
        )
    )
    for draft_id, establishment_id, answers, declaration_id in rows:
        if isinstance(answers, str):
            answers = json.loads(answers)
        value = str(((answers or {}).get("reserves") or {}).get("piece_jointe") or "")
        if not value.isdigit() or len(value) > 9:
            continue
        values = {"draft_id": draft_id}
        if declaration_id is not None:
            values["declaration_id"] = declaration_id
        # Only a file of the draft's own establishment (the step refuses another one's id).
        bind.execute(
            upload.update()
            .where(
                upload.c.id == int(value),
                upload.c.establishment_id == establishment_id,
                upload.c.draft_id.is_(None),
            )
            .values(**values)
        )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, _table, _name in FOREIGN_KEYS:
        op.drop_index(f"ix_upload_{column}", table_name="upload")
    if sqlite:
        # The foreign keys go with their columns: batch mode copies the table (see 0002).
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("upload") as batch:
        batch.drop_column("active_content")
        batch.drop_column("declaration_id")
        batch.drop_column("draft_id")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
