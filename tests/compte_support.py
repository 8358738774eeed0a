"""The Compte AT/MP's test world (integration and e2e tests): see tests/integration/test_compte.py for the
rate it gives, worked out by hand."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader

from app.extensions import db
from app.models import Caisse, Company, Establishment, Service, User, UserKind
from app.services import compte, lucie
from tests.factories import make_caisse, make_company, make_establishment, make_user

# A collective rate for the Alsace-Moselle table: a test figure (the shared reference data give none).
COLLECTIVE_AM = b"year,code_risque,region,label,rate_pct\n2025,26.6AA,alsace_moselle,Beton,5.20\n"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@dataclass
class World:
    company: Company
    metz: Establishment
    paris: Establishment
    carsat: Caisse
    employer: User
    agent: User
    other_agent: User
    stranger: User


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def make_world() -> World:
    """The Metz establishment of a company in mixed mode, its Carsat, an employer, a stranger; the
    reference files, a test collective rate, wages 2021–2023 and claims (see the module docstring)."""
    company = make_company("Béton de l'Est")
    paris = make_establishment(company, departement="75", head_office=True, name="Béton de l'Est — Siège")
    metz = make_establishment(company, departement="57", name="Béton de l'Est — Metz", city="Metz")
    carsat = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    other = make_caisse("Carsat Nord-Est", kind="carsat", departements="54 55 88")
    employer = make_user(
        "paie@beton.test", company=company, grants=[(metz, Service.COMPTE), (metz, Service.LUCIE)]
    )
    agent = make_user("tarif@carsat-am.test", kind=UserKind.CARSAT, caisse_id=carsat.id)
    other_agent = make_user("tarif@carsat-ne.test", kind=UserKind.CARSAT, caisse_id=other.id)
    elsewhere = make_company("Autre entreprise")
    own = make_establishment(elsewhere, departement="57")
    stranger = make_user("autre@autre.test", company=elsewhere, grants=[(own, "*")])
    lucie.subscribe(metz)
    db.session.commit()
    for kind in compte.KINDS:
        assert compte.load_reference_file(kind).ok
    assert compte.load_reference("taux-collectifs", COLLECTIVE_AM, filename="am.csv").ok
    assert compte.import_profiles(csv_bytes("siret;ctn;btp", f"{metz.siret};A;non")).ok
    assert compte.import_wages(
        csv_bytes(
            "siret;annee;masse_salariale;effectif;heures",
            f"{metz.siret};2021;450000;78;120000",
            f"{metz.siret};2022;470000,00;79;125000",
            f"{metz.siret};2023;480000;80;128000",
        )
    ).ok
    assert compte.import_claims(
        csv_bytes(
            "reference;siret;type;date_reconnaissance;annee_imputation;jours_arret;taux_ip;deces",
            *(f"AT-21-{i};{metz.siret};at;15/03/2021;2021;2;;non" for i in range(5)),
            f"AT-22-1;{metz.siret};at;2022-05-02;2022;200;;non",
            f"AT-23-1;{metz.siret};at;2023-01-10;2023;10;;",
            f"AT-23-2;{metz.siret};mp;2023-02-10;2023;12;;",
            f"TR-23-1;{metz.siret};trajet;2023-03-10;2023;40;;",
            f"AT-24-1;{metz.siret};at;2024-06-10;2024;30;;",
        )
    ).ok
    return World(company, metz, paris, carsat, employer, agent, other_agent, stranger)
