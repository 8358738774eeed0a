"""Append-only audit trail (SPEC §1). Events join the caller's transaction."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from app.extensions import db
from app.models import AuditEvent


def record(
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    *,
    establishment_id: int | None = None,
    user_id: int | None = None,
    **details: object,
) -> AuditEvent:
    """Add an audit event to the current transaction. ``user_id`` defaults to the signed-in user."""
    if user_id is None and has_request_context() and current_user.is_authenticated:
        user_id = current_user.id
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        establishment_id=establishment_id,
        user_id=user_id,
        ip=request.remote_addr if has_request_context() else None,
        details={k: v for k, v in details.items() if v is not None},
    )
    db.session.add(event)
    return event
