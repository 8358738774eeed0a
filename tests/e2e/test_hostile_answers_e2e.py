"""A knowledge date typed 31/12/9999 at 23:59 in Chromium (issue 10, item 1): the live due time says it
cannot be computed, the draft is autosaved and saved for later, and the home page, « Mes démarches », the
DAT list and the overview still open — with the draft's line saying what to check — and the draft can
be deleted. axe-core finds nothing serious on those pages."""

from __future__ import annotations

import pytest
from flask import current_app
from playwright.sync_api import expect

from app.extensions import db
from app.models import Draft, Service
from app.services import drafts
from app.workflows import get_workflow
from tests.dat_support import STEPS, to_multidict, valid_answers
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD, make_company, make_establishment, make_user

CHECK = "Délai de 48 heures : vérifiez la date et l'heure de connaissance de l'accident"


@pytest.fixture
def draft_at_step_5(live_app):
    company = make_company("Bâtiments de l'Est")
    metz = make_establishment(
        company, departement="57", name="Agence de Metz", city="Metz", postal_code="57000"
    )
    employer = make_user("rh@batiments-est.test", company=company, grants=[(metz, Service.DAT)])
    db.session.commit()
    workflow, answers = get_workflow("dat"), valid_answers()
    with current_app.test_request_context():
        draft = drafts.start_draft(employer, workflow, metz)
        for name in STEPS[:4]:
            data = {**draft.answers.get(name, {}), **answers[name]}
            saved = drafts.save_step(
                employer, draft, workflow, workflow.step(name), to_multidict(data), base_version=draft.version
            )
            assert saved.valid, saved.form.errors
    return employer, draft.id


def test_a_knowledge_date_in_year_9999_locks_no_one_out(page, live_server, draft_at_step_5):
    employer, draft_id = draft_at_step_5
    base = live_server.url
    login_as(page, base, employer.email, PASSWORD)
    page.goto(f"{base}/demarches/brouillons/{draft_id}/etapes/connaissance")
    page.locator("input[name='mode'][value='constate']").check()
    for part, typed in zip(("day", "month", "year"), ("31", "12", "9999"), strict=True):
        page.locator(f"#date_connaissance-{part}").fill(typed)
    page.locator("[name='heure_connaissance']").fill("23:59")
    page.locator("input[name='registre'][value='non']").check()
    expect(page.locator("#dat-due")).to_contain_text(
        "La date limite de transmission ne peut pas être calculée"
    )
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    shot(page, "hostile-live-due")
    assert_accessible(page)

    page.get_by_role("button", name="Enregistrer et reprendre plus tard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes démarches")
    expect(page.get_by_text(CHECK)).to_be_visible()
    shot(page, "hostile-mes-demarches")
    assert_accessible(page)
    for path in ("/", "/dat/", f"/demarches/brouillons/{draft_id}/sommaire"):
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert_accessible(page)
    shot(page, "hostile-overview")

    page.goto(f"{base}/demarches/brouillons/{draft_id}/etapes/connaissance?erreurs=1")
    expect(page.locator("#date_connaissance-error")).to_contain_text(
        "La date de connaissance ne peut pas être dans le futur"
    )
    shot(page, "hostile-step-error")
    assert_accessible(page)

    page.get_by_role("link", name="Supprimer ce brouillon").click()
    page.get_by_role("button", name="Supprimer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes démarches")
    db.session.expire_all()
    assert db.session.get(Draft, draft_id).discarded_at is not None
