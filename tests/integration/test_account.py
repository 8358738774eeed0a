""" "Mon compte": who I am, and changing my password while signed in (the current one first; the
other sessions end; an e-mail says so; nothing changes on a refused attempt)."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage, User
from tests.factories import PASSWORD, make_company, make_establishment, make_user

NEW_PASSWORD = "Une-phrase-de-passe-neuve"
PAGE = "/compte/mot-de-passe"


@pytest.fixture
def user(app):
    company = make_company("Transports Lorrains")
    make_establishment(company, head_office=True)
    user = make_user("camille@exemple.fr", company=company, full_name="Camille Martin")
    db.session.commit()
    return user


def change(client, current, password, confirm=None):
    token = client.csrf(PAGE)
    return client.post(
        PAGE,
        data={
            "current": current,
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": token,
        },
    )


def stored(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def signs_in(app, email, password) -> bool:
    other = app.test_client()
    token = other.csrf("/connexion")
    response = other.post("/connexion", data={"email": email, "password": password, "csrf_token": token})
    return response.status_code == 302 and response.headers["Location"] == "/"


def test_the_account_page_says_who_i_am_and_links_to_the_password_change(client, user, login):
    login(user)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/compte"' in home
    body = client.get("/compte").get_data(as_text=True)
    assert "Camille Martin" in body and "camille@exemple.fr" in body and "Transports Lorrains" in body
    assert f'href="{PAGE}"' in body
    assert body.count("adresse IP 127.0.0.1</li>") == 1
    for _ in range(6):
        client.post("/deconnexion", data={"csrf_token": client.csrf("/compte")})
        login(user)
    body = client.get("/compte").get_data(as_text=True)
    assert "Dernières connexions" in body
    assert body.count("adresse IP 127.0.0.1</li>") == 5  # the five latest of seven


def test_changing_the_password_keeps_me_signed_in_and_ends_the_other_sessions(app, client, user, login):
    login(user)
    elsewhere = app.test_client()
    token = elsewhere.csrf("/connexion")
    elsewhere.post("/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert elsewhere.get("/").status_code == 200

    response = change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/compte"
    page = client.get("/compte").get_data(as_text=True)
    assert "Votre mot de passe est modifié" in page  # still signed in, with a fresh session
    assert elsewhere.get("/").status_code == 302  # the other browser is signed out
    assert stored(user).credentials_version == 2
    assert signs_in(app, user.email, NEW_PASSWORD)
    assert not signs_in(app, user.email, PASSWORD)

    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "password_changed")).one()
    assert mail.recipient == user.email and "vient d'être modifié" in mail.body_text
    assert NEW_PASSWORD not in mail.body_text
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))).all()
    assert "password_changed" in actions


def test_a_wrong_current_password_changes_nothing_and_says_so_next_to_the_field(app, client, user, login):
    login(user)
    response = change(client, "pas-le-bon-mot-de-passe", NEW_PASSWORD)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="current-error"' in body and "Le mot de passe actuel n&#39;est pas le bon" in body
    assert stored(user).credentials_version == 1
    assert signs_in(app, user.email, PASSWORD)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    refused = select(AuditEvent).where(AuditEvent.action == "password_change_refused")
    assert db.session.scalars(refused).one().object_id == str(user.id)


@pytest.mark.parametrize(
    ("current", "password", "confirm", "message"),
    [
        ("", NEW_PASSWORD, None, "Saisissez votre mot de passe actuel"),
        (PASSWORD, "court", None, "Le mot de passe doit faire au moins 12 caractères"),
        (PASSWORD, NEW_PASSWORD, "autre-chose-entierement", "Les deux mots de passe ne sont pas identiques"),
        (PASSWORD, "p" * 10_000, None, "Le mot de passe doit faire au plus 256 caractères"),
        (PASSWORD, PASSWORD, None, "Choisissez un mot de passe différent de l&#39;actuel"),
        ("<script>alert(1)</script>", NEW_PASSWORD, None, "Le mot de passe actuel n&#39;est pas le bon"),
    ],
)
def test_bad_input_gets_a_french_message_and_saves_nothing(
    client, user, login, current, password, confirm, message
):
    login(user)
    response = change(client, current, password, confirm)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and "Il y a un problème" in body
    assert "<script>alert(1)</script>" not in body
    assert stored(user).credentials_version == 1


def test_the_pages_need_a_sign_in_and_the_change_needs_the_csrf_token(client, user, login):
    for path in ("/compte", PAGE):
        response = client.get(path)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    login(user)
    response = client.post(
        PAGE, data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert stored(user).credentials_version == 1
