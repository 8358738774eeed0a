"""The letters of an instruction (issue 13, items 4 and 8): one PDF per step and party, each employer
establishment's deposited in its own LUCIE mailbox through THE deposit service (legal dating, alert
e-mail) — an MP may have several employers, each a party —, the victim's kept for their space. Once per
(case, step, employer establishment, edition) and per (case, step, edition) for the victim: a unique row,
and a LUCIE Idempotency-Key per letter, so a retried request never makes a second letter. A step's letter
is edition 1; a rescheduled consultation's information letter is the next edition (the earlier ones stay).
"""

from __future__ import annotations

import io

from sqlalchemy import select

from app.domain import qrpro as rules
from app.domain.cases import Party
from app.domain.lucie import LetterType
from app.extensions import db
from app.models import Case, CaseEvent, CaseLetter, Establishment, LetterSource, User
from app.models.types import utcnow
from app.services.lucie import DepositRefused, deposit_letter
from app.services.pdf import render_pdf
from app.services.uploads import read_blob, store_blob

from . import notices

TEMPLATES = {
    LetterType.OUVERTURE_INSTRUCTION: "pdf/qrpro_ouverture.html",
    LetterType.INFORMATION_CONSULTATION: "pdf/qrpro_consultation.html",
    LetterType.NOTIFICATION_DECISION: "pdf/qrpro_decision.html",
}
TITLES = {
    LetterType.OUVERTURE_INSTRUCTION: "Ouverture de l'instruction du dossier {reference}",
    LetterType.INFORMATION_CONSULTATION: "Information sur la consultation du dossier {reference}",
    LetterType.NOTIFICATION_DECISION: "Notification de la décision sur le dossier {reference}",
}
# A later edition of a letter (the consultation rescheduled) says so in its title.
LATER_TITLES = {
    LetterType.INFORMATION_CONSULTATION: "Nouvelles dates de consultation du dossier {reference}",
}
PDF_ONLY = {"application/pdf": "PDF"}


def idempotency_key(
    case: Case, letter_type: LetterType, establishment: Establishment | None = None, edition: int = 1
) -> str:
    """The LUCIE Idempotency-Key of a case's employer letter for one step: one letter per step, employer
    establishment and edition (the case's own establishment keeps the key it always had; another
    employer's names its SIRET, the key being unique per caisse)."""
    key = f"qrpro:{case.reference}:{letter_type}"
    if establishment is not None and establishment.id != case.establishment_id:
        key += f":{establishment.siret}"
    if edition > 1:
        key += f":{edition}"
    return key.replace(" ", "_")


def title_of(case: Case, letter_type: LetterType, edition: int = 1) -> str:
    template = LATER_TITLES.get(letter_type, TITLES[letter_type]) if edition > 1 else TITLES[letter_type]
    return template.format(reference=case.reference)


def letter_of(
    case: Case, letter_type: LetterType, party: Party, establishment: Establishment | None = None
) -> CaseLetter | None:
    """The latest edition of a step's letter to ``party`` — for the employer party, to ``establishment``
    (the case's own by default); None if never issued."""
    query = select(CaseLetter).where(
        CaseLetter.case_id == case.id,
        CaseLetter.letter_type == str(letter_type),
        CaseLetter.party == str(party),
    )
    if Party(party) == Party.EMPLOYER:
        query = query.where(CaseLetter.establishment_id == (establishment or case.establishment).id)
    return db.session.scalar(query.order_by(CaseLetter.edition.desc()).limit(1))


def editions(case: Case, letter_type: LetterType) -> int:
    """How many editions of ``letter_type`` the case's employers were sent (0: none yet)."""
    latest = letter_of(case, letter_type, Party.EMPLOYER)
    return latest.edition if latest is not None else 0


def letters_of(
    case: Case, party: Party | None = None, establishment: Establishment | None = None
) -> list[CaseLetter]:
    """The case's letters (to ``party``; to one employer ``establishment``), oldest first."""
    query = select(CaseLetter).where(CaseLetter.case_id == case.id)
    if party is not None:
        query = query.where(CaseLetter.party == str(party))
    if establishment is not None:
        query = query.where(CaseLetter.establishment_id == establishment.id)
    return list(db.session.scalars(query.order_by(CaseLetter.created_at, CaseLetter.id)))


