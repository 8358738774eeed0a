"""What a dossier's status means for the money and for the people: the amount it holds under the caps
(`committed_amount`), when the employer may change it (`EDITABLE`), the decisions an agent takes
(`DecisionKind`, each with the status it leads to) and the employer's next thing to do (`next_step`).
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Final

from app.domain.dat import french_day

from .money import ZERO
from .states import Status


class Phase(enum.StrEnum):
    """The lines a dossier asks for now: quotes for a reservation, paid invoices for a payment."""

    DEVIS = "devis"
    FACTURE = "facture"


class DecisionKind(enum.StrEnum):
    ACCEPTATION = "acceptation"  # the reservation: its amount is reserved
    COMPLEMENT = "complement"  # what is missing, by when
    REFUS = "refus"  # with its reasons
    VERSEMENT = "versement"  # the payment validated


DECISION_LABELS: Final = {
    DecisionKind.ACCEPTATION: "Réservation acceptée",
    DecisionKind.COMPLEMENT: "Demande de complément",
    DecisionKind.REFUS: "Refus",
    DecisionKind.VERSEMENT: "Versement validé",
}

DECISION_TARGETS: Final = {
    DecisionKind.ACCEPTATION: Status.ACCEPTEE,
    DecisionKind.COMPLEMENT: Status.COMPLEMENT_DEMANDE,
    DecisionKind.REFUS: Status.REFUSEE,
    DecisionKind.VERSEMENT: Status.PAYEE,
}

# The employer changes the dossier's lines and attestations only while it is theirs: a draft, a request
# for completion, or an accepted reservation waiting for its invoices.
EDITABLE: Final = frozenset({Status.BROUILLON, Status.COMPLEMENT_DEMANDE, Status.ACCEPTEE})

# A Carsat agent decides on these (a filed dossier is taken into instruction by the decision itself).
DECIDABLE: Final = frozenset({Status.DEPOSEE, Status.EN_INSTRUCTION, Status.VERSEMENT_DEMANDE})


def committed_amount(
    status: Status | str,
    *,
    requested: Decimal | None,
    reserved: Decimal | None,
    payment_requested: Decimal | None,
    paid: Decimal | None,
) -> Decimal:
    """What a dossier holds under the company's caps: nothing as a draft or refused; the amount asked while
    the reservation is instructed; the reserved amount once accepted (a payment never goes above it); the
    amount asked by a payment request without reservation; the amount paid once paid."""
    status = Status(status)
    if status in (Status.BROUILLON, Status.REFUSEE):
        return ZERO
    if status == Status.PAYEE:
        return paid or ZERO
    if reserved is not None:
        return reserved
    if payment_requested is not None and requested is None:
        return payment_requested
    return requested or ZERO


def next_step(status: Status | str, *, phase: str, completion_due: date | None = None) -> str:
    """The employer's next thing to do on a dossier (French)."""
    status = Status(status)
    if status == Status.BROUILLON:
        return "Terminer et envoyer la demande."
    if status == Status.COMPLEMENT_DEMANDE:
        due = f" avant le {french_day(completion_due, weekday=False)}" if completion_due else ""
        return f"Compléter le dossier{due}."
    if status == Status.ACCEPTEE:
        return "Réaliser l'investissement, puis demander le versement avec les factures acquittées."
    if status in (Status.DEPOSEE, Status.EN_INSTRUCTION, Status.VERSEMENT_DEMANDE):
        return "Rien : la Carsat instruit la demande."
    return "Rien : le dossier est clos."
