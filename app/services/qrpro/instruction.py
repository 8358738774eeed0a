"""The agent's steps of an instruction (issue 13, item 4; SPEC §3): open it and send the questionnaires (or
open the enquiry of a fatal accident), schedule the consultation, record the decision. Each step changes the
case's stage here and nowhere else, stores its dates, issues its letters (app/services/qrpro/letters.py) and
its timeline events, in one transaction. A step already done returns the case as it is (``done=False``): a
retried request makes no second letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain import instruction
from app.domain import qrpro as rules
from app.domain.calendars import local_date, timezone_for
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.deadlines import JOURS_FRANCS
from app.domain.lucie import LetterType, deemed_notification
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import Case, CaseEvent, Declaration, Service, User
from app.models.types import utcnow
from app.services import audit, form_models
from app.services.lucie.dates import current_rule

from . import access_codes, calendar, letters

WHOSE = {Party.EMPLOYER: "de l'employeur", Party.VICTIM: "de la victime"}


class StepRefused(Exception):
    """A step that cannot be taken: ``errors`` maps a form field to its French message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class StepOutcome:
    case: Case
    done: bool  # False: the step had been taken already (a retried request): nothing new


def _departement(case: Case) -> str:
    return case.establishment.departement


def _deemed_received_on(case: Case, now: datetime) -> date:
    """The day a letter deposited ``now`` is deemed received at the latest (SPEC §4: first consultation, or
    deposit + 15 days under the statute's reading) — the day the parties' délais are counted from."""
    return deemed_notification(now, None, _departement(case), current_rule().reading).date()


def _end_of_day(day: date, departement: str) -> datetime:
    """The first instant after local day ``day`` (a due date runs through the end of its day)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone_for(departement)).astimezone(UTC)


def questionnaire_models(party: Party) -> list[tuple[str, str]]:
    """(code, title) of the published form models a party's questionnaire may be answered on."""
    choices = []
    for workflow in form_models.published_workflows():
        model = workflow.model
        if model is None or workflow.service != Service.QRPRO or "case_party" not in model.subjects:
            continue
        choices.append((model.code, workflow.title))
    preferred = f"-{party}"  # qr-at-employeur, qr-mp-victime: listed first for their party
    return sorted(choices, key=lambda choice: (not choice[0].endswith(preferred), choice[1]))


def _event(case: Case, kind: EventKind, agent: User, at: datetime, party: Party | None = None, **details):
    db.session.add(
        CaseEvent(
            case_id=case.id,
            party=str(party) if party is not None else None,
            at=at,
            kind=str(kind),
            user_id=agent.id,
            details=details,
        )
    )


def _commit_once(case: Case, issue, done_stage_check) -> StepOutcome:
    """Issue the step's letters and commit; when the same step raced in from another request (a double
    click: the case letter's unique row, or the LUCIE Idempotency-Key, is taken), its letters are the ones."""
    try:
        issue()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        fresh = db.session.get(Case, case.id)
        db.session.refresh(fresh)
        if not done_stage_check(fresh):
            raise
        return StepOutcome(fresh, done=False)
    return StepOutcome(case, done=True)


# --- 1. opening -------------------------------------------------------------------------------------------


def open_instruction(
    agent: User,
    case: Case,
    *,
    employer_model: str | None = None,
    victim_model: str | None = None,
    access_code: str | None = None,
    now: datetime | None = None,
) -> StepOutcome:
    """Open the instruction: questionnaires to the employer and the victim on the chosen models, due 20 (AT)
    or 30 (MP) jours francs after their deemed receipt — the case's window closes then —, or a compulsory
    enquiry without questionnaire after a fatal accident (CSS R441-8 I). The opening letter states the
    expiry of the 90/120-day délai. Raises :class:`StepRefused`."""
    if case.stage != Stage.A_OUVRIR:
        return StepOutcome(case, done=False)
    if case.d0 is None:
        raise StepRefused(
            {
                "d0": "D0 est inconnue : enregistrez d'abord la date de réception du certificat médical "
                "initial "
                "(D0 est le jour où la caisse détient la déclaration et le certificat)"
            }
        )
    means = instruction.investigation_means(case.kind, fatal=case.fatal)
    moment = now or utcnow()
    departement = _departement(case)
    if means.questionnaires:
        errors = {}
        for field, code, party in (
            ("employer_model", employer_model, Party.EMPLOYER),
            ("victim_model", victim_model, Party.VICTIM),
        ):
            codes = {choice[0] for choice in questionnaire_models(party)}
            if not code:
                errors[field] = f"Choisissez le questionnaire {WHOSE[party]}"
            elif code not in codes:
                errors[field] = "Ce modèle de questionnaire n'est pas publié : choisissez-en un de la liste"
        if errors:
            raise StepRefused(errors)
        received = _deemed_received_on(case, moment)
        due = instruction.questionnaire_due(case.kind, received, departement)
        calendar.put(case, DateKind.QUESTIONNAIRE_DUE, due)
        due_day = (
            due.due if isinstance(due.due, date) and not isinstance(due.due, datetime) else due.due.date()
        )
        case.employer_model, case.victim_model = employer_model, victim_model
        case.opens_at = moment
        case.closes_at = _end_of_day(due_day, departement)
        case.stage = Stage.QUESTIONNAIRES
    else:
        case.stage = Stage.ENQUETE
    case.instruction_opened_at = moment
    if access_code is None and means.questionnaires and case.victim_id is None:
        # The victim's one-time code, printed in their opening letter (issue 13, item 6); in this
        # transaction, so that the letter and the code exist together or not at all.
        access_code = access_codes.issue_access_code(case, by=agent)
    calendar.mark_notified(case, [DateKind.QUESTIONNAIRE_DUE, DateKind.DECISION_BY])
    calendar.refresh_next_due(case)
    _event(
        case,
        EventKind.INSTRUCTION_OPENED if means.questionnaires else EventKind.ENQUIRY_OPENED,
        agent,
        moment,
    )
    issue = partial(
        letters.issue,
        case,
        LetterType.OUVERTURE_INSTRUCTION,
        agent,
        means=means,
        dates=calendar.dates_of(case),
        access_code=access_code,
    )
    if means.questionnaires:
        for party, code in ((Party.EMPLOYER, employer_model), (Party.VICTIM, victim_model)):
            _event(case, EventKind.QUESTIONNAIRE_SENT, agent, moment, party, model=code)
    audit.record(
        "qrpro.open",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        fatal=case.fatal,
    )
    return _commit_once(case, issue, lambda fresh: fresh.stage != Stage.A_OUVRIR)


