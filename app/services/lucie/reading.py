"""Reading a letter (employers, tiers déclarants; agents of the caisse's territory): its page, its
first, legally binding opening, its verified PDF and its archiving.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from app.domain.lucie import DeemedNotice, counts_as_first_consultation, deemed_notice
from app.extensions import db
from app.models import Letter, User, UserKind
from app.models.types import utcnow
from app.services import access, audit
from app.services.uploads import StoredFileCorrupted, read_blob

from .common import RELATED_TYPE, log
from .dates import current_rule


class LetterUnavailable(RuntimeError):
    """The stored PDF is missing or no longer hashes to the SHA-256 recorded at deposit."""


class OpeningNotConfirmed(Exception):
    """The first opening of a letter by a person of the company is legally binding: it must be an
    explicit action from this site's own pages (the « Ouvrir le courrier » button, a link of the letter
    page), never a request a link from another site could make. Nothing was recorded."""

    def __init__(self, letter_id: int):
        super().__init__(letter_id)
        self.letter_id = letter_id


# What the letter pages show, loaded with the letter: templates never query.
LETTER_PAGE = (
    joinedload(Letter.establishment),
    joinedload(Letter.caisse),
    joinedload(Letter.first_consulted_by),
)


def _authorized_letter(user: User, letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id, options=LETTER_PAGE)
    access.authorize_letter(user, letter)
    return letter


def deemed_notices(letters: list[Letter], departements: dict[int, str]) -> dict[int, DeemedNotice]:
    """The notification of each letter of a list (letter id → notice), ``departements`` mapping the
    establishments' ids to their départements (no query per letter)."""
    now = utcnow()
    reading = current_rule().reading
    return {
        letter.id: deemed_notice(
            letter.deposited_at,
            letter.first_consulted_at,
            departements[letter.establishment_id],
            now,
            reading,
        )
        for letter in letters
    }


def makes_first_consultation(user: User, letter: Letter) -> bool:
    """Whether ``user`` opening ``letter`` is its first consultation: only a person of the
    establishment's company, never a tiers déclarant nor an agent (app.domain.lucie)."""
    return counts_as_first_consultation(
        reader_is_employer=user.kind == UserKind.EMPLOYER,
        same_company=user.company_id is not None and user.company_id == letter.establishment.company_id,
    )


def awaits_opening(user: User, letter: Letter) -> bool:
    """True when ``user`` opening the letter now would be its legally binding first consultation:
    the letter page then asks for an explicit « Ouvrir le courrier »."""
    return letter.first_consulted_at is None and makes_first_consultation(user, letter)


def _verified_pdf(user: User, letter: Letter) -> bytes:
    try:
        return read_blob(letter.sha256)
    except (StoredFileCorrupted, FileNotFoundError) as error:
        log.error(
            "LUCIE letter %s: stored PDF %s unreadable (%s)", letter.id, letter.sha256, type(error).__name__
        )
        audit.record(
            "integrity_error",
            RELATED_TYPE,
            letter.id,
            establishment_id=letter.establishment_id,
            actor=user,
            sha256=letter.sha256,
        )
        db.session.commit()
        raise LetterUnavailable(letter.sha256) from error


def letter_page(user: User, letter_id: int) -> Letter:
    """The letter for its page (404/403 through the access service), its PDF verified. Showing the
    page is audited (``lucie.letter_page``) but records no consultation: the content is opened by an explicit
    action (:func:`open_letter`)."""
    letter = _authorized_letter(user, letter_id)
    _verified_pdf(user, letter)
    audit.record(
        "lucie.letter_page", RELATED_TYPE, letter.id, establishment_id=letter.establishment_id, actor=user
    )
    db.session.commit()
    return letter


def open_letter(user: User, letter_id: int, *, explicit: bool = True) -> tuple[Letter, bytes]:
    """The letter and its PDF, verified against its SHA-256, for ``user`` (404/403 through the access
    service). The first opening by a person of the company (:func:`makes_first_consultation`) is
    recorded once — who and when — even when two people open it at the same moment; a tiers
    déclarant's or an agent's opening is audited but is not a consultation. Every opening is audited.

    ``explicit=False`` (a request that may come from another site): when the opening would be the first
    consultation, nothing is recorded and :class:`OpeningNotConfirmed` is raised.
    Raises :class:`LetterUnavailable` when the stored file is missing or altered: nothing is recorded
    as consulted then."""
    letter = _authorized_letter(user, letter_id)
    if not explicit and awaits_opening(user, letter):
        raise OpeningNotConfirmed(letter.id)
    data = _verified_pdf(user, letter)
    first = False
    counts = makes_first_consultation(user, letter)
    if counts:
        result = db.session.execute(
            update(Letter)
            .where(Letter.id == letter.id, Letter.first_consulted_at.is_(None))
            .values(first_consulted_at=utcnow(), first_consulted_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        first = result.rowcount == 1
    audit.record(
        "read",
        RELATED_TYPE,
        letter.id,
        establishment_id=letter.establishment_id,
        actor=user,
        first_consultation=True if first else None,
        # A tiers déclarant's or an agent's read: audited, but not a consultation (SPEC §4).
        not_a_consultation=user.kind if not counts else None,
    )
    db.session.commit()
    if first:
        db.session.refresh(letter)  # the UPDATE above bypassed the identity map
    return letter, data


def set_archived(user: User, letter_id: int, archived: bool) -> Letter:
    """Archive or bring back a letter in its establishment's mailbox. Nothing is ever deleted."""
    letter = _authorized_letter(user, letter_id)
    if user.is_agent:
        abort(403)
    if archived and letter.archived_at is None:
        letter.archived_at = utcnow()
        letter.archived_by_id = user.id
    elif not archived and letter.archived_at is not None:
        letter.archived_at = None
        letter.archived_by_id = None
    else:
        return letter
    audit.record(
        "archive" if archived else "unarchive",
        RELATED_TYPE,
        letter.id,
        establishment_id=letter.establishment_id,
        actor=user,
    )
    db.session.commit()
    return letter
