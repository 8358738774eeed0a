"""What a subsidy dossier's status means for the money and the people (app/domain/subsidies/dossiers.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.subsidies import (
    DECISION_TARGETS,
    TRANSITIONS,
    DecisionKind,
    Status,
    committed_amount,
    next_step,
    programme_from_data,
    read_programme_data,
)
from app.domain.subsidies.programmes import PROGRAMMES_DIR, ReferenceDataError

R, S, P, V = Decimal("8000"), Decimal("6000"), Decimal("5500"), Decimal("5400")


@pytest.mark.parametrize(
    "status, reserved, payment, paid, expected",
    [
        (Status.BROUILLON, None, None, None, Decimal(0)),
        (Status.DEPOSEE, None, None, None, R),
        (Status.EN_INSTRUCTION, None, None, None, R),
        (Status.COMPLEMENT_DEMANDE, None, None, None, R),
        (Status.ACCEPTEE, S, None, None, S),
        (Status.VERSEMENT_DEMANDE, S, P, None, S),  # the reservation holds until paid
        (Status.PAYEE, S, P, V, V),
        (Status.REFUSEE, None, None, None, Decimal(0)),
    ],
)
def test_committed_amount_of_a_reservation(status, reserved, payment, paid, expected):
    assert (
        committed_amount(status, requested=R, reserved=reserved, payment_requested=payment, paid=paid)
        == expected
    )


def test_committed_amount_of_a_payment_without_reservation():
    assert (
        committed_amount(
            Status.VERSEMENT_DEMANDE, requested=None, reserved=None, payment_requested=P, paid=None
        )
        == P
    )


def test_every_decision_leads_where_the_transitions_allow():
    for kind, target in DECISION_TARGETS.items():
        sources = [s for s, targets in TRANSITIONS.items() if target in targets]
        assert sources, kind
    assert DECISION_TARGETS[DecisionKind.VERSEMENT] == Status.PAYEE


def test_next_step_names_the_completion_date():
    assert next_step(Status.COMPLEMENT_DEMANDE, phase="devis", completion_due=date(2027, 1, 15)) == (
        "Compléter le dossier avant le 15 janvier 2027."
    )
    assert "factures acquittées" in next_step(Status.ACCEPTEE, phase="devis")
    assert next_step(Status.PAYEE, phase="facture") == "Rien : le dossier est clos."


def test_a_programme_from_its_frozen_copy_is_checked_again():
    data = read_programme_data(PROGRAMMES_DIR / "RPS.yaml")
    programme = programme_from_data(data, "RPS.yaml")
    assert programme.line_kinds["prestation"].cap_per_line == Decimal(15000)
    with pytest.raises(ReferenceDataError):
        programme_from_data({**data, "headcount": {"min": "un"}}, "RPS.yaml")
