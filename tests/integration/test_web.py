"""Security headers, error pages and configuration."""

import pytest

from app import create_app
from app.config import ConfigError
from app.extensions import db
from tests.factories import make_company, make_user


def test_security_headers_on_every_page(client):
    response = client.get("/accessibilite")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_page_is_a_french_404_without_trace(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Page introuvable" in body and "Traceback" not in body


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        create_app()


def test_static_assets_are_compressed_but_html_is_not(client):
    css = client.get("/static/app.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert css.headers.get("Content-Encoding") == "br"
    page = client.get("/connexion", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in page.headers  # BREACH: the page carries a CSRF token


def test_a_signed_out_autosave_answers_401_and_a_new_sign_in_gives_a_fresh_token(app, client, login):
    user = make_user(company=make_company())
    db.session.commit()
    stale = client.csrf("/connexion")
    assert client.get("/session/jeton").status_code == 401
    htmx = {"HX-Request": "true", "X-CSRFToken": stale}
    assert client.post("/deconnexion", headers=htmx).status_code in (302, 303, 400, 401)
    login(user)
    # The page's token predates the sign-in: refused; the token endpoint gives the session's one.
    assert client.post("/deconnexion", headers=htmx).status_code == 400
    fresh = client.get("/session/jeton")
    assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "no-store"
    response = client.post(
        "/deconnexion", headers={"HX-Request": "true", "X-CSRFToken": fresh.json["csrf_token"]}
    )
    assert response.status_code in (200, 302, 303)
    assert client.get("/").status_code == 302  # signed out by that accepted request
    # Signed out now: an htmx request with a token of the old session says the session expired.
    expired = client.post(
        "/deconnexion", headers={"HX-Request": "true", "X-CSRFToken": fresh.json["csrf_token"]}
    )
    assert expired.status_code == 401
