"""LUCIE demo data (`flask lucie demo`, called by `flask demo load`): the demo company's
establishments subscribed, an alert address on the head office, letters of several types deposited
through :func:`app.services.lucie.deposit_letter`, some of them already opened.

Idempotent: an establishment that already has letters gets no new ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from app.domain.lucie import LetterType
from app.extensions import db
from app.models import Caisse, Establishment, Letter, LetterSource, LucieAlertAddress, User
from app.services import lucie
from app.services.pdf import render_pdf

DEMO_SIREN = "812345676"
ALERT_ADDRESS = "courrier@batiments-est.test"
READER = "employeur@demo.test"

# SIRET → (caisse, type, case reference, title, opened by the employer?)
LETTERS = {
    "81234567600017": [
        (
            "CPAM de Paris",
            LetterType.ACCUSE_RECEPTION,
            "75-2026-000412",
            "Accusé de réception de votre déclaration",
            True,
        ),
        (
            "CPAM de Paris",
            LetterType.DOUBLE_DECLARATION,
            "75-2026-000412",
            "Double de la déclaration d'accident",
            True,
        ),
        (
            "CPAM de Paris",
            LetterType.OUVERTURE_INSTRUCTION,
            "75-2026-000412",
            "Ouverture de l'instruction et questionnaire employeur",
            False,
        ),
    ],
    "81234567600025": [
        (
            "CPAM de Moselle",
            LetterType.ACCUSE_RECEPTION,
            "57-2026-001876",
            "Accusé de réception de votre déclaration",
            True,
        ),
        (
            "CPAM de Moselle",
            LetterType.INFORMATION_CONSULTATION,
            "57-2026-001876",
            "Consultation du dossier avant décision",
            False,
        ),
        (
            "CPAM de Moselle",
            LetterType.NOTIFICATION_DECISION,
            "57-2026-001876",
            "Décision de prise en charge au titre de la législation professionnelle",
            False,
        ),
        (
            "Carsat Alsace-Moselle",
            LetterType.NOTIFICATION_TAUX,
            None,
            "Notification de votre taux AT/MP 2027",
            False,
        ),
    ],
    "81234567600033": [
        (
            "CPAM du Bas-Rhin",
            LetterType.NOTIFICATION_DECISION,
            "67-2026-000233",
            "Décision de refus de prise en charge",
            True,
        ),
        (
            "Carsat Alsace-Moselle",
            LetterType.NOTIFICATION_TAUX,
            None,
            "Notification de votre taux AT/MP 2027",
            False,
        ),
    ],
}


def _letter_pdf(
    caisse: str, establishment: Establishment, letter_type: LetterType, title: str, ref: str | None
) -> bytes:
    """The demo letter, rendered like the application's own PDFs (tagged, in French, titled)."""
    return render_pdf(
        "pdf/courrier_demo.html",
        caisse=caisse,
        establishment=establishment,
        letter_type=letter_type,
        title=title,
        ref=ref,
    )


def load_lucie_demo() -> Iterator[str]:
    """Subscribe the demo establishments and deposit their demo letters (what is missing only)."""
    establishments = list(
        db.session.scalars(
            select(Establishment).where(Establishment.siret.in_(list(LETTERS))).order_by(Establishment.siret)
        )
    )
    if not establishments:
        yield "LUCIE : établissements de démonstration absents (lancez d'abord `flask demo load`)."
        return
    reader = db.session.scalar(select(User).where(User.email == READER))
    for establishment in establishments:
        lucie.subscribe(establishment)
        if establishment.is_head_office and not db.session.scalar(
            select(LucieAlertAddress.id).where(
                LucieAlertAddress.establishment_id == establishment.id,
                LucieAlertAddress.email == ALERT_ADDRESS,
            )
        ):
            db.session.add(LucieAlertAddress(establishment_id=establishment.id, email=ALERT_ADDRESS))
        db.session.commit()
        existing = db.session.scalar(select(func.count()).where(Letter.establishment_id == establishment.id))
        if existing:
            yield f"LUCIE {establishment.name} : abonné, {existing} courrier(s) déjà présent(s)"
            continue
        to_open = []
        for caisse_name, letter_type, ref, title, opened in LETTERS[establishment.siret]:
            caisse = db.session.scalar(select(Caisse).where(Caisse.name == caisse_name))
            result = lucie.deposit_letter(
                establishment=establishment,
                letter_type=letter_type,
                title=title,
                case_reference=ref,
                document=_letter_pdf(caisse_name, establishment, letter_type, title, ref),
                filename=f"{letter_type.value}.pdf",
                source=LetterSource.AGENT if caisse else LetterSource.SERVICE,
                caisse=caisse,
            )
            if opened:
                to_open.append(result.letter.id)
        if reader is not None:
            for letter_id in to_open:
                lucie.open_letter(reader, letter_id)
        yield (
            f"LUCIE {establishment.name} : abonné, {len(LETTERS[establishment.siret])} courrier(s) "
            f"déposé(s), {len(to_open) if reader else 0} ouvert(s)"
        )
