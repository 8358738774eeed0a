"""Append-only audit trail (SPEC §1). Events join the caller's transaction."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from app.domain.accounts import UserKind
from app.extensions import db
from app.models import AuditEvent, Establishment, User

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
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        establishment_id=establishment_id,
        user_id=actor.id if actor is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details={k: v for k, v in details.items() if v is not None},
        company_id=journal_company(actor, action, object_type, object_id, establishment_id),
    )
    db.session.add(event)
    return event


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
