"""Who may read a LUCIE letter and what a reading means in law (SPEC §1, §4; issue 10): a caisse reads only
its own letters; only a person of the company makes the first consultation, and only by an explicit
action from this site's pages; the notification date counted in the establishment's calendar, with its
legal basis; the alert's subject; a deposit outside the caisse's area; the mailbox's errors with htmx."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from app.domain.lucie import LetterType
from app.extensions import db
from app.models import AuditEvent, Letter, LucieAlertAddress, Service, UserKind
from app.services import lucie, outbox
from tests.factories import make_caisse, make_company, make_establishment, make_firm, make_user
from tests.lucie_support import deposit, make_mailbox, pdf

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
URLS = ("/courriers/{id}", "/courriers/{id}/document", "/courriers/{id}/telecharger")


@pytest.fixture
def box(app):
    return make_mailbox()


def _consulted(letter: Letter) -> Letter:
    db.session.expire_all()
    return db.session.get(Letter, letter.id)


def _sign_out(client):
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})


# --- 1. a caisse reads only the letters it deposited ------------------------------------------------


def test_a_caisse_agent_reads_only_the_letters_its_own_caisse_deposited(client, login, box):
    # The CPAM de Moselle and the Carsat Alsace-Moselle both cover the Metz establishment (57).
    carsat = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    carsat_agent = make_user("agent@carsat-am.test", kind=UserKind.CARSAT, caisse_id=carsat.id)
    db.session.commit()
    cpam_letter = deposit(box.establishment, box.caisse, title="Accusé de réception — Jean Dupont")
    carsat_letter = deposit(
        box.establishment, carsat, title="Taux 2027", letter_type=LetterType.NOTIFICATION_TAUX
    )
    platform_letter = deposit(box.establishment, None, title="Double de la DAT", source="service")

    login(carsat_agent)
    for letter in (cpam_letter, platform_letter):
        for url in URLS:
            response = client.get(url.format(id=letter.id), headers=SAME_ORIGIN)
            assert response.status_code == 404, url
            assert b"Jean Dupont" not in response.data and b"%PDF" not in response.data
        assert client.get(f"/agent/courriers/{letter.id}").status_code == 404
    assert client.get(f"/courriers/{carsat_letter.id}/document", headers=SAME_ORIGIN).status_code == 200
    listed = client.get("/agent/courriers/").get_data(as_text=True)
    assert "Taux 2027" in listed and "Jean Dupont" not in listed and "Double de la DAT" not in listed

    _sign_out(client)
    login(box.agent)
    assert client.get(f"/courriers/{carsat_letter.id}/document", headers=SAME_ORIGIN).status_code == 404
    assert client.get(f"/courriers/{cpam_letter.id}/document", headers=SAME_ORIGIN).status_code == 200
    # Agents' reads are audited and never a consultation.
    assert _consulted(cpam_letter).first_consulted_at is None
    assert _consulted(carsat_letter).first_consulted_at is None


# --- 3. only a person of the company makes the first consultation ------------------------------------


def test_a_tiers_declarants_read_is_audited_but_is_not_the_first_consultation(client, login, box):
    letter = deposit(box.establishment, box.caisse, letter_type=LetterType.NOTIFICATION_DECISION)
    firm = make_firm("Cabinet Rhénan", mandates=[(box.establishment, Service.LUCIE)])
    accountant = make_user("comptable@cabinet.test", kind="firm", firm_id=firm.id)
    db.session.commit()
    login(accountant)
    page = client.get(f"/courriers/{letter.id}").get_data(as_text=True)
    assert "Ouvrir le courrier<" not in page  # its reading has no legal effect: nothing to confirm
    assert "ne vaut pas notification" in page
    client.post(f"/courriers/{letter.id}/ouvrir", data={"csrf_token": client.csrf(f"/courriers/{letter.id}")})
    assert client.get(f"/courriers/{letter.id}/document", headers=SAME_ORIGIN).status_code == 200
    assert client.get(f"/courriers/{letter.id}/telecharger").status_code == 200  # even cross-site
    assert _consulted(letter).first_consulted_at is None
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "read", AuditEvent.user_id == accountant.id)
    ).all()
    assert len(reads) == 3 and all(e.details == {"not_a_consultation": "firm"} for e in reads)
    assert lucie.letter_dates(_consulted(letter)).deemed_notified_at is None

    # Then a person of the company opens it: that is the first consultation.
    _sign_out(client)
    login(box.reader)
    client.post(f"/courriers/{letter.id}/ouvrir", data={"csrf_token": client.csrf(f"/courriers/{letter.id}")})
    assert _consulted(letter).first_consulted_by_id == box.reader.id


def test_lucie_service_counts_only_employer_users_of_the_company(app, box):
    letter = deposit(box.establishment, box.caisse)
    firm = make_firm("Cabinet", mandates=[(box.establishment, Service.LUCIE)])
    accountant = make_user("c@cabinet.test", kind="firm", firm_id=firm.id)
    db.session.commit()
    assert not lucie.makes_first_consultation(accountant, letter)
    assert not lucie.makes_first_consultation(box.agent, letter)
    assert lucie.makes_first_consultation(box.reader, letter)
    lucie.open_letter(accountant, letter.id)
    lucie.open_letter(box.agent, letter.id)
    assert _consulted(letter).first_consulted_at is None


# --- 4. the first consultation is an explicit action from our own pages ------------------------------


def test_a_link_from_another_site_never_records_the_first_consultation(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    login(box.reader)
    for url in URLS[1:]:
        for headers in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "none"},  # a bookmark, an address typed by hand
            {"Referer": "https://evil.example/page"},
            {"Origin": "https://evil.example"},
            {},  # an old browser that says nothing
        ):
            response = client.get(url.format(id=letter.id), headers=headers)
            assert response.status_code == 303, (url, headers)
            assert response.headers["Location"] == f"/courriers/{letter.id}"
            assert b"%PDF" not in response.data
    # The letter page itself records nothing: it asks.
    page = client.get(f"/courriers/{letter.id}").get_data(as_text=True)
    assert "Ouvrir le courrier</button>" in page and "<iframe" not in page
    assert f'action="/courriers/{letter.id}/ouvrir"' in page
    # A POST without this site's CSRF token (a form on another site) is refused.
    assert client.post(f"/courriers/{letter.id}/ouvrir").status_code == 400
    assert _consulted(letter).first_consulted_at is None
    assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "read"))


def test_the_open_button_records_the_first_consultation_without_javascript(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    login(box.reader)
    token = client.csrf(f"/courriers/{letter.id}")
    response = client.post(f"/courriers/{letter.id}/ouvrir", data={"csrf_token": token})
    assert response.status_code == 303
    opened = _consulted(letter)
    assert opened.first_consulted_by_id == box.reader.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'src="/courriers/{letter.id}/document"' in page and "Ouvrir le courrier</button>" not in page
    # Opened, the document may be fetched from anywhere: the date does not move.
    assert (
        client.get(f"/courriers/{letter.id}/document", headers={"Sec-Fetch-Site": "cross-site"}).data[:5]
        == b"%PDF-"
    )
    assert _consulted(letter).first_consulted_at == opened.first_consulted_at


@pytest.mark.parametrize(
    "headers",
    [
        SAME_ORIGIN,
        {"Origin": "http://localhost"},
        {"Referer": "http://localhost/courriers/"},
    ],
    ids=["sec-fetch-site", "origin", "referer"],
)
def test_a_download_from_our_own_page_records_the_first_consultation(client, login, box, headers):
    letter = deposit(box.establishment, box.caisse)
    login(box.reader)
    response = client.get(f"/courriers/{letter.id}/telecharger", headers=headers)
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert _consulted(letter).first_consulted_by_id == box.reader.id


# --- 2. the notification date: local calendar days, the configured reading, its basis shown ------------


def _deposited_at(letter: Letter, moment: datetime) -> None:
    """Date a letter's deposit (tests of dates; the immutability trigger refuses it from the app)."""
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(db.text("ALTER TABLE letter DISABLE TRIGGER letter_no_change"))
    else:
        db.session.execute(db.text("DROP TRIGGER letter_no_change"))
    db.session.execute(db.update(Letter).where(Letter.id == letter.id).values(deposited_at=moment))
    if postgres:
        db.session.execute(db.text("ALTER TABLE letter ENABLE TRIGGER letter_no_change"))
    db.session.commit()


