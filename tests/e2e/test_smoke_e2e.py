"""The live server and the browser harness themselves."""

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible


def test_public_page_renders_with_our_styles_and_no_console_error(page, live_server):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accessibilite")
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration d'accessibilité")
    assert "govuk-frontend-supported" in page.evaluate("document.body.className")
    # htmx loaded from the vendored file with its integrity hash
    assert page.evaluate("typeof htmx") == "object"
    assert errors == []
    assert_accessible(page)
