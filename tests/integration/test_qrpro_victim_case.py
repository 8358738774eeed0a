"""The victim's case page in « Mes dossiers » (issue 13, items 6–8): the stage and the next notified date
with its legal basis, the victim's letters (first download dated once, on the victim's timeline), the
dossier's pieces during the consultation — never a secret médical one, whose URL answers 404 —, the
victim's observations shown to the employer at once with an e-mail, read-only after the window, closed
after the decision; every victim URL answers 404 to another victim, an employer user and an agent."""

from __future__ import annotations

import html
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from app.domain.cases import Party, SubjectKind
from app.domain.qrpro import DateKind, EventKind
from app.extensions import db
from app.models import CaseDocument, CaseEvent, CaseLetter, OutboxMessage, Submission, UserKind
from app.models.types import utcnow
from app.services import drafts
from app.services.qrpro import calendar, consultation
from app.services.qrpro import decision as case_decision
from app.services.simple_pdf import make_pdf
from tests.dat_support import local_today
from tests.factories import make_user
from tests.integration import test_qrpro_consultation as consultation_tests
from tests.integration.test_pdf_accessibility import assert_tagged
from tests.qrpro_parties_support import Party as Browser

# The consultation tests' fixtures: a QR Pro employer user, a victim, an MP case in its window today.
world = consultation_tests.world
case = consultation_tests.case
PUBLIC, SECRET = "Rapport d'enquête", "Avis du médecin-conseil"
PIECES = ((PUBLIC, False), (SECRET, True))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pdf_file(title: str) -> FileStorage:
    return FileStorage(io.BytesIO(make_pdf(title, ["Pièce"])), filename=f"{title}.pdf")


@pytest.fixture
def pieces(world, case):
    return {
        title: consultation.add_piece(world.agent, case, title=title, file=pdf_file(title), secret_medical=s)
        for title, s in PIECES
    }


def post(client, url, token, **fields):
    return client.post(url, data={**fields, "csrf_token": token}, content_type="multipart/form-data")


def test_the_victims_case_page_shows_the_stage_dates_letters_and_pieces_but_no_secret_medical_one(
    client,
    login,
    world,
    case,
    pieces,
):
    login(world.victim)
    base = f"/mes-dossiers/{case.id}"
    response = client.get(base)
    assert response.status_code == 200
    page = text(response)
    assert "Consultation du dossier programmée" in page and "10 jours francs de la consultation" in page
    last = calendar.dates_of(case)[DateKind.OBSERVATIONS_END]
    assert "Observations possibles jusqu'au" in page and last.legal_basis in page
    assert f"Ouverture de l'instruction du dossier {case.reference} (PDF)" in page
    assert f"Information sur la consultation du dossier {case.reference} (PDF)" in page
    assert "Rapport d'enquête" in page and "médecin-conseil" not in page
    assert client.get(f"{base}/documents/{pieces[PUBLIC].id}").status_code == 200
    assert client.get(f"{base}/documents/{pieces[SECRET].id}").status_code == 404
    assert "Chronologie de votre dossier" in page and "Courrier mis à disposition" in page


def test_a_victims_letter_is_a_pdf_and_its_first_download_is_dated_once(client, login, world, case):
    login(world.victim)
    rows = {
        row.party: row
        for row in db.session.scalars(select(CaseLetter).where(CaseLetter.case_id == case.id))
        if row.letter_type == "ouverture_instruction"
    }
    url = f"/mes-dossiers/{case.id}/courriers"
    assert "pas encore téléchargé" in text(client.get(f"/mes-dossiers/{case.id}"))
    for _ in range(2):
        response = client.get(f"{url}/{rows['victime'].id}")
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"{url}/{rows['employeur'].id}").status_code == 404  # the employer's copy
    downloads = db.session.scalar(
        select(func.count(CaseEvent.id)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.LETTER_DOWNLOADED
        )
    )
    assert downloads == 1
    page = text(client.get(f"/mes-dossiers/{case.id}"))
    assert "téléchargé pour la première fois le" in page
    assert "Courrier téléchargé pour la première fois par la victime" in page  # the timeline


