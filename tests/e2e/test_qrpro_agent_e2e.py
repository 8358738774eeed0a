"""QR Pro, the CPAM agent's path end to end (issue 13), on the demo data: the home page's queue → a case to
open → the questionnaire models chosen → the instruction opened (its letters listed, the questionnaire's due
date notified) → an unlawful consultation schedule refused with the lawful dates → the timeline; then the
employer sees the case in « Dossiers en instruction ». Every page passes axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Case, CaseLetter
from tests.e2e.conftest import assert_accessible, login_as, shot


def test_the_agent_opens_an_instruction_and_an_unlawful_schedule_is_refused(page, demo_server):
    base = demo_server.url
    case = db.session.scalar(select(Case).where(Case.victim_name == "KLEIN Sarah"))
    login_as(page, base, "agent.cpam@demo.test", DEMO_PASSWORD)
    page.get_by_role("link", name=re.compile("Dossiers QR Pro en instruction")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossiers en instruction")
    assert_accessible(page)
    shot(page, "qrpro-queue")

    page.get_by_role("link", name=case.reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dossier {case.reference}")
    expect(page.get_by_text("Instruction à ouvrir")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Questionnaire de l'employeur").select_option("exemple-temoins")
    page.get_by_label("Questionnaire de la victime").select_option("exemple-temoins")
    page.get_by_role("button", name="Ouvrir l'instruction et envoyer les questionnaires").click()
    expect(page.get_by_text("Instruction ouverte : les courriers sont déposés.")).to_be_visible()
    expect(page.get_by_text("Retour des questionnaires au plus tard")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("Ouverture de l'instruction .* employeur"))
    ).to_be_visible()
    assert_accessible(page)
    shot(page, "qrpro-case-opened")
    db.session.expire_all()
    assert len(db.session.scalars(select(CaseLetter).where(CaseLetter.case_id == case.id)).all()) == 2

    # A consultation opening tomorrow cannot respect the 10-day notice: refused, with the lawful dates.
    opening = page.get_by_role("group", name="Date d'ouverture de la consultation du dossier")
    opening.get_by_label("Jour").fill("1")
    opening.get_by_label("Mois").fill("1")
    opening.get_by_label("Année").fill("2026")
    decision = page.get_by_role("group", name="Date prévue de la décision")
    decision.get_by_label("Jour").fill("2")
    decision.get_by_label("Mois").fill("1")
    decision.get_by_label("Année").fill("2026")
    page.get_by_role("button", name="Programmer la consultation et informer les parties").click()
    expect(page.get_by_text("Il y a un problème")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Ouverture possible au plus tôt le")
    assert page.title().startswith("Erreur")
    assert_accessible(page)
    shot(page, "qrpro-schedule-refused")

    page.get_by_role("button", name="Se déconnecter").click()
    login_as(page, base, "employeur@demo.test", DEMO_PASSWORD)
    page.goto(f"{base}/qrpro/dossiers/")
    expect(page.get_by_role("link", name=case.reference, exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=case.reference, exact=True).click()
    expect(page.get_by_text("Répondez au questionnaire de la caisse")).to_be_visible()
    assert_accessible(page)
