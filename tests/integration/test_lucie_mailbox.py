"""The LUCIE mailbox for employers and tiers déclarants (SPEC §4): newest first, filters, search,
keyset pagination, the letter page with its PDF and legal dates, archive, unread count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.calendars import PARIS
from app.domain.lucie import LetterType
from app.extensions import db
from app.models import AuditEvent, Letter, Service
from app.services import lucie, outbox
from app.services.uploads import blob_path
from tests.dat_support import local_today
from tests.factories import make_company, make_establishment, make_firm, make_user
from tests.lucie_support import deposit, make_mailbox

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
TITLE_RE = re.compile(r'href="/courriers/(\d+)"')


def _ids(response) -> list[int]:
    return [int(i) for i in TITLE_RE.findall(response.get_data(as_text=True))]


def _shift(letter: Letter, days: float) -> None:
    """Move a letter's deposit into the past (tests of dates; the trigger refuses it from the app)."""
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(db.text("ALTER TABLE letter DISABLE TRIGGER letter_no_change"))
    else:  # each SQLite test runs on its own copy of the database
        db.session.execute(db.text("DROP TRIGGER letter_no_change"))
    db.session.execute(
        db.update(Letter)
        .where(Letter.id == letter.id)
        .values(deposited_at=letter.deposited_at - timedelta(days=days))
    )
    if postgres:
        db.session.execute(db.text("ALTER TABLE letter ENABLE TRIGGER letter_no_change"))
    db.session.commit()


@pytest.fixture
def box(app):
    return make_mailbox()


def test_mailbox_lists_letters_newest_first_with_unread_marked(client, login, box):
    first = deposit(box.establishment, box.caisse, title="Premier courrier")
    second = deposit(box.establishment, box.caisse, title="Second courrier")
    lucie.open_letter(box.reader, first.id)
    login(box.reader)
    response = client.get("/courriers/")
    assert response.status_code == 200
    assert _ids(response) == [second.id, first.id]
    body = response.get_data(as_text=True)
    assert body.count("Non lu</strong>") == 1


def test_navigation_shows_the_unread_count(client, login, box):
    for i in range(3):
        deposit(box.establishment, box.caisse, title=f"Courrier {i}")
    login(box.reader)
    body = client.get("/courriers/").get_data(as_text=True)
    assert re.search(
        r'Courriers <span class="app-count">3<span class="govuk-visually-hidden"> non lus</span>', body
    )


def test_unread_count_is_capped_so_the_navigation_stays_cheap(app, box):
    for i in range(lucie.UNREAD_CAP + 3):
        deposit(box.establishment, box.caisse, title=f"Courrier {i}", commit=False)
    db.session.commit()
    assert lucie.unread_count(box.reader) == lucie.UNREAD_CAP + 1


