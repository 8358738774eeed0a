"""What the employer sees of its Compte AT/MP (SPEC §5.3): the notified rates with their calculation, the
claims that will weigh on future rates, the bilan individuel, the attestation des indicateurs."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select

from app.domain.rates import case_cost, display_rate
from app.domain.rates.arithmetic import DIVISION
from app.domain.rates.indicators import (
    band_bounds,
    display_indicator,
    frequency_index,
    frequency_rate,
    gravity_rate,
    size_band,
)
from app.extensions import db
from app.models import (
    Attestation,
    Claim,
    Establishment,
    NotifiedRate,
    RateProfile,
    Service,
    User,
    WageYear,
)
from app.services import access, audit
from app.services.pdf import render_pdf

from .notification import MODE_LABELS, case_of
from .reference import MissingReference, costs_for, latest_bareme_year

RATES_SHOWN = 3


def navigation_entry(user: User) -> bool:
    """Whether the main navigation shows « Compte AT/MP » to ``user``: a Carsat agent with a caisse, or
    someone holding the service on an establishment."""
    if user.is_agent:
        return user.kind == "carsat" and user.caisse_id is not None
    return bool(access.employer_side_establishments(user, Service.COMPTE))


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper


@dataclass(frozen=True)
class RateView:
    rate: NotifiedRate
    calc: dict[str, Any]


def notified_rates(establishment: Establishment, limit: int = RATES_SHOWN) -> list[RateView]:
    """The last notified rates, newest first, each with its parsed calculation."""
    rows = db.session.scalars(
        select(NotifiedRate)
        .where(NotifiedRate.establishment_id == establishment.id)
        .order_by(NotifiedRate.year.desc())
        .limit(limit)
    )
    return [RateView(row, json.loads(row.calculation)) for row in rows]


def latest_rates(establishments: list[Establishment]) -> dict[int, NotifiedRate]:
    """Each establishment's last notified rate (one query per 500 establishments), by establishment id."""
    ids = [e.id for e in establishments]
    result: dict[int, NotifiedRate] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        last = (
            select(NotifiedRate.establishment_id, func.max(NotifiedRate.year).label("year"))
            .where(NotifiedRate.establishment_id.in_(chunk))
            .group_by(NotifiedRate.establishment_id)
            .subquery()
        )
        query = select(NotifiedRate).join(
            last,
            (NotifiedRate.establishment_id == last.c.establishment_id) & (NotifiedRate.year == last.c.year),
        )
        result.update((row.establishment_id, row) for row in db.session.scalars(query))
    return result


def notified_rate(establishment: Establishment, year: int) -> RateView | None:
    row = db.session.scalar(
        select(NotifiedRate).where(
            NotifiedRate.establishment_id == establishment.id, NotifiedRate.year == year
        )
    )
    if row is None:
        return None
    audit.record(
        "compte.read_rate", "compte_notified_rate", row.id, establishment_id=establishment.id, year=year
    )
    db.session.commit()
    return RateView(row, json.loads(row.calculation))


def profile_of(establishment: Establishment) -> RateProfile | None:
    return db.session.scalar(select(RateProfile).where(RateProfile.establishment_id == establishment.id))


@dataclass(frozen=True)
class UpcomingClaim:
    claim: Claim
    cost: Decimal | None
    effect: Decimal | None  # estimated effect on the gross individual rate, in points
    years: tuple[int, ...]  # the rates it will weigh on


def upcoming_claims(establishment: Establishment) -> list[UpcomingClaim]:
    """Claims that will weigh on rates not yet notified (imputed to Y: rates Y+2 to Y+4), with an estimate
    of their effect on the gross individual rate: their cost at the latest barème loaded for the CTN over
    the wages of the three last years known [estimate, shown as such]."""
    last = db.session.scalar(
        select(func.max(NotifiedRate.year)).where(NotifiedRate.establishment_id == establishment.id)
    )
    floor = (last or 0) - 1  # imputed to Y ≥ last − 1: still weighs on last + 1 (Y + 2 … Y + 4)
    claims = list(
        db.session.scalars(
            select(Claim)
            .where(Claim.establishment_id == establishment.id, Claim.imputation_year >= floor)
            .order_by(Claim.imputation_year.desc(), Claim.reference)
        )
    )
    profile = profile_of(establishment)
    costs = None
    if profile is not None and (bareme_year := latest_bareme_year(profile.ctn)) is not None:
        try:
            costs = costs_for(profile.ctn, bareme_year, establishment.departement)
        except MissingReference:
            costs = None
    wages = db.session.scalars(
        select(WageYear.wages)
        .where(WageYear.establishment_id == establishment.id)
        .order_by(WageYear.year.desc())
        .limit(3)
    ).all()
    total = sum(wages, Decimal(0))
    result = []
    for claim in claims:
        cost = effect = None
        if costs is not None:
            try:
                cost = case_cost(case_of(claim), costs).cost
            except ValueError:
                cost = None
        if cost is not None and total > 0:
            effect = display_rate(DIVISION.divide(cost * 100, total))
        years = tuple(
            y for y in range(claim.imputation_year + 2, claim.imputation_year + 5) if y > (last or 0)
        )
        result.append(UpcomingClaim(claim, cost, effect, years))
    return result


# -- bilan individuel -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorYear:
    year: int
    headcount: int
    hours: int | None
    accidents: int  # AT with stoppage
    days: int
    frequency_index: Decimal | None
    frequency_rate: Decimal | None
    gravity_rate: Decimal | None
    reference_frequency_index: Decimal | None
    reference_frequency_rate: Decimal | None
    reference_gravity_rate: Decimal | None


