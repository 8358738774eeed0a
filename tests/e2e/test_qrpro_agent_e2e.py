"""QR Pro, the CPAM agent's path end to end (issue 13), on the demo data: the home page's queue → a case to
open → three steps, each its own form: the instruction opened (the calendar shown, nothing sent), the
questionnaire models chosen (pinned to their version), the questionnaires sent (their letters listed, the
due date notified) → an unlawful consultation schedule refused with the lawful dates; the MP case in
consultation moved with a reason (a new letter, both schedules on the timeline); then the employer sees the
case in « Dossiers en instruction ». Every page passes axe-core."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.domain.instruction import earliest_opening, observation_window
from app.extensions import db
from app.models import Case, CaseLetter
from app.models.types import utcnow
from app.services.qrpro.instruction import _deemed_received_on
from tests.dat_support import local_today
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
    # 1. Open: the calendar is shown, nothing is sent yet.
    page.get_by_role("button", name="Ouvrir l'instruction", exact=True).click()
    expect(page.get_by_text("Instruction ouverte : choisissez maintenant les modèles")).to_be_visible()
    expect(page.get_by_text("Instruction ouverte, questionnaires en préparation").first).to_be_visible()
    expect(page.get_by_role("rowheader", name="Décision au plus tard (expiration du délai)")).to_be_visible()
    expect(page.get_by_text("Choisissez d'abord les modèles : l'envoi se fait ensuite.")).to_be_visible()
    assert_accessible(page)
    shot(page, "qrpro-case-opened")
    db.session.expire_all()
    assert db.session.scalars(select(CaseLetter).where(CaseLetter.case_id == case.id)).all() == []
    # 2. The models, pinned to their version.
    page.get_by_label("Questionnaire de l'employeur").select_option("exemple-temoins")
    page.get_by_label("Questionnaire de la victime").select_option("exemple-temoins")
    page.get_by_role("button", name="Enregistrer les modèles").click()
    expect(page.get_by_text("Modèles de questionnaire enregistrés")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\(version 1\)")).first).to_be_visible()
    expect(page.get_by_text("seraient à retourner au plus tard le")).to_be_visible()
    assert_accessible(page)
    shot(page, "qrpro-case-models")
    # 3. Send.
    page.get_by_role("button", name="Envoyer les questionnaires").click()
    expect(page.get_by_text("Questionnaires envoyés : les courriers sont déposés.")).to_be_visible()
    expect(page.get_by_text("Retour des questionnaires au plus tard")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("Ouverture de l'instruction .* employeur"))
    ).to_be_visible()
    assert_accessible(page)
    shot(page, "qrpro-case-sent")
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


def fill_date(page, legend: str, day) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Jour").fill(str(day.day))
    group.get_by_label("Mois").fill(str(day.month))
    group.get_by_label("Année").fill(str(day.year))


def test_the_agent_moves_a_notified_consultation_with_a_reason(page, demo_server):
    base = demo_server.url
    case = db.session.scalar(select(Case).where(Case.victim_name == "FRANÇOIS Nadia"))
    departement = case.establishment.departement
    login_as(page, base, "agent.cpam@demo.test", DEMO_PASSWORD)
    page.goto(f"{base}/cpam/qrpro/dossiers/{case.reference}")
    expect(page.get_by_text("Consultation du dossier programmée").first).to_be_visible()
    page.get_by_text("Reprogrammer la consultation", exact=True).click()
    # Tomorrow is too soon for the new letter: refused with the earliest and latest lawful dates.
    tomorrow = local_today() + timedelta(days=1)
    fill_date(page, "Nouvelle date d'ouverture de la consultation du dossier", tomorrow)
    fill_date(page, "Nouvelle date prévue de la décision", tomorrow + timedelta(days=15))
    page.get_by_label("Motif du changement de dates").fill("Pièces médicales reçues tardivement")
    page.get_by_role("button", name="Reprogrammer et informer les parties").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Ouverture possible au plus tôt le")
    assert page.title().startswith("Erreur")
    assert_accessible(page)
    shot(page, "qrpro-reschedule-refused")
    # The earliest lawful dates counted from the new letter's deemed receipt.
    opening = earliest_opening(_deemed_received_on(case, utcnow()), departement, kind="MP").earliest
    decision_on = observation_window(opening, departement, kind="MP").last_day.due + timedelta(days=1)
    fill_date(page, "Nouvelle date d'ouverture de la consultation du dossier", opening)
    fill_date(page, "Nouvelle date prévue de la décision", decision_on)
    page.get_by_label("Motif du changement de dates").fill("Pièces médicales reçues tardivement")
    page.get_by_role("button", name="Reprogrammer et informer les parties").click()
    expect(
        page.get_by_text("Consultation reprogrammée : un nouveau courrier informe les parties.")
    ).to_be_visible()
    # The demo MP has two employer establishments: each has its letter of each schedule.
    for title in ("Nouvelles dates de consultation", "Information sur la consultation"):
        for agency in ("Agence de Metz", "Agence de Strasbourg"):
            expect(
                page.get_by_role("link", name=re.compile(f"{title} .* employeur .*{agency}"))
            ).to_be_visible()
    expect(page.get_by_text(re.compile("Consultation du dossier reprogrammée")).first).to_be_visible()
    expect(page.get_by_text(re.compile("Pièces médicales reçues tardivement")).first).to_be_visible()
    assert_accessible(page)
    shot(page, "qrpro-rescheduled")
    db.session.expire_all()
    rows = db.session.scalars(
        select(CaseLetter).where(
            CaseLetter.case_id == case.id, CaseLetter.letter_type == "information_consultation"
        )
    ).all()
    assert sorted((row.party, row.edition) for row in rows) == [  # two employer establishments, one victim
        ("employeur", 1),
        ("employeur", 1),
        ("employeur", 2),
        ("employeur", 2),
        ("victime", 1),
        ("victime", 2),
    ]
