"""GOV.UK Frontend's script arrives after the page (app.js imports it): on a slow line, or a busy
machine, a person can have tabbed into a field and started typing before it runs. Its notification
banner (« Vous êtes déconnecté. ») and its error summary then took the focus, and what was typed next
went nowhere — a sign-in sent with half an e-mail (seen in CI, in the victim's keyboard-only test).
The script is held back here until the person has started typing: the focus stays where they put it.
On a page nobody has touched yet, the banner and the summary still take the focus, as GOV.UK intends.
The script is also asked for beside app.js (a ``modulepreload``), not once app.js has arrived and run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login_as, wait_for
from tests.e2e.test_qrpro_parties_e2e import tab_to
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("no_script_error")
GOVUK_SCRIPT = re.compile(r"/static/vendor/govuk-frontend-[^/]*\.js$")


def hold_govuk_script(page) -> list:
    """The GOV.UK Frontend script's requests are held (not answered) until ``route.continue_()``."""
    held: list = []
    page.route(GOVUK_SCRIPT, lambda route: held.append(route))
    return held


def release(page, held: list, initialised: str) -> None:
    """Let the held script through and wait until it has set up the component ``initialised``."""
    wait_for(page, lambda: held)
    assert held, "the page never asked for GOV.UK Frontend's script"
    for route in held:
        route.continue_()
    page.unroute(GOVUK_SCRIPT)
    page.locator(f"[{initialised}]").wait_for(state="attached")


def sign_out(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/connexion$"), wait_until="domcontentloaded")


def fill_in_a_wrong_password(page, base: str, email: str) -> None:
    """The sign-in page, filled with a wrong password (not sent: the test clicks)."""
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon")


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement.id || document.activeElement.className")


def test_the_govuk_script_is_fetched_beside_app_js_not_after_it(page, live_server):
    """base.html preloads it (``modulepreload``): asked for while app.js, which imports it, has not yet
    arrived, and fetched once (the preload is the import's)."""
    held: list = []
    page.route("**/static/app.js", lambda route: held.append(route))
    asked: list = []
    page.on("request", lambda request: asked.append(request) if GOVUK_SCRIPT.search(request.url) else None)
    page.goto(f"{live_server.url}/connexion", wait_until="commit")
    wait_for(page, lambda: held and asked)
    assert held, "the page never asked for app.js"
    assert len(asked) == 1, "GOV.UK's script was not asked for before app.js arrived"
    held[0].continue_()
    page.locator("[data-govuk-password-input-init]").wait_for(state="attached")
    assert len(asked) == 1


def test_the_sign_out_banner_takes_the_focus_of_an_untouched_page(page, live_server, claire):
    login_as(page, live_server.url, claire.email, PASSWORD)
    sign_out(page)
    banner = page.locator("[data-govuk-notification-banner-init]")
    expect(banner).to_contain_text("Vous êtes déconnecté.")
    expect(banner).to_be_focused()


def test_the_sign_out_banner_leaves_the_focus_in_the_field_being_typed(page, live_server, claire):
    login_as(page, live_server.url, claire.email, PASSWORD)
    held = hold_govuk_script(page)
    sign_out(page)
    tab_to(page, "#email")
    page.keyboard.type(claire.email[:6])
    release(page, held, "data-govuk-notification-banner-init")
    page.keyboard.type(claire.email[6:])
    assert focused_id(page) == "email"
    expect(page.locator("#email")).to_have_value(claire.email)
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)


def test_the_error_summary_leaves_the_focus_in_the_field_being_typed(page, live_server, claire):
    fill_in_a_wrong_password(page, live_server.url, claire.email)
    held = hold_govuk_script(page)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD[:4])
    release(page, held, "data-govuk-error-summary-init")
    page.keyboard.type(PASSWORD[4:])
    assert focused_id(page) == "password"
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)


def test_the_error_summary_takes_the_focus_of_an_untouched_page(page, live_server, claire):
    fill_in_a_wrong_password(page, live_server.url, claire.email)
    page.get_by_role("button", name="Se connecter").click()
    summary = page.locator("[data-govuk-error-summary-init]")
    expect(summary).to_be_attached()
    expect(summary).to_be_focused()
