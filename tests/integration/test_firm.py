"""Tiers déclarant (SPEC §1): a company administrator gives a firm a mandate by its SIRET and may
revoke it (kept as history); the firm's users see their clients in one portfolio."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Mandate, Service, UserKind
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_firm, make_user


@pytest.fixture
def world(app):
    company = make_company("Bâtiments de l'Est")
    head = make_establishment(company, departement="75", head_office=True, name="Siège", city="Paris")
    metz = make_establishment(company, departement="57", name="Agence de Metz", city="Metz")
    strasbourg = make_establishment(company, departement="67", name="Agence de Strasbourg", city="Strasbourg")
    admin = make_user("admin@exemple.fr", company=company, admin=True)
    firm = make_firm("Cabinet Comptable Rhénan")
    accountant = make_user(
        "cabinet@exemple.fr", kind=UserKind.FIRM, firm_id=firm.id, full_name="Sophie Klein"
    )
    other = make_company("Autre client SA")
    other_est = make_establishment(
        other, departement="68", head_office=True, name="Autre client", city="Colmar"
    )
    other_admin = make_user("admin@autre.fr", company=other, admin=True)
    db.session.commit()
    return locals()


def post(client, path, data=None):
    token = client.csrf("/connexion" if path.startswith("/connexion") else "/admin/utilisateurs")
    return client.post(path, data={**(data or {}), "csrf_token": token})


def give(client, world, establishment, services, siret=None):
    return post(
        client,
        "/admin/mandats/nouveau",
        {
            "firm_siret": siret or world["firm"].siret,
            "establishment": str(establishment.id),
            "services": services,
        },
    )


def live_mandates(firm):
    return set(
        db.session.execute(
            select(Mandate.establishment_id, Mandate.service).where(
                Mandate.firm_id == firm.id, Mandate.revoked_at.is_(None)
            )
        ).all()
    )


def test_admin_gives_a_mandate_by_the_firm_siret_and_the_firm_sees_it(app, client, login, world):
    login(world["admin"])
    assert client.get("/admin/mandats/nouveau").status_code == 200
    siret = world["firm"].siret
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    response = give(client, world, world["strasbourg"], ["dat", "lucie"], siret=spaced)
    assert response.status_code == 302
    assert live_mandates(world["firm"]) == {
        (world["strasbourg"].id, "dat"),
        (world["strasbourg"].id, "lucie"),
    }
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mandate_granted")))
    assert len(events) == 2 and {e.establishment_id for e in events} == {world["strasbourg"].id}
    listing = client.get("/admin/mandats").get_data(as_text=True)
    assert "Cabinet Comptable Rhénan" in listing and "Agence de Strasbourg" in listing

    firm_client = app.test_client()
    login_as(firm_client, world["accountant"])
    page = firm_client.get("/cabinet/portefeuille")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Bâtiments de l&#39;Est" in body and "Agence de Strasbourg" in body
    assert "Déclaration d&#39;accident du travail" in body and "Courriers (LUCIE)" in body
    assert "Agence de Metz" not in body and "Compte AT/MP" not in body
    assert firm_client.get(f"/etablissements/{world['strasbourg'].id}").status_code == 200
    assert firm_client.get(f"/etablissements/{world['metz'].id}").status_code == 404


def login_as(client, user, password=PASSWORD):
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302


def test_portfolio_groups_establishments_by_client_company(client, login, world):
    firm = world["firm"]
    for est, service in [
        (world["metz"], Service.DAT),
        (world["strasbourg"], Service.LUCIE),
        (world["other_est"], Service.COMPTE),
    ]:
        db.session.add(Mandate(firm_id=firm.id, establishment_id=est.id, service=str(service)))
    db.session.commit()
    login(world["accountant"])
    body = client.get("/cabinet/portefeuille").get_data(as_text=True)
    first, second = body.index("Autre client SA"), body.index("Bâtiments de l&#39;Est")
    assert first < second  # companies in alphabetical order
    assert body.index("Agence de Metz") > second and body.index("Colmar") < second
    dashboard = client.get("/").get_data(as_text=True)
    assert "2 entreprises" in dashboard and "3 établissements" in dashboard


def test_mandate_form_errors_are_french_and_nothing_is_saved(client, login, world):
    login(world["admin"])
    cases = [
        (
            {"firm_siret": "", "establishment": "", "services": []},
            [
                "Saisissez le SIRET du cabinet",
                "Choisissez un établissement",
                "Choisissez au moins un service",
            ],
        ),
        (
            {"firm_siret": "12345678901234", "establishment": str(world["metz"].id), "services": ["dat"]},
            ["Saisissez un SIRET valide"],
        ),
        (
            {"firm_siret": "1" * 10_000, "establishment": str(world["metz"].id), "services": ["dat"]},
            ["Le SIRET fait 14 chiffres"],
        ),
        (
            {
                "firm_siret": world["other_est"].siret,
                "establishment": str(world["metz"].id),
                "services": ["dat"],
            },
            ["Aucun cabinet n&#39;est inscrit avec ce SIRET"],
        ),
        (
            {
                "firm_siret": world["firm"].siret,
                "establishment": str(world["other_est"].id),
                "services": ["dat"],
            },
            ["Choisissez un établissement de la liste"],
        ),
        (
            {"firm_siret": world["firm"].siret, "establishment": "abc", "services": ["dat"]},
            ["Choisissez un établissement de la liste"],
        ),
        (
            {
                "firm_siret": world["firm"].siret,
                "establishment": str(world["metz"].id),
                "services": ["everything"],
            },
            ["Choisissez des services de la liste"],
        ),
    ]
    for data, messages in cases:
        response = post(client, "/admin/mandats/nouveau", data)
        assert response.status_code == 422, data
        body = response.get_data(as_text=True)
        assert "Il y a un problème" in body
        for message in messages:
            assert message in body, (message, data)
    assert db.session.scalar(select(func.count(Mandate.id))) == 0


def test_the_same_mandate_twice_is_refused(client, login, world):
    login(world["admin"])
    assert give(client, world, world["metz"], ["dat"]).status_code == 302
    response = give(client, world, world["metz"], ["dat"])
    assert response.status_code == 422
    assert "déjà un mandat" in response.get_data(as_text=True)
    assert give(client, world, world["metz"], ["dat", "lucie"]).status_code == 302  # adds only LUCIE
    assert db.session.scalar(select(func.count(Mandate.id))) == 2


def test_revoking_a_mandate_keeps_it_as_history_and_closes_the_access(app, client, login, world):
    mandate = Mandate(firm_id=world["firm"].id, establishment_id=world["strasbourg"].id, service="dat")
    db.session.add(mandate)
    db.session.commit()
    firm_client = app.test_client()
    login_as(firm_client, world["accountant"])
    assert firm_client.get(f"/etablissements/{world['strasbourg'].id}").status_code == 200

    login(world["admin"])
    assert client.get(f"/admin/mandats/{mandate.id}/revoquer").status_code == 405
    response = post(client, f"/admin/mandats/{mandate.id}/revoquer")
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Mandate, mandate.id)
    assert kept is not None and kept.revoked_at is not None
    assert "Révoqué le" in client.get("/admin/mandats").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mandate_revoked"))
    assert event.establishment_id == world["strasbourg"].id and event.user_id == world["admin"].id

    assert firm_client.get(f"/etablissements/{world['strasbourg'].id}").status_code == 404
    assert "Agence de Strasbourg" not in firm_client.get("/cabinet/portefeuille").get_data(as_text=True)

    # Revoking again changes nothing; giving it again creates a new live mandate beside the old one.
    assert post(client, f"/admin/mandats/{mandate.id}/revoquer").status_code == 302
    assert give(client, world, world["strasbourg"], ["dat"]).status_code == 302
    assert db.session.scalar(select(func.count(Mandate.id))) == 2
    assert live_mandates(world["firm"]) == {(world["strasbourg"].id, "dat")}


def test_another_company_admin_cannot_see_or_revoke_the_mandate(client, login, world):
    mandate = Mandate(firm_id=world["firm"].id, establishment_id=world["strasbourg"].id, service="dat")
    db.session.add(mandate)
    db.session.commit()
    login(world["other_admin"])
    assert "Agence de Strasbourg" not in client.get("/admin/mandats").get_data(as_text=True)
    assert post(client, f"/admin/mandats/{mandate.id}/revoquer").status_code == 404
    assert post(client, "/admin/mandats/999999/revoquer").status_code == 404
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).revoked_at is None


def test_non_admin_employee_cannot_give_a_mandate(client, login, world):
    staff = make_user(company=world["company"], grants=[(world["metz"], "*")])
    db.session.commit()
    login(staff)
    assert client.get("/admin/mandats").status_code == 403
    assert give(client, world, world["metz"], ["dat"]).status_code == 403


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_portfolio_is_404_for_anyone_but_a_firm_user(client, login, world, who):
    user = world["admin"] if who == "admin" else make_user(kind=UserKind.CPAM, caisse_id=make_caisse().id)
    db.session.commit()
    login(user)
    assert client.get("/cabinet/portefeuille").status_code == 404


def test_portfolio_needs_a_sign_in(client):
    response = client.get("/cabinet/portefeuille")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_empty_portfolio_says_how_to_get_a_mandate(client, login, world):
    login(world["accountant"])
    body = client.get("/cabinet/portefeuille").get_data(as_text=True)
    assert "Aucun mandat en cours" in body and world["firm"].siret in body
