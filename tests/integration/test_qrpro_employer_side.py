"""QR Pro, the employer's side (issue 13, item 9): « Dossiers en instruction » per establishment with the
notified dates and what is expected, the home page's nearest QR Pro date, and the .ics calendars — for users
habilitated for QR Pro and firms with a QR Pro mandate; 404 for anyone else."""

from __future__ import annotations

import html

import pytest

from app.domain.qrpro import DateKind
from app.extensions import db
from app.models import Service, UserKind
from app.services import lucie
from app.services.qrpro import calendar
from tests.factories import make_firm, make_user
from tests.integration.test_qrpro_instruction import at_case, open_and_send, with_cmi


@pytest.fixture
def world(app, world):
    app.test_cli_runner().invoke(args=["forms", "load"])
    lucie.subscribe(world.metz)
    world.qrpro_user = make_user(
        "qrpro@batiments-est.fr", company=world.company, grants=[(world.metz, Service.QRPRO)]
    )
    firm = make_firm("Cabinet Comptable", mandates=[(world.metz, Service.QRPRO)])
    world.firm_user = make_user("expert@cabinet.fr", kind=UserKind.FIRM, firm_id=firm.id)
    db.session.commit()
    return world


@pytest.fixture
def opened(world):
    case = with_cmi(world, at_case(world), days_ago=5)
    open_and_send(world, case)
    return case


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_habilitated_user_sees_the_case_its_next_date_and_what_is_expected(client, login, world, opened):
    login(world.qrpro_user)
    page = text(client.get(f"/qrpro/dossiers/{world.metz.siret}"))
    due = calendar.dates_of(opened)[DateKind.QUESTIONNAIRE_DUE].notified_on
    assert opened.reference in page and "Questionnaires envoyés" in page
    assert "Répondre au questionnaire au plus tard le" in page and "Répondez au questionnaire" in page
    assert str(due.year) in page
    home = text(client.get("/"))
    assert f"dossier {opened.reference}" in home
    assert f"/qrpro/dossiers/etablissement/{world.metz.id}" in home  # the service's link on its card
    moved = client.get(f"/qrpro/dossiers/etablissement/{world.metz.id}")
    assert moved.status_code == 303 and moved.headers["Location"].endswith(world.metz.siret)


def test_the_ics_is_rfc5545_with_crlf_and_the_notified_dates(client, login, world, opened):
    login(world.qrpro_user)
    response = client.get(f"/qrpro/dossiers/dossier/{opened.reference}/calendrier.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.data.decode()
    due = calendar.dates_of(opened)[DateKind.QUESTIONNAIRE_DUE].notified_on
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert f"DTSTART;VALUE=DATE:{due:%Y%m%d}" in body
    assert "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    whole = client.get(f"/qrpro/dossiers/{world.metz.siret}/calendrier.ics")
    assert whole.data.count(b"BEGIN:VEVENT") == body.count("BEGIN:VEVENT") >= 2


def test_a_firm_with_a_qrpro_mandate_sees_it(client, login, world, opened):
    login(world.firm_user)
    assert opened.reference in text(client.get(f"/qrpro/dossiers/{world.metz.siret}"))


@pytest.mark.parametrize(("who", "status"), [("no_dat", 403), ("stranger", 404), ("agent", 404)])
def test_others_are_refused(client, login, world, opened, who, status):
    """A colleague who sees the establishment without QR Pro gets 403 (access.authorize's rule), anyone
    else 404."""
    login(getattr(world, who))
    assert client.get(f"/qrpro/dossiers/{world.metz.siret}").status_code == status
    assert client.get(f"/qrpro/dossiers/dossier/{opened.reference}/calendrier.ics").status_code == status
