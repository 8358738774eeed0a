"""A case's stored calendar (issue 13, item 3; SPEC §3.1, §6): each legal date with its computed value, the
value a letter notified (it binds), and an agent's override with its mandatory reason (audited). The
dates come from app/domain/instruction.py; a schedule is checked there (``check_schedule``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.domain import instruction
from app.domain import qrpro as rules
from app.domain.dat import french_day
from app.domain.deadlines import Deadline
from app.domain.qrpro import DateKind
from app.extensions import db
from app.models import Case, CaseDate, CaseEvent, User
from app.models.types import utcnow
from app.services import audit


class DateRefused(Exception):
    """A date change refused: ``message`` is French, ``field`` the form field it belongs next to."""

    def __init__(self, message: str, field: str = "date"):
        super().__init__(message)
        self.message = message
        self.field = field


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def dates_of(case: Case) -> dict[DateKind, CaseDate]:
    return {DateKind(row.kind): row for row in case.dates}


def put(case: Case, kind: DateKind, deadline: Deadline | None = None, *, on: date | None = None, **record):
    """Store (or recompute) the date ``kind`` of ``case``: from a domain ``Deadline`` (its basis, event,
    length, unit and rule version come with it), or a plain date ``on`` with its ``record`` fields. A date
    already notified keeps its notified value; an override is kept."""
    row = dates_of(case).get(kind)
    if row is None:
        row = CaseDate(case_id=case.id, kind=str(kind), override_reason="")
        case.dates.append(row)
    if deadline is not None:
        row.legal_basis = deadline.legal_basis[:80]
        row.start_event = deadline.start_event[:200]
        row.started_on = _day(deadline.started_at)
        row.length = deadline.length
        row.unit = deadline.unit
        row.rule_version = deadline.rule_version[:40]
        row.computed_on = _day(deadline.due)
    else:
        row.legal_basis = record.get("legal_basis", rules.legal_basis(case.kind, kind))[:80]
        row.start_event = record.get("start_event", "")[:200]
        row.started_on = record.get("started_on")
        row.length = record.get("length")
        row.unit = record.get("unit", "")
        row.rule_version = record.get("rule_version", "")[:40]
        row.computed_on = on
    return row


def compute(case: Case, departement: str) -> None:
    """The délais from D0 (instruction_calendar), stored; nothing while D0 is unknown (no CMI yet)."""
    if case.d0 is not None:
        computed = instruction.instruction_calendar(case.kind, case.d0, departement)
        if computed.decide_or_investigate_by is not None:
            put(case, DateKind.DECIDE_OR_INVESTIGATE, computed.decide_or_investigate_by)
        put(case, DateKind.DOSSIER_AVAILABLE, computed.dossier_available_by)
        put(case, DateKind.DECISION_BY, computed.decision_by)
    refresh_next_due(case)


def effective(case: Case, kind: DateKind) -> date | None:
    row = dates_of(case).get(kind)
    return row.effective_on if row is not None else None


def refresh_next_due(case: Case) -> None:
    """The date the agent must act by next, per the case's stage (the work queue's sort key)."""
    case.next_due_on = None
    for kind in rules.NEXT_DATE_BY_STAGE[rules.Stage(case.stage)]:
        on = effective(case, kind)
        if on is not None:
            case.next_due_on = on
            return


def mark_notified(case: Case, kinds) -> None:
    """The dates a letter states: their notified value is the effective one at that moment (it binds)."""
    rows = dates_of(case)
    for kind in kinds:
        row = rows.get(kind)
        if row is not None and row.notified_on is None:
            row.notified_on = row.override_on or row.computed_on


def notify(case: Case, kinds) -> None:
    """The dates a NEW letter states (a rescheduled consultation): their notified value becomes the
    effective one now, replacing what an earlier letter notified (that letter and its dates stay in the
    case's letters and timeline)."""
    rows = dates_of(case)
    for kind in kinds:
        row = rows.get(kind)
        if row is not None:
            row.notified_on = row.override_on or row.computed_on


def lawful_range(case: Case, kind: DateKind, row: CaseDate) -> tuple[date, date]:
    """The dates an agent may set for ``kind``: the caisse's own délais may only come earlier (never past
    the legal limit, never before D0); a questionnaire's due date may only come later (the party keeps its
    20 or 30 jours francs), up to the dossier's availability."""
    if kind == DateKind.QUESTIONNAIRE_DUE:
        latest = effective(case, DateKind.DOSSIER_AVAILABLE) or row.computed_on
        return row.computed_on, max(latest, row.computed_on)
    return (case.d0 or row.computed_on) + timedelta(days=1), row.computed_on


def override(agent: User, case: Case, kind: str, on: date | None, reason: str) -> CaseDate:
    """The agent changes a computed date with a reason (audited). Refused: an unknown date, a missing
    reason, a date already notified in a letter (the letter binds), and a change that makes the case's
    schedule unlawful (``check_schedule``'s message, with the earliest and latest lawful dates)."""
    try:
        date_kind = DateKind(kind)
    except ValueError:
        raise DateRefused("Cette date n'existe pas dans le calendrier de ce dossier") from None
    row = dates_of(case).get(date_kind)
    if row is None:
        raise DateRefused("Cette date n'existe pas encore dans le calendrier de ce dossier")
    if on is None:
        raise DateRefused("Saisissez la nouvelle date")
    if not reason.strip():
        raise DateRefused("Indiquez le motif de la modification : il est conservé et tracé", "motif")
    if row.notified_on is not None:
        raise DateRefused(
            "Cette date a été notifiée aux parties dans un courrier : c'est elle qui fait foi et elle ne "
            "peut plus être modifiée"
        )
    if date_kind in (DateKind.CONSULTATION_OPENING, DateKind.OBSERVATIONS_END):
        raise DateRefused("Reprogrammez la consultation plutôt que de modifier cette date")
    lawful = lawful_range(case, date_kind, row)
    if not lawful[0] <= on <= lawful[1]:
        raise DateRefused(
            f"Le {french_day(on)} n'est pas une date légale pour « {date_kind.label} » "
            f"({row.legal_basis}) : date possible au plus tôt le {french_day(lawful[0])}, au plus tard le "
            f"{french_day(lawful[1])}."
        )
    previous = row.effective_on
    row.override_on = on
    row.override_reason = reason.strip()
    row.overridden_by_id = agent.id
    row.overridden_at = utcnow()
    refresh_next_due(case)
    db.session.add(
        CaseEvent(
            case_id=case.id,
            at=row.overridden_at,
            kind=str(rules.EventKind.DATE_OVERRIDDEN),
            user_id=agent.id,
            details={
                "date": str(date_kind),
                "from": previous.isoformat(),
                "to": on.isoformat(),
                "reason": reason,
            },
        )
    )
    audit.record(
        "qrpro.date_override",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        date=str(date_kind),
        previous=previous.isoformat(),
        new=on.isoformat(),
        reason=reason.strip(),
    )
    db.session.commit()
    return row
