"""Pages during a database fault: the error page itself never needs the database, so a request that
meets a fault gets the French « Erreur technique » page, never gunicorn's bare English « Internal
Server Error »; and a connection the database dropped is replaced before a request uses it (the
pool's pre-ping), so the next request simply works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from app.extensions import db
from tests.background_support import ROOT, free_port, stop, wait_until
from tests.conftest import ON_POSTGRES
from tests.factories import PASSWORD, make_company, make_user

FRENCH_500 = "Erreur technique"


def _rename_users_table(old: str, new: str) -> None:
    db.session.rollback()
    db.session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
    db.session.commit()


def test_a_database_error_while_loading_the_user_gets_the_french_error_page(app, client, login):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    user = make_user(company=make_company())
    db.session.commit()
    login(user)
    assert client.get("/").status_code == 200
    _rename_users_table("user_account", "user_account_away")  # every query of the user now fails
    try:
        response = client.get("/")
        htmx = client.get("/", headers={"HX-Request": "true"})
        missing = client.get("/nulle-part")  # the 404 page needs the user too: the 500 page takes over
    finally:
        _rename_users_table("user_account_away", "user_account")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert FRENCH_500 in body and '<html lang="fr"' in body and "Internal Server Error" not in body
    assert htmx.status_code == 500 and FRENCH_500 in htmx.get_data(as_text=True)
    assert missing.status_code == 500 and FRENCH_500 in missing.get_data(as_text=True)
    assert client.get("/").status_code == 200  # the database is back: so is the page


def _gunicorn(app, name: str, **settings) -> tuple[subprocess.Popen, str]:
    """The app served by gunicorn as `make run` starts it (one worker here), on the test database."""
    port = free_port()
    url = app.config["SQLALCHEMY_DATABASE_URI"] + f"?application_name={name}"
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "RATELIMIT_ENABLED": "0", **settings}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/connexion", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 60, "gunicorn", process)
    return process, base


def _signed_in(base: str, user) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/connexion", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = browser.post(
        f"{base}/connexion",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:2000]
    return browser


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite has no server that drops a connection")
@pytest.mark.parametrize(
    ("pre_ping", "expected"),
    [("1", 200), ("0", 500)],
    ids=["with the pre-ping the page works", "without it the French error page"],
)
def test_after_the_database_dropped_gunicorns_connections_the_next_page_works_or_is_the_french_error(
    app, pre_ping, expected
):
    user = make_user(company=make_company())
    db.session.commit()
    name = f"faults_web_{pre_ping}"
    server, base = _gunicorn(app, name, DATABASE_POOL_PRE_PING=pre_ping)
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    try:
        browser = _signed_in(base, user)
        assert browser.get(f"{base}/", timeout=10).status_code == 200
        with admin.connect() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :n"
                ),
                {"n": name},
            ).scalar()
        assert dropped >= 1
        response = browser.get(f"{base}/", timeout=10)
        assert response.status_code == expected
        assert "Internal Server Error" not in response.text
        if expected == 500:
            assert FRENCH_500 in response.text and '<html lang="fr"' in response.text
        assert browser.get(f"{base}/", timeout=10).status_code == 200  # and the next one works
    finally:
        admin.dispose()
        stop(server)
