"""The demo data of QR Pro's parties (`flask demo load`, README), one set with the caisse's demo cases: the
victim's account is the victim of the MP case in its consultation window, with one observation of hers; the
employer's questionnaire of the AT case with reserves is half-filled; the AT case's victim code is the printed
demo code, unused, which the activation page takes; a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo.accounts import DEMO_PASSWORD
from app.demo.qrpro import MP_CONSULTATION
from app.demo.qrpro_parties import AT_CASE_VICTIM, DEMO_ACCESS_CODE, load_qrpro_parties_demo
from app.domain.cases import Party
from app.extensions import db
from app.models import Case, CaseDocument, Draft, OutboxMessage, User
from app.models.qrpro_access import VictimAccessCode
from app.services.qrpro import access_codes
from tests.qrpro_parties_support import Party as Browser


def _case(name: str) -> Case:
    return db.session.scalar(select(Case).where(Case.victim_name == name))


def test_one_set_of_demo_cases_the_victim_sees_hers_and_the_printed_code_adds_the_at_case(demo_app):
    lines = list(load_qrpro_parties_demo())  # a second run: nothing new
    assert not any(line.startswith("ajout") for line in lines), lines
    at_case, mp_case = _case(AT_CASE_VICTIM), _case(MP_CONSULTATION)
    printed = f"Code d'accès victime (démonstration) : dossier {at_case.reference} ({AT_CASE_VICTIM}), code"
    assert f"{printed} {DEMO_ACCESS_CODE}" in " ".join(lines)
    # No duplicate demo cases: the three of the caisse, each opened with its own code.
    assert db.session.scalar(select(func.count(Case.id)).where(Case.reference.like("%-9000%"))) == 0
    assert db.session.scalar(select(func.count(Case.id)).where(Case.instruction_opened_at.is_not(None))) == 3
    unused = db.session.scalars(
        select(VictimAccessCode).where(
            VictimAccessCode.used_at.is_(None), VictimAccessCode.revoked_at.is_(None)
        )
    ).all()
    # The AT case's printed code, and the decided case's opening code (its letter, never read back).
    assert sorted(code.case_id for code in unused) == sorted([at_case.id, _case("ROUSSEAU Marc").id])
    assert access_codes.live_code_matches(at_case, DEMO_ACCESS_CODE)
    used = db.session.scalars(select(VictimAccessCode).where(VictimAccessCode.used_at.is_not(None))).all()
    victim_user = db.session.scalar(select(User).where(User.email == "victime@demo.test"))
    assert [(code.case_id, code.used_by_id) for code in used] == [(mp_case.id, victim_user.id)]
    assert mp_case.victim_id == victim_user.id and at_case.victim_id is None

    # Her observation, in the dossier, the employer told by e-mail.
    observation = db.session.scalars(select(CaseDocument).where(CaseDocument.case_id == mp_case.id)).one()
    assert observation.party == Party.VICTIM and "sacs de 25 kg" in observation.text
    assert db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.subject.contains(mp_case.reference))
    )
    # The employer's questionnaire of the AT case, half-filled (three pages of eight).
    draft = db.session.scalars(select(Draft).where(Draft.case_id == at_case.id)).one()
    assert (draft.workflow, draft.party, draft.submitted_at) == ("qr-at-employeur", "employeur", None)
    assert draft.valid_steps == ["connaissance", "lieu_heure", "circonstances"]

    victim = Browser(demo_app, victim_user, password=DEMO_PASSWORD)
    page = victim.page("/mes-dossiers/")
    assert mp_case.reference in page and at_case.reference not in page
    case_page = victim.page(f"/mes-dossiers/{mp_case.id}")
    assert "sacs de 25 kg" in case_page and "Envoyer mes observations" in case_page
    token = victim.client.csrf("/acces-victime")
    response = victim.client.post(
        "/acces-victime", data={"csrf_token": token, "reference": at_case.reference, "code": DEMO_ACCESS_CODE}
    )
    assert response.status_code == 303
    assert at_case.reference in victim.page("/mes-dossiers/")
    db.session.expire_all()
    assert _case(AT_CASE_VICTIM).victim_id == victim_user.id
    lines = list(load_qrpro_parties_demo())
    assert any("a déjà servi" in line for line in lines)
