"""QR Pro, the employer's side of the caisse's instruction (issue 13, item 9): « Dossiers en instruction » per
establishment — every case it is an employer of (an MP may have several employers, each a party) — for
the users habilitated for QR Pro there (and a tiers déclarant holding a QR Pro mandate),
each case's stage, its next date and what is expected, in plain French; the nearest QR Pro dates for the
home page; an iCalendar (RFC 5545) of a case's dates and of all cases of an establishment.

The employer sees the dates the caisse notified in its letters (they bind), never a date still only
computed inside the caisse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import abort, url_for
from sqlalchemy import select

from app.domain import qrpro as rules
from app.domain.calendars import local_date, timezone_for
from app.domain.qrpro import DateKind, Stage
from app.extensions import db
from app.models import Case, CaseDate, CaseEmployer, Establishment, Service, User
from app.models.types import utcnow
from app.services import access, audit

from . import calendar

EMPLOYER_DATE_LABELS = {
    DateKind.QUESTIONNAIRE_DUE: "Répondre au questionnaire au plus tard le",
    DateKind.DECISION_BY: "Décision de la caisse au plus tard le",
    DateKind.CONSULTATION_OPENING: "Ouverture de la consultation du dossier le",
    DateKind.OBSERVATIONS_END: "Observations possibles jusqu'au",
    DateKind.DECISION_PLANNED: "Décision prévue à partir du",
    DateKind.DOSSIER_AVAILABLE: "Dossier mis à disposition au plus tard le",
    DateKind.DECIDE_OR_INVESTIGATE: "Décision ou ouverture de l'instruction au plus tard le",
}


@dataclass(frozen=True)
class CaseLine:
    case: Case
    stage: Stage
    expected: str
    next_label: str | None
    next_on: date | None


def establishments(user: User) -> list[Establishment]:
    """The establishments where ``user`` may follow QR Pro cases (habilitation or mandate)."""
    return access.employer_side_establishments(user, Service.QRPRO)


def authorize(user: User, establishment: Establishment | None) -> None:
    """404 unless ``user`` works on QR Pro for ``establishment`` (agents and victims: 404 too)."""
    if establishment is None or user.is_agent:
        abort(404)
    access.authorize_employer_side(user, Service.QRPRO, establishment)


def establishment_by_id(establishment_id: int) -> Establishment | None:
    return db.session.get(Establishment, establishment_id)


def establishment_by_siret(siret: str) -> Establishment | None:
    return db.session.scalar(select(Establishment).where(Establishment.siret == siret))


def _notified(case: Case) -> dict[DateKind, date]:
    return {
        DateKind(row.kind): row.notified_on
        for row in db.session.scalars(select(CaseDate).where(CaseDate.case_id == case.id))
        if row.notified_on is not None
    }


def line(case: Case, today: date) -> CaseLine:
    stage = Stage(case.stage)
    notified = _notified(case)
    for kind in rules.PARTY_DATES_BY_STAGE[stage]:
        on = notified.get(kind)
        if on is not None and on >= today:
            return CaseLine(case, stage, stage.employer_expectation, EMPLOYER_DATE_LABELS[kind], on)
    return CaseLine(case, stage, stage.employer_expectation, None, None)


def _employed_by(establishment_ids):
    """The condition on :class:`Case` of the cases one of ``establishment_ids`` is an employer of (the
    case's own establishment, or another employer of an MP with several)."""
    others = select(CaseEmployer.case_id).where(CaseEmployer.establishment_id.in_(establishment_ids))
    return Case.establishment_id.in_(establishment_ids) | Case.id.in_(others)


def cases_of(user: User, establishment: Establishment, *, now: datetime | None = None) -> list[CaseLine]:
    """The cases ``establishment`` is an employer of whose instruction is open or decided, newest first."""
    authorize(user, establishment)
    today = local_date(now or utcnow(), establishment.departement)
    rows = db.session.scalars(
        select(Case)
        .where(_employed_by([establishment.id]), Case.instruction_opened_at.is_not(None))
        .order_by(Case.instruction_opened_at.desc(), Case.id.desc())
    )
    return [line(case, today) for case in rows]


def case_and_employer(user: User, reference: str, siret: str | None = None) -> tuple[Case, Establishment]:
    """A case whose instruction is open, and the employer establishment ``user`` acts for on it: the
    one of ``siret`` (404 when it is not one of the case's employers), else the first of the case's
    employers where ``user`` holds QR Pro. 404 for anyone who works for none of them (403 for a
    colleague who sees an employer establishment without QR Pro). The reading is audited."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.instruction_opened_at is None:
        abort(404)
    if siret:
        place = next((place for place in case.employers if place.siret == siret), None)
    else:
        candidates = [] if user.is_agent else case.employers
        place = next((p for p in candidates if access.can(user, Service.QRPRO, p)), None)
        if place is None:
            place = next((p for p in candidates if access.can_see(user, p)), case.establishment)
    authorize(user, place)
    audit.record("qrpro.employer_read", "case_file", case.id, establishment_id=place.id, actor=user)
    db.session.commit()
    return case, place


def case_for_employer(user: User, reference: str, siret: str | None = None) -> Case:
    """:func:`case_and_employer`, the case alone."""
    return case_and_employer(user, reference, siret)[0]


@dataclass(frozen=True)
class NearDate:
    label: str
    establishment: Establishment
    last_day: date
    url: str
    due: datetime  # the first instant after the last day
    late: bool = False


def nearest(user: User, limit: int = 5, *, now: datetime | None = None) -> list[NearDate]:
    """The nearest notified QR Pro dates on ``user``'s establishments (the home page): one statement for
    all of them (a company may have hundreds), the first date still to come of each open case."""
    places = {place.id: place for place in establishments(user)}
    if not places:
        return []
    today = local_date(now or utcnow(), "75")
    # (case, employer establishment): the case's own and an MP's other employers.
    employers = (
        select(Case.id.label("case_id"), Case.establishment_id.label("establishment_id"))
        .where(Case.establishment_id.in_(list(places)))
        .union_all(
            select(CaseEmployer.case_id, CaseEmployer.establishment_id).where(
                CaseEmployer.establishment_id.in_(list(places))
            )
        )
        .subquery()
    )
    rows = db.session.execute(
        select(Case, CaseDate, employers.c.establishment_id)
        .join(employers, employers.c.case_id == Case.id)
        .join(CaseDate, CaseDate.case_id == Case.id)
        .where(
            Case.stage != Stage.DECIDE,
            CaseDate.notified_on.is_not(None),
            CaseDate.notified_on >= today,
        )
        .order_by(CaseDate.notified_on, Case.id, employers.c.establishment_id)
        .limit(limit * 8)
    ).all()
    items, seen = [], set()
    for case, row, place_id in rows:
        kind = DateKind(row.kind)
        if (case.id, place_id) in seen or kind not in rules.PARTY_DATES_BY_STAGE[Stage(case.stage)]:
            continue
        seen.add((case.id, place_id))
        place = places[place_id]
        url = url_for("qrpro_dossiers.case", reference=case.reference)
        if place_id != case.establishment_id:
            url = url_for("qrpro_dossiers.case", reference=case.reference, siret=place.siret)
        items.append(
            NearDate(
                f"{EMPLOYER_DATE_LABELS[kind]} – dossier {case.reference}",
                place,
                row.notified_on,
                url,
                _end_of(row.notified_on, place.departement),
            )
        )
    return items[:limit]


def _end_of(day: date, departement: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone_for(departement)).astimezone(UTC)


# --- iCalendar (RFC 5545, written by hand: CRLF line ends, escaped text, lines folded at 75 octets) ---------


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line_text: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 §3.1), never inside a UTF-8 character."""
    data = line_text.encode()
    if len(data) <= 75:
        return line_text
    parts, current = [], b""
    for char in line_text:
        encoded = char.encode()
        limit = 75 if not parts else 74
        if len(current) + len(encoded) > limit:
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _events(case: Case, stamp: str) -> list[str]:
    lines = []
    for row in calendar.dates_of(case).values():
        if row.notified_on is None:
            continue
        kind = DateKind(row.kind)
        uid = hashlib.sha256(f"{case.reference}/{kind}".encode()).hexdigest()[:32]
        summary = f"{EMPLOYER_DATE_LABELS.get(kind, kind.label)} – dossier {case.reference}"
        description = f"{kind.label} ({row.legal_basis}). Date notifiée par la caisse dans un courrier LUCIE."
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@qrpro.services-atmp",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{row.notified_on:%Y%m%d}",
            f"DTEND;VALUE=DATE:{row.notified_on + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    return lines


def ics(cases: list[Case], name: str, *, now: datetime | None = None) -> bytes:
    """An iCalendar of the notified dates of ``cases`` (all-day events)."""
    stamp = (now or utcnow()).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Services AT/MP//QR Pro//FR",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for case in cases:
        lines += _events(case, stamp)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(item) for item in lines) + "\r\n").encode()


def establishment_ics(user: User, establishment: Establishment) -> bytes:
    authorize(user, establishment)
    rows = list(
        db.session.scalars(
            select(Case)
            .where(_employed_by([establishment.id]), Case.instruction_opened_at.is_not(None))
            .order_by(Case.id)
        )
    )
    return ics(rows, f"QR Pro – {establishment.name}")


def notified_dates(case: Case) -> list[tuple[str, date, str]]:
    """(label, date, legal basis) of each date the caisse notified, in the calendar's order."""
    rows = calendar.dates_of(case)
    return [
        (EMPLOYER_DATE_LABELS.get(kind, kind.label), rows[kind].notified_on, rows[kind].legal_basis)
        for kind in rules.DATE_ORDER
        if kind in rows and rows[kind].notified_on is not None
    ]


def stage_label(case: Case) -> str:
    return rules.Stage(case.stage).label
