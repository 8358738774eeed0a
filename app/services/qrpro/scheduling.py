"""Step 4 of an instruction (issue 13, item 4; SPEC §3 and §6): schedule the consultation of the dossier
and move it once notified, with a reason — the dates checked by ``app.domain.instruction.check_schedule``
(the parties' 10 jours francs of notice, the observations, D0 + 70/100 and 90/120, the employer's reserves
window), stored as notified, and the information letter issued to every party (the next edition for a
move). The other steps: ``instruction.py`` (opening, models, questionnaires) and ``decision.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from app.domain import instruction
from app.domain import qrpro as rules
from app.domain.calendars import local_date
from app.domain.cases import Party
from app.domain.deadlines import JOURS_FRANCS
from app.domain.lucie import LetterType
from app.domain.qrpro import DateKind, EventKind, Stage
from app.models import Case, User
from app.models.types import utcnow
from app.services import audit

from . import calendar, letters
from .instruction import (
    NOT_OPEN,
    StepOutcome,
    StepRefused,
    _commit_once,
    _declaration,
    _deemed_received_on,
    _departement,
    _event,
    _refused,
)


def _reserves_last_day(case: Case) -> date | None:
    declaration = _declaration(case)
    return declaration.reserves_due_on if declaration is not None else None


def _field_of(message: str) -> str:
    return "opening" if message.startswith(("La consultation", "Avec une information")) else "decision_on"


def _check_schedule(case: Case, opening: date | None, decision_on: date | None, received: date, errors):
    """``check_schedule``'s French messages (earliest and latest lawful dates) by form field, with the
    information's deemed receipt ``received``."""
    if opening is None:
        errors["opening"] = "Saisissez la date d'ouverture de la consultation du dossier"
    if decision_on is None:
        errors["decision_on"] = "Saisissez la date prévue de la décision"
    if opening is None or decision_on is None:
        return
    problems = instruction.check_schedule(
        case.kind,
        case.d0,
        _departement(case),
        information_received_on=received,
        opening=opening,
        decision_on=decision_on,
        reserves_window_end=_reserves_last_day(case),
    )
    for message in problems:
        field = _field_of(message)
        errors[field] = f"{errors[field]} {message}" if field in errors else message


def _put_schedule(case: Case, opening: date, decision_on: date, received: date) -> None:
    """Store the consultation's dates — the opening (10 j.f. notice from ``received``), the end of the
    observations, the planned decision — as the ones the new information letter notifies (they bind)."""
    departement = _departement(case)
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
    calendar.notify(case, CONSULTATION_DATES)


CONSULTATION_DATES = (DateKind.CONSULTATION_OPENING, DateKind.OBSERVATIONS_END, DateKind.DECISION_PLANNED)


def _schedule_details(case: Case) -> dict[str, str]:
    return {
        "opening": calendar.effective(case, DateKind.CONSULTATION_OPENING).isoformat(),
        "observations_until": calendar.effective(case, DateKind.OBSERVATIONS_END).isoformat(),
        "decision_on": calendar.effective(case, DateKind.DECISION_PLANNED).isoformat(),
    }


