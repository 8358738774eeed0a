"""QR Pro's whole AT path in Chromium (issue 13, « How it is checked »), on the demo data: the CPAM agent
opens the instruction of KLEIN Sarah's accident → the employer answers its questionnaire, leaving and
resuming → the victim types the access code printed in her opening letter (read from the PDF's text),
creates her account and answers → the consultation: the employer adds an observation, the victim sees it
and is told by e-mail → the window closes → the decision → its LUCIE letter and the alert e-mail (a real
SMTP server). axe-core on the victim's pages, and the victim's case page with JavaScript off.

The calendar is real: the consultation is scheduled at the earliest lawful dates, then the case's stored
dates (and the declaration's reserves window) are moved back in the database to stand, in turn, inside the
window with observations and after it — as if those days had passed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.domain.cases import Party
from app.domain.instruction import earliest_opening, observation_window
from app.domain.lucie import LetterType
from app.domain.qrpro import DateKind
from app.extensions import db
from app.models import Case, Declaration
from app.models.types import utcnow
from app.services import outbox
from app.services.qrpro import calendar, letters
from app.services.qrpro.instruction import _deemed_received_on
from tests.compte_support import pdf_text
from tests.dat_support import local_today
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.qrpro_parties_support import VALID

pytestmark = pytest.mark.usefixtures("no_script_error")
VICTIM_EMAIL = "sarah.klein@exemple.fr"
VICTIM_PASSWORD = "Mirabelle-Cathedrale-Moselle-57"
CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
# The questionnaires' paths without the optional pages (no witness, no first care on the day).
EMPLOYER_PATH = VALID["qr-at-employeur"]
VICTIM_PATH = [
    (p, {**a, "temoins_presents": "non"} if p == "temoins_question" else {**a, "soins_jour": "non"})
    if p in ("temoins_question", "soins")
    else (p, a)
    for p, a in VALID["qr-at-victime"]
    if p not in ("temoins_liste", "soins_detail")
]


def heading(page):
    return page.get_by_role("heading", level=1)


def fresh_case(reference: str) -> Case:
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.reference == reference))


def answer_page(page, step: str, answers) -> None:
    """Fill the questionnaire page ``step`` as a person would (dates in their three boxes, radios,
    checkboxes, text), then « Continuer ». A group page (a list) is left with no item: witnesses are
    optional."""
    expect(page).to_have_url(re.compile(f"/etapes/{step}$"))
    page.wait_for_load_state("domcontentloaded")  # the URL changes before the new page is parsed
    expect(page.get_by_role("button", name="Continuer")).to_be_visible()
    if isinstance(answers, dict):
        for name, value in answers.items():
            if page.locator(f"#{name}-day").count():
                for part, typed in zip(("day", "month", "year"), value, strict=True):
                    page.locator(f"#{name}-{part}").fill(typed)
                continue
            field = page.locator(f'[name="{name}"]').first
            kind = field.get_attribute("type")
            if kind in ("radio", "checkbox"):
                for one in value if isinstance(value, list) else [value]:
                    page.locator(f'input[name="{name}"][value="{one}"]').check()
            else:
                field.fill(value)
    before = page.url
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(lambda url: url != before)


def answer(page, path) -> None:
    for step, answers in path:
        answer_page(page, step, answers)
    expect(heading(page)).to_have_text("Vérifier vos réponses avant d'envoyer")


def move_window(case: Case, days: int) -> None:
    """The consultation's dates moved ``days`` earlier, as if that many days had passed."""
    rows = calendar.dates_of(case)
    for kind in (DateKind.CONSULTATION_OPENING, DateKind.OBSERVATIONS_END, DateKind.DECISION_PLANNED):
        rows[kind].notified_on = rows[kind].effective_on - timedelta(days=days)
    db.session.commit()


def sign_out(page) -> None:
    page.get_by_role("button", name="Se déconnecter").first.click()