def test_the_victims_observations_reach_the_employer_at_once_with_an_e_mail(client, login, world, case):
    login(world.victim)
    base = f"/mes-dossiers/{case.id}"
    token = client.csrf(base)
    response = post(
        client,
        f"{base}/observations",
        token,
        observations="Je portais des sacs de 25 kg chaque jour.",
        fichier=(io.BytesIO(make_pdf("Attestation", ["Collègue"])), "attestation.pdf"),
    )
    assert response.status_code == 303
    document = db.session.scalar(select(CaseDocument).where(CaseDocument.kind == "observation"))
    assert document.party == "victime" and document.sha256 is not None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == world.qrpro_user.email))
    assert case.reference in mail.subject and "sacs" not in mail.body_text
    assert f"/qrpro/dossiers/dossier/{case.reference}" in mail.body_text
    assert "Je portais des sacs" in text(client.get(base))
    empty = post(client, f"{base}/observations", token, observations="  ")
    assert empty.status_code == 422 and "Saisissez vos observations" in text(empty)
    client.post("/deconnexion", data={"csrf_token": token})
    login(world.qrpro_user)
    page = text(client.get(f"/qrpro/dossiers/dossier/{case.reference}"))
    assert "Je portais des sacs de 25 kg" in page and "Victime" in page
    employer_doc = f"/qrpro/dossiers/dossier/{case.reference}/documents/{document.id}"
    assert client.get(employer_doc).status_code == 200


def test_the_employers_observation_e_mail_leads_the_victim_to_their_case_page(world, case):
    consultation.add_observation(world.qrpro_user, case, Party.EMPLOYER, text="Aucune exposition.")
    mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.recipient == world.victim.email, OutboxMessage.kind == consultation.MAIL_KIND
        )
    )
    assert f"/mes-dossiers/{case.id}" in mail.body_text


def _move_window(case, days_back: int):
    """The window's dates moved ``days_back`` days earlier (as if the time had passed)."""
    for kind in (DateKind.CONSULTATION_OPENING, DateKind.OBSERVATIONS_END):
        row = calendar.dates_of(case)[kind]
        row.notified_on = row.effective_on - timedelta(days=days_back)
    db.session.commit()


def test_read_only_after_the_window_and_closed_after_the_decision(client, login, world, case):
    login(world.victim)
    base = f"/mes-dossiers/{case.id}"
    token = client.csrf(base)
    _move_window(case, 20)
    assert calendar.dates_of(case)[DateKind.OBSERVATIONS_END].effective_on < local_today()
    page = text(client.get(base))
    assert "a expiré" in page and "sans nouvelles observations" in page
    assert 'action="' + f"{base}/observations" not in page
    late = post(client, f"{base}/observations", token, observations="Trop tard")
    assert late.status_code == 422 and "a expiré" in text(late)
    case_decision.record_decision(world.agent, case, decision="reconnu")
    page = text(client.get(base))
    assert "Décision rendue" in page and "Le dossier est clos" in page
    assert f"Notification de la décision sur le dossier {case.reference} (PDF)" in page
    closed = post(client, f"{base}/observations", token, observations="Encore")
    assert closed.status_code == 422 and "clos" in text(closed)
    assert db.session.scalar(select(func.count(CaseDocument.id))) == 0


@pytest.mark.parametrize("who", ["other_victim", "employer", "agent"])
def test_every_victim_url_answers_404_to_anyone_but_the_victim(client, login, world, case, pieces, who):
    other = make_user("autre@exemple.fr", kind=UserKind.VICTIM, full_name="Autre Victime")
    db.session.commit()
    user = {"other_victim": other, "employer": world.qrpro_user, "agent": world.agent}[who]
    letter = db.session.scalar(
        select(CaseLetter).where(CaseLetter.case_id == case.id, CaseLetter.party == "victime")
    )
    login(user)
    base = f"/mes-dossiers/{case.id}"
    token = client.csrf("/")
    for url in (base, f"{base}/courriers/{letter.id}", f"{base}/documents/{pieces[PUBLIC].id}"):
        assert client.get(url).status_code == 404, url
    assert post(client, f"{base}/observations", token, observations="Intrus").status_code == 404
    listing = client.get("/mes-dossiers/")
    if who == "other_victim":
        assert listing.status_code == 200 and case.reference not in text(listing)
    else:
        assert listing.status_code == 404
    assert (
        db.session.scalar(select(func.count(CaseDocument.id)).where(CaseDocument.kind == "observation")) == 0
    )


