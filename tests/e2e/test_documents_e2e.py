"""Documents in Chromium (issue 10 §2): every document is served in a CSP sandbox, and still shows —
a LUCIE letter in its page's frame, the DAT receipt; a PDF uploaded with JavaScript is only offered as
a download, and the person who attached it is told why. axe-core finds nothing on these pages."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from app.extensions import db
from app.models import Service, UserKind
from app.services import lucie
from tests.dat_support import STEPS, make_declaration, to_multidict, valid_answers
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user
from tests.lucie_support import deposit


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('Ce document exécute du code');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def people(live_app):
    company = make_company("Bâtiments de l'Est")
    metz = make_establishment(
        company, departement="57", name="Agence de Metz", city="Metz", postal_code="57000"
    )
    employer = make_user(
        "rh@batiments-est.test", company=company, grants=[(metz, Service.DAT), (metz, Service.LUCIE)]
    )
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.test", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Weber")
    lucie.subscribe(metz)
    db.session.commit()
    return {"metz": metz, "employer": employer, "agent": agent, "caisse": caisse}


def draft_at_reserves(live_app, employer, metz) -> int:
    from app.services import drafts
    from app.workflows import get_workflow

    workflow = get_workflow("dat")
    answers = valid_answers()
    with live_app.test_request_context():
        draft = drafts.start_draft(employer, workflow, metz)
        for name in STEPS[: STEPS.index("reserves")]:
            data = answers[name]
            if name == "employeur":
                data = {**draft.answers.get("employeur", {}), **data}
            drafts.save_step(
                employer, draft, workflow, workflow.step(name), to_multidict(data), base_version=draft.version
            )
        return draft.id


def test_a_pdf_with_javascript_is_offered_as_a_download_and_its_sender_is_told(
    page, live_app, live_server, people, tmp_path
):
    base = live_server.url
    draft_id = draft_at_reserves(live_app, people["employer"], people["metz"])
    login_as(page, base, people["employer"].email, PASSWORD)
    page.goto(f"{base}/demarches/brouillons/{draft_id}/etapes/reserves")
    page.locator("input[name='reserves'][value='oui']").check()
    document = tmp_path / "piege.pdf"
    document.write_bytes(pdf_with_javascript())
    page.locator("#piece_jointe").set_input_files(str(document))
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(
        page.get_by_text("Ce PDF contient du contenu actif (JavaScript) : il est proposé en téléchargement.")
    ).to_be_visible()
    assert_accessible(page)
    shot(page, "reserves-pdf-actif")
    with page.expect_download() as download:
        page.get_by_role("link", name="piege.pdf").click()
    assert download.value.suggested_filename == "piege.pdf"


# Chromium's PDF viewer: a blocked document would be an error page (chrome-error://) instead.
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"


def pdf_viewer_shown(page) -> None:
    for _ in range(50):
        if any(frame.url.startswith(PDF_VIEWER) for frame in page.frames):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no PDF viewer in {[frame.url for frame in page.frames]}")


def test_sandboxed_documents_still_show_in_chromium(page, live_app, live_server, people):
    base = live_server.url
    letter = deposit(people["metz"], people["caisse"], title="Décision de prise en charge")
    reference = make_declaration(people["employer"], people["metz"])
    db.session.commit()
    login_as(page, base, people["employer"].email, PASSWORD)
    page.goto(f"{base}/courriers/{letter.id}")
    # The first opening is an explicit action (it dates the notification).
    page.get_by_role("button", name="Ouvrir le courrier").click()
    expect(page.locator("iframe")).to_be_visible()
    pdf_viewer_shown(page)
    assert not any(frame.url.startswith("chrome-error:") for frame in page.frames)
    response = page.goto(f"{base}/dat/declarations/{reference}/accuse-reception.pdf")
    assert response.status == 200
    pdf_viewer_shown(page)
