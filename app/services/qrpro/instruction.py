"""The agent's steps of an instruction (issue 13, item 4; SPEC §3), each one its own request, at its own
moment, in this order: open the instruction (the calendar from D0, shown; a fatal accident's enquiry
opens straight away, without questionnaire); choose the questionnaire models (each pinned to the version
published then); send the questionnaires (the opening letters, the victim's access code); schedule the
consultation, and move it if need be (a reason, a new letter); record the decision (which moves the
declaration's own status too). Each step changes the case's stage here and nowhere else, stores its
dates, issues its letters (app/services/qrpro/letters.py) and its timeline events, in one transaction; a
step out of order is refused with a French message. A step already done returns the case as it is
(``done=False``): a retried request makes no second letter.

This module holds steps 1 to 3 and what every step shares (``StepRefused``, ``StepOutcome``, the stage's
conditional change, the events, the declaration's status); the consultation's schedule is in
``scheduling.py``, the decision in ``decision.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.domain import dat as dat_rules
from app.domain import instruction
from app.domain.calendars import timezone_for
from app.domain.cases import Party
from app.domain.lucie import LetterType, deemed_notification
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import Case, CaseEvent, Declaration, Service, User
from app.models.types import utcnow
from app.services import audit, form_models
from app.services import dat as dat_service
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


# --- 1. opening ----------------------------------------------------------------------------------------

OUT_OF_ORDER = "etape"  # the key of a refusal that belongs to no field: the step itself


def _refused(message: str) -> StepRefused:
    return StepRefused({OUT_OF_ORDER: message})


NOT_OPEN = "Ouvrez d'abord l'instruction du dossier : le calendrier se calcule à l'ouverture."
FATAL = (
    "Accident mortel : la caisse mène une enquête, sans questionnaire (CSS R441-8 I) ; il n'y a pas de "
    "modèle à choisir ni de questionnaire à envoyer."
)


SENT_ALREADY = (
    "Les questionnaires ont été envoyés aux parties : les modèles choisis ne peuvent plus changer "
    "(les parties y répondent sur la version envoyée)."
)


def _declaration(case: Case) -> Declaration | None:
    return db.session.get(Declaration, case.declaration_id) if case.declaration_id else None


def _claim_stage(case: Case, before: Stage, after: Stage) -> bool:
    """Move the case from ``before`` to ``after`` in the database, unless another request did first (a
    double click on a step without letter): the UPDATE only matches while the stage is ``before``."""
    moved = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.stage == str(before))
        .values(stage=str(after))
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        case.stage = after
        return True
    db.session.rollback()
    return False


def _declaration_status(case: Case, agent: User, target: dat_rules.Status, moment: datetime, comment: str):
    """Move the declaration the AT case came from (its own status, shown to the employer on its DAT
    list and page) with the instruction, through THE declaration status service."""
    declaration = _declaration(case)
    if declaration is None or declaration.status == target:
        return
    try:
        if declaration.status == dat_rules.Status.TRANSMISE and target in dat_rules.DECISIONS:
            # A case opened before the declaration followed its instruction: « en instruction » first.
            dat_service.apply_status(
                agent, declaration, dat_rules.Status.EN_INSTRUCTION, comment=comment, now=moment
            )
        dat_service.apply_status(agent, declaration, target, comment=comment, now=moment, by_qrpro=True)
    except dat_rules.TransitionRefused as refused:
        db.session.rollback()
        raise _refused(str(refused)) from None


def open_instruction(agent: User, case: Case, *, now: datetime | None = None) -> StepOutcome:
    """Open the instruction (first step): the calendar is computed again from D0 and shown, the
    declaration goes « en instruction ». The questionnaires follow in two steps of their own (choose the
    models, send them); after a fatal accident the compulsory enquiry opens at once, without
    questionnaire (CSS R441-8 I), and its opening letter (the expiry of the 90 days) goes to both
    parties. Raises :class:`StepRefused`."""
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
    declaration = _declaration(case)
    if declaration is not None and declaration.status in dat_rules.DECISIONS:
        raise _refused(
            f"La caisse a déjà statué sur la déclaration (« {declaration.status_enum.label.lower()} ») : "
            "l'instruction ne peut plus être ouverte."
        )
    means = instruction.investigation_means(case.kind, fatal=case.fatal)
    moment = now or utcnow()
    departement = _departement(case)
    if not _claim_stage(case, Stage.A_OUVRIR, Stage.OUVERTE if means.questionnaires else Stage.ENQUETE):
        return StepOutcome(db.session.get(Case, case.id), done=False)
    case.instruction_opened_at = moment
    calendar.compute(case, departement)
    _declaration_status(case, agent, dat_rules.Status.EN_INSTRUCTION, moment, "Instruction QR Pro ouverte")
    audit.record(
        "qrpro.open",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        fatal=case.fatal,
    )
    if means.questionnaires:
        _event(case, EventKind.INSTRUCTION_OPENED, agent, moment)
        db.session.commit()
        return StepOutcome(case, done=True)
    calendar.mark_notified(case, [DateKind.DECISION_BY])
    calendar.refresh_next_due(case)
    _event(case, EventKind.ENQUIRY_OPENED, agent, moment)
    issue = partial(
        letters.issue,
        case,
        LetterType.OUVERTURE_INSTRUCTION,
        agent,
        means=means,
        dates=calendar.dates_of(case),
        access_code=None,
    )
    return _commit_once(case, issue, lambda fresh: fresh.stage != Stage.A_OUVRIR)


def questionnaire_due_if_sent(case: Case, now: datetime | None = None) -> date | None:
    """The questionnaires' due date if they were sent now (shown before sending: the délai runs from the
    letter's deemed receipt, so it is only fixed when the letter goes)."""
    if case.d0 is None:
        return None
    received = _deemed_received_on(case, now or utcnow())
    return _day(instruction.questionnaire_due(case.kind, received, _departement(case)).due)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- 2. the questionnaire models ----------------------------------------------------------------------


