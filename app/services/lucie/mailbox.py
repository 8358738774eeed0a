"""The mailbox: the filtered, paged list of letters and the unread counts."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Establishment, Letter, Service, User, UserKind
from app.models.types import UTCDateTime
from app.services import access
from app.web import PARIS

from .common import log

PAGE_SIZE = 25
UNREAD_CAP = 99


@dataclass
class MailboxFilters:
    establishment_id: int | None = None
    letter_type: str | None = None
    start: date | None = None
    end: date | None = None
    case_reference: str | None = None
    state: str | None = None  # "non_lus" | "lus"
    query: str | None = None
    archived: bool = False


@dataclass
class MailboxPage:
    letters: list[Letter]
    newer: str | None  # cursor for the page of more recent letters
    older: str | None  # cursor for the page of older letters


def mailbox_establishments(user: User) -> list[Establishment]:
    """The establishments whose mailbox ``user`` reads: habilitated ones for employer users (all of
    them with a head-office habilitation), the client portfolio for tiers déclarants."""
    if not user.is_authenticated or user.kind not in (UserKind.EMPLOYER, UserKind.FIRM):
        return []
    return access.establishments_for(user, Service.LUCIE)


def encode_cursor(letter: Letter) -> str:
    raw = f"{letter.deposited_at.isoformat()}|{letter.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value or len(value) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        moment, _, ident = raw.partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            return None
        return parsed, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def mailbox_page(
    user: User,
    filters: MailboxFilters,
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    establishments: list[Establishment] | None = None,
) -> MailboxPage:
    """One page of ``user``'s mailbox, newest first, with keyset pagination: ``after`` gives the
    letters older than that cursor, ``before`` the ones more recent. No OFFSET: any page costs the
    same, however deep."""
    establishments = mailbox_establishments(user) if establishments is None else establishments
    ids = [e.id for e in establishments]
    if filters.establishment_id is not None:
        ids = [i for i in ids if i == filters.establishment_id]
    if not ids:
        return MailboxPage([], None, None)
    query = select(Letter)
    query = (
        query.where(Letter.establishment_id == ids[0])
        if len(ids) == 1
        else query.where(Letter.establishment_id.in_(ids))
    )
    query = query.where(Letter.archived_at.is_not(None) if filters.archived else Letter.archived_at.is_(None))
    if filters.letter_type:
        query = query.where(Letter.letter_type == filters.letter_type)
    if filters.start:
        query = query.where(Letter.deposited_at >= _paris_midnight(filters.start))
    if filters.end:
        query = query.where(Letter.deposited_at < _paris_midnight(filters.end + timedelta(days=1)))
    if filters.case_reference:
        query = query.where(Letter.case_reference == filters.case_reference)
    if filters.state == "non_lus":
        query = query.where(Letter.first_consulted_at.is_(None))
    elif filters.state == "lus":
        query = query.where(Letter.first_consulted_at.is_not(None))
    if filters.query:
        query = query.where(
            Letter.title.icontains(filters.query, autoescape=True)
            | Letter.case_reference.icontains(filters.query, autoescape=True)
        )

    key = tuple_(Letter.deposited_at, Letter.id)
    newer_cursor = decode_cursor(before)
    older_cursor = decode_cursor(after) if newer_cursor is None else None
    if newer_cursor is not None:
        bound = tuple_(
            bindparam(None, newer_cursor[0], type_=UTCDateTime()), bindparam(None, newer_cursor[1])
        )
        rows = list(
            db.session.scalars(
                query.where(key > bound).order_by(Letter.deposited_at.asc(), Letter.id.asc()).limit(limit + 1)
            )
        )
        has_more_recent = len(rows) > limit
        letters = list(reversed(rows[:limit]))
        return MailboxPage(
            letters,
            newer=encode_cursor(letters[0]) if has_more_recent and letters else None,
            older=encode_cursor(letters[-1]) if letters else None,
        )
    if older_cursor is not None:
        bound = tuple_(
            bindparam(None, older_cursor[0], type_=UTCDateTime()), bindparam(None, older_cursor[1])
        )
        query = query.where(key < bound)
    rows = list(
        db.session.scalars(query.order_by(Letter.deposited_at.desc(), Letter.id.desc()).limit(limit + 1))
    )
    letters = rows[:limit]
    return MailboxPage(
        letters,
        newer=encode_cursor(letters[0]) if older_cursor is not None and letters else None,
        older=encode_cursor(letters[-1]) if len(rows) > limit else None,
    )


def unread_count(user: User, cap: int = UNREAD_CAP) -> int:
    """Unread letters in ``user``'s mailboxes, counted up to ``cap`` + 1 so that the navigation
    costs the same with 10 or 100 000 letters ("99+")."""
    ids = [e.id for e in mailbox_establishments(user)]
    if not ids:
        return 0
    unread = (
        select(Letter.id)
        .where(
            Letter.establishment_id.in_(ids),
            Letter.first_consulted_at.is_(None),
            Letter.archived_at.is_(None),
        )
        .limit(cap + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(unread)) or 0


def navigation_unread(user: User) -> int | None:
    """The unread count for the navigation, or None when the user has no mailbox (or the database
    cannot answer while an error page is being shown)."""
    try:
        if not mailbox_establishments(user):
            return None
        return unread_count(user)
    except SQLAlchemyError:
        log.exception("LUCIE unread count unavailable")
        return None


def unread_letters(user: User, limit: int = 5) -> list[Letter]:
    """The most recent unread letters of ``user``'s mailboxes (dashboard)."""
    ids = [e.id for e in mailbox_establishments(user)]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Letter)
            .options(joinedload(Letter.establishment))
            .where(
                Letter.establishment_id.in_(ids),
                Letter.first_consulted_at.is_(None),
                Letter.archived_at.is_(None),
            )
            .order_by(Letter.deposited_at.desc(), Letter.id.desc())
            .limit(limit)
        )
    )
