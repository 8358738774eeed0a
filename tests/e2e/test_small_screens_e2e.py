"""Every role's main pages on a 360 px wide phone, over the demo data: nothing widens the page (a wide
table scrolls in its own region), and axe finds no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import assert_accessible, login_as, shot

PAGES = {
    "employeur@demo.test": ["/", "/demarches/", "/dat/", "/courriers/"],
    "admin@demo.test": ["/", "/admin/utilisateurs", "/admin/mandats", "/courriers/abonnement"],
    "cabinet@demo.test": ["/", "/cabinet/portefeuille", "/courriers/"],
    "agent.cpam@demo.test": ["/", "/cpam/declarations", "/agent/courriers/", "/agent/courriers/deposer"],
    "operateur@demo.test": ["/", "/operateur/courriels/"],
}


@pytest.mark.parametrize("email", sorted(PAGES))
def test_main_pages_fit_a_360px_screen(browser, demo_server, email):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    page = context.new_page()
    login_as(page, demo_server.url, email, DEMO_PASSWORD)
    for path in PAGES[email]:
        response = page.goto(demo_server.url + path)
        assert response.status == 200, path
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"
        assert_accessible(page)
    context.close()


def test_the_menu_folds_behind_a_button_on_a_phone_and_lists_everything_without_javascript(
    browser, demo_server
):
    phone = {"viewport": {"width": 360, "height": 740}, "locale": "fr-FR"}
    context = browser.new_context(**phone)
    page = context.new_page()
    login_as(page, demo_server.url, "employeur@demo.test", DEMO_PASSWORD)
    menu = page.get_by_role("navigation", name="Menu principal")
    toggle = menu.get_by_role("button", name="Menu")
    mailbox = menu.get_by_role("link", name="Courriers")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(mailbox).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(mailbox).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Tab")  # the first entry of the menu, just opened
    expect(menu.get_by_role("link", name="Tableau de bord")).to_be_focused()
    mailbox.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Courriers")
    expect(menu.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    expect(menu.locator('a[aria-current="page"]')).to_contain_text("Courriers")
    context.close()

    # Without JavaScript there is no button: every entry is listed.
    context = browser.new_context(java_script_enabled=False, **phone)
    page = context.new_page()
    login_as(page, demo_server.url, "employeur@demo.test", DEMO_PASSWORD)
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("button", name="Menu")).to_have_count(0)
    for name in ("Tableau de bord", "Brouillons", "Accidents du travail", "Courriers"):
        expect(menu.get_by_role("link", name=name)).to_be_visible()
    context.close()

    # On a wide screen the entries are in a row, with no button.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    login_as(page, demo_server.url, "employeur@demo.test", DEMO_PASSWORD)
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("button", name="Menu")).to_be_hidden()
    boxes = [menu.get_by_role("link", name=n).bounding_box() for n in ("Tableau de bord", "Courriers")]
    assert boxes[0]["y"] == boxes[1]["y"]
    context.close()


LISTS = {"/courriers/": "Filtrer les courriers", "/dat/": "Filtrer les déclarations"}
PHONE = {"width": 375, "height": 667}


@pytest.mark.parametrize("path", sorted(LISTS))
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_on_a_375px_phone_the_list_comes_first_and_the_filters_behind_a_disclosure(
    browser, demo_server, assert_accessible_without_javascript, path, javascript
):
    context = browser.new_context(viewport=PHONE, locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    login_as(page, demo_server.url, "employeur@demo.test", DEMO_PASSWORD)
    page.goto(demo_server.url + path)
    if javascript:
        # GOV.UK Frontend is a module the page imports, which can finish after its load event: until
        # it has run, the menu is unfolded (as without JavaScript). What is measured is the page once
        # it has settled.
        expect(
            page.get_by_role("navigation", name="Menu principal").get_by_role("button", name="Menu")
        ).to_be_visible()
    shot(page, f"phone-{path.strip('/')}-{'js' if javascript else 'nojs'}")
    first_row = page.locator("main table tbody tr").first
    # The row starts with its key link (a letter's title, a victim, a reference): its first line is
    # in the first screen.
    link = first_row.get_by_role("link").first
    box = link.bounding_box()
    assert box["y"] + min(box["height"], 24) <= PHONE["height"], f"first row's link at {box}"
    # Each cell of the row a line of its own, within the screen, after its column's name.
    for cell in first_row.locator("td").all():
        cell_box = cell.bounding_box()
        assert cell_box["x"] >= 0 and cell_box["x"] + cell_box["width"] <= PHONE["width"]
        label = cell.get_attribute("data-label")
        if label:
            before = cell.evaluate("td => getComputedStyle(td, '::before').content")
            assert before == f'"{label} : "', before
    filters = page.get_by_role("search")
    expect(filters).to_be_hidden()
    if javascript:
        assert_accessible(page)
    else:
        assert_accessible_without_javascript(page)
    page.get_by_text(LISTS[path], exact=True).click()
    expect(filters).to_be_visible()
    context.close()


@pytest.mark.parametrize("path", sorted(LISTS))
def test_on_a_wide_screen_the_filters_are_a_column_beside_the_list(browser, demo_server, path):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    login_as(page, demo_server.url, "employeur@demo.test", DEMO_PASSWORD)
    page.goto(demo_server.url + path)
    filters = page.get_by_role("search")
    expect(filters).to_be_visible()
    expect(page.get_by_text(LISTS[path], exact=True)).to_be_hidden()
    table = page.locator("main table").first
    assert filters.bounding_box()["x"] + filters.bounding_box()["width"] <= table.bounding_box()["x"]
    shot(page, f"wide-{path.strip('/')}")
    assert_accessible(page)
    context.close()
