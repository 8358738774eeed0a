"""The victim's pages with the keyboard only, in Chromium on the demo data (issue 13, items 6–8): the access
code printed in GIRARD Lucas's letter activated (reference, code, e-mail and password typed, Enter), his
case page, his opening letter opened from it (its first download dated on the page); then the demo victim,
signed in with the keyboard, reaches her MP case in its consultation window and sends an observation. No
click anywhere; axe-core finds no serious or critical violation on any of these pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.demo.qrpro import MP_CONSULTATION
from app.demo.qrpro_parties import DEMO_ACCESS_CODE, VICTIM_EMAIL
from app.extensions import db
from app.models import Case
from tests.e2e.conftest import assert_accessible, shot
from tests.e2e.test_qrpro_parties_e2e import tab_to

pytestmark = pytest.mark.usefixtures("no_script_error")
NEW_PASSWORD = "Quetsche-Lorraine-Viaduc-57"
LINKS = 200  # the case page has many links before the observation form: the tab limit


def heading(page):
    return page.get_by_role("heading", level=1)


def test_the_victims_pages_with_the_keyboard_only(demo_server, page):
    base = demo_server.url
    girard = db.session.scalar(select(Case).where(Case.victim_name == "GIRARD Lucas"))
    nadia = db.session.scalar(select(Case).where(Case.victim_name == MP_CONSULTATION))

    # 1. The access code of the letter, then the account it opens.
    page.goto(f"{base}/acces-victime")
    tab_to(page, "#reference")
    page.keyboard.type(girard.reference)
    tab_to(page, "#code")
    page.keyboard.type(DEMO_ACCESS_CODE)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Créer votre compte")
    assert_accessible(page)
    tab_to(page, "#email")
    page.keyboard.type("lucas.girard@exemple.fr")
    tab_to(page, "#password")
    page.keyboard.type(NEW_PASSWORD)
    tab_to(page, "#confirm")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")

    # 2. His case page, and his opening letter opened from it with Enter.
    expect(heading(page)).to_have_text(f"Dossier {girard.reference}")
    expect(page.locator("#courriers")).to_contain_text("pas encore téléchargé")
    assert_accessible(page)
    shot(page, "qrpro-victim-keyboard-case")
    case_url = page.url
    tab_to(page, "#courriers a", LINKS)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/mes-dossiers/{girard.id}/courriers/\d+$"))
    page.goto(case_url)
    expect(page.locator("#courriers")).to_contain_text("téléchargé pour la première fois le")
    expect(page.locator("#chronologie")).to_contain_text("Courrier téléchargé pour la première fois")
    tab_to(page, "#sign-out button", LINKS)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/connexion"))

    # 3. The demo victim signs in and sends an observation on her case in consultation.
    tab_to(page, "#email")
    page.keyboard.type(VICTIM_EMAIL)
    tab_to(page, "#password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Mes dossiers")
    assert_accessible(page)
    tab_to(page, f"a[href='/mes-dossiers/{nadia.id}']", LINKS)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(f"Dossier {nadia.reference}")
    assert_accessible(page)
    tab_to(page, "#observations", LINKS)
    page.keyboard.type("Je manipulais des charges de 20 kg plusieurs heures par jour.")
    tab_to(page, "button[type=submit].govuk-button", LINKS)
    expect(page.locator("button[type=submit].govuk-button:focus")).to_have_text("Envoyer mes observations")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Vos observations sont annexées au dossier")).to_be_visible()
    expect(page.locator("#pieces")).to_contain_text("Je manipulais des charges de 20 kg")
    expect(page.locator("#chronologie")).to_contain_text("Observations déposées – par la victime")
    assert_accessible(page)
    shot(page, "qrpro-victim-keyboard-observation")
