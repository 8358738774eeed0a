"""Demo data (`flask demo load`, issue 2 item 9): valid identifiers, one account per role with the
documented password, and a second run changes nothing."""

from sqlalchemy import func, select
from stdnum.fr import siren, siret

from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import (
    Caisse,
    Company,
    Establishment,
    Firm,
    Habilitation,
    Mandate,
    User,
)

TABLES = (Company, Establishment, Firm, Caisse, User, Habilitation, Mandate)


def counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def load(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def sign_in(app, email):
    client = app.test_client()
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, email
    return client


def test_demo_load_is_idempotent(demo_app):
    # The first load is the session's (``demo_app``: `load_demo()`, which `flask demo load` prints line by
    # line), not paid again here; the second goes through the command.
    first = "\n".join(demo_app.extensions["tests.demo_output"])
    after_first = counts()
    assert after_first == {
        "Company": 1,
        "Establishment": 3,
        "Firm": 1,
        "Caisse": 4,
        "User": 7,  # with the QR Pro demo victim (app/demo/qrpro_parties.py)
        "Habilitation": 5,
        "Mandate": 2,
    }
    assert "ajout : entreprise Bâtiments de l'Est SAS" in first
    second = load(demo_app)
    assert counts() == after_first
    assert "ajout :" not in second and "déjà présent : compte employeur@demo.test" in second
    assert "0 ajoutée(s)" in second and "0 ajouté(s)" in second


def test_demo_company_has_a_paris_head_office_and_two_alsace_moselle_establishments(demo_app):
    company = db.session.scalars(select(Company)).one()
    assert company.name == "Bâtiments de l'Est SAS" and siren.is_valid(company.siren)
    establishments = {e.departement: e for e in db.session.scalars(select(Establishment))}
    assert set(establishments) == {"75", "57", "67"}
    assert establishments["75"].is_head_office and establishments["75"].city == "Paris"
    assert not establishments["57"].is_head_office and not establishments["67"].is_head_office
    for est in establishments.values():
        assert siret.is_valid(est.siret) and est.siret.startswith(company.siren)
        assert est.code_risque and est.headcount > 0
    firm = db.session.scalars(select(Firm)).one()
    assert firm.name == "Cabinet Comptable Rhénan" and siret.is_valid(firm.siret)


def test_every_demo_account_signs_in_and_sees_its_home_page(demo_app):
    app = demo_app
    employer = sign_in(app, "employeur@demo.test").get("/").get_data(as_text=True)
    for city in ("Paris", "Metz", "Strasbourg"):
        assert city in employer
    assert employer.count("Subventions Prévention TPE") == 3
    assert "Victime : LAMBERT Hugo" in employer  # the demo's DAT draft, named by the workflow's label

    admin = sign_in(app, "admin@demo.test")
    assert admin.get("/admin/utilisateurs").status_code == 200

    firm = sign_in(app, "cabinet@demo.test").get("/cabinet/portefeuille").get_data(as_text=True)
    assert "Agence de Strasbourg" in firm and "Agence de Metz" not in firm
    assert "Courriers (LUCIE)" in firm and "Compte AT/MP" not in firm

    cpam = sign_in(app, "agent.cpam@demo.test").get("/").get_data(as_text=True)
    assert "CPAM de Moselle" in cpam
    carsat = sign_in(app, "agent.carsat@demo.test").get("/").get_data(as_text=True)
    assert "Carsat Alsace-Moselle" in carsat and "57, 67, 68" in carsat

    operator = sign_in(app, "operateur@demo.test")
    assert "Exploitation : envoi des e-mails" in operator.get("/").get_data(as_text=True)
    assert operator.get("/operateur/courriels/").status_code == 200
