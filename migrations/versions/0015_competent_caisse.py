"""the competent caisse: a declaration belongs to the CPAM of the victim's residence

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:00:00

SPEC §1: an AT/MP case belongs to the CPAM of the victim (their usual residence), not to the CPAM of
the establishment's département. `dat_declaration.cpam_departement` names the département of the
competent CPAM; the CPAM inbox and the agents' work queues select by it (the index
`ix_dat_declaration_caisse` moves to it). `departement` stays the establishment's: the calendar the
48 hours and the reserves window are computed with.

Existing declarations get the département of the postal code of the victim's address as it was sent
(`submission.data` → answers → victime → code_postal), by the rule of app/domain/caisses.py as it
stands today (copied here: a migration must not change meaning when that module does). A declaration
whose sent answers give no usable postal code (none, 98xxx, not a French code) keeps the
establishment's département — the same rule as for a victim living abroad.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 1000
_OVERSEAS = {"971", "972", "973", "974", "975", "976"}


def victim_departement(postal_code) -> str | None:
    """app.domain.caisses.departement_of_postal_code of 2026-12-06."""
    code = str(postal_code or "").strip()
    if len(code) != 5 or not code.isdigit() or code.startswith("98") or code.startswith("00"):
        return None
    if code.startswith("20"):
        return "2A" if int(code) < 20200 else "2B"
    if code.startswith("97"):
        return code[:3] if code[:3] in _OVERSEAS else None
    return code[:2] if code[:2] <= "95" else None


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies the table, which the uploads, addenda and events reference (see 0002).
        op.execute("PRAGMA foreign_keys=OFF")
    op.add_column("dat_declaration", sa.Column("cpam_departement", sa.String(length=3), nullable=True))
    _fill_existing_rows()
    with op.batch_alter_table("dat_declaration") as batch:
        batch.alter_column("cpam_departement", existing_type=sa.String(length=3), nullable=False)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    op.drop_index("ix_dat_declaration_caisse", table_name="dat_declaration")
    op.create_index(
        "ix_dat_declaration_caisse", "dat_declaration", ["cpam_departement", "submitted_at", "id"]
    )


def _fill_existing_rows():
    """Page by page (keyset on the id): the answers of 100 000 declarations are not read at once."""
    bind = op.get_bind()
    declaration = sa.table("dat_declaration", sa.column("id"), sa.column("cpam_departement"))
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT dat_declaration.id, dat_declaration.departement, submission.data "
                "FROM dat_declaration JOIN submission ON submission.id = dat_declaration.submission_id "
                "WHERE dat_declaration.id > :last ORDER BY dat_declaration.id LIMIT :size"
            ),
            {"last": last, "size": BATCH},
        ).all()
        if not rows:
            return
        by_departement: dict[str, list[int]] = {}
        for declaration_id, establishment_departement, data in rows:
            if isinstance(data, str):
                data = json.loads(data)
            victime = ((data or {}).get("answers") or {}).get("victime") or {}
            found = victim_departement(victime.get("code_postal"))
            by_departement.setdefault(found or establishment_departement, []).append(declaration_id)
        for departement, ids in by_departement.items():
            bind.execute(
                declaration.update().where(declaration.c.id.in_(ids)).values(cpam_departement=departement)
            )
        last = rows[-1][0]


def downgrade():
    op.drop_index("ix_dat_declaration_caisse", table_name="dat_declaration")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("dat_declaration") as batch:
        batch.drop_column("cpam_departement")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
    op.create_index("ix_dat_declaration_caisse", "dat_declaration", ["departement", "submitted_at", "id"])
