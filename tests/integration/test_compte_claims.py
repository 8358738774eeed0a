"""Claims fed by QR Pro decisions (issue 15 §1): `compte.record_recognised_case`, idempotent by the case
reference, and what the rate calculation then reads (the test world of tests/compte_support.py)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Claim
from app.services import compte
from tests.compte_support import World, make_world


@pytest.fixture
def world(app) -> World:
    return make_world()


def _claims(reference: str) -> list[Claim]:
    return list(db.session.scalars(select(Claim).where(Claim.reference == reference)))


def _record(world: World, **overrides):
    arguments = {
        "establishment": world.metz,
        "case_reference": "QRP-2023-0042",
        "kind": "at",
        "recognised_on": date(2023, 9, 14),
        "imputation_year": 2023,
        "stoppage_days": 20,
    }
    return compte.record_recognised_case(**{**arguments, **overrides})


def test_a_decision_imputes_the_case_once_and_a_second_call_updates_it(world):
    first = _record(world)
    assert first.status == "created"
    claim = _claims("QRP-2023-0042")[0]
    assert (claim.establishment_id, claim.kind, claim.source) == (world.metz.id, "at", "decision")
    assert (claim.imputation_year, claim.stoppage_days, claim.ip_rate, claim.death) == (2023, 20, None, False)

    assert _record(world).status == "unchanged"
    revised = _record(world, stoppage_days=160, ip_rate=Decimal("12.5"))
    assert revised.status == "updated"
    [claim] = _claims("QRP-2023-0042")
    assert claim.stoppage_days == 160 and claim.ip_rate == Decimal("12.50")
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("compte.claim_%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["compte.claim_created", "compte.claim_updated"]  # nothing for the unchanged call


def test_the_rate_reads_the_recognised_case_with_its_category(world):
    _record(world, stoppage_days=160, ip_rate=12)
    calculation, _ = compte.compute(world.metz, 2025)
    [case] = [c for c in calculation.cases if c.reference == "QRP-2023-0042"]
    assert (case.it, case.ip, case.year) == (6, 2, 2023)
    assert case.cost > 0


def test_a_commuting_accident_is_stored_as_trajet_and_excluded_from_the_rate(world):
    before, _ = compte.compute(world.metz, 2025)
    assert _record(world, commuting=True, stoppage_days=200).status == "created"
    assert _claims("QRP-2023-0042")[0].kind == "trajet"
    after, _ = compte.compute(world.metz, 2025)
    [case] = [c for c in after.cases if c.reference == "QRP-2023-0042"]
    assert case.trajet and case.cost == 0
    assert after.risk_value == before.risk_value


def test_a_decision_takes_over_a_case_known_from_the_history_import(world):
    [imported] = _claims("AT-23-1")
    assert imported.source == "import" and imported.stoppage_days == 10
    outcome = _record(world, case_reference="AT-23-1", recognised_on=date(2023, 1, 10), stoppage_days=10)
    assert outcome.status == "updated"  # the source changes, nothing else
    [claim] = _claims("AT-23-1")
    assert claim.source == "decision" and claim.stoppage_days == 10


def test_a_death_and_the_btp_group_are_kept(world):
    _record(world, kind="mp", death=True, btp_group="second_oeuvre")
    [claim] = _claims("QRP-2023-0042")
    assert claim.kind == "mp" and claim.death and claim.btp_group == "second_oeuvre"
    _record(world, kind="mp", death=True)  # a later call without the group keeps it
    assert _claims("QRP-2023-0042")[0].btp_group == "second_oeuvre"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "trajet"}, r"inconnue \(at ou mp\)"),
        ({"kind": "mp", "commuting": True}, "jamais une maladie"),
        ({"ip_rate": Decimal(101)}, "entre 0 et 100"),
        ({"ip_rate": "12.345"}, "deux décimales"),
        ({"stoppage_days": -1}, "Jours d'arrêt"),
        ({"case_reference": "X" * 41}, "40 caractères"),
        ({"case_reference": "  "}, "obligatoire"),
        ({"imputation_year": 2031}, "pas plausible"),
        ({"btp_group": "charpente"}, "Groupe BTP"),
    ],
)
def test_figures_that_cannot_be_a_case_are_refused_and_nothing_is_written(world, overrides, message):
    with pytest.raises(compte.CaseRefused, match=message):
        _record(world, **overrides)
    assert db.session.scalar(select(func.count()).where(Claim.source == "decision")) == 0


def test_a_float_ip_rate_is_refused(world):
    with pytest.raises(TypeError):
        _record(world, ip_rate=12.5)


def test_a_reference_imputed_to_another_establishment_is_refused(world):
    _record(world)
    with pytest.raises(compte.CaseRefused, match="autre établissement"):
        _record(world, establishment=world.paris, stoppage_days=90)
    [claim] = _claims("QRP-2023-0042")
    assert claim.establishment_id == world.metz.id and claim.stoppage_days == 20


def test_without_commit_the_case_belongs_to_the_callers_transaction(world):
    outcome = _record(world, commit=False)
    assert outcome.status == "created" and outcome.claim.id is not None  # flushed, readable in it
    db.session.rollback()
    assert _claims("QRP-2023-0042") == []


def test_the_notified_calculation_names_the_decided_case(world):
    _record(world, stoppage_days=50)
    outcome = compte.notify_establishment(world.metz, 2025)
    assert outcome.status == "created", outcome.message
    calc = json.loads(outcome.rate.calculation)
    assert calc["context"]["claims"]["QRP-2023-0042"]["stoppage_days"] == 50