def _counts(establishment_ids, year: int) -> tuple[int, int]:
    with_stoppage = and_(Claim.kind == "at", Claim.stoppage_days > 0)
    accidents, days = db.session.execute(
        select(
            func.coalesce(func.sum(case((with_stoppage, 1), else_=0)), 0),
            func.coalesce(func.sum(case((with_stoppage, Claim.stoppage_days), else_=0)), 0),
        ).where(Claim.establishment_id.in_(establishment_ids), Claim.imputation_year == year)
    ).one()
    return int(accidents), int(days)


def bilan(establishment: Establishment, years: int = 3) -> list[IndicatorYear]:
    """The bilan individuel: per year (the last ``years`` with wages), the indice de fréquence, taux de
    fréquence and taux de gravité, each beside the same figures for the establishments of the same code
    risque and size band (SPEC §5.3). Oldest year first."""
    rows = list(
        db.session.scalars(
            select(WageYear)
            .where(WageYear.establishment_id == establishment.id)
            .order_by(WageYear.year.desc())
            .limit(years)
        )
    )
    result = []
    for row in reversed(rows):
        accidents, days = _counts(
            select(Establishment.id).where(Establishment.id == establishment.id), row.year
        )
        lower, upper = band_bounds(row.headcount)
        peers = (
            select(WageYear.establishment_id)
            .join(Establishment, Establishment.id == WageYear.establishment_id)
            .where(
                WageYear.year == row.year,
                Establishment.code_risque == establishment.code_risque,
                WageYear.headcount >= lower,
            )
        )
        if upper is not None:
            peers = peers.where(WageYear.headcount < upper)
        peer_headcount, peer_hours = db.session.execute(
            select(func.coalesce(func.sum(WageYear.headcount), 0), func.sum(WageYear.hours)).where(
                WageYear.year == row.year, WageYear.establishment_id.in_(peers)
            )
        ).one()
        peer_accidents, peer_days = _counts(peers, row.year)
        result.append(
            IndicatorYear(
                year=row.year,
                headcount=row.headcount,
                hours=row.hours,
                accidents=accidents,
                days=days,
                frequency_index=display_indicator(frequency_index(accidents, row.headcount)),
                frequency_rate=display_indicator(frequency_rate(accidents, row.hours)),
                gravity_rate=display_indicator(gravity_rate(days, row.hours)),
                reference_frequency_index=display_indicator(frequency_index(peer_accidents, peer_headcount)),
                reference_frequency_rate=display_indicator(frequency_rate(peer_accidents, peer_hours)),
                reference_gravity_rate=display_indicator(gravity_rate(peer_days, peer_hours)),
            )
        )
    return result


# -- attestation des indicateurs ------------------------------------------------------------------------


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str | None) -> str:
    """A code as typed (spaces, lower case, with or without dashes) in its printed form."""
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(raw) != 12:
        return ""
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def issue_attestation(user: User, establishment: Establishment) -> Attestation:
    """Issue an attestation des indicateurs (identity, code risque, mode, three years of indicators)."""
    rates = notified_rates(establishment, 1)
    indicators = bilan(establishment)
    content = {
        "name": establishment.name,
        "siret": establishment.siret,
        "address": f"{establishment.address}, {establishment.postal_code} {establishment.city}",
        "code_risque": establishment.code_risque,
        "mode": MODE_LABELS.get(rates[0].rate.mode, "") if rates else "Aucun taux notifié",
        "rate_year": rates[0].rate.year if rates else None,
        "size_band": size_band(indicators[-1].headcount) if indicators else "",
        "indicators": [
            {
                "year": item.year,
                "frequency_index": _text(item.frequency_index),
                "frequency_rate": _text(item.frequency_rate),
                "gravity_rate": _text(item.gravity_rate),
                "reference_frequency_index": _text(item.reference_frequency_index),
                "reference_frequency_rate": _text(item.reference_frequency_rate),
                "reference_gravity_rate": _text(item.reference_gravity_rate),
            }
            for item in indicators
        ],
    }
    attestation = Attestation(
        code=_new_code(),
        establishment_id=establishment.id,
        issued_by_id=user.id,
        content=json.dumps(content, ensure_ascii=False),
    )
    db.session.add(attestation)
    db.session.flush()
    audit.record(
        "compte.attestation",
        "compte_attestation",
        attestation.id,
        establishment_id=establishment.id,
        actor=user,
    )
    db.session.commit()
    return attestation


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def attestation_for(establishment: Establishment, code: str) -> Attestation | None:
    return db.session.scalar(
        select(Attestation).where(Attestation.establishment_id == establishment.id, Attestation.code == code)
    )


def check_attestation(code: str | None) -> Attestation | None:
    """The attestation bearing ``code`` (typed in any case, with or without dashes), or None."""
    printed = normalize_code(code)
    if not printed:
        return None
    return db.session.scalar(select(Attestation).where(Attestation.code == printed))


def attestation_content(attestation: Attestation) -> dict[str, Any]:
    return json.loads(attestation.content)


def attestation_pdf(attestation: Attestation, check_url: str) -> bytes:
    return render_pdf(
        "pdf/attestation_indicateurs.html",
        attestation=attestation,
        content=attestation_content(attestation),
        check_url=check_url,
    )
