"""Sessions that end on the server (docs/security.md): the signed cookie names a `user_session` row,
checked on every request, so that a copy of the cookie stops working as soon as the session is
revoked — by signing out, a password change or reset, a lock-out, an administrator deactivating the
person, or « Se déconnecter de tous les appareils » — instead of at the end of its 12 hours."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, UserSession
from app.models.types import utcnow
from app.services import accounts
from tests.factories import PASSWORD, make_company, make_establishment, make_user

NEW_PASSWORD = "Une-phrase-de-passe-neuve"
ANDROID = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def world(app):
    company = make_company("Transports Lorrains")
    est = make_establishment(company, head_office=True)
    admin = make_user("admin@exemple.fr", company=company, admin=True, full_name="Alix Admin")
    user = make_user("camille@exemple.fr", company=company, grants=[(est, "*")], full_name="Camille Martin")
    db.session.commit()
    return {"admin": admin, "user": user}


def sign_in(client, user, password=PASSWORD, user_agent=FIREFOX):
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion",
        data={"email": user.email, "password": password, "csrf_token": token},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 302, response.status_code


def copy_of_cookie(app, client):
    """Another browser holding a copy of ``client``'s session cookie (stolen, or a shared computer)."""
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_a_copied_cookie_works_while_the_session_is_open(app, client, world):
    sign_in(client, world["user"])
    assert signed_in(copy_of_cookie(app, client))


def test_a_cookie_replayed_after_signing_out_is_signed_out(app, client, world):
    sign_in(client, world["user"])
    thief = copy_of_cookie(app, client)
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")
    assert thief.get("/compte").status_code == 302
    (row,) = db.session.scalars(select(UserSession)).all()
    assert row.revoked_at is not None


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, world):
    other = app.test_client()
    sign_in(other, world["user"])
    sign_in(client, world["user"])
    copy = copy_of_cookie(app, client)
    token = client.csrf("/compte/mot-de-passe")
    response = client.post(
        "/compte/mot-de-passe",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert signed_in(client)
    assert not signed_in(other)
    assert not signed_in(copy)  # the old cookie of this very browser too: it got a new session


def test_a_password_reset_ends_every_session(app, client, world):
    sign_in(client, world["user"])
    with app.test_request_context():
        accounts.reset_password(world["user"], NEW_PASSWORD)
    assert not signed_in(client)


def test_an_administrator_deactivating_a_person_ends_their_sessions(app, client, world):
    user_client = app.test_client()
    sign_in(user_client, world["user"])
    thief = copy_of_cookie(app, user_client)
    sign_in(client, world["admin"])
    path = f"/admin/utilisateurs/{world['user'].id}/desactiver"
    token = client.csrf(f"/admin/utilisateurs/{world['user'].id}")
    assert client.post(path, data={"csrf_token": token}).status_code in (302, 303)
    assert not signed_in(user_client) and not signed_in(thief)
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == world["user"].id)).all()
    assert rows and all(r.revoked_at is not None for r in rows)


def test_a_lock_out_ends_the_holders_sessions(app, client, world):
    sign_in(client, world["user"])
    attacker = app.test_client()
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        token = attacker.csrf("/connexion")
        data = {"email": world["user"].email, "password": "devine", "csrf_token": token}
        attacker.post("/connexion", data=data)
    assert not signed_in(client)


def test_sign_out_from_every_device_ends_them_all(app, client, world):
    phone = app.test_client()
    sign_in(phone, world["user"], user_agent=ANDROID)
    sign_in(client, world["user"])
    thief = copy_of_cookie(app, client)
    page = client.get("/compte").get_data(as_text=True)
    assert "Appareils connectés" in page
    assert "Firefox sous Windows" in page and "cet appareil" in page and "Chrome sous Android" in page
    assert "Se déconnecter de tous les appareils" in page

    response = client.post("/compte/sessions/fermer", data={"csrf_token": client.csrf("/compte")})
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
    assert "Vous êtes déconnecté de tous vos appareils (2 sessions fermées)." in client.get(
        "/connexion"
    ).get_data(as_text=True)
    assert not signed_in(client) and not signed_in(phone) and not signed_in(thief)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sessions_revoked"))
    assert event.user_id == world["user"].id and event.details == {"sessions": 2}


def test_sign_out_from_every_device_needs_the_csrf_token(client, world):
    sign_in(client, world["user"])
    assert client.post("/compte/sessions/fermer").status_code == 400
    assert signed_in(client)


def test_the_session_token_is_stored_only_as_its_hash(app, client, world):
    sign_in(client, world["user"])
    with client.session_transaction() as session:
        token = session["_sid"]
    (row,) = db.session.scalars(select(UserSession)).all()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert row.user_agent == "Firefox sous Windows"


def test_a_session_of_another_user_does_not_open_this_one(app, client, world):
    """The row must belong to the user the cookie names: a token of one's own session does not
    combine with another person's id (the cookie is signed, but the check holds on its own)."""
    sign_in(client, world["user"])
    with client.session_transaction() as session:
        session["_user_id"] = f"{world['admin'].id}:{world['admin'].credentials_version}"
    assert client.get("/compte").status_code == 302


def test_an_administrator_signs_a_person_out_of_every_device_and_the_account_stays(app, client, world):
    user_client = app.test_client()
    sign_in(user_client, world["user"])
    thief = copy_of_cookie(app, user_client)
    sign_in(client, world["admin"])
    page = f"/admin/utilisateurs/{world['user'].id}"
    assert "Déconnecter de tous ses appareils" in client.get(page).get_data(as_text=True)
    response = client.post(f"{page}/sessions/fermer", data={"csrf_token": client.csrf(page)})
    assert response.status_code == 302
    assert "Les sessions de Camille Martin sont fermées" in client.get(page).get_data(as_text=True)
    assert not signed_in(user_client) and not signed_in(thief)
    assert signed_in(client)  # the administrator's own session goes on
    sign_in(user_client, world["user"])  # the account is still active
    assert signed_in(user_client)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sessions_revoked"))
    assert event.user_id == world["admin"].id and event.object_id == str(world["user"].id)


def test_an_administrator_cannot_sign_out_a_person_of_another_company(app, client, world):
    stranger = make_user("autre@exemple.fr", company=make_company("Autre"), full_name="Autre Personne")
    db.session.commit()
    other = app.test_client()
    sign_in(other, stranger)
    sign_in(client, world["admin"])
    response = client.post(
        f"/admin/utilisateurs/{stranger.id}/sessions/fermer", data={"csrf_token": client.csrf("/")}
    )
    assert response.status_code == 404
    assert signed_in(other)


def test_last_activity_is_written_at_most_every_five_minutes(app, client, world):
    sign_in(client, world["user"])
    (row,) = db.session.scalars(select(UserSession)).all()
    recent, old = utcnow() - timedelta(minutes=2), utcnow() - timedelta(minutes=10)
    for seen, moves in ((recent, False), (old, True)):
        db.session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=seen))
        db.session.commit()
        assert signed_in(client)
        db.session.expire_all()
        stored = db.session.get(UserSession, row.id).last_seen_at
        assert (stored > seen + timedelta(minutes=1)) is moves
