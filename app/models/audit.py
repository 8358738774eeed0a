"""Append-only audit trail (SPEC §1): who did what, when, to which protected object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        # A company's activity journal: its events, newest first (app/services/journal.py).
        Index("ix_audit_event_company_journal", "company_id", "at", "id"),
        # A person's events, newest first: « Mon compte »'s last sign-ins, the journal's person filter.
        Index("ix_audit_event_user_recent", "user_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The company whose activity journal lists the event (None: none does), set when it is written
    # by app.services.audit.journal_company.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper, connection, target):  # the database triggers are the real guard
    raise RuntimeError("audit_event is append-only")
