"""Subventions Prévention end to end (issue 14): a reservation with two lines and their quotes (the amount
shown live as the line is typed) → the Carsat accepts → the letter in LUCIE and its e-mail (real SMTP) →
the payment request with an invoice → paid. The same reservation without JavaScript, with the keyboard
only. Every page passes axe-core."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Letter, SubsidyDossier
from app.services import outbox
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD
from tests.subsidies_support import make_world, pdf_bytes

DAY = date.today().replace(day=1)


@pytest.fixture
def world(live_app, smtp):
    live_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    live_app.extensions["mail"].server = "127.0.0.1"
    live_app.extensions["mail"].port = smtp.port
    return make_world()


def _date(page, name: str, day: date) -> None:
    boxes = page.locator(f'input[name="{name}"]')
    for index, value in enumerate((day.day, day.month, day.year)):
        boxes.nth(index).fill(str(value))


def _attest(page) -> None:
    for name, value in (
        ("regime_general", "oui"),
        ("contributions_up_to_date", "oui"),
        ("prevention_contract_in_progress", "non"),
        ("injunction_or_surcharge", "non"),
        ("occupational_health_member", "oui"),
        ("staff_representatives_informed", "oui"),
    ):
        page.locator(f'input[name="{name}"][value="{value}"]').check()
    _date(page, "duerp_updated_on", DAY)
    page.get_by_label("Montant des aides publiques de minimis").fill("0")
    page.get_by_role("button", name="Enregistrer et continuer").click()


def _line(page, kind: str, amount: str, number: str, *, paid: bool = False, live: str | None = None) -> None:
    page.get_by_role("link", name=re.compile(r"^Ajouter (un|une)")).click()
    page.get_by_label(kind).check()
    page.get_by_label("Fournisseur").fill("Outils de l'Est")
    page.get_by_label(re.compile("Numéro d")).fill(number)
    _date(page, "issued_on", DAY)
    if paid:
        _date(page, "paid_on", DAY)
    page.get_by_label("Montant hors taxes").fill(amount)
    if live:
        expect(page.locator("#estimation")).to_contain_text(live)  # htmx, before any save
    page.locator('input[name="document"]').set_input_files(
        files=[{"name": f"{number}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(number)}]
    )
    page.get_by_role("button", name="Enregistrer la ligne").click()
    expect(page.get_by_text("Ligne enregistrée.")).to_be_visible()


def test_reservation_acceptance_letter_payment(page, browser, live_server, smtp, world):
    base = live_server.url
    login_as(page, base, world.employer.email, PASSWORD)
    page.goto(f"{base}/subventions/")
    assert_accessible(page)
    page.get_by_role("link", name="Demander une réservation").click()
    page.get_by_label("TOP BTP").check()
    page.get_by_label(re.compile("Menuiserie Kern — Metz")).check()
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator('input[name="regime_general"]').first).to_be_attached()  # the next page, loaded
    assert_accessible(page)
    _attest(page)
    _line(page, "Équipements", "12 000", "D-1", live="6\u00a0000,00\u00a0€")
    assert_accessible(page)
    _line(page, "Formation", "2 000", "D-2", live="1\u00a0400,00\u00a0€")
    expect(page.locator("#montant")).to_contain_text("7\u00a0400,00\u00a0€")
    page.get_by_role("link", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifier vos réponses")
    assert_accessible(page)
    shot(page, "subventions-verifier")
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("Demande envoyée")).to_be_visible()
    assert_accessible(page)
    dossier = db.session.scalars(db.select(SubsidyDossier)).one()
    reference = dossier.reference
    expect(page.get_by_text(reference)).to_be_visible()

    # The Carsat accepts: the letter in the establishment's LUCIE mailbox, its e-mail through the outbox.
    agent_context = browser.new_context(locale="fr-FR")
    agent = agent_context.new_page()
    login_as(agent, base, world.agent.email, PASSWORD)
    agent.goto(f"{base}/subventions/instruction/?statut=deposee")
    assert_accessible(agent)
    agent.get_by_role("link", name=reference).click()
    expect(agent.get_by_label("Montant réservé")).to_have_value("7400,00")
    assert_accessible(agent)
    agent.get_by_role("button", name="Accepter la réservation").click()
    expect(agent.get_by_text("Réservation acceptée enregistrée.")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalars(db.select(Letter).where(Letter.case_reference == reference)).one()
    assert outbox.send_due() == (1, 0)
    ((recipient, _message),) = smtp.messages
    assert recipient == world.employer.email

    # The payment request with the invoice, then paid.
    page.goto(f"{base}/subventions/{dossier.id}")
    expect(page.locator("#montant-reserve")).to_have_text("7\u00a0400,00\u00a0€")
    page.get_by_role("button", name="Demander le versement").click()
    _line(page, "Équipements", "12 000", "F-1", paid=True)
    _line(page, "Formation", "2 000", "F-2", paid=True)
    page.get_by_role("link", name="Continuer").click()
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("Demande envoyée")).to_be_visible()
    agent.goto(f"{base}/subventions/instruction/{dossier.id}")
    agent.get_by_role("button", name="Valider le versement").click()
    expect(agent.get_by_text("Versement validé enregistrée.")).to_be_visible()
    page.goto(f"{base}/subventions/")
    expect(page.get_by_text("Payée")).to_be_visible()
    assert_accessible(page)
    agent_context.close()


def test_the_same_reservation_without_javascript_and_with_the_keyboard(
    browser, live_server, world, assert_accessible_without_javascript
):
    base = live_server.url
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").focus()
    page.keyboard.type(world.employer.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)
    page.goto(f"{base}/subventions/nouvelle?type=reservation")
    page.get_by_label("TOP BTP").focus()
    page.keyboard.press("Space")
    page.get_by_label(re.compile("Menuiserie Kern — Strasbourg")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"/attestations$"))
    for name, value in (
        ("regime_general", "oui"),
        ("contributions_up_to_date", "oui"),
        ("prevention_contract_in_progress", "non"),
        ("injunction_or_surcharge", "non"),
        ("occupational_health_member", "oui"),
        ("staff_representatives_informed", "oui"),
    ):
        page.locator(f'input[name="{name}"][value="{value}"]').focus()
        page.keyboard.press("Space")
    boxes = page.locator('input[name="duerp_updated_on"]')
    boxes.nth(0).focus()
    for value in (DAY.day, DAY.month, DAY.year):
        page.keyboard.type(str(value))
        page.keyboard.press("Tab")
    page.get_by_label("Montant des aides publiques de minimis").focus()
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/lignes$"))
    for kind, amount, number in (("Équipements", "8000", "D-1"), ("Formation", "1000", "D-2")):
        page.get_by_role("link", name=re.compile(r"^Ajouter (un|une)")).focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/lignes/ajouter$"))
        # Without JavaScript, a first save with a bad amount: the French message next to the field.
        page.get_by_label(kind).focus()
        page.keyboard.press("Space")
        page.get_by_label("Fournisseur").focus()
        page.keyboard.type("Outils de l'Est")
        page.keyboard.press("Tab")
        page.keyboard.type(number)
        page.keyboard.press("Tab")
        for value in (DAY.day, DAY.month, DAY.year):
            page.keyboard.type(str(value))
            page.keyboard.press("Tab")
        page.get_by_label("Montant hors taxes").focus()
        page.keyboard.type(amount)
        page.locator('input[name="document"]').set_input_files(
            files=[{"name": f"{number}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(number)}]
        )
        page.get_by_role("button", name="Enregistrer la ligne").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/lignes$"))
    expect(page.locator("#montant")).to_contain_text("4\u00a0700,00\u00a0€")  # 4 000 + 700, computed on save
    assert_accessible_without_javascript(page)
    page.get_by_role("link", name="Continuer").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/verifier$"))
    assert_accessible_without_javascript(page)
    page.get_by_role("button", name="Envoyer la demande").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/confirmation$"))
    expect(page.get_by_text("Demande envoyée")).to_be_visible()
    assert_accessible_without_javascript(page)
    context.close()
