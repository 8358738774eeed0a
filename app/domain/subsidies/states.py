"""The dossier's states (`Status`) and THE table of their transitions (`TRANSITIONS`, `check_transition`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final


class Status(enum.StrEnum):
    """Where a subsidy dossier stands (SPEC §7; démarches-simplifiées' states)."""

    BROUILLON = "brouillon"
    DEPOSEE = "deposee"
    EN_INSTRUCTION = "en_instruction"
    COMPLEMENT_DEMANDE = "complement_demande"
    ACCEPTEE = "acceptee"
    REFUSEE = "refusee"
    VERSEMENT_DEMANDE = "versement_demande"
    PAYEE = "payee"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: Final = {
    Status.BROUILLON: "Brouillon",
    Status.DEPOSEE: "Déposée",
    Status.EN_INSTRUCTION: "En instruction",
    Status.COMPLEMENT_DEMANDE: "Complément demandé",
    Status.ACCEPTEE: "Acceptée",
    Status.REFUSEE: "Refusée",
    Status.VERSEMENT_DEMANDE: "Versement demandé",
    Status.PAYEE: "Payée",
}

# THE transitions. A reservation is filed, instructed (the Carsat may ask for completion, and the employer's
# completion sends it back to instruction), then accepted or refused; an accepted reservation gets its payment
# request, which the Carsat pays, refuses, or asks to complete (the completion then returns to the payment
# request: the service knows which from the dossier's history). A payment request without reservation is
# allowed: the draft goes straight to « versement demandé ». Refused and paid are final.
TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    Status.BROUILLON: frozenset({Status.DEPOSEE, Status.VERSEMENT_DEMANDE}),
    Status.DEPOSEE: frozenset({Status.EN_INSTRUCTION}),
    Status.EN_INSTRUCTION: frozenset({Status.COMPLEMENT_DEMANDE, Status.ACCEPTEE, Status.REFUSEE}),
    Status.COMPLEMENT_DEMANDE: frozenset({Status.EN_INSTRUCTION, Status.VERSEMENT_DEMANDE, Status.REFUSEE}),
    Status.ACCEPTEE: frozenset({Status.VERSEMENT_DEMANDE}),
    Status.VERSEMENT_DEMANDE: frozenset({Status.COMPLEMENT_DEMANDE, Status.PAYEE, Status.REFUSEE}),
    Status.REFUSEE: frozenset(),
    Status.PAYEE: frozenset(),
}


class TransitionRefused(ValueError):
    """A status change the rules forbid; the message is the French text shown to the person who tried it."""


def check_transition(current: Status | str, target: Status | str) -> Status:
    """`target` as a Status if a dossier may go there from `current`; TransitionRefused (French) if not."""
    current, target = Status(current), Status(target)
    if target not in TRANSITIONS[current]:
        if not TRANSITIONS[current]:
            raise TransitionRefused(
                f"Un dossier « {current.label} » est clos : il ne peut plus changer d'état."
            )
        raise TransitionRefused(
            f"Un dossier « {current.label} » ne peut pas passer à l'état « {target.label} »."
        )
    return target