def _model_label(code: str, version: int | None) -> str:
    return f"{code} version {version}" if version is not None else code


def choose_models(
    agent: User,
    case: Case,
    *,
    employer_model: str | None,
    victim_model: str | None,
    now: datetime | None = None,
) -> StepOutcome:
    """Choose the questionnaire models of the employer and the victim (second step), each pinned to its
    version published now: a version published afterwards does not change this case's questionnaires.
    May be chosen again until the questionnaires are sent. Raises :class:`StepRefused`."""
    stage = Stage(case.stage)
    if stage == Stage.A_OUVRIR:
        raise _refused(NOT_OPEN)
    if not instruction.investigation_means(case.kind, fatal=case.fatal).questionnaires:
        raise _refused(FATAL)
    if stage != Stage.OUVERTE:
        raise _refused(SENT_ALREADY)
    errors = {}
    pinned = {}
    for field, code, party in (
        ("employer_model", employer_model, Party.EMPLOYER),
        ("victim_model", victim_model, Party.VICTIM),
    ):
        codes = {choice[0] for choice in questionnaire_models(party)}
        if not code:
            errors[field] = f"Choisissez le questionnaire {WHOSE[party]}"
        elif code not in codes:
            errors[field] = "Ce modèle de questionnaire n'est pas publié : choisissez-en un de la liste"
        else:
            pinned[party] = (code, form_models.current_workflow(code).model.version)
    if errors:
        raise StepRefused(errors)
    current = {party: case.questionnaire_model(str(party)) for party in pinned}
    if current == pinned:  # the same choice again (a retried request): nothing new
        return StepOutcome(case, done=False)
    moment = now or utcnow()
    (case.employer_model, case.employer_model_version), (case.victim_model, case.victim_model_version) = (
        pinned[Party.EMPLOYER],
        pinned[Party.VICTIM],
    )
    for party, (code, version) in pinned.items():
        _event(case, EventKind.MODEL_CHOSEN, agent, moment, party, model=_model_label(code, version))
    audit.record(
        "qrpro.models",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        employer=_model_label(*pinned[Party.EMPLOYER]),
        victim=_model_label(*pinned[Party.VICTIM]),
    )
    db.session.commit()
    return StepOutcome(case, done=True)


