"""A message shown after a save (« Ligne enregistrée. ») survives the other requests of the page.

The session is a signed cookie, signed again by every answer to a signed-in user (app/sessions.py). The
browser keeps whichever cookie it received last. A subsidy line sent just as its live estimate was asked
for (choosing the file is a change in the form) got the estimate's answer after its own: that answer's
cookie, signed from the cookie sent before the save, replaced the one that held the message, and the list
of lines came without it (a browser test in CI, 7 December 2026). Messages now travel in a cookie of their
own, which only the requests that add or show messages set; the reconstruction below is that race, in
the order the browser received the answers."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from tests.subsidies_support import SubsidyClient, make_world

SAVED = "Ligne enregistrée."


@pytest.fixture
def world(app):
    return make_world()


def receive(client, response) -> None:
    """What a browser does with an answer's ``Set-Cookie`` headers: store each cookie, or drop it."""
    for header in response.headers.getlist("Set-Cookie"):
        for name, cookie in SimpleCookie(header).items():
            if cookie["max-age"] == "0":
                client.delete_cookie(name)
            else:
                client.set_cookie(name, cookie.value)


def test_a_late_answer_signed_before_the_save_keeps_the_save_s_message(app, client, login, world):
    login(world.employer)
    employer = SubsidyClient(client)
    dossier_id = employer.start("TOPBTP", world.metz)
    employer.attest(dossier_id)
    form = f"/subventions/{dossier_id}/lignes/ajouter"
    token = client.csrf(form)
    # The estimate leaves with the cookies the browser holds before the save…
    on_the_way = app.test_client()
    for cookie in ("session", "session-messages"):
        if held := client.get_cookie(cookie):
            on_the_way.set_cookie(cookie, held.value)
    # … the save answers first…
    assert employer.add_line(dossier_id, kind="equipement", amount="12 000", number="D-1").status_code == 303
    # … then the estimate, and the browser stores what it sets.
    late = on_the_way.post(
        f"/subventions/{dossier_id}/estimation",
        data={"csrf_token": token, "kind": "equipement", "amount_ht": "12 000"},
        headers={"HX-Request": "true"},
    )
    assert late.status_code == 200
    receive(client, late)
    lines = client.get(f"/subventions/{dossier_id}/lignes").get_data(as_text=True)
    assert SAVED in lines
    assert "6\u00a0000,00\u00a0€" in lines
    # Shown once: the next page no longer has it, and the session still holds the user.
    again = client.get(f"/subventions/{dossier_id}/lignes")
    assert again.status_code == 200
    assert SAVED not in again.get_data(as_text=True)


def test_a_message_is_signed_and_a_forged_one_is_ignored(app, client, login, world):
    login(world.employer)
    client.set_cookie("session-messages", '[["success", "Votre compte est clôturé."]]')
    page = client.get("/").get_data(as_text=True)
    assert "Votre compte est clôturé." not in page


def test_a_cookie_signed_when_messages_were_kept_in_the_session_shows_them_once(app, client):
    serializer = app.session_interface.get_signing_serializer(app)
    client.set_cookie("session", serializer.dumps({"csrf_token": "x", "_flashes": [("info", "Bienvenue.")]}))
    assert "Bienvenue." in client.get("/connexion").get_data(as_text=True)
    assert "Bienvenue." not in client.get("/connexion").get_data(as_text=True)
