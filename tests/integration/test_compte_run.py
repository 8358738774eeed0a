"""A notification run's figures read in bulk (app/services/compte/prefetch.py) give the same calculation as
`compute` reading them one query at a time, and cost no statement per establishment once read."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Letter, NotifiedRate
from app.services import compte
from app.services.compte.notification import serialize
from app.services.compte.prefetch import RunFigures
from tests.compte_support import World, csv_bytes, make_world
from tests.factories import make_establishment


@pytest.fixture
def world(app) -> World:
    return make_world()


class Statements:
    def __init__(self):
        self.count = 0

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


def _serialized(result) -> dict:
    calculation, context = result
    return json.loads(serialize(calculation, **context))


def _both_ways(establishment, year):
    alone = _serialized(compte.compute(establishment, year))
    figures = RunFigures(year)
    figures.load([establishment.id])
    return alone, _serialized(compte.compute(establishment, year, figures=figures))


def test_the_run_figures_give_the_same_calculation(world):
    alone, bulk = _both_ways(world.metz, 2025)
    assert alone == bulk
    assert alone["mode"] == "mixte" and alone["risk_value"] == "43673.00"


def test_with_a_previous_rate_the_cap_reads_the_same_figure(world):
    db.session.add(
        NotifiedRate(
            establishment_id=world.metz.id, year=2024, mode="mixte", rate=Decimal("4.00"), calculation="{}"
        )
    )
    db.session.commit()
    alone, bulk = _both_ways(world.metz, 2025)
    assert alone == bulk
    assert alone["cap"]["previous"] == "4.00" and alone["cap"]["direction"] == "hausse"
    assert alone["displayed"] == "5.00"


def test_a_taux_unique_reads_its_pooled_figures_as_before(world):
    thionville = make_establishment(world.company, departement="57", name="Béton de l'Est — Thionville")
    db.session.commit()
    profiles = csv_bytes("siret;ctn;taux_unique", f"{world.metz.siret};A;oui", f"{thionville.siret};A;oui")
    assert compte.import_profiles(profiles).ok
    wages = ["siret;annee;masse_salariale;effectif"]
    wages += [f"{thionville.siret};{year};450000;0" for year in (2021, 2022, 2023)]
    assert compte.import_wages(csv_bytes(*wages)).ok
    alone, bulk = _both_ways(world.metz, 2025)
    assert alone == bulk
    assert alone["context"]["pooled"] == 2 and alone["total_wages"] == "2750000.00"


def test_compute_with_the_run_figures_issues_no_statement(world):
    figures = RunFigures(2025)
    figures.load([world.metz.id])
    compte.compute(world.metz, 2025, figures=figures)  # reads the reference figures once for the run
    with Statements() as statements:
        compte.compute(world.metz, 2025, figures=figures)
    assert statements.count == 0
    with Statements() as statements:
        compte.compute(world.metz, 2025)
    assert statements.count >= 8  # profile, headcount, wages, claims, previous rate, three references


def test_a_run_notifies_once_even_without_the_existence_check(world):
    assert [o.status for o in compte.notify_year(2025)] == ["created"]
    assert list(compte.notify_year(2025)) == []  # the pending query skips it
    # An establishment notified meanwhile (another run) ends as "exists" through the unique constraint.
    figures = RunFigures(2025)
    figures.load([world.metz.id])
    outcome = compte.notify_establishment(world.metz, 2025, figures=figures)
    assert outcome.status == "exists"
    assert db.session.scalar(select(func.count()).select_from(NotifiedRate)) == 1
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 1
