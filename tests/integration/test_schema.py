"""The schema comes only from migrations, and the migrations match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError

from app.extensions import db
from app.models import (
    POSTGRESQL_ONLY_INDEXES,
    AuditEvent,
    Draft,
    Submission,
    UserKind,
    include_in_schema_comparison,
)
from app.models.types import utcnow
from app.services import audit
from tests.factories import make_caisse, make_company, make_establishment, make_firm, make_user

COMPARE = {"compare_type": True, "include_object": include_in_schema_comparison}


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=COMPARE)
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_audit_trail_is_append_only_in_the_database(app):
    audit.record("test", "thing", 1)
    db.session.commit()
    with pytest.raises(DatabaseError):
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET action = 'forged'"))
    with pytest.raises(DatabaseError):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
    assert db.session.scalars(db.select(AuditEvent.action)).all() == ["test"]


def test_the_migrations_since_0001_downgrade_and_upgrade_again_keeping_the_rows(app):
    """Down to 0001 and back. 0002 adds the draft's deletion columns: downgrading copies the `draft`
    table on SQLite (batch mode) while `submission` rows reference it, and nothing may be lost or left
    dangling. 0003 and 0004 add indexes. 0006 gives the events written before it the company whose
    journal lists them, by the rule the application applies when it writes one, and the trail stays
    append-only through the copy of its table."""
    from flask_migrate import downgrade, upgrade

    company = make_company()
    establishment = make_establishment(company)
    user = make_user(company=company)
    firm_user = make_user(kind=UserKind.FIRM, firm_id=make_firm("Cabinet").id)
    agent = make_user(kind=UserKind.CPAM, caisse_id=make_caisse("CPAM", departements="57").id)
    db.session.flush()
    for actor, action, object_type, object_id, on in (
        (user, "draft.save", "draft", 1, establishment),
        (firm_user, "dat.read", "dat_declaration", 1, establishment),
        (None, "login_failed", "user", user.id, None),
        (None, "draft.expired", "draft", 1, establishment),
        (agent, "dat.caisse_read", "dat_declaration", 1, establishment),
        (firm_user, "login", "user", firm_user.id, None),
    ):
        audit.record(action, object_type, object_id, establishment_id=on and on.id, actor=actor)
    drafts = [
        Draft(
            workflow="coordonnees",
            establishment_id=establishment.id,
            created_by_id=user.id,
            updated_by_id=user.id,
            answers={"nature": {"nature": "adresse"}},
            valid_steps=["nature"],
            current_step="adresse",
            discarded_at=utcnow() if n else None,
            discarded_by_id=user.id if n else None,
        )
        for n in range(2)
    ]
    db.session.add_all(drafts)
    db.session.flush()
    db.session.add(
        Submission(
            reference="TEST-2026-000001",
            workflow="coordonnees",
            draft_id=drafts[0].id,
            establishment_id=establishment.id,
            submitted_by_id=user.id,
            data={},
            sha256="0" * 64,
        )
    )
    db.session.commit()
    db.session.remove()
    db.engine.dispose()

    downgrade(revision="0001")
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("draft")}
        assert "discarded_at" not in columns and "discarded_by_id" not in columns
        assert conn.execute(text("SELECT count(*) FROM draft")).scalar() == 2
    db.engine.dispose()
    upgrade()

    journal = db.session.scalars(select(AuditEvent.company_id).order_by(AuditEvent.id)).all()
    assert journal == [company.id, company.id, company.id, company.id, None, None]
    with pytest.raises(DatabaseError), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET action = 'forged'"))

    rows = db.session.execute(select(Draft.id, Draft.answers, Draft.discarded_at).order_by(Draft.id)).all()
    assert [(r.answers, r.discarded_at) for r in rows] == [({"nature": {"nature": "adresse"}}, None)] * 2
    assert db.session.scalar(select(Submission.draft_id)) == rows[0].id
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=COMPARE)
        assert compare_metadata(context, db.metadata) == []
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_the_mailbox_search_has_its_trigram_indexes_on_postgresql_only(app):
    with db.engine.connect() as conn:
        names = {index["name"] for index in inspect(conn).get_indexes("letter")}
        expected = POSTGRESQL_ONLY_INDEXES if conn.dialect.name == "postgresql" else set()
    assert names & POSTGRESQL_ONLY_INDEXES == expected
