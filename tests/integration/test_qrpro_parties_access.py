"""The victim's access code (issue 13, item 6): issued once in clear and stored as a keyed hash, single
use, a new one revoking the previous; typed with the case's reference on a public page, it opens a
victim's account (e-mail + password under the strength rules) bound to that case — or adds the case to
the victim's account; five wrong codes lock the case's code for 15 minutes; every attempt is audited;
the victim sees only their own cases (another case: 404)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Case, User, UserKind
from app.models.qrpro_access import VictimAccessCode
from app.models.types import utcnow
from app.services.qrpro import access_codes
from tests.factories import PASSWORD
from tests.qrpro_parties_support import Party as Browser
from tests.subjects_support import World

CODE_FORMAT = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")
NEW_PASSWORD = "Tilleul-Bicyclette-Orage-57"


@pytest.fixture
def world(app):
    world = World()
    world.new_case = Case(
        reference="AT-2026-000103",
        kind="AT",
        establishment_id=world.metz.id,
        victim_name="Karim Benali",
        caisse_id=world.case_a.caisse_id,
    )
    db.session.add(world.new_case)
    db.session.commit()
    return world


def issue(case, by=None) -> str:
    code = access_codes.issue_access_code(case, by=by)
    db.session.commit()
    return code


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


class Visitor:
    """Someone without an account, on the public pages."""

    def __init__(self, app):
        self.client = app.test_client()

    def enter(self, reference: str, code: str):
        token = self.client.csrf("/acces-victime")
        return self.client.post(
            "/acces-victime", data={"csrf_token": token, "reference": reference, "code": code}
        )

    def create(self, email: str, password: str, confirm: str | None = None):
        token = self.client.csrf("/acces-victime/compte")
        return self.client.post(
            "/acces-victime/compte",
            data={"csrf_token": token, "email": email, "password": password, "confirm": confirm or password},
        )


def events(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_a_code_is_readable_random_and_stored_only_as_its_keyed_hash(app, world):
    codes = {issue(world.new_case, by=world.agent) for _ in range(3)}
    assert len(codes) == 3 and all(CODE_FORMAT.match(c) for c in codes)
    rows = db.session.scalars(select(VictimAccessCode).order_by(VictimAccessCode.id)).all()
    assert len(rows) == 3
    # Re-issuing revoked the previous unused codes: one live code per case.
    assert [r.revoked_at is not None for r in rows] == [True, True, False]
    stored = " ".join(f"{r.code_hash}" for r in rows) + str(
        [e.details for e in db.session.scalars(select(AuditEvent))]
    )
    for code in codes:
        plain = code.replace("-", "")
        assert code not in stored and plain not in stored
    assert all(len(r.code_hash) == 64 for r in rows)
    hashes = {access_codes.code_hash(access_codes.normalize_code(c)) for c in codes}
    assert {r.code_hash for r in rows} == hashes
    assert events("qrpro.access_code.issued") == 3
    # Typed loosely: lower case, spaces instead of dashes.
    assert access_codes.normalize_code(" k7qm 3wht zp9c ") == "K7QM3WHTZP9C"
    assert access_codes.normalize_code("K7QM-3WHT-ZP9") == ""  # 11 characters
    assert access_codes.normalize_code("O7QM-3WHT-ZP9C") == ""  # O is not in the alphabet


def test_the_code_opens_a_victim_account_bound_to_its_case_once(app, world):
    code = issue(world.new_case, by=world.agent)
    visitor = Visitor(app)
    page = text(visitor.client.get("/acces-victime"))
    assert "Accéder à votre dossier" in page and "Code d'accès" in page and "Numéro de dossier" in page

    # A replaced code no longer works once a new one is issued.
    response = visitor.enter("AT-2026-000103", "AAAA-BBBB-CCCC")
    assert response.status_code == 422 and "Le numéro de dossier ou le code d'accès est incorrect" in text(
        response
    )
    response = visitor.enter("at-2026-000103 ", code.lower().replace("-", " "))
    assert response.status_code == 303 and response.headers["Location"].endswith("/acces-victime/compte")

    page = text(visitor.client.get("/acces-victime/compte"))
    assert "Créer votre compte" in page and "AT-2026-000103" in page
    response = visitor.create("karim.benali@exemple.fr", "motdepasse12")
    assert response.status_code == 422
    assert db.session.scalar(select(User).where(User.email == "karim.benali@exemple.fr")) is None
    response = visitor.create("Karim.Benali@exemple.fr", NEW_PASSWORD)
    assert response.status_code == 303, text(response)[:2000]
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "karim.benali@exemple.fr"))
    assert user.kind == UserKind.VICTIM and user.company_id is None and user.full_name == "Karim Benali"
    case = db.session.get(Case, world.new_case.id)
    assert case.victim_id == user.id
    assert response.headers["Location"].endswith(f"/mes-dossiers/{case.id}")
    row = db.session.scalar(select(VictimAccessCode).where(VictimAccessCode.case_id == case.id))
    assert row.used_by_id == user.id and row.used_at is not None

    # Signed in: « Mes dossiers » lists this case only; the home page leads there.
    assert "Mes dossiers" in text(visitor.client.get("/"))
    listing = text(visitor.client.get("/mes-dossiers/"))
    assert "AT-2026-000103" in listing and "AT-2026-000001" not in listing
    assert visitor.client.get(f"/mes-dossiers/{case.id}").status_code == 200
    assert visitor.client.get(f"/mes-dossiers/{world.case_a.id}").status_code == 404  # another victim's
    assert visitor.client.get("/mes-dossiers/999999").status_code == 404

    # Used: the same code opens nothing more, for anyone.
    other = Visitor(app)
    response = other.enter("AT-2026-000103", code)
    assert response.status_code == 422
    assert other.client.get("/acces-victime/compte").status_code == 302
    assert events("qrpro.access_code.verified") == 1 and events("qrpro.access_code.used") == 1
    assert events("qrpro.access_code.failed") == 2


def test_five_wrong_codes_lock_the_case_for_fifteen_minutes_and_every_attempt_is_audited(app, world):
    code = issue(world.new_case)
    visitor = Visitor(app)
    for attempt in range(1, 5):
        response = visitor.enter("AT-2026-000103", "AAAA-BBBB-CCCC")
        assert response.status_code == 422 and "incorrect" in text(response), attempt
    response = visitor.enter("AT-2026-000103", "AAAA-BBBB-CCCD")
    assert response.status_code == 422 and "il est bloqué jusqu'à" in text(response)
    row = db.session.scalar(select(VictimAccessCode))
    db.session.refresh(row)
    assert row.locked_until is not None
    assert timedelta(minutes=14) < row.locked_until - utcnow() <= timedelta(minutes=15)
    # Locked: even the right code is refused, from any browser.
    response = Visitor(app).enter("AT-2026-000103", code)
    assert response.status_code == 422 and "il est bloqué jusqu'à" in text(response)
    assert events("qrpro.access_code.failed") == 5
    assert events("qrpro.access_code.locked") == 1
    assert events("qrpro.access_code.refused_locked") == 1
    assert events("qrpro.access_code.verified") == 0
    # 15 minutes later, the right code works (and a wrong one starts a fresh count).
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = Visitor(app).enter("AT-2026-000103", code)
    assert response.status_code == 303
    assert events("qrpro.access_code.verified") == 1
    attempts = select(AuditEvent.ip).where(AuditEvent.action != "qrpro.access_code.issued")
    assert set(db.session.scalars(attempts.where(AuditEvent.action.like("qrpro.access_code.%")))) == {
        "127.0.0.1"
    }


def test_an_unknown_reference_gets_the_same_answer_as_a_wrong_code(app, world):
    issue(world.new_case)
    visitor = Visitor(app)
    unknown = visitor.enter("AT-2099-999999", "AAAA-BBBB-CCCC")
    wrong = visitor.enter("AT-2026-000103", "AAAA-BBBB-CCCC")
    assert unknown.status_code == wrong.status_code == 422

    def message(response):
        return re.search(r'<p id="code-error"[^>]*>(.*?)</p>', text(response), re.S).group(1)

    assert message(unknown) == message(wrong)
    assert events("qrpro.access_code.failed") == 2


def test_a_signed_in_victim_adds_a_second_case_with_its_new_code(app, world):
    code = issue(world.new_case)
    victim = Browser(app, world.victim)
    assert "AT-2026-000103" not in text(victim.client.get("/mes-dossiers/"))
    assert victim.client.get(f"/mes-dossiers/{world.new_case.id}").status_code == 404
    token = victim.client.csrf("/acces-victime")
    response = victim.client.post(
        "/acces-victime", data={"csrf_token": token, "reference": "AT-2026-000103", "code": code}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/mes-dossiers/{world.new_case.id}"
    )
    listing = text(victim.client.get("/mes-dossiers/"))
    assert "AT-2026-000103" in listing and "AT-2026-000001" in listing
    db.session.expire_all()
    assert db.session.get(Case, world.new_case.id).victim_id == world.victim.id
    # The other victim still sees neither.
    other = Browser(app, world.other_victim)
    assert other.client.get(f"/mes-dossiers/{world.new_case.id}").status_code == 404
    assert other.client.get(f"/mes-dossiers/{world.case_a.id}").status_code == 404


def test_an_employer_cannot_take_a_victim_s_code_nor_see_the_victim_s_space(app, world):
    code = issue(world.new_case)
    employer = Browser(app, world.employer)
    token = employer.client.csrf("/demarches/")
    response = employer.client.post(
        "/acces-victime", data={"csrf_token": token, "reference": "AT-2026-000103", "code": code}
    )
    assert response.status_code == 403 and "Page réservée aux victimes" in text(response)
    assert employer.client.get("/mes-dossiers/").status_code == 404
    assert employer.client.get(f"/mes-dossiers/{world.case_a.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Case, world.new_case.id).victim_id is None
    assert db.session.scalar(select(VictimAccessCode)).used_at is None


def test_an_e_mail_already_registered_is_refused_and_the_code_stays_unused(app, world):
    code = issue(world.new_case)
    visitor = Visitor(app)
    assert visitor.enter("AT-2026-000103", code).status_code == 303
    response = visitor.create(world.employer.email, NEW_PASSWORD)
    assert response.status_code == 422 and "Un compte existe déjà avec cette adresse e-mail" in text(response)
    db.session.expire_all()
    assert db.session.scalar(select(VictimAccessCode)).used_at is None
    assert db.session.get(Case, world.new_case.id).victim_id is None
    assert PASSWORD != NEW_PASSWORD


def test_a_lock_is_per_case_and_a_newer_code_used_by_another_account_moves_the_case(app, world):
    code_new = issue(world.new_case)
    code_a = issue(world.case_a, by=world.agent)  # a new letter for a case already bound to a victim
    visitor = Visitor(app)
    for _ in range(5):
        visitor.enter("AT-2026-000103", "AAAA-BBBB-CCCC")
    assert "il est bloqué" in text(visitor.enter("AT-2026-000103", code_new))
    # Another case is not locked by it.
    first = Visitor(app)
    assert first.enter("AT-2026-000001", code_a).status_code == 303
    # Used by someone who creates a new account: the case moves to it, audited with the previous one.
    other = Visitor(app)
    assert other.enter("AT-2026-000001", code_a).status_code == 303
    assert other.create("ines.nouveau@exemple.fr", NEW_PASSWORD).status_code == 303
    db.session.expire_all()
    case = db.session.get(Case, world.case_a.id)
    assert case.victim.email == "ines.nouveau@exemple.fr"
    bound = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "qrpro.victim_bound", AuditEvent.object_id == str(case.id)
        )
    )
    assert bound.details == {"previous_victim_id": world.victim.id}
    # The first browser verified the same code a moment earlier: used since, it opens nothing.
    token = first.client.csrf("/acces-victime")
    response = first.client.post(
        "/acces-victime/compte",
        data={
            "csrf_token": token,
            "email": "quelquun@exemple.fr",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/acces-victime")
    assert db.session.scalar(select(User).where(User.email == "quelquun@exemple.fr")) is None
    assert Visitor(app).enter("AT-2026-000001", code_a).status_code == 422