def test_the_whole_at_path(page, new_context, demo_server, smtp, assert_accessible_without_javascript):
    base = demo_server.url
    app = demo_server.app
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", smtp.port
    reference = db.session.scalar(select(Case.reference).where(Case.victim_name == "KLEIN Sarah"))

    # 1. The agent opens the instruction with the QR Pro questionnaires.
    agent = new_context().new_page()
    login_as(agent, base, "agent.cpam@demo.test", DEMO_PASSWORD)
    agent.goto(f"{base}/cpam/qrpro/dossiers/{reference}")
    agent.get_by_label("Questionnaire de l'employeur").select_option("qr-at-employeur")
    agent.get_by_label("Questionnaire de la victime").select_option("qr-at-victime")
    agent.get_by_role("button", name="Ouvrir l'instruction et envoyer les questionnaires").click()
    expect(agent.get_by_text("Instruction ouverte : les courriers sont déposés.")).to_be_visible()

    # 2. The employer starts its questionnaire, leaves, comes back and sends it.
    employer = new_context().new_page()
    login_as(employer, base, "employeur@demo.test", DEMO_PASSWORD)
    employer.goto(f"{base}/qrpro/questionnaires")
    employer.get_by_role("button", name=f"Commencer le questionnaire du dossier {reference}").click()
    for step, answers in EMPLOYER_PATH[:3]:
        answer_page(employer, step, answers)
    employer.get_by_role("button", name="Enregistrer et reprendre plus tard").click()
    sign_out(employer)
    login_as(employer, base, "employeur@demo.test", DEMO_PASSWORD)
    employer.goto(f"{base}/qrpro/questionnaires")
    employer.get_by_role("link", name=f"Reprendre le questionnaire du dossier {reference}").click()
    expect(employer).to_have_url(re.compile(r"/etapes/horaires$"))
    answer(employer, EMPLOYER_PATH[3:])
    employer.get_by_role("button", name="Envoyer la demande").click()
    expect(employer.get_by_text(re.compile(r"QRATE-\d{4}-\d{6}")).first).to_be_visible()

    # 3. The victim types the code of her letter (the PDF's text), creates her account and answers.
    case = fresh_case(reference)
    opening_letter = letters.letter_of(case, LetterType.OUVERTURE_INSTRUCTION, Party.VICTIM)
    code = CODE.search(pdf_text(letters.content(opening_letter))).group(0)
    victim = new_context().new_page()
    victim.goto(f"{base}/acces-victime")
    victim.get_by_label("Numéro de dossier").fill(reference)
    victim.get_by_label("Code d'accès").fill(code)
    victim.get_by_role("button", name="Continuer").click()
    expect(heading(victim)).to_have_text("Créer votre compte")
    victim.get_by_label("Votre adresse e-mail").fill(VICTIM_EMAIL)
    victim.get_by_label("Choisissez un mot de passe").fill(VICTIM_PASSWORD)
    victim.get_by_label("Saisissez à nouveau le mot de passe").fill(VICTIM_PASSWORD)
    victim.get_by_role("button", name="Créer mon compte").click()
    expect(heading(victim)).to_have_text(f"Dossier {reference}")
    expect(victim.get_by_text("Questionnaires envoyés")).to_be_visible()
    expect(victim.get_by_role("link", name=re.compile("Ouverture de l'instruction .*PDF"))).to_be_visible()
    assert_accessible(victim)
    shot(victim, "qrpro-path-victim-case")
    victim.get_by_role("button", name=re.compile("^Commencer le questionnaire")).click()
    answer(victim, VICTIM_PATH)
    assert_accessible(victim)
    victim.get_by_role("button", name="Envoyer la demande").click()
    expect(victim.get_by_text(re.compile(r"QRATV-\d{4}-\d{6}")).first).to_be_visible()

    # 4. The agent schedules the consultation at the earliest lawful dates; the parties are informed.
    case = fresh_case(reference)
    departement = case.establishment.departement
    opening = earliest_opening(_deemed_received_on(case, utcnow()), departement, kind="AT").earliest
    last = observation_window(opening, departement, kind="AT").last_day.due
    decision_on = last + timedelta(days=1)
    agent.reload()
    for legend, day in (
        ("Date d'ouverture de la consultation du dossier", opening),
        ("Date prévue de la décision", decision_on),
    ):
        group = agent.get_by_role("group", name=legend)
        group.get_by_label("Jour").fill(str(day.day))
        group.get_by_label("Mois").fill(str(day.month))
        group.get_by_label("Année").fill(str(day.year))
    agent.get_by_role("button", name="Programmer la consultation et informer les parties").click()
    expect(agent.get_by_text("Consultation programmée : les parties sont informées.")).to_be_visible()
    assert fresh_case(reference).stage == "consultation"

    # 5. The window opens (its days pass): the employer observes, the victim sees it and is told.
    move_window(fresh_case(reference), (opening - local_today()).days + 1)
    employer.goto(f"{base}/qrpro/dossiers/dossier/{reference}")
    employer.get_by_label("Vos observations").fill("La victime a repris le travail dès le lendemain.")
    employer.get_by_role("button", name="Envoyer mes observations").click()
    expect(employer.get_by_text("Vos observations sont annexées au dossier")).to_be_visible()
    victim.goto(f"{base}/mes-dossiers/")
    victim.get_by_role("link", name=re.compile(reference)).first.click()
    expect(victim.get_by_text("La victime a repris le travail dès le lendemain.")).to_be_visible()
    expect(victim.get_by_role("button", name="Envoyer mes observations")).to_be_visible()
    assert_accessible(victim)
    shot(victim, "qrpro-path-victim-consultation")
    outbox.send_due()
    told = smtp.to(VICTIM_EMAIL)
    assert any(reference in message["Subject"] for message in told)
    assert any(f"/mes-dossiers/{case.id}" in message.get_content() for message in told)

    # 6. The window closes; the reserves window is long past: the agent decides.
    move_window(fresh_case(reference), 20)
    declaration = db.session.get(Declaration, fresh_case(reference).declaration_id)
    declaration.reserves_due_on = local_today() - timedelta(days=1)
    db.session.commit()
    victim.reload()
    expect(victim.get_by_text("sans nouvelles observations")).to_be_visible()
    expect(victim.get_by_role("button", name="Envoyer mes observations")).to_have_count(0)
    agent.reload()
    agent.get_by_label(re.compile("Prise en charge au titre")).check()
    agent.get_by_role("button", name="Enregistrer et notifier la décision").click()
    expect(agent.get_by_text("Décision enregistrée et notifiée.")).to_be_visible()

    # 7. The LUCIE letter and its alert e-mail; the victim's letter, closed dossier, without JavaScript.
    smtp.messages.clear()
    outbox.send_due()
    alerts = [m for m in smtp.to("employeur@demo.test") if "Notification de décision" in m["Subject"]]
    assert len(alerts) == 1
    employer.goto(f"{base}/courriers/")
    expect(
        employer.get_by_text(f"Notification de la décision sur le dossier {reference}").first
    ).to_be_visible()
    quiet = new_context(java_script_enabled=False).new_page()
    login_as(quiet, base, VICTIM_EMAIL, VICTIM_PASSWORD)
    quiet.goto(f"{base}/mes-dossiers/{case.id}")
    expect(quiet.get_by_text("Le dossier est clos : la décision a été rendue.").first).to_be_visible()
    decision_letter = quiet.get_by_role("link", name=re.compile("Notification de la décision .*PDF"))
    expect(decision_letter).to_be_visible()
    assert_accessible_without_javascript(quiet)
    response = quiet.request.get(base + decision_letter.get_attribute("href"))
    assert response.status == 200 and "Prise en charge" in pdf_text(response.body())
