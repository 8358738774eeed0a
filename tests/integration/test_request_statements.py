"""How many SQL statements a signed-in step save sends (issue 11: about half of a save on PostgreSQL is
waiting for round trips). Counted with SQLAlchemy's cursor events, not timed: a change that adds a
statement to every save fails here, and the count below says what each one is for."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models import Habilitation, Service
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


# What a signed-in step save needs (docs/performance.md): the user with their open server-side session;
# the draft with its establishment and, in the same statement, the user's grants on that establishment;
# the versioned update with its audit row — on PostgreSQL one statement, the row inserted from the
# UPDATE's RETURNING. Nothing else — no navigation, no reload after the commit.
GRANTS = "SELECT establishment.id, establishment.is_head_office, habilitation.service"
SAVE_STATEMENTS = ["SELECT user_account.", "SELECT draft."] + (
    ["WITH updated AS (UPDATE draft SET"] if ON_POSTGRES else ["UPDATE draft SET", "INSERT INTO audit_event"]
)


def _kinds(statements: list[str]) -> list[str]:
    return sorted(next((k for k in SAVE_STATEMENTS if s.startswith(k)), s[:60]) for s in statements)


def test_a_step_save_sends_three_statements_on_postgresql(app, client, signed_in):
    """Three statements (four on SQLite), in five round trips with the pre-ping's BEGIN and the
    COMMIT (there were seven)."""
    token, draft_id = signed_in
    with Statements(db.engine) as counted:
        response = client.post(
            f"/demarches/brouillons/{draft_id}/etapes/nature",
            data={"csrf_token": token, "version": "1", "action": "continue", "nature": "adresse"},
        )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _kinds(counted.seen) == sorted(SAVE_STATEMENTS), "\n".join(s[:150] for s in counted.seen)
    draft_query = next(s for s in counted.seen if s.startswith("SELECT draft."))
    assert "JOIN habilitation AS granted_habilitation" in draft_query, draft_query


def test_an_autosave_sends_the_same_statements(app, client, signed_in):
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


def test_a_step_page_reads_the_grants_once_and_records_its_read(app, client, signed_in):
    """A full page's navigation reads all the user's grants: the draft's check uses that one query
    instead of a second one on the draft's establishment. The read is still audited."""
    _, draft_id = signed_in
    with Statements(db.engine) as counted:
        response = client.get(f"/demarches/brouillons/{draft_id}/etapes/nature")
    assert response.status_code == 200
    grants = [s for s in counted.seen if s.startswith(GRANTS)]
    assert len(grants) == 1 and "establishment.id = " not in grants[0], grants
    assert sum(s.startswith("INSERT INTO audit_event") for s in counted.seen) == 1
    assert len(counted.seen) == 5, "\n".join(s[:150] for s in counted.seen)


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


# The home page of an employer user with the DAT and LUCIE (issue 11: it sent 16 statements, three of
# them the same list of drafts, each after two reads of the form models, and the unread count twice).
HOME_STATEMENTS = [
    "SELECT user_account.",
    "SELECT form_model_version.",  # the form models whose drafts are listed: one query
    "SELECT establishment.id, establishment.is_head_office, habilitation.service",
    "SELECT establishment.id, establishment.company_id",  # the cards
    "SELECT draft.",  # the drafts, once: the list and the deadlines
    "SELECT count(*)",  # unread letters: the page and the navigation
    "SELECT letter.",
    "SELECT dat_declaration.",  # reserves windows
]


def _home_kinds(statements: list[str]) -> list[str]:
    return sorted(next((k for k in HOME_STATEMENTS if s.startswith(k)), s[:60]) for s in statements)


def test_the_home_page_reads_each_thing_once(app, client):
    from tests.lucie_support import deposit, make_mailbox

    box = make_mailbox()
    deposit(box.establishment, box.caisse, title="Notification de prise en charge")
    deposit(box.establishment, box.caisse, title="Demande de pièces")
    reader = box.reader
    db.session.add_all(
        [Habilitation(user_id=reader.id, establishment_id=box.establishment.id, service=str(Service.DAT))]
    )
    db.session.commit()
    token = client.csrf("/connexion")
    client.post("/connexion", data={"email": reader.email, "password": PASSWORD, "csrf_token": token})
    token = client.csrf("/demarches/")
    started = client.post(
        "/demarches/dat/commencer", data={"csrf_token": token, "establishment": str(box.establishment.id)}
    )
    assert started.status_code == 303
    client.get("/")  # the session's last-seen time written: not part of the count
    with Statements(db.engine) as counted:
        response = client.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _home_kinds(counted.seen) == sorted(HOME_STATEMENTS), "\n".join(s[:150] for s in counted.seen)
    # Same content: the draft in the list, the unread count in the page and in the navigation.
    assert "Déclaration d&#39;accident du travail" in body and ">Reprendre<" in body
    assert "2 courriers non lus." in body and "Notification de prise en charge" in body
    assert re.search(r'class="app-count">2<span class="govuk-visually-hidden"> non lus</span>', body)


def test_the_home_page_shows_a_change_made_since_the_last_request(app, client):
    """Nothing the home page reads is kept from one request to the next: a letter read, a habilitation
    withdrawn are seen on the very next request."""
    from app.models import Letter
    from tests.lucie_support import deposit, make_mailbox

    box = make_mailbox()
    deposit(box.establishment, box.caisse, title="Notification de prise en charge")
    reader = box.reader
    db.session.add(Habilitation(user_id=reader.id, establishment_id=box.establishment.id, service="dat"))
    db.session.commit()
    token = client.csrf("/connexion")
    client.post("/connexion", data={"email": reader.email, "password": PASSWORD, "csrf_token": token})
    token = client.csrf("/demarches/")
    started = client.post(
        "/demarches/dat/commencer", data={"csrf_token": token, "establishment": str(box.establishment.id)}
    )
    step_url = started.headers["Location"]
    assert client.get(step_url).status_code == 200
    body = client.get("/").get_data(as_text=True)
    assert "1 courrier non lu." in body and 'class="app-count">1<' in body
    assert 'href="/dat/"' in body

    letter = db.session.scalar(db.select(Letter))
    letter_page = client.get(f"/courriers/{letter.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', letter_page).group(1)
    assert client.post(f"/courriers/{letter.id}/ouvrir", data={"csrf_token": token}).status_code == 303
    body = client.get("/").get_data(as_text=True)
    assert "Aucun courrier non lu." in body and 'class="app-count"' not in body

    db.session.execute(
        db.delete(Habilitation).where(Habilitation.user_id == reader.id, Habilitation.service == "dat")
    )
    db.session.commit()
    body = client.get("/").get_data(as_text=True)
    assert 'href="/dat/"' not in body  # the withdrawn DAT: gone from the navigation at once
    assert ">Reprendre<" not in body  # and its draft from the list
    assert client.get(step_url).status_code == 403  # the draft's page refused on the next request
