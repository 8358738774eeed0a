"""Tiers-déclarant mandates (SPEC §1): a company administrator gives a firm a mandate on one of
the company's establishments for some services, and may revoke it (kept as history, never
deleted). The firm's users see their clients in a portfolio."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Company, Establishment, Firm, Mandate, Service, User
from app.models.types import utcnow
from app.services import access, audit
from app.services.accounts import AccountError


def find_firm_by_siret(siret: str) -> Firm | None:
    return db.session.scalar(select(Firm).where(Firm.siret == siret))


def get_mandate(mandate_id: int) -> Mandate | None:
    return db.session.get(Mandate, mandate_id)


def company_mandates(company_id: int) -> list[Mandate]:
    """Every mandate given on the company's establishments: live ones first, then revoked."""
    return list(
        db.session.scalars(
            select(Mandate)
            .join(Establishment, Establishment.id == Mandate.establishment_id)
            .where(Establishment.company_id == company_id)
            .options(joinedload(Mandate.firm), joinedload(Mandate.establishment))
            .order_by(
                Mandate.revoked_at.is_not(None),
                Establishment.siret,
                Mandate.firm_id,
                Mandate.created_at,
                Mandate.id,
            )
        )
    )


def grant_mandate(
    admin: User, establishment_id: int, firm_siret: str, services: Iterable[str]
) -> list[Mandate]:
    """Give the firm with SIRET ``firm_siret`` a mandate on one of the administrator's
    establishments for ``services``. Services already under a live mandate are left as they are."""
    establishment = db.session.get(Establishment, establishment_id)
    if establishment is None or establishment.company_id != admin.company_id:
        raise AccountError("Choisissez un établissement de votre entreprise.", "establishment")
    firm = find_firm_by_siret(firm_siret)
    if firm is None:
        raise AccountError(
            "Aucun cabinet n'est inscrit avec ce SIRET. Vérifiez le numéro auprès du cabinet.",
            "firm_siret",
        )
    live = set(
        db.session.scalars(
            select(Mandate.service).where(
                Mandate.firm_id == firm.id,
                Mandate.establishment_id == establishment.id,
                Mandate.revoked_at.is_(None),
            )
        )
    )
    created = []
    for service in [str(Service(s)) for s in services]:
        if service in live:
            continue
        mandate = Mandate(firm_id=firm.id, establishment_id=establishment.id, service=service)
        db.session.add(mandate)
        created.append(mandate)
    if not created:
        raise AccountError("Ce cabinet a déjà un mandat pour ces services sur cet établissement.", "services")
    db.session.flush()
    for mandate in created:
        audit.record(
            "mandate_granted",
            "mandate",
            mandate.id,
            establishment_id=establishment.id,
            firm_siret=firm.siret,
            service=mandate.service,
        )
    try:
        db.session.commit()
    except IntegrityError:  # the same mandate given at the same moment from another tab
        db.session.rollback()
        raise AccountError(
            "Ce cabinet a déjà un mandat pour ces services sur cet établissement.", "services"
        ) from None
    access.reset_cache()
    return created


def revoke_mandate(admin: User, mandate: Mandate) -> None:
    """End a mandate now. The row stays, with its revocation time, as history."""
    if mandate.revoked_at is not None:
        return
    mandate.revoked_at = utcnow()
    audit.record(
        "mandate_revoked",
        "mandate",
        mandate.id,
        establishment_id=mandate.establishment_id,
        firm_siret=mandate.firm.siret,
        service=mandate.service,
    )
    db.session.commit()
    access.reset_cache()


@dataclass
class ClientEstablishment:
    establishment: Establishment
    services: list[Service]
    since: datetime | None


@dataclass
class ClientCompany:
    company: Company
    establishments: list[ClientEstablishment] = field(default_factory=list)


def portfolio_for(user: User) -> list[ClientCompany]:
    """The client establishments ``user``'s firm holds a live mandate for, grouped by company
    (by name), with the services of the mandates and the date of the oldest live one."""
    establishments = access.establishments_for(user)
    if not establishments:
        return []
    since = dict(
        db.session.execute(
            select(Mandate.establishment_id, func.min(Mandate.created_at))
            .where(
                Mandate.firm_id == user.firm_id,
                Mandate.revoked_at.is_(None),
                Mandate.establishment_id.in_([e.id for e in establishments]),
            )
            .group_by(Mandate.establishment_id)
        ).all()
    )
    groups: dict[int, ClientCompany] = {}
    for est in establishments:
        group = groups.setdefault(est.company_id, ClientCompany(est.company))
        group.establishments.append(
            ClientEstablishment(est, access.services_on(user, est), since.get(est.id))
        )
    return sorted(groups.values(), key=lambda g: (g.company.name.lower(), g.company.siren))
