"""QR Pro's parties in Chromium (issue 13, items 5-6): the victim types the access code of their letter,
creates their account, starts the AT questionnaire, leaves, signs in again and resumes where they stopped,
then sends it; the same questionnaire without JavaScript (a witness added by plain POSTs, an error
summary); one page and the access code answered with the keyboard only. axe-core finds no serious or
critical violation on any of these pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.models import Case, Submission
from app.models.types import utcnow
from app.services import drafts, form_models
from app.services.qrpro import access_codes
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD
from tests.subjects_support import World

pytestmark = pytest.mark.usefixtures("no_script_error")
NEW_PASSWORD = "Tilleul-Bicyclette-Orage-57"
REFERENCE = "AT-2026-000103"


def heading(page):
    return page.get_by_role("heading", level=1)


@pytest.fixture
def world(live_app):
    form_models.load_models()
    world = World()
    world.new_case = Case(
        reference=REFERENCE,
        kind="AT",
        establishment_id=world.metz.id,
        victim_name="Karim Benali",
        caisse_id=world.case_a.caisse_id,
        closes_at=utcnow() + timedelta(days=20),
    )
    db.session.add(world.new_case)
    db.session.flush()
    world.code = access_codes.issue_access_code(world.new_case, by=world.agent)
    world.case_a.closes_at = utcnow() + timedelta(days=20)
    db.session.commit()
    return world


def fill_date(page, name: str, day: str, month: str, year: str) -> None:
    page.locator(f"#{name}-day").fill(day)
    page.locator(f"#{name}-month").fill(month)
    page.locator(f"#{name}-year").fill(year)


def continue_to(page, title: str) -> None:
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text(title)


def answer_first_pages(page) -> None:
    """« Quand » and « Où »: the two first pages of the AT victim's questionnaire."""
    expect(heading(page)).to_have_text("Quand l'accident a eu lieu")
    fill_date(page, "accident_date", "2", "11", "2026")
    page.get_by_label("À quelle heure ?").fill("16:40")
    page.get_by_label("Quel était votre horaire de travail ce jour-là ?").fill("8:00 à 17:00")
    continue_to(page, "Où l'accident a eu lieu")
    page.get_by_label("Sur mon lieu de travail habituel").check()
    page.get_by_label("Précisez le lieu").fill("L'entrepôt, quai 3")
    continue_to(page, "Ce qui s'est passé")


def answer_the_rest(page, *, witnesses: bool, check=assert_accessible) -> None:
    page.get_by_label("Que faisiez-vous juste avant l'accident ?").fill("Je rangeais des cartons.")
    page.get_by_label("Racontez ce qui s'est passé").fill("Un carton est tombé sur mon épaule.")
    continue_to(page, "Qui vous avez prévenu")
    page.get_by_label("Qui, chez votre employeur, avez-vous prévenu de l'accident ?").fill("M. Roy")
    fill_date(page, "informe_date", "2", "11", "2026")
    page.get_by_label("De vive voix").check()
    check(page)
    continue_to(page, "Les témoins")
    page.get_by_label("Oui" if witnesses else "Non").check()
    if witnesses:
        continue_to(page, "Les témoins de l'accident")
        check(page)
        page.get_by_role("button", name="Ajouter un témoin").click()
        page.get_by_role("button", name="Continuer").click()
        expect(page).to_have_title(re.compile(r"^Erreur : "))
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Saisissez le nom et le prénom du témoin"
        )
        check(page)
        page.get_by_label("Nom et prénom du témoin").fill("Léa Martin")
        page.get_by_label("Il m'a vu juste après").check()
        page.get_by_role("button", name="Continuer").click()
        expect(page.locator(".app-group-list")).to_contain_text("Léa Martin")
    continue_to(page, "Les premiers soins")
    page.get_by_label("Non").check()
    continue_to(page, "Votre première consultation")
    fill_date(page, "consultation_date", "3", "11", "2026")
    continue_to(page, "Documents et remarques")
    check(page)
    continue_to(page, "Vérifier vos réponses avant d'envoyer")
    check(page)


