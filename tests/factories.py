"""Factories for test data: valid SIRETs, companies, establishments, users with habilitations."""

from __future__ import annotations

import itertools

from stdnum.fr import siret as siret_check

from app.extensions import db
from app.models import (
    Caisse,
    Company,
    Establishment,
    Firm,
    Habilitation,
    Mandate,
    Service,
    User,
    UserKind,
)
from app.services.passwords import hash_password

PASSWORD = "MotDePasse-Solide-2026"
_counter = itertools.count(1)


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit to ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return digits + str((10 - total % 10) % 10)


def new_siren() -> str:
    return luhn_complete(f"{next(_counter) + 31000000:08d}")


def new_siret(siren: str, nic: int = 1) -> str:
    value = luhn_complete(f"{siren}{nic:04d}")
    assert siret_check.is_valid(value)
    return value


def make_company(name: str = "Entreprise Test", **kw) -> Company:
    company = Company(siren=kw.pop("siren", None) or new_siren(), name=name, **kw)
    db.session.add(company)
    db.session.flush()
    return company


def make_establishment(
    company: Company,
    *,
    departement: str = "75",
    head_office: bool = False,
    name: str | None = None,
    nic: int | None = None,
    **kw,
) -> Establishment:
    nic = nic or (len(company.establishments) + 1)
    est = Establishment(
        company=company,
        siret=new_siret(company.siren, nic),
        name=name or f"{company.name} {departement}",
        address=kw.pop("address", "1 rue de la Paix"),
        postal_code=kw.pop("postal_code", f"{departement:0<5}"[:5]),
        city=kw.pop("city", "Ville"),
        departement=departement,
        code_risque=kw.pop("code_risque", "26.6AA"),
        headcount=kw.pop("headcount", 12),
        is_head_office=head_office,
        **kw,
    )
    db.session.add(est)
    db.session.flush()
    return est


def make_user(
    email: str | None = None,
    *,
    kind: str = UserKind.EMPLOYER,
    company: Company | None = None,
    admin: bool = False,
    password: str | None = PASSWORD,
    grants=(),
    **kw,
) -> User:
    """``grants``: iterable of (establishment, service) pairs, service "*" meaning every service."""
    user = User(
        email=(email or f"user{next(_counter)}@test.example").lower(),
        full_name=kw.pop("full_name", "Camille Martin"),
        password_hash=hash_password(password) if password else None,
        kind=kind,
        company_id=company.id if company else None,
        is_company_admin=admin,
        **kw,
    )
    db.session.add(user)
    db.session.flush()
    for est, service in grants:
        services = list(Service) if service == "*" else [service]
        for s in services:
            db.session.add(Habilitation(user_id=user.id, establishment_id=est.id, service=str(s)))
    db.session.flush()
    return user


def make_firm(name: str = "Cabinet Test", mandates=()) -> Firm:
    firm = Firm(name=name, siret=new_siret(new_siren()))
    db.session.add(firm)
    db.session.flush()
    for est, service in mandates:
        services = list(Service) if service == "*" else [service]
        for s in services:
            db.session.add(Mandate(firm_id=firm.id, establishment_id=est.id, service=str(s)))
    db.session.flush()
    return firm


def make_caisse(name: str = "CPAM Test", kind: str = "cpam", departements: str = "75") -> Caisse:
    caisse = Caisse(name=name, kind=kind, departements=departements)
    db.session.add(caisse)
    db.session.flush()
    return caisse
