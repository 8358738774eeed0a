"""Uploaded files: content-addressed blobs under STORAGE_DIR, one row per upload.

A file is read under the rules of what holds it (``app.services.access.authorize_upload``): the
draft it was attached to, or the declaration once sent (a reserves addendum's file is the
declaration's from the start). A LUCIE letter's document is not an upload: the letter holds its blob
itself (``Letter.sha256``). Several rows may share one blob (the same bytes uploaded twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Upload(db.Model):
    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"), index=True)
    # The service whose habilitation is needed to read it (app.models.Service value).
    service: Mapped[str | None] = mapped_column(String(20))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What holds it: the draft it was attached to (erased with the draft) and, once sent, the
    # declaration (read by whoever reads the declaration, the CPAM included). Neither: nobody reads it.
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"), index=True)
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("dat_declaration.id"), index=True)
    # A PDF with JavaScript, actions, embedded files, rich media or XFA (pypdf at upload): offered
    # only as a download. NULL: never checked (a row from before the check) — treated the same way.
    active_content: Mapped[bool | None] = mapped_column(Boolean)

    @property
    def served_inline(self) -> bool:
        """Shown in the browser only when it is a PDF known to carry no active content (images: never
        inline either — a download is what the links promise)."""
        return self.media_type == "application/pdf" and self.active_content is False
