"""The demo data of QR Pro's parties (`flask demo load`, README): the victim's account with their AT case
and its open questionnaire, and the MP case's unused access code, printed, which the activation page
takes; a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo.accounts import DEMO_PASSWORD
from app.demo.qrpro_parties import CODE_CASE, DEMO_ACCESS_CODE, load_qrpro_parties_demo
from app.extensions import db
from app.models import Case, User
from app.models.qrpro_access import VictimAccessCode
from tests.qrpro_parties_support import Party as Browser


def test_the_demo_victim_sees_their_case_and_the_printed_code_adds_the_other(demo_app):
    lines = list(load_qrpro_parties_demo())  # a second run: nothing new
    assert not any(line.startswith("ajout") for line in lines), lines
    assert f"Code d'accès victime (démonstration) : dossier {CODE_CASE}, code {DEMO_ACCESS_CODE}" in " ".join(
        lines
    )
    assert db.session.scalar(select(func.count(VictimAccessCode.id))) == 1

    victim_user = db.session.scalar(select(User).where(User.email == "victime@demo.test"))
    victim = Browser(demo_app, victim_user, password=DEMO_PASSWORD)
    page = victim.page("/mes-dossiers/")
    assert "AT-2026-900001" in page and "Commencer le questionnaire" in page and CODE_CASE not in page
    token = victim.client.csrf("/acces-victime")
    response = victim.client.post(
        "/acces-victime", data={"csrf_token": token, "reference": CODE_CASE, "code": DEMO_ACCESS_CODE}
    )
    assert response.status_code == 303
    assert CODE_CASE in victim.page("/mes-dossiers/")
    db.session.expire_all()
    assert db.session.scalar(select(Case).where(Case.reference == CODE_CASE)).victim_id == victim_user.id
    lines = list(load_qrpro_parties_demo())
    assert any("a déjà servi" in line for line in lines)
