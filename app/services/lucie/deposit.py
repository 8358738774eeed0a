"""Deposit: THE one way to deposit a letter (:func:`deposit_letter`), its checks, and the alert e-mails
it queues. A deposit is one transaction: the letter, its audit event and one outbox row per alert
address commit together or not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.lucie import (
    CONTROL_CHARACTER,
    LETTER_TYPE_CODES,
    DeemedNotice,
    LetterType,
    NotificationRule,
    deemed_notice,
)
from app.extensions import db
from app.models import Caisse, Establishment, Letter, LucieAlertAddress, LucieSubscription, Service, User
from app.models.types import utcnow
from app.services import access, audit, outbox
from app.services.uploads import UploadRejected, store_blob
from app.web import paris

from .common import ALERT_KIND, RELATED_TYPE
from .dates import current_rule

MAX_TITLE = 200
MAX_REFERENCE = 40
MAX_IDEMPOTENCY_KEY = 200


PDF_ONLY = {"application/pdf": "PDF"}
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]*$")
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]+$")


UNKNOWN_ESTABLISHMENT = (
    "Aucun établissement relevant de votre caisse ne correspond à ce SIRET. Vérifiez le SIRET et que "
    "l'établissement relève bien de votre caisse : un établissement de sa circonscription ou, pour une "
    "CPAM, l'employeur de la victime de l'une de ses déclarations."
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


@dataclass(frozen=True)
class Deposit:
    letter: Letter
    created: bool  # False: an Idempotency-Key replay returned the letter deposited before
    alerts: int  # alert e-mails queued by this call


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
    elif re.search(CONTROL_CHARACTER, title):
        # A title is printed on the mailbox, in the alert e-mail and the letter's page: a NUL or a
        # line break has nothing to do there (and PostgreSQL refuses a NUL in a text column).
        errors["titre"] = "Le titre ne peut pas contenir de caractère de contrôle ni de retour à la ligne."
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
    content (415), then stores it (507 when the file store is full). With ``idempotency_key`` (per
    ``caisse``), a repeated call returns the letter of the first one (``created=False``, no second
    alert); the same key with another content is refused (422). Raises :class:`DepositRefused`.

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
        # A full store is no fault of the sender's: 507, to try again later (nothing was kept).
        status = {"too_large": 413, "unsupported_type": 415, "storage_full": 507}.get(error.code, 422)
        code = {
            "too_large": "file_too_large",
            "unsupported_type": "unsupported_media_type",
            "storage_full": "storage_full",
        }.get(error.code, "invalid_fields")
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
