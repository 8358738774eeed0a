"""LUCIE use cases (SPEC §4): THE one way to deposit a letter, its legal dates, the mailbox, the
subscription and its alert addresses.

:func:`deposit_letter` is the only place letters are created — the CPAM agent's screen, the caisses'
HTTP API and the other services of the application all call it. A deposit is one transaction: the
letter, its audit event and one outbox row per alert address commit together or not at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

from flask import abort, current_app
from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import joinedload

from app.domain.lucie import (
    APPEAL_BASIS,
    LETTER_TYPE_CODES,
    DeemedNotice,
    LetterType,
    NotificationRule,
    appeal_deadline,
    counts_as_first_consultation,
    deemed_notice,
    notification_rule,
)
from app.extensions import db
from app.models import (
    Caisse,
    Establishment,
    Letter,
    LucieAlertAddress,
    LucieSubscription,
    OutboxMessage,
    OutboxStatus,
    Service,
    User,
    UserKind,
)
from app.models.types import UTCDateTime, utcnow
from app.services import access, audit, outbox
from app.services.uploads import StoredFileCorrupted, UploadRejected, read_blob, store_blob
from app.web import PARIS, paris

log = logging.getLogger(__name__)

ALERT_KIND = "lucie_alert"
RELATED_TYPE = "letter"
MAX_TITLE = 200
MAX_REFERENCE = 40
MAX_IDEMPOTENCY_KEY = 200
PAGE_SIZE = 25
UNREAD_CAP = 99
PDF_ONLY = {"application/pdf": "PDF"}
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]*$")
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]+$")


UNKNOWN_ESTABLISHMENT = (
    "Aucun établissement de la circonscription de votre caisse ne correspond à ce SIRET. Vérifiez le "
    "SIRET et que l'établissement relève bien de votre caisse."
)


class DepositRefused(Exception):
    """A deposit that cannot be made. ``code`` is the API error code, ``status`` the HTTP status,
    ``errors`` maps a field name (the API's: siret, type, reference_dossier, titre, fichier) to a
    French message."""

    def __init__(self, code: str, message: str, *, status: int, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.errors = errors or {}


class LetterUnavailable(RuntimeError):
    """The stored PDF is missing or no longer hashes to the SHA-256 recorded at deposit."""


class OpeningNotConfirmed(Exception):
    """The first opening of a letter by a person of the company is legally binding: it must be an
    explicit action from this site's own pages (the « Ouvrir le courrier » button, a link of the letter
    page), never a request a link from another site could make. Nothing was recorded."""

    def __init__(self, letter_id: int):
        super().__init__(letter_id)
        self.letter_id = letter_id


@dataclass(frozen=True)
class Deposit:
    letter: Letter
    created: bool  # False: an Idempotency-Key replay returned the letter deposited before
    alerts: int  # alert e-mails queued by this call


# --------------------------------------------------------------------------------------------
# Deposit
# --------------------------------------------------------------------------------------------


def validate_fields(
    letter_type: str | None, title: str | None, case_reference: str | None, document: object
) -> dict[str, str]:
    """Field errors of a deposit, by the API's field names (empty when everything is valid)."""
    errors: dict[str, str] = {}
    if not letter_type:
        errors["type"] = "Indiquez le type de courrier."
    elif letter_type not in LETTER_TYPE_CODES:
        codes = ", ".join(t.value for t in LetterType)
        errors["type"] = f"Le type de courrier est inconnu. Types possibles : {codes}."
    if not title or not title.strip():
        errors["titre"] = "Indiquez le titre du courrier."
    elif len(title.strip()) > MAX_TITLE:
        errors["titre"] = f"Le titre doit faire au plus {MAX_TITLE} caractères."
    if case_reference:
        if len(case_reference) > MAX_REFERENCE:
            errors["reference_dossier"] = (
                f"La référence du dossier doit faire au plus {MAX_REFERENCE} caractères."
            )
        elif not REFERENCE_RE.match(case_reference):
            errors["reference_dossier"] = (
                "La référence du dossier ne peut contenir que des lettres, des chiffres, des espaces "
                "et les signes . / _ -"
            )
    if document is None:
        errors["fichier"] = "Joignez le courrier au format PDF."
    return errors


def validate_idempotency_key(key: str | None) -> str | None:
    """The error message for a malformed Idempotency-Key, else None."""
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not IDEMPOTENCY_KEY_RE.match(key):
        return (
            f"L'en-tête Idempotency-Key doit contenir de 1 à {MAX_IDEMPOTENCY_KEY} caractères ASCII "
            "visibles, sans espace."
        )
    return None


