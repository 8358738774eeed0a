"""Every role's main pages on a 360 px wide phone, over the demo data: nothing widens the page (a wide
table scrolls in its own region), and axe finds no serious or critical violation."""

from __future__ import annotations

import pytest

from app.demo import DEMO_PASSWORD, load_demo
from app.extensions import db
from tests.e2e.conftest import assert_accessible, login_as

PAGES = {
    "employeur@demo.test": ["/", "/demarches/", "/dat/", "/courriers/"],
    "admin@demo.test": ["/", "/admin/utilisateurs", "/admin/mandats", "/courriers/abonnement"],
    "cabinet@demo.test": ["/", "/cabinet/portefeuille", "/courriers/"],
    "agent.cpam@demo.test": ["/", "/cpam/declarations", "/agent/courriers/", "/agent/courriers/deposer"],
    "operateur@demo.test": ["/", "/operateur/courriels/"],
}


@pytest.fixture
def demo_server(live_server):
    list(load_demo())
    db.session.commit()
    return live_server


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
