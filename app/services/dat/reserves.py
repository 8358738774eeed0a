"""Reserves after the declaration (CSS R441-6): added within the window, once."""

from __future__ import annotations

from datetime import date, datetime
from typing import BinaryIO

from app.extensions import db
from app.forms import dat as dat_forms
from app.models import DeclarationEvent, ReserveAddendum, Service, User
from app.services import access, audit
from app.workflows.engine import sha256_of

from .common import now_utc
from .filling import store_attachment
from .reading import _by_reference, reserves_open


class ReservesClosed(Exception):
    """The 10 jours francs after the declaration are over: reserves are refused."""

    def __init__(self, due: date):
        super().__init__(f"reserves window closed on {due}")
        self.due = due


def add_reserves(
    user: User,
    reference: str,
    *,
    category: str,
    motivation: str,
    stream: BinaryIO | None = None,
    filename: str = "",
    now: datetime | None = None,
) -> ReserveAddendum:
    """Reasoned reserves added to a sent declaration while its window is open (SPEC §2.1), one
    transaction: the addendum (immutable, with its SHA-256), its file, a timeline line, the audit.
    Raises :class:`ReservesClosed` after the window, :class:`AttachmentRefused` for a bad file."""
    declaration = _by_reference(reference)
    access.authorize_employer_side(user, Service.DAT, declaration.establishment if declaration else None)
    moment = now_utc(now)
    if not reserves_open(declaration, moment):
        raise ReservesClosed(declaration.reserves_due_on)
    if category not in dat_forms.CATEGORIES:
        raise ValueError("unknown reserves category")
    upload = None
    if stream is not None and filename:
        upload = store_attachment(
            user, stream, filename, declaration.establishment_id, declaration_id=declaration.id
        )
    content = {
        "declaration": declaration.reference,
        "declaration_sha256": declaration.submission.sha256,
        "categorie": category,
        "motivation": motivation,
        "piece_jointe": upload.sha256 if upload else None,
        "submitted_at": moment.isoformat(),
    }
    addendum = ReserveAddendum(
        category=category,
        motivation=motivation,
        upload_id=upload.id if upload else None,
        submitted_at=moment,
        submitted_by_id=user.id,
        sha256=sha256_of(content),
    )
    declaration.addenda.append(addendum)
    db.session.flush()
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=moment,
            kind="reserves",
            user_id=user.id,
            details={"categorie": category, "addendum": addendum.id},
        )
    )
    audit.record(
        "dat.reserves",
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
        addendum=addendum.id,
        sha256=addendum.sha256,
    )
    db.session.commit()
    return addendum
