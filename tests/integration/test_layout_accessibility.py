"""The page layout seen by each side, and the accessibility statement (issue 10 §4–5): each side its own
service name, back links inside a navigation landmark, the footer link saying the compliance status,
and a statement with what the law asks for."""

from __future__ import annotations

import html

import html5lib

from app.extensions import db
from app.models import UserKind
from tests.factories import make_caisse, make_company, make_establishment, make_user


def header_service_name(page: str) -> str:
    document = html5lib.parse(page, namespaceHTMLElements=False)
    link = document.find(".//header//a[@class='app-header__service']")
    return "".join(link.itertext()).strip()


def test_agents_and_the_operator_do_not_see_the_employers_service_name(client, login):
    company = make_company("Bâtiments de l'Est")
    make_establishment(company, departement="57")
    employer = make_user("rh@batiments-est.test", company=company)
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.test", kind=UserKind.CPAM, caisse_id=caisse.id)
    carsat = make_caisse("Carsat Alsace-Moselle", departements="57,67,68")
    carsat_agent = make_user("agent@carsat.test", kind=UserKind.CARSAT, caisse_id=carsat.id)
    operator = make_user("ops@atmp.test", is_operator=True)
    db.session.commit()
    assert header_service_name(client.get("/connexion").get_data(as_text=True)) == "Services AT/MP employeurs"
    for user, expected in (
        (employer, "Services AT/MP employeurs"),
        (agent, "Services AT/MP — espace caisse"),
        (carsat_agent, "Services AT/MP — espace caisse"),
        (operator, "Services AT/MP — exploitation"),
    ):
        login(user)
        assert header_service_name(client.get("/").get_data(as_text=True)) == expected, user.email
        client.post("/deconnexion", data={"csrf_token": client.csrf("/")})


def test_a_back_link_sits_in_a_navigation_landmark_before_the_main_content(client, login):
    user = make_user("rh@batiments-est.test", company=make_company("Bâtiments de l'Est"))
    db.session.commit()
    login(user)
    document = html5lib.parse(
        client.get("/compte/mot-de-passe").get_data(as_text=True), namespaceHTMLElements=False
    )
    nav = document.find(".//nav[@aria-label='Retour']")
    assert nav is not None and nav.find(".//a[@class='govuk-back-link']") is not None
    # A page without a back link has no empty landmark.
    document = html5lib.parse(client.get("/compte").get_data(as_text=True), namespaceHTMLElements=False)
    assert document.find(".//nav[@aria-label='Retour']") is None


def test_the_footer_link_says_the_compliance_status(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert '<a class="govuk-footer__link" href="/accessibilite">Accessibilité : non conforme</a>' in page


def test_the_accessibility_statement_has_what_the_law_asks_for(client, app):
    page = html.unescape(client.get("/accessibilite").get_data(as_text=True))
    for expected in (
        "article 47 de la loi n° 2005-102 du 11 février 2005",
        "État de conformité",
        "<strong>non conformes</strong>",
        "RGAA), version 4.1",
        "Résultats des tests",
        "axe-core 4.14.1",
        "aucun lecteur d'écran",  # what was not tested, said
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "établie le 6 décembre 2026",
        "Technologies utilisées",
        "Pages vérifiées",
        f'href="mailto:{app.config["ACCESSIBILITY_CONTACT"]}"',
        "Défenseur des droits",
        "https://formulaire.defenseurdesdroits.fr/",
        "Libre réponse 71120, 75342 Paris CEDEX 07",
        "09 69 39 00 00",
    ):
        assert expected in page, expected
