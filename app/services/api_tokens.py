"""Bearer tokens of the caisses' systems for /api/v1 (SPEC §4).

A token is 256 random bits, shown once at creation; only its SHA-256 is stored, so a stolen
database gives no usable token. A high-entropy secret needs no slow hash (nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Caisse
from app.models.types import utcnow
from app.services import audit

TOKEN_PREFIX = "atmp_"  # noqa: S105 — a public prefix, not a secret


class TokenError(ValueError):
    """A token command that cannot be done; the message is for the operator."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(caisse_name: str, label: str = "") -> tuple[ApiToken, str]:
    """Create a token for the caisse named ``caisse_name``. Returns the row and the token in clear,
    which is never stored nor shown again."""
    caisse = db.session.scalar(select(Caisse).where(Caisse.name == caisse_name))
    if caisse is None:
        raise TokenError(f"Aucune caisse ne s'appelle « {caisse_name} ».")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(caisse_id=caisse.id, token_hash=hash_token(token), label=label[:120])
    db.session.add(row)
    db.session.flush()
    audit.record("api_token_created", "api_token", row.id, caisse=caisse.name, label=label or None)
    db.session.commit()
    return row, token


def revoke_token(token_id: int) -> ApiToken:
    """Revoke a token: it stops working at once. The row stays, for the record."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise TokenError(f"Aucun jeton n° {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token_revoked", "api_token", row.id, caisse=row.caisse.name)
        db.session.commit()
    return row


def list_tokens(caisse_name: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).join(Caisse).order_by(Caisse.name, ApiToken.id)
    if caisse_name:
        query = query.where(Caisse.name == caisse_name)
    return list(db.session.scalars(query))


def caisse_for_token(token: str | None) -> Caisse | None:
    """The caisse whose live token this is, else None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return db.session.scalar(
        select(Caisse)
        .join(ApiToken, ApiToken.caisse_id == Caisse.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    )
