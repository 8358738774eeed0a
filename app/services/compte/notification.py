"""The yearly rate notification (issue 15 §3; SPEC §4, §5): compute each establishment's rate with its whole
calculation, store it, render the notification PDF (decision, calculation, recourse notice) and deposit it
in the establishment's LUCIE mailbox through THE deposit service (its alert e-mails and legal dating come
with it: the first consultation by a person of the company, else deposit + 15 days).

Idempotent per establishment and year (a unique row; a second run skips it), one transaction per
establishment (the rate, its letter and the alerts commit together), so a run that crashes resumes where it
stopped: `notify_year` walks only the establishments without a rate for the year.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain.lucie import APPEAL_BASIS, LetterType
from app.domain.rates import (
    COLLECTIF,
    RateCalculation,
    calculate,
    headcount_year,
    ip_category,
    it_category,
    mode_for,
    reference_years,
)
from app.extensions import db
from app.models import (
    Caisse,
    Claim,
    Establishment,
    LetterSource,
    NotifiedRate,
    RateProfile,
    User,
    WageYear,
)
from app.services import audit
from app.services.lucie import DepositRefused, deposit_letter
from app.services.pdf import render_pdf

from .prefetch import RunFigures
from .reference import MissingReference, collective_rate_for, costs_for, majorations_for, region_of

# The legal basis printed with the calculation (SPEC §5; articles of the Code de la sécurité sociale).
LEGAL_BASIS = (
    (
        "Mode de tarification",
        "articles D242-6-2 (effectif de l'entreprise), D242-37 (Alsace-Moselle), "
        "D242-6-14 (activités toujours au taux collectif) et D242-6-17 (établissements nouveaux)",
    ),
    (
        "Taux brut",
        "article D242-6-9 : valeur du risque des trois dernières années connues rapportée à la "
        "masse salariale des mêmes années ; coûts moyens par catégorie fixés chaque année par arrêté",
    ),
    (
        "Taux net",
        "majorations M1 (accidents de trajet), M2 (frais de gestion), M3 (charges mutualisées) et "
        "M4 (compte professionnel de prévention) fixées chaque année par arrêté",
    ),
    ("Taux mixte", "article D242-6-2 : part du taux individuel croissant avec l'effectif"),
    ("Plafonnement", "article D242-6-15 : variation limitée par rapport au taux de l'année précédente"),
)
RECOURSE_NOTICE = (
    "Vous pouvez contester cette décision dans un délai de deux mois à compter de sa notification, par un "
    "recours préalable auprès de la commission de recours amiable de votre Carsat. " + APPEAL_BASIS
)
MODE_LABELS = {"collectif": "Taux collectif", "mixte": "Taux mixte", "individuel": "Taux individuel"}
REASON_LABELS = {
    "headcount": "effectif de l'entreprise",
    "new_establishment": "établissement nouveau (année de création et deux années suivantes)",
    "always_collective": "activité toujours tarifée au taux collectif",
}


class NotComputable(Exception):
    """The rate cannot be computed (a missing figure or profile): French message for the report."""


@dataclass(frozen=True)
class Outcome:
    siret: str
    status: str  # created | exists | error
    message: str = ""
    rate: NotifiedRate | None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def serialize(calculation: RateCalculation, **context: Any) -> str:
    """The calculation as JSON, exact decimals as strings, with what it was computed from (``context``)."""
    data = asdict(calculation)
    if calculation.cases is not None:
        for item, case in zip(data["cases"], calculation.cases, strict=True):
            item["cost"] = case.cost
    data["cap_applied"] = calculation.cap.applied if calculation.cap is not None else False
    data["context"] = context
    return json.dumps(_jsonable(data), ensure_ascii=False, sort_keys=True)


def company_headcount(company_id: int, year: int) -> int:
    """The company's headcount E for ``year``: the sum of its establishments' headcounts that year."""
    return db.session.scalar(
        select(func.coalesce(func.sum(WageYear.headcount), 0))
        .join(Establishment, Establishment.id == WageYear.establishment_id)
        .where(Establishment.company_id == company_id, WageYear.year == year)
    )


def case_of(claim: Claim) -> dict[str, Any]:
    """A claim as the calculation reads a case (app.domain.rates.case_cost)."""
    return {
        "it": it_category(claim.stoppage_days),
        "ip": ip_category(claim.ip_rate, death=claim.death),
        "trajet": claim.kind == "trajet",
        "btp_group": claim.btp_group,
        "year": claim.imputation_year,
        "reference": claim.reference,
    }


def previous_rate(establishment_id: int, year: int) -> NotifiedRate | None:
    return db.session.scalar(
        select(NotifiedRate).where(
            NotifiedRate.establishment_id == establishment_id, NotifiedRate.year == year - 1
        )
    )


def pooled_establishments(establishment: Establishment, profile: RateProfile) -> list[int]:
    """The establishments whose wages and claims make the rate: the establishment alone, or with a taux
    unique every establishment of the company with the same code risque and a taux unique too — closed
    ones included, as their rows stay (SPEC §5.2)."""
    if not profile.taux_unique:
        return [establishment.id]
    return list(
        db.session.scalars(
            select(Establishment.id)
            .join(RateProfile, RateProfile.establishment_id == Establishment.id)
            .where(
                Establishment.company_id == establishment.company_id,
                Establishment.code_risque == establishment.code_risque,
                RateProfile.taux_unique.is_(True),
            )
            .order_by(Establishment.id)
        )
    )


def compute(
    establishment: Establishment, year: int, *, figures: RunFigures | None = None
) -> tuple[RateCalculation, dict[str, Any]]:
    """The rate of ``establishment`` for ``year`` from the stored figures, and its context (what it
    was computed from). Raises NotComputable with a French message. ``figures``: a run's figures read in
    bulk (`notify_year`), else one query each — the same answers.

    E is the company's headcount of the last reference year (N-2): `headcount_year` (a reading to
    confirm, app.domain.rates.constants.HEADCOUNT_YEAR_BEFORE); the cap compares with the rate notified
    for N-1 when that one was mixed or individual (D242-6-15)."""
    prefetched = figures is not None and establishment.id in figures.profiles
    if prefetched:
        profile = figures.profiles[establishment.id]
    else:
        profile = db.session.scalar(
            select(RateProfile).where(RateProfile.establishment_id == establishment.id)
        )
    if profile is None:
        raise NotComputable("Profil de tarification (CTN) non renseigné.")
    years = reference_years(year)
    if prefetched:
        headcount = figures.headcount(establishment.company_id)
    else:
        headcount = company_headcount(establishment.company_id, headcount_year(year))
    pooled = pooled_establishments(establishment, profile)
    wages = dict.fromkeys(years, Decimal(0))
    if prefetched and len(pooled) == 1:
        wage_rows = figures.wages.get(establishment.id, [])
        claims = figures.claims.get(establishment.id, [])
    else:
        wage_rows = db.session.scalars(
            select(WageYear).where(WageYear.establishment_id.in_(pooled), WageYear.year.in_(years))
        )
        claims = list(
            db.session.scalars(
                select(Claim)
                .where(Claim.establishment_id.in_(pooled), Claim.imputation_year.in_(years))
                .order_by(Claim.imputation_year, Claim.reference)
            )
        )
    for row in wage_rows:
        wages[row.year] += row.wages
    last = figures.previous.get(establishment.id) if prefetched else previous_rate(establishment.id, year)
    previous = last.rate if last is not None and last.mode != COLLECTIF else None
    try:
        collective = _reference(
            figures,
            ("collective", establishment.code_risque, year, region_of(establishment.departement)),
            lambda: collective_rate_for(establishment.code_risque, year, establishment.departement),
        )
        common = {
            "year": year,
            "headcount": headcount,
            "departement": establishment.departement,
            "collective_rate": collective,
            "btp": profile.btp,
            "created_on": profile.created_on,
            "taux_unique": profile.taux_unique,
            "always_collective": profile.always_collective,
        }
        mode = mode_for(
            year,
            headcount,
            establishment.departement,
            btp=profile.btp,
            created_on=profile.created_on,
            taux_unique=profile.taux_unique,
            always_collective=profile.always_collective,
        )
        if mode == COLLECTIF:  # a collective rate needs nothing more
            calculation = calculate(**common)
        else:
            if sum(wages.values()) == 0:
                raise NotComputable(f"Aucune masse salariale pour les années {years[0]} à {years[-1]}.")
            calculation = calculate(
                **common,
                wages=wages,
                cases=[case_of(claim) for claim in claims],
                costs=dict(
                    _reference(
                        figures,
                        ("costs", profile.ctn, year, region_of(establishment.departement)),
                        lambda: costs_for(profile.ctn, year, establishment.departement),
                    )
                ),
                majorations=_reference(figures, ("majorations", year), lambda: majorations_for(year)),
                previous_rate=previous,
            )
    except MissingReference as error:
        raise NotComputable(str(error)) from error
    except (ValueError, TypeError) as error:  # e.g. a BTP case without its group
        raise NotComputable(f"Calcul impossible : {error}") from error
    context = {
        "siret": establishment.siret,
        "name": establishment.name,
        "code_risque": establishment.code_risque,
        "ctn": profile.ctn,
        "region": region_of(establishment.departement),
        "pooled": len(pooled) if len(pooled) > 1 else None,
        "claims": {
            claim.reference: {
                "kind": claim.kind,
                "stoppage_days": claim.stoppage_days,
                "ip_rate": claim.ip_rate,
                "death": claim.death,
                "recognised_on": claim.recognised_on.isoformat(),
            }
            for claim in claims
        },
        "previous": {"year": last.year, "rate": last.rate, "mode": last.mode} if last is not None else None,
    }
    return calculation, context


def _reference(figures: RunFigures | None, key: tuple, read):
    return figures.reference(key, read) if figures is not None else read()


def _carsat_of(establishment: Establishment, figures: RunFigures | None = None) -> Caisse | None:
    carsats = (
        figures.carsats()
        if figures is not None
        else db.session.scalars(select(Caisse).where(Caisse.kind == "carsat").order_by(Caisse.id))
    )
    for caisse in carsats:
        if caisse.covers(establishment.departement):
            return caisse
    return None


def notify_establishment(
    establishment: Establishment, year: int, *, actor: User | None = None, figures: RunFigures | None = None
) -> Outcome:
    """Compute, store and notify the rate of ``year`` for one establishment (idempotent). With a run's
    ``figures`` (`notify_year`, which has just read that no rate exists) the check is left to the
    unique constraint: a rate stored meanwhile by another run ends as ``exists``."""
    if figures is None:
        existing = db.session.scalar(
            select(NotifiedRate).where(
                NotifiedRate.establishment_id == establishment.id, NotifiedRate.year == year
            )
        )
        if existing is not None:
            return Outcome(establishment.siret, "exists", "Taux déjà notifié.", existing)
    try:
        calculation, context = compute(establishment, year, figures=figures)
    except NotComputable as error:
        return Outcome(establishment.siret, "error", str(error))
    rate = NotifiedRate(
        establishment_id=establishment.id,
        year=year,
        mode=calculation.mode,
        rate=calculation.displayed,
        calculation=serialize(calculation, **context),
    )
    db.session.add(rate)
    try:
        db.session.flush()
        caisse = _carsat_of(establishment, figures)
        document = render_pdf(
            "pdf/notification_taux.html",
            establishment=establishment,
            rate=rate,
            calc=json.loads(rate.calculation),
            caisse=caisse,
            legal_basis=LEGAL_BASIS,
            recourse=RECOURSE_NOTICE,
            mode_labels=MODE_LABELS,
            reason_labels=REASON_LABELS,
        )
        try:
            deposit = deposit_letter(
                establishment=establishment,
                letter_type=LetterType.NOTIFICATION_TAUX,
                title=f"Notification de votre taux AT/MP {year}",
                document=document,
                filename=f"notification-taux-{year}-{establishment.siret}.pdf",
                source=LetterSource.SERVICE,
                case_reference=f"TAUX-{year}",
                caisse=caisse,
                deposited_by=actor,
                commit=False,
            )
            rate.letter_id = deposit.letter.id
        except DepositRefused as refused:
            rate.not_deposited = refused.message[:200]
        audit.record(
            "compte.notify",
            "compte_notified_rate",
            rate.id,
            establishment_id=establishment.id,
            actor=actor,
            year=year,
            rate=str(rate.rate),
            deposited=rate.letter_id is not None,
        )
        db.session.commit()
    except IntegrityError:
        # Another run stored this establishment's rate meanwhile: it is notified once, by that run.
        db.session.rollback()
        return Outcome(establishment.siret, "exists", "Taux déjà notifié.")
    return Outcome(establishment.siret, "created", rate.not_deposited or "", rate)


def pending_count(year: int, siret: str | None = None) -> int:
    """How many establishments with a tarification profile have no rate for ``year`` yet."""
    db.session.rollback()  # a fresh snapshot: other processes notify meanwhile
    return db.session.scalar(select(func.count()).select_from(_pending(year, siret).subquery()))


def _pending(year: int, siret: str | None, shard: tuple[int, int] | None = None):
    notified = select(NotifiedRate.establishment_id).where(NotifiedRate.year == year)
    query = (
        select(Establishment.id)
        .join(RateProfile, RateProfile.establishment_id == Establishment.id)
        .where(Establishment.id.not_in(notified))
    )
    if siret:
        query = query.where(Establishment.siret == siret)
    if shard is not None:
        index, count = shard
        query = query.where(Establishment.id % count == index)
    return query


def notify_year(
    year: int, *, siret: str | None = None, shard: tuple[int, int] | None = None, batch: int = 500
) -> Iterator[Outcome]:
    """Notify every establishment with a tarification profile and no rate for ``year`` (resumable: a
    second run walks only those still without one). Yields one Outcome per establishment. ``shard``
    (k, n): only the establishments whose id is k modulo n, so that n processes share a run. The figures
    are read per batch of ``batch`` establishments (`RunFigures`)."""
    figures = RunFigures(year)
    after = 0
    while True:
        ids = list(
            db.session.scalars(
                _pending(year, siret, shard)
                .where(Establishment.id > after)
                .order_by(Establishment.id)
                .limit(batch)
            )
        )
        if not ids:
            return
        figures.load(ids)
        for establishment_id in ids:
            establishment = db.session.get(Establishment, establishment_id)
            yield notify_establishment(establishment, year, figures=figures)
        after = ids[-1]
        db.session.expunge_all()  # a run over 100 000 establishments keeps no objects alive
