"""QR Pro, the victim's side of the caisse's instruction (issue 13, items 6–8): on the victim's own case
page in « Mes dossiers », the stage and the next notified date in plain French with its legal basis, the
letters the caisse kept for the victim (each first download dated: an event on the victim's timeline, as
LUCIE dates the employer's first consultation), and the victim's timeline — on the page and as a PDF of her
own (``timeline_pdf``).

The case itself is found by ``questionnaires.victim_case_or_404`` (another victim's case, an employer, an
agent: 404); the consultation (pieces, observations) is ``consultation.py``'s, with ``Party.VICTIM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.cases import Party
from app.domain.qrpro import PARTY_DATES_BY_STAGE, EventKind, Stage
from app.extensions import db
from app.models import Case, CaseEvent, CaseLetter, User
from app.models.types import utcnow
from app.services import audit

from . import calendar, employer
from . import letters as case_letters
from . import timeline as case_timeline

# What the victim is expected to do, per stage, in plain French.
VICTIM_EXPECTATIONS = {
    Stage.A_OUVRIR: "Rien pour l'instant : la caisse examine la déclaration.",
    Stage.OUVERTE: "Rien pour l'instant : la caisse va vous adresser son questionnaire par courrier.",
    Stage.QUESTIONNAIRES: "Répondez au questionnaire de la caisse avant la date limite.",
    Stage.ENQUETE: "La caisse mène une enquête : elle peut vous contacter. Rien à envoyer pour l'instant.",
    Stage.CONSULTATION: (
        "Vous pouvez consulter le dossier et formuler vos observations pendant les 10 jours francs de la "
        "consultation ; l'employeur peut faire de même."
    ),
    Stage.DECIDE: (
        "La caisse a rendu sa décision (voir le courrier ci-dessous). Vous pouvez la contester devant la "
        "commission de recours amiable dans les 2 mois."
    ),
}


@dataclass(frozen=True)
class Situation:
    stage: Stage
    expected: str
    next_label: str | None
    next_on: date | None
    next_basis: str


def situation(case: Case, today: date) -> Situation:
    """Where the case stands for the victim and the next date the caisse notified (it binds)."""
    stage = Stage(case.stage)
    rows = calendar.dates_of(case)
    for kind in PARTY_DATES_BY_STAGE[stage]:
        row = rows.get(kind)
        if row is not None and row.notified_on is not None and row.notified_on >= today:
            label = employer.EMPLOYER_DATE_LABELS[kind]
            return Situation(stage, VICTIM_EXPECTATIONS[stage], label, row.notified_on, row.legal_basis)
    return Situation(stage, VICTIM_EXPECTATIONS[stage], None, None, "")


@dataclass(frozen=True)
class VictimLetter:
    row: CaseLetter
    first_downloaded_at: datetime | None


def _downloads(case: Case) -> dict[int, datetime]:
    events = db.session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id,
            CaseEvent.party == str(Party.VICTIM),
            CaseEvent.kind == str(EventKind.LETTER_DOWNLOADED),
        )
    )
    return {event.case_letter_id: event.at for event in events}


def letters(case: Case) -> list[VictimLetter]:
    """The letters the caisse kept for the victim, oldest first, with their first download."""
    downloads = _downloads(case)
    return [VictimLetter(row, downloads.get(row.id)) for row in case_letters.letters_of(case, Party.VICTIM)]


def letter_for(user: User, case: Case, letter_id: int, *, now: datetime | None = None) -> CaseLetter:
    """One of the victim's letters of ``case`` (404 otherwise — the employer's copy included); its first
    download is an event of the victim's timeline, once."""
    row = db.session.get(CaseLetter, letter_id)
    if row is None or row.case_id != case.id or row.party != str(Party.VICTIM):
        abort(404)
    if row.id not in _downloads(case):
        try:
            with db.session.begin_nested():  # a download at the same moment may have recorded it first
                db.session.add(
                    CaseEvent(
                        case_id=case.id,
                        party=str(Party.VICTIM),
                        at=now or utcnow(),
                        kind=str(EventKind.LETTER_DOWNLOADED),
                        user_id=user.id,
                        case_letter_id=row.id,
                        details={"type": row.letter_type},
                    )
                )
        except IntegrityError:
            pass  # the unique index uq_case_event_letter_downloaded: the first one stands
    audit.record(
        "qrpro.victim_letter", "case_letter", row.id, establishment_id=case.establishment_id, actor=user
    )
    db.session.commit()
    return row


def timeline_pdf(user: User, case: Case, *, now: datetime | None = None) -> bytes:
    """The victim's own timeline of ``case`` as a tagged PDF (her events only); the reading is audited."""
    document = case_timeline.victim_timeline_pdf(case, now=now)
    audit.record("qrpro.victim_timeline", "case", case.id, establishment_id=case.establishment_id, actor=user)
    db.session.commit()
    return document