def render(
    case: Case,
    letter_type: LetterType,
    party: Party,
    establishment: Establishment | None = None,
    *,
    edition: int = 1,
    **context,
) -> bytes:
    """The PDF of one letter (tagged, WeasyPrint) for ``party`` — for an employer, addressed to
    ``establishment`` (the case's own by default); every employer of the case is named in it."""
    return render_pdf(
        TEMPLATES[letter_type],
        case=case,
        party=party,
        establishment=establishment or case.establishment,
        employers=case.employers,
        caisse=case.caisse,
        title=title_of(case, letter_type, edition),
        edition=edition,
        **context,
    )


def issue(
    case: Case, letter_type: LetterType, agent: User, *, edition: int = 1, **context
) -> list[CaseLetter]:
    """The letter of ``letter_type`` to every party, inside the caller's transaction: each employer
    establishment's deposited in its own LUCIE mailbox (or the reason it could not be, e.g. no
    subscription), the victim's kept for their space. ``access_code`` (victim's opening letter): printed
    in a box when given. ``edition``: 2, 3… for the letters of a rescheduled consultation (a second
    edition of a step's letter)."""
    made = []
    now = utcnow()
    title = title_of(case, letter_type, edition)
    addressees = [(Party.EMPLOYER, place) for place in case.employers] + [(Party.VICTIM, None)]
    for party, place in addressees:
        document = render(case, letter_type, party, place, edition=edition, now=now, **context)
        row = CaseLetter(
            case_id=case.id,
            party=str(party),
            establishment_id=place.id if place is not None else None,
            letter_type=str(letter_type),
            edition=edition,
            title=title,
            created_at=now,
            created_by_id=agent.id,
            not_deposited="",
        )
        if party == Party.EMPLOYER:
            try:
                deposit = deposit_letter(
                    establishment=place,
                    letter_type=letter_type,
                    title=title,
                    document=document,
                    filename=f"{case.reference}-{letter_type}.pdf",
                    source=LetterSource.AGENT,
                    case_reference=case.reference,
                    caisse=case.caisse,
                    deposited_by=agent,
                    idempotency_key=(
                        idempotency_key(case, letter_type, place, edition) if case.caisse else None
                    ),
                    commit=False,
                )
                row.letter_id = deposit.letter.id
                row.sha256, row.size = deposit.letter.sha256, deposit.letter.size
            except DepositRefused as refused:
                row.not_deposited = refused.message[:200]
        if row.letter_id is None:
            row.sha256, row.size, _ = store_blob(io.BytesIO(document), accepted=PDF_ONLY)
        db.session.add(row)
        db.session.flush()
        if party == Party.VICTIM:
            notices.letter_kept(case, row)  # her e-mail, when she has an account
        if row.letter_id is not None:
            kind = rules.EventKind.LETTER_DEPOSITED
        elif party == Party.VICTIM:
            kind = rules.EventKind.LETTER_KEPT
        else:
            kind = rules.EventKind.LETTER_NOT_DEPOSITED
        details = {"type": str(letter_type)}
        if place is not None and len(case.employers) > 1:
            details["etablissement"] = place.siret
        if edition > 1:
            details["edition"] = edition
        if row.not_deposited:
            details["motif"] = row.not_deposited
        db.session.add(
            CaseEvent(
                case_id=case.id,
                party=str(party),
                at=now,
                kind=str(kind),
                user_id=agent.id,
                case_letter_id=row.id,
                details=details,
            )
        )
        made.append(row)
    return made


def content(row: CaseLetter) -> bytes:
    """The PDF of a case letter (read from the store; a LUCIE letter is the same bytes)."""
    return read_blob(row.sha256)


def uninformed_employers(case: Case) -> list[Establishment]:
    """The employer establishments without their information letter on the consultation as scheduled
    now (its latest edition) deposited in their LUCIE mailbox (the case's own first)."""
    latest = editions(case, LetterType.INFORMATION_CONSULTATION)
    informed = {
        row.establishment_id
        for row in letters_of(case, Party.EMPLOYER)
        if row.letter_type == str(LetterType.INFORMATION_CONSULTATION)
        and row.edition == latest
        and row.letter_id is not None
    }
    return [place for place in case.employers if place.id not in informed]


def has_information(case: Case, party: Party) -> bool:
    """Whether ``party`` was given its information on the consultation as scheduled now (the latest
    edition): every employer establishment's letter deposited in its LUCIE mailbox, the victim's kept in
    their space."""
    if party == Party.EMPLOYER:
        return not uninformed_employers(case)
    return letter_of(case, LetterType.INFORMATION_CONSULTATION, party) is not None
