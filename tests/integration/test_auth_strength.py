"""A new password must be hard to guess (docs/accounts.md): zxcvbn's estimate, with the person's
e-mail and name and the platform's words as what an attacker knows, explained in French next to the
field, wherever a password is chosen — the invitation, the reset link and « Mon compte »."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import accounts
from tests.factories import PASSWORD, make_company, make_establishment, make_user

TOO_EASY = "Ce mot de passe est trop facile à deviner"
WEAK = [
    ("123456789012", "il ressemble à un mot de passe très courant"),
    ("aaaaaaaaaaaa", "une répétition comme « aaa » se devine facilement"),
    ("azertyuiopqs", "il ressemble à un mot de passe très courant"),
    ("camille.martin2026", "il reprend votre nom, votre adresse e-mail ou le nom du service"),
    ("atmp-atmp-atmp-atmp", "il reprend votre nom, votre adresse e-mail ou le nom du service"),
]


@pytest.fixture
def user(app):
    company = make_company()
    make_establishment(company, head_office=True)
    user = make_user("camille.martin@exemple.fr", company=company, full_name="Camille Martin")
    db.session.commit()
    return user


def choose(client, path, password, **extra):
    token = client.csrf(path)
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token, **extra})


def hash_of(user) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(User.password_hash).where(User.id == user.id))


def refused_with(response, reason: str) -> None:
    assert response.status_code == 422
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert f"{TOO_EASY} : {reason}" in body
    assert 'href="#password"' in body  # in the error summary, linked to the field


@pytest.mark.parametrize(("password", "reason"), WEAK)
def test_a_reset_link_refuses_a_guessable_password(app, client, user, password, reason):
    before = hash_of(user)
    with app.test_request_context():
        path = "/mot-de-passe/nouveau/" + accounts.password_reset_token(user)
    refused_with(choose(client, path, password), reason)
    assert hash_of(user) == before
    assert client.get(path).status_code == 200  # the link still works for a better password


@pytest.mark.parametrize(("password", "reason"), WEAK[:2])
def test_changing_the_password_refuses_a_guessable_one(client, login, user, password, reason):
    login(user)
    before = hash_of(user)
    refused_with(choose(client, "/compte/mot-de-passe", password, current=PASSWORD), reason)
    assert hash_of(user) == before


@pytest.mark.parametrize(("password", "reason"), WEAK[:2])
def test_an_invitation_refuses_a_guessable_password(app, client, password, reason):
    invited = make_user("nina@exemple.fr", company=make_company("Autre"), password=None, full_name="Nina Roy")
    db.session.commit()
    with app.test_request_context():
        path = "/invitation/" + accounts.invitation_token(invited)
    refused_with(choose(client, path, password), reason)
    assert hash_of(invited) is None


def test_a_phrase_of_unrelated_words_is_accepted(app, client, user):
    with app.test_request_context():
        path = "/mot-de-passe/nouveau/" + accounts.password_reset_token(user)
    assert choose(client, path, "Choux-Fleur-Rivage-81").status_code == 302
    assert hash_of(user) is not None
