"""The caisse's own services in the main navigation: a CPAM agent reaches QR Pro's work queue, a Carsat
agent the subsidies' queue, from every page — an employer sees neither entry."""

from __future__ import annotations

import re

import pytest

from app.domain.accounts import UserKind
from app.extensions import db
from tests.factories import make_caisse, make_company, make_establishment, make_user

NAV = re.compile(r'<nav aria-label="Menu principal".*?</nav>', re.S)


def navigation(client, path: str = "/") -> str:
    body = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = NAV.search(body)
    assert match, "no main navigation"
    return match.group(0)


@pytest.mark.parametrize(
    ("kind", "caisse_kind", "entry", "href", "absent"),
    [
        (UserKind.CPAM, "cpam", "Dossiers en instruction", "/cpam/qrpro/", "Subventions"),
        (UserKind.CARSAT, "carsat", "Subventions", "/subventions/instruction/", "Dossiers en instruction"),
    ],
)
def test_an_agent_reaches_its_caisse_s_queue_from_the_navigation(
    client, login, kind, caisse_kind, entry, href, absent
):
    caisse = make_caisse(kind=caisse_kind, departements="57")
    agent = make_user(kind=kind, caisse_id=caisse.id)
    db.session.commit()
    login(agent)
    nav = navigation(client)
    assert f'href="{href}"' in nav and entry in nav
    assert absent not in nav
    # On the queue itself the entry is the current page.
    nav = navigation(client, href)
    assert re.search(rf'<a[^>]*href="{re.escape(href)}"[^>]*aria-current="page"', nav), nav


def test_an_employer_sees_no_caisse_entry(client, login):
    company = make_company()
    establishment = make_establishment(company)
    user = make_user(company=company, grants=[(establishment, "*")])
    db.session.commit()
    login(user)
    nav = navigation(client)
    assert "Dossiers en instruction" not in nav and "/subventions/instruction/" not in nav
