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


def test_the_demo_mp_in_consultation_has_two_employers_each_with_its_letters(demo_app):
    from app.domain.cases import Party
    from app.services.qrpro import letters

    case = db.session.scalar(select(Case).where(Case.victim_name == "FRANÇOIS Nadia"))
    assert [place.siret for place in case.employers] == ["81234567600025", "81234567600033"]
    for place in case.employers:
        rows = letters.letters_of(case, Party.EMPLOYER, place)
        assert [row.letter_type for row in rows] == ["ouverture_instruction", "information_consultation"]
        assert all(row.letter_id is not None and row.letter.establishment_id == place.id for row in rows)
    assert "deux établissements employeurs" in "\n".join(demo_app.extensions["tests.demo_output"])
