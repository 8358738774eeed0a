"""Append-only audit trail (SPEC §1). Events join the caller's transaction."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ColumnElement, Update, bindparam, insert, literal, literal_column, select

from app.domain.accounts import UserKind
from app.extensions import db
from app.models import AuditEvent, Establishment, User
from app.models.types import utcnow

# Actions of the platform itself (no person) that the company concerned reads in its journal.
PLATFORM_ACTIONS = frozenset({"draft.expired"})


def record(
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    *,
    establishment_id: int | None = None,
    actor: User | None = None,
    **details: object,
) -> AuditEvent:
    """Add an audit event to the current transaction. ``actor`` defaults to the signed-in user."""
    event = AuditEvent(**_values(action, object_type, object_id, establishment_id, actor, details))
    db.session.add(event)
    return event


_EVENTS = AuditEvent.__table__


class RecordedUpdate:
    """An UPDATE of one row, guarded by what the caller read (a version), that records an audit event
    when it changes the row, in the current transaction. Built once with bound parameters (building a
    statement on each request costs CPU): ``statement`` names its values with :func:`bindparam`.

    On PostgreSQL the UPDATE and the event are one statement — the event inserted from the UPDATE's
    RETURNING — a round trip less on every step save (issue 11); SQLite gets the two statements."""

    def __init__(self, statement: Update):
        self.statement = statement
        self._one_statement = None  # built at the first call, with an event's columns

    def __call__(
        self,
        params: dict[str, object],
        action: str,
        object_type: str,
        object_id: object,
        *,
        establishment_id: int | None = None,
        **details: object,
    ) -> bool:
        """Run it with ``params``: False when no row matched (nothing written)."""
        values = _values(action, object_type, object_id, establishment_id, None, details)
        if db.session.get_bind().dialect.name != "postgresql":
            if db.session.execute(self.statement, params).rowcount != 1:
                return False
            db.session.execute(insert(_EVENTS).values(values))
            return True
        columns = _EVENTS.c
        if isinstance(values["company_id"], ColumnElement):  # looked up by the database (a firm's user)
            statement = self._with_event(
                {
                    name: value if isinstance(value, ColumnElement) else literal(value, columns[name].type)
                    for name, value in values.items()
                }
            )
        else:
            if self._one_statement is None:
                self._one_statement = self._with_event(
                    {name: bindparam(f"event_{name}", type_=columns[name].type) for name in values}
                )
            statement = self._one_statement
            params = {**params, **{f"event_{name}": value for name, value in values.items()}}
        return db.session.execute(statement, params).rowcount == 1

    def _with_event(self, event: dict[str, ColumnElement]):
        updated = self.statement.returning(literal_column("1")).cte("updated")
        row = select(*event.values()).select_from(updated)
        return insert(_EVENTS).from_select(list(event), row).execution_options(preserve_rowcount=True)


def _values(action, object_type, object_id, establishment_id, actor, details) -> dict[str, object]:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    return {
        "at": utcnow(),
        "user_id": actor.id if actor is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "establishment_id": establishment_id,
        "ip": request.remote_addr if has_request_context() else None,
        "details": {k: v for k, v in details.items() if v is not None},
        "company_id": journal_company(actor, action, object_type, object_id, establishment_id),
    }


def journal_company(
    actor: User | None, action: str, object_type: str | None, object_id: object, establishment_id: int | None
):
    """The company whose activity journal (app/services/journal.py) lists an event, or None:

    - what its own users did;
    - what a tiers déclarant's user did on one of its establishments (never the firm's own sign-ins);
    - what happened to one of its users' accounts with nobody signed in (failed sign-ins, lock-outs,
      reset requests);
    - what the platform did on its own (:data:`PLATFORM_ACTIONS`) to its establishments' objects.

    Caisse agents' and operators' work is in no company's journal. Migration 0006 applies the same
    rule to the events written before it. A value the database must look up is a scalar subquery,
    sent with the INSERT (no extra round trip)."""
    if actor is not None:
        if actor.kind == UserKind.EMPLOYER:
            return actor.company_id
        if actor.kind == UserKind.FIRM and establishment_id is not None:
            return _company_of(establishment_id)
        return None
    if object_type == "user" and object_id is not None:
        return (
            select(User.company_id)
            .where(User.id == int(object_id), User.kind == UserKind.EMPLOYER)
            .scalar_subquery()
        )
    if action in PLATFORM_ACTIONS and establishment_id is not None:
        return _company_of(establishment_id)
    return None


def _company_of(establishment_id: int):
    return select(Establishment.company_id).where(Establishment.id == establishment_id).scalar_subquery()
