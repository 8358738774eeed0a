"""The Subventions Prévention's demo data (issue 14 item 6): programmes loaded, one reservation accepted and
awaiting invoices, one asked for completion, one paid — each decision's letter in LUCIE."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Letter, SubsidyDossier, SubsidyProgramme
from tests.integration.test_dashboard_demo import sign_in


def test_the_demo_has_the_programmes_and_three_dossiers(demo_app):
    assert {p.code for p in db.session.scalars(select(SubsidyProgramme))} == {
        "TOPBTP",
        "RISQUE_CHIMIQUE",
        "RPS",
        "ERGO",
    }
    rows = db.session.scalars(select(SubsidyDossier).order_by(SubsidyDossier.id)).all()
    assert [(d.status, d.phase) for d in rows] == [
        ("acceptee", "devis"),
        ("complement_demande", "devis"),
        ("payee", "facture"),
    ]
    assert rows[2].paid_amount == rows[2].reserved_amount
    references = {d.reference for d in rows}
    letters = db.session.scalars(select(Letter).where(Letter.case_reference.in_(references))).all()
    assert len(letters) == 4  # accepted; completion; accepted + paid

    employer = sign_in(demo_app, "employeur@demo.test")
    home = employer.get("/").get_data(as_text=True)
    assert rows[1].reference in home and rows[1].completion_due.strftime("%d/%m/%Y") in home
    page = employer.get("/subventions/").get_data(as_text=True)
    assert all(d.reference in page for d in rows)
    carsat = sign_in(demo_app, "agent.carsat@demo.test")
    queue = carsat.get("/subventions/instruction/").get_data(as_text=True)
    assert all(d.reference in queue for d in rows)