def is_subscribed(establishment: Establishment) -> bool:
    return bool(
        db.session.scalar(
            select(LucieSubscription.active).where(LucieSubscription.establishment_id == establishment.id)
        )
    )


def establishment_by_siret(siret: str | None) -> Establishment | None:
    if not siret:
        return None
    return db.session.scalar(select(Establishment).where(Establishment.siret == siret))


def _fingerprint(
    establishment: Establishment, letter_type: str, title: str, reference: str | None, sha: str
) -> str:
    canonical = json.dumps(
        {
            "siret": establishment.siret,
            "type": letter_type,
            "titre": title,
            "reference_dossier": reference,
            "sha256": sha,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clean_filename(filename: str | None) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"/\\|?*')
    if not name.lower().endswith(".pdf"):
        name = (name or "courrier") + ".pdf"
    return name[-MAX_TITLE:]


def _replay(caisse_id: int, key: str, fingerprint: str) -> Letter | None:
    existing = db.session.scalar(
        select(Letter).where(Letter.caisse_id == caisse_id, Letter.idempotency_key == key)
    )
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise DepositRefused(
            "idempotency_key_reused",
            "Cette clé d'idempotence a déjà servi pour un autre courrier : utilisez une nouvelle clé "
            "pour un nouveau courrier.",
            status=422,
        )
    return existing


def deposit_letter(
    *,
    establishment: Establishment | None,
    letter_type: str | LetterType | None,
    title: str | None,
    document: bytes | BinaryIO | None,
    source: str,
    filename: str | None = None,
    case_reference: str | None = None,
    caisse: Caisse | None = None,
    deposited_by: User | None = None,
    idempotency_key: str | None = None,
    commit: bool = True,
) -> Deposit:
    """Deposit a PDF letter in ``establishment``'s LUCIE mailbox and queue its e-mail alerts.

    THE one way to create a letter (SPEC §4). Checks, in this order: the fields (422), the
    establishment exists and is subscribed (404), the file's size (413) and its type read from the
    content (415). With ``idempotency_key`` (per ``caisse``), a repeated call returns the letter of
    the first one (``created=False``, no second alert); the same key with another content is
    refused (422). Raises :class:`DepositRefused`.

    ``commit=False`` lets another service deposit inside its own transaction (its commit sends the
    alerts, its rollback cancels the letter); the caller then handles idempotency conflicts itself.
    """
    letter_type = str(letter_type) if letter_type else None
    title = (title or "").strip()
    case_reference = (case_reference or "").strip() or None
    errors = validate_fields(letter_type, title, case_reference, document)
    key_error = validate_idempotency_key(idempotency_key)
    if key_error:
        errors["idempotency_key"] = key_error
    if errors:
        raise DepositRefused("invalid_fields", " ".join(errors.values()), status=422, errors=errors)
    if establishment is None:
        # Also what a caisse's system gets for an establishment outside its area (app/views/api.py):
        # the API does not tell whether a SIRET it may not act on has an account here (docs/api.md).
        raise DepositRefused(
            "unknown_establishment",
            UNKNOWN_ESTABLISHMENT,
            status=404,
            errors={"siret": UNKNOWN_ESTABLISHMENT},
        )
    if not is_subscribed(establishment):
        raise DepositRefused(
            "not_subscribed",
            "Cet établissement n'est pas abonné à LUCIE : le courrier ne peut pas y être déposé.",
            status=404,
            errors={
                "siret": "Cet établissement n'est pas abonné à LUCIE : le courrier ne peut pas y être déposé."
            },
        )

    stream = io.BytesIO(document) if isinstance(document, bytes | bytearray) else document
    try:
        sha, size, _media_type = store_blob(stream, accepted=PDF_ONLY)
    except UploadRejected as error:
        status = {"too_large": 413, "unsupported_type": 415}.get(error.code, 422)
        code = {"too_large": "file_too_large", "unsupported_type": "unsupported_media_type"}.get(
            error.code, "invalid_fields"
        )
        message = (
            error.message
            if error.code != "unsupported_type"
            else ("Le fichier n'est pas un PDF : son contenu ne correspond pas au format PDF.")
        )
        raise DepositRefused(code, message, status=status, errors={"fichier": message}) from error

    fingerprint = _fingerprint(establishment, letter_type, title, case_reference, sha)
    caisse_id = caisse.id if caisse is not None else None
    if idempotency_key and caisse_id is not None:
        existing = _replay(caisse_id, idempotency_key, fingerprint)
        if existing is not None:
            return Deposit(existing, created=False, alerts=0)

    letter = Letter(
        establishment_id=establishment.id,
        letter_type=letter_type,
        case_reference=case_reference,
        title=title,
        filename=_clean_filename(filename),
        sha256=sha,
        size=size,
        deposited_at=utcnow(),
        source=source,
        caisse_id=caisse_id,
        deposited_by_id=deposited_by.id if deposited_by is not None else None,
        idempotency_key=idempotency_key if caisse_id is not None else None,
        request_fingerprint=fingerprint,
    )
    db.session.add(letter)
    try:
        db.session.flush()
    except IntegrityError:
        # The same key raced in from another request and won: answer with its letter.
        if not commit or not idempotency_key:
            raise
        db.session.rollback()
        existing = _replay(caisse_id, idempotency_key, fingerprint)
        if existing is None:
            raise
        return Deposit(existing, created=False, alerts=0)

    recipients = alert_recipients(establishment)
    subject, body = alert_message(letter, establishment)
    for email, user_id in recipients:
        outbox.enqueue(
            email, subject, body, kind=ALERT_KIND, related=(RELATED_TYPE, letter.id), user_id=user_id
        )
    audit.record(
        "deposit",
        RELATED_TYPE,
        letter.id,
        establishment_id=establishment.id,
        actor=deposited_by,
        source=source,
        caisse=caisse.name if caisse is not None else None,
        alerts=len(recipients),
    )
    if commit:
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            existing = (
                _replay(caisse_id, idempotency_key, fingerprint) if idempotency_key and caisse_id else None
            )
            if existing is None:
                raise
            return Deposit(existing, created=False, alerts=0)
    return Deposit(letter, created=True, alerts=len(recipients))


def alert_recipients(establishment: Establishment) -> list[tuple[str, int | None]]:
    """Every address alerted on a deposit, de-duplicated (case-insensitively): the users habilitated
    for LUCIE on the establishment (directly or on the head office), then the subscription's extra
    addresses. Each comes with its user id when it is a user's."""
    seen: dict[str, int | None] = {}
    for user in access.users_habilitated(Service.LUCIE, establishment):
        seen.setdefault(user.email.strip().lower(), user.id)
    for email in db.session.scalars(
        select(LucieAlertAddress.email)
        .where(LucieAlertAddress.establishment_id == establishment.id)
        .order_by(LucieAlertAddress.id)
    ):
        seen.setdefault(email.strip().lower(), None)
    return list(seen.items())


def letter_path(letter_id: int) -> str:
    """The letter page's path, built outside any request (alerts are written by API calls and CLIs)."""
    return current_app.url_map.bind("").build("lucie.letter", {"letter_id": letter_id})


def alert_message(letter: Letter, establishment: Establishment) -> tuple[str, str]:
    """Subject and text of the alert. They name the establishment and the letter type only: never
    the title, the case reference, a victim's name or any medical detail (SPEC §1, §4)."""
    label = LetterType(letter.letter_type).label
    subject = f"Nouveau courrier LUCIE : {label} – {establishment.name}"
    link = current_app.config["BASE_URL"] + letter_path(letter.id)
    rule = current_rule()
    deposited = letter.deposited_at
    deemed = deemed_notice(deposited, None, establishment.departement, deposited, rule.reading)
    body = "\n".join(
        [
            "Bonjour,",
            "",
            f"Un nouveau courrier a été déposé dans la boîte aux lettres LUCIE de l'établissement "
            f"{establishment.name} (SIRET {establishment.siret}).",
            "",
            f"Type de courrier : {label}",
            f"Mis à disposition le : {paris(letter.deposited_at)}",
            "",
            "Pour le lire, connectez-vous à votre espace Services AT/MP :",
            link,
            "",
            _deemed_sentence(rule, deemed),
            "",
            "Ce message est envoyé automatiquement : merci de ne pas y répondre.",
        ]
    )
    return subject, body


def _deemed_sentence(rule: NotificationRule, deemed: DeemedNotice) -> str:
    day = deemed.day.strftime("%d/%m/%Y")
    if rule.days:
        text = (
            "Ce courrier a la valeur d'une lettre recommandée. S'il n'est pas ouvert avant, il sera réputé "
            f"vous avoir été notifié le {day}"
        )
    else:
        text = (
            "Ce courrier a la valeur d'une lettre recommandée : il est réputé vous avoir été notifié "
            f"le {day}"
        )
    return f"{text} ({rule.reference})."


# --------------------------------------------------------------------------------------------
# Legal dates of a letter
# --------------------------------------------------------------------------------------------


def current_rule() -> NotificationRule:
    """The legal reading of the *date de notification réputée* this platform applies (setting
    ``LUCIE_NOTIFICATION_READING``, default the statute; see :mod:`app.domain.lucie`)."""
    return notification_rule(current_app.config.get("LUCIE_NOTIFICATION_READING"))


@dataclass(frozen=True)
class LetterDates:
    deposited_at: datetime  # date de mise à disposition
    alert_sent_at: datetime | None
    first_consulted_at: datetime | None
    first_consulted_by: str | None
    deemed_notified_at: datetime | None  # once known
    deemed_notified_at_latest: datetime  # if nobody opens it before
    appeal_deadline: date | None  # decisions only, once notified
    notice: DeemedNotice  # the local day of the notification, known or not, and its legal basis
    rule: NotificationRule  # the reading applied
    appeal_basis: str = APPEAL_BASIS


def alert_sent_at(letter_id: int) -> datetime | None:
    """When the first alert of the letter was accepted by the SMTP server (from the outbox)."""
    return db.session.scalar(
        select(func.min(OutboxMessage.sent_at)).where(
            OutboxMessage.related_type == RELATED_TYPE,
            OutboxMessage.related_id == letter_id,
            OutboxMessage.status == OutboxStatus.SENT,
        )
    )


@dataclass(frozen=True)
class AlertStatus:
    queued: int
    sent: int
    failed: int


def alert_status(letter_id: int) -> AlertStatus:
    """How the letter's alert e-mails stand in the outbox."""
    rows = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.related_type == RELATED_TYPE, OutboxMessage.related_id == letter_id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    return AlertStatus(
        queued=sum(rows.values()),
        sent=rows.get(OutboxStatus.SENT, 0),
        failed=rows.get(OutboxStatus.FAILED, 0),
    )


def letter_dates(letter: Letter, now: datetime | None = None) -> LetterDates:
    """The legal dates of a letter, counted in its establishment's local calendar (SPEC §4)."""
    now = now or utcnow()
    rule = current_rule()
    departement = letter.establishment.departement
    notice = deemed_notice(letter.deposited_at, letter.first_consulted_at, departement, now, rule.reading)
    deadline = None
    if notice.known and letter.type.is_decision:
        deadline = appeal_deadline(notice.at, departement)
    return LetterDates(
        deposited_at=letter.deposited_at,
        alert_sent_at=alert_sent_at(letter.id),
        first_consulted_at=letter.first_consulted_at,
        first_consulted_by=letter.first_consulted_by.full_name if letter.first_consulted_by else None,
        deemed_notified_at=notice.at if notice.known else None,
        deemed_notified_at_latest=notice.at,
        appeal_deadline=deadline,
        notice=notice,
        rule=rule,
    )


# --------------------------------------------------------------------------------------------
# Reading a letter (employers, tiers déclarants; agents of the caisse's territory)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Mailbox
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Subscription (company administrator)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionRow:
    establishment: Establishment
    active: bool
    addresses: int


def subscriptions_for(admin: User) -> list[SubscriptionRow]:
    """Every establishment of the administrator's company with its LUCIE subscription state."""
    access.authorize_company_admin(admin, admin.company_id)
    establishments = list(
        db.session.scalars(
            select(Establishment)
            .where(Establishment.company_id == admin.company_id)
            .order_by(Establishment.is_head_office.desc(), Establishment.siret)
        )
    )
    ids = [e.id for e in establishments]
    active = dict(
        db.session.execute(
            select(LucieSubscription.establishment_id, LucieSubscription.active).where(
                LucieSubscription.establishment_id.in_(ids)
            )
        ).all()
    )
    counts = dict(
        db.session.execute(
            select(LucieAlertAddress.establishment_id, func.count())
            .where(LucieAlertAddress.establishment_id.in_(ids))
            .group_by(LucieAlertAddress.establishment_id)
        ).all()
    )
    return [SubscriptionRow(e, bool(active.get(e.id)), counts.get(e.id, 0)) for e in establishments]


def establishment_for_admin(admin: User, siret: str) -> Establishment:
    """An establishment of the administrator's company (404 otherwise, 403 for a non-administrator)."""
    establishment = establishment_by_siret(siret)
    if establishment is None:
        abort(404)
    access.authorize_company_admin(admin, establishment.company_id)
    return establishment


def set_subscription(admin: User, establishment: Establishment, active: bool) -> None:
    """Activate or stop LUCIE on an establishment. Stopping refuses new deposits; the letters
    already deposited stay readable."""
    access.authorize_company_admin(admin, establishment.company_id)
    subscription = db.session.scalar(
        select(LucieSubscription).where(LucieSubscription.establishment_id == establishment.id)
    )
    now = utcnow()
    if subscription is None:
        if not active:
            return
        subscription = LucieSubscription(establishment_id=establishment.id, active=True, activated_at=now)
        db.session.add(subscription)
    elif subscription.active == active:
        return
    else:
        subscription.active = active
        if active:
            subscription.activated_at = now
    subscription.changed_at = now
    subscription.changed_by_id = admin.id
    audit.record(
        "lucie_subscribed" if active else "lucie_unsubscribed",
        "establishment",
        establishment.id,
        establishment_id=establishment.id,
        actor=admin,
    )
    db.session.commit()


def subscribe(establishment: Establishment, by: User | None = None) -> None:
    """Activate LUCIE on an establishment outside the administration screen (demo data, tests)."""
    subscription = db.session.scalar(
        select(LucieSubscription).where(LucieSubscription.establishment_id == establishment.id)
    )
    if subscription is None:
        db.session.add(
            LucieSubscription(
                establishment_id=establishment.id, active=True, changed_by_id=by.id if by else None
            )
        )
    else:
        subscription.active = True
    db.session.flush()


def alert_addresses(establishment: Establishment) -> list[LucieAlertAddress]:
    return list(
        db.session.scalars(
            select(LucieAlertAddress)
            .where(LucieAlertAddress.establishment_id == establishment.id)
            .order_by(LucieAlertAddress.email)
        )
    )


class AlertAddressError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def add_alert_address(admin: User, establishment: Establishment, email: str) -> LucieAlertAddress:
    access.authorize_company_admin(admin, establishment.company_id)
    email = email.strip().lower()
    exists = db.session.scalar(
        select(LucieAlertAddress.id).where(
            LucieAlertAddress.establishment_id == establishment.id, LucieAlertAddress.email == email
        )
    )
    if exists:
        raise AlertAddressError("Cette adresse reçoit déjà les alertes de cet établissement.")
    address = LucieAlertAddress(establishment_id=establishment.id, email=email, added_by_id=admin.id)
    db.session.add(address)
    db.session.flush()
    audit.record(
        "lucie_alert_address_added",
        "establishment",
        establishment.id,
        establishment_id=establishment.id,
        actor=admin,
        email=email,
    )
    db.session.commit()
    return address


def remove_alert_address(admin: User, establishment: Establishment, address_id: int) -> None:
    access.authorize_company_admin(admin, establishment.company_id)
    address = db.session.get(LucieAlertAddress, address_id)
    if address is None or address.establishment_id != establishment.id:
        abort(404)
    audit.record(
        "lucie_alert_address_removed",
        "establishment",
        establishment.id,
        establishment_id=establishment.id,
        actor=admin,
        email=address.email,
    )
    db.session.delete(address)
    db.session.commit()


# --------------------------------------------------------------------------------------------
# Caisse side: its agents' list of deposits, its API
# --------------------------------------------------------------------------------------------


OUTSIDE_AREA = (
    "Cet établissement ne relève pas de la circonscription de votre caisse ({departements}) : "
    "le courrier ne peut pas y être déposé. Vérifiez le SIRET, ou transmettez le courrier à la caisse "
    "de son département ({departement})."
)


def agent_deposit_target(agent: User, siret: str | None) -> Establishment | None:
    """The establishment an agent may deposit into (its caisse's territory). None for a SIRET no
    establishment has (:func:`deposit_letter` says so); an establishment outside the caisse's area is
    refused here with its own message: the agent, a caisse employee, may know that it exists and
    where, so that the letter goes to the right caisse."""
    establishment = establishment_by_siret(siret)
    if establishment is None:
        return None
    if not access.can(agent, Service.LUCIE, establishment):
        caisse = agent.caisse
        message = OUTSIDE_AREA.format(
            departements="départements " + ", ".join(caisse.departements.split()) if caisse else "aucun",
            departement=establishment.departement,
        )
        raise DepositRefused("outside_area", message, status=403, errors={"siret": message})
    return establishment


def caisse_deposits(agent: User, limit: int = 50) -> list[Letter]:
    """The latest letters deposited by the agent's caisse."""
    if not agent.is_agent or agent.caisse_id is None:
        abort(404)
    return list(
        db.session.scalars(
            select(Letter)
            .options(joinedload(Letter.establishment))
            .where(Letter.caisse_id == agent.caisse_id)
            .order_by(Letter.deposited_at.desc(), Letter.id.desc())
            .limit(limit)
        )
    )


def letter_for_caisse(caisse: Caisse, letter_id: int) -> Letter | None:
    """A letter the caisse deposited; another caisse's letter is None (the API answers 404)."""
    letter = db.session.get(Letter, letter_id, options=LETTER_PAGE)
    if letter is None or letter.caisse_id != caisse.id:
        return None
    return letter
