"""The letters of an instruction (issue 13, items 4 and 8): one PDF per step and party, the employer's
deposited in its LUCIE mailbox through THE deposit service (legal dating, alert e-mail), the victim's kept
for their space. Once per (case, step, party): a unique row, and a LUCIE Idempotency-Key per letter, so a
retried request never makes a second letter.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from app.domain import qrpro as rules
from app.domain.cases import Party
from app.domain.lucie import LetterType
from app.extensions import db
from app.models import Case, CaseEvent, CaseLetter, LetterSource, User
from app.models.types import utcnow
from app.services.lucie import DepositRefused, deposit_letter
from app.services.pdf import render_pdf
from app.services.uploads import read_blob, store_blob

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
PDF_ONLY = {"application/pdf": "PDF"}


def idempotency_key(case: Case, letter_type: LetterType) -> str:
    """The LUCIE Idempotency-Key of a case's employer letter for one step (one letter per step)."""
    return f"qrpro:{case.reference}:{letter_type}".replace(" ", "_")


def letter_of(case: Case, letter_type: LetterType, party: Party) -> CaseLetter | None:
    return db.session.scalar(
        select(CaseLetter).where(
            CaseLetter.case_id == case.id,
            CaseLetter.letter_type == str(letter_type),
            CaseLetter.party == str(party),
        )
    )


def letters_of(case: Case, party: Party | None = None) -> list[CaseLetter]:
    query = select(CaseLetter).where(CaseLetter.case_id == case.id)
    if party is not None:
        query = query.where(CaseLetter.party == str(party))
    return list(db.session.scalars(query.order_by(CaseLetter.created_at, CaseLetter.id)))


def render(case: Case, letter_type: LetterType, party: Party, **context) -> bytes:
    """The PDF of one letter (tagged, WeasyPrint) for ``party``."""
    return render_pdf(
        TEMPLATES[letter_type],
        case=case,
        party=party,
        establishment=case.establishment,
        caisse=case.caisse,
        title=TITLES[letter_type].format(reference=case.reference),
        **context,
    )


def issue(case: Case, letter_type: LetterType, agent: User, **context) -> list[CaseLetter]:
    """The letter of ``letter_type`` to both parties, inside the caller's transaction: the employer's
    deposited in LUCIE (or the reason it could not be, e.g. no subscription), the victim's kept for their
    space. ``access_code`` (victim's opening letter): printed in a box when given."""
    made = []
    now = utcnow()
    title = TITLES[letter_type].format(reference=case.reference)
    for party in (Party.EMPLOYER, Party.VICTIM):
        document = render(case, letter_type, party, now=now, **context)
        row = CaseLetter(
            case_id=case.id,
            party=str(party),
            letter_type=str(letter_type),
            title=title,
            created_at=now,
            created_by_id=agent.id,
            not_deposited="",
        )
        if party == Party.EMPLOYER:
            try:
                deposit = deposit_letter(
                    establishment=case.establishment,
                    letter_type=letter_type,
                    title=title,
                    document=document,
                    filename=f"{case.reference}-{letter_type}.pdf",
                    source=LetterSource.AGENT,
                    case_reference=case.reference,
                    caisse=case.caisse,
                    deposited_by=agent,
                    idempotency_key=idempotency_key(case, letter_type) if case.caisse else None,
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
        if row.letter_id is not None:
            kind = rules.EventKind.LETTER_DEPOSITED
        elif party == Party.VICTIM:
            kind = rules.EventKind.LETTER_KEPT
        else:
            kind = rules.EventKind.LETTER_NOT_DEPOSITED
        details = {"type": str(letter_type)}
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


def has_information(case: Case, party: Party) -> bool:
    """Whether ``party`` was given its information on the consultation: the employer's letter deposited in
    LUCIE, the victim's kept in their space."""
    row = letter_of(case, LetterType.INFORMATION_CONSULTATION, party)
    if row is None:
        return False
    return row.letter_id is not None if party == Party.EMPLOYER else True