# --- 2. the consultation ----------------------------------------------------------------------------------


def _reserves_last_day(case: Case) -> date | None:
    if case.declaration_id is None:
        return None
    declaration = db.session.get(Declaration, case.declaration_id)
    return declaration.reserves_due_on if declaration is not None else None


def _field_of(message: str) -> str:
    return "opening" if message.startswith(("La consultation", "Avec une information")) else "decision_on"


def schedule_consultation(
    agent: User, case: Case, *, opening: date | None, decision_on: date | None, now: datetime | None = None
) -> StepOutcome:
    """Schedule the consultation of the dossier and the decision, and inform both parties: refused with
    ``check_schedule``'s French messages (earliest and latest lawful dates) when the schedule breaks the law —
    the 10-day notice counted from the information's deemed receipt, the dossier's D0 + 70/100, the 10 days
    with observations, the employer's reserves window, the D0 + 90/120 limit."""
    if case.stage in (Stage.CONSULTATION, Stage.DECIDE):
        return StepOutcome(case, done=False)
    if case.stage == Stage.A_OUVRIR:
        raise StepRefused({"opening": "Ouvrez d'abord l'instruction du dossier"})
    errors = {}
    if opening is None:
        errors["opening"] = "Saisissez la date d'ouverture de la consultation du dossier"
    if decision_on is None:
        errors["decision_on"] = "Saisissez la date prévue de la décision"
    if errors:
        raise StepRefused(errors)
    moment = now or utcnow()
    departement = _departement(case)
    received = _deemed_received_on(case, moment)
    problems = instruction.check_schedule(
        case.kind,
        case.d0,
        departement,
        information_received_on=received,
        opening=opening,
        decision_on=decision_on,
        reserves_window_end=_reserves_last_day(case),
    )
    for message in problems:
        field = _field_of(message)
        errors[field] = f"{errors[field]} {message}" if field in errors else message
    if errors:
        raise StepRefused(errors)
    floor = instruction.earliest_opening(received, departement, kind=case.kind)
    calendar.put(
        case,
        DateKind.CONSULTATION_OPENING,
        on=opening,
        legal_basis=floor.legal_basis,
        start_event=floor.start_event,
        started_on=received,
        length=instruction.NOTICE_DAYS,
        unit=JOURS_FRANCS,
        rule_version=floor.rule_version,
    )
    window = instruction.observation_window(opening, departement, kind=case.kind)
    calendar.put(case, DateKind.OBSERVATIONS_END, window.last_day)
    calendar.put(
        case,
        DateKind.DECISION_PLANNED,
        on=decision_on,
        legal_basis=rules.legal_basis(case.kind, DateKind.DECISION_BY),
        start_event="fin de la consultation avec observations",
    )
    calendar.mark_notified(
        case, [DateKind.CONSULTATION_OPENING, DateKind.OBSERVATIONS_END, DateKind.DECISION_PLANNED]
    )
    case.stage = Stage.CONSULTATION
    calendar.refresh_next_due(case)
    _event(
        case,
        EventKind.CONSULTATION_SCHEDULED,
        agent,
        moment,
        opening=opening.isoformat(),
        observations_until=calendar.effective(case, DateKind.OBSERVATIONS_END).isoformat(),
        decision_on=decision_on.isoformat(),
    )
    issue = partial(
        letters.issue, case, LetterType.INFORMATION_CONSULTATION, agent, dates=calendar.dates_of(case)
    )
    audit.record(
        "qrpro.consultation", "case_file", case.id, establishment_id=case.establishment_id, actor=agent
    )
    return _commit_once(case, issue, lambda fresh: fresh.stage in (Stage.CONSULTATION, Stage.DECIDE))


