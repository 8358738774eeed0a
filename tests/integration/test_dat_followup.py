"""After sending (issue 3, items 4–5): the employer's follow-up list with its filters, search and
badges (full page and htmx fragment), the declaration's page, the accusé de réception, and the three
PDFs read back with pypdf."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.domain.identifiers import format_nir
from app.extensions import db
from app.models import AuditEvent, Declaration, Service
from app.services import dat as dat_service
from tests.dat_support import DatClient, fresh_draft, local_today, make_declaration, valid_answers
from tests.factories import make_firm, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    # Line breaks fall where the layout wraps: compare words, not lines.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def several(world, declarant):
    """Three sent declarations (one late, one in Paris, one with an accented name) and a draft."""
    refs = {
        "schneider": make_declaration(world.employer, world.metz),
        "eloise": make_declaration(world.employer, world.metz, valid_answers(nom="Éloïse", prenoms="Léa")),
        "late": make_declaration(
            world.employer,
            world.paris,
            valid_answers(nom="Retard", accident_on=local_today() - timedelta(days=8)),
        ),
    }
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, valid_answers(nom="Brouillon"), until="lesions")
    refs["draft"] = draft_id
    return refs


def test_follow_up_lists_drafts_and_sent_declarations_with_badges(client, world, declarant, several):
    page = text(client.get("/dat/"))
    assert "1 brouillon et 3 déclarations transmises" in page
    assert "BROUILLON Lucas" in page
    for ref in (several["schneider"], several["eloise"], several["late"]):
        assert ref in page
    assert page.count('govuk-tag--blue">Transmise<') == 3
    assert page.count('govuk-tag--orange">Hors délai<') == 1
    assert page.count('govuk-tag--grey">Brouillon<') == 1
    assert f'/demarches/brouillons/{several["draft"]}"' in page


def test_filters_by_status_establishment_dates_and_lateness(client, world, declarant, several):
    page = text(client.get("/dat/", query_string={"statut": "brouillon"}))
    assert "BROUILLON Lucas" in page and several["schneider"] not in page
    page = text(client.get("/dat/", query_string={"statut": "transmise"}))
    assert "BROUILLON Lucas" not in page and several["schneider"] in page
    page = text(client.get("/dat/", query_string={"etablissement": str(world.paris.id)}))
    assert several["late"] in page and several["schneider"] not in page and "BROUILLON" not in page
    page = text(client.get("/dat/", query_string={"hors_delai": "y"}))
    assert several["late"] in page and several["eloise"] not in page
    since = local_today() - timedelta(days=3)
    page = text(client.get("/dat/", query_string={"du": since.isoformat()}))
    assert several["late"] not in page and several["schneider"] in page
    page = text(client.get("/dat/", query_string={"au": (local_today() - timedelta(days=7)).isoformat()}))
    assert several["late"] in page and several["schneider"] not in page


def test_search_by_victim_name_ignores_case_and_accents_and_finds_references(
    client, world, declarant, several
):
    page = text(client.get("/dat/", query_string={"q": "eloise"}))
    assert several["eloise"] in page and several["schneider"] not in page
    page = text(client.get("/dat/", query_string={"q": several["schneider"].lower()}))
    assert several["schneider"] in page and several["eloise"] not in page
    page = text(client.get("/dat/", query_string={"q": "brouil"}))
    assert "BROUILLON Lucas" in page and "0 déclaration" in page


def test_bad_filter_values_are_explained_or_ignored(client, world, declarant, several):
    response = client.get(
        "/dat/", query_string={"du": "32/13/2026", "statut": "forge", "etablissement": "99999"}
    )
    assert response.status_code == 200
    page = text(response)
    assert "La date de début doit être une date réelle" in page
    assert several["schneider"] in page  # the ignored filters do not hide anything
    # Another company's establishment id never shows its declarations.
    make_declaration(world.stranger, world.stranger_site, valid_answers(nom="Concurrent"))
    page = text(client.get("/dat/", query_string={"etablissement": str(world.stranger_site.id)}))
    assert "CONCURRENT" not in page


def test_htmx_filter_gets_only_the_results_fragment(client, world, declarant, several):
    response = client.get(
        "/dat/", query_string={"q": "eloise"}, headers={"HX-Request": "true", "HX-Target": "dat-results"}
    )
    body = text(response)
    assert not body.lstrip().startswith("<!DOCTYPE")
    assert several["eloise"] in body and "<h1" not in body
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_pagination_keeps_the_filters(client, world, declarant):
    for i in range(dat_service.PAGE_SIZE + 2):
        make_declaration(world.employer, world.metz, valid_answers(nom=f"Victime-{chr(ord('a') + i)}"))
    page = text(client.get("/dat/", query_string={"statut": "transmise"}))
    assert f"{dat_service.PAGE_SIZE + 2} déclarations transmises" in page
    assert "page=2" in page and "statut=transmise" in page
    second = text(client.get("/dat/", query_string={"statut": "transmise", "page": "2"}))
    assert "VICTIME-A" in second and "VICTIME-V" not in second
    assert text(client.get("/dat/", query_string={"page": "99999999"})).count("VICTIME") > 0


def test_a_tiers_declarant_follows_only_the_mandated_establishments(client, world, several):
    firm = make_firm("Cabinet Rhénan", mandates=[(world.paris, Service.DAT)])
    accountant = make_user("comptable@cabinet.fr", kind="firm", firm_id=firm.id)
    db.session.commit()
    client = DatClient(client.application.test_client(), accountant).client
    page = text(client.get("/dat/"))
    assert several["late"] in page and several["schneider"] not in page
    assert client.get(f"/dat/declarations/{several['schneider']}").status_code == 404
    assert client.get(f"/dat/declarations/{several['late']}").status_code == 200


def test_a_user_without_the_dat_has_no_follow_up(client, world, several):
    client = DatClient(client.application.test_client(), world.no_dat).client
    page = text(client.get("/dat/"))
    assert "0 brouillon et 0 déclaration" in page and "Déclarer un accident" not in page
    assert client.get(f"/dat/declarations/{several['schneider']}").status_code == 403


def test_declaration_page_shows_deadlines_documents_timeline_and_content(client, world, declarant, several):
    reference = several["schneider"]
    page = text(client.get(f"/dat/declarations/{reference}"))
    assert f"Déclaration {reference}" in page
    assert "– dans le délai" in page
    assert "Vous pouvez émettre des réserves motivées jusqu'au" in page
    assert "Feuille d'accident à remettre à la victime (PDF)" in page
    assert "Déclaration transmise" in page  # the timeline
    assert "Chute de hauteur" in page and "Weber Paul" in page
    assert "Responsable des ressources humaines" not in page or "Gérant" in page
    declaration = db.session.scalar(select(Declaration).where(Declaration.reference == reference))
    read = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "dat.read", AuditEvent.object_id == str(declaration.id))
    )
    assert read is not None and read.user_id == world.employer.id


def test_unknown_or_foreign_reference_is_404(client, world, declarant):
    foreign = make_declaration(world.stranger, world.stranger_site)
    for path in (
        f"/dat/declarations/{foreign}",
        f"/dat/declarations/{foreign}/accuse-reception",
        f"/dat/declarations/{foreign}/declaration.pdf",
        f"/dat/declarations/{foreign}/reserves",
        "/dat/declarations/DAT-2026-999999",
        "/dat/declarations/" + "X" * 300,
    ):
        assert client.get(path).status_code == 404, path


def test_receipt_page(client, world, declarant, several):
    reference = several["schneider"]
    page = text(client.get(f"/dat/declarations/{reference}/accuse-reception"))
    assert "Déclaration transmise" in page and reference in page
    assert "SCHNEIDER Lucas" in page and "Cette date fait foi" in page
    assert "respecté (fin le" in page
    assert "feuille d'accident (PDF)" in page
    assert "réserves motivées" in page


def test_receipt_pdf_text(client, world, declarant, several):
    reference = several["schneider"]
    declaration = db.session.scalar(select(Declaration).where(Declaration.reference == reference))
    content = pdf_text(client.get(f"/dat/declarations/{reference}/accuse-reception.pdf"))
    assert "Accusé de réception" in content
    assert reference in content
    assert "SCHNEIDER Lucas" in content
    assert world.metz.siret in content
    assert declaration.submission.sha256 in content.replace(" ", "")
    assert "Respecté" in content
    assert "CPAM de Moselle" in content


def test_declaration_pdf_is_laid_out_like_the_cerfa(client, world, declarant, several):
    reference = several["late"]
    content = pdf_text(client.get(f"/dat/declarations/{reference}/declaration.pdf"))
    for expected in (
        "Cerfa 14463*03",
        "Déclaration d'accident du travail ou de trajet",
        reference,
        "1 · L'EMPLOYEUR",
        "2 · LA VICTIME",
        "3 · L'ACCIDENT",
        "4 · LÉSIONS ET CONSÉQUENCES",
        "5 · CONNAISSANCE DE L'ACCIDENT",
        "6 · TÉMOINS ET TIERS",
        "7 · RÉSERVES MOTIVÉES",
        "8 · DÉCLARANT",
        world.paris.siret,
        "Retard",
        "Hors délai",
        "Chute de hauteur",
        # Grouped as on the carte Vitale (1 85 05 57 463 … ), stored without spaces.
        format_nir(valid_answers(nom="Retard")["victime"]["nir"]),
    ):
        assert expected in content, expected
    accident = local_today() - timedelta(days=8)
    assert f"{accident.day if accident.day > 1 else '1er'} " in content


def test_feuille_d_accident_pdf_is_for_the_victim(client, world, declarant, several):
    content = pdf_text(client.get(f"/dat/declarations/{several['eloise']}/feuille-accident.pdf"))
    assert "Feuille d'accident du travail ou de maladie" in content
    assert "Cerfa 11383*02" in content
    assert "Éloïse" in content and "Léa" in content
    assert world.metz.siret in content
    assert "Présentez cette feuille à chaque professionnel de santé" in content
    # Health details stay out of the victim's sheet shown to every professional: no lesions.
    assert "Plaie" not in content


def test_pdf_rendering_fetches_nothing_outside_the_static_folder(app):
    from app.services.pdf import StaticFilesOnly, static_root

    fetcher = StaticFilesOnly(static_root())
    response = fetcher.fetch((static_root() / "favicon.svg").as_uri())
    assert response.read().startswith(b"<svg") or b"<svg" in response.read()
    for url in (
        "http://example.org/x.png",
        "file:///etc/passwd",
        (static_root() / ".." / "__init__.py").as_uri(),
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_deadlines_for_the_home_page(app, client, world, declarant, several):
    from flask import current_app

    late = declarant.start(world.metz)
    declarant.fill(
        late, valid_answers(nom="Oublie", accident_on=local_today() - timedelta(days=8)), until="temoins"
    )
    with current_app.test_request_context():
        items = dat_service.deadlines_for(world.employer)
    labels = [item.label for item in items]
    assert labels[0] == "Déclarer l'accident de OUBLIE Lucas" and items[0].late
    assert any(several["schneider"] in label for label in labels)
    assert all(item.url.startswith("/") for item in items)
    assert [i.due for i in items[1:]] == sorted(i.due for i in items[1:])
    with current_app.test_request_context():
        assert dat_service.deadlines_for(world.stranger) == []
    home = client.get("/").get_data(as_text=True)
    assert "Déclarer l&#39;accident de OUBLIE Lucas" in home and "Délai dépassé" in home
    assert f'href="{items[0].url}"' in home


def test_a_deleted_draft_leaves_the_follow_up_list_and_the_home_page_deadlines(
    client, world, declarant, several
):
    draft_id = several["draft"]
    page = text(client.get("/dat/"))
    assert f'href="/demarches/brouillons/{draft_id}/supprimer"' in page
    assert 'Supprimer<span class="govuk-visually-hidden"> le brouillon de BROUILLON Lucas</span>' in page
    confirm = text(client.get(f"/demarches/brouillons/{draft_id}/supprimer"))
    assert "Victime : BROUILLON Lucas" in confirm and "3 étapes terminées sur 7" in confirm
    assert "Victime : BROUILLON Lucas" in text(client.get("/demarches/"))
    version = re.search(r'name="version" value="(\d+)"', confirm).group(1)
    response = client.post(
        f"/demarches/brouillons/{draft_id}/supprimer",
        data={"csrf_token": declarant.token, "version": version},
    )
    assert response.status_code == 303
    page = text(client.get("/dat/"))
    assert "BROUILLON Lucas" not in page and "0 brouillon et 3 déclarations transmises" in page
    assert "Déclarer l'accident de BROUILLON" not in text(client.get("/"))
    assert fresh_draft(draft_id).answers == {}
    # A tab still on step 5 asks for the live due time: a one-line message, not a page.
    due = client.get(
        f"/dat/brouillons/{draft_id}/echeance",
        query_string={"heure_connaissance": "10:00"},
        headers={"HX-Request": "true", "HX-Target": "dat-due"},
    )
    assert due.status_code == 409
    assert "a supprimé ce brouillon le" in text(due) and "<h1" not in text(due)


def test_the_receipt_is_also_deposited_in_lucie_when_the_establishment_is_subscribed(
    client, world, declarant
):
    from app.models import Letter, OutboxMessage
    from app.services import lucie

    lucie.subscribe(world.metz)
    db.session.commit()
    reference = make_declaration(world.employer, world.metz)
    letter = db.session.scalar(select(Letter))
    assert letter.letter_type == "accuse_reception" and letter.case_reference == reference
    assert letter.source == "service" and letter.caisse.name == "CPAM de Moselle"
    alert = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "lucie_alert"))
    assert alert.recipient == world.no_dat.email  # the LUCIE user of the establishment
    from app.services.uploads import read_blob

    content = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(read_blob(letter.sha256))).pages).split()
    )
    assert reference in content and "Accusé de réception" in content
    # Not subscribed: no letter.
    make_declaration(world.employer, world.paris)
    assert db.session.scalar(select(func.count(Letter.id))) == 1


def test_the_home_page_words_the_reserves_deadline_like_the_receipt(client, world, declarant, several):
    from app.domain.dat import until_day_included

    due = db.session.scalar(
        db.select(Declaration.reserves_due_on).where(Declaration.reference == several["schneider"])
    )
    wording = until_day_included(due)  # « jusqu'au mercredi 16 décembre 2026 inclus »
    home = " ".join(html.unescape(client.get("/").get_data(as_text=True)).split())
    assert f"Agence de Metz — {wording}" in home
    assert "à 00 h 00" not in home
    receipt = text(client.get(f"/dat/declarations/{several['schneider']}/accuse-reception"))
    assert wording in " ".join(receipt.split())


def test_declaring_from_a_filtered_list_keeps_the_establishment_and_comes_back(client, world, declarant):
    page = client.get("/dat/", query_string={"etablissement": str(world.paris.id)}).get_data(as_text=True)
    start = re.search(r'<a id="dat-start" href="([^"]+)"', page).group(1)
    start = html.unescape(start)
    assert f"etablissement={world.paris.id}" in start
    form = client.get(start).get_data(as_text=True)
    assert re.search(rf'value="{world.paris.id}"\s+checked', form)
    assert re.search(rf'value="{world.metz.id}"\s+checked', form) is None
    back = html.unescape(re.search(r'<a href="([^"]+)" class="govuk-back-link"', form).group(1))
    assert back == f"/dat/?etablissement={world.paris.id}"
    # A foreign site as « retour » is ignored.
    form = client.get("/demarches/dat/commencer?retour=//evil.example/").get_data(as_text=True)
    assert 'href="/demarches/" class="govuk-back-link"' in form
    # With htmx, filtering updates the button out of band.
    fragment = client.get(
        "/dat/",
        query_string={"etablissement": str(world.metz.id)},
        headers={"HX-Request": "true", "HX-Target": "dat-results"},
    ).get_data(as_text=True)
    assert 'id="dat-start"' in fragment and 'hx-swap-oob="true"' in fragment
    assert f"etablissement={world.metz.id}" in html.unescape(fragment)