def test_keyset_pagination_walks_every_letter_once_in_both_directions(client, login, box):
    letters = [
        deposit(box.establishment, box.caisse, title=f"Courrier {i:02d}", commit=False) for i in range(60)
    ]
    db.session.commit()
    expected = [letter.id for letter in reversed(letters)]
    login(box.reader)
    seen, url, pages = [], "/courriers/", []
    while url:
        response = client.get(url)
        pages.append(url)
        seen += _ids(response)
        match = re.search(r'href="([^"]*apres=[^"]*)" rel="next"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == expected and len(pages) == 3
    # Back from the last page to the first, with "Courriers plus récents".
    response = client.get(pages[-1])
    back = []
    while True:
        match = re.search(r'href="([^"]*avant=[^"]*)" rel="prev"', response.get_data(as_text=True))
        if not match:
            break
        response = client.get(match.group(1).replace("&amp;", "&"))
        back = _ids(response) + back
    assert back == expected[:50]


def test_filters_by_type_state_reference_period_and_search(client, login, box):
    decision = deposit(
        box.establishment,
        box.caisse,
        title="Décision de prise en charge",
        letter_type=LetterType.NOTIFICATION_DECISION,
        reference="57-2026-000111",
    )
    receipt = deposit(box.establishment, box.caisse, title="Accusé de réception", reference="57-2026-000222")
    other = deposit(
        box.establishment,
        box.caisse,
        title="Questionnaire employeur",
        letter_type=LetterType.OUVERTURE_INSTRUCTION,
        reference=None,
    )
    lucie.open_letter(box.reader, receipt.id)
    _shift(other, 40)
    login(box.reader)
    assert _ids(client.get("/courriers/?type=notification_decision")) == [decision.id]
    assert _ids(client.get("/courriers/?etat=non_lus")) == [decision.id, other.id]
    assert _ids(client.get("/courriers/?etat=lus")) == [receipt.id]
    assert _ids(client.get("/courriers/?dossier=57-2026-000222")) == [receipt.id]
    assert _ids(client.get("/courriers/?q=prise+en")) == [decision.id]
    assert _ids(client.get("/courriers/?q=000111")) == [decision.id]
    assert _ids(client.get("/courriers/?q=50%25")) == []  # % is searched for, not a wildcard
    today = local_today()  # the filter's days are Paris days, not UTC ones
    recent = client.get(f"/courriers/?du={(today - timedelta(days=7)).isoformat()}&au={today.isoformat()}")
    assert _ids(recent) == [receipt.id, decision.id]


def test_invalid_filter_dates_answer_422_in_french(client, login, box):
    login(box.reader)
    response = client.get("/courriers/?du=31/02/2026")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Saisissez une date valide, par exemple 2026-03-31" in body
    assert "<title>Erreur : " in body
    response = client.get("/courriers/?du=2026-03-10&au=2026-03-01")
    assert "La date de fin doit être après la date de début" in response.get_data(as_text=True)


def test_htmx_filter_request_gets_only_the_list(client, login, box):
    letter = deposit(box.establishment, box.caisse, title="Courrier filtré")
    login(box.reader)
    response = client.get(
        "/courriers/?type=accuse_reception",
        headers={"HX-Request": "true", "HX-Target": "courriers-resultats"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and "Filtrer" not in body
    assert _ids(response) == [letter.id]
    full = client.get("/courriers/?type=accuse_reception").get_data(as_text=True)
    assert 'hx-push-url="true"' in full and 'hx-target="#courriers-resultats"' in full


def test_letter_page_records_first_consultation_and_shows_the_legal_dates(mail_app, smtp, client, login, box):
    letter = deposit(
        box.establishment, box.caisse, title="Décision", letter_type=LetterType.NOTIFICATION_DECISION
    )
    outbox.send_due()
    login(box.reader)
    token = client.csrf(f"/courriers/{letter.id}")
    response = client.post(f"/courriers/{letter.id}/ouvrir", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/courriers/{letter.id}"
    body = client.get(f"/courriers/{letter.id}").get_data(as_text=True)
    db.session.expire_all()
    consulted = db.session.get(Letter, letter.id)
    assert consulted.first_consulted_by_id == box.reader.id
    assert "Mis à disposition le" in body and "Alerte envoyée le" in body and "Pas encore envoyée" not in body
    assert "par Julie Lecteur" in body
    assert "Date de notification réputée" in body
    deadline = lucie.letter_dates(consulted).appeal_deadline
    assert deadline is not None and f"Jusqu'au {deadline:%d/%m/%Y} inclus" in body
    assert "Base légale : Date de la première consultation par une personne de l&#39;entreprise" in body
    assert "Base légale : Article R142-1 du code de la sécurité sociale" in body
    assert f'src="/courriers/{letter.id}/document"' in body and "Ouvrir le courrier<" not in body


def test_deemed_notification_is_deposit_plus_15_days_when_never_opened(app, box):
    letter = deposit(box.establishment, box.caisse, letter_type=LetterType.NOTIFICATION_TAUX)
    dates = lucie.letter_dates(letter)
    assert dates.deemed_notified_at is None and dates.appeal_deadline is None
    assert (
        dates.deemed_notified_at_latest.date()
        == (letter.deposited_at.astimezone(PARIS) + timedelta(days=15)).date()
    )
    _shift(letter, 16)
    db.session.expire_all()
    late = db.session.get(Letter, letter.id)
    dates = lucie.letter_dates(late)
    expected = (late.deposited_at.astimezone(PARIS) + timedelta(days=15)).date()
    assert dates.deemed_notified_at.date() == expected
    assert dates.appeal_deadline is not None


def test_inline_pdf_may_be_framed_by_this_site_only_and_download_is_an_attachment(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    login(box.reader)
    inline = client.get(f"/courriers/{letter.id}/document", headers=SAME_ORIGIN)
    assert inline.status_code == 200 and inline.data.startswith(b"%PDF-")
    assert inline.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert inline.headers["Content-Security-Policy"] == "sandbox; frame-ancestors 'self'"
    assert inline.headers["Content-Disposition"].startswith("inline;")
    download = client.get(f"/courriers/{letter.id}/telecharger", headers=SAME_ORIGIN)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Frame-Options"] == "DENY"
    assert download.data == inline.data


def test_an_altered_pdf_is_never_served_nor_counted_as_consulted(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    path = blob_path(letter.sha256)
    path.write_bytes(path.read_bytes() + b"% altered")
    login(box.reader)
    for url in (
        f"/courriers/{letter.id}",
        f"/courriers/{letter.id}/document",
        f"/courriers/{letter.id}/telecharger",
    ):
        response = client.get(url, headers=SAME_ORIGIN)
        assert response.status_code == 500
        assert b"%PDF" not in response.data
        assert "Courrier altéré" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_consulted_at is None
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "integrity_error"))


def test_a_user_without_lucie_on_the_establishment_cannot_see_its_letters(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    dat_only = make_user(
        "dat@transports.test", company=box.company, grants=[(box.establishment, Service.DAT)]
    )
    stranger_company = make_company("Autre Société")
    stranger = make_user(
        "autre@autre.test",
        company=stranger_company,
        grants=[(make_establishment(stranger_company), Service.LUCIE)],
    )
    db.session.commit()
    login(dat_only)
    assert client.get(f"/courriers/{letter.id}").status_code == 403
    assert client.get(f"/courriers/{letter.id}/document").status_code == 403
    assert _ids(client.get("/courriers/")) == []
    client.post("/deconnexion", data={"csrf_token": client.csrf("/courriers/")})
    login(stranger)
    assert client.get(f"/courriers/{letter.id}").status_code == 404
    assert client.get(f"/courriers/{letter.id}/telecharger").status_code == 404
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_consulted_at is None


def test_tiers_declarant_reads_the_mailboxes_of_its_clients(client, login, box):
    letter = deposit(box.establishment, box.caisse, title="Pour le cabinet")
    other = make_establishment(box.company, departement="57", name="Sans mandat")
    lucie.subscribe(other)
    hidden = deposit(other, box.caisse, title="Hors mandat")
    firm = make_firm("Cabinet Rhénan", mandates=[(box.establishment, Service.LUCIE)])
    accountant = make_user("comptable@cabinet.test", kind="firm", firm_id=firm.id)
    db.session.commit()
    login(accountant)
    assert _ids(client.get("/courriers/")) == [letter.id]
    assert client.get(f"/courriers/{hidden.id}").status_code == 404
    assert client.get(f"/courriers/{letter.id}").status_code == 200


def test_head_office_user_sees_every_establishment_and_can_filter_one(client, login, box):
    siege_letter = deposit(box.establishment, box.caisse, title="À Metz")
    lucie.subscribe(box.head_office)
    paris_letter = deposit(box.head_office, None, title="Au siège", source="service")
    boss = make_user(
        "direction@transports.test", company=box.company, grants=[(box.head_office, Service.LUCIE)]
    )
    db.session.commit()
    login(boss)
    response = client.get("/courriers/")
    assert _ids(response) == [paris_letter.id, siege_letter.id]
    assert "Tous les établissements" in response.get_data(as_text=True)
    assert _ids(client.get(f"/courriers/?etablissement={box.establishment.id}")) == [siege_letter.id]


def test_archive_and_unarchive_never_delete(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    login(box.reader)
    token = client.csrf(f"/courriers/{letter.id}")
    response = client.post(f"/courriers/{letter.id}/archiver", data={"csrf_token": token})
    assert response.status_code == 302
    assert _ids(client.get("/courriers/")) == []
    assert _ids(client.get("/courriers/?archives=1")) == [letter.id]
    client.post(f"/courriers/{letter.id}/desarchiver", data={"csrf_token": token})
    assert _ids(client.get("/courriers/")) == [letter.id]
    assert client.post(f"/courriers/{letter.id}/archiver").status_code == 400  # no CSRF token
    assert client.delete(f"/courriers/{letter.id}").status_code == 405
    assert db.session.get(Letter, letter.id) is not None
