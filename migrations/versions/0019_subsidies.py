"""Subventions Prévention TPE (issue 14): programmes, per-company rows, dossiers, lines, versions, decisions

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:48:53

Programmes are loaded from their YAML files (`flask subventions load`) and kept frozen (content + SHA-256).
A submission updates its company's `subsidy_company` row first: the row lock that keeps two establishments
of one company under the TPE cap. The `ix_subsidy_dossier_queue*` indexes serve the Carsat's queue
(oldest first, by programme and/or status; its départements filtered on the way).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subsidy_company",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_subsidy_company_company_id_company")
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_subsidy_company")),
    )
    op.create_table(
        "subsidy_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget_open", sa.Boolean(), nullable=False),
        sa.Column("budget_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("budget_closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["budget_closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_subsidy_programme_budget_closed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_programme")),
        sa.UniqueConstraint("code", name=op.f("uq_subsidy_programme_code")),
    )
    op.create_table(
        "subsidy_dossier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=True),
        sa.Column("headcount", sa.Integer(), nullable=True),
        sa.Column("attestations", sa.Text(), nullable=False),
        sa.Column("computation", sa.Text(), nullable=False),
        sa.Column("requested_amount", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("reserved_amount", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("payment_requested_amount", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("convention_required", sa.Boolean(), nullable=False),
        sa.Column("convention_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_request", sa.Text(), nullable=True),
        sa.Column("completion_due", sa.Date(), nullable=True),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_subsidy_dossier_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_subsidy_dossier_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_subsidy_dossier_establishment_id_establishment"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["subsidy_programme.id"],
            name=op.f("fk_subsidy_dossier_programme_id_subsidy_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_dossier")),
        sa.UniqueConstraint("reference", name=op.f("uq_subsidy_dossier_reference")),
    )
    with op.batch_alter_table("subsidy_dossier", schema=None) as batch_op:
        batch_op.create_index("ix_subsidy_dossier_company", ["company_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subsidy_dossier_establishment_id"), ["establishment_id"], unique=False
        )
        # The Carsat's queue, oldest first, for each filter it offers (docs/performance.md).
        batch_op.create_index("ix_subsidy_dossier_queue", ["submitted_at", "id"], unique=False)
        batch_op.create_index(
            "ix_subsidy_dossier_queue_programme", ["programme_id", "submitted_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_subsidy_dossier_queue_programme_status",
            ["programme_id", "status", "submitted_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_subsidy_dossier_queue_status", ["status", "submitted_at", "id"], unique=False
        )
        batch_op.create_index("ix_subsidy_dossier_waiting", ["departement", "status"], unique=False)

    op.create_table(
        "subsidy_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("not_deposited", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["user_account.id"], name=op.f("fk_subsidy_decision_agent_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["subsidy_dossier.id"],
            name=op.f("fk_subsidy_decision_dossier_id_subsidy_dossier"),
        ),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letter.id"], name=op.f("fk_subsidy_decision_letter_id_letter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_decision")),
    )
    with op.batch_alter_table("subsidy_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subsidy_decision_dossier_id"), ["dossier_id"], unique=False)

    op.create_table(
        "subsidy_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("amount_ht", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("leased", sa.Boolean(), nullable=False),
        sa.Column("second_hand", sa.Boolean(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["subsidy_dossier.id"], name=op.f("fk_subsidy_line_dossier_id_subsidy_dossier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_line")),
    )
    with op.batch_alter_table("subsidy_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subsidy_line_dossier_id"), ["dossier_id"], unique=False)

    op.create_table(
        "subsidy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_subsidy_version_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["subsidy_dossier.id"], name=op.f("fk_subsidy_version_dossier_id_subsidy_dossier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_version")),
        sa.UniqueConstraint("dossier_id", "number", name=op.f("uq_subsidy_version_dossier_id")),
    )


def downgrade():
    op.drop_table("subsidy_version")
    with op.batch_alter_table("subsidy_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_line_dossier_id"))

    op.drop_table("subsidy_line")
    with op.batch_alter_table("subsidy_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_decision_dossier_id"))

    op.drop_table("subsidy_decision")
    with op.batch_alter_table("subsidy_dossier", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_dossier_waiting")
        batch_op.drop_index("ix_subsidy_dossier_queue_status")
        batch_op.drop_index("ix_subsidy_dossier_queue_programme_status")
        batch_op.drop_index("ix_subsidy_dossier_queue_programme")
        batch_op.drop_index("ix_subsidy_dossier_queue")
        batch_op.drop_index(batch_op.f("ix_subsidy_dossier_establishment_id"))
        batch_op.drop_index("ix_subsidy_dossier_company")

    op.drop_table("subsidy_dossier")
    op.drop_table("subsidy_programme")
    op.drop_table("subsidy_company")
