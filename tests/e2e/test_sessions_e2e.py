"""Signing out ends the session on the server, in a real browser: a copy of the session cookie
replayed in another browser after « Se déconnecter » lands on the sign-in page; « Mon compte » lists
the open sessions and signs them all out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("no_script_error")


def session_cookie(context) -> dict:
    (cookie,) = [c for c in context.cookies() if c["name"] == "session"]
    return cookie


def test_a_cookie_replayed_after_signing_out_opens_the_sign_in_page(browser, page, live_server, claire):
    base = live_server.url
    login_as(page, base, claire.email, PASSWORD)
    copied = session_cookie(page.context)

    other = browser.new_context()
    thief = other.new_page()
    other.add_cookies([copied])
    thief.goto(f"{base}/compte")
    expect(thief.get_by_role("heading", name="Mon compte")).to_be_visible()  # the copy works while open

    page.get_by_role("button", name="Se déconnecter").first.click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()

    replay = browser.new_context()
    replayed = replay.new_page()
    replay.add_cookies([copied])
    replayed.goto(f"{base}/compte")
    expect(replayed).to_have_url(re.compile(r"/connexion\?next="))
    expect(replayed.get_by_role("heading", name="Se connecter")).to_be_visible()
    thief.reload()
    expect(thief.get_by_role("heading", name="Se connecter")).to_be_visible()
    other.close()
    replay.close()


def test_my_account_lists_the_sessions_and_signs_out_everywhere(browser, page, live_server, claire):
    base = live_server.url
    phone_context = browser.new_context(viewport={"width": 375, "height": 740})
    phone = phone_context.new_page()
    login_as(phone, base, claire.email, PASSWORD)
    login_as(page, base, claire.email, PASSWORD)

    page.goto(f"{base}/compte")
    sessions = page.get_by_role("table", name="Sessions ouvertes sur votre compte")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two browsers
    expect(sessions).to_contain_text("cet appareil")
    assert_accessible(page)
    shot(page, "account-sessions")

    page.get_by_role("button", name="Se déconnecter de tous les appareils").click()
    done = "Vous êtes déconnecté de tous vos appareils (2 sessions fermées)."
    expect(page.get_by_text(done)).to_be_visible()
    phone.goto(f"{base}/compte")
    expect(phone.get_by_role("heading", name="Se connecter")).to_be_visible()
    phone_context.close()


def test_a_wrong_password_and_an_unknown_address_get_the_same_accessible_answer(page, live_server, claire):
    texts = []
    for email in (claire.email, "personne@exemple.fr"):
        page.goto(f"{live_server.url}/connexion")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon-mot-de-passe")
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_title(re.compile(r"^Erreur : "))
        texts.append(
            page.locator(".govuk-error-summary").inner_text() + page.locator(".govuk-inset-text").inner_text()
        )
    assert texts[0] == texts[1]
    assert "son titulaire est prévenu par e-mail" in texts[0]
    assert_accessible(page)
    shot(page, "login-failure")
