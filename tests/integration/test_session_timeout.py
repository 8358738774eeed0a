"""Signed-in sessions end after 30 minutes without a request and at the latest 12 hours after the
sign-in (app/sessions.py): the user is told why, nothing sent after the end is saved, and the
warning's status request does not count as activity."""

from __future__ import annotations

import html
import re
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from itsdangerous import TimestampSigner

from app.config import ConfigError, load_config
from app.models import Service
from app.sessions import SIGNED_IN_AT, duration_fr
from tests.factories import PASSWORD, make_company, make_establishment, make_user
from tests.integration.test_workflows import Browser, fresh, step_url

IDLE = "après 30\u00a0minutes sans activité"


@pytest.fixture
def est():
    return make_establishment(make_company())


@pytest.fixture
def user(est):
    return make_user("salariee@example.test", grants=[(est, Service.COMPTE)], company=est.company)


@pytest.fixture
def browser(client, user):
    return Browser(client, user)


@pytest.fixture
def ago(monkeypatch, client):
    """``ago(seconds)``: one request whose response signs the session as if it were that long ago,
    i.e. the user's last activity was that long ago."""

    def last_request(seconds: float, path: str = "/"):
        with monkeypatch.context() as patch:
            patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time() - seconds))
            assert client.get(path).status_code == 200

    return last_request


@contextmanager
def no_cookie_set(client):
    before = client.get_cookie("session").value
    yield
    assert client.get_cookie("session").value == before


def session_cookie(response) -> str | None:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookies[0] if cookies else None


def test_a_session_ends_after_30_minutes_without_a_request_and_the_sign_in_page_says_why(
    client, browser, ago, est
):
    ago(31 * 60)
    response = client.get(f"/etablissements/{est.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/connexion?next=%2Fetablissements%2F{est.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert IDLE in page
    assert "connectez-vous pour reprendre" in page


def test_a_request_within_the_30_minutes_keeps_the_session_and_pushes_its_end_back(client, browser, ago):
    ago(29 * 60)
    response = client.get("/")
    assert response.status_code == 200
    assert session_cookie(response)
    assert client.get("/session/etat").get_json()["remaining_seconds"] >= 30 * 60 - 5


def test_a_session_ends_12_hours_after_the_sign_in_even_when_active(client, browser):
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time()) - 12 * 3600 - 60
    response = client.get("/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Se connecter" in page
    assert "une session dure au plus 12\u00a0heures" in page


def test_the_sign_in_makes_a_cookie_kept_12_hours_and_renewed_on_each_request(client, user):
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs((expires - datetime.now(UTC)).total_seconds() - 12 * 3600) < 60
    assert session_cookie(client.get("/"))


def test_the_status_asked_before_warning_does_not_push_the_end_back(client, browser, ago):
    ago(10 * 60)
    with no_cookie_set(client):
        for _ in range(2):
            response = client.get("/session/etat")
            assert response.headers["Cache-Control"] == "no-store"
            assert 20 * 60 - 5 <= response.get_json()["remaining_seconds"] <= 20 * 60
            assert not session_cookie(response)


def test_staying_signed_in_pushes_the_end_back_and_needs_the_csrf_token(client, browser, ago):
    ago(27 * 60)
    assert client.post("/session/prolonger").status_code == 400
    response = client.post("/session/prolonger", headers={"X-CSRFToken": browser.token})
    assert response.get_json()["remaining_seconds"] >= 30 * 60 - 1
    assert session_cookie(response)
    assert client.get("/session/etat").get_json()["remaining_seconds"] >= 30 * 60 - 5


def test_the_warning_never_offers_more_than_the_12_hours(client, browser):
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time()) - 12 * 3600 + 120
    assert 110 <= client.get("/session/etat").get_json()["remaining_seconds"] <= 120


def test_status_and_staying_signed_in_answer_401_once_the_session_has_ended(client, browser, ago):
    ago(31 * 60)
    response = client.get("/session/etat")
    assert response.status_code == 401
    assert response.get_json()["error"] == "session_expiree"
    assert client.post("/session/prolonger", headers={"X-CSRFToken": browser.token}).status_code in (400, 401)


def test_static_files_do_not_count_as_activity(client, browser):
    with no_cookie_set(client):
        response = client.get("/static/app.css")
        assert response.status_code == 200
        assert not session_cookie(response)


def step_sent_after_the_end(browser, ago, est, answers: dict) -> tuple[int, object]:
    draft_id = browser.start(est)
    ago(31 * 60)
    return draft_id, browser.post_step(draft_id, "nature", answers)


def hidden_inputs(page: str) -> list[tuple[str, str]]:
    inputs = [tag for tag in re.findall(r"<input [^>]+>", page) if 'type="hidden"' in tag]
    return [
        (
            re.search(r'name="([^"]+)"', tag).group(1),
            html.unescape(re.search(r'value="([^"]*)"', tag).group(1)),
        )
        for tag in inputs
    ]