# --- 3. the decision --------------------------------------------------------------------------------------


def missing_information(case: Case) -> list[Party]:
    """The parties without their information letter on the consultation (issue 13, item 8)."""
    return [party for party in (Party.EMPLOYER, Party.VICTIM) if not letters.has_information(case, party)]


def record_decision(
    agent: User,
    case: Case,
    *,
    decision: str | None,
    reasons: str = "",
    without_information_reason: str = "",
    now: datetime | None = None,
) -> StepOutcome:
    """Record the decision (recognised / refused with its reasons) and notify it to both parties with the
    recourse notice (commission de recours amiable, 2 months). Refused during the consultation with
    observations and during the employer's reserves window; blocked while a party lacks its information
    letter unless the agent gives a reason (audited)."""
    if case.stage == Stage.DECIDE:
        return StepOutcome(case, done=False)
    if case.stage == Stage.A_OUVRIR:
        raise StepRefused({"decision": "Ouvrez d'abord l'instruction du dossier"})
    errors = {}
    try:
        chosen = rules.Decision(decision or "")
    except ValueError:
        chosen = None
        errors["decision"] = "Choisissez la décision : prise en charge ou refus"
    reasons = (reasons or "").strip()
    if chosen == rules.Decision.REFUSE and not reasons:
        errors["reasons"] = "Motivez le refus : les motifs figurent dans la notification"
    moment = now or utcnow()
    departement = _departement(case)
    today = local_date(moment, departement)
    window_end = calendar.effective(case, DateKind.OBSERVATIONS_END)
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    if window_end is not None and opening is not None and today <= window_end:
        errors["decision"] = (
            f"La décision ne peut pas être prise le {french_day(today)} : la consultation du dossier avec "
            f"observations court du {french_day(opening)} au {french_day(window_end)} inclus. "
            "Décision possible "
            f"au plus tôt le {french_day(window_end + timedelta(days=1))}."
        )
    reserves = _reserves_last_day(case)
    if reserves is not None and today <= reserves:
        errors["decision"] = (
            f"La décision ne peut pas être prise le {french_day(today)} : l'employeur peut émettre des "
            "réserves "
            f"motivées jusqu'au {french_day(reserves)} inclus (10 jours francs, CSS R441-6)."
        )
    missing = missing_information(case)
    justification = (without_information_reason or "").strip()
    if missing and not justification:
        names = " et ".join(party.label.lower() for party in missing)
        errors["without_information_reason"] = (
            f"Partie sans courrier d'information sur la consultation du dossier : {names}. La décision "
            "risque d'être inopposable ; indiquez le motif pour lequel vous décidez malgré tout "
            "(il est tracé)."
        )
    if errors:
        raise StepRefused(errors)
    case.decision = str(chosen)
    case.decision_reasons = reasons
    case.decided_at = moment
    case.stage = Stage.DECIDE
    case.next_due_on = None
    if case.closes_at is None or case.closes_at > moment:
        case.closes_at = moment  # after the decision the case is closed (SPEC §3.2)
    if missing:
        _event(
            case,
            EventKind.DECISION_WITHOUT_INFORMATION,
            agent,
            moment,
            parties=[str(party) for party in missing],
            reason=justification,
        )
        audit.record(
            "qrpro.decision_without_information",
            "case_file",
            case.id,
            establishment_id=case.establishment_id,
            actor=agent,
            parties=[str(party) for party in missing],
            reason=justification,
        )
    _event(case, EventKind.DECISION, agent, moment, decision=str(chosen))
    issue = partial(
        letters.issue,
        case,
        LetterType.NOTIFICATION_DECISION,
        agent,
        decision=chosen,
        recourse=rules.RECOURSE_NOTICE,
        decided_on=today,
    )
    audit.record(
        "qrpro.decision",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        decision=str(chosen),
    )
    return _commit_once(case, issue, lambda fresh: fresh.stage == Stage.DECIDE)


def case_by_id(case_id: int) -> Case | None:
    return db.session.scalar(select(Case).where(Case.id == case_id))


def questionnaire_of(case: Case, party: Party):
    """The workflow a party answers its questionnaire on (the model the agent chose when opening the
    instruction, its current published version), None when no questionnaire was sent. The party's screen
    starts or resumes its draft with ``drafts.start_case_draft(user, workflow, case, party)``: the case's
    window (``opens_at``/``closes_at``, the due date) closes it."""
    code = case.employer_model if party == Party.EMPLOYER else case.victim_model
    return form_models.current_workflow(code) if code else None
