"""Compte AT/MP end to end (issue 15): the employer opens the rate notification (its first consultation is
dated), reads the calculation, downloads the attestation des indicateurs and a buyer checks its code on the
public page without JavaScript. Every page passes axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Letter
from app.services import compte
from tests.compte_support import make_world, pdf_text
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD


@pytest.fixture
def world(live_app):
    world = make_world()
    outcome = compte.notify_establishment(world.metz, 2025)
    assert outcome.status == "created"
    return world


def test_notification_calculation_attestation_and_public_check(page, browser, live_server, world):
    base = live_server.url
    login_as(page, base, world.employer.email, PASSWORD)
    page.get_by_role("link", name="Compte AT/MP").first.click()
    page.get_by_role("link", name=world.metz.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte AT/MP")
    expect(page.get_by_text("Non lu", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Indice de fréquence"))).to_be_visible()
    assert_accessible(page)
    shot(page, "compte-account")

    # The calculation, step by step.
    page.get_by_role("link", name=re.compile("Taux 2025")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Taux 2025 : 5,28\u00a0%")
    expect(
        page.get_by_text("43\u202f673\u00a0€ ÷ 1\u202f400\u202f000\u00a0€ × 100 = 3,1195 %")
    ).to_be_visible()
    assert_accessible(page)

    # The notification letter: opened by a person of the company, its first consultation is dated.
    page.get_by_role("link", name="courrier LUCIE").click()
    page.get_by_role("button", name="Ouvrir le courrier").click()
    expect(page.locator("#premiere-consultation")).to_contain_text(world.employer.full_name)
    rate = compte.notified_rates(world.metz, 1)[0].rate
    db.session.expire_all()
    assert db.session.get(Letter, rate.letter_id).first_consulted_by_id == world.employer.id

    # The attestation des indicateurs.
    page.goto(f"{base}/compte-atmp/{world.metz.id}")
    page.get_by_role("button", name="Obtenir une attestation").click()
    page.wait_for_url(re.compile(r"/attestations/[A-Z2-9-]+\.pdf$"))  # shown in Chromium's PDF viewer
    document = page.request.get(page.url)  # the same session's cookies: the PDF's text
    assert document.headers["content-type"] == "application/pdf"
    text = pdf_text(document.body())
    assert "Attestation des indicateurs AT/MP" in text and world.metz.siret in text
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", text).group(0)

    # A buyer checks the code, without JavaScript and without an account.
    buyer = browser.new_context(java_script_enabled=False, locale="fr-FR")
    public = buyer.new_page()
    public.goto(f"{base}/compte-atmp/verifier-attestation")
    public.get_by_label("Code de vérification").fill(code.lower())
    public.get_by_role("button", name="Vérifier").click()
    expect(public.get_by_text("Attestation authentique")).to_be_visible()
    expect(public.get_by_text(world.metz.siret)).to_be_visible()
    public.get_by_label("Code de vérification").fill("AAAA-BBBB-CCCC")
    public.get_by_role("button", name="Vérifier").click()
    expect(public.get_by_text("Aucune attestation ne porte ce code").first).to_be_visible()
    buyer.close()
    page.goto(f"{base}/compte-atmp/verifier-attestation?code=AAAA-BBBB-CCCC")
    assert_accessible(page)
