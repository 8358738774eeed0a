"""Server-side sessions (docs/security.md): each signed-in browser has a row in ``user_session``,
named in its signed cookie by a random token, and checked on every request. Signing out, a password
change or reset, a lock-out, a deactivation and « Se déconnecter de tous les appareils » revoke rows,
so that a copied cookie stops working at once instead of at the end of its 12 hours."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import bindparam, select, update

from app.domain.accounts import user_agent_summary
from app.extensions import db
from app.models import User, UserSession
from app.models.types import utcnow

#: ``last_seen_at`` is written at most this often: a step save must not pay for a write.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, user_agent: str | None) -> str:
    """Record a new signed-in browser for ``user``; returns the token its cookie carries (only its
    hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent_summary(user_agent or ""),
        )
    )
    db.session.commit()
    return token


# Built once: every signed-in request runs it, and building the statement (and its cache key) each
# time was a tenth of a step save's CPU (docs/performance.md, issue 11).
_SIGNED_IN_USER = (
    select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        User.id == bindparam("user_id"),
    )
)


def signed_in_user(user_ref: str, token: str | None) -> User | None:
    """The user of a request's session, or None when the session was revoked, belongs to someone
    else, or predates the user's last password change: one indexed lookup that also loads the user.
    ``user_ref`` is Flask-Login's ``id:credentials_version``; ``token`` the cookie's session token."""
    ident, _, version = user_ref.partition(":")
    if not ident.isdigit() or len(ident) > 18 or not isinstance(token, str) or not token:
        return None
    row = db.session.execute(_SIGNED_IN_USER, {"token_hash": _hash(token), "user_id": int(ident)}).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    if str(user.credentials_version) != version:
        return None
    g.user_session_id = session_id
    _touch(session_id, last_seen)
    return user


def _touch(session_id: int, last_seen: datetime) -> None:
    now = utcnow()
    if now - last_seen < TOUCH_EVERY:
        return
    session = db.session
    if session.new or session.dirty or session.deleted:
        return  # never commit someone else's changes; a later request will record it
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    session.commit()


def current_session_id() -> int | None:
    """The ``user_session`` row of the current request, once its user is loaded."""
    return g.get("user_session_id")


def revoke(token: str | None) -> None:
    """End one session (sign-out). The caller commits."""
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def revoke_all(user: User) -> int:
    """End every open session of ``user`` (the caller commits); returns how many were open."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class OpenSession:
    id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    current: bool


def open_sessions(user: User, max_hours: float) -> list[OpenSession]:
    """The user's sessions that may still be in use (not revoked, started less than the maximum
    session length ago), newest first: what « Mon compte » lists."""
    since = utcnow() - timedelta(hours=max_hours)
    rows = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > since,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        .limit(20)
    )
    here = current_session_id()
    return [OpenSession(s.id, s.created_at, s.last_seen_at, s.user_agent, s.id == here) for s in rows]
