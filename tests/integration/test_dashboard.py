"""Home page per role (issue 2, item 8): employers see their establishments and services, drafts
to resume, letters and deadlines; a tiers déclarant its portfolio; agents their caisse and work."""

import pytest

from app.extensions import db
from app.models import Draft, Mandate, OutboxMessage, OutboxStatus, Service, UserKind
from app.models.types import utcnow
from tests.factories import make_caisse, make_company, make_establishment, make_firm, make_user


@pytest.fixture
def world(app):
    company = make_company("Bâtiments de l'Est")
    head = make_establishment(company, departement="75", head_office=True, name="Siège", city="Paris")
    metz = make_establishment(company, departement="57", name="Agence de Metz", city="Metz")
    strasbourg = make_establishment(company, departement="67", name="Agence de Strasbourg", city="Strasbourg")
    other = make_company("Concurrent SA")
    other_est = make_establishment(other, departement="57", head_office=True, name="Concurrent Metz")
    db.session.commit()
    return {"company": company, "head": head, "metz": metz, "strasbourg": strasbourg, "other_est": other_est}


def make_draft(establishment, user, workflow="coordonnees"):
    draft = Draft(
        workflow=workflow,
        establishment_id=establishment.id,
        created_by_id=user.id,
        updated_by_id=user.id,
        answers={},
        valid_steps=[],
        current_step="nature",
        updated_at=utcnow(),
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def test_anonymous_home_goes_to_the_sign_in_page(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def test_employer_with_a_head_office_habilitation_sees_every_establishment(client, login, world):
    user = make_user(company=world["company"], grants=[(world["head"], "*")])
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert "Vos établissements" in body
    for name in ("Siège", "Agence de Metz", "Agence de Strasbourg"):
        assert name in body
    assert "Concurrent" not in body
    assert body.index("Siège") < body.index("Agence de Metz")  # head office first
    assert 'govuk-tag--blue">Siège social' in body
    assert body.count("Compte AT/MP") == 4  # each card, and the navigation
    assert "Aucun brouillon en cours." in body
    assert "Aucun courrier non lu." in body
    assert "Aucune échéance à venir." in body


def test_employer_sees_only_the_services_granted_on_each_establishment(client, login, world):
    user = make_user(company=world["company"], grants=[(world["metz"], Service.DAT)])
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert "Agence de Metz" in body and "Agence de Strasbourg" not in body
    assert ">Déclaration d&#39;accident du travail</a></li>" in body
    for other in ("Questionnaires risques professionnels", "Courriers (LUCIE)", "Compte AT/MP"):
        assert other not in body


def test_employer_without_habilitation_is_told_whom_to_ask(client, login, world):
    login(make_user(company=world["company"]))
    body = client.get("/").get_data(as_text=True)
    assert "Demandez une habilitation" in body


def test_company_administrator_gets_a_link_to_the_admin_screens(client, login, world):
    login(make_user(company=world["company"], admin=True))
    body = client.get("/").get_data(as_text=True)
    assert "/admin/utilisateurs" in body
    assert "Aucun service ne vous est ouvert sur cet établissement." in body


def test_drafts_in_progress_can_be_resumed_by_anyone_holding_the_service(client, login, world):
    author = make_user(
        company=world["company"], grants=[(world["metz"], Service.COMPTE)], full_name="Anne Auteur"
    )
    colleague = make_user(company=world["company"], grants=[(world["head"], Service.COMPTE)])
    dat_only = make_user(company=world["company"], grants=[(world["metz"], Service.DAT)])
    rival = make_user(company=make_company("Rival"), grants=[(world["other_est"], "*")])
    draft = make_draft(world["metz"], author)
    submitted = make_draft(world["metz"], author)
    submitted.submitted_at = utcnow()
    db.session.commit()

    login(colleague)
    body = client.get("/").get_data(as_text=True)
    assert "Signalement d&#39;un changement de coordonnées" in body
    assert f"/demarches/brouillons/{draft.id}" in body
    assert f"/demarches/brouillons/{submitted.id}" not in body
    assert "par Anne Auteur" in body
    for user in (dat_only, rival):
        client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
        login(user)
        body = client.get("/").get_data(as_text=True)
        assert f"/demarches/brouillons/{draft.id}" not in body
        assert "Aucun brouillon en cours." in body


def test_firm_user_sees_the_portfolio_summary(client, login, world):
    firm = make_firm("Cabinet Comptable Rhénan", mandates=[(world["strasbourg"], Service.DAT)])
    make_firm("Autre cabinet", mandates=[(world["metz"], Service.DAT)])
    revoked = Mandate(
        firm_id=firm.id, establishment_id=world["other_est"].id, service="dat", revoked_at=utcnow()
    )
    db.session.add(revoked)
    user = make_user(kind=UserKind.FIRM, firm_id=firm.id)
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert "Portefeuille clients" in body
    assert "Cabinet Comptable Rhénan agit pour 1 entreprise" in body
    assert "Agence de Strasbourg" in body
    assert "Agence de Metz" not in body and "Concurrent" not in body
    assert "/cabinet/portefeuille" in body
    assert "Aucun brouillon en cours." in body


@pytest.mark.parametrize(
    "kind, caisse, departements, expected",
    [
        (UserKind.CPAM, "CPAM de Moselle", "57", 2),  # Metz + the competitor in Metz
        (UserKind.CARSAT, "Carsat Alsace-Moselle", "57 67 68", 3),
    ],
)
def test_agent_sees_the_caisse_and_the_work_queues(
    client, login, world, kind, caisse, departements, expected
):
    user = make_user(kind=kind, caisse_id=make_caisse(caisse, str(kind), departements).id)
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert caisse in body
    assert ", ".join(departements.split()) in body
    assert f'<dd class="govuk-summary-list__value">{expected}<' in body
    assert "Files de travail" in body
    if kind == UserKind.CPAM:  # the DAT inbox, filtered, with its counts (none received here)
        assert "Déclarations en attente du certificat médical initial</a> : <strong>0</strong>" in body
        assert "/cpam/declarations?cmi=attente" in body
    else:  # the Subventions Prévention's queue (none received here)
        assert "Subventions Prévention à instruire</a> : <strong>0</strong>" in body
    assert "Vos établissements" not in body


def test_agent_without_caisse_is_told_so(client, login, world):
    login(make_user(kind=UserKind.CPAM))
    assert "rattaché à aucune caisse" in client.get("/").get_data(as_text=True)


def test_operator_sees_the_mail_outbox_with_its_failed_messages(client, login, world):
    for status in (OutboxStatus.FAILED, OutboxStatus.FAILED, OutboxStatus.SENT):
        message = OutboxMessage(kind="test", recipient="x@exemple.fr", subject="Sujet", body_text="Texte")
        message.status = status
        db.session.add(message)
    operator = make_user("operateur@exemple.fr", is_operator=True)
    db.session.commit()
    login(operator)
    body = client.get("/").get_data(as_text=True)
    assert "2 messages en échec, à remettre en file." in body
    assert "En échec : <strong>2</strong>" in body and "Envoyés : <strong>1</strong>" in body
    assert body.count('href="/operateur/courriels/"') == 2  # the menu and the panel
    assert "Vos établissements" not in body and "Files de travail" not in body
    assert 'href="/demarches/"' not in body  # no company: no drafts to list


def test_users_who_are_not_operators_get_no_outbox_link(client, login, world):
    login(make_user(company=world["company"], grants=[(world["head"], Service.LUCIE)]))
    body = client.get("/").get_data(as_text=True)
    assert "/operateur/courriels/" not in body and "Exploitation" not in body


def test_establishment_page_is_404_for_an_establishment_not_linked_to_the_user(client, login, world):
    user = make_user(company=world["company"], grants=[(world["metz"], Service.DAT)])
    db.session.commit()
    login(user)
    page = client.get(f"/etablissements/{world['metz'].id}")
    assert page.status_code == 200
    assert world["metz"].siret in page.get_data(as_text=True)
    assert client.get(f"/etablissements/{world['strasbourg'].id}").status_code == 404
    assert client.get(f"/etablissements/{world['other_est'].id}").status_code == 404
    assert client.get("/etablissements/999999").status_code == 404


def test_html_in_an_establishment_name_is_escaped_on_the_dashboard(client, login, world):
    world["metz"].name = '<img src=x onerror="alert(1)">'
    user = make_user(company=world["company"], grants=[(world["metz"], Service.DAT)])
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert "<img src=x" not in body and "&lt;img src=x" in body


def test_unread_letters_of_the_lucie_mailboxes_are_listed_until_opened(client, login):
    from app.services import lucie
    from tests.lucie_support import deposit, make_mailbox

    box = make_mailbox()
    first = deposit(box.establishment, box.caisse, title="Accusé de réception de la déclaration")
    second = deposit(box.establishment, box.caisse, title="Ouverture de l'instruction")
    lucie.open_letter(box.reader, first.id)
    login(box.reader)
    body = client.get("/").get_data(as_text=True)
    assert "1 courrier non lu." in body
    assert f'href="/courriers/{second.id}"' in body and f'href="/courriers/{first.id}"' not in body
    assert "Ouverture de l&#39;instruction" in body

    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    login(box.admin)  # no LUCIE habilitation: no mailbox
    assert "Aucun courrier non lu." in client.get("/").get_data(as_text=True)


def test_each_service_online_links_to_its_page_for_that_establishment(client, login, world):
    user = make_user(company=world["company"], grants=[(world["metz"], "*")])
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    metz = world["metz"].id
    assert f'href="/dat/?etablissement={metz}"' in body
    assert f'href="/courriers/?etablissement={metz}"' in body
    assert f'href="/compte-atmp/{metz}"' in body
    assert f'href="/subventions/?etablissement={metz}"' in body


def test_a_user_of_a_large_company_gets_a_search_and_the_list_of_all_establishments(client, login, world):
    """Past 9 establishments the home page shows no cards but a search and a link to them all."""
    for n in range(60):
        make_establishment(world["company"], departement="54", name=f"Magasin {n:02d}", city="Nancy")
    user = make_user(
        company=world["company"], grants=[(world["head"], Service.LUCIE), (world["metz"], Service.DAT)]
    )
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert "Vous avez accès à 63 établissements." in body and 'class="app-card"' not in body
    assert 'action="/etablissements/"' in body and "Voir vos 63 établissements" in body

    page = client.get("/etablissements/").get_data(as_text=True)
    assert "63 établissements — page 1 sur 2." in page
    assert page.count('<tr class="govuk-table__row">') == 1 + 50  # the header and 50 lines
    assert page.index("Siège") < page.index("Agence de Metz")  # head office first
    assert "Concurrent" not in page
    assert f'href="/dat/?etablissement={world["metz"].id}"' in page  # the service granted there

    page = client.get("/etablissements/", query_string={"q": "magasin 1", "page": "1"}).get_data(as_text=True)
    assert "10 établissements pour « magasin 1 »" in page
    assert (
        client.get("/etablissements/", query_string={"q": "Concurrent"})
        .get_data(as_text=True)
        .count("Aucun établissement ne correspond à « Concurrent ».")
        == 1
    )  # another company's establishment is never found


def test_a_user_with_few_establishments_keeps_the_cards(client, login, world):
    user = make_user(company=world["company"], grants=[(world["head"], "*")])
    db.session.commit()
    login(user)
    body = client.get("/").get_data(as_text=True)
    assert body.count('class="app-card"') == 3 and "Vous avez accès à" not in body