def test_the_victim_activates_the_code_and_answers_leaving_and_resuming(
    live_server, world, page, new_context
):
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{base}/acces-victime")
    expect(heading(page)).to_have_text("Accéder à votre dossier")
    assert_accessible(page)
    page.get_by_label("Numéro de dossier").fill(REFERENCE)
    page.get_by_label("Code d'accès").fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_title(re.compile(r"^Erreur : "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Le numéro de dossier ou le code d'accès est incorrect"
    )
    assert_accessible(page)
    page.get_by_label("Code d'accès").fill(world.code.lower().replace("-", " "))
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Créer votre compte")
    assert_accessible(page)
    page.get_by_label("Votre adresse e-mail").fill("karim.benali@exemple.fr")
    page.get_by_label("Choisissez un mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Saisissez à nouveau le mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(heading(page)).to_have_text(f"Dossier {REFERENCE}")
    expect(page.get_by_text("À commencer")).to_be_visible()
    expect(page.get_by_text("(heure locale)")).to_be_visible()
    assert_accessible(page)
    shot(page, "qrpro-victim-case")
    page.get_by_role("button", name=re.compile("^Commencer le questionnaire")).click()
    answer_first_pages(page)
    assert_accessible(page)
    page.get_by_label("Que faisiez-vous juste avant l'accident ?").fill("Je rangeais des cartons.")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré", timeout=10_000)
    page.get_by_role("button", name="Se déconnecter").first.click()

    # Another day, another browser: signed in, « Mes dossiers » is home; « Reprendre » leads back.
    other = new_context().new_page()
    login_as(other, base, "karim.benali@exemple.fr", NEW_PASSWORD)
    expect(heading(other)).to_have_text("Mes dossiers")
    expect(other.get_by_text("En cours")).to_be_visible()
    expect(other.get_by_text("AT-2026-000001")).to_have_count(0)  # another victim's case
    assert_accessible(other)
    other.get_by_role("link", name=re.compile("^Reprendre le questionnaire")).click()
    expect(heading(other)).to_have_text("Ce qui s'est passé")
    expect(other.get_by_label("Que faisiez-vous juste avant l'accident ?")).to_have_value(
        "Je rangeais des cartons."
    )
    answer_the_rest(other, witnesses=False)
    other.get_by_role("button", name="Envoyer la demande").click()
    expect(other.get_by_text(re.compile(r"QRATV-\d{4}-\d{6}")).first).to_be_visible()
    assert_accessible(other)
    other.goto(f"{base}/mes-dossiers/")
    expect(other.get_by_text("Envoyé", exact=True)).to_be_visible()
    # Another case's page: 404.
    response = other.goto(f"{base}/mes-dossiers/{world.case_a.id}")
    assert response.status == 404
    case = db.session.get(Case, world.new_case.id)
    db.session.refresh(case)
    assert case.victim.email == "karim.benali@exemple.fr"
    assert db.session.scalar(select(Submission).where(Submission.case_id == case.id)).party == "victime"


def test_the_questionnaire_without_javascript(
    live_server, world, new_context, assert_accessible_without_javascript
):
    base = live_server.url
    page = new_context(java_script_enabled=False).new_page()
    login_as(page, base, world.victim.email, PASSWORD)
    expect(heading(page)).to_have_text("Mes dossiers")
    assert_accessible_without_javascript(page)
    page.get_by_role("button", name=re.compile("^Commencer le questionnaire")).click()
    answer_first_pages(page)
    answer_the_rest(page, witnesses=True, check=assert_accessible_without_javascript)
    for text in ("Nom : Léa Martin", "Un carton est tombé sur mon épaule."):
        expect(page.get_by_text(text)).to_be_visible()
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text(re.compile(r"QRATV-\d{4}-\d{6}")).first).to_be_visible()
    assert_accessible_without_javascript(page)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only, no click)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus with Tab")


def test_the_access_code_and_a_questionnaire_page_with_the_keyboard_only(live_server, world, page):
    base = live_server.url
    page.goto(f"{base}/acces-victime")
    tab_to(page, "#reference")
    page.keyboard.type(REFERENCE)
    tab_to(page, "#code")
    page.keyboard.type(world.code)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Créer votre compte")
    tab_to(page, "#email")
    page.keyboard.type("karim.benali@exemple.fr")
    tab_to(page, "#password")
    page.keyboard.type(NEW_PASSWORD)
    tab_to(page, "#confirm")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(f"Dossier {REFERENCE}")
    tab_to(page, "button.govuk-button")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Quand l'accident a eu lieu")
    tab_to(page, "#accident_date-day")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("11")
    page.keyboard.press("Tab")
    page.keyboard.type("2026")
    tab_to(page, "#accident_heure")
    page.keyboard.type("16:40")
    tab_to(page, "#horaire")
    page.keyboard.type("8:00 à 17:00")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Où l'accident a eu lieu")
    tab_to(page, "#lieu")
    page.keyboard.press("ArrowDown")  # the second option: another place of work
    expect(page.locator("#lieu-2")).to_be_checked()
    tab_to(page, "#lieu_precision")
    page.keyboard.type("Chantier du client, rue Serpenoise")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Ce qui s'est passé")
    assert_accessible(page)
    workflow = drafts.workflow_or_404("qr-at-victime", SubjectKind.CASE_PARTY)
    case = db.session.get(Case, world.new_case.id)
    db.session.refresh(case)
    draft = drafts.start_case_draft(case.victim, workflow, case, Party.VICTIM)  # the live one
    db.session.refresh(draft)
    assert draft.answers["ou"]["lieu"] == "autre_lieu" and draft.valid_steps == ["quand", "ou"]
