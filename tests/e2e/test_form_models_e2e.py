"""A questionnaire defined as data (app/workflows/models/exemple-questionnaire-v1.yaml) in Chromium:
an invalid page answered 422 by htmx with its French error summary, a conditional page, "Vérifier vos
réponses", the submission; then the agents' read-only viewer. axe finds no serious or critical
violation on any page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Service, Submission, UserKind
from app.services import form_models
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user

pytestmark = pytest.mark.usefixtures("no_script_error")
TITLE = "Questionnaire employeur (exemple)"


def test_a_data_defined_questionnaire_is_filled_sent_and_read_by_an_agent(
    live_server, live_app, page, browser
):
    form_models.load_models()
    company = make_company("Transports Lorrains")
    metz = make_establishment(company, departement="57", name="Transports Lorrains Metz", city="Metz")
    make_user(
        "claire@transports.test", company=company, full_name="Claire Dupont", grants=[(metz, Service.QRPRO)]
    )
    caisse = make_caisse("CPAM de Moselle", departements="57")
    make_user("agent@cpam57.fr", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Weber")
    db.session.commit()
    base = live_server.url

    login_as(page, base, "claire@transports.test", PASSWORD)
    page.goto(f"{base}/demarches/")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("button", name="Commencer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Le lieu de l'accident")
    assert_accessible(page)

    page.get_by_role("button", name="Continuer").click()  # nothing answered: 422 through htmx
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Indiquez si l'accident a eu lieu sur le lieu de travail habituel")
    expect(page).to_have_title(re.compile("^Erreur : "))
    shot(page, "form_model_errors")
    assert_accessible(page)

    page.get_by_role("group", name="L'accident a-t-il eu lieu").get_by_label("Non").check()
    page.get_by_label("Sur un chantier").check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La mission")  # lieu_travail == false
    page.get_by_label("Quelle mission").fill("Livraison de palettes chez un client")
    page.get_by_label("Numéro SIRET du client").fill("732 829 320 00074")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("group", name="arrêt de travail").get_by_label("Non").check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Les suites données")
    page.get_by_label("Montant des frais").fill("1 250,5")
    page.get_by_label("Une formation").check()
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifier vos réponses avant d'envoyer")
    expect(page.locator("main")).to_contain_text("1\u202f250,50\u00a0€")
    shot(page, "form_model_check_answers")
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".govuk-panel")).to_contain_text(re.compile(r"QEX-\d{4}-000001"))
    submission = db.session.query(Submission).one()
    assert submission.form_version == 1

    agent = browser.new_page()
    login_as(agent, base, "agent@cpam57.fr", PASSWORD)
    agent.get_by_role("link", name="Modèles de formulaires").click()
    agent.get_by_role("link", name=TITLE).click()
    expect(agent.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(agent.locator("main")).to_contain_text("Affichée si : lieu_travail == false")
    shot(agent, "form_model_viewer")
    assert_accessible(agent)
    agent.close()
