"""Draft subjects and windows (issue 12, items 5 and 6): a draft belongs to an establishment or to a party
of a case — the employer side, or the victim, who has no company; each subject has its rule (another
subject answers 404); a draft closes at its deadline, decided by the server clock, and nothing late is
stored. Driven with a small questionnaire (tests/subjects_support.py), through the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEvent, Case, Draft, Submission
from app.models.types import utcnow
from app.services import drafts
from tests.factories import PASSWORD
from tests.subjects_support import (
    WORKFLOW,
    World,
    make_draft,
    register_questionnaire,
    unregister_questionnaire,
)


@pytest.fixture
def questionnaire(app):
    yield register_questionnaire()
    unregister_questionnaire()


@pytest.fixture
def world(app, questionnaire):
    return World()


VERSION_RE = re.compile(r'name="version" value="(\d+)"')


class Browser:
    """A signed-in client answering the questionnaire through the pages (no JavaScript)."""

    def __init__(self, app, user):
        self.client = app.test_client()
        token = self.client.csrf("/connexion")
        response = self.client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.status_code
        self.token = self.client.csrf("/demarches/")

    def start(self, case: Case, party: str):
        return self.client.post(
            f"/demarches/{WORKFLOW}/dossiers/{case.id}/{party}/commencer", data={"csrf_token": self.token}
        )

    def started(self, case: Case, party: str) -> int:
        response = self.start(case, party)
        assert response.status_code == 303, response.get_data(as_text=True)
        return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))

    def get(self, draft_id: int, tail: str = ""):
        return self.client.get(f"/demarches/brouillons/{draft_id}{tail}")

    def save(self, draft_id: int, step: str, data: dict, *, action: str = "continue"):
        form = {"csrf_token": self.token, "action": action, "version": str(fresh(draft_id).version), **data}
        return self.client.post(f"/demarches/brouillons/{draft_id}/etapes/{step}", data=form)

    def autosave(self, draft_id: int, step: str, data: dict):
        form = {"csrf_token": self.token, "version": str(fresh(draft_id).version), **data}
        return self.client.post(
            f"/demarches/brouillons/{draft_id}/etapes/{step}/enregistrement-automatique",
            data=form,
            headers={"HX-Request": "true"},
        )

    def submit(self, draft_id: int):
        form = {"csrf_token": self.token, "version": str(fresh(draft_id).version)}
        return self.client.post(f"/demarches/brouillons/{draft_id}/envoyer", data=form)


def fresh(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


def text(response) -> str:
    return response.get_data(as_text=True)


# -- a person without a company holds, resumes and submits a draft ------------------------------------


def test_a_victim_without_company_starts_saves_resumes_and_submits_their_questionnaire(app, world):
    victim = Browser(app, world.victim)
    home = victim.client.get("/")
    assert home.status_code == 200 and 'href="/demarches/"' in text(home)  # their drafts, from the menu
    draft_id = victim.started(world.case_a, "victime")
    draft = fresh(draft_id)
    assert (draft.case_id, draft.party, draft.establishment_id) == (world.case_a.id, "victime", world.metz.id)

    response = victim.save(
        draft_id, "circonstances", {"recit": "Chute dans l'escalier du quai 3."}, action="later"
    )
    assert response.status_code == 303 and response.headers["Location"] == "/demarches/"
    listing = text(victim.client.get("/demarches/"))
    assert "Questionnaire d&#39;essai" in listing and f"/demarches/brouillons/{draft_id}" in listing

    # Resumed in a fresh browser: the step left, with what was typed.
    again = Browser(app, world.victim)
    response = again.get(draft_id)
    assert response.headers["Location"] == f"/demarches/brouillons/{draft_id}/etapes/circonstances"
    assert "Chute dans l&#39;escalier du quai 3." in text(again.get(draft_id, "/etapes/circonstances"))
    assert (
        again.save(draft_id, "circonstances", {"recit": "Chute dans l'escalier du quai 3."}).status_code
        == 303
    )
    response = again.save(draft_id, "temoins", {"temoins": "Karim, chef d'équipe"})
    assert response.headers["Location"] == f"/demarches/brouillons/{draft_id}/verifier"
    assert "Karim, chef d&#39;équipe" in text(again.get(draft_id, "/verifier"))

    response = again.submit(draft_id)
    assert response.status_code in (302, 303)
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    assert (submission.case_id, submission.party, submission.submitted_by_id) == (
        world.case_a.id,
        "victime",
        world.victim.id,
    )
    assert submission.data["case"] == {"reference": "AT-2026-000001", "kind": "AT", "party": "victime"}
    assert submission.data["answers"]["temoins"] == {"temoins": "Karim, chef d'équipe"}
    assert "QESSAI-" in text(again.get(draft_id, "/confirmation"))
    assert submission.reference in text(again.client.get("/demarches/"))


def test_a_party_answers_once_a_second_start_resumes_the_first_draft(app, world):
    victim = Browser(app, world.victim)
    first = victim.started(world.case_a, "victime")
    assert victim.started(world.case_a, "victime") == first
    colleague, employer = Browser(app, world.colleague), Browser(app, world.employer)
    employer_side = employer.started(world.case_a, "employeur")
    assert colleague.started(world.case_a, "employeur") == employer_side != first  # shared, one per party
    # The database holds the rule too: a second live draft for the same party is refused.
    with pytest.raises(IntegrityError):
        make_draft(world, world.case_a, "victime")
    db.session.rollback()
    # Deleted, it makes room for a new one.
    response = victim.client.post(
        f"/demarches/brouillons/{first}/supprimer",
        data={"csrf_token": victim.token, "version": str(fresh(first).version)},
    )
    assert response.status_code == 303
    assert victim.started(world.case_a, "victime") not in (first, employer_side)


# -- each subject has its rule: another subject answers 404 -----------------------------------------------


def test_a_victim_of_case_a_asking_for_a_draft_of_case_b_gets_404(app, world):
    theirs = make_draft(world, world.case_b, "victime", by=world.other_victim)
    victim = Browser(app, world.victim)
    for tail in ("", "/sommaire", "/etapes/circonstances", "/verifier", "/confirmation", "/supprimer"):
        assert victim.get(theirs.id, tail).status_code == 404, tail
    assert victim.save(theirs.id, "circonstances", {"recit": "Intrusion"}).status_code == 404
    assert victim.autosave(theirs.id, "circonstances", {"recit": "Intrusion"}).status_code == 404
    assert victim.submit(theirs.id).status_code == 404
    # Nor can they start one on case B, for either party; nor the employer's side of their own case.
    assert victim.start(world.case_b, "victime").status_code == 404
    assert victim.start(world.case_b, "employeur").status_code == 404
    assert victim.start(world.case_a, "employeur").status_code == 404
    assert fresh(theirs.id).answers == {}
    assert db.session.scalar(select(func.count(Draft.id))) == 1
    assert f"/demarches/brouillons/{theirs.id}" not in text(victim.client.get("/demarches/"))


def test_an_employer_of_another_company_gets_404_on_a_case_s_employer_draft(app, world):
    employer_side = make_draft(world, world.case_a, "employeur")
    stranger = Browser(app, world.other_employer)
    for tail in ("", "/etapes/circonstances", "/verifier"):
        assert stranger.get(employer_side.id, tail).status_code == 404, tail
    assert stranger.save(employer_side.id, "circonstances", {"recit": "Intrusion"}).status_code == 404
    assert stranger.start(world.case_a, "employeur").status_code == 404
    assert fresh(employer_side.id).answers == {}


def test_the_employer_side_is_shared_by_the_habilitated_users_but_never_sees_the_victim_s_draft(app, world):
    employer_side = make_draft(world, world.case_a, "employeur")
    victim_side = make_draft(world, world.case_a, "victime")
    colleague = Browser(app, world.colleague)
    assert colleague.get(employer_side.id, "/etapes/circonstances").status_code == 200
    listing = text(colleague.client.get("/demarches/"))
    assert f"/demarches/brouillons/{employer_side.id}" in listing
    assert f"/demarches/brouillons/{victim_side.id}" not in listing
    # The victim's answers are theirs: the employer's users (even with every service) get 404.
    for tail in ("", "/etapes/circonstances", "/verifier"):
        assert colleague.get(victim_side.id, tail).status_code == 404, tail
    assert colleague.save(victim_side.id, "circonstances", {"recit": "Autre version"}).status_code == 404
    # A user of the company without the QR Pro service: 403 on the employer side, as for any draft.
    assert Browser(app, world.no_qrpro).get(employer_side.id, "/etapes/circonstances").status_code == 403
    # The victim does not see the employer's answers either; an agent sees no draft at all.
    victim = Browser(app, world.victim)
    assert victim.get(employer_side.id, "/etapes/circonstances").status_code == 404
    assert f"/demarches/brouillons/{employer_side.id}" not in text(victim.client.get("/demarches/"))
    agent = Browser(app, world.agent)
    assert agent.get(victim_side.id, "/etapes/circonstances").status_code == 404
    assert agent.get(employer_side.id, "/etapes/circonstances").status_code == 404


def test_a_draft_whose_case_names_another_establishment_answers_404(app, world):
    """A forged row (the draft's establishment is not its case's): nobody acts on it."""
    forged = make_draft(world, world.case_a, "employeur")
    forged.establishment_id = world.lyon.id
    db.session.commit()
    assert Browser(app, world.other_employer).get(forged.id, "/etapes/circonstances").status_code == 404
    assert Browser(app, world.employer).get(forged.id, "/etapes/circonstances").status_code == 404


def test_a_questionnaire_of_a_case_cannot_be_started_for_an_establishment(app, world):
    employer = Browser(app, world.employer)
    assert employer.client.get(f"/demarches/{WORKFLOW}/commencer").status_code == 404
    response = employer.client.post(
        f"/demarches/{WORKFLOW}/commencer",
        data={"csrf_token": employer.token, "establishment": world.metz.id},
    )
    assert response.status_code == 404
    assert employer.start(world.case_a, "temoin").status_code == 404  # not a party
    assert db.session.scalar(select(func.count(Draft.id))) == 0


# -- opening and closing times, decided by the server clock -----------------------------------------------


def closing_time() -> datetime:
    """A closing time an hour from now, on a whole second."""
    return (utcnow() + timedelta(hours=1)).replace(microsecond=0)


def test_a_save_one_second_after_the_closing_time_is_refused_and_nothing_is_stored(app, world):
    closes_at = closing_time()
    draft = make_draft(world, world.case_a, "victime", closes_at=closes_at)
    with time_machine.travel(closes_at - timedelta(seconds=1), tick=False) as clock:
        victim = Browser(app, world.victim)
        page = text(victim.get(draft.id, "/etapes/circonstances"))
        local = closes_at.astimezone(world_zone("57"))
        assert "À envoyer au plus tard le" in page and f"{local.hour}\u00a0h\u00a0{local.minute:02d}" in page
        assert f"{local.day}" in page
        assert victim.save(draft.id, "circonstances", {"recit": "Avant l'heure"}).status_code == 303
        before = fresh(draft.id)
        saves = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "draft.save"))

        clock.shift(timedelta(seconds=2))  # one second after closes_at
        response = victim.save(draft.id, "temoins", {"temoins": "Après l'heure"})
        assert response.status_code == 409
        body = text(response)
        assert "Le délai pour répondre a expiré le" in body
        assert f"à {local.hour}\u00a0h\u00a0{local.minute:02d} (heure locale de l&#39;établissement)" in body
        assert "votre saisie n&#39;a pas été enregistrée" in body
        assert "data-workflow-form" not in body  # read-only: the stored answers, no form
        response = victim.autosave(draft.id, "temoins", {"temoins": "Après l'heure"})
        assert response.status_code == 409 and "Le délai pour répondre a expiré" in text(response)
        response = victim.save(draft.id, "circonstances", {"recit": "Réécrit après l'heure"})
        assert response.status_code == 409

        after = fresh(draft.id)
        assert after.answers == before.answers == {"circonstances": {"recit": "Avant l'heure"}}
        assert after.version == before.version and after.updated_at == before.updated_at
        assert saves == db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action.in_(("draft.save", "draft.autosave")))
        )
        # The step shows read-only, the deadline passed; « Mes démarches » says so.
        page = text(victim.get(draft.id, "/etapes/circonstances"))
        assert "Le délai pour répondre a expiré" in page and "data-workflow-form" not in page
        assert "Avant l&#39;heure" in page
        assert "Délai expiré le" in text(victim.client.get("/demarches/"))


def test_a_submission_after_the_closing_time_is_refused_and_nothing_is_stored(app, world):
    closes_at = closing_time()
    answers = {"circonstances": {"recit": "Chute"}, "temoins": {"temoins": "Personne"}}
    draft = make_draft(world, world.case_a, "employeur", closes_at=closes_at)
    draft.answers, draft.valid_steps, draft.current_step = answers, ["circonstances", "temoins"], "_verifier"
    db.session.commit()
    with time_machine.travel(closes_at + timedelta(seconds=1), tick=False):
        employer = Browser(app, world.employer)
        page = text(employer.get(draft.id, "/verifier"))
        assert "Le délai pour répondre a expiré" in page and "Envoyer la demande" not in page
        assert "Modifier" not in page
        response = employer.submit(draft.id)
        assert response.status_code == 409 and "Le délai pour répondre a expiré" in text(response)
    assert db.session.scalar(select(func.count(Submission.id))) == 0
    assert fresh(draft.id).submitted_at is None


def test_the_case_s_window_applies_to_its_drafts_and_a_draft_cannot_start_before_it_opens(app, world):
    opens_at = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    world.case_a.opens_at = opens_at
    world.case_a.closes_at = opens_at + timedelta(days=20)
    db.session.commit()
    victim = Browser(app, world.victim)
    response = victim.start(world.case_a, "victime")
    assert response.status_code == 303 and response.headers["Location"] == "/demarches/"
    assert "Cette démarche ouvre le" in text(victim.client.get("/demarches/"))
    assert db.session.scalar(select(func.count(Draft.id))) == 0

    with time_machine.travel(opens_at, tick=False):
        victim = Browser(app, world.victim)
        draft_id = victim.started(world.case_a, "victime")
        assert fresh(draft_id).closes_at is None  # the case's times apply
        assert "À envoyer au plus tard le" in text(victim.client.get("/demarches/"))
    with time_machine.travel(opens_at + timedelta(days=20), tick=False):
        victim = Browser(app, world.victim)
        assert victim.save(draft_id, "circonstances", {"recit": "Trop tard"}).status_code == 409
        response = victim.start(world.case_b, "victime")
        assert response.status_code == 404  # another victim's case: 404 before any window
    assert fresh(draft_id).answers == {}


def test_the_deadline_is_given_in_the_establishment_s_local_time(app, world):
    """Saint-Denis de La Réunion (UTC+4) is 3 hours ahead of Paris in winter: the message gives its own
    clock."""
    case = World._case("AT-2026-000003", world.reunion, world.victim, None)
    closes_at = datetime(2026, 1, 15, 19, 0, tzinfo=UTC)  # 23 h 00 in Saint-Denis, 20 h 00 in Paris
    draft = make_draft(world, case, "victime", closes_at=closes_at)
    window = drafts.window_of(draft, now=closes_at + timedelta(seconds=1))
    assert window.closed
    assert "jeudi 15 janvier 2026 à 23\u00a0h\u00a000" in window.message


def world_zone(departement: str):
    from app.domain.calendars import timezone_for

    return timezone_for(departement)
