"""An MP with several employer establishments in Chromium (issue 13, item 2), on the demo data: the CPAM agent
registers an occupational disease with two SIRETs (« Ajouter un autre établissement employeur » moves the
focus into the new field; a SIRET given twice is refused next to its field; « Retirer » takes it out), and
the employer holding QR Pro on both agencies finds the demo MP under each, each page for its own
establishment. axe-core finds no serious or critical violation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from app.demo.dat import METZ, STRASBOURG
from tests.dat_support import local_today, make_nir
from tests.e2e.conftest import assert_accessible, login_as, shot

pytestmark = pytest.mark.usefixtures("no_script_error")


def fill_date(page, name: str, day: date) -> None:
    page.locator(f"#{name}-day").fill(str(day.day))
    page.locator(f"#{name}-month").fill(str(day.month))
    page.locator(f"#{name}-year").fill(str(day.year))


def test_the_agent_registers_an_mp_with_two_employers(page, demo_server):
    base = demo_server.url
    login_as(page, base, "agent.cpam@demo.test", DEMO_PASSWORD)
    page.goto(f"{base}/cpam/qrpro/maladies/nouvelle")
    page.get_by_label("Numéro de sécurité sociale de la victime").fill(make_nir("F", date(1979, 4, 2)))
    page.get_by_label("Nom et prénom de la victime").fill("LEROY Sophie")
    page.get_by_label("Adresse de la victime").fill("4 rue du Pont")
    page.get_by_label("Code postal").fill("57000")
    page.get_by_label("Commune").fill("Metz")
    page.get_by_label("SIRET de l'établissement employeur").fill(METZ)
    page.get_by_role("button", name="Ajouter un autre établissement employeur").click()
    second = page.get_by_label("SIRET de l'établissement employeur n° 2")
    expect(second).to_be_focused()
    expect(page.get_by_label("SIRET de l'établissement employeur n° 1 (principal)")).to_have_value(METZ)
    second.fill(STRASBOURG)
    page.get_by_role("button", name="Ajouter un autre établissement employeur").click()
    page.get_by_label("SIRET de l'établissement employeur n° 3").fill(METZ)
    page.get_by_label("Numéro du tableau de maladie professionnelle").fill("57 A")
    page.get_by_label("Intitulé de la maladie").fill("Syndrome du canal carpien")
    today = local_today()
    fill_date(page, "first_finding_on", today - timedelta(days=30))
    fill_date(page, "declaration_received_on", today - timedelta(days=10))
    fill_date(page, "cmi_received_on", today - timedelta(days=8))
    page.get_by_role("button", name="Enregistrer le dossier").click()
    message = "Cet établissement est déjà un employeur du dossier : ne le saisissez qu'une fois"
    expect(page.locator("#other_sirets-1-error")).to_contain_text(message)
    expect(page.locator(".govuk-error-summary")).to_contain_text(message)
    expect(page).to_have_title(re.compile(r"^Erreur"))
    shot(page, "qrpro-employers-register-error")
    assert_accessible(page)
    page.get_by_role("button", name="Retirer l'établissement employeur n° 3").click()
    expect(page.get_by_label("SIRET de l'établissement employeur n° 3")).to_have_count(0)
    expect(page.get_by_label("SIRET de l'établissement employeur n° 2")).to_have_value(STRASBOURG)
    page.get_by_role("button", name="Enregistrer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dossier MP-")
    expect(page.locator(".govuk-caption-l")).to_contain_text(f"SIRET {METZ}) et 1 autre employeur")
    employers = page.locator(".govuk-summary-list__row", has_text="Employeurs")
    expect(employers).to_contain_text(f"Agence de Metz (SIRET {METZ}) – employeur principal")
    expect(employers).to_contain_text(f"Agence de Strasbourg (SIRET {STRASBOURG})")
    shot(page, "qrpro-employers-case")


def test_the_employer_finds_the_demo_mp_under_each_of_its_agencies(page, demo_server):
    base = demo_server.url
    login_as(page, base, "employeur@demo.test", DEMO_PASSWORD)
    page.goto(f"{base}/qrpro/dossiers/")
    for name in ("Agence de Metz", "Agence de Strasbourg"):
        section = page.locator("h2", has_text=name)
        expect(section).to_have_count(1)
    expect(page.locator("td", has_text="FRANÇOIS Nadia")).to_have_count(2)  # under each agency
    strasbourg = page.locator(f'a[href*="siret={STRASBOURG}"]').first
    strasbourg.click()
    body = page.locator("main")
    expect(body).to_contain_text("Vous le consultez pour Bâtiments de l'Est — Agence de Strasbourg")
    expect(body).to_contain_text("Autres employeurs : Bâtiments de l'Est — Agence de Metz")
    expect(body).to_contain_text("Victime")  # the victim's observation, in the consultation
    shot(page, "qrpro-employers-strasbourg")
    assert_accessible(page)
