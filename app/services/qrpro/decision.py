"""Step 5 of an instruction (issue 13, item 4; SPEC §3): record the decision — refused during the
consultation with observations and the employer's reserves window, and while a party lacks its
information unless the agent says why —, its letter with the recourse notice to every party, the
declaration's status, and a recognised case's claim on the employer's Compte AT/MP.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from app.domain import dat as dat_rules
from app.domain import qrpro as rules
from app.domain.calendars import local_date
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.lucie import LetterType
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import Case, Declaration, User
from app.models.types import utcnow
from app.services import audit
from app.services.compte import claims as compte_claims

from . import calendar, letters
from .instruction import (
    NOT_OPEN,
    StepOutcome,
    StepRefused,
    _commit_once,
    _declaration_status,
    _departement,
    _event,
    _refused,
)
from .scheduling import _reserves_last_day


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
        raise _refused(NOT_OPEN)
    if case.stage == Stage.OUVERTE:
        raise _refused(
            "Envoyez d'abord les questionnaires aux parties : la caisse ne décide pas sans les avoir "
            "interrogées (CSS R441-8, R461-9)."
        )
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
    _declaration_status(
        case,
        agent,
        dat_rules.Status.PRISE_EN_CHARGE if chosen == rules.Decision.RECONNU else dat_rules.Status.REFUS,
        moment,
        "Décision QR Pro notifiée",
    )
    if chosen == rules.Decision.RECONNU:
        _impute(case, agent, today)
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


def _impute(case: Case, agent: User, recognised_on: date) -> None:
    """A recognised case weighs on the employer's rate (Compte AT/MP, SPEC §5): its claim, imputed to the
    year of recognition, in the decision's transaction. Its stoppage days and IP rate come later, with
    the Carsat's claims import (same reference). A claim that cannot be recorded (the reference already
    imputed to another establishment) does not stop the decision, a legal act: it is audited for the
    Carsat to settle."""
    declaration = db.session.get(Declaration, case.declaration_id) if case.declaration_id else None
    try:
        compte_claims.record_recognised_case(
            establishment=case.establishment,
            case_reference=case.reference,
            kind=str(case.kind).lower(),
            recognised_on=recognised_on,
            imputation_year=recognised_on.year,
            death=case.fatal,
            commuting=bool(declaration and declaration.is_trajet),
            actor=agent,
            commit=False,
        )
    except compte_claims.CaseRefused as refused:
        audit.record(
            "qrpro.claim_not_imputed",
            "case_file",
            case.id,
            establishment_id=case.establishment_id,
            actor=agent,
            reason=str(refused),
        )