@dataclass(frozen=True)
class ChosenModel:
    """A party's questionnaire model as the case pinned it (shown on the agent's case page)."""

    party: Party
    code: str
    version: int | None
    title: str


def chosen_models(case: Case) -> list[ChosenModel]:
    chosen = []
    for party in (Party.EMPLOYER, Party.VICTIM):
        pinned = case.questionnaire_model(str(party))
        if pinned is not None:
            workflow = questionnaire_of(case, party)
            chosen.append(ChosenModel(party, *pinned, workflow.title if workflow else pinned[0]))
    return chosen


# --- 3. sending the questionnaires --------------------------------------------------------------------


def send_questionnaires(
    agent: User, case: Case, *, access_code: str | None = None, now: datetime | None = None
) -> StepOutcome:
    """Send the questionnaires (third step): the opening letter to both parties, the questionnaire due
    20 (AT) or 30 (MP) jours francs after its deemed receipt — the case's window closes then — and the
    expiry of the 90/120-day délai; the victim's copy prints their one-time access code, issued in the
    same transaction while the case has no victim account. Raises :class:`StepRefused`."""
    stage = Stage(case.stage)
    if stage == Stage.A_OUVRIR:
        raise _refused(NOT_OPEN)
    means = instruction.investigation_means(case.kind, fatal=case.fatal)
    if not means.questionnaires:
        raise _refused(FATAL)
    if stage != Stage.OUVERTE:
        return StepOutcome(case, done=False)
    if not (case.employer_model and case.victim_model):
        raise _refused("Choisissez d'abord les modèles de questionnaire de l'employeur et de la victime.")
    moment = now or utcnow()
    departement = _departement(case)
    received = _deemed_received_on(case, moment)
    due = instruction.questionnaire_due(case.kind, received, departement)
    calendar.put(case, DateKind.QUESTIONNAIRE_DUE, due)
    case.opens_at = moment
    case.closes_at = _end_of_day(_day(due.due), departement)
    case.stage = Stage.QUESTIONNAIRES
    if access_code is None and case.victim_id is None:
        # The victim's one-time code, printed in their opening letter (issue 13, item 6); in this
        # transaction, so that the letter and the code exist together or not at all.
        access_code = access_codes.issue_access_code(case, by=agent)
    calendar.mark_notified(case, [DateKind.QUESTIONNAIRE_DUE, DateKind.DECISION_BY])
    calendar.refresh_next_due(case)
    for party in (Party.EMPLOYER, Party.VICTIM):
        code, version = case.questionnaire_model(str(party))
        _event(case, EventKind.QUESTIONNAIRE_SENT, agent, moment, party, model=_model_label(code, version))
    issue = partial(
        letters.issue,
        case,
        LetterType.OUVERTURE_INSTRUCTION,
        agent,
        means=means,
        dates=calendar.dates_of(case),
        access_code=access_code,
    )
    audit.record("qrpro.send", "case_file", case.id, establishment_id=case.establishment_id, actor=agent)
    return _commit_once(case, issue, lambda fresh: fresh.stage != Stage.OUVERTE)


def case_by_id(case_id: int) -> Case | None:
    return db.session.scalar(select(Case).where(Case.id == case_id))


def questionnaire_of(case: Case, party: Party):
    """The workflow a party answers its questionnaire on: the model the agent chose, in the version it
    was pinned to then (None when none was chosen). The party's screen starts or resumes its draft with
    ``drafts.start_case_draft(user, workflow, case, party)``: the case's window (``opens_at``/
    ``closes_at``, the due date) closes it."""
    chosen = case.questionnaire_model(str(party))
    if chosen is None:
        return None
    code, version = chosen
    if version is None:  # chosen before versions were pinned, and never matched by migration 0022
        return form_models.current_workflow(code)
    return form_models.workflow_for(code, version)
