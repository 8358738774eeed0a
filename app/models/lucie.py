"""LUCIE (SPEC §4): subscriptions, alert addresses, letters and the caisses' API tokens.

A letter is immutable once deposited: the database refuses a DELETE and any change to what was
deposited (see the triggers in the initial migration). Only the first consultation (recorded once)
and the archive flag change afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.lucie import LetterType
from app.extensions import db
from app.models.accounts import Caisse, Establishment, User
from app.models.types import UTCDateTime, utcnow


class LucieSubscription(db.Model):
    """The establishment's LUCIE subscription, activated by its company administrator."""

    __tablename__ = "lucie_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    establishment: Mapped[Establishment] = relationship()


class LucieAlertAddress(db.Model):
    """An extra address alerted on each deposit, chosen at subscription (besides habilitated users)."""

    __tablename__ = "lucie_alert_address"
    __table_args__ = (UniqueConstraint("establishment_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ApiToken(db.Model):
    """A caisse's bearer token for /api/v1. Only its SHA-256 is stored; revoked, never deleted."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    caisse_id: Mapped[int] = mapped_column(ForeignKey("caisse.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    caisse: Mapped[Caisse] = relationship()


class Letter(db.Model):
    """A letter deposited in an establishment's mailbox, with the dates that give it legal value."""

    __tablename__ = "letter"
    __table_args__ = (
        # Newest first, per mailbox: the keyset pagination walks this index.
        Index("ix_letter_mailbox", "establishment_id", "deposited_at", "id"),
        Index("ix_letter_unread", "establishment_id", "first_consulted_at"),
        Index("ix_letter_caisse", "caisse_id", "deposited_at", "id"),
        Index("ix_letter_case", "establishment_id", "case_reference"),
        # The same Idempotency-Key from the same caisse is the same letter (NULL keys never clash).
        UniqueConstraint("caisse_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    letter_type: Mapped[str] = mapped_column(String(40))
    case_reference: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # The *date de mise à disposition*.
    deposited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(10))
    caisse_id: Mapped[int | None] = mapped_column(ForeignKey("caisse.id"))
    deposited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of what was deposited (fields + file): a replayed key must carry the same request.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    first_consulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_consulted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    establishment: Mapped[Establishment] = relationship()
    caisse: Mapped[Caisse | None] = relationship()
    deposited_by: Mapped[User | None] = relationship(foreign_keys=[deposited_by_id])
    first_consulted_by: Mapped[User | None] = relationship(foreign_keys=[first_consulted_by_id])

    @property
    def type(self) -> LetterType:
        return LetterType(self.letter_type)

    @property
    def is_read(self) -> bool:
        return self.first_consulted_at is not None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


# Columns fixed at deposit: the immutability triggers of the migration list the same names.
IMMUTABLE_LETTER_COLUMNS = (
    "id",
    "establishment_id",
    "letter_type",
    "case_reference",
    "title",
    "filename",
    "sha256",
    "size",
    "deposited_at",
    "source",
    "caisse_id",
    "deposited_by_id",
    "idempotency_key",
    "request_fingerprint",
)
