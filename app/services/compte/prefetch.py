"""What a notification run reads in bulk (`notify_year`): per batch of establishments, their profiles,
their companies' headcounts, their wages, claims and previous rates, one query each; per run, the
reference figures (barème, majorations, collective rates) and the Carsats, once.

`compute` reads the same figures one query at a time when it is given no `RunFigures` (the screen that
notifies one establishment): the answers are the same (tests/integration/test_compte_run.py), only the
number of round trips to the database differs — about ten fewer per establishment, which a run over
100 000 establishments pays 100 000 times. The rows are plain rows (not ORM objects), so the commit of
each establishment expires none of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select

from app.domain.rates import headcount_year, reference_years
from app.extensions import db
from app.models import Caisse, Claim, Establishment, NotifiedRate, RateProfile, WageYear

from .reference import MissingReference

PROFILE_COLUMNS = (
    RateProfile.establishment_id,
    RateProfile.ctn,
    RateProfile.btp,
    RateProfile.created_on,
    RateProfile.taux_unique,
    RateProfile.always_collective,
)
CLAIM_COLUMNS = (
    Claim.establishment_id,
    Claim.reference,
    Claim.kind,
    Claim.recognised_on,
    Claim.imputation_year,
    Claim.stoppage_days,
    Claim.ip_rate,
    Claim.death,
    Claim.btp_group,
)


class RunFigures:
    """The figures of one run for ``year``: `load` a batch of establishment ids, then ask."""

    def __init__(self, year: int):
        self.year = year
        self.years = reference_years(year)
        self._references: dict[tuple, tuple[Any, MissingReference | None]] = {}
        self._carsats: list[Caisse] | None = None
        self.profiles: dict[int, Any] = {}
        self.headcounts: dict[int, int] = {}
        self.wages: dict[int, list[Any]] = {}
        self.claims: dict[int, list[Any]] = {}
        self.previous: dict[int, Any] = {}

    def load(self, ids: Iterable[int]) -> None:
        """Read the figures of these establishments (a batch), replacing the previous batch's."""
        ids = list(ids)
        self.profiles = {
            row.establishment_id: row
            for row in db.session.execute(
                select(*PROFILE_COLUMNS).where(RateProfile.establishment_id.in_(ids))
            )
        }
        companies = select(Establishment.company_id).where(Establishment.id.in_(ids))
        self.headcounts = dict(
            db.session.execute(
                select(Establishment.company_id, func.sum(WageYear.headcount))
                .join(WageYear, WageYear.establishment_id == Establishment.id)
                .where(Establishment.company_id.in_(companies), WageYear.year == headcount_year(self.year))
                .group_by(Establishment.company_id)
            ).all()
        )
        self.wages = defaultdict(list)
        for row in db.session.execute(
            select(WageYear.establishment_id, WageYear.year, WageYear.wages).where(
                WageYear.establishment_id.in_(ids), WageYear.year.in_(self.years)
            )
        ):
            self.wages[row.establishment_id].append(row)
        self.claims = defaultdict(list)
        for row in db.session.execute(
            select(*CLAIM_COLUMNS)
            .where(Claim.establishment_id.in_(ids), Claim.imputation_year.in_(self.years))
            .order_by(Claim.imputation_year, Claim.reference)
        ):
            self.claims[row.establishment_id].append(row)
        previous = select(
            NotifiedRate.establishment_id, NotifiedRate.year, NotifiedRate.rate, NotifiedRate.mode
        ).where(NotifiedRate.establishment_id.in_(ids), NotifiedRate.year == self.year - 1)
        self.previous = {row.establishment_id: row for row in db.session.execute(previous)}

    def headcount(self, company_id: int) -> int:
        return self.headcounts.get(company_id) or 0

    def reference(self, key: tuple, read: Callable[[], Any]) -> Any:
        """``read()`` once per run and key; a missing figure stays missing for the run (raised again)."""
        if key not in self._references:
            try:
                self._references[key] = (read(), None)
            except MissingReference as error:
                self._references[key] = (None, error)
        value, error = self._references[key]
        if error is not None:
            raise MissingReference(str(error))
        return value

    def carsats(self) -> list[Caisse]:
        """The Carsats, read once and detached from the session (each establishment's commit would
        expire them)."""
        if self._carsats is None:
            self._carsats = list(
                db.session.scalars(select(Caisse).where(Caisse.kind == "carsat").order_by(Caisse.id))
            )
            for caisse in self._carsats:
                db.session.expunge(caisse)
        return self._carsats
