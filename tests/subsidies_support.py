"""The Subventions Prévention's test world (integration, concurrency and e2e tests): a company of 15 employees
with two establishments covered by one Carsat, its employer, the Carsat's agent, an agent of another Carsat,
an employer of another company; the programmes loaded. And `SubsidyClient`, which fills a request through
the pages."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pypdf import PdfReader, PdfWriter

from app.extensions import db
from app.models import Caisse, Company, Establishment, Service, User, UserKind
from app.models.compte import RateProfile
from app.services import lucie
from app.services.subsidies import programmes
from tests.factories import make_caisse, make_company, make_establishment, make_user


def pdf_bytes(text: str = "devis") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@dataclass
class World:
    company: Company
    metz: Establishment
    strasbourg: Establishment
    carsat: Caisse
    employer: User
    agent: User
    other_agent: User
    stranger: User


def make_world() -> World:
    company = make_company("Menuiserie Kern")
    metz = make_establishment(
        company, departement="57", name="Menuiserie Kern — Metz", city="Metz", headcount=10
    )
    strasbourg = make_establishment(
        company, departement="67", name="Menuiserie Kern — Strasbourg", city="Strasbourg", headcount=5
    )
    for establishment in (metz, strasbourg):
        db.session.add(RateProfile(establishment_id=establishment.id, ctn="B", btp=True))
    carsat = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    other = make_caisse("Carsat Nord-Est", kind="carsat", departements="54 55 88")
    employer = make_user(
        "direction@kern.test",
        company=company,
        grants=[
            (metz, Service.SUBVENTIONS),
            (metz, Service.LUCIE),
            (strasbourg, Service.SUBVENTIONS),
            (strasbourg, Service.LUCIE),
        ],
    )
    agent = make_user("prevention@carsat-am.test", kind=UserKind.CARSAT, caisse_id=carsat.id)
    other_agent = make_user("prevention@carsat-ne.test", kind=UserKind.CARSAT, caisse_id=other.id)
    elsewhere = make_company("Autre entreprise")
    own = make_establishment(elsewhere, departement="57")
    stranger = make_user("autre@autre.test", company=elsewhere, grants=[(own, "*")])
    lucie.subscribe(metz)
    lucie.subscribe(strasbourg)
    db.session.commit()
    programmes.load_programmes()
    return World(company, metz, strasbourg, carsat, employer, agent, other_agent, stranger)


def programme_id(code: str) -> int:
    return next(row.id for row in programmes.all_programmes() if row.code == code)


def french_amount(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


ATTESTATIONS_OK = {
    "regime_general": "oui",
    "contributions_up_to_date": "oui",
    "prevention_contract_in_progress": "non",
    "injunction_or_surcharge": "non",
    "occupational_health_member": "oui",
    "staff_representatives_informed": "oui",
    "de_minimis_aid": "0",
}


class SubsidyClient:
    """Fills a request through the employer's pages (the test client is signed in as the employer)."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str) -> str:
        return self.client.csrf(path)

    def start(self, programme: str, establishment: Establishment, kind: str = "reservation") -> int:
        path = f"/subventions/nouvelle?type={kind}"
        response = self.client.post(
            path,
            data={
                "csrf_token": self.token(path),
                "programme": str(programme_id(programme)),
                "etablissement": str(establishment.id),
            },
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return int(re.search(r"/subventions/(\d+)/attestations", response.headers["Location"]).group(1))

    def attest(self, dossier_id: int, duerp: date | None = None, **changes) -> object:
        path = f"/subventions/{dossier_id}/attestations"
        duerp = duerp or date.today().replace(day=1)
        data = {**ATTESTATIONS_OK, **changes, "csrf_token": self.token(path)}
        data["duerp_updated_on"] = [str(duerp.day), str(duerp.month), str(duerp.year)]
        return self.client.post(path, data=data)

    def add_line(
        self,
        dossier_id: int,
        *,
        kind: str,
        amount: str,
        supplier="Outils Est",
        number="D-1",
        issued_on: date | None = None,
        paid_on: date | None = None,
        document=True,
        condition=(),
    ):
        path = f"/subventions/{dossier_id}/lignes/ajouter"
        issued_on = issued_on or date.today().replace(day=1)
        data = {
            "csrf_token": self.token(path),
            "kind": kind,
            "supplier": supplier,
            "number": number,
            "issued_on": [str(issued_on.day), str(issued_on.month), str(issued_on.year)],
            "amount_ht": amount,
            "condition": list(condition),
        }
        if paid_on:
            data["paid_on"] = [str(paid_on.day), str(paid_on.month), str(paid_on.year)]
        if document:
            data["document"] = (io.BytesIO(pdf_bytes(number)), f"{number}.pdf")
        return self.client.post(path, data=data, content_type="multipart/form-data")

    def submit(self, dossier_id: int):
        return self.client.post(
            f"/subventions/{dossier_id}/envoyer",
            data={"csrf_token": self.token(f"/subventions/{dossier_id}/verifier")},
        )


def signed_in(app, user: User):
    """A new test client signed in as ``user`` (one per person of a scenario)."""
    from tests.factories import PASSWORD

    client = app.test_client()
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303), response.status_code
    return client