def test_a_letters_first_download_cannot_be_recorded_twice(world, case):  # the unique partial index
    letter = db.session.scalar(
        select(CaseLetter).where(CaseLetter.case_id == case.id, CaseLetter.party == "victime")
    )

    def downloaded():
        return CaseEvent(
            case_id=case.id, party="victime", kind=EventKind.LETTER_DOWNLOADED, case_letter_id=letter.id
        )

    db.session.add(downloaded())
    db.session.commit()
    db.session.add(downloaded())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_victims_timeline_pdf_has_her_events_only_tagged_in_french(app, client, login, world, case):
    # Her questionnaire (the MP victim's model), answered and sent while its window is open.
    case.victim_model, case.closes_at = "qr-mp-victime", utcnow() + timedelta(days=5)
    db.session.commit()
    workflow = drafts.workflow_or_404("qr-mp-victime", SubjectKind.CASE_PARTY)
    draft = drafts.start_case_draft(world.victim, workflow, case, Party.VICTIM)
    db.session.commit()
    browser = Browser(app, world.victim)
    browser.fill(draft.id, "qr-mp-victime")
    assert browser.post(f"/demarches/brouillons/{draft.id}/envoyer", {}).status_code == 303
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft.id))
    # Both parties' observations; her first download of the opening letter.
    consultation.add_observation(world.qrpro_user, case, Party.EMPLOYER, text="Aucune exposition.")
    consultation.add_observation(world.victim, case, Party.VICTIM, text="Je portais des sacs.")
    opening = db.session.scalar(
        select(CaseLetter).where(
            CaseLetter.case_id == case.id,
            CaseLetter.party == "victime",
            CaseLetter.letter_type == "ouverture_instruction",
        )
    )
    login(world.victim)
    assert client.get(f"/mes-dossiers/{case.id}/courriers/{opening.id}").status_code == 200
    page = text(client.get(f"/mes-dossiers/{case.id}"))
    assert f'href="/mes-dossiers/{case.id}/chronologie.pdf"' in page
    response = client.get(f"/mes-dossiers/{case.id}/chronologie.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_tagged(
        response.data,
        f"Chronologie de votre dossier {case.reference}",
        expected=("/H1", "/P", "/Table", "/TH", "/TD"),
    )
    content = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    for expected in (
        "Chronologie de votre dossier",
        case.reference,
        "Courrier mis à disposition dans l'espace de la victime",
        "Ouverture d'instruction et questionnaire",
        "Information sur la consultation du dossier",
        "Courrier téléchargé pour la première fois par la victime",
        "Questionnaire envoyé",
        f"Questionnaire retourné référence {submission.reference}",
        "Observations déposées par la victime",
        "Ouverture de la consultation avec observations",
        "Dernier jour de la consultation avec observations",
        "CSS R461-9 III",
    ):
        assert expected in content, expected
    # Not hers: the employer's LUCIE letters, its observations.
    for other in ("Courrier déposé dans LUCIE", "par l'employeur", "Courrier réputé notifié"):
        assert other not in content, other
    # Nobody else's to download.
    other = make_user("autre2@exemple.fr", kind=UserKind.VICTIM, full_name="Autre Victime")
    db.session.commit()
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    for user in (other, world.qrpro_user, world.agent):
        login(user)
        assert client.get(f"/mes-dossiers/{case.id}/chronologie.pdf").status_code == 404
        client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
