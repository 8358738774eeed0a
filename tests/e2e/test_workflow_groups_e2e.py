""" "Add another" groups with files, end to end (issue 12, items 4 and 7): « Envoi de pièces
complémentaires » in Chromium — an item added with JavaScript (autosave inside the item, the file
sent by htmx), the draft resumed in a fresh browser context without JavaScript (the item and its file
are there), a second item added by plain POSTs, « Vérifier vos réponses », sent. axe-core finds no
serious or critical violation on the pages of the group."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Submission
from app.services.simple_pdf import make_pdf
from tests.e2e.conftest import assert_accessible, axe_violations, login_as, shot
from tests.factories import PASSWORD

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")

TITLE = "Envoi de pièces complémentaires"
DRAFT = re.compile(r"/demarches/brouillons/(\d+)/")


def heading(page):
    return page.get_by_role("heading", level=1)


def choose_file(page, name: str) -> None:
    page.get_by_label("Choisir un fichier").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": make_pdf(name)}]
    )


@pytest.mark.usefixtures("no_script_error")
def test_a_repeating_group_with_files_with_and_without_javascript_resumed_elsewhere(
    page, new_context, live_server, claire, assert_accessible_without_javascript
):
    base = live_server.url
    login_as(page, base, claire.email, PASSWORD)
    page.goto(f"{base}/demarches/")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("button", name="Commencer").click()
    expect(heading(page)).to_have_text("Le dossier concerné")
    draft_id = int(DRAFT.search(page.url).group(1))
    page.get_by_label("Un accident du travail ou de trajet").check()
    page.get_by_role("button", name="Continuer").click()

    # The group's page: empty, « Ajouter une pièce ».
    expect(heading(page)).to_have_text("Les pièces à transmettre")
    expect(page.get_by_text("La liste est vide pour l'instant.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Ajouter une pièce").click()
    expect(heading(page)).to_have_text("Ajouter une pièce")
    page.get_by_label("Un certificat médical").check()
    page.get_by_label("Décrivez la pièce en quelques mots").fill("Certificat initial du 2 mars")
    # Autosave inside the new item, then the file sent by htmx (multipart) on the same item.
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    expect(page.locator("#group-element")).to_have_value("0")
    choose_file(page, "certificat-initial.pdf")
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.get_by_role("link", name="certificat-initial.pdf")).to_be_visible()
    expect(heading(page)).to_have_text("Modifier « Pièce 1 »")
    description = page.get_by_label("Décrivez la pièce en quelques mots")
    expect(description).to_have_value("Certificat initial du 2 mars")
    assert_accessible(page)
    assert axe_violations(page, EVERY_IMPACT) == []  # the item's page, with a file listed
    shot(page, "group-item-js")
    # Enter in a text input is « Continuer », not the file's « Supprimer » above the buttons.
    description.press("Enter")
    expect(heading(page)).to_have_text("Les pièces à transmettre")
    expect(page.locator(".app-group-list")).to_contain_text("Certificat initial du 2 mars")
    assert axe_violations(page, EVERY_IMPACT) == []  # the list of items

    # A fresh browser context without JavaScript: the draft resumes on the group, item and file there.
    other = new_context(java_script_enabled=False).new_page()
    login_as(other, base, claire.email, PASSWORD)
    other.goto(f"{base}/demarches/brouillons/{draft_id}")
    expect(heading(other)).to_have_text("Les pièces à transmettre")
    expect(other.locator(".app-group-list")).to_contain_text("Certificat initial du 2 mars")
    assert_accessible_without_javascript(other)
    other.get_by_role("link", name="Modifier pièce 1").click()
    expect(other.get_by_role("link", name="certificat-initial.pdf")).to_be_visible()
    other.get_by_role("link", name="Revenir à la liste sans enregistrer").click()

    # A second item by plain POSTs: a missing answer first, then the file, then « Continuer ».
    other.get_by_role("button", name="Ajouter une pièce").click()
    other.get_by_role("button", name="Continuer").click()
    expect(other).to_have_title(re.compile(r"^Erreur : "))
    expect(other.locator(".govuk-error-summary")).to_contain_text("Joignez le fichier de cette pièce")
    assert_accessible_without_javascript(other)
    other.get_by_label("Une attestation de salaire").check()
    other.get_by_label("Décrivez la pièce en quelques mots").fill("Salaires de février")
    choose_file(other, "salaires.pdf")
    other.get_by_role("button", name="Joindre le fichier").click()
    expect(other.get_by_role("link", name="salaires.pdf")).to_be_visible()
    shot(other, "group-item-nojs")
    other.get_by_role("button", name="Continuer").click()
    expect(other.locator(".app-group-list")).to_contain_text("Salaires de février")
    other.get_by_role("button", name="Continuer").click()

    expect(heading(other)).to_have_text("Vérifier vos réponses avant d'envoyer")
    expect(other.get_by_text("certificat-initial.pdf")).to_be_visible()
    expect(other.get_by_text("salaires.pdf")).to_be_visible()
    assert_accessible_without_javascript(other)
    shot(other, "group-check-answers")
    other.get_by_role("button", name="Envoyer la demande").click()
    expect(other.locator(".govuk-panel")).to_be_visible()

    db.session.expire_all()
    submission = db.session.scalar(db.select(Submission).where(Submission.draft_id == draft_id))
    pieces = submission.data["answers"]["pieces"]["pieces"]
    assert [p["fichier"][0]["filename"] for p in pieces] == ["certificat-initial.pdf", "salaires.pdf"]
