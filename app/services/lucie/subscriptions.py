"""Subscription (company administrator): the establishments subscribed to LUCIE and their alert
addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import func, select

from app.extensions import db
from app.models import Establishment, LucieAlertAddress, LucieSubscription, User
from app.models.types import utcnow
from app.services import access, audit

from .deposit import establishment_by_siret


@dataclass(frozen=True)
class SubscriptionRow:
    establishment: Establishment
    active: bool
    addresses: int


def subscriptions_for(admin: User) -> list[SubscriptionRow]:
    """Every establishment of the administrator's company with its LUCIE subscription state."""
    access.authorize_company_admin(admin, admin.company_id)
    establishments = list(
        db.session.scalars(
            select(Establishment)
            .where(Establishment.company_id == admin.company_id)
            .order_by(Establishment.is_head_office.desc(), Establishment.siret)
        )
    )
    ids = [e.id for e in establishments]
    active = dict(
        db.session.execute(
            select(LucieSubscription.establishment_id, LucieSubscription.active).where(
                LucieSubscription.establishment_id.in_(ids)
            )
        ).all()
    )
    counts = dict(
        db.session.execute(
            select(LucieAlertAddress.establishment_id, func.count())
            .where(LucieAlertAddress.establishment_id.in_(ids))
            .group_by(LucieAlertAddress.establishment_id)
        ).all()
    )
    return [SubscriptionRow(e, bool(active.get(e.id)), counts.get(e.id, 0)) for e in establishments]


def establishment_for_admin(admin: User, siret: str) -> Establishment:
    """An establishment of the administrator's company (404 otherwise, 403 for a non-administrator)."""
    establishment = establishment_by_siret(siret)
    if establishment is None:
        abort(404)
    access.authorize_company_admin(admin, establishment.company_id)
    return establishment


def set_subscription(admin: User, establishment: Establishment, active: bool) -> None:
    """Activate or stop LUCIE on an establishment. Stopping refuses new deposits; the letters
    already deposited stay readable."""
    access.authorize_company_admin(admin, establishment.company_id)
    subscription = db.session.scalar(
        select(LucieSubscription).where(LucieSubscription.establishment_id == establishment.id)
    )
    now = utcnow()
    if subscription is None:
        if not active:
            return
        subscription = LucieSubscription(establishment_id=establishment.id, active=True, activated_at=now)
        db.session.add(subscription)
    elif subscription.active == active:
        return
    else:
        subscription.active = active
        if active:
            subscription.activated_at = now
    subscription.changed_at = now
    subscription.changed_by_id = admin.id
    audit.record(
        "lucie_subscribed" if active else "lucie_unsubscribed",
        "establishment",
        establishment.id,
        establishment_id=establishment.id,
        actor=admin,
    )
    db.session.commit()


def subscribe(establishment: Establishment, by: User | None = None) -> None:
    """Activate LUCIE on an establishment outside the administration screen (demo data, tests)."""
    subscription = db.session.scalar(
        select(LucieSubscription).where(LucieSubscription.establishment_id == establishment.id)
    )
    if subscription is None:
        db.session.add(
            LucieSubscription(
                establishment_id=establishment.id, active=True, changed_by_id=by.id if by else None
            )
        )
    else:
        subscription.active = True
    db.session.flush()


def alert_addresses(establishment: Establishment) -> list[LucieAlertAddress]:
    return list(
        db.session.scalars(
            select(LucieAlertAddress)
            .where(LucieAlertAddress.establishment_id == establishment.id)
            .order_by(LucieAlertAddress.email)
        )
    )


class AlertAddressError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def add_alert_address(admin: User, establishment: Establishment, email: str) -> LucieAlertAddress:
    access.authorize_company_admin(admin, establishment.company_id)
    email = email.strip().lower()
    exists = db.session.scalar(
        select(LucieAlertAddress.id).where(
            LucieAlertAddress.establishment_id == establishment.id, LucieAlertAddress.email == email
        )
    )
    if exists:
        raise AlertAddressError("Cette adresse reçoit déjà les alertes de cet établissement.")
    address = LucieAlertAddress(establishment_id=establishment.id, email=email, added_by_id=admin.id)
    db.session.add(address)
    db.session.flush()
    audit.record(
        "lucie_alert_address_added",
        "establishment",
        establishment.id,
        establishment_id=establishment.id,
        actor=admin,
        email=email,
    )
    db.session.commit()
    return address


def remove_alert_address(admin: User, establishment: Establishment, address_id: int) -> None:
    access.authorize_company_admin(admin, establishment.company_id)
    address = db.session.get(LucieAlertAddress, address_id)
    if address is None or address.establishment_id != establishment.id:
        abort(404)
    audit.record(
        "lucie_alert_address_removed",
        "establishment",
        establishment.id,
        establishment_id=establishment.id,
        actor=admin,
        email=address.email,
    )
    db.session.delete(address)
    db.session.commit()