def sign_in_carrying(client, page: str, user, password: str = PASSWORD):
    """Submit the sign-in page ``page`` as a browser would: its hidden inputs, and the user's
    e-mail and password."""
    form = dict(hidden_inputs(page))
    return client.post("/connexion", data={**form, "email": user.email, "password": password})


def test_a_step_sent_without_javascript_after_the_end_is_carried_through_the_sign_in(
    client, browser, ago, est, user
):
    draft_id, response = step_sent_after_the_end(browser, ago, est, {"nature": "adresse"})
    assert response.status_code == 401
    page = html.unescape(response.get_data(as_text=True))
    assert IDLE in page
    assert "Ce que vous venez d'envoyer n'est pas perdu" in page
    assert 'name="reprise-nature" value="adresse"' in page
    assert "nature" not in fresh(draft_id).answers

    resumed = sign_in_carrying(client, page, user)
    assert resumed.status_code == 200
    resume_page = html.unescape(resumed.get_data(as_text=True))
    assert "Enregistrer ce que vous aviez saisi" in resume_page
    assert f'action="{step_url(draft_id, "nature")}"' in resume_page
    assert "nature" not in fresh(draft_id).answers  # nothing is saved without the user's click

    form = dict(hidden_inputs(resume_page))
    assert form["nature"] == "adresse" and form["action"] == "continue"
    saved = client.post(step_url(draft_id, "nature"), data=form)
    assert saved.status_code == 303
    assert fresh(draft_id).answers["nature"] == {"nature": "adresse"}


def test_a_wrong_password_keeps_the_carried_answers(client, browser, ago, est, user):
    _, response = step_sent_after_the_end(browser, ago, est, {"nature": "contact"})
    refused = sign_in_carrying(client, response.get_data(as_text=True), user, password="pas-le-bon")
    assert refused.status_code == 422
    assert 'name="reprise-nature" value="contact"' in refused.get_data(as_text=True)


def test_carried_answers_go_only_to_a_step_of_this_site(client, user):
    token = client.csrf("/connexion")
    for target in ("/compte/mot-de-passe", "//evil.example/demarches/brouillons/1/etapes/nature"):
        response = client.post(
            "/connexion",
            data={
                "email": user.email,
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
                "reprise-password": "x",
            },
        )
        assert response.status_code == 302
        client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
        token = client.csrf("/connexion")


def test_any_other_form_sent_after_the_end_says_what_was_not_saved(client, browser, ago, est):
    ago(31 * 60)
    response = client.post(
        "/compte/mot-de-passe",
        data={"csrf_token": browser.token, "current": PASSWORD},
        headers={"Referer": "http://localhost/compte/mot-de-passe"},
    )
    assert response.status_code == 401
    page = html.unescape(response.get_data(as_text=True))
    assert IDLE in page
    assert "Ce que vous venez d'envoyer n'a pas été enregistré" in page
    assert 'href="/connexion?next=/compte/mot-de-passe"' in page


def test_an_autosave_after_the_end_answers_401_for_the_page_to_say_so(client, browser, ago, est):
    draft_id = browser.start(est)
    ago(31 * 60)
    assert browser.autosave(draft_id, "nature", {"nature": "adresse"}).status_code == 401
    assert "nature" not in fresh(draft_id).answers


def test_a_sign_in_page_left_open_two_hours_still_signs_in(client, user, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time() - 2 * 3600))
        token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_signed_in_pages_carry_the_warning_and_signed_out_pages_do_not(client, browser):
    page = client.get("/").get_data(as_text=True)
    assert 'data-idle-seconds="1800"' in page
    assert 'data-warning-seconds="300"' in page
    assert "Rester connecté" in page
    client.post("/deconnexion", data={"csrf_token": browser.token})
    assert "data-session-timeout" not in client.get("/connexion").get_data(as_text=True)


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSION_WARNING_MINUTES": 30, "SESSION_IDLE_MINUTES": 30},
        {"SESSION_WARNING_MINUTES": 0},
        {"SESSION_IDLE_MINUTES": 13 * 60, "SESSION_MAX_HOURS": 12},
    ],
)
def test_session_settings_that_cannot_work_are_refused(settings):
    with pytest.raises(ConfigError):
        load_config(settings)


def test_durations_read_in_french():
    assert duration_fr(1800) == "30\u00a0minutes"
    assert duration_fr(12 * 3600) == "12\u00a0heures"
    assert duration_fr(5400) == "1\u00a0heure 30\u00a0minutes"
    assert duration_fr(61) == "1\u00a0minute 1\u00a0seconde"
