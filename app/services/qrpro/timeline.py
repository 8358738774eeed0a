"""The proof of the contradictory phase (issue 13, item 8): per case and per party, one timeline of every
dated event — from the case's events table, the LUCIE letters' own dates (first consultation, deemed
notification: SPEC §4) and the consultation window's dates — exportable as a tagged PDF: both parties' for the
caisse, the victim's own for the victim (``victim_timeline_pdf``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from app.domain import qrpro as rules
from app.domain.calendars import local_date, timezone_for
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.lucie import LETTER_TYPE_LABELS, LetterType, deemed_notice
from app.extensions import db
from app.models import Case, CaseEvent, CaseLetter, Establishment, Submission, User
from app.models.types import utcnow
from app.services.lucie.dates import current_rule
from app.services.pdf import render_pdf

from . import calendar

ISO_DAYS = frozenset({"opening", "observations_until", "decision_on"})
WHOSE = {Party.EMPLOYER: "l'employeur", Party.VICTIM: "la victime"}


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
    if event.kind == rules.EventKind.WINDOW_CLOSED:
        last = french_day(date.fromisoformat(details["last_day"]), weekday=False)
        return f"dernier jour : {last} ; {details.get('legal_basis', '')} ; {rules.AFTER_WINDOW}"
    parts = []
    if details.get("auteur"):
        parts.append(f"par {WHOSE[Party(details['auteur'])]}")
    if "type" in details:
        parts.append(LETTER_TYPE_LABELS.get(LetterType(details["type"]), details["type"]))
    for key, label in (
        ("model", "modèle"),
        ("decision", "décision"),
        ("reason", "motif"),
        ("motif", "motif"),
        ("etablissement", "établissement SIRET"),
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


def timeline(
    case: Case,
    party: Party,
    *,
    now: datetime | None = None,
    establishment: Establishment | None = None,
    own_observations: bool = False,
) -> list[Entry]:
    """Every dated event of ``case`` for ``party`` (the case's own events count for both), in time order.
    For the employer party, ``establishment`` is which of the case's employers (the case's own by
    default): its own letters and questionnaire, not another employer's. ``own_observations``: the
    party's own observations only, not the other party's (the victim's timeline: her events)."""
    moment = now or utcnow()
    departement = case.establishment.departement
    entries: list[Entry] = []
    place = (establishment or case.establishment) if party == Party.EMPLOYER else None
    # Another employer's letters (an MP with several employers) are not this one's events.
    elsewhere = set()
    if place is not None:
        elsewhere = set(
            db.session.scalars(
                select(CaseLetter.id).where(
                    CaseLetter.case_id == case.id, CaseLetter.establishment_id != place.id
                )
            )
        )
    events = db.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, (CaseEvent.party == str(party)) | CaseEvent.party.is_(None))
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    users = {}
    for event in events:
        if event.case_letter_id in elsewhere:
            continue
        author = (event.details or {}).get("auteur")
        if own_observations and event.kind == rules.EventKind.OBSERVATION and author != str(party):
            continue
        by = ""
        if event.user_id is not None:
            user = users.get(event.user_id) or db.session.get(User, event.user_id)
            users[event.user_id] = user
            by = user.full_name if user is not None else ""
        entries.append(Entry(event.at, rules.EventKind(event.kind).label, _detail(event), by))
    # The party's questionnaire, when it was sent back (the engine's submission: its reference and
    # the SHA-256 of the answers prove what was answered).
    submissions = select(Submission).where(Submission.case_id == case.id, Submission.party == str(party))
    if place is not None:
        submissions = submissions.where(Submission.establishment_id == place.id)
    for submission in db.session.scalars(submissions):
        entries.append(
            Entry(
                submission.submitted_at,
                rules.EventKind.QUESTIONNAIRE_ANSWERED.label,
                f"référence {submission.reference}",
                submission.submitted_by.full_name if submission.submitted_by else "",
            )
        )
    rule = current_rule()
    letters = select(CaseLetter).where(CaseLetter.case_id == case.id, CaseLetter.party == str(party))
    if place is not None:
        letters = letters.where(CaseLetter.establishment_id == place.id)
    rows = db.session.scalars(letters)
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
        (rules.DateKind.OBSERVATIONS_END, rules.WINDOW_LAST_DAY),
    ):
        row = dates.get(kind)
        if row is not None:
            at = _start_of(row.effective_on, departement)
            today = local_date(moment, departement)
            entries.append(
                Entry(at, label, row.legal_basis, day=row.effective_on, future=row.effective_on > today)
            )
    return sorted(entries, key=lambda entry: entry.at)


def party_timelines(case: Case, *, now: datetime | None = None) -> list[tuple[str, list[Entry]]]:
    """(heading, timeline) of every party: each employer establishment under its name (a case may have
    several employers), then the victim."""
    several = len(case.employers) > 1
    label = Party.EMPLOYER.label
    rows = [
        (
            f"{label} – {place.name} (SIRET {place.siret})" if several else label,
            timeline(case, Party.EMPLOYER, now=now, establishment=place),
        )
        for place in case.employers
    ]
    return [*rows, (Party.VICTIM.label, timeline(case, Party.VICTIM, now=now))]


def timeline_pdf(case: Case, *, now: datetime | None = None) -> bytes:
    """The timelines of every party as a tagged PDF."""
    moment = now or utcnow()
    return render_pdf(
        "pdf/qrpro_chronologie.html",
        case=case,
        establishment=case.establishment,
        employers=case.employers,
        caisse=case.caisse,
        now=moment,
        parties=party_timelines(case, now=moment),
    )


def victim_timeline(case: Case, *, now: datetime | None = None) -> list[Entry]:
    """The victim's own timeline: her letters and their first download, her questionnaire sent and
    returned, her observations, the consultation's window, the case's steps (not the employer's letters,
    questionnaire or observations)."""
    return timeline(case, Party.VICTIM, now=now, own_observations=True)


def victim_timeline_pdf(case: Case, *, now: datetime | None = None) -> bytes:
    """The victim's timeline as a tagged PDF in French, for her to keep (« Mes dossiers »)."""
    moment = now or utcnow()
    return render_pdf(
        "pdf/qrpro_chronologie_victime.html",
        case=case,
        establishment=case.establishment,
        caisse=case.caisse,
        now=moment,
        entries=victim_timeline(case, now=moment),
    )
