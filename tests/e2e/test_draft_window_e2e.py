"""A victim's questionnaire in Chromium (issue 12, items 5 and 6): a person without a company answers
their own questionnaire with its deadline shown; the closing time passes while the page is open — the
autosave and « Continuer » are refused with the date, nothing is stored, and the page turns read-only.
axe-core finds no serious or critical violation on either page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.extensions import db
from app.models import Draft
from app.models.types import utcnow
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD
from tests.subjects_support import World, make_draft, register_questionnaire, unregister_questionnaire

pytestmark = pytest.mark.usefixtures("no_script_error")


@pytest.fixture
def world(live_app):
    register_questionnaire()
    yield World()
    unregister_questionnaire()


def test_the_closing_time_passes_while_the_victim_answers(page, live_server, world):
    draft = make_draft(world, world.case_a, "victime", closes_at=utcnow() + timedelta(hours=2))
    base = live_server.url
    login_as(page, base, world.victim.email, PASSWORD)
    page.get_by_role("link", name="Brouillons", exact=True).click()
    expect(page.get_by_text("À envoyer au plus tard le")).to_be_visible()
    page.get_by_role("link", name="Reprendre").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Les circonstances")
    expect(page.locator("#window-deadline")).to_contain_text("À envoyer au plus tard le")
    assert_accessible(page)
    shot(page, "window-open")

    page.get_by_label("Que s'est-il passé ?").fill("Chute dans l'escalier du quai 3.")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré à")

    # The deadline passes (the server's clock decides): the next keystrokes are not stored.
    passed = utcnow() - timedelta(seconds=1)
    db.session.execute(update(Draft).where(Draft.id == draft.id).values(closes_at=passed))
    db.session.commit()
    page.get_by_label("Que s'est-il passé ?").fill("Chute dans l'escalier du quai 3, vers 10 heures.")
    expect(page.locator("#autosave-status")).to_contain_text("Le délai pour répondre a expiré le")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Le délai pour répondre a expiré")).to_be_visible()
    expect(page.locator("form[data-workflow-form]")).to_have_count(0)
    expect(page.get_by_text("Chute dans l'escalier du quai 3.", exact=True)).to_be_visible()
    assert_accessible(page)
    shot(page, "window-closed")

    db.session.expire_all()
    stored = db.session.get(Draft, draft.id).answers
    assert stored == {"circonstances": {"recit": "Chute dans l'escalier du quai 3."}}
