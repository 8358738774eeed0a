"""LUCIE screens besides the mailbox: the agent's deposit, the company administrator's subscription,
the operator's outbox page, and the `flask api-token` commands."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, Letter, LucieAlertAddress, OutboxMessage, OutboxStatus, Service, UserKind
from app.services import lucie, outbox
from app.services.api_tokens import hash_token
from tests.factories import make_caisse, make_company, make_user
from tests.lucie_support import deposit, make_mailbox, pdf

KEY_RE = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


@pytest.fixture
def box(app):
    return make_mailbox()


def _deposit_form(client):
    body = client.get("/agent/courriers/deposer").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    return token, KEY_RE.search(body).group(1)


def _post_deposit(client, siret, token, key, file=None, **fields):
    data = {
        "csrf_token": token,
        "idempotency_key": key,
        "siret": siret,
        "type": "ouverture_instruction",
        "reference_dossier": "57-2026-000900",
        "titre": "Ouverture d'instruction",
        **fields,
        "fichier": (io.BytesIO(file if file is not None else pdf()), "instruction.pdf"),
    }
    return client.post("/agent/courriers/deposer", data=data, content_type="multipart/form-data")


# --- agent --------------------------------------------------------------------------------------


def test_agent_deposits_a_letter_and_sees_the_confirmation(client, login, box):
    login(box.agent)
    token, key = _deposit_form(client)
    response = _post_deposit(client, box.establishment.siret, token, key)
    assert response.status_code == 303
    letter = db.session.scalar(select(Letter))
    assert (
        letter.deposited_by_id == box.agent.id
        and letter.caisse_id == box.caisse.id
        and letter.source == "agent"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Courrier déposé" in page and letter.sha256 in page and "0 envoyée(s) sur 1" in page
    assert "Ouverture d&#39;instruction" in client.get("/agent/courriers/").get_data(as_text=True)


def test_a_resent_deposit_form_makes_no_second_letter(client, login, box):
    login(box.agent)
    token, key = _deposit_form(client)
    first = _post_deposit(client, box.establishment.siret, token, key)
    second = _post_deposit(client, box.establishment.siret, token, key)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_agent_is_told_when_the_establishment_is_not_subscribed(client, login, box):
    lucie.set_subscription(box.admin, box.establishment, False)
    login(box.agent)
    token, key = _deposit_form(client)
    response = _post_deposit(client, box.establishment.siret, token, key)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Cet établissement n&#39;est pas abonné à LUCIE" in body and "<title>Erreur : " in body
    assert db.session.scalar(select(Letter.id)) is None


def test_agent_form_errors_are_in_french_next_to_the_fields(client, login, box):
    login(box.agent)
    token, key = _deposit_form(client)
    response = _post_deposit(client, "12345678901234", token, key, titre="", type="")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Saisissez un SIRET valide" in body
    assert "Saisissez le titre du courrier" in body
    assert "Choisissez le type de courrier" in body
    # The hidden prefix read before each message by screen readers is French too.
    assert "Erreur" in body and "Error" not in body
    forged = _post_deposit(client, box.establishment.siret, token, key, file=b"Texte brut renomme en .pdf")
    assert forged.status_code == 422
    assert "Le fichier n&#39;est pas un PDF" in forged.get_data(as_text=True)


def test_agent_cannot_deposit_outside_the_caisse_territory(client, login, box):
    lucie.subscribe(box.head_office)  # Paris
    db.session.commit()
    login(box.agent)
    token, key = _deposit_form(client)
    response = _post_deposit(client, box.head_office.siret, token, key)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Aucun établissement" not in page
    assert (
        "Cet établissement ne relève pas de la circonscription de votre caisse (départements 57) et "
        "n'emploie la victime d'aucune déclaration reçue par votre caisse : le courrier ne peut pas y "
        "être déposé" in page.replace("&#39;", "'")
    )
    assert 'href="#siret"' in page  # in the error summary, linked to the field
    assert db.session.scalar(select(func.count(Letter.id))) == 0
    # A SIRET no establishment has is still told apart.
    response = _post_deposit(client, "73282932000074", token, key)
    assert "Aucun établissement relevant de votre caisse ne correspond à ce SIRET" in (
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "title",
    ["Décision\x00 de prise en charge", "Décision\nde prise en charge", "Décision\x85de prise en charge"],
)
def test_a_title_with_a_control_character_is_refused_next_to_the_field(client, login, box, title):
    lucie.subscribe(box.establishment)
    db.session.commit()
    login(box.agent)
    token, key = _deposit_form(client)
    response = _post_deposit(client, box.establishment.siret, token, key, titre=title)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Le titre ne peut pas contenir de caractère de contrôle ni de retour à la ligne." in page
    assert 'href="#titre"' in page
    assert db.session.scalar(select(func.count(Letter.id))) == 0


def test_only_agents_reach_the_deposit_screen(client, login, box):
    login(box.reader)
    assert client.get("/agent/courriers/deposer").status_code == 404
    assert client.get("/agent/courriers/").status_code == 404


def test_agent_cannot_see_another_caisses_deposit_confirmation(client, login, box):
    letter = deposit(box.establishment, box.caisse)
    other = make_caisse("CPAM du Bas-Rhin", departements="67")
    other_agent = make_user("agent@cpam67.test", kind=UserKind.CPAM, caisse_id=other.id)
    db.session.commit()
    login(other_agent)
    assert client.get(f"/agent/courriers/{letter.id}").status_code == 404


# --- subscription -------------------------------------------------------------------------------


def test_company_admin_activates_lucie_and_manages_alert_addresses(mail_app, smtp, client, login, box):
    lucie.set_subscription(box.admin, box.establishment, False)
    login(box.admin)
    page = client.get("/courriers/abonnement").get_data(as_text=True)
    assert box.establishment.siret in page and "Non activé" in page
    token = client.csrf(f"/courriers/abonnement/{box.establishment.siret}")
    client.post(f"/courriers/abonnement/{box.establishment.siret}", data={"csrf_token": token, "actif": "1"})
    assert lucie.is_subscribed(box.establishment)

    response = client.post(
        f"/courriers/abonnement/{box.establishment.siret}/adresses",
        data={"csrf_token": token, "email": "Secretariat@Transports.test"},
    )
    assert response.status_code == 302
    duplicate = client.post(
        f"/courriers/abonnement/{box.establishment.siret}/adresses",
        data={"csrf_token": token, "email": "secretariat@transports.test"},
    )
    assert duplicate.status_code == 422
    assert "Cette adresse reçoit déjà les alertes" in duplicate.get_data(as_text=True)
    invalid = client.post(
        f"/courriers/abonnement/{box.establishment.siret}/adresses",
        data={"csrf_token": token, "email": "pas-une-adresse"},
    )
    assert invalid.status_code == 422 and "Saisissez une adresse e-mail valide" in invalid.get_data(
        as_text=True
    )

    deposit(box.establishment, box.caisse)
    outbox.send_due()
    assert sorted(r for r, _ in smtp.messages) == ["lecteur@transports.test", "secretariat@transports.test"]

    address = db.session.scalar(select(LucieAlertAddress))
    client.post(
        f"/courriers/abonnement/{box.establishment.siret}/adresses/{address.id}/supprimer",
        data={"csrf_token": token},
    )
    assert db.session.scalar(select(LucieAlertAddress.id)) is None


def test_subscription_screens_are_for_the_company_admin_only(client, login, box):
    login(box.reader)
    assert client.get("/courriers/abonnement").status_code == 403
    assert client.get(f"/courriers/abonnement/{box.establishment.siret}").status_code == 403
    other = make_company("Autre entreprise")
    other_admin = make_user("admin@autre.test", company=other, admin=True)
    db.session.commit()
    client.post("/deconnexion", data={"csrf_token": client.csrf("/courriers/")})
    login(other_admin)
    assert client.get(f"/courriers/abonnement/{box.establishment.siret}").status_code == 404


# --- operator -----------------------------------------------------------------------------------


def test_operator_sees_failed_alerts_and_requeues_them(mail_app, smtp, client, login, box):
    mail_app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    smtp.refuse = True
    deposit(box.establishment, box.caisse)
    outbox.send_due()
    failed = db.session.scalar(select(OutboxMessage))
    assert failed.status == OutboxStatus.FAILED
    operator = make_user("operateur@atmp.test", is_operator=True)
    db.session.commit()
    login(operator)
    page = client.get("/operateur/courriels/").get_data(as_text=True)
    assert "En échec" in page and "lecteur@transports.test" in page
    token = client.csrf("/operateur/courriels/")
    client.post(f"/operateur/courriels/{failed.id}/remettre-en-file", data={"csrf_token": token})
    smtp.refuse = False
    assert outbox.send_due() == (1, 0)
    assert [r for r, _ in smtp.messages] == ["lecteur@transports.test"]


def test_the_outbox_page_is_hidden_from_everyone_else(client, login, box):
    login(box.admin)
    assert client.get("/operateur/courriels/").status_code == 404


# --- commands -----------------------------------------------------------------------------------


def test_api_token_commands_create_print_once_and_revoke(app, client, box):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "--caisse", "CPAM de Moselle", "--label", "GED"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hash_token(token) and row.label == "GED"
    listed = runner.invoke(args=["api-token", "list"]).output
    assert "CPAM de Moselle" in listed and token not in listed
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/courriers/1", headers=headers).status_code == 404
    assert runner.invoke(args=["api-token", "revoke", str(row.id)]).exit_code == 0
    assert client.get("/api/v1/courriers/1", headers=headers).status_code == 401
    unknown = runner.invoke(args=["api-token", "create", "--caisse", "CPAM inconnue"])
    assert unknown.exit_code != 0 and "Aucune caisse" in unknown.output


def test_operator_command_grants_the_role(app, box):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["operator", "grant", "lecteur@transports.test"]).exit_code == 0
    db.session.expire_all()
    assert box.reader.is_operator


def test_lucie_demo_command_deposits_through_the_service(app, box):
    result = app.test_cli_runner().invoke(args=["lucie", "demo"])
    assert result.exit_code == 0
    assert "flask demo load" in result.output  # the demo company is not there in this test


def test_a_dat_only_user_has_no_mailbox_in_the_navigation(client, login, box):
    dat_only = make_user(
        "dat@transports.test", company=box.company, grants=[(box.establishment, Service.DAT)]
    )
    db.session.commit()
    login(dat_only)
    page = client.get("/courriers/").get_data(as_text=True)
    assert 'href="/courriers/"' not in page.split("<main")[0]
    assert "Aucun établissement ne vous donne accès aux courriers" in page


def test_demo_data_has_letters_of_several_types_some_read(demo_app):
    runner = demo_app.test_cli_runner()
    letters = db.session.scalars(select(Letter)).all()
    assert len({letter.letter_type for letter in letters}) >= 5
    assert len({letter.establishment_id for letter in letters}) == 3
    read = [letter for letter in letters if letter.first_consulted_at]
    assert 0 < len(read) < len(letters)
    assert runner.invoke(args=["demo", "load"]).exit_code == 0  # idempotent
    assert db.session.scalar(select(func.count()).select_from(Letter)) == len(letters)
