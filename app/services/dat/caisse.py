"""The CPAM side of a declaration: the CMI's date and the status changes (through
:func:`change_status` only, which applies ``app.domain.dat.check_transition``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from app.domain import dat as rules
from app.domain.calendars import local_date
from app.extensions import db
from app.models import Declaration, DeclarationEvent, Service, User
from app.services import access, audit
from app.services.qrpro import cases as qrpro_cases

from .common import now_utc
from .reading import _by_reference, d0, facts


class CmiRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def record_cmi(agent: User, reference: str, received_on: date, *, now: datetime | None = None) -> Declaration:
    """Record the day the CPAM received the initial medical certificate: with the declaration it
    fixes D0 (SPEC §3.1), the start of the instruction's calendar. Correctable until a status
    change has been made from it."""
    declaration = _by_reference(reference)
    access.authorize_caisse_declaration(agent, Service.DAT, declaration)
    moment = now_utc(now)
    if received_on > local_date(moment, declaration.departement):
        raise CmiRefused("La date de réception du certificat médical ne peut pas être dans le futur")
    if received_on < declaration.accident_on:
        raise CmiRefused("Le certificat médical initial ne peut pas avoir été reçu avant l'accident")
    if declaration.status != rules.Status.TRANSMISE:
        raise CmiRefused(
            "L'instruction ou la décision est déjà engagée : la date D0 ne peut plus être modifiée"
        )
    previous = declaration.cmi_received_on
    declaration.cmi_received_on = received_on
    declaration.cmi_recorded_at = moment
    declaration.cmi_recorded_by_id = agent.id
    qrpro_cases.cmi_recorded(declaration)  # the AT case's D0 and calendar follow (issue 13)
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=moment,
            kind="cmi",
            user_id=agent.id,
            details={
                "received_on": received_on.isoformat(),
                "previous": previous.isoformat() if previous else None,
                "d0": d0(declaration).isoformat(),
            },
        )
    )
    audit.record(
        "dat.cmi",
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
        received_on=received_on.isoformat(),
    )
    db.session.commit()
    return declaration


def change_status(
    agent: User, reference: str, target: str, *, comment: str = "", now: datetime | None = None
) -> Declaration:
    """THE way a declaration's status changes after it was sent (SPEC §2.3): the transition rules
    (``app.domain.dat.check_transition``), a timeline line and the audit, in one transaction.
    Raises ``TransitionRefused`` with the French reason."""
    declaration = _by_reference(reference)
    access.authorize_caisse_declaration(agent, Service.DAT, declaration)
    apply_status(agent, declaration, target, comment=comment, now=now)
    db.session.commit()
    return declaration


def apply_status(
    agent: User,
    declaration: Declaration,
    target: str,
    *,
    comment: str = "",
    now: datetime | None = None,
    by_qrpro: bool = False,
) -> None:
    """:func:`change_status` inside the caller's transaction, for a caller that authorized ``agent``
    already: QR Pro's instruction moves the declaration « en instruction » when it opens and to its
    decision when it is recorded (``by_qrpro``: the decision is the instruction's own). Raises
    ``TransitionRefused`` with the French reason."""
    moment = now_utc(now)
    current = declaration.status_enum
    case_facts = facts(declaration, moment)
    if by_qrpro:
        case_facts = replace(case_facts, qrpro_case="")
    rules.check_transition(current, target, case_facts)
    target_status = rules.Status(target)
    declaration.status = target_status
    declaration.status_changed_at = moment
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=moment,
            kind="statut",
            from_status=current,
            to_status=target_status,
            user_id=agent.id,
            details={"comment": comment} if comment else {},
        )
    )
    audit.record(
        "dat.status",
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
        from_status=str(current),
        to_status=str(target_status),
    )
