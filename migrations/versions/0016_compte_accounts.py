"""Compte AT/MP (issue 15): reference data and their loads, rate profiles, wages, claims, notified rates, attestations

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:34:35

The barème des coûts moyens, the majorations and the collective rates are dated reference data (SPEC,
preamble): each row names the load (file, SHA-256, date) that wrote it. A notified rate keeps its whole
calculation as JSON (exact decimals as strings) and the LUCIE letter that notified it.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "compte_reference_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("years", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_reference_load")),
    )
    op.create_table(
        "compte_average_cost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("ctn", sa.String(length=1), nullable=False),
        sa.Column("scope", sa.String(length=30), nullable=False),
        sa.Column("it1_lt4", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("it2_4_15", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("it3_16_45", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("it4_46_90", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("it5_91_150", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("it6_gt150", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("ip1_lt10", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("ip2_10_19", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("ip3_20_39", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("ip4_ge40_or_death", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("btp_gros_oeuvre", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("btp_second_oeuvre", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("btp_fonctions_support", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["compte_reference_load.id"],
            name=op.f("fk_compte_average_cost_load_id_compte_reference_load"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_average_cost")),
        sa.UniqueConstraint("year", "ctn", "scope", name=op.f("uq_compte_average_cost_year")),
    )
    with op.batch_alter_table("compte_average_cost", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compte_average_cost_load_id"), ["load_id"], unique=False)

    op.create_table(
        "compte_collective_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code_risque", sa.String(length=10), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("rate", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["compte_reference_load.id"],
            name=op.f("fk_compte_collective_rate_load_id_compte_reference_load"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_collective_rate")),
        sa.UniqueConstraint("year", "code_risque", "region", name=op.f("uq_compte_collective_rate_year")),
    )
    with op.batch_alter_table("compte_collective_rate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compte_collective_rate_load_id"), ["load_id"], unique=False)

    op.create_table(
        "compte_majoration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("m1_pct", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("m2_ratio", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("m3_pct", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("m4_pct", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["compte_reference_load.id"],
            name=op.f("fk_compte_majoration_load_id_compte_reference_load"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_majoration")),
        sa.UniqueConstraint("year", name=op.f("uq_compte_majoration_year")),
    )
    with op.batch_alter_table("compte_majoration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compte_majoration_load_id"), ["load_id"], unique=False)

    op.create_table(
        "compte_attestation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_compte_attestation_establishment_id_establishment"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["user_account.id"],
            name=op.f("fk_compte_attestation_issued_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_attestation")),
        sa.UniqueConstraint("code", name=op.f("uq_compte_attestation_code")),
    )
    with op.batch_alter_table("compte_attestation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compte_attestation_establishment_id"), ["establishment_id"], unique=False
        )

    op.create_table(
        "compte_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("recognised_on", sa.Date(), nullable=False),
        sa.Column("imputation_year", sa.Integer(), nullable=False),
        sa.Column("stoppage_days", sa.Integer(), nullable=False),
        sa.Column("ip_rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("death", sa.Boolean(), nullable=False),
        sa.Column("btp_group", sa.String(length=20), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_compte_claim_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_claim")),
        sa.UniqueConstraint("reference", name=op.f("uq_compte_claim_reference")),
    )
    with op.batch_alter_table("compte_claim", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compte_claim_account", ["establishment_id", "imputation_year"], unique=False
        )

    op.create_table(
        "compte_rate_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("ctn", sa.String(length=1), nullable=False),
        sa.Column("btp", sa.Boolean(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("taux_unique", sa.Boolean(), nullable=False),
        sa.Column("always_collective", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_compte_rate_profile_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_rate_profile")),
        sa.UniqueConstraint("establishment_id", name=op.f("uq_compte_rate_profile_establishment_id")),
    )
    op.create_table(
        "compte_wage_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("wages", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_compte_wage_year_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_wage_year")),
        sa.UniqueConstraint("establishment_id", "year", name=op.f("uq_compte_wage_year_establishment_id")),
    )
    op.create_table(
        "compte_notified_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("rate", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("calculation", sa.Text(), nullable=False),
        sa.Column("calculated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("not_deposited", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_compte_notified_rate_establishment_id_establishment"),
        ),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letter.id"], name=op.f("fk_compte_notified_rate_letter_id_letter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compte_notified_rate")),
        sa.UniqueConstraint(
            "establishment_id", "year", name=op.f("uq_compte_notified_rate_establishment_id")
        ),
    )


def downgrade():
    op.drop_table("compte_notified_rate")
    op.drop_table("compte_wage_year")
    op.drop_table("compte_rate_profile")
    with op.batch_alter_table("compte_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_compte_claim_account")

    op.drop_table("compte_claim")
    with op.batch_alter_table("compte_attestation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compte_attestation_establishment_id"))

    op.drop_table("compte_attestation")
    with op.batch_alter_table("compte_majoration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compte_majoration_load_id"))

    op.drop_table("compte_majoration")
    with op.batch_alter_table("compte_collective_rate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compte_collective_rate_load_id"))

    op.drop_table("compte_collective_rate")
    with op.batch_alter_table("compte_average_cost", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compte_average_cost_load_id"))

    op.drop_table("compte_average_cost")
    op.drop_table("compte_reference_load")
