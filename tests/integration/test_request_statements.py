"""How many SQL statements a signed-in step save sends (issue 11: about half of a save on PostgreSQL is
waiting for round trips). Counted with SQLAlchemy's cursor events, not timed: a change that adds a
statement to every save fails here, and the count below says what each one is for."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models import Service
from tests.conftest import ON_POSTGRES
from tests.factories import PASSWORD, make_company, make_establishment, make_user

START = "/demarches/coordonnees/commencer"


class Statements:
    def __init__(self, engine):
        self.engine = engine
        self.seen: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(" ".join(statement.split()))

    def __enter__(self):
        self.seen.clear()
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def signed_in(app, client):
    company = make_company("Statements SAS")
    establishment = make_establishment(company)
    user = make_user(
        "compte@statements.example",
        company=company,
        grants=[(establishment, Service.COMPTE), (establishment, Service.DAT)],
    )
    db.session.commit()
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    token = client.csrf("/demarches/")
    response = client.post(START, data={"csrf_token": token, "establishment": str(establishment.id)})
    draft_id = int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))
    return token, draft_id


# What a signed-in step save needs, one statement each (docs/performance.md): the user with their open
# server-side session, the draft with its establishment, the user's grants on that establishment, the
# audit row, the versioned update. Nothing else — no navigation, no reload after the commit.
SAVE_STATEMENTS = [
    "SELECT user_account.",
    "SELECT draft.",
    "SELECT establishment.id, establishment.is_head_office, habilitation.service",
    "INSERT INTO audit_event",
    "UPDATE draft SET",
]


def _kinds(statements: list[str]) -> list[str]:
    return sorted(next((k for k in SAVE_STATEMENTS if s.startswith(k)), s[:60]) for s in statements)


def test_a_step_save_sends_five_statements(app, client, signed_in):
    token, draft_id = signed_in
    with Statements(db.engine) as counted:
        response = client.post(
            f"/demarches/brouillons/{draft_id}/etapes/nature",
            data={"csrf_token": token, "version": "1", "action": "continue", "nature": "adresse"},
        )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _kinds(counted.seen) == sorted(SAVE_STATEMENTS), "\n".join(s[:150] for s in counted.seen)


def test_an_autosave_sends_the_same_five_statements(app, client, signed_in):
    """An autosave answers an htmx fragment without the navigation: the navigation's establishments
    and unread letters are not read for it."""
    token, draft_id = signed_in
    with Statements(db.engine) as counted:
        response = client.post(
            f"/demarches/brouillons/{draft_id}/etapes/nature/enregistrement-automatique",
            data={"csrf_token": token, "version": "1", "nature": "adresse"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Brouillon enregistré" in response.get_data(as_text=True)
    assert _kinds(counted.seen) == sorted(SAVE_STATEMENTS), "\n".join(s[:150] for s in counted.seen)


def test_a_full_step_page_still_reads_the_navigation(app, client, signed_in):
    """The counterpart: a page with the navigation shows the DAT and mailbox entries as before."""
    _, draft_id = signed_in
    body = client.get(f"/demarches/brouillons/{draft_id}/etapes/nature").get_data(as_text=True)
    assert 'href="/dat/"' in body


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: the pre-ping of psycopg connections")
def test_on_postgresql_the_pre_ping_opens_the_transaction(app):
    """The pool's pre-ping sends BEGIN: the connection comes out of the pool already in a transaction,
    so psycopg does not send a BEGIN of its own before the first statement (one round trip less)."""
    from psycopg import pq

    db.engine.dispose()
    with db.engine.connect() as warm:  # a first connection, put back in the pool
        warm.execute(text("SELECT 1"))
        warm.commit()
    with db.engine.connect() as conn:  # the same one, pinged at checkout
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection.info.transaction_status == pq.TransactionStatus.INTRANS
        first = conn.execute(text("SELECT pg_current_xact_id()")).scalar()
        assert conn.execute(text("SELECT pg_current_xact_id()")).scalar() == first
        conn.commit()
        assert dbapi_connection.info.transaction_status == pq.TransactionStatus.IDLE


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: the pre-ping of psycopg connections")
def test_on_postgresql_a_pooled_connection_still_takes_an_isolation_level(app):
    """The transaction the pre-ping opened is empty: asking a pooled connection for AUTOCOMMIT or
    SERIALIZABLE (psycopg refuses that inside a transaction) still works."""
    db.engine.dispose()
    with db.engine.connect() as warm:
        warm.execute(text("SELECT 1"))
        warm.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    with db.engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
        assert conn.execute(text("SHOW transaction_isolation")).scalar() == "serializable"
        conn.rollback()
