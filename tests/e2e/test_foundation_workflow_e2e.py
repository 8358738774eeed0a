"""The platform's foundation end to end (issue 2): sign-in, the resumable multi-step workflow
("Signalement d'un changement de coordonnées") with save-and-resume in a fresh browser, the two-tab
conflict, submit once, the same journey without JavaScript, autosave, keyboard only, htmx swaps.
Every page visited passes axe-core (no serious or critical violation)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Draft, Submission
from tests.e2e.conftest import assert_accessible, login_as, shot, wait_for
from tests.factories import PASSWORD

WORKFLOW_TITLE = "Signalement d'un changement de coordonnées"
STEP_URL = re.compile(r"/demarches/brouillons/(\d+)/etapes/(\w+)$")
REFERENCE = re.compile(r"^COORD-\d{4}-000001$")
HTMX_SCRIPT = re.compile(r"/static/vendor/htmx-[^/]*\.js$")
pytestmark = pytest.mark.usefixtures("no_script_error")


def heading(page):
    return page.get_by_role("heading", level=1)


def start_draft(page, base: str, *, check=None) -> int:
    """From "Mes démarches": start the workflow (the only establishment is preselected).
    ``check(page)`` runs on the list and on the start page (an accessibility check)."""
    page.goto(f"{base}/demarches/")
    if check:
        check(page)
    page.get_by_role("link", name=WORKFLOW_TITLE).click()
    expect(heading(page)).to_have_text(WORKFLOW_TITLE)
    expect(page.get_by_label("Transports Lorrains Metz")).to_be_checked()
    if check:
        check(page)
    page.get_by_role("button", name="Commencer").click()
    expect(heading(page)).to_have_text("Nature du changement")
    return int(STEP_URL.search(page.url).group(1))


def choose_nature(page, label: str) -> None:
    page.get_by_label(label).check()
    page.get_by_role("button", name="Continuer").click()


def fill_contact(page, nom: str, courriel: str, telephone: str = "") -> None:
    page.get_by_label("Nom et prénom du contact").fill(nom)
    page.get_by_label("Adresse e-mail du contact").fill(courriel)
    page.get_by_label("Téléphone du contact (facultatif)").fill(telephone)


def fill_today(page) -> None:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    page.get_by_label("Jour").fill(str(today.day))
    page.get_by_label("Mois").fill(str(today.month))
    page.get_by_label("Année").fill(str(today.year))


def on_the_contact_step(page, base: str, user) -> int:
    """Signed in as ``user``, a new draft answered up to its "Nouveau contact" step."""
    login_as(page, base, user.email, PASSWORD)
    draft_id = start_draft(page, base)
    choose_nature(page, "Le contact pour les questions AT/MP")
    expect(heading(page)).to_have_text("Nouveau contact")
    return draft_id


def step_form_values(page) -> dict:
    return page.evaluate(
        "() => Object.fromEntries(new FormData(document.querySelector('[data-workflow-form]')))"
    )


def submissions() -> list[Submission]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Submission)))


def draft(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


# -- 1. sign-in ------------------------------------------------------------------------------------


def test_sign_in_and_a_wrong_password_is_refused_in_french_next_to_the_field(page, live_server, claire):
    base = live_server.url
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/connexion\?next=%2F$"))
    expect(page).to_have_title("Se connecter – Services AT/MP")
    assert_accessible(page)

    page.get_by_label("Adresse e-mail").fill(claire.email)
    page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_title(re.compile(r"^Erreur : Se connecter"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Il y a un problème")
    expect(summary.get_by_role("link", name="Adresse e-mail ou mot de passe incorrect")).to_have_attribute(
        "href", "#email"
    )
    # The message is tied to the field (GOV.UK error message inside its form group).
    expect(page.locator("#email-error")).to_have_text(
        re.compile(r"^\s*Erreur\s?: Adresse e-mail ou mot de passe incorrect\s*$")
    )
    expect(page.get_by_label("Adresse e-mail")).to_have_attribute(
        "aria-describedby", re.compile("email-error")
    )
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_value("")
    shot(page, "login-error")
    assert_accessible(page)

    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{base}/")
    expect(heading(page)).to_have_text("Tableau de bord")
    expect(page.get_by_role("banner")).to_contain_text("Claire Dupont")


# -- 2. save, leave, resume in a fresh browser -------------------------------------------------------


def test_save_and_resume_later_in_a_fresh_browser_lands_on_the_step_left(
    page, new_context, live_server, claire
):
    base = live_server.url
    login_as(page, base, claire.email, PASSWORD)
    draft_id = start_draft(page, base)
    expect(page).to_have_title(re.compile(r"^Nature du changement – Étape 1 sur 3 – "))

    choose_nature(page, "Le contact pour les questions AT/MP")
    expect(heading(page)).to_have_text("Nouveau contact")
    expect(page.get_by_text("Étape 2 sur 4")).to_be_visible()
    page.get_by_label("Nom et prénom du contact").fill("Jean Muller")
    page.get_by_role("button", name="Enregistrer et reprendre plus tard").click()

    expect(heading(page)).to_have_text("Mes démarches")
    expect(page.get_by_role("alert")).to_contain_text(
        "Votre brouillon est enregistré. Vous le reprendrez à l'étape « Nouveau contact »."
    )
    expect(page.get_by_role("alert")).to_contain_text("Certaines réponses de cette étape seront à corriger.")
    row = page.get_by_role("row").filter(has_text=WORKFLOW_TITLE)
    expect(row).to_contain_text("1 étape terminée sur 4")
    expect(row).to_contain_text("à « Nouveau contact »")
    shot(page, "drafts-list")
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Vous êtes déconnecté.")
    page.context.close()

    fresh = new_context().new_page()
    login_as(fresh, base, claire.email, PASSWORD)
    drafts_table = fresh.get_by_role("region", name="Brouillons en cours")
    expect(drafts_table).to_contain_text("reprise : Nouveau contact")
    shot(fresh, "dashboard-employer")
    assert_accessible(fresh)
    fresh.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Brouillons").click()
    fresh.get_by_role("link", name=re.compile(r"^Reprendre")).click()
    expect(fresh).to_have_url(f"{base}/demarches/brouillons/{draft_id}/etapes/contact")
    expect(heading(fresh)).to_have_text("Nouveau contact")
    expect(fresh.get_by_text("Étape 2 sur 4")).to_be_visible()
    expect(fresh.get_by_label("Nom et prénom du contact")).to_have_value("Jean Muller")
    expect(fresh.get_by_label("Adresse e-mail du contact")).to_have_value("")
    expect(fresh.locator("#autosave-status")).to_contain_text("par Claire Dupont")

    # The overview: what is done and what is left; its link goes back to the section's next step.
    fresh.get_by_role("link", name="Voir le sommaire de la démarche").click()
    expect(heading(fresh)).to_have_text(WORKFLOW_TITLE)
    expect(fresh.get_by_text("Vous avez terminé 0 section sur 2.")).to_be_visible()
    sections = fresh.locator(".govuk-task-list__item")
    expect(sections.nth(0)).to_contain_text("En cours")
    expect(sections.nth(1)).to_contain_text("Impossible de commencer pour l'instant")
    expect(sections.nth(1).get_by_role("link")).to_have_count(0)
    shot(fresh, "overview")
    assert_accessible(fresh)
    fresh.get_by_role("link", name="Le changement").click()
    expect(heading(fresh)).to_have_text("Nouveau contact")

    fresh.get_by_role("link", name="Retour").click()
    expect(heading(fresh)).to_have_text("Nature du changement")
    expect(fresh.get_by_label("Le contact pour les questions AT/MP")).to_be_checked()


# -- 3. two tabs ---------------------------------------------------------------------------------------


def test_two_tabs_saving_the_same_step_get_the_conflict_screen_and_keep_what_was_typed(
    page, live_server, claire
):
    base = live_server.url
    draft_id = on_the_contact_step(page, base, claire)
    step_url = page.url

    tab_b = page.context.new_page()
    tab_b.goto(step_url)
    expect(heading(tab_b)).to_have_text("Nouveau contact")

    # Tab A saves first.
    fill_contact(page, "Jean Muller", "jean.muller@transports.test")
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Date du changement")

    # Tab B, read before A's save, types something else and saves.
    fill_contact(tab_b, "Sophie Klein", "sophie.klein@transports.test", "03 87 12 34 56")
    tab_b.get_by_role("button", name="Continuer").click()
    expect(heading(tab_b)).to_have_text("Ces réponses ont été modifiées entre-temps")
    expect(tab_b).to_have_url(step_url)  # a 409 pushes no new URL
    expect(tab_b).to_have_title(re.compile(r"^Réponses modifiées entre-temps – Nouveau contact"))
    expect(tab_b.locator(".app-conflict")).to_contain_text("Claire Dupont a enregistré cette démarche le")
    stored = tab_b.locator("h2:has-text('Version enregistrée') ~ dl").first
    typed = tab_b.locator("h2:has-text('Votre saisie') + dl")
    expect(stored).to_contain_text("Jean Muller")
    expect(stored).to_contain_text("jean.muller@transports.test")
    expect(typed).to_contain_text("Sophie Klein")
    expect(typed).to_contain_text("sophie.klein@transports.test")
    expect(typed).to_contain_text("0387123456")
    shot(tab_b, "conflict")
    assert_accessible(tab_b)

    tab_b.get_by_role("button", name="Remplacer par ma saisie").click()
    expect(heading(tab_b)).to_have_text("Date du changement")
    contact = draft(draft_id).answers["contact"]
    assert contact == {
        "nom": "Sophie Klein",
        "courriel": "sophie.klein@transports.test",
        "telephone": "03 87 12 34 56",
    }
    tab_b.get_by_role("link", name="Retour").click()
    expect(tab_b.get_by_label("Nom et prénom du contact")).to_have_value("Sophie Klein")
    expect(tab_b.get_by_label("Téléphone du contact (facultatif)")).to_have_value("0387123456")


def test_a_draft_deleted_in_one_tab_is_reported_in_the_other_and_leaves_the_lists(page, live_server, claire):
    base = live_server.url
    draft_id = on_the_contact_step(page, base, claire)

    # Tab B deletes the draft from "Mes démarches", through the confirmation page.
    tab_b = page.context.new_page()
    tab_b.goto(base + "/demarches/")
    tab_b.get_by_role("region", name="Brouillons").get_by_role("link", name=re.compile("^Supprimer")).click()
    expect(heading(tab_b)).to_have_text("Supprimer ce brouillon ?")
    expect(tab_b.locator(".govuk-summary-list")).to_contain_text("1 étape terminée sur")
    assert_accessible(tab_b)
    tab_b.get_by_role("button", name="Supprimer le brouillon").click()
    expect(heading(tab_b)).to_have_text("Mes démarches")
    expect(tab_b.get_by_role("alert")).to_contain_text("a été supprimé")
    expect(tab_b.get_by_text("Aucun brouillon en cours")).to_be_visible()
    assert_accessible(tab_b)

    # Tab A, still on the step, types: the autosave says the draft is gone.
    page.get_by_label("Nom et prénom du contact").fill("Jean Muller")
    expect(page.locator("#autosave-status")).to_contain_text("Claire Dupont a supprimé ce brouillon le")
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Ce brouillon a été supprimé")
    expect(page.get_by_text("Ce que vous venez de saisir n'a pas été enregistré.")).to_be_visible()
    assert_accessible(page)
    assert draft(draft_id).answers == {}


# -- 4. submit once ----------------------------------------------------------------------------------


def test_submit_shows_the_reference_and_a_replay_creates_no_second_submission(page, live_server, claire):
    base = live_server.url
    login_as(page, base, claire.email, PASSWORD)
    draft_id = start_draft(page, base, check=assert_accessible)
    assert_accessible(page)
    choose_nature(page, "Le contact pour les questions AT/MP")
    expect(heading(page)).to_have_text("Nouveau contact")
    assert_accessible(page)
    fill_contact(page, "Jean Muller", "jean.muller@transports.test")
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Date du changement")
    assert_accessible(page)
    fill_today(page)
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Motif du changement")
    assert_accessible(page)
    page.get_by_label("Pourquoi ces coordonnées changent-elles ?").fill(
        "Nouveau responsable des ressources humaines\n<script>alert(1)</script>"
    )
    page.get_by_role("button", name="Continuer").click()

    expect(heading(page)).to_have_text("Vérifier vos réponses avant d'envoyer")
    expect(page).to_have_url(f"{base}/demarches/brouillons/{draft_id}/verifier")
    answers = page.locator("main")
    expect(answers).to_contain_text("Le contact pour les questions AT/MP")
    expect(answers).to_contain_text("jean.muller@transports.test")
    expect(answers).to_contain_text("<script>alert(1)</script>")  # shown as text, not run
    expect(page.get_by_role("link", name="Modifier motif")).to_be_visible()
    shot(page, "check-answers")
    assert_accessible(page)
    csrf = page.locator("form[action$='/envoyer'] input[name=csrf_token]").input_value()
    version = page.locator("form[action$='/envoyer'] input[name=version]").input_value()

    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Demande envoyée")
    expect(page).to_have_url(f"{base}/demarches/brouillons/{draft_id}/confirmation")
    expect(page.locator(".govuk-panel strong")).to_have_text(REFERENCE)
    reference = page.locator(".govuk-panel strong").inner_text()
    shot(page, "confirmation")
    assert_accessible(page)

    # Back to the check-answers page: it is not shown again (the draft is sent).
    page.go_back()
    expect(page).to_have_url(f"{base}/demarches/brouillons/{draft_id}/confirmation")
    expect(page.locator(".govuk-panel strong")).to_have_text(reference)
    # The same POST replayed (double click, a resent form) answers the same submission.
    replay = page.request.post(
        f"{base}/demarches/brouillons/{draft_id}/envoyer",
        form={"csrf_token": csrf, "version": version},
    )
    assert replay.ok and replay.url.endswith(f"/demarches/brouillons/{draft_id}/confirmation")
    assert reference in replay.text()

    (submission,) = submissions()
    assert submission.reference == reference
    assert submission.data["answers"]["contact"]["courriel"] == "jean.muller@transports.test"
    assert draft(draft_id).submitted_at is not None

    page.get_by_role("link", name="Revenir à mes démarches").click()
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    expect(page.get_by_text("Aucun brouillon en cours.")).to_be_visible()
    assert_accessible(page)


# -- 5. without JavaScript ------------------------------------------------------------------------------


def test_the_whole_journey_works_with_javascript_disabled(
    new_context, live_server, claire, assert_accessible_without_javascript
):
    base = live_server.url
    page = new_context(java_script_enabled=False).new_page()
    login_as(page, base, claire.email, PASSWORD)
    assert page.evaluate("document.body.classList.contains('js-enabled')") is False
    draft_id = start_draft(page, base)

    # A missing answer: the full page comes back with the error summary (no htmx).
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_title(re.compile(r"^Erreur : Nature du changement"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Sélectionnez les coordonnées qui changent")
    expect(page).to_have_url(f"{base}/demarches/brouillons/{draft_id}/etapes/nature")
    shot(page, "step-error-nojs")
    assert_accessible_without_javascript(page)

    choose_nature(page, "L'adresse de l'établissement")
    expect(heading(page)).to_have_text("Nouvelle adresse")
    expect(page.get_by_text("Étape 2 sur 4")).to_be_visible()
    assert_accessible_without_javascript(page)
    page.get_by_label("Numéro et voie").fill("12 rue Serpenoise")
    page.get_by_label("Code postal").fill("5700")
    page.get_by_label("Commune").fill("Metz")
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("#code_postal-error")).to_contain_text(
        "Saisissez un code postal à 5 chiffres, par exemple 57000"
    )
    expect(page.get_by_label("Numéro et voie")).to_have_value("12 rue Serpenoise")
    page.get_by_label("Code postal").fill("57000")
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Date du changement")
    fill_today(page)
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Motif du changement")
    page.get_by_label("Pourquoi ces coordonnées changent-elles ?").fill("Déménagement des bureaux")
    page.get_by_role("button", name="Continuer").click()

    expect(heading(page)).to_have_text("Vérifier vos réponses avant d'envoyer")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("12 rue Serpenoise")
    assert_accessible_without_javascript(page)
    # Change an answer from the summary and come back to it.
    page.get_by_role("link", name="Modifier motif").click()
    expect(heading(page)).to_have_text("Motif du changement")
    page.get_by_label("Pourquoi ces coordonnées changent-elles ?").fill("Déménagement du dépôt de Metz")
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Vérifier vos réponses avant d'envoyer")
    expect(page.get_by_text("Déménagement du dépôt de Metz")).to_be_visible()

    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Demande envoyée")
    expect(page.locator(".govuk-panel strong")).to_have_text(REFERENCE)
    assert_accessible_without_javascript(page)
    # Back, then the browser's "resend": still one submission.
    page.go_back()
    expect(page.locator(".govuk-panel strong")).to_have_text(REFERENCE)
    (submission,) = submissions()
    assert submission.draft_id == draft_id
    assert submission.data["answers"]["adresse"]["code_postal"] == "57000"
    assert submission.data["answers"]["motif"]["motif"] == "Déménagement du dépôt de Metz"


# -- 6. autosave -----------------------------------------------------------------------------------------


def test_autosave_keeps_what_is_typed_across_a_reload(page, live_server, claire):
    base = live_server.url
    draft_id = on_the_contact_step(page, base, claire)
    # The swap has settled once app.js has moved the focus to the new step's heading: typing
    # before that would race with it.
    expect(heading(page)).to_be_focused()
    version_before = page.locator("#draft-version").input_value()

    page.get_by_label("Nom et prénom du contact").press_sequentially("Jean Mül", delay=20)
    status = page.locator("#autosave-status")
    expect(status).to_have_text(re.compile(r"^\s*Brouillon enregistré à \d\d\sh\s\d\d\s*$"))
    # The form now carries the saved version (replaced out of band), so "Continuer" is no conflict.
    expect(page.locator("#draft-version")).not_to_have_value(version_before)
    assert draft(draft_id).answers["contact"]["nom"] == "Jean Mül"
    shot(page, "autosave")

    page.reload()
    expect(heading(page)).to_have_text("Nouveau contact")
    expect(page.get_by_label("Nom et prénom du contact")).to_have_value("Jean Mül")
    expect(status).to_contain_text("Dernier enregistrement le")

    page.get_by_label("Nom et prénom du contact").fill("Jean Müller")
    page.get_by_label("Adresse e-mail du contact").fill("jean.muller@transports.test")
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Date du changement")
    assert draft(draft_id).answers["contact"]["nom"] == "Jean Müller"


def test_what_is_typed_before_the_scripts_run_is_autosaved_once_they_do(page, live_server, claire):
    """On a slow line the page shows before htmx has bound the autosave: what is typed then sent
    nothing, and nothing said « Brouillon enregistré ». htmx is held back here until the person has
    typed; once it runs, the form autosaves what differs from what the server sent."""
    base = live_server.url
    draft_id = on_the_contact_step(page, base, claire)
    step_url = page.url
    held: list = []
    page.route(HTMX_SCRIPT, lambda route: held.append(route))
    page.goto(step_url, wait_until="commit")
    page.get_by_label("Nom et prénom du contact").fill("Jeanne Arrivée-Tôt")
    wait_for(page, lambda: held)
    assert held, "the page never asked for htmx"
    assert "contact" not in draft(draft_id).answers
    for route in held:
        route.continue_()
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("Brouillon enregistré à")
    assert draft(draft_id).answers["contact"]["nom"] == "Jeanne Arrivée-Tôt"
    expect(page.get_by_label("Nom et prénom du contact")).to_have_value("Jeanne Arrivée-Tôt")


def test_an_untouched_page_sends_no_autosave_when_the_scripts_run(page, live_server, claire):
    on_the_contact_step(page, live_server.url, claire)
    autosaves: list = []

    def note_autosave(request) -> None:
        if request.url.endswith("/enregistrement-automatique"):
            autosaves.append(request)

    page.on("request", note_autosave)
    page.reload()
    expect(heading(page)).to_have_text("Nouveau contact")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # htmx's load event comes a tick after DOMContentLoaded
    assert autosaves == []


def test_a_failed_autosave_says_so_and_keeps_what_was_typed(page, live_server, claire):
    base = live_server.url
    draft_id = on_the_contact_step(page, base, claire)

    # Signed out from another tab: the session (and its CSRF token) is gone, the next autosave is
    # refused.
    other = page.context.new_page()
    other.goto(f"{base}/")
    other.get_by_role("button", name="Se déconnecter").click()
    expect(other.get_by_role("alert")).to_contain_text("Vous êtes déconnecté.")

    page.get_by_label("Nom et prénom du contact").fill("Jean Muller")
    status = page.locator("#autosave-status")
    expect(status).to_contain_text(
        re.compile(
            r"Échec de l'enregistrement automatique : votre session a expiré.*"
            r"Votre saisie reste sur cette page"
        )
    )
    expect(status.get_by_role("button", name="Réessayer")).to_be_visible()
    expect(page.get_by_label("Nom et prénom du contact")).to_have_value("Jean Muller")
    assert "contact" not in draft(draft_id).answers
    assert_accessible(page)

    # Signed in again in the other tab: "Réessayer" fetches the new session's token and saves.
    login_as(other, base, claire.email, PASSWORD)
    status.get_by_role("button", name="Réessayer").click()
    expect(status).to_contain_text(re.compile(r"Brouillon enregistré à \d\d\sh\s\d\d"))
    assert draft(draft_id).answers["contact"]["nom"] == "Jean Muller"


# -- 7. keyboard only --------------------------------------------------------------------------------------


def tab_to(page, locator, limit: int = 25) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if locator.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never got the focus after {limit} Tab presses")


def test_sign_in_and_a_step_with_the_keyboard_only(page, live_server, claire):
    base = live_server.url
    page.goto(f"{base}/connexion")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu principal")).to_be_focused()
    tab_to(page, page.get_by_label("Adresse e-mail"))
    page.keyboard.type(claire.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Tableau de bord")

    tab_to(page, page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Brouillons"))
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Mes démarches")
    tab_to(page, page.get_by_role("link", name=WORKFLOW_TITLE))
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(WORKFLOW_TITLE)
    tab_to(page, page.get_by_role("button", name="Commencer"))
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Nature du changement")

    # Radios: Tab into the group, Space selects, arrows move the choice.
    tab_to(page, page.get_by_label("L'adresse de l'établissement"))
    page.keyboard.press("Space")
    expect(page.get_by_label("L'adresse de l'établissement")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Le contact pour les questions AT/MP")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Continuer"))
    page.keyboard.press("Space")
    expect(heading(page)).to_have_text("Nouveau contact")
    expect(heading(page)).to_be_focused()  # focus follows the swapped-in step

    # Enter in a text input submits with "Continuer"; the error summary takes the focus and
    # its link leads to the field.
    tab_to(page, page.get_by_label("Nom et prénom du contact"))
    page.keyboard.type("Jean Muller")
    page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Saisissez l'adresse e-mail du contact")
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="Saisissez l'adresse e-mail du contact")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Adresse e-mail du contact")).to_be_focused()
    page.keyboard.type("jean.muller@transports.test")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Date du changement")
    expect(heading(page)).to_be_focused()


# -- 8. htmx -----------------------------------------------------------------------------------------------


def test_htmx_swaps_a_step_in_place_with_the_error_summary_focused_and_honest_urls(page, live_server, claire):
    base = live_server.url
    login_as(page, base, claire.email, PASSWORD)
    draft_id = start_draft(page, base)
    nature_url = f"{base}/demarches/brouillons/{draft_id}/etapes/nature"
    expect(page).to_have_url(nature_url)
    page.evaluate("window.sansRechargement = true")  # lost if the page were loaded again

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Continuer").click()
    response = answer.value
    assert response.status == 422
    assert response.request.headers.get("hx-request") == "true"
    assert response.headers.get("hx-push-url") == "false"
    assert "<html" not in response.text()  # a fragment, not a page
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Sélectionnez les coordonnées qui changent")).to_have_attribute(
        "href", re.compile(r"^#nature")
    )
    expect(page).to_have_title(re.compile(r"^Erreur : Nature du changement – Étape 1 sur 3"))
    expect(page).to_have_url(nature_url)
    assert page.evaluate("window.sansRechargement") is True
    assert_accessible(page)

    choose_nature(page, "L'adresse de l'établissement")
    expect(heading(page)).to_have_text("Nouvelle adresse")
    expect(heading(page)).to_be_focused()
    expect(page).to_have_url(f"{base}/demarches/brouillons/{draft_id}/etapes/adresse")
    expect(page).to_have_title(re.compile(r"^Nouvelle adresse – Étape 2 sur 4"))
    assert page.evaluate("window.sansRechargement") is True
    assert_accessible(page)

    page.get_by_label("Numéro et voie").fill("12 rue Serpenoise")
    page.get_by_label("Code postal").fill("57OOO")
    page.get_by_role("button", name="Continuer").click()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Saisissez un code postal à 5 chiffres, par exemple 57000")
    expect(summary).to_contain_text("Saisissez la commune")
    expect(page.locator("#code_postal-error")).to_be_visible()
    expect(page.get_by_label("Numéro et voie")).to_have_value("12 rue Serpenoise")
    expect(page).to_have_url(f"{base}/demarches/brouillons/{draft_id}/etapes/adresse")
    assert page.evaluate("window.sansRechargement") is True
    shot(page, "step-error-htmx")
    assert_accessible(page)

    # The back button goes to the previous step's URL, with its answer.
    page.go_back()
    expect(page).to_have_url(nature_url)
    expect(heading(page)).to_have_text("Nature du changement")
    expect(page.get_by_label("L'adresse de l'établissement")).to_be_checked()
