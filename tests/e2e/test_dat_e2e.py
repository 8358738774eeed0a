"""DAT end to end in Chromium (issue 3): a declaration from sign-in to the accusé de réception's PDF,
stopped halfway and finished in a new browser context; the same without JavaScript (with the
reserves' attachment); one with the keyboard only; reserves added after sending; the CPAM agent
records the CMI. axe-core finds no serious or critical violation on any DAT page."""

from __future__ import annotations

import io
import re
from datetime import datetime, time

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from app.domain.dat import french_deadline
from app.domain.deadlines import Deadline
from app.extensions import db
from app.models import Service, UserKind
from app.services.simple_pdf import make_pdf
from tests.dat_support import STEPS, accident_day, make_declaration, valid_answers
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user

TITLES = {
    "employeur": "L'employeur",
    "victime": "La victime",
    "accident": "L'accident",
    "lesions": "Lésions et conséquences",
    "connaissance": "Connaissance de l'accident",
    "temoins": "Témoins et tiers",
    "reserves": "Réserves motivées",
}


@pytest.fixture
def people(live_app):
    company = make_company("Bâtiments de l'Est")
    metz = make_establishment(
        company, departement="57", name="Agence de Metz", city="Metz", postal_code="57000"
    )
    employer = make_user("rh@batiments-est.test", company=company, grants=[(metz, Service.DAT)])
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.test", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Weber")
    db.session.commit()
    return {"metz": metz, "employer": employer, "agent": agent}


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def fill_step(page, answers: dict) -> None:
    """Type one step's answers with the mouse and keyboard (conditional fields after their radio)."""
    for name, value in answers.items():
        if isinstance(value, list) and len(value) == 3 and name.startswith(("date", "registre_date")):
            for part, typed in zip(("day", "month", "year"), value, strict=True):
                page.locator(f"#{name}-{part}").fill(typed)
        elif isinstance(value, list):
            for item in value:
                page.locator(f"input[name='{name}'][value='{item}']").check()
        elif page.locator(f"input[type=radio][name='{name}']").count():
            page.locator(f"input[name='{name}'][value='{value}']").check()
        else:
            page.locator(f"[name='{name}']").fill(value)


def continue_to(page, step: str | None) -> None:
    page.get_by_role("button", name="Continuer").click()
    heading(page, TITLES[step] if step else "Vérifier vos réponses avant d'envoyer")


def send(page) -> str:
    page.get_by_label("Qualité du déclarant").fill("Responsable des ressources humaines")
    page.get_by_label("Je certifie exactes les informations de cette déclaration").check()
    page.get_by_role("button", name="Envoyer la déclaration").click()
    heading(page, "Déclaration transmise")
    return re.search(r"DAT-\d{4}-\d{6}", page.url).group(0)


