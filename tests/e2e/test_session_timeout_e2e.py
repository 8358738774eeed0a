"""The warning before a session ends for inactivity, in a real browser, on a short clock: the session
ends after 14 s without a request and the warning opens 8 s before (6 s after a page loads). The time
passes without waiting: the page's clock and the server's are moved forward together (``clocks``)."""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from itsdangerous import TimestampSigner
from playwright.sync_api import expect

from app.extensions import db
from app.services.drafts import start_draft
from app.workflows import get_workflow
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("no_script_error")


@pytest.fixture
def app_config():
    return {"SESSION_IDLE_MINUTES": 14 / 60, "SESSION_WARNING_MINUTES": 8 / 60}


@pytest.fixture
def clocks(page):
    """``clocks(seconds)`` moves the page's clock and the server's forward together, without waiting:
    Playwright's clock in the browser (its timers that fall due run), time-machine in this process (the
    live server is a thread of it; the session's end is computed from ``time.time()``)."""
    traveller = time_machine.travel(time.time(), tick=True)
    server = traveller.start()
    page.clock.install()

    def forward(seconds: float) -> None:
        server.shift(seconds)  # first: the page's timers ask the server how long is left
        page.clock.fast_forward(int(seconds * 1000))

    yield forward
    traveller.stop()


def on_a_step(page, base: str, user) -> str:
    draft = start_draft(user, get_workflow("coordonnees"), user.habilitations[0].establishment)
    db.session.commit()
    step = f"{base}/demarches/brouillons/{draft.id}/etapes/nature"
    login_as(page, base, user.email, PASSWORD)
    page.goto(step)
    return step


def time_left(page) -> int:
    return page.evaluate("async () => (await (await fetch('/session/etat')).json()).remaining_seconds")


def test_the_warning_keeps_the_session_and_without_an_answer_the_sign_in_page_says_why(
    page,
    live_server,
    claire,
    clocks,
):
    step = on_a_step(page, live_server.url, claire)

    warning = page.get_by_role("dialog", name="Voulez-vous rester connecté ?")
    expect(warning).to_be_hidden()
    clocks(7)  # 6 s after the page loaded, 8 s before the end
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("vous serez déconnecté dans")
    expect(warning.get_by_role("button", name="Rester connecté")).to_be_focused()
    assert_accessible(page)
    shot(page, "session-timeout-warning")
    page.keyboard.press("Enter")  # keyboard only
    expect(warning).to_be_hidden()
    assert time_left(page) > 8  # the server pushed the end back

    # Escape also means "stay signed in".
    clocks(7)
    expect(warning).to_be_visible()
    page.keyboard.press("Escape")
    expect(warning).to_be_hidden()
    assert time_left(page) > 8

    # Then nobody answers: once the session has ended, the sign-in page says why, and signing in
    # again comes back to the step.
    clocks(7)
    expect(warning).to_be_visible()
    clocks(8)
    page.wait_for_url(re.compile(r"/connexion\?next="))
    expect(page.get_by_text("Vous avez été déconnecté après 14\u00a0secondes sans activité")).to_be_visible()
    assert_accessible(page)
    shot(page, "session-ended-sign-in")
    page.get_by_label("Adresse e-mail").fill(claire.email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(step)
    expect(page.get_by_role("heading", level=1)).to_have_text("Nature du changement")


def test_an_answer_that_could_not_be_saved_stays_on_the_page_when_the_session_ends(
    page,
    live_server,
    claire,
    clocks,
):
    step = on_a_step(page, live_server.url, claire)
    page.route("**/enregistrement-automatique", lambda route: route.fulfill(status=503))
    page.get_by_label("L'adresse de l'établissement").check()
    expect(page.get_by_text("Échec de l'enregistrement automatique")).to_be_visible()

    ended = page.get_by_role("dialog", name="Vous avez été déconnecté")
    clocks(15)  # past the end: the server says so when the page asks
    expect(ended).to_be_visible()
    expect(ended).to_contain_text("reste sur cette page")
    ended.get_by_role("button", name="Fermer").click()
    expect(ended).to_be_hidden()
    assert page.url == step
    expect(page.get_by_label("L'adresse de l'établissement")).to_be_checked()


def leave_for(context, app, seconds: float) -> None:
    """The browser's session as if its last request were ``seconds`` ago (no waiting)."""
    cookie = next(c for c in context.cookies() if c["name"] == "session")
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(cookie["value"])
    signer = TimestampSigner
    original = signer.get_timestamp
    signer.get_timestamp = lambda self: int(time.time() - seconds)
    try:
        value = serializer.dumps(data)
    finally:
        signer.get_timestamp = original
    context.add_cookies([{**cookie, "value": value}])


def test_without_javascript_a_step_sent_after_the_end_is_saved_after_signing_in_again(
    new_context,
    live_server,
    claire,
    assert_accessible_without_javascript,
):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    on_a_step(page, live_server.url, claire)
    page.get_by_label("L'adresse de l'établissement").check()
    leave_for(context, live_server.app, 60)
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_text("Ce que vous venez d'envoyer n'est pas perdu")).to_be_visible()
    shot(page, "session-ended-step-carried")
    assert_accessible_without_javascript(page)
    page.get_by_label("Adresse e-mail").fill(claire.email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Enregistrer ce que vous aviez saisi ?")
    shot(page, "session-ended-resume")
    assert_accessible_without_javascript(page)
    page.get_by_role("button", name="Enregistrer ma saisie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle adresse")