def test_a_letter_deposited_before_the_autumn_clock_change_is_notified_on_the_15th_local_day(
    client, login, box
):
    letter = deposit(box.establishment, box.caisse, letter_type=LetterType.NOTIFICATION_DECISION)
    _deposited_at(letter, datetime(2026, 10, 20, 22, 30, tzinfo=UTC))  # 21 October, 00 h 30 in Paris
    dates = lucie.letter_dates(_consulted(letter), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert dates.notice.day.isoformat() == "2026-11-05"
    assert dates.appeal_deadline.isoformat() == "2027-01-05"
    login(box.reader)
    page = client.get(f"/courriers/{letter.id}").get_data(as_text=True)
    assert re.search(r'id="notification-reputee">05/11/2026\s', page)
    assert "Base légale : Article L242-5 du code de la sécurité sociale" in page
    mailbox = client.get("/courriers/").get_data(as_text=True)
    assert "Notifié le 05/11/2026 (article L242-5 du code de la sécurité sociale)" in mailbox


def test_the_decree_reading_is_a_setting_and_the_screens_say_which_applies(app, client, login, box):
    app.config["LUCIE_NOTIFICATION_READING"] = "mise_a_disposition"
    letter = deposit(box.establishment, box.caisse, letter_type=LetterType.NOTIFICATION_DECISION)
    _deposited_at(letter, datetime(2026, 10, 20, 22, 30, tzinfo=UTC))
    dates = lucie.letter_dates(_consulted(letter), now=datetime(2026, 10, 21, 8, tzinfo=UTC))
    assert dates.notice.known and dates.notice.day.isoformat() == "2026-10-21"
    assert dates.appeal_deadline.isoformat() == "2026-12-21"
    login(box.reader)
    page = client.get(f"/courriers/{letter.id}").get_data(as_text=True)
    assert "R112-20 du code des relations entre le public et l&#39;administration" in page
    mailbox = client.get("/courriers/").get_data(as_text=True)
    assert "réputé notifié à la date de sa mise à disposition" in mailbox


def test_an_overseas_establishment_is_notified_by_its_own_calendar(app, box):
    guadeloupe = make_establishment(box.company, departement="971", name="Agence de Pointe-à-Pitre")
    lucie.subscribe(guadeloupe)
    letter = deposit(guadeloupe, None, source="service")
    # 3 March 2026 at 02:00 UTC: already 3 March in Paris, still 2 March in Guadeloupe.
    _deposited_at(letter, datetime(2026, 3, 3, 2, 0, tzinfo=UTC))
    dates = lucie.letter_dates(_consulted(letter), now=datetime(2026, 3, 4, tzinfo=UTC))
    assert dates.notice.day.isoformat() == "2026-03-17" and not dates.notice.known


def test_the_alert_gives_the_local_notification_day_and_its_basis(mail_app, smtp, box):
    db.session.add(LucieAlertAddress(establishment_id=box.establishment.id, email="compta@transports.test"))
    db.session.commit()
    letter = deposit(box.establishment, box.caisse)
    _subject, body = lucie.alert_message(letter, box.establishment)
    assert "(article L242-5 du code de la sécurité sociale)." in body


# --- 5. the alert's subject with a long letter type, through a real SMTP server -------------------------


def test_a_long_alert_subject_survives_folding_through_a_real_smtp_server(mail_app, smtp):
    company = make_company("Société des Établissements Industriels")
    establishment = make_establishment(
        company, departement="57", name="Établissements Industriels de la Vallée de la Fensch — Hayange"
    )
    lucie.subscribe(establishment)
    db.session.add(LucieAlertAddress(establishment_id=establishment.id, email="rh@fensch.test"))
    db.session.commit()
    deposit(establishment, None, letter_type=LetterType.INFORMATION_CONSULTATION, source="service")
    assert outbox.send_due() == (1, 0)
    ((_, message),) = smtp.messages
    expected = (
        "Nouveau courrier LUCIE : Information sur la consultation du dossier – "
        "Établissements Industriels de la Vallée de la Fensch — Hayange"
    )
    assert message["Subject"] == expected
    # As received: RFC 2047 encoded words, no line over 78 characters (RFC 5322).
    raw = message_from_bytes(message.as_bytes(), policy=policy.compat32)["Subject"]
    assert raw.startswith("=?utf-8?") and all(len(line) <= 78 for line in f"Subject: {raw}".splitlines())


# --- 6. a deposit outside the caisse's area --------------------------------------------------------------


def test_the_api_says_neither_unknown_nor_outside_yet_names_both_cases(client, box):
    from app.services.api_tokens import create_token

    lucie.subscribe(box.head_office)  # Paris: outside the CPAM de Moselle's area
    db.session.commit()
    _, token = create_token(box.caisse.name, "test")
    answers = []
    for siret in (box.head_office.siret, "73282932000074"):
        response = client.post(
            "/api/v1/courriers",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "siret": siret,
                "type": "autre",
                "titre": "Courrier",
                "fichier": (io.BytesIO(pdf()), "a.pdf"),
            },
            content_type="multipart/form-data",
        )
        answers.append((response.status_code, response.get_json()))
    # The same answer for both: the API does not tell which SIRETs have an account here.
    assert answers[0] == answers[1]
    status, body = answers[0]
    assert status == 404 and body["error"] == "unknown_establishment"
    assert "relevant de votre caisse" in body["message"]