def pdf_text(page, url: str) -> str:
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_declaration_from_sign_in_to_receipt_pdf_resumed_in_another_browser(
    browser, page, live_server, people
):
    base, answers = live_server.url, valid_answers()
    login_as(page, base, people["employer"].email, PASSWORD)
    page.get_by_role("link", name="Accidents du travail").click()
    heading(page, "Déclarations d'accident du travail")
    assert_accessible(page)
    page.get_by_role("button", name="Déclarer un accident").click()
    page.get_by_role("button", name="Commencer").click()
    heading(page, "L'employeur")
    expect(page.get_by_label("Numéro SIRET de l'établissement")).to_have_value(people["metz"].siret)
    for index, step in enumerate(STEPS[:4]):
        assert_accessible(page)
        fill_step(page, answers[step])
        continue_to(page, STEPS[index + 1])

    # Knowledge: the due time shows as soon as the date and time are typed (htmx, nothing saved yet).
    assert_accessible(page)
    fill_step(page, answers["connaissance"])
    expect(page.locator("#dat-due")).to_contain_text("À transmettre avant le")
    # Yesterday 10 h: the 48 hours end at 10 h 00, or at 24 h 00 when yesterday was a Sunday or a holiday.
    due = Deadline.dat(datetime.combine(accident_day(), time(10)), "57").due
    expect(page.locator("#dat-due")).to_contain_text(f"avant le {french_deadline(due, '57')}")
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer et reprendre plus tard").click()
    expect(page.get_by_text("Votre brouillon est enregistré")).to_be_visible()
    expect(page.get_by_text("À transmettre avant le")).to_be_visible()  # the drafts list's time left
    page.context.close()

    # Another browser, another day: resume from the follow-up list and finish.
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    login_as(page, base, people["employer"].email, PASSWORD)
    page.goto(f"{base}/dat/")
    row = page.get_by_role("row").filter(has_text="SCHNEIDER Lucas")
    expect(row).to_contain_text("Brouillon")
    expect(row).to_contain_text("reste")
    row.get_by_role("link", name=re.compile("reprendre")).click()
    heading(page, "Connaissance de l'accident")
    continue_to(page, "temoins")
    assert_accessible(page)
    # One witness slot shows; « Ajouter un autre témoin » opens the next and moves the focus into it.
    page.locator("input[name='temoins'][value='oui']").check()
    add_witness = page.get_by_role("button", name="Ajouter un autre témoin")
    expect(page.locator("#temoin2_nom")).to_be_hidden()
    add_witness.click()
    expect(page.locator("#temoin2_nom")).to_be_focused()
    page.keyboard.type("Klein")
    page.locator("#temoin2_prenom").fill("Sophie")
    page.locator("#temoin2_adresse").fill("3 rue des Jardins, 57000 Metz")
    add_witness.click()
    expect(page.locator("#temoin3_nom")).to_be_focused()
    expect(add_witness).to_be_hidden()  # three slots at most
    assert_accessible(page)
    fill_step(page, answers["temoins"])
    page.get_by_role("button", name="Enregistrer et reprendre plus tard").click()
    expect(page.get_by_text("Votre brouillon est enregistré")).to_be_visible()
    page.get_by_role("region", name="Brouillons").get_by_role("link", name=re.compile("^Reprendre")).click()
    heading(page, "Témoins et tiers")  # the second slot is in use, the empty third one waits again
    expect(page.locator("#temoin2_nom")).to_have_value("Klein")
    expect(page.locator("#temoin3_nom")).to_be_hidden()
    expect(add_witness).to_be_visible()
    continue_to(page, "reserves")
    assert_accessible(page)
    fill_step(page, answers["reserves"])
    continue_to(page, None)
    assert_accessible(page)
    expect(page.get_by_label("Nom et prénom du déclarant")).to_have_value("Camille Martin")
    reference = send(page)
    assert_accessible(page)
    text = pdf_text(page, f"{base}/dat/declarations/{reference}/accuse-reception.pdf")
    assert "Accusé de réception" in text and reference in text and "SCHNEIDER Lucas" in text
    assert people["metz"].siret in text
    page.get_by_role("link", name="sa page").click()
    heading(page, f"Déclaration {reference}")
    assert_accessible(page)
    context.close()


