"""Test helpers for LUCIE: a subscribed establishment with its people, small real PDFs, deposits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.domain.lucie import LetterType
from app.extensions import db
from app.models import Caisse, Company, Establishment, Letter, LetterSource, Service, User, UserKind
from app.services import lucie
from app.services.simple_pdf import make_pdf
from tests.factories import make_caisse, make_company, make_establishment, make_user

# A fixed creation date: the same title gives the same bytes, whatever the second of the call
# (an Idempotency-Key replay compares the file's hash).
FIXED_CREATION = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def pdf(title: str = "Courrier de test") -> bytes:
    return make_pdf(title, ["Madame, Monsieur,", "", "Ceci est un courrier de test."], created=FIXED_CREATION)


@dataclass
class Mailbox:
    company: Company
    head_office: Establishment
    establishment: Establishment  # in the caisse's département (57), subscribed
    caisse: Caisse
    agent: User
    reader: User  # habilitated LUCIE on ``establishment``
    admin: User  # company administrator, no LUCIE habilitation


def make_mailbox(subscribed: bool = True) -> Mailbox:
    company = make_company("Transports Lorrains")
    head_office = make_establishment(
        company, departement="75", head_office=True, name="Transports Lorrains — Siège"
    )
    establishment = make_establishment(
        company, departement="57", name="Transports Lorrains — Metz", city="Metz"
    )
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.test", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Weber")
    reader = make_user(
        "lecteur@transports.test",
        company=company,
        grants=[(establishment, Service.LUCIE)],
        full_name="Julie Lecteur",
    )
    admin = make_user("admin@transports.test", company=company, admin=True, full_name="Claire Admin")
    if subscribed:
        lucie.subscribe(establishment)
    db.session.commit()
    return Mailbox(company, head_office, establishment, caisse, agent, reader, admin)


def deposit(
    establishment: Establishment,
    caisse: Caisse | None = None,
    *,
    title: str = "Courrier de test",
    letter_type: LetterType = LetterType.ACCUSE_RECEPTION,
    reference: str | None = "57-2026-000001",
    **kw,
) -> Letter:
    return lucie.deposit_letter(
        establishment=establishment,
        letter_type=letter_type,
        title=title,
        case_reference=reference,
        document=kw.pop("document", None) or pdf(title),
        filename="courrier.pdf",
        source=kw.pop("source", LetterSource.AGENT),
        caisse=caisse,
        **kw,
    ).letter
