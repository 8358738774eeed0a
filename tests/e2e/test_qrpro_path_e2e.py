"""QR Pro's whole AT path in Chromium (issue 13, « How it is checked »), on the demo data: the CPAM agent
opens the instruction of KLEIN Sarah's accident, chooses the questionnaires and sends them (three steps) →
the employer answers its questionnaire, leaving and resuming → the victim types the access code printed in
her opening letter (read from the PDF's text), creates her account and answers → the consultation: the
employer adds an observation, the victim sees it and is told by e-mail, a decision is refused → the window
closes (recorded by the periodic command) → the decision → its LUCIE letter and the alert e-mail, the
victim's e-mails (a real SMTP server), and the declaration « prise en charge » on the employer's DAT page.
axe-core on the victim's pages, and the victim's case page with JavaScript off.

The case lives its weeks as a real one: nothing stored is changed behind the app's back, the clock moves.
The live server is a thread of this process, so time-machine (``clock``) moves its time forward — past
the day the questionnaires are due, to the consultation's opening day, past the window's last day, to the
decision's — and everything follows from the clock: the letters' deemed notification, the window, its
close recorded by `flask qrpro cloturer-consultations`, the decision refused during the window and taken
after it (the employer's reserves window, ten days after the declaration, has long ended by then). Where
to go comes from `app.domain`'s computations (the questionnaires' due date from the opening letter's deemed
receipt, `earliest_opening`, `observation_window`), so the path holds whatever day it starts on. Days later
a session has ended (12 hours at most): each person signs in again, as they would. The browser's clock is
left alone: the page's only script that reads time (the session warning) counts from each page's load.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.domain.calendars import timezone_for
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.instruction import earliest_opening, observation_window, questionnaire_due
from app.domain.lucie import LetterType, deemed_notification
from app.domain.qrpro import DateKind
from app.extensions import db
from app.models import Case
from app.models.types import utcnow
from app.services import outbox
from app.services.qrpro import calendar, letters
from tests.compte_support import pdf_text
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.qrpro_parties_support import VALID

pytestmark = pytest.mark.usefixtures("no_script_error")
VICTIM_EMAIL = "sarah.klein@exemple.fr"
VICTIM_PASSWORD = "Mirabelle-Cathedrale-Moselle-57"
INFORMATION_DEEMED = "Courrier réputé notifié – Information sur la consultation du dossier"
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


@pytest.fixture
def clock():
    """The clock of this process, so of the live server (a thread of it): it runs on from now, and
    :func:`days_pass` moves it forward."""
    traveller = time_machine.travel(time.time(), tick=True)
    yield traveller.start()
    traveller.stop()


def days_pass(clock, day, departement: str, at: clock_time = clock_time(9)) -> None:
    """The clock moved forward to ``day`` at ``at``, the case's local time: the days before have passed."""
    moment = datetime.combine(day, at, tzinfo=timezone_for(departement))
    assert moment > datetime.now(UTC), f"the clock only goes forward: {moment} is past"
    clock.move_to(moment)


def come_back(page, url: str, email: str, password: str) -> None:
    """A person back on ``url`` days later: their session has ended (12 hours at most), the sign-in page
    says so; they sign in again and land on ``url``."""
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/connexion\?next="))
    expect(page.get_by_text("Vous avez été déconnecté").first).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)


def close_windows(app) -> str:
    """The periodic command, as its daily run would do on that day."""
    closing = app.test_cli_runner().invoke(args=["qrpro", "cloturer-consultations"])
    assert closing.exit_code == 0, closing.output
    return closing.output


def sign_out(page) -> None:
    """Signed out once the sign-in page is shown (the next sign-in must not find the session open)."""
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_url(re.compile(r"/connexion$"))


