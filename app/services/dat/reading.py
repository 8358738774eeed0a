"""Reading a declaration: opened for the employer or the caisse's agent (audited), its sections and
the facts the rules need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.domain import dat as rules
from app.domain.calendars import to_local
from app.domain.deadlines import Deadline
from app.extensions import db
from app.forms import dat as dat_forms
from app.models import (
    Caisse,
    Declaration,
    DeclarationEvent,
    Establishment,
    ReserveAddendum,
    Service,
    Upload,
    User,
)
from app.services import access, audit
from app.services.qrpro import cases as qrpro_cases

from .common import STEP_SECTIONS, _local, now_utc


def start_of(connaissance: dict, departement: str) -> rules.DatStart:
    """Where a sent declaration's 48 hours ran from, from its step 5 (JSON answers): the knowledge
    of the accident, or of the care or stoppage of an accident in the registre des accidents bénins."""
    registre = connaissance.get("registre") == "oui" and bool(connaissance.get("date_soins"))
    if registre:
        care = _local(connaissance["date_soins"], connaissance["heure_soins"])
        return rules.DatStart(to_local(care, departement), benin=True)
    known = _local(connaissance["date_connaissance"], connaissance["heure_connaissance"])
    return rules.DatStart(to_local(known, departement))


def dat_start_of(declaration: Declaration) -> rules.DatStart:
    """When and why a sent declaration's 48 hours started (receipt, declaration pages, PDFs)."""
    return start_of(declaration.answers.get("connaissance", {}), declaration.departement)


def _by_reference(reference: str) -> Declaration | None:
    if len(reference) > 40:
        return None
    return db.session.scalar(
        select(Declaration)
        .where(Declaration.reference == reference)
        .options(
            joinedload(Declaration.establishment).joinedload(Establishment.company),
            joinedload(Declaration.submission),
            selectinload(Declaration.addenda).joinedload(ReserveAddendum.upload),
            selectinload(Declaration.addenda).joinedload(ReserveAddendum.submitted_by),
            selectinload(Declaration.events).joinedload(DeclarationEvent.user),
        )
    )


def _open(user: User, reference: str, authorize, action: str) -> Declaration:
    declaration = _by_reference(reference)
    authorize(user, Service.DAT, declaration)
    audit.record(
        action,
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
    )
    db.session.commit()
    return declaration


def open_declaration(user: User, reference: str, *, action: str = "read") -> Declaration:
    """A declaration on the employer's side (404 unknown or not visible, 403 without DAT), audited."""
    return _open(user, reference, _employer_side, f"dat.{action}")


def _employer_side(user: User, service: Service, declaration: Declaration | None) -> None:
    access.authorize_employer_side(user, service, declaration.establishment if declaration else None)


def open_for_caisse(agent: User, reference: str, *, action: str = "read") -> Declaration:
    """A declaration on the CPAM's side (404 unless the agent's caisse is competent for it: the
    victim's CPAM, SPEC §1), audited."""
    return _open(agent, reference, access.authorize_caisse_declaration, f"dat.caisse_{action}")


@dataclass
class Section:
    step: str
    title: str
    rows: list[tuple[str, str, str]]


def sections(declaration: Declaration) -> list[Section]:
    """The declared answers by section, as people read them (same rows as "Vérifier vos réponses")."""
    answers = declaration.answers
    return [
        Section(step, title, dat_forms.step_rows(step, answers[step]))
        for step, title in STEP_SECTIONS
        if step in answers
    ]


def declarant(declaration: Declaration) -> dict:
    return declaration.submission.data.get("declaration", {})


def reserves_deadline(declaration: Declaration) -> Deadline:
    return rules.reserves_deadline(declaration.submitted_at, declaration.departement)


def reserves_open(declaration: Declaration, now: datetime | None = None) -> bool:
    return rules.reserves_open(declaration.submitted_at, declaration.departement, now_utc(now))


def attachment_of(declaration: Declaration) -> Upload | None:
    """The file attached to the reserves made in the declaration itself."""
    value = declaration.answers.get("reserves", {}).get("piece_jointe")
    if not value or not str(value).isdigit():
        return None
    return db.session.get(Upload, int(value))


def has_any_reserves(declaration: Declaration) -> bool:
    return declaration.has_reserves or bool(declaration.addenda)


def facts(declaration: Declaration, now: datetime | None = None) -> rules.CaseFacts:
    return rules.CaseFacts(
        cmi_received=declaration.cmi_received_on is not None,
        has_reserves=has_any_reserves(declaration),
        reserves_window_closed=not reserves_open(declaration, now),
        qrpro_case=qrpro_cases.instructed_case_reference(declaration.id) or "",
    )


def d0(declaration: Declaration) -> date | None:
    return rules.d0(declaration.submitted_at, declaration.cmi_received_on, declaration.departement)


def caisse_of(declaration: Declaration) -> Caisse | None:
    """The competent CPAM (SPEC §1): the one of the victim's residence (named on the feuille
    d'accident, and the deposit of the accusé de réception in LUCIE)."""
    for caisse in db.session.scalars(select(Caisse).where(Caisse.kind == "cpam").order_by(Caisse.id)):
        if caisse.covers(declaration.cpam_departement):
            return caisse
    return None
