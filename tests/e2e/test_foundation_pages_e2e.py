"""Every role's pages of the foundation (issue 2) in a real browser, each checked with axe-core (no
serious or critical violation): the company administrator's screens (users, invitation, a user's
habilitations grid saved in place with htmx, mandates), a tiers déclarant's dashboard and portfolio,
a CPAM agent's dashboard, an establishment page, the forgot-password pages and the error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Habilitation, Service, UserKind
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import (
    PASSWORD,
    make_caisse,
    make_company,
    make_establishment,
    make_firm,
    make_user,
)


def heading(page):
    return page.get_by_role("heading", level=1)


@pytest.fixture
def world(live_app):
    company = make_company("Transports Lorrains")
    head = make_establishment(
        company, departement="75", head_office=True, name="Transports Lorrains Siège", city="Paris"
    )
    metz = make_establishment(company, departement="57", name="Transports Lorrains Metz", city="Metz")
    strasbourg = make_establishment(
        company, departement="67", name="Transports Lorrains Strasbourg", city="Strasbourg"
    )
    admin = make_user(
        "admin@transports.test", company=company, admin=True, full_name="Alice Martin", grants=[(head, "*")]
    )
    driver = make_user(
        "paul@transports.test", company=company, full_name="Paul Weber", grants=[(metz, Service.DAT)]
    )
    firm = make_firm("Cabinet Comptable de l'Est", mandates=[(metz, Service.DAT), (metz, Service.LUCIE)])
    accountant = make_user(
        "compta@cabinet.test", kind=UserKind.FIRM, firm_id=firm.id, full_name="Hélène Fischer"
    )
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.test", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Klein")
    db.session.commit()
    return {
        "admin": admin,
        "driver": driver,
        "firm": firm,
        "accountant": accountant,
        "agent": agent,
        "metz": metz,
        "strasbourg": strasbourg,
    }


def test_company_administrator_screens_are_accessible(page, live_server, world):
    base = live_server.url
    login_as(page, base, world["admin"].email, PASSWORD)
    expect(heading(page)).to_have_text("Tableau de bord")
    expect(page.get_by_text("Transports Lorrains Strasbourg")).to_be_visible()
    shot(page, "dashboard-admin")
    assert_accessible(page)

    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Administration").click()
    expect(heading(page)).to_have_text("Utilisateurs et habilitations")
    expect(page.get_by_role("row").filter(has_text="Paul Weber")).to_contain_text("Actif")
    shot(page, "admin-users")
    assert_accessible(page)

    # The invitation form, empty then refused with French messages.
    page.get_by_role("button", name="Inviter un utilisateur").click()
    expect(heading(page)).to_have_text("Inviter un utilisateur")
    expect(
        page.get_by_role("group", name="Cette personne administre-t-elle les comptes de l'entreprise ?")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page).to_have_title(re.compile(r"^Erreur : Inviter un utilisateur"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Saisissez le nom et le prénom")
    shot(page, "admin-invite-errors")
    assert_accessible(page)

    # A user's page: the habilitations grid, saved in place (htmx) with a notice.
    page.get_by_role("link", name="Retour aux utilisateurs").click()
    page.get_by_role("link", name="Gérer Paul Weber").click()
    expect(heading(page)).to_have_text("Paul Weber")
    assert_accessible(page)
    page.evaluate("window.sansRechargement = true")
    strasbourg = page.get_by_role("group", name=re.compile("^Transports Lorrains Strasbourg"))
    strasbourg.get_by_label("Compte AT/MP").check()
    page.get_by_role("button", name="Enregistrer les habilitations").click()
    expect(page.locator("#habilitations").get_by_role("alert")).to_contain_text(
        "Habilitations enregistrées : 1 ajoutée(s), 0 retirée(s)."
    )
    assert page.evaluate("window.sansRechargement") is True
    expect(strasbourg.get_by_label("Compte AT/MP")).to_be_checked()
    shot(page, "admin-user-habilitations")
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.scalar(
        db.select(Habilitation.id).filter_by(
            user_id=world["driver"].id, establishment_id=world["strasbourg"].id, service=str(Service.COMPTE)
        )
    )

    # Mandates: the list, and the form to give one.
    page.get_by_role("link", name="Retour aux utilisateurs").click()
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Mandats des tiers déclarants"
    ).click()
    expect(heading(page)).to_have_text("Mandats des tiers déclarants")
    expect(page.get_by_role("row").filter(has_text="Cabinet Comptable de l'Est").first).to_be_visible()
    shot(page, "admin-mandates")
    assert_accessible(page)
    page.get_by_role("button", name="Donner un mandat").click()
    expect(heading(page)).to_have_text(re.compile("mandat", re.IGNORECASE))
    expect(page.get_by_role("group", name="Pour quel établissement ?")).to_be_visible()
    expect(page.get_by_role("group", name="Pour quels services ?")).to_be_visible()
    shot(page, "admin-new-mandate")
    assert_accessible(page)
    page.get_by_label("Quel est le SIRET du cabinet ?").fill("1234")
    page.get_by_role("button", name="Donner le mandat").click()
    expect(page).to_have_title(re.compile(r"^Erreur : "))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choisissez un établissement")
    assert_accessible(page)

    # The activity journal: what was just done is there, and a filter on one person.
    page.goto(f"{live_server.url}/admin/utilisateurs")
    admin_menu = page.get_by_role("navigation", name="Administration")
    admin_menu.get_by_role("link", name="Journal d'activité").click()
    expect(heading(page)).to_have_text("Journal d'activité")
    expect(page.get_by_role("row").filter(has_text="Habilitation accordée").first).to_be_visible()
    shot(page, "admin-journal")
    assert_accessible(page)
    page.get_by_label("Personne").select_option(label="Alice Martin (admin@transports.test)")
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page.get_by_role("row").filter(has_text="Connexion").first).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger ce journal (CSV, pour un tableur)").click()
    assert download.value.suggested_filename == "journal-activite.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Date;Personne;Adresse e-mail") and "Alice Martin" in lines[1]


def test_establishment_page_is_accessible(page, live_server, world):
    base = live_server.url
    login_as(page, base, world["admin"].email, PASSWORD)
    page.get_by_role("link", name="Transports Lorrains Metz").click()
    expect(heading(page)).to_have_text(re.compile("Transports Lorrains Metz"))
    expect(page.get_by_text(world["metz"].siret)).to_be_visible()
    assert_accessible(page)

    # Printed, the page is its content: no menus, no buttons.
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Menu principal")).to_be_hidden()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_hidden()
    expect(heading(page)).to_be_visible()
    expect(page.get_by_text(world["metz"].siret)).to_be_visible()


def test_firm_dashboard_and_portfolio_are_accessible(page, live_server, world):
    base = live_server.url
    login_as(page, base, world["accountant"].email, PASSWORD)
    expect(heading(page)).to_have_text("Tableau de bord")
    expect(page.locator("main")).to_contain_text("Cabinet Comptable de l'Est agit pour 1 entreprise")
    assert_accessible(page)
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Portefeuille clients"
    ).click()
    expect(heading(page)).to_have_text("Portefeuille clients")
    expect(page.get_by_role("row").filter(has_text="Transports Lorrains Metz")).to_be_visible()
    shot(page, "firm-portfolio")
    assert_accessible(page)


def test_agent_dashboard_is_accessible(page, live_server, world):
    base = live_server.url
    login_as(page, base, world["agent"].email, PASSWORD)
    expect(heading(page)).to_have_text("Tableau de bord")
    expect(page.locator("main")).to_contain_text("CPAM de Moselle")
    shot(page, "dashboard-agent")
    assert_accessible(page)
    # Employer pages are not theirs.
    assert page.goto(f"{base}/admin/utilisateurs").status in (403, 404)
    assert_accessible(page)


def test_my_account_and_a_password_change_with_the_keyboard(page, live_server, world):
    base = live_server.url
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill(world["driver"].email)
    page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon-mot-de-passe")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    login_as(page, base, world["driver"].email, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text(
        "1 tentative de connexion a échoué sur votre compte depuis votre dernière connexion"
    )
    assert_accessible(page)  # the « Important » banner on the dashboard
    page.get_by_role("banner").get_by_role("link", name="Paul Weber : mon compte").click()
    expect(heading(page)).to_have_text("Mon compte")
    expect(page.locator(".govuk-summary-list")).to_contain_text("paul@transports.test")
    assert_accessible(page)
    page.get_by_role("link", name="Modifier le mot de passe").click()
    expect(heading(page)).to_have_text("Modifier votre mot de passe")
    assert_accessible(page)

    page.get_by_role("textbox", name="Mot de passe actuel").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("textbox", name="Nouveau mot de passe").fill("Une-phrase-de-passe-neuve")
    page.get_by_role("textbox", name="Saisissez à nouveau le mot de passe").fill("Une-phrase-de-passe-neuve")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Le mot de passe actuel n'est pas le bon")
    assert_accessible(page)
    page.get_by_role("link", name="Le mot de passe actuel n'est pas le bon").click()  # the summary's link
    expect(page.get_by_role("textbox", name="Mot de passe actuel")).to_be_focused()
    page.keyboard.type(PASSWORD)
    for box in ("Nouveau mot de passe", "Saisissez à nouveau le mot de passe"):
        page.get_by_role("textbox", name=box).fill("Une-phrase-de-passe-neuve")
    page.get_by_role("button", name="Modifier le mot de passe").press("Enter")
    expect(heading(page)).to_have_text("Mon compte")
    expect(page.get_by_role("alert")).to_contain_text("Votre mot de passe est modifié")
    assert_accessible(page)


def test_forgot_password_and_error_pages_are_accessible_and_french(page, live_server, world):
    base = live_server.url
    page.goto(f"{base}/connexion")
    page.get_by_role("link", name="Mot de passe oublié").click()
    expect(heading(page)).to_have_text("Mot de passe oublié")
    assert_accessible(page)
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page).to_have_title(re.compile(r"^Erreur : Mot de passe oublié"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Il y a un problème")
    assert_accessible(page)
    page.get_by_label("Quelle est l'adresse e-mail de votre compte ?").fill(world["driver"].email)
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(heading(page)).to_have_text("Vérifiez votre messagerie")
    assert_accessible(page)

    response = page.goto(f"{base}/cette-page-n-existe-pas")
    assert response.status == 404
    expect(heading(page)).to_have_text("Page introuvable")
    expect(page).to_have_title("Page introuvable – Services AT/MP")
    expect(page.get_by_text("Code d'erreur : 404")).to_be_visible()
    shot(page, "error-404")
    assert_accessible(page)

    login_as(page, base, world["driver"].email, PASSWORD)
    response = page.goto(f"{base}/admin/utilisateurs")
    assert response.status == 403
    expect(heading(page)).to_have_text("Accès refusé")
    assert_accessible(page)
    response = page.goto(f"{base}/demarches/brouillons/999999")
    assert response.status == 404
    assert_accessible(page)


def test_a_large_company_finds_its_establishments_and_pages_through_habilitations(page, live_server, world):
    """Past 9 establishments the home page offers a search; past 50 a user's habilitations come a
    page at a time, and moving to the next page saves what was ticked."""
    company = world["metz"].company
    for n in range(55):
        make_establishment(company, departement="54", name=f"Magasin {n:02d}", city="Nancy")
    db.session.commit()
    base = live_server.url
    login_as(page, base, "admin@transports.test", PASSWORD)
    expect(page.locator("main")).to_contain_text("Vous avez accès à 58 établissements.")
    page.get_by_label("Chercher un établissement").fill("magasin 1")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Vos établissements")
    expect(page.locator("#establishments-count")).to_contain_text("10 établissements pour « magasin 1 »")
    assert_accessible(page)
    shot(page, "establishments-search")

    page.goto(f"{base}/admin/utilisateurs/{world['driver'].id}")
    expect(page.locator("#habilitations-count")).to_contain_text("58 établissements — page 1 sur 2.")
    assert_accessible(page)
    page.get_by_role("group", name="Magasin 00 — Nancy").get_by_label("Courriers (LUCIE)").check()
    page.get_by_role("button", name="Enregistrer et voir la page suivante").click()
    expect(page.locator("#habilitations-count")).to_contain_text("page 2 sur 2")
    expect(page.get_by_role("alert")).to_contain_text("1 ajoutée(s), 0 retirée(s)")
    assert_accessible(page)
    shot(page, "habilitations-page-2")
    page.get_by_role("button", name="Enregistrer et voir la page précédente").click()
    expect(
        page.get_by_role("group", name="Magasin 00 — Nancy").get_by_label("Courriers (LUCIE)")
    ).to_be_checked()


def test_a_large_company_s_habilitations_page_with_the_keyboard_and_without_javascript(
    new_context, live_server, world, assert_accessible_without_javascript
):
    company = world["metz"].company
    for n in range(55):
        make_establishment(company, departement="54", name=f"Magasin {n:02d}", city="Nancy")
    db.session.commit()
    base = live_server.url
    page = new_context(java_script_enabled=False).new_page()
    login_as(page, base, "admin@transports.test", PASSWORD)
    page.goto(f"{base}/admin/utilisateurs/{world['driver'].id}")
    page.get_by_label("Rechercher un établissement").fill("magasin 5")
    page.keyboard.press("Enter")  # the form's first button: save, then search
    expect(page).to_have_url(re.compile(r"\?q=magasin\+5$"))
    expect(page.locator("#habilitations-count")).to_contain_text("5 établissements pour « magasin 5 »")
    assert_accessible_without_javascript(page)
    page.get_by_role("group", name="Magasin 52 — Nancy").get_by_label("Compte AT/MP").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Enregistrer les habilitations").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("1 ajoutée(s), 0 retirée(s)")
    expect(page.get_by_role("group", name="Magasin 52 — Nancy").get_by_label("Compte AT/MP")).to_be_checked()
    shot(page, "habilitations-search-nojs")
