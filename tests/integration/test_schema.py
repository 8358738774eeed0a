"""The schema comes only from migrations, and the migrations match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app.extensions import db
from app.models import AuditEvent
from app.services import audit


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
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