def schedule_consultation(
    agent: User, case: Case, *, opening: date | None, decision_on: date | None, now: datetime | None = None
) -> StepOutcome:
    """Schedule the consultation of the dossier and the decision, and inform both parties: refused with
    ``check_schedule``'s French messages (earliest and latest lawful dates) when the schedule breaks the law —
    the 10-day notice counted from the information's deemed receipt, the dossier's D0 + 70/100, the 10 days
    with observations, the employer's reserves window, the D0 + 90/120 limit. Once notified, it is moved
    with :func:`reschedule_consultation`."""
    if case.stage in (Stage.CONSULTATION, Stage.DECIDE):
        return StepOutcome(case, done=False)
    if case.stage == Stage.A_OUVRIR:
        raise _refused(NOT_OPEN)
    if case.stage == Stage.OUVERTE:
        raise _refused(
            "Envoyez d'abord les questionnaires aux parties : la consultation du dossier vient après."
        )
    moment = now or utcnow()
    received = _deemed_received_on(case, moment)
    errors = {}
    _check_schedule(case, opening, decision_on, received, errors)
    if errors:
        raise StepRefused(errors)
    _put_schedule(case, opening, decision_on, received)
    case.stage = Stage.CONSULTATION
    calendar.refresh_next_due(case)
    _event(case, EventKind.CONSULTATION_SCHEDULED, agent, moment, **_schedule_details(case))
    issue = partial(
        letters.issue, case, LetterType.INFORMATION_CONSULTATION, agent, dates=calendar.dates_of(case)
    )
    audit.record(
        "qrpro.consultation", "case_file", case.id, establishment_id=case.establishment_id, actor=agent
    )
    return _commit_once(case, issue, lambda fresh: fresh.stage in (Stage.CONSULTATION, Stage.DECIDE))


def schedule_edition(case: Case) -> int:
    """Which schedule of the consultation the parties hold: 1 for the first information letter, 2 after
    one rescheduling… (0 before any). The agent's form carries it: a retried rescheduling is recognised."""
    return letters.editions(case, LetterType.INFORMATION_CONSULTATION)


def reschedule_consultation(
    agent: User,
    case: Case,
    *,
    opening: date | None,
    decision_on: date | None,
    reason: str,
    seen_edition: int | None = None,
    now: datetime | None = None,
) -> StepOutcome:
    """Move a notified consultation (and the planned decision), with a mandatory reason: the new dates
    are checked by the same rules as the first schedule, counted from the deemed receipt of the NEW
    letter (refused with the earliest and latest lawful dates); a new information letter goes to both
    parties (the next edition: LUCIE for the employer, the victim's space), the earlier letter stays, and
    the timeline shows both schedules. ``seen_edition``: the schedule the agent's page showed — when it
    has been moved since (a retried or doubled request), nothing is done again. Raises
    :class:`StepRefused`."""
    stage = Stage(case.stage)
    if stage == Stage.DECIDE:
        raise _refused("La décision est rendue : la consultation ne peut plus être reprogrammée.")
    if stage != Stage.CONSULTATION:
        raise _refused("Programmez d'abord la consultation du dossier : elle se reprogramme ensuite.")
    current = schedule_edition(case)
    if seen_edition is not None and seen_edition < current:
        return StepOutcome(case, done=False)
    moment = now or utcnow()
    received = _deemed_received_on(case, moment)
    errors = {}
    _check_schedule(case, opening, decision_on, received, errors)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Indiquez le motif du changement de dates : il est conservé et tracé"
    previous = _schedule_details(case)
    if not errors and (opening.isoformat(), decision_on.isoformat()) == (
        previous["opening"],
        previous["decision_on"],
    ):
        errors["opening"] = "Ces dates sont celles déjà notifiées aux parties : saisissez les nouvelles dates"
    if errors:
        raise StepRefused(errors)
    earlier = letters.letter_of(case, LetterType.INFORMATION_CONSULTATION, Party.EMPLOYER)
    _put_schedule(case, opening, decision_on, received)
    calendar.refresh_next_due(case)
    _event(
        case,
        EventKind.CONSULTATION_RESCHEDULED,
        agent,
        moment,
        reason=reason,
        previous=previous,
        **_schedule_details(case),
    )
    issue = partial(
        letters.issue,
        case,
        LetterType.INFORMATION_CONSULTATION,
        agent,
        edition=current + 1,
        dates=calendar.dates_of(case),
        previous={key: date.fromisoformat(value) for key, value in previous.items()},
        previous_letter_on=local_date(earlier.created_at, _departement(case)) if earlier else None,
    )
    audit.record(
        "qrpro.reschedule",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        previous=previous,
        new=_schedule_details(case),
        reason=reason,
    )
    return _commit_once(case, issue, lambda fresh: schedule_edition(fresh) > current)