# --- 7. accessibility: the mailbox's errors with htmx, unique page titles ---------------------------------


def test_mailbox_date_errors_with_htmx_carry_the_field_messages_title_and_summary(client, login, box):
    deposit(box.establishment, box.caisse)
    login(box.reader)
    response = client.get(
        "/courriers/?du=2026-03-10&au=2026-03-01",
        headers={"HX-Request": "true", "HX-Target": "courriers-resultats"},
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#main-content"
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "<title>Erreur : Courriers – Services AT/MP</title>" in body
    assert 'class="govuk-error-summary"' in body and 'href="#au"' in body
    assert 'id="au-error"' in body and "La date de fin doit être après la date de début" in body
    assert 'hx-target="#main-content"' in body  # the corrected form replaces the whole content again
    # Corrected, the content (and the title) come back without the errors.
    fixed = client.get(
        "/courriers/?du=2026-03-01&au=2026-03-10",
        headers={"HX-Request": "true", "HX-Target": "main-content"},
    )
    assert fixed.status_code == 200
    text = fixed.get_data(as_text=True)
    assert "<title>Courriers – Services AT/MP</title>" in text and "govuk-error-summary" not in text
    assert 'hx-target="#courriers-resultats"' in text


def test_letter_pages_have_unique_titles(client, login, box):
    first = deposit(box.establishment, box.caisse, title="Accusé de réception", reference="57-2026-000001")
    second = deposit(box.establishment, box.caisse, title="Accusé de réception", reference="57-2026-000002")
    title = re.compile(r"<title>(.*?)</title>", re.S)
    login(box.agent)
    agent_titles = {
        title.search(client.get(f"/agent/courriers/{i}").get_data(as_text=True)).group(1)
        for i in (first.id, second.id)
    }
    assert len(agent_titles) == 2
    assert all(t.startswith("Accusé de réception, dossier 57-2026-00000") for t in agent_titles)
    _sign_out(client)
    login(box.reader)
    titles = {
        title.search(client.get(f"/courriers/{i}").get_data(as_text=True)).group(1)
        for i in (first.id, second.id)
    }
    assert len(titles) == 2 and all("reçu le" in t for t in titles)
