"""Demo accounts (the first part of `flask demo load`, README): one company with a head office in
Paris and two establishments in Alsace-Moselle, a tiers-déclarant firm, the caisses and one account per role.

Idempotent: everything is looked up by its natural key (SIREN, SIRET, e-mail, caisse name) and
created only when missing, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from stdnum.fr import siren as siren_check
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

DEMO_PASSWORD = "DemoAtmp2026!"  # noqa: S105 — documented in the README, demo only

COMPANY = {"siren": "812345676", "name": "Bâtiments de l'Est SAS"}

ESTABLISHMENTS = [
    {
        "siret": "81234567600017",
        "name": "Bâtiments de l'Est — Siège",
        "address": "18 rue de la Chaussée-d'Antin",
        "postal_code": "75009",
        "city": "Paris",
        "departement": "75",
        "code_risque": "45.2BD",
        "headcount": 14,
        "is_head_office": True,
    },
    {
        "siret": "81234567600025",
        "name": "Bâtiments de l'Est — Agence de Metz",
        "address": "5 rue des Clercs",
        "postal_code": "57000",
        "city": "Metz",
        "departement": "57",
        "code_risque": "45.2BD",
        "headcount": 46,
        "is_head_office": False,
    },
    {
        "siret": "81234567600033",
        "name": "Bâtiments de l'Est — Agence de Strasbourg",
        "address": "12 quai des Bateliers",
        "postal_code": "67000",
        "city": "Strasbourg",
        "departement": "67",
        "code_risque": "45.2BE",
        "headcount": 31,
        "is_head_office": False,
    },
]

FIRM = {"siret": "84561237300017", "name": "Cabinet Comptable Rhénan"}

CAISSES = [
    {"name": "CPAM de Paris", "kind": "cpam", "departements": "75"},
    {"name": "CPAM de Moselle", "kind": "cpam", "departements": "57"},
    {"name": "CPAM du Bas-Rhin", "kind": "cpam", "departements": "67"},
    {"name": "Carsat Alsace-Moselle", "kind": "carsat", "departements": "57 67 68"},
]

# e-mail, name, kind, extra attributes (resolved below)
USERS = [
    ("admin@demo.test", "Claire Muller", UserKind.EMPLOYER, {"company": True, "admin": True}),
    ("employeur@demo.test", "Julien Schmitt", UserKind.EMPLOYER, {"company": True}),
    ("cabinet@demo.test", "Sophie Klein", UserKind.FIRM, {"firm": True}),
    ("agent.cpam@demo.test", "Marc Weber", UserKind.CPAM, {"caisse": "CPAM de Moselle"}),
    (
        "agent.carsat@demo.test",
        "Nathalie Roth",
        UserKind.CARSAT,
        {"caisse": "Carsat Alsace-Moselle"},
    ),
    # The platform's operator: the mail outbox page (failed alerts), no company, firm or caisse.
    ("operateur@demo.test", "Paul Durand", UserKind.EMPLOYER, {"operator": True}),
]

# The firm's mandate: on the Bas-Rhin establishment, for these services.
MANDATE_SIRET = "81234567600033"
MANDATE_SERVICES = (Service.DAT, Service.LUCIE)


def _get_or_create(model, lookup: dict, values: dict) -> tuple[object, bool]:
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is not None:
        return row, False
    row = model(**lookup, **values)
    db.session.add(row)
    db.session.flush()
    return row, True


def _said(created: bool) -> str:
    return "ajout" if created else "déjà présent"


def load_accounts_demo() -> Iterator[str]:
    """Create what is missing of the demo accounts, yielding one progress line per object."""
    assert siren_check.is_valid(COMPANY["siren"])
    company, created = _get_or_create(Company, {"siren": COMPANY["siren"]}, {"name": COMPANY["name"]})
    yield f"{_said(created)} : entreprise {company.name} (SIREN {company.siren})"

    establishments = {}
    for data in ESTABLISHMENTS:
        assert siret_check.is_valid(data["siret"]) and data["siret"].startswith(company.siren)
        values = {k: v for k, v in data.items() if k != "siret"}
        est, created = _get_or_create(
            Establishment, {"siret": data["siret"]}, {"company_id": company.id, **values}
        )
        establishments[est.siret] = est
        yield f"{_said(created)} : établissement {est.name} (SIRET {est.siret})"

    assert siret_check.is_valid(FIRM["siret"])
    firm, created = _get_or_create(Firm, {"siret": FIRM["siret"]}, {"name": FIRM["name"]})
    yield f"{_said(created)} : cabinet {firm.name} (SIRET {firm.siret})"

    caisses = {}
    for data in CAISSES:
        caisse, created = _get_or_create(
            Caisse, {"name": data["name"]}, {"kind": data["kind"], "departements": data["departements"]}
        )
        caisses[caisse.name] = caisse
        yield f"{_said(created)} : caisse {caisse.name} ({caisse.departements})"

    password_hash = None
    users = {}
    for email, full_name, kind, extra in USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        created = user is None
        if created:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(
                email=email,
                full_name=full_name,
                password_hash=password_hash,
                kind=kind,
                company_id=company.id if extra.get("company") else None,
                firm_id=firm.id if extra.get("firm") else None,
                caisse_id=caisses[extra["caisse"]].id if extra.get("caisse") else None,
                is_company_admin=bool(extra.get("admin")),
                is_operator=bool(extra.get("operator")),
                is_active_account=True,
                failed_logins=0,
                credentials_version=1,
            )
            db.session.add(user)
            db.session.flush()
        users[email] = user
        yield f"{_said(created)} : compte {email}"

    # The employer user: every service on the head office, hence on every establishment.
    head_office = establishments[ESTABLISHMENTS[0]["siret"]]
    employer = users["employeur@demo.test"]
    added = 0
    for service in Service:
        _, created = _get_or_create(
            Habilitation,
            {"user_id": employer.id, "establishment_id": head_office.id, "service": str(service)},
            {"granted_by_id": users["admin@demo.test"].id},
        )
        added += created
    yield f"Habilitations de employeur@demo.test au siège (tous les services) : {added} ajoutée(s)"

    added = 0
    target = establishments[MANDATE_SIRET]
    for service in MANDATE_SERVICES:
        live = db.session.scalar(
            select(Mandate).where(
                Mandate.firm_id == firm.id,
                Mandate.establishment_id == target.id,
                Mandate.service == str(service),
                Mandate.revoked_at.is_(None),
            )
        )
        if live is None:
            db.session.add(Mandate(firm_id=firm.id, establishment_id=target.id, service=str(service)))
            added += 1
    yield f"Mandats du cabinet sur {target.name} (DAT, LUCIE) : {added} ajouté(s)"

    db.session.commit()
