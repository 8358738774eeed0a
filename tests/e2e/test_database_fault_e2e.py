"""The page a signed-in person sees when the database fails under a request: the French « Erreur
technique » page, styled and accessible, shown as to a visitor (it needs no query)."""

from playwright.sync_api import expect
from sqlalchemy import text

from app.extensions import db
from tests.e2e.conftest import assert_accessible, login_as, shot
from tests.factories import PASSWORD


def _rename(old: str, new: str) -> None:
    db.session.rollback()
    db.session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
    db.session.commit()


def test_a_database_fault_shows_the_french_error_page(page, live_app, live_server, claire):
    live_app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    login_as(page, live_server.url, claire.email, PASSWORD)
    _rename("user_account", "user_account_away")  # loading the signed-in user now fails
    try:
        response = page.goto(f"{live_server.url}/")
    finally:
        _rename("user_account_away", "user_account")
    assert response.status == 500
    expect(page.get_by_role("heading", level=1)).to_have_text("Erreur technique")
    expect(page.get_by_text("Vos données enregistrées ne sont pas perdues")).to_be_visible()
    shot(page, "database-fault-500")
    assert_accessible(page)
