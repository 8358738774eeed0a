"""Password reset by an e-mailed signed link (SPEC §1): same answer whether the account exists,
link valid once and for a limited time, old sessions end, lock-out cleared."""

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage, User
from app.models.types import utcnow
from app.services import accounts
from tests.factories import PASSWORD, make_company, make_establishment, make_user

NEW_PASSWORD = "Une-phrase-de-passe-neuve"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
LINK_RE = re.compile(r"http://[^/\s]+(/mot-de-passe/nouveau/\S+)")


@pytest.fixture
def user(app):
    company = make_company()
    make_establishment(company, head_office=True)
    user = make_user("camille@exemple.fr", company=company)
    db.session.commit()
    return user


def ask_reset(client, email):
    token = client.csrf("/mot-de-passe/oublie")
    return client.post("/mot-de-passe/oublie", data={"email": email, "csrf_token": token})


def reset_link(email) -> str:
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == email, OutboxMessage.kind == "password_reset")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, "no reset e-mail in the outbox"
    match = LINK_RE.search(message.body_text)
    assert match, message.body_text
    return match.group(1)


def choose(client, path, password, confirm=None):
    token = client.csrf(path)
    return client.post(
        path,
        data={"password": password, "confirm": password if confirm is None else confirm, "csrf_token": token},
    )


def outbox_count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def test_reset_end_to_end_from_the_e_mail_to_a_sign_in(app, client, user, login):
    response = ask_reset(client, "Camille@exemple.fr")
    assert response.status_code == 200
    assert "Vérifiez votre messagerie" in response.get_data(as_text=True)
    path = reset_link(user.email)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.body_text.count(app.config["BASE_URL"] + path) == 1
    page = client.get(path)
    assert page.status_code == 200 and "Choisissez un nouveau mot de passe" in page.get_data(as_text=True)

    response = choose(client, path, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    assert "Votre mot de passe est modifié" in client.get("/connexion").get_data(as_text=True)

    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 422  # the old password no longer works
    login(user, password=NEW_PASSWORD)
    assert client.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).credentials_version == 2
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "password_reset_requested" in actions and "password_reset" in actions
    kinds = list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))
    assert kinds == ["password_reset", "password_changed"]


def test_unknown_address_gets_the_same_confirmation_and_no_e_mail(client, user):
    known = ask_reset(client, user.email).get_data(as_text=True)
    unknown = ask_reset(client, "personne@exemple.fr").get_data(as_text=True)
    # Signed CSRF tokens carry a timestamp: leave them out of the comparison.
    known, unknown = (TOKEN_RE.sub("", page) for page in (known, unknown))
    assert known.replace(user.email, "X") == unknown.replace("personne@exemple.fr", "X")
    assert outbox_count() == 1


def test_deactivated_account_gets_no_e_mail(client, user):
    user.is_active_account = False
    db.session.commit()
    ask_reset(client, user.email)
    assert outbox_count() == 0


def test_the_link_works_once(client, user):
    ask_reset(client, user.email)
    path = reset_link(user.email)
    assert choose(client, path, NEW_PASSWORD).status_code == 302
    response = client.get(path)
    assert response.status_code == 404
    assert "Ce lien n'est plus valable" in response.get_data(as_text=True)
    assert choose_forged(client, path).status_code == 404


def choose_forged(client, path):
    token = client.csrf("/connexion")
    return client.post(path, data={"password": "x" * 20, "confirm": "x" * 20, "csrf_token": token})


def test_an_expired_link_is_refused(app, client, user, monkeypatch):
    max_age = app.config["PASSWORD_TOKEN_MAX_AGE"]
    issued = int(time.time()) - max_age - 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued)
    ask_reset(client, user.email)
    monkeypatch.undo()
    response = client.get(reset_link(user.email))
    assert response.status_code == 404
    assert "expire après" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["abc", "eyJ1IjoxLCJ2IjoxfQ.forged.sig", "x" * 4000])
def test_forged_links_are_refused(client, user, token):
    assert client.get(f"/mot-de-passe/nouveau/{token}").status_code == 404


def test_an_address_longer_than_any_of_ours_gets_a_french_414(client, user):
    response = client.get("/mot-de-passe/nouveau/" + "x" * 5000)
    assert response.status_code == 414
    assert "Adresse trop longue" in response.get_data(as_text=True)


def test_an_invitation_link_is_not_a_reset_link(client, user):
    token = accounts.invitation_token(user)
    assert client.get(f"/mot-de-passe/nouveau/{token}").status_code == 404


def test_new_password_rules_are_checked_in_french(client, user):
    ask_reset(client, user.email)
    path = reset_link(user.email)
    response = choose(client, path, "court")
    assert response.status_code == 422
    assert "Le mot de passe doit faire au moins 12 caractères" in response.get_data(as_text=True)
    response = choose(client, path, NEW_PASSWORD, "autre-chose-entierement")
    assert "Les deux mots de passe ne sont pas identiques" in response.get_data(as_text=True)
    response = choose(client, path, "", "")
    body = response.get_data(as_text=True)
    assert "Saisissez un mot de passe" in body and "Il y a un problème" in body
    response = choose(client, path, "p" * 10_000)
    assert "Le mot de passe doit faire au plus 256 caractères" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).credentials_version == 1  # nothing saved


def test_reset_ends_the_other_sessions(app, client, user, login):
    login(user)
    assert client.get("/").status_code == 200
    other = app.test_client()
    token = other.csrf("/mot-de-passe/oublie")
    other.post("/mot-de-passe/oublie", data={"email": user.email, "csrf_token": token})
    path = reset_link(user.email)
    token = other.csrf(path)
    other.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token})
    assert client.get("/").status_code == 302  # the first browser is signed out


def test_reset_clears_a_lock_out(app, client, user):
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    ask_reset(client, user.email)
    choose(client, reset_link(user.email), NEW_PASSWORD)
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is None
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": NEW_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_reset_request_checks_the_address_format(client):
    response = ask_reset(client, "pas-une-adresse")
    assert response.status_code == 422
    assert "Saisissez une adresse e-mail valide" in response.get_data(as_text=True)
    response = ask_reset(client, "<script>alert(1)</script>@x.fr")
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RESET_RATE_LIMIT": "2 per minute"}

    def test_reset_requests_are_rate_limited(self, client, user):
        assert ask_reset(client, user.email).status_code == 200
        assert ask_reset(client, user.email).status_code == 200
        response = ask_reset(client, user.email)
        assert response.status_code == 429
        assert "Trop de tentatives" in response.get_data(as_text=True)
        assert outbox_count() == 2
