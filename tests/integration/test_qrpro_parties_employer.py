"""The employer's questionnaire (issue 13, item 5): one draft per case for the employer side, shared by
the establishment's users habilitated for QR Pro and a tiers déclarant holding a QR Pro mandate; anyone
else is refused (404 when the establishment is not theirs to see, 403 when it is but without QR Pro —
the platform's rule, app/services/access.py); an answer after the due date is refused with the date
and nothing is stored."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.cases import Party, SubjectKind
from app.domain.dat import french_deadline
from app.extensions import db
from app.models import Service, Submission, UserKind
from app.models.types import utcnow
from app.services import drafts
from tests.factories import make_firm, make_user
from tests.qrpro_parties_support import Party as Browser
from tests.qrpro_parties_support import fresh
from tests.subjects_support import World

CODE = "qr-at-employeur"


@pytest.fixture
def world(app):
    result = app.test_cli_runner().invoke(args=["forms", "load"])
    assert result.exit_code == 0, result.output
    world = World()
    qrpro_firm = make_firm("Cabinet Comptable de l'Est", mandates=[(world.metz, Service.QRPRO)])
    dat_firm = make_firm("Cabinet Paie Express", mandates=[(world.metz, Service.DAT)])
    no_firm = make_firm("Cabinet Sans Mandat")
    world.firm_user = make_user("compta@cabinet-est.fr", kind=UserKind.FIRM, firm_id=qrpro_firm.id)
    world.dat_firm_user = make_user("paie@express.fr", kind=UserKind.FIRM, firm_id=dat_firm.id)
    world.no_firm_user = make_user("rien@cabinet.fr", kind=UserKind.FIRM, firm_id=no_firm.id)
    world.case_a.closes_at = utcnow() + timedelta(days=20)
    db.session.commit()
    return world


def started(world):
    workflow = drafts.workflow_or_404(CODE, SubjectKind.CASE_PARTY)
    draft = drafts.start_case_draft(world.employer, workflow, world.case_a, Party.EMPLOYER)
    db.session.commit()
    return draft


def test_the_employer_draft_is_shared_by_habilitated_users_and_the_qrpro_firm(app, world):
    draft = started(world)
    steps = f"/demarches/brouillons/{draft.id}/etapes"
    # The habilitated user answers the first page and leaves.
    employer = Browser(app, world.employer)
    employer.fill(draft.id, CODE, until="lieu_heure")
    # A colleague with every service, and the firm holding a QR Pro mandate, resume the same draft.
    colleague = Browser(app, world.colleague)
    page = colleague.page(f"{steps}/connaissance")
    assert "Comment avez-vous appris l'accident ?" in page
    firm = Browser(app, world.firm_user)
    response = firm.client.get(f"/demarches/brouillons/{draft.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/etapes/lieu_heure")
    location = firm.fill(draft.id, CODE)
    assert location.endswith("/verifier")
    assert fresh(draft.id).updated_by_id == world.firm_user.id
    # Starting again from the case gives the same draft, to anyone of the employer side.
    for user in (world.colleague, world.firm_user):
        browser = Browser(app, user)
        response = browser.client.post(
            f"/demarches/{CODE}/dossiers/{world.case_a.id}/employeur/commencer",
            data={"csrf_token": browser.token},
        )
        assert response.status_code == 303 and f"/brouillons/{draft.id}/" in response.headers["Location"]
    # The employer's questionnaires page lists it for them.
    listing = firm.page("/qrpro/questionnaires")
    assert "AT-2026-000001" in listing and "Reprendre le questionnaire" in listing
    assert 'href="/qrpro/questionnaires"' in firm.page("/")  # its entry in the main navigation
    assert "AT-2026-000002" not in listing  # another company's case


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("no_qrpro", 403),  # same company, the establishment visible, DAT only: the service is missing
        ("dat_firm_user", 403),  # a firm whose mandate on the establishment is for the DAT only
        ("no_firm_user", 404),  # a firm without any mandate on it
        ("other_employer", 404),  # another company
        ("victim", 404),  # the case's own victim: the employer's side is not theirs
        ("other_victim", 404),
        ("agent", 404),  # the caisse works on its own screens, never in a party's draft
    ],
)
def test_anyone_else_is_refused_the_employer_draft(app, world, who, status):
    draft = started(world)
    browser = Browser(app, getattr(world, who))
    urls = (
        f"/demarches/brouillons/{draft.id}",
        f"/demarches/brouillons/{draft.id}/etapes/connaissance",
        f"/demarches/brouillons/{draft.id}/verifier",
    )
    assert [browser.client.get(url).status_code for url in urls] == [status] * 3
    response = browser.post(
        f"/demarches/brouillons/{draft.id}/etapes/connaissance",
        {"action": "continue", "connaissance_mode": "autre", "connaissance_date": ["1", "11", "2026"]},
    )
    assert response.status_code == status
    assert fresh(draft.id).answers == {}
    response = browser.client.post(
        f"/demarches/{CODE}/dossiers/{world.case_a.id}/employeur/commencer",
        data={"csrf_token": browser.token},
    )
    assert response.status_code == status
    if who != "other_employer":  # who holds QR Pro on their own establishment, in Lyon
        assert 'href="/qrpro/questionnaires"' not in browser.page("/")  # no QR Pro, no entry in the menu
    if who in ("victim", "other_victim", "agent"):
        assert browser.client.get("/qrpro/questionnaires").status_code == 404
    else:
        assert "AT-2026-000001" not in browser.page("/qrpro/questionnaires")


def test_a_late_answer_is_refused_with_the_date_and_nothing_is_stored(app, world):
    draft = started(world)
    employer = Browser(app, world.employer)
    employer.fill(draft.id, CODE)  # every page answered, not sent
    before = fresh(draft.id)
    answers, version = before.answers, before.version
    # The due date passes (the server clock decides).
    world.case_a.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    expected = f"Le délai pour répondre a expiré le {french_deadline(world.case_a.closes_at, '57')}"
    steps = f"/demarches/brouillons/{draft.id}/etapes"
    response = employer.post(f"{steps}/pieces", {"action": "continue", "remarques": "Tard"})
    assert response.status_code == 409  # the step again, read-only, with why
    assert expected in html.unescape(response.get_data(as_text=True))
    autosave = employer.client.post(
        f"{steps}/pieces/enregistrement-automatique",
        data={"csrf_token": employer.token, "version": str(version), "remarques": "Tard"},
        headers={"HX-Request": "true"},
    )
    assert expected in html.unescape(autosave.get_data(as_text=True))
    response = employer.post(f"/demarches/brouillons/{draft.id}/envoyer", {})
    assert response.status_code == 409
    assert expected in html.unescape(response.get_data(as_text=True))
    after = fresh(draft.id)
    assert after.answers == answers and after.version == version and after.submitted_at is None
    assert db.session.scalar(select(func.count(Submission.id))) == 0
    listing = employer.page("/qrpro/questionnaires")
    assert "Délai expiré" in listing
