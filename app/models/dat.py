"""DAT (SPEC §2): the declaration made from a submitted draft, its reserve addenda and its timeline.

The declared content is the engine's immutable :class:`~app.models.Submission` (its canonical JSON
and SHA-256); :class:`Declaration` copies the few facts lists, filters and deadlines need, and holds
what changes afterwards on the CPAM's side (status, CMI). Status changes go through
``app.services.dat.change_status`` only, which applies ``app.domain.dat.check_transition``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.dat import Status
from app.extensions import db
from app.models.accounts import Establishment, User
from app.models.files import Upload
from app.models.types import UTCDateTime, utcnow
from app.models.workflows import Submission


class Declaration(db.Model):
    __tablename__ = "dat_declaration"
    __table_args__ = (
        # The employer's follow-up list: newest first, per establishment.
        Index("ix_dat_declaration_establishment_submitted", "establishment_id", "submitted_at"),
        # The CPAM inbox: newest first, per département of residence of the caisse's insured.
        Index("ix_dat_declaration_caisse", "cpam_departement", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    # The establishment's département: the calendar the deadlines are computed with (SPEC §6).
    departement: Mapped[str] = mapped_column(String(3))
    # The département of the competent CPAM (SPEC §1): the victim's residence, from the postal code of
    # their address (app/domain/caisses.py). The CPAM's agents see the declarations of these.
    cpam_departement: Mapped[str] = mapped_column(String(3))
    victim_name: Mapped[str] = mapped_column(String(250))  # "NOM Prénom(s)", as shown
    # Lower case without accents: what the search compares (same on SQLite and PostgreSQL).
    search_text: Mapped[str] = mapped_column(String(300), index=True)
    accident_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accident_on: Mapped[date] = mapped_column(Date, index=True)  # local date, for the date filter
    is_trajet: Mapped[bool] = mapped_column(Boolean, default=False)
    is_fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    known_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Reasoned reserves made in the declaration itself (addenda are ReserveAddendum rows).
    has_reserves: Mapped[bool] = mapped_column(Boolean, default=False)
    reserves_due_on: Mapped[date] = mapped_column(Date)  # last day of the 10 jours francs
    status: Mapped[str] = mapped_column(String(20), default=Status.TRANSMISE, index=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The day the CPAM received the initial medical certificate; with the declaration it makes D0.
    cmi_received_on: Mapped[date | None] = mapped_column(Date)
    cmi_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cmi_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Since when the accusé de réception waits to be deposited in the establishment's LUCIE mailbox
    # (after the submission's commit; longer while the file store is full). NULL: deposited, or none due.
    receipt_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    submission: Mapped[Submission] = relationship()
    establishment: Mapped[Establishment] = relationship()
    addenda: Mapped[list[ReserveAddendum]] = relationship(
        back_populates="declaration", order_by="ReserveAddendum.id"
    )
    events: Mapped[list[DeclarationEvent]] = relationship(
        back_populates="declaration", order_by="DeclarationEvent.id"
    )

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def answers(self) -> dict:
        """The declared answers by step, as submitted (JSON values)."""
        return self.submission.data.get("answers", {})


class ReserveAddendum(db.Model):
    """Reasoned reserves sent after the declaration, within its 10 jours francs (CSS R441-6).
    Immutable once sent: its content has a SHA-256 like the declaration."""

    __tablename__ = "dat_reserve_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("dat_declaration.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    motivation: Mapped[str] = mapped_column(Text)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    sha256: Mapped[str] = mapped_column(String(64))

    declaration: Mapped[Declaration] = relationship(back_populates="addenda")
    upload: Mapped[Upload | None] = relationship()
    submitted_by: Mapped[User] = relationship()


class DeclarationEvent(db.Model):
    """One line of a declaration's timeline, visible to the employer and the CPAM: sent, reserves
    added, CMI recorded, status changed."""

    __tablename__ = "dat_declaration_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("dat_declaration.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # transmise | reserves | cmi | statut
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    declaration: Mapped[Declaration] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()
