"""QR Pro demo data (issue 13, item 10, the caisse's part): after `flask demo load`, an AT case with reserves
in its questionnaire phase, an MP case in its consultation window and a decided MP case, in the CPAM de
Moselle's queue."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.qrpro import DateKind, Stage
from app.extensions import db
from app.models import Case, User
from app.services.qrpro import calendar, cases
from tests.dat_support import local_today


def test_the_demo_has_a_case_at_each_stage(demo_app):
    by_name = {
        case.victim_name: case for case in db.session.scalars(select(Case).where(Case.d0.is_not(None)))
    }
    assert by_name["GIRARD Lucas"].stage == Stage.QUESTIONNAIRES
    consultation = by_name["FRANÇOIS Nadia"]
    assert consultation.stage == Stage.CONSULTATION
    dates = calendar.dates_of(consultation)
    assert dates[DateKind.CONSULTATION_OPENING].effective_on <= local_today()
    assert local_today() <= dates[DateKind.OBSERVATIONS_END].effective_on
    assert by_name["ROUSSEAU Marc"].stage == Stage.DECIDE and by_name["ROUSSEAU Marc"].decision == "reconnu"
    agent = db.session.scalar(select(User).where(User.email == "agent.cpam@demo.test"))
    queued = {case.victim_name for case in cases.queue(agent, size=100).items}
    assert {"GIRARD Lucas", "FRANÇOIS Nadia"} <= queued and "ROUSSEAU Marc" not in queued