def test_the_same_declaration_without_javascript_with_an_attachment(browser, live_server, people, tmp_path):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    base, answers = live_server.url, valid_answers(reserves=True)
    login_as(page, base, people["employer"].email, PASSWORD)
    page.goto(f"{base}/demarches/dat/commencer")
    page.get_by_role("button", name="Commencer").click()
    heading(page, "L'employeur")
    # A mistake first: the error is next to the field, the summary links to it.
    page.get_by_label("Téléphone", exact=True).fill("12")
    continue_to(page, "employeur")
    expect(page.get_by_role("link", name="Saisissez un numéro de téléphone valide")).to_be_visible()
    assert page.title().startswith("Erreur : ")
    for index, step in enumerate(STEPS[:-1]):
        fill_step(page, answers[step])
        continue_to(page, STEPS[index + 1])
        if STEPS[index + 1] == "temoins":
            expect(page.get_by_text("À transmettre avant le")).to_be_visible()  # shown once saved
            expect(page.locator("#temoin3_nom")).to_be_visible()  # no script: every witness slot
            expect(page.get_by_role("button", name="Ajouter un autre témoin")).to_have_count(0)
    fill_step(page, answers["reserves"])
    document = tmp_path / "planning.pdf"
    document.write_bytes(make_pdf("Planning du chantier"))
    page.locator("#piece_jointe").set_input_files(str(document))
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.get_by_text("Fichier joint : planning.pdf")).to_be_visible()
    expect(page.get_by_label("Motivez vos réserves")).to_have_value(answers["reserves"]["motivation"])
    continue_to(page, None)
    expect(page.get_by_text("planning.pdf")).to_be_visible()
    reference = send(page)
    expect(page.get_by_text("Cette date fait foi")).to_be_visible()
    text = pdf_text(page, f"{base}/dat/declarations/{reference}/declaration.pdf")
    assert "7 · RÉSERVES MOTIVÉES" in text and "planning.pdf" in text
    context.close()


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element is focused (keyboard only; the page's order decides)."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus")


def keyboard_step(page, answers: dict) -> None:
    for name, value in answers.items():
        if isinstance(value, list) and len(value) == 3 and name.startswith(("date", "registre_date")):
            tab_to(page, f"#{name}-day")
            for index, typed in enumerate(value):
                if index:
                    page.keyboard.press("Tab")
                page.keyboard.type(typed)
        elif isinstance(value, list):
            for item in value:
                tab_to(page, f"input[name='{name}'][value='{item}']")
                page.keyboard.press("Space")
        elif page.locator(f"input[type=radio][name='{name}']").count():
            values = page.locator(f"input[type=radio][name='{name}']").evaluate_all(
                "els => els.map(e => e.value)"
            )
            tab_to(page, f"input[type=radio][name='{name}']")
            if values.index(value) == 0:
                page.keyboard.press("Space")
            for _ in range(values.index(value)):
                page.keyboard.press("ArrowDown")
        else:
            tab_to(page, f"[name='{name}']")
            page.keyboard.press("Control+A")
            page.keyboard.type(value)


def test_a_declaration_with_the_keyboard_only(page, live_server, people):
    base, answers = live_server.url, valid_answers(nom="Clavier")
    page.goto(f"{base}/connexion")
    tab_to(page, "input[name='email']")
    page.keyboard.type(people["employer"].email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)
    page.goto(f"{base}/demarches/dat/commencer")
    tab_to(page, "button[type=submit]:has-text('Commencer')")
    page.keyboard.press("Enter")
    heading(page, "L'employeur")
    for index, step in enumerate(STEPS):
        keyboard_step(page, answers[step])
        tab_to(page, "button.govuk-button[value=continue]")  # not the hidden default for Enter
        page.keyboard.press("Enter")
        heading(
            page,
            TITLES[STEPS[index + 1]] if index + 1 < len(STEPS) else "Vérifier vos réponses avant d'envoyer",
        )
    tab_to(page, "#declarant_qualite")
    page.keyboard.type("Gérant")
    tab_to(page, "#certification")
    page.keyboard.press("Space")
    tab_to(page, "button:has-text('Envoyer la déclaration')")
    page.keyboard.press("Enter")
    heading(page, "Déclaration transmise")
    expect(page.get_by_text("CLAVIER Lucas")).to_be_visible()


def test_reserves_after_sending_and_the_cpam_records_the_cmi(page, live_server, people):
    base = live_server.url
    reference = make_declaration(people["employer"], people["metz"], valid_answers(nom="Apres"))
    login_as(page, base, people["employer"].email, PASSWORD)
    page.goto(f"{base}/dat/declarations/{reference}")
    page.get_by_role("button", name="Émettre des réserves motivées").click()
    heading(page, "Émettre des réserves motivées")
    assert_accessible(page)
    page.get_by_label("Une cause totalement étrangère au travail").check()
    page.get_by_label("Motivez vos réserves").fill(
        "La victime souffrait du dos avant son embauche, comme l'indique la visite médicale d'aptitude."
    )
    page.get_by_role("button", name="Transmettre les réserves").click()
    expect(page.get_by_text("Vos réserves motivées ont été transmises")).to_be_visible()
    expect(page.get_by_text("Réserves motivées ajoutées")).to_be_visible()
    page.context.clear_cookies()

    login_as(page, base, people["agent"].email, PASSWORD)
    page.get_by_role("link", name="Déclarations reçues").click()
    heading(page, "Déclarations d'accident reçues")
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Réserves")
    row.get_by_role("link", name=reference).click()
    heading(page, f"Déclaration {reference}")
    assert_accessible(page)
    expect(page.get_by_text("La victime souffrait du dos")).to_be_visible()
    received = valid_answers()["accident"]["date_accident"]
    for part, typed in zip(("day", "month", "year"), received, strict=True):
        page.locator(f"#recu_le-{part}").fill(typed)
    page.get_by_role("button", name="Enregistrer la date").click()
    expect(
        page.get_by_text("La date de réception du certificat médical initial est enregistrée")
    ).to_be_visible()
    expect(page.get_by_text("Certificat médical initial reçu par la caisse le")).to_be_visible()
    # Reserves: only an instruction can follow.
    page.get_by_label("En instruction").check()
    page.get_by_role("button", name="Enregistrer le statut").click()
    expect(page.get_by_text("Statut enregistré : En instruction.")).to_be_visible()
    assert_accessible(page)


def filled_draft(user, establishment, answers: dict) -> int:
    """A draft with every step validly answered, through the real services (not sent)."""
    from flask import current_app

    from app.services import drafts
    from app.workflows import get_workflow
    from tests.dat_support import to_multidict

    workflow = get_workflow("dat")
    with current_app.test_request_context():
        draft = drafts.start_draft(user, workflow, establishment)
        for name in STEPS:
            data = (
                {**draft.answers.get("employeur", {}), **answers[name]}
                if name == "employeur"
                else answers[name]
            )
            saved = drafts.save_step(
                user, draft, workflow, workflow.step(name), to_multidict(data), base_version=draft.version
            )
            assert saved.valid, (name, saved.form.errors)
        return draft.id


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_same_accident_twice_is_warned_and_needs_a_confirmation(browser, live_server, people, javascript):
    first = make_declaration(people["employer"], people["metz"])
    draft_id = filled_draft(people["employer"], people["metz"], valid_answers())
    context = browser.new_context(java_script_enabled=javascript, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    login_as(page, live_server.url, people["employer"].email, PASSWORD)
    page.goto(f"{live_server.url}/demarches/brouillons/{draft_id}/verifier")
    heading(page, "Vérifier vos réponses avant d'envoyer")
    expect(page.get_by_text("Cet accident semble déjà déclaré")).to_be_visible()
    expect(page.get_by_role("link", name=first)).to_have_attribute("href", f"/dat/declarations/{first}")
    if javascript:
        assert_accessible(page)
    shot(page, f"dat-duplicate-warning-{'js' if javascript else 'nojs'}")
    page.get_by_label("Qualité du déclarant").fill("Responsable des ressources humaines")
    page.get_by_label("Je certifie exactes les informations de cette déclaration").check()
    page.get_by_role("button", name="Envoyer la déclaration").click()
    expect(page.get_by_role("link", name=re.compile("cochez la case pour confirmer"))).to_be_visible()
    assert page.title().startswith("Erreur : ")
    if javascript:
        assert_accessible(page)
    page.get_by_label("Je certifie exactes les informations de cette déclaration").check()
    page.get_by_label(re.compile("Je confirme qu'il s'agit d'un autre accident")).check()
    page.get_by_role("button", name="Envoyer la déclaration").click()
    heading(page, "Déclaration transmise")
    page.goto(f"{live_server.url}/dat/declarations/{first}")
    expect(page.get_by_text("Doublon possible").first).to_be_visible()
    context.close()
