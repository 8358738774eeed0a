"""LUCIE end to end (issue 4): an agent deposits a letter; the employer gets the e-mail from a real SMTP
server, follows its link, signs in, opens the letter and sees the first consultation; a colleague
without the LUCIE habilitation cannot see it. Every LUCIE page passes axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Letter, Service, UserKind
from app.services import lucie, outbox
from app.services.simple_pdf import make_pdf
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user


@pytest.fixture
def people(live_app, smtp):
    live_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    live_app.extensions["mail"].server = "127.0.0.1"
    live_app.extensions["mail"].port = smtp.port
    company = make_company("Menuiserie Messine")
    establishment = make_establishment(company, departement="57", name="Menuiserie Messine", city="Metz")
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.test", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Weber")
    reader = make_user(
        "gerante@menuiserie.test",
        company=company,
        full_name="Léa Gérante",
        grants=[(establishment, Service.LUCIE)],
    )
    intruder = make_user(
        "atelier@menuiserie.test",
        company=company,
        full_name="Paul Atelier",
        grants=[(establishment, Service.DAT)],
    )
    lucie.subscribe(establishment)
    db.session.commit()
    return {"establishment": establishment, "agent": agent, "reader": reader, "intruder": intruder}


def test_deposit_alert_link_and_first_consultation(page, live_server, smtp, people, tmp_path):
    base = live_server.url
    establishment = people["establishment"]

    # The agent deposits a letter.
    login_as(page, base, people["agent"].email, PASSWORD)
    page.goto(f"{base}/agent/courriers/deposer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Déposer un courrier dans LUCIE")
    assert_accessible(page)
    page.get_by_label("SIRET de l'établissement destinataire").fill(establishment.siret)
    page.get_by_label("Notification de décision").check()
    page.get_by_label("Référence du dossier (facultatif)").fill("57-2026-004242")
    page.get_by_label("Titre du courrier").fill("Décision de prise en charge de l'accident du 2 mars")
    document = tmp_path / "decision.pdf"
    document.write_bytes(
        make_pdf("Décision de prise en charge", ["Madame, Monsieur,", "", "Décision favorable."])
    )
    page.get_by_label("Courrier au format PDF").set_input_files(str(document))
    page.get_by_role("button", name="Déposer le courrier").click()
    expect(page.get_by_role("heading", name="Courrier déposé")).to_be_visible()
    assert_accessible(page)
    letter_id = db.session.scalar(db.select(Letter.id))

    # The worker sends the alert; the employer reads it from the SMTP server.
    assert outbox.send_due() == (1, 0)
    ((recipient, message),) = smtp.messages
    assert recipient == people["reader"].email
    assert message["Subject"] == "Nouveau courrier LUCIE : Notification de décision – Menuiserie Messine"
    body = message.get_content()
    assert "accident du 2 mars" not in body and "57-2026-004242" not in body
    link = re.search(r"http://\S+/courriers/\d+", body).group(0)
    assert link == f"{base}/courriers/{letter_id}"

    # Signed out, the link asks to sign in, then opens the letter.
    page.context.clear_cookies()
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/connexion"))
    page.get_by_label("Adresse e-mail").fill(people["reader"].email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Décision de prise en charge de l'accident du 2 mars"
    )
    # Showing the page records nothing: opening the letter is an explicit, legally binding action.
    expect(page.locator("#premiere-consultation")).to_have_text("Pas encore consulté par l'établissement")
    expect(page.locator("#notification-reputee")).to_contain_text("Base légale : Article L242-5")
    assert page.locator("iframe").count() == 0
    assert_accessible(page)
    shot(page, "lucie-letter-before-opening")
    page.get_by_role("button", name="Ouvrir le courrier").click()
    expect(page.locator("iframe.app-letter-frame")).to_be_visible()
    shot(page, "lucie-letter-opened")
    first = page.locator("#premiere-consultation")
    expect(first).to_have_text(re.compile(r"^Le \d\d/\d\d/\d{4} à \d\d\sh\s\d\d, par Léa Gérante$"))
    expect(page.get_by_text("Alerte envoyée le")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Jusqu'au \d\d/\d\d/\d{4} inclus"))).to_be_visible()
    assert_accessible(page)

    # The mailbox lists it as read; the navigation counts no unread letter.
    page.wait_for_load_state("load")  # the PDF in its frame too
    page.get_by_role("link", name="Retour aux courriers").click()
    expect(page).to_have_url(re.compile(r"/courriers/$"))
    expect(
        page.get_by_role("link", name="Décision de prise en charge de l'accident du 2 mars")
    ).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Courriers")
    ).to_have_text("Courriers")
    assert_accessible(page)

    # A colleague without the LUCIE habilitation cannot see it.
    page.context.clear_cookies()
    login_as(page, base, people["intruder"].email, PASSWORD)
    response = page.goto(link)
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert page.goto(f"{base}/courriers/{letter_id}/document").status == 403
    db.session.expire_all()
    assert db.session.get(Letter, letter_id).first_consulted_by_id == people["reader"].id


def test_mailbox_filters_update_the_list_and_the_url_with_htmx(page, live_server, people):
    establishment = people["establishment"]
    for title, letter_type in (
        ("Accusé de réception", "accuse_reception"),
        ("Taux 2027", "notification_taux"),
    ):
        lucie.deposit_letter(
            establishment=establishment,
            letter_type=letter_type,
            title=title,
            document=make_pdf(title),
            source="service",
        )
    login_as(page, live_server.url, people["reader"].email, PASSWORD)
    page.goto(f"{live_server.url}/courriers/")
    expect(page.get_by_role("navigation", name="Menu principal")).to_contain_text("2 non lus")
    assert_accessible(page)
    page.get_by_label("Type de courrier").select_option("notification_taux")
    expect(page).to_have_url(re.compile(r"type=notification_taux"))
    expect(page.get_by_role("link", name="Taux 2027")).to_be_visible()
    expect(page.get_by_role("link", name="Accusé de réception")).to_have_count(0)
    page.go_back()
    expect(page.get_by_role("link", name="Accusé de réception")).to_be_visible()


def test_subscription_screen_is_accessible(page, live_server, people):
    admin = make_user("admin@menuiserie.test", company=people["establishment"].company, admin=True)
    db.session.commit()
    login_as(page, live_server.url, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/courriers/abonnement")
    expect(page.get_by_role("heading", level=1)).to_have_text("Abonnement aux courriers (LUCIE)")
    assert_accessible(page)
    page.get_by_role("link", name="Adresses d'alerte de Menuiserie Messine").click()
    page.get_by_label("Adresse e-mail à alerter").fill("pas-une-adresse")
    page.get_by_role("button", name="Ajouter l'adresse").click()
    expect(page.get_by_text("Il y a un problème")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Adresse e-mail à alerter").fill("secretariat@menuiserie.test")
    page.get_by_role("button", name="Ajouter l'adresse").click()
    expect(page.get_by_text("secretariat@menuiserie.test recevra les alertes")).to_be_visible()


def test_a_link_from_another_site_does_not_open_the_letter(page, live_server, people):
    letter = lucie.deposit_letter(
        establishment=people["establishment"],
        letter_type="notification_decision",
        title="Décision",
        document=make_pdf("Décision"),
        source="service",
    ).letter
    base = live_server.url
    login_as(page, base, people["reader"].email, PASSWORD)
    # A page of another site links to the document (Chromium sends Sec-Fetch-Site: cross-site).
    page.route(
        "https://autre-site.example/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<!doctype html><html lang="fr"><title>Ailleurs</title>'
            f'<a href="{base}/courriers/{letter.id}/document">Votre courrier</a></html>',
        ),
    )
    page.goto("https://autre-site.example/")
    page.get_by_role("link", name="Votre courrier").click()
    expect(page).to_have_url(f"{base}/courriers/{letter.id}")
    expect(page.get_by_role("button", name="Ouvrir le courrier")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_consulted_at is None
    # From our own page, without JavaScript's help: a plain form POST.
    page.get_by_role("button", name="Ouvrir le courrier").click()
    expect(page.locator("#premiere-consultation")).to_contain_text("par Léa Gérante")
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_consulted_by_id == people["reader"].id


def test_mailbox_date_error_with_htmx_is_announced_like_a_full_page(page, live_server, people):
    login_as(page, live_server.url, people["reader"].email, PASSWORD)
    page.goto(f"{live_server.url}/courriers/")
    page.get_by_label("Déposé à partir du").fill("2026-03-10")
    page.get_by_label("Déposé jusqu'au").fill("2026-03-01")
    page.get_by_role("button", name="Filtrer").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Erreur : Courriers"))
    expect(page.locator("#au-error")).to_contain_text("La date de fin doit être après la date de début")
    assert_accessible(page)
    shot(page, "lucie-mailbox-date-error-htmx")
    page.get_by_label("Déposé jusqu'au").fill("2026-03-20")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page).to_have_title(re.compile(r"^Courriers"))