def test_the_whole_at_path(page, new_context, demo_server, smtp, assert_accessible_without_javascript, clock):
    base = demo_server.url
    app = demo_server.app
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", smtp.port
    reference = db.session.scalar(select(Case.reference).where(Case.victim_name == "KLEIN Sarah"))

    # 1. The agent opens the instruction, chooses the QR Pro questionnaires, then sends them: three steps.
    agent = new_context().new_page()
    login_as(agent, base, "agent.cpam@demo.test", DEMO_PASSWORD)
    agent.goto(f"{base}/cpam/qrpro/dossiers/{reference}")
    agent.get_by_role("button", name="Ouvrir l'instruction", exact=True).click()
    expect(agent.get_by_text("Instruction ouverte : choisissez maintenant les modèles")).to_be_visible()
    agent.get_by_label("Questionnaire de l'employeur").select_option("qr-at-employeur")
    agent.get_by_label("Questionnaire de la victime").select_option("qr-at-victime")
    agent.get_by_role("button", name="Enregistrer les modèles").click()
    expect(agent.get_by_text("Modèles de questionnaire enregistrés")).to_be_visible()
    agent.get_by_role("button", name="Envoyer les questionnaires").click()
    expect(agent.get_by_text("Questionnaires envoyés : les courriers sont déposés.")).to_be_visible()

    # 2. The employer starts its questionnaire, leaves, comes back and sends it.
    employer = new_context().new_page()
    login_as(employer, base, "employeur@demo.test", DEMO_PASSWORD)
    employer.goto(f"{base}/qrpro/questionnaires")
    employer.get_by_role("button", name=f"Commencer le questionnaire du dossier {reference}").click()
    for step, answers in EMPLOYER_PATH[:3]:
        answer_page(employer, step, answers)
    employer.get_by_role("button", name="Enregistrer et reprendre plus tard").click()
    # Saved once « Mes démarches » is shown: signing out earlier clicked a page being replaced.
    expect(employer).to_have_url(re.compile(r"/demarches/$"))
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

    # 4. The questionnaires' due date passes: 20 jours francs from the opening letter's deemed receipt
    # (deposited in LUCIE, not opened: deposit + 15 days). The agent then schedules the consultation at the
    # earliest lawful dates: 10 jours francs after the information letter's own deemed receipt. Whatever the
    # first day, that opening comes 4 days or more before D0 + 70 (every day of 2026-2027, Moselle and
    # Paris), and the decision 12 days or more before D0 + 90.
    case = fresh_case(reference)
    case_id, departement = case.id, case.establishment.departement
    reading = app.config["LUCIE_NOTIFICATION_READING"]
    opening_deposit = letters.letter_of(case, LetterType.OUVERTURE_INSTRUCTION, Party.EMPLOYER).letter
    received = deemed_notification(opening_deposit.deposited_at, None, departement, reading).date()
    questionnaires_due = questionnaire_due("AT", received, departement).due
    assert calendar.effective(case, DateKind.QUESTIONNAIRE_DUE) == questionnaires_due
    days_pass(clock, questionnaires_due + timedelta(days=1), departement)
    case_page = f"{base}/cpam/qrpro/dossiers/{reference}"
    come_back(agent, case_page, "agent.cpam@demo.test", DEMO_PASSWORD)
    informed = deemed_notification(utcnow(), None, departement, reading).date()
    opening = earliest_opening(informed, departement, kind="AT").earliest
    last = observation_window(opening, departement, kind="AT").last_day.due
    decision_on = last + timedelta(days=1)
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
    # The employer's information letter, just deposited, will be deemed notified on ``informed``.
    deemed = agent.locator(".app-timeline").first.locator("li", has_text=INFORMATION_DEEMED)
    expect(deemed).to_contain_text(f"{french_day(informed)} à ")
    expect(deemed).to_contain_text("(à venir)")

    # 5. The opening day: the periodic command closes the demo's two MP windows, not this one, which has
    # just opened. The employer observes, the victim sees it and is told; a decision now is refused.
    days_pass(clock, opening, departement)
    # The demo's MP in consultation (its window ended days after the demo was loaded) and its decided MP.
    assert "2 fenêtre(s) d'observations close(s)" in close_windows(app)
    employer_case_page = f"{base}/qrpro/dossiers/dossier/{reference}"
    come_back(employer, employer_case_page, "employeur@demo.test", DEMO_PASSWORD)
    employer.get_by_label("Vos observations").fill("La victime a repris le travail dès le lendemain.")
    employer.get_by_role("button", name="Envoyer mes observations").click()
    expect(employer.get_by_text("Vos observations sont annexées au dossier")).to_be_visible()
    come_back(victim, f"{base}/mes-dossiers/", VICTIM_EMAIL, VICTIM_PASSWORD)
    victim.get_by_role("link", name=re.compile(reference)).first.click()
    expect(victim.get_by_text("La victime a repris le travail dès le lendemain.")).to_be_visible()
    expect(victim.get_by_role("button", name="Envoyer mes observations")).to_be_visible()
    assert_accessible(victim)
    shot(victim, "qrpro-path-victim-consultation")
    outbox.send_due()
    told = smtp.to(VICTIM_EMAIL)
    observed = [m for m in told if m["Subject"] == f"Nouvelles observations sur le dossier {reference}"]
    assert len(observed) == 1 and f"/mes-dossiers/{case_id}" in observed[0].get_content()
    # Her account exists since step 3: the information on the consultation was e-mailed to her (the opening
    # letter, before her account, was not: its paper copy carried the code).
    (informed_mail,) = [
        m for m in told if m["Subject"] == f"Nouveau courrier de votre caisse – dossier {reference}"
    ]
    assert "« Information sur la consultation du dossier »" in informed_mail.get_content()
    come_back(agent, case_page, "agent.cpam@demo.test", DEMO_PASSWORD)
    agent.get_by_label(re.compile("Prise en charge au titre")).check()
    agent.get_by_role("button", name="Enregistrer et notifier la décision").click()
    expect(
        agent.get_by_text(re.compile("la consultation du dossier avec observations court du")).first
    ).to_be_visible()
    assert fresh_case(reference).stage == "consultation"
    expect(deemed).to_contain_text(f"{french_day(informed)} à ")
    expect(deemed).not_to_contain_text("(à venir)")  # the 15 days have passed since

    # 6. The night after the window's last day, the periodic command records its close; the victim sees the
    # dossier without the means to observe. The morning of the decision date, the agent decides.
    days_pass(clock, decision_on, departement, at=clock_time(0, 30))
    assert "1 fenêtre(s) d'observations close(s)" in close_windows(app)
    come_back(victim, f"{base}/mes-dossiers/{case_id}", VICTIM_EMAIL, VICTIM_PASSWORD)
    expect(victim.get_by_text("sans nouvelles observations").first).to_be_visible()
    expect(victim.locator("#chronologie")).to_contain_text("Fenêtre d'observations close")
    expect(victim.get_by_role("button", name="Envoyer mes observations")).to_have_count(0)
    days_pass(clock, decision_on, departement)
    come_back(agent, case_page, "agent.cpam@demo.test", DEMO_PASSWORD)
    agent.get_by_label(re.compile("Prise en charge au titre")).check()
    agent.get_by_role("button", name="Enregistrer et notifier la décision").click()
    expect(agent.get_by_text("Décision enregistrée et notifiée.")).to_be_visible()

    # 7. The LUCIE letter and its alert e-mail; the victim's letter, closed dossier, without JavaScript.
    smtp.messages.clear()
    outbox.send_due()
    alerts = [m for m in smtp.to("employeur@demo.test") if "Notification de décision" in m["Subject"]]
    assert len(alerts) == 1
    (notice,) = smtp.to(VICTIM_EMAIL)  # her copy of the decision, without its content
    assert (
        "« Notification de décision »" in notice.get_content()
        and "Prise en charge" not in notice.get_content()
    )
    come_back(employer, f"{base}/courriers/", "employeur@demo.test", DEMO_PASSWORD)
    expect(
        employer.get_by_text(f"Notification de la décision sur le dossier {reference}").first
    ).to_be_visible()
    quiet = new_context(java_script_enabled=False).new_page()
    login_as(quiet, base, VICTIM_EMAIL, VICTIM_PASSWORD)
    quiet.goto(f"{base}/mes-dossiers/{case_id}")
    expect(quiet.get_by_text("Le dossier est clos : la décision a été rendue.").first).to_be_visible()
    decision_letter = quiet.get_by_role("link", name=re.compile("Notification de la décision .*PDF"))
    expect(decision_letter).to_be_visible()
    assert_accessible_without_javascript(quiet)
    response = quiet.request.get(base + decision_letter.get_attribute("href"))
    assert response.status == 200 and "Prise en charge" in pdf_text(response.body())
    # The declaration itself now says so, on the employer's DAT page.
    employer.goto(f"{base}/dat/declarations/{reference}")
    expect(employer.locator(".govuk-tag", has_text="Prise en charge").first).to_be_visible()
