"""The proof of the contradictory phase (issue 13, item 8): per case and per party, one timeline of every
dated event — from the case's events table, the LUCIE letters' own dates (first consultation, deemed
notification: SPEC §4) and the consultation window's dates — exportable as a tagged PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from app.domain import qrpro as rules
from app.domain.calendars import timezone_for
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.lucie import LETTER_TYPE_LABELS, LetterType, deemed_notice
from app.extensions import db
from app.models import Case, CaseEvent, CaseLetter, Submission, User
from app.models.types import utcnow
from app.services.lucie.dates import current_rule
from app.services.pdf import render_pdf

from . import calendar

ISO_DAYS = frozenset({"opening", "observations_until", "decision_on"})


@dataclass(frozen=True)
class Entry:
    at: datetime
    label: str
    detail: str = ""
    by: str = ""
    day: date | None = None  # a legal date (a whole day), not an instant
    future: bool = False  # a date still to come (a deemed notification, a window's end)


def _start_of(day: date, departement: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone_for(departement)).astimezone(UTC)


def _detail(event: CaseEvent) -> str:
    details = event.details or {}
    parts = []
    if "type" in details:
        parts.append(LETTER_TYPE_LABELS.get(LetterType(details["type"]), details["type"]))
    for key, label in (
        ("model", "modèle"),
        ("decision", "décision"),
        ("reason", "motif"),
        ("motif", "motif"),
        ("opening", "ouverture"),
        ("observations_until", "observations jusqu'au"),
        ("decision_on", "décision prévue"),
    ):
        if details.get(key):
            value = details[key]
            if key == "decision":
                value = rules.Decision(value).label
            elif key in ISO_DAYS:
                value = french_day(date.fromisoformat(value), weekday=False)
            parts.append(f"{label} : {value}")
    if details.get("date"):
        before, after = (french_day(date.fromisoformat(details[k]), weekday=False) for k in ("from", "to"))
        parts.append(f"{rules.DateKind(details['date']).label} : {before} → {after}")
    return " ; ".join(parts)


def timeline(case: Case, party: Party, *, now: datetime | None = None) -> list[Entry]:
    """Every dated event of ``case`` for ``party`` (the case's own events count for both), in time order."""
    moment = now or utcnow()
    departement = case.establishment.departement
    entries: list[Entry] = []
    events = db.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, (CaseEvent.party == str(party)) | CaseEvent.party.is_(None))
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    users = {}
    for event in events:
        by = ""
        if event.user_id is not None:
            user = users.get(event.user_id) or db.session.get(User, event.user_id)
            users[event.user_id] = user
            by = user.full_name if user is not None else ""
        entries.append(Entry(event.at, rules.EventKind(event.kind).label, _detail(event), by))
    # The party's questionnaire, when it was sent back (the engine's submission: its reference and
    # the SHA-256 of the answers prove what was answered).
    for submission in db.session.scalars(
        select(Submission).where(Submission.case_id == case.id, Submission.party == str(party))
    ):
        entries.append(
            Entry(
                submission.submitted_at,
                rules.EventKind.QUESTIONNAIRE_ANSWERED.label,
                f"référence {submission.reference}",
                submission.submitted_by.full_name if submission.submitted_by else "",
            )
        )
    rule = current_rule()
    rows = db.session.scalars(
        select(CaseLetter).where(CaseLetter.case_id == case.id, CaseLetter.party == str(party))
    )
    for row in rows:
        letter = row.letter
        if letter is None:
            continue
        label = LETTER_TYPE_LABELS.get(LetterType(row.letter_type), row.letter_type)
        if letter.first_consulted_at is not None:
            reader = letter.first_consulted_by.full_name if letter.first_consulted_by else ""
            entries.append(Entry(letter.first_consulted_at, rules.LETTER_FIRST_CONSULTED, label, reader))
        notice = deemed_notice(
            letter.deposited_at, letter.first_consulted_at, departement, moment, rule.reading
        )
        entries.append(
            Entry(
                notice.at.astimezone(UTC),
                rules.LETTER_DEEMED_NOTIFIED,
                f"{label} ({notice.reference})",
                future=not notice.known,
            )
        )
    dates = calendar.dates_of(case)
    for kind, label in (
        (rules.DateKind.CONSULTATION_OPENING, rules.WINDOW_OPENED),
        (rules.DateKind.OBSERVATIONS_END, rules.WINDOW_CLOSED),
    ):
        row = dates.get(kind)
        if row is not None:
            at = _start_of(row.effective_on, departement)
            entries.append(
                Entry(
                    at, label, row.legal_basis, day=row.effective_on, future=row.effective_on > moment.date()
                )
            )
    return sorted(entries, key=lambda entry: entry.at)


def timeline_pdf(case: Case, *, now: datetime | None = None) -> bytes:
    """The timelines of both parties as a tagged PDF."""
    moment = now or utcnow()
    return render_pdf(
        "pdf/qrpro_chronologie.html",
        case=case,
        establishment=case.establishment,
        caisse=case.caisse,
        now=moment,
        parties=[(party, timeline(case, party, now=moment)) for party in (Party.EMPLOYER, Party.VICTIM)],
    )
