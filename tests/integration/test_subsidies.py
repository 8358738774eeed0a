"""Subventions Prévention, the employer's request through the pages (issue 14 items 1, 2, 5): resumable steps,
the amount on each save and live (htmx), French errors next to the field with nothing half-saved,
« Vérifier vos réponses », reference and receipt PDF; authorization (another company → 404)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import SubsidyDossier, SubsidyLine, SubsidyVersion
from app.services.subsidies import dossiers as service
from tests.subsidies_support import SubsidyClient, make_world, pdf_text, programme_id, signed_in


@pytest.fixture
def world(app):
    return make_world()


@pytest.fixture
def employer(client, login, world):
    login(world.employer)
    return SubsidyClient(client)


def _lines() -> int:
    return db.session.scalar(select(func.count(SubsidyLine.id)))


def test_reservation_with_two_lines_is_computed_on_each_save_and_sent(employer, client, world):
    dossier_id = employer.start("TOPBTP", world.metz)
    assert employer.attest(dossier_id).status_code == 303
    assert (
        employer.add_line(dossier_id, kind="equipement", amount="12 000,00", number="D-1").status_code == 303
    )
    page = client.get(f"/subventions/{dossier_id}/lignes").get_data(as_text=True)
    assert "6\u00a0000,00\u00a0€" in page  # 50 % of 12 000 € HT, shown after the first save
    assert employer.add_line(dossier_id, kind="formation", amount="3 000,01", number="D-2").status_code == 303
    page = client.get(f"/subventions/{dossier_id}/verifier").get_data(as_text=True)
    assert "Vérifier vos réponses" in page
    assert "8\u00a0100,01\u00a0€" in page  # 6 000 + 70 % × 3 000,01 = 2 100,007 → 2 100,01 (half-up)
    response = employer.submit(dossier_id)
    assert response.status_code == 303
    dossier = db.session.get(SubsidyDossier, dossier_id)
    db.session.refresh(dossier)
    assert dossier.status == "deposee"
    assert dossier.requested_amount == Decimal("8100.01")
    assert dossier.reference.startswith(f"SUB-{date.today().year}-")
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert dossier.reference in confirmation
    receipt = client.get(f"/subventions/{dossier_id}/accuse-reception.pdf")
    assert receipt.status_code == 200
    text = pdf_text(receipt.data)
    assert dossier.reference in text and "8 100,01 €" in text.replace("\u00a0", " ")
    assert db.session.scalar(select(func.count(SubsidyVersion.id))) == 1
    # The company's page: the dossier, its status and what remains under the cap.
    index = client.get("/subventions/").get_data(as_text=True)
    assert dossier.reference in index and "Déposée" in index
    assert "16\u00a0899,99\u00a0€" in index  # 25 000 − 8 100,01
    # Sent: the draft's pages lead back to the dossier.
    assert client.get(f"/subventions/{dossier_id}/lignes").status_code == 303


def test_a_bad_line_is_refused_with_french_messages_and_nothing_is_saved(employer, client, world):
    dossier_id = employer.start("TOPBTP", world.metz)
    response = employer.add_line(dossier_id, kind="equipement", amount="12,345", document=False)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("Le montant hors taxes doit être un montant en euros") >= 2  # summary + field
    assert _lines() == 0
    response = employer.add_line(dossier_id, kind="equipement", amount="100", document=False)
    assert response.status_code == 422
    assert "Joignez le devis en PDF" in response.get_data(as_text=True)
    assert _lines() == 0


def test_the_estimate_answers_while_a_line_is_typed(employer, client, world):
    dossier_id = employer.start("RPS", world.metz)
    token = client.csrf(f"/subventions/{dossier_id}/lignes/ajouter")
    response = client.post(
        f"/subventions/{dossier_id}/estimation",
        data={"csrf_token": token, "kind": "prestation", "amount_ht": "30 000"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    # 70 % of 30 000 = 21 000, capped at 15 000 € per prestation.
    assert "15\u00a0000,00\u00a0€" in response.get_data(as_text=True)
    assert _lines() == 0


def test_ineligible_attestations_block_the_submission_with_their_reasons(employer, client, world):
    dossier_id = employer.start("TOPBTP", world.metz)
    employer.attest(dossier_id, contributions_up_to_date="non")
    employer.add_line(dossier_id, kind="equipement", amount="4000")
    response = employer.submit(dossier_id)
    assert response.status_code == 422
    assert "à jour de ses cotisations URSSAF" in response.get_data(as_text=True)
    dossier = db.session.get(SubsidyDossier, dossier_id)
    db.session.refresh(dossier)
    assert dossier.status == "brouillon" and dossier.reference is None


def test_a_leased_line_is_excluded_with_its_reason(employer, client, world):
    dossier_id = employer.start("TOPBTP", world.metz)
    employer.attest(dossier_id)
    employer.add_line(dossier_id, kind="equipement", amount="4000", number="D-1")
    employer.add_line(dossier_id, kind="equipement", amount="4000", number="D-2", condition=["loue"])
    page = client.get(f"/subventions/{dossier_id}/verifier").get_data(as_text=True)
    assert "Matériel loué ou en crédit-bail" in page
    assert "2\u00a0000,00\u00a0€" in page


def test_another_company_or_an_agent_gets_404(app, client, login, world):
    login(world.employer)
    employer = SubsidyClient(client)
    dossier_id = employer.start("TOPBTP", world.metz)
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    login(world.stranger)
    assert client.get(f"/subventions/{dossier_id}/attestations").status_code == 404
    assert client.get(f"/subventions/{dossier_id}").status_code == 404
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    login(world.agent)
    assert client.get(f"/subventions/{dossier_id}/lignes").status_code == 404
    assert (
        client.get(f"/subventions/instruction/{dossier_id}").status_code == 404
    )  # a draft: not the Carsat's


def test_a_firm_with_the_mandate_files_for_its_client_and_one_without_is_refused(app, client, login, world):
    from app.models import Service, UserKind
    from tests.factories import make_firm, make_user

    firm = make_firm("Cabinet Rhénan", mandates=[(world.metz, Service.SUBVENTIONS)])
    other = make_firm("Cabinet Lorrain", mandates=[(world.metz, Service.DAT)])
    accountant = make_user("compta@rhenan.test", kind=UserKind.FIRM, firm_id=firm.id)
    outsider = make_user("compta@lorrain.test", kind=UserKind.FIRM, firm_id=other.id)
    db.session.commit()
    login(accountant)
    dossier_id = SubsidyClient(client).start("TOPBTP", world.metz)
    assert client.get(f"/subventions/{dossier_id}/attestations").status_code == 200
    page = client.get("/subventions/nouvelle?type=reservation").get_data(as_text=True)
    assert world.strasbourg.name not in page  # no mandate there
    outsider_client = signed_in(app, outsider)  # a mandate for the DAT only: not for its subsidies
    assert outsider_client.get(f"/subventions/{dossier_id}/attestations").status_code == 403


def test_a_company_at_the_cap_is_refused_with_the_reason(employer, client, world):
    first = employer.start("TOPBTP", world.metz)
    employer.attest(first)
    employer.add_line(first, kind="equipement", amount="60000")  # 30 000 → cut to 25 000
    assert employer.submit(first).status_code == 303
    assert db.session.get(SubsidyDossier, first).requested_amount == Decimal("25000.00")
    second = employer.start("RISQUE_CHIMIQUE", world.strasbourg)
    employer.attest(second)
    employer.add_line(second, kind="equipement", amount="2000")
    response = employer.submit(second)
    assert response.status_code == 422
    assert "a atteint le plafond des subventions Prévention TPE" in response.get_data(as_text=True)


def test_a_removed_line_takes_its_pdf_unless_another_row_holds_it(app, employer, client, world):
    from app.services.uploads import blob_path, drop_blob_if_unheld

    dossier_id = employer.start("TOPBTP", world.metz)
    employer.add_line(dossier_id, kind="equipement", amount="1000", number="SAME")
    employer.add_line(dossier_id, kind="equipement", amount="2000", number="SAME")  # the same PDF's bytes
    first, second = db.session.scalars(select(SubsidyLine).order_by(SubsidyLine.id)).all()
    assert first.file_sha256 == second.file_sha256
    blob = blob_path(first.file_sha256)
    drop_blob_if_unheld(first.file_sha256)  # another service's clean-up: the lines hold the bytes
    assert blob.exists()

    def remove(line_id):
        token = client.csrf(f"/subventions/{dossier_id}/lignes")
        url = f"/subventions/{dossier_id}/lignes/{line_id}/supprimer"
        assert client.post(url, data={"csrf_token": token}).status_code == 303

    remove(first.id)
    assert blob.exists()
    assert client.get(f"/subventions/{dossier_id}/lignes/{second.id}/document").status_code == 200
    remove(second.id)
    assert not blob.exists()


def test_ergo_cap_per_kind_counts_the_company_s_other_dossiers(employer, client, world):
    first = employer.start("ERGO", world.metz)
    employer.attest(first)
    employer.add_line(first, kind="prevention", amount="28571.43")  # 70 % → 20 000 €
    assert employer.submit(first).status_code == 303
    assert db.session.get(SubsidyDossier, first).requested_amount == Decimal("20000.00")
    second = employer.start("ERGO", world.strasbourg)
    employer.attest(second)
    employer.add_line(second, kind="prevention", amount="14285.71")  # 70 % → 10 000 €
    page = client.get(f"/subventions/{second}/verifier").get_data(as_text=True).replace("\xa0", " ")
    assert (
        "Actions de prévention : plafond de 25 000,00 € pour ce type de dépense, "
        "dont 20 000,00 € déjà accordés ; 5 000,00 € au-delà ne sont pas subventionnés." in page
    )
    assert employer.submit(second).status_code == 303
    assert db.session.get(SubsidyDossier, second).requested_amount == Decimal("5000.00")
    # The lines of all the company's dossiers in one statement, whatever their number.
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        totals = service.company_totals(world.company.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert totals.by_kind == {(programme_id("ERGO"), "prevention"): Decimal("25000.00")}
    assert sum("FROM subsidy_line" in statement for statement in statements) == 1
