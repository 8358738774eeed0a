"""QR Pro, the caisse's side (issue 13, items 2–4 and 8): an AT case opens from the received DAT, an MP case
is registered by the agent, the calendar is stored, the steps issue their letters exactly once, unlawful
schedules are refused, and a decision without a party's information letter needs a reason."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, func, select, update
from werkzeug.exceptions import HTTPException

from app.domain.calendars import local_date
from app.domain.cases import Party
from app.domain.lucie import LetterType
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import AuditEvent, Case, CaseDate, CaseEvent, Declaration, Letter, Service, UserKind
from app.models.compte import Claim
from app.services import dat as dat_service
from app.services import lucie
from app.services.qrpro import calendar, cases, instruction, letters, scheduling
from app.services.qrpro import decision as case_decision
from tests.dat_support import local_today, make_declaration, make_nir, valid_answers
from tests.factories import make_caisse, make_user


@pytest.fixture
def world(app, world):
    app.test_cli_runner().invoke(args=["forms", "load"])
    lucie.subscribe(world.metz)
    db.session.commit()
    return world


MODEL = "exemple-temoins"


def open_and_send(world, case: Case, *, now: datetime | None = None, **send) -> instruction.StepOutcome:
    """The agent's three steps, one after the other: open the instruction, choose the models, send the
    questionnaires."""
    instruction.open_instruction(world.agent, case, now=now)
    instruction.choose_models(world.agent, case, employer_model=MODEL, victim_model=MODEL, now=now)
    return instruction.send_questionnaires(world.agent, case, now=now, **send)


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def at_case(world, **answers) -> Case:
    reference = make_declaration(world.employer, world.metz, valid_answers(**answers))
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.reference == reference))


def with_cmi(world, case: Case, days_ago: int = 40) -> Case:
    """The declaration received ``days_ago`` days ago, its CMI the same day (D0 then)."""
    past = datetime.now(UTC) - timedelta(days=days_ago)
    db.session.execute(
        update(Declaration)
        .where(Declaration.id == case.declaration_id)
        .values(
            submitted_at=past,
            accident_at=past - timedelta(days=1),
            accident_on=(past - timedelta(days=1)).date(),
            reserves_due_on=(past - timedelta(days=5)).date(),
        )
    )
    db.session.commit()
    # The CMI's day is the caisse's local day of the receipt (Paris time here), not the UTC date.
    dat_service.record_cmi(world.agent, case.reference, local_date(past, world.metz.departement))
    db.session.expire_all()
    return db.session.get(Case, case.id)


def test_an_at_case_opens_from_the_received_declaration_in_the_victims_cpam(world):
    case = at_case(world)
    assert case.kind == "AT" and case.stage == Stage.A_OUVRIR
    assert case.caisse_id == world.cpam_57.id and case.victim_departement == "57"
    assert case.victim_nir and "rue Mazelle" in case.victim_address
    assert case.d0 is None and case.next_due_on is None  # no CMI yet: no calendar
    case = with_cmi(world, case)
    dates = calendar.dates_of(case)
    assert case.d0 == case.cmi_received_on
    assert {DateKind.DECIDE_OR_INVESTIGATE, DateKind.DOSSIER_AVAILABLE, DateKind.DECISION_BY} <= set(dates)
    assert dates[DateKind.DECISION_BY].legal_basis == "CSS R441-8 I"
    assert case.next_due_on == dates[DateKind.DECIDE_OR_INVESTIGATE].computed_on


def test_another_caisse_gets_404_on_the_case(world):
    case = at_case(world)
    with pytest.raises(HTTPException) as refused:
        cases.case_for_agent(world.agent_75, case.reference)
    assert refused.value.code == 404
    assert cases.case_for_agent(world.agent, case.reference).id == case.id
    assert cases.queue(world.agent_75).total == 0


def test_sending_the_questionnaires_issues_both_letters_once_and_a_retry_makes_none(world):
    case = with_cmi(world, at_case(world))
    outcome = open_and_send(world, case, access_code="ABCD-1234")
    assert outcome.done and outcome.case.stage == Stage.QUESTIONNAIRES
    assert not instruction.send_questionnaires(world.agent, case).done
    assert not instruction.open_instruction(world.agent, case).done
    rows = letters.letters_of(case)
    assert [(r.party, r.letter_type) for r in rows] == [
        ("employeur", "ouverture_instruction"),
        ("victime", "ouverture_instruction"),
    ]
    assert (
        db.session.scalar(
            select(func.count(Letter.id)).where(
                Letter.case_reference == case.reference, Letter.letter_type != "accuse_reception"
            )
        )
        == 1
    )
    employer_pdf = pdf_text(letters.content(rows[0]))
    victim_pdf = pdf_text(letters.content(rows[1]))
    due = calendar.dates_of(case)[DateKind.QUESTIONNAIRE_DUE]
    assert due.notified_on == due.computed_on and due.length == 20
    assert "Date limite de réponse" in employer_pdf and "ABCD-1234" not in employer_pdf
    assert "ABCD-1234" in victim_pdf and "expire le" in victim_pdf
    assert case.closes_at is not None and case.employer_model == "exemple-temoins"
    workflow = instruction.questionnaire_of(case, Party.VICTIM)
    assert workflow is not None and workflow.model.code == "exemple-temoins"


def test_a_fatal_accident_gets_an_enquiry_without_questionnaire(world):
    answers = valid_answers()
    answers["lesions"]["consequences"] = "deces"
    answers["lesions"]["date_deces"] = answers["accident"]["date_accident"]
    reference = make_declaration(world.employer, world.metz, answers)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case.fatal
    case = with_cmi(world, case)
    outcome = instruction.open_instruction(world.agent, case)
    assert outcome.case.stage == Stage.ENQUETE
    assert DateKind.QUESTIONNAIRE_DUE not in calendar.dates_of(case)
    assert "enquête" in pdf_text(letters.content(letters.letters_of(case)[0]))
    # No model to choose, no questionnaire to send: both steps refused, nothing stored.
    for step in (
        partial(instruction.choose_models, employer_model=MODEL, victim_model=MODEL),
        instruction.send_questionnaires,
    ):
        with pytest.raises(instruction.StepRefused) as refused:
            step(world.agent, case)
        assert "sans questionnaire" in refused.value.errors["etape"]
    assert case.employer_model is None and len(letters.letters_of(case)) == 2


def test_an_unlawful_schedule_is_refused_with_the_lawful_dates(world):
    case = with_cmi(world, at_case(world), days_ago=10)
    open_and_send(world, case)
    today = local_today()
    with pytest.raises(instruction.StepRefused) as refused:
        scheduling.schedule_consultation(
            world.agent, case, opening=today + timedelta(days=3), decision_on=today + timedelta(days=5)
        )
    assert "au moins 10 jours francs" in refused.value.errors["opening"]
    assert "au plus tôt le" in refused.value.errors["opening"]
    assert "pendant la consultation" in refused.value.errors["decision_on"]
    assert letters.letter_of(case, LetterType.INFORMATION_CONSULTATION, Party.EMPLOYER) is None
    db.session.expire_all()
    assert db.session.get(Case, case.id).stage == Stage.QUESTIONNAIRES


def lawful_schedule(world, case):
    today = local_today()
    opening = today + timedelta(days=30)
    return scheduling.schedule_consultation(
        world.agent, case, opening=opening, decision_on=opening + timedelta(days=14)
    )


def test_consultation_then_decision_with_recourse_notice_exactly_once(world):
    case = with_cmi(world, at_case(world), days_ago=5)
    open_and_send(world, case)
    assert lawful_schedule(world, case).done
    assert not lawful_schedule(world, case).done  # a retried request
    assert letters.has_information(case, Party.EMPLOYER) and letters.has_information(case, Party.VICTIM)
    # During the observation window the decision is refused.
    with pytest.raises(instruction.StepRefused) as refused:
        case_decision.record_decision(world.agent, case, decision="reconnu")
    assert "consultation du dossier avec" in refused.value.errors["decision"]
    later = datetime.now(UTC) + timedelta(days=50)
    with pytest.raises(instruction.StepRefused) as refused:
        case_decision.record_decision(world.agent, case, decision="refuse", now=later)
    assert "Motivez le refus" in refused.value.errors["reasons"]
    outcome = case_decision.record_decision(
        world.agent, case, decision="refuse", reasons="Aucun fait accidentel établi.", now=later
    )
    assert outcome.done and outcome.case.stage == Stage.DECIDE and outcome.case.next_due_on is None
    assert not case_decision.record_decision(world.agent, case, decision="reconnu", now=later).done
    row = letters.letter_of(case, LetterType.NOTIFICATION_DECISION, Party.EMPLOYER)
    text = pdf_text(letters.content(row))
    assert "commission de recours amiable" in text and "deux mois" in text and "Aucun fait accidentel" in text
    assert (
        db.session.scalar(
            select(func.count(Letter.id)).where(
                Letter.case_reference == case.reference, Letter.letter_type != "accuse_reception"
            )
        )
        == 3
    )


def test_a_decision_without_an_information_letter_needs_a_reason_which_is_audited(world):
    case = with_cmi(world, at_case(world), days_ago=5)
    open_and_send(world, case)
    with pytest.raises(instruction.StepRefused) as refused:
        case_decision.record_decision(world.agent, case, decision="reconnu")
    assert "employeur et victime" in refused.value.errors["without_information_reason"]
    outcome = case_decision.record_decision(
        world.agent, case, decision="reconnu", without_information_reason="Faits reconnus par l'employeur."
    )
    assert outcome.done
    assert (
        db.session.scalar(
            select(func.count(CaseEvent.id)).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.DECISION_WITHOUT_INFORMATION
            )
        )
        == 1
    )
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "qrpro.decision_without_information")
        )
        == 1
    )


def test_an_override_needs_a_reason_stays_lawful_and_a_notified_date_binds(world):
    case = with_cmi(world, at_case(world), days_ago=5)
    decision_by = calendar.dates_of(case)[DateKind.DECISION_BY]
    with pytest.raises(calendar.DateRefused) as refused:
        calendar.override(
            world.agent, case, DateKind.DECISION_BY, decision_by.computed_on - timedelta(days=3), ""
        )
    assert refused.value.field == "motif"
    with pytest.raises(calendar.DateRefused) as refused:
        calendar.override(
            world.agent, case, DateKind.DECISION_BY, decision_by.computed_on + timedelta(days=3), "Congés"
        )
    assert "au plus tard le" in refused.value.message
    row = calendar.override(
        world.agent, case, DateKind.DECISION_BY, decision_by.computed_on - timedelta(days=3), "Congés"
    )
    assert row.effective_on == decision_by.computed_on - timedelta(days=3) and row.override_reason == "Congés"
    open_and_send(world, case)
    assert calendar.dates_of(case)[DateKind.DECISION_BY].notified_on == row.override_on
    with pytest.raises(calendar.DateRefused) as refused:
        calendar.override(
            world.agent, case, DateKind.DECISION_BY, row.override_on - timedelta(days=1), "Autre"
        )
    assert "fait foi" in refused.value.message


def registration(world, **changes) -> cases.MpRegistration:
    today = local_today()
    values = {
        "nir": make_nir("F", date(1980, 3, 1)),
        "victim_name": "DURAND Lucie",
        "address": "3 rue des Jardins",
        "postal_code": "57050",
        "city": "Metz",
        "siret": world.metz.siret,
        "table": "57 A",
        "disease_label": "Tendinopathie de la coiffe des rotateurs",
        "first_finding_on": today - timedelta(days=40),
        "declaration_received_on": today - timedelta(days=20),
        "cmi_received_on": today - timedelta(days=15),
    }
    values.update(changes)
    return cases.MpRegistration(**values)


def test_an_mp_case_is_registered_with_d0_the_later_receipt(world):
    registered = cases.register_mp(world.agent, registration(world))
    assert not registered.errors
    case = registered.case
    assert case.reference.startswith("MP-") and case.d0 == local_today() - timedelta(days=15)
    assert case.caisse_id == world.cpam_57.id and case.disease_table == "57 A"
    assert calendar.dates_of(case)[DateKind.DECISION_BY].length == 120
    assert DateKind.DECIDE_OR_INVESTIGATE not in calendar.dates_of(case)


def test_a_bad_mp_registration_gets_french_messages_and_stores_nothing(world):
    registered = cases.register_mp(
        world.agent,
        registration(
            world,
            nir="185057800604823",
            siret="12345678901234",
            table="",
            postal_code="75011",
            cmi_received_on=local_today() + timedelta(days=2),
        ),
    )
    assert set(registered.errors) == {"nir", "siret", "table", "postal_code", "cmi_received_on"}
    assert "ne relève pas de votre caisse" in registered.errors["postal_code"]
    assert "futur" in registered.errors["cmi_received_on"]
    assert db.session.scalar(select(func.count(Case.id)).where(Case.kind == "MP")) == 0
    hors = cases.register_mp(world.agent, registration(world, table="", hors_tableau=True))
    assert not hors.errors and hors.case.disease_table is None


def test_the_queue_is_sorted_by_the_next_date_and_scoped_to_the_caisse(world):
    first = cases.register_mp(
        world.agent, registration(world, cmi_received_on=local_today() - timedelta(days=2))
    )
    second = cases.register_mp(
        world.agent, registration(world, cmi_received_on=local_today() - timedelta(days=90))
    )
    other_agent = make_user(
        "agent@cpam69.fr", kind=UserKind.CPAM, caisse_id=make_caisse("CPAM du Rhône", departements="69").id
    )
    db.session.commit()
    page = cases.queue(world.agent)
    assert [c.id for c in page.items] == [second.case.id, first.case.id]
    assert cases.queue(other_agent).total == 0
    assert Service.QRPRO


def test_declarations_received_before_qrpro_get_their_case_from_the_command(app, world):
    case = with_cmi(world, at_case(world))
    reference, d0 = case.reference, case.d0
    for model in (CaseEvent, CaseDate):
        db.session.execute(delete(model).where(model.case_id == case.id))
    db.session.execute(delete(Case).where(Case.id == case.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["qrpro", "ouvrir-dossiers"])
    assert "1 dossier(s)" in result.output, result.output
    db.session.expire_all()
    again = db.session.scalar(select(Case).where(Case.reference == reference))
    assert again.d0 == d0 and again.caisse_id == world.cpam_57.id and again.next_due_on is not None
    assert "0 dossier(s)" in app.test_cli_runner().invoke(args=["qrpro", "ouvrir-dossiers"]).output


def test_the_cpam_covers_the_employer_of_an_mp_case_outside_its_departements(world):
    from app.services import access

    assert not access.caisse_covers(world.cpam_57, world.paris)
    registered = cases.register_mp(world.agent, registration(world, siret=world.paris.siret))
    assert registered.case is not None and registered.case.caisse_id == world.cpam_57.id
    assert access.caisse_covers(world.cpam_57, world.paris)
    assert not access.caisse_covers(world.cpam_75, world.metz)


def test_the_parties_start_their_drafts_on_the_chosen_model_within_the_case_window(app, world):
    from app.services import drafts

    case = with_cmi(world, at_case(world), days_ago=5)
    victim = make_user("victime@exemple.fr", kind=UserKind.VICTIM, full_name="Victime")
    case.victim_id = victim.id
    db.session.commit()
    open_and_send(world, case)
    with app.test_request_context():
        draft = drafts.start_case_draft(
            victim, instruction.questionnaire_of(case, Party.VICTIM), case, Party.VICTIM
        )
    assert draft.case_id == case.id and draft.party == "victime"
    db.session.execute(
        update(Case).where(Case.id == case.id).values(closes_at=datetime.now(UTC) - timedelta(days=1))
    )
    db.session.execute(delete(type(draft)).where(type(draft).id == draft.id))
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    with app.test_request_context(), pytest.raises(drafts.DraftClosed):
        drafts.start_case_draft(victim, instruction.questionnaire_of(case, Party.VICTIM), case, Party.VICTIM)


def test_a_recognised_case_becomes_a_claim_on_the_employers_account_once(world):
    """Compte AT/MP (issue 15): a recognition weighs on the employer's rate — its claim, imputed to the
    year of the decision, recorded with it; a refusal records none; a retried decision adds none."""
    refused_case = with_cmi(world, at_case(world), days_ago=5)
    open_and_send(world, refused_case)
    lawful_schedule(world, refused_case)
    later = datetime.now(UTC) + timedelta(days=50)
    case_decision.record_decision(
        world.agent, refused_case, decision="refuse", reasons="Non établi.", now=later
    )
    assert db.session.scalar(select(func.count(Claim.id))) == 0

    case = with_cmi(world, at_case(world), days_ago=5)
    open_and_send(world, case)
    lawful_schedule(world, case)
    assert case_decision.record_decision(world.agent, case, decision="reconnu", now=later).done
    assert not case_decision.record_decision(world.agent, case, decision="reconnu", now=later).done
    (claim,) = db.session.scalars(select(Claim))
    assert claim.reference == case.reference and claim.establishment_id == case.establishment_id
    assert claim.kind == "at" and claim.imputation_year == later.year
