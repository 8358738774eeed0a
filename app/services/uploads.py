"""The shared upload service: size limit, type sniffed from the content (never the name),
content-addressed storage under STORAGE_DIR, SHA-256 checked on every read; a PDF's active content
found at upload time; a file read under the rules of what holds it; erased with its draft, its bytes
with the last row that holds them."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import puremagic
import pypdf
from flask import current_app
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import CaseDocument, CaseLetter, Draft, Letter, SubsidyLine, Upload

log = logging.getLogger(__name__)

# Media types a user may upload anywhere in the product, with the label shown in messages.
ACCEPTED_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
}
CHUNK = 1 << 16


class UploadRejected(ValueError):
    """A file refused for a reason the user can fix; ``message`` is the French text to show."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# What a full disk or an exhausted quota raises on a write (NFS and object-storage mounts included).
FULL_STORE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
STORAGE_FULL_MESSAGE = (
    "Le stockage des fichiers est momentanément plein : votre fichier n'a pas pu être enregistré. "
    "Réessayez dans quelques minutes ; l'équipe technique est prévenue."
)


class StorageFull(UploadRejected):
    """The file store refused the bytes (no space left, quota exhausted, or below the reserve
    ``STORAGE_RESERVE_BYTES``): nothing is kept, and the person is told to try again later."""

    def __init__(self, error: OSError):
        super().__init__("storage_full", STORAGE_FULL_MESSAGE)
        self.error = error


class StoredFileCorrupted(RuntimeError):
    """The bytes on disk no longer match the SHA-256 recorded at upload time."""


def max_bytes() -> int:
    return current_app.config["MAX_UPLOAD_BYTES_PER_FILE"]


def sniff(head: bytes) -> str | None:
    """The media type read from the file's first bytes, or None when unknown."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        return puremagic.from_string(head, mime=True) or None
    except puremagic.PureError:
        return None


def blob_path(sha256: str) -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "blobs" / sha256[:2] / sha256[2:4] / sha256


def _check_reserve(storage: Path, reserve: int, size: int) -> None:
    """Refuse a write that would leave less than ``reserve`` bytes free on the store's file system,
    as the file system itself refuses one that does not fit: with ``ENOSPC``. The reserve keeps room
    for what must not fail (the database's files when they share the disk, the logs)."""
    if reserve and shutil.disk_usage(storage).free - size < reserve:
        raise OSError(errno.ENOSPC, "file store below its reserve (STORAGE_RESERVE_BYTES)", str(storage))


def store_blob(stream: BinaryIO, *, accepted: dict[str, str] | None = None, limit: int | None = None):
    """Copy ``stream`` into content-addressed storage. Returns (sha256, size, media_type).

    Raises UploadRejected for an empty, oversized or unaccepted file, :class:`StorageFull` (one of
    them) when the store has no room; nothing is kept then."""
    accepted = accepted or ACCEPTED_TYPES
    limit = limit or max_bytes()
    reserve = current_app.config.get("STORAGE_RESERVE_BYTES", 0)
    storage = Path(current_app.config["STORAGE_DIR"]) / "blobs"
    try:
        storage.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=storage, prefix=".upload-")
    except OSError as error:
        if error.errno in FULL_STORE_ERRNOS:
            raise StorageFull(error) from error
        raise
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with os.fdopen(fd, "wb") as tmp:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(
                        "too_large", f"Le fichier dépasse la taille maximale de {limit // (1024 * 1024)} Mo."
                    )
                if len(head) < 2048:
                    head += chunk[: 2048 - len(head)]
                digest.update(chunk)
                _check_reserve(storage, reserve, len(chunk))
                tmp.write(chunk)
        if size == 0:
            raise UploadRejected("empty", "Le fichier est vide.")
        media_type = sniff(head)
        if media_type not in accepted:
            names = ", ".join(sorted(set(accepted.values())))
            raise UploadRejected("unsupported_type", f"Le fichier doit être au format {names}.")
        sha = digest.hexdigest()
        target = blob_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Put in place even when the same bytes are there: a blob being erased (its last row gone) at
        # this moment is then put back rather than lost (see _remove_if_unheld).
        os.replace(tmp_name, target)
        return sha, size, media_type
    except OSError as error:
        _remove(tmp_name)
        if error.errno in FULL_STORE_ERRNOS:
            log.error("file store full: %s", error)
            raise StorageFull(error) from error
        raise
    except BaseException:
        _remove(tmp_name)
        raise


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def save_upload(
    stream: BinaryIO,
    filename: str,
    *,
    establishment_id: int | None,
    user_id: int | None,
    service: str | None,
    accepted: dict[str, str] | None = None,
    draft_id: int | None = None,
    declaration_id: int | None = None,
    limit: int | None = None,
) -> Upload:
    """Store an uploaded file and add its Upload row to the current transaction (caller commits).

    What holds it decides who reads it (:func:`app.services.access.authorize_upload`): ``draft_id``
    (erased with the draft) or ``declaration_id``. A PDF is checked for active content here, once;
    one that has some is recorded as such, in the row and in the audit trail."""
    from app.services import audit

    sha, size, media_type = store_blob(stream, accepted=accepted, limit=limit)
    markers = active_content(blob_path(sha)) if media_type == "application/pdf" else ()
    upload = Upload(
        sha256=sha,
        size=size,
        media_type=media_type,
        filename=_clean_name(filename),
        establishment_id=establishment_id,
        service=service,
        uploaded_by_id=user_id,
        draft_id=draft_id,
        declaration_id=declaration_id,
        active_content=bool(markers) if media_type == "application/pdf" else None,
    )
    db.session.add(upload)
    if markers:
        db.session.flush()
        audit.record(
            "upload.active_content",
            "upload",
            upload.id,
            establishment_id=establishment_id,
            filename=upload.filename,
            found=list(markers),
        )
    return upload


# -- active content in PDFs ------------------------------------------------------------------------

# Keys whose presence makes a PDF do something beyond showing pages: scripts (/JS, /JavaScript),
# actions run on events (/AA; an /OpenAction is judged by its action's /S: opening at a page is
# fine), programs (/Launch), files inside (/EmbeddedFile(s), /EF), Flash or video players
# (/RichMedia), XML forms with their own scripts (/XFA).
ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/EF", "/RichMedia", "/XFA"}
)
# Action types (/S) that run code, start a program or send data; /GoTo and /URI only move or link.
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute"})
ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/RichMedia", "/FileAttachment"})
MAX_PDF_OBJECTS = 200_000
UNREADABLE = "illisible"


def active_content(path: Path) -> tuple[str, ...]:
    """The active-content markers found in the PDF at ``path`` (empty: a plain document).

    A real parse (pypdf), not a byte scan: names written with escapes (``/J#61vaScript``) and objects
    inside compressed object streams are read as a viewer reads them. Every object reachable from the
    trailer is visited once. A PDF that cannot be read (or decrypted with an empty password, or too
    large a graph) cannot be vouched for: it counts as active (``"illisible"``)."""
    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return (UNREADABLE,)
        return _walk(reader.trailer)
    except Exception as error:  # noqa: BLE001 — any parser failure means "not known to be plain"
        log.info("PDF %s not readable for the active-content check: %s", path.name, error)
        return (UNREADABLE,)


def _walk(root) -> tuple[str, ...]:
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return (UNREADABLE,)
        if isinstance(node, DictionaryObject):
            for name, value in node.items():
                if name in ACTIVE_KEYS:
                    found.add(name)
                elif (name == "/S" and value in ACTIVE_ACTIONS) or (
                    name in ("/Type", "/Subtype") and value in ACTIVE_TYPES
                ):
                    found.add(str(value))
                stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return tuple(sorted(found))


def read_blob(sha256: str) -> bytes:
    """The stored bytes, after checking they still hash to ``sha256``."""
    data = blob_path(sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StoredFileCorrupted(sha256)
    return data


def _clean_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"/\\|?*')
    return (name or "fichier")[:200]


def get_upload(upload_id: int, user) -> tuple[Upload, bytes]:
    """An upload and its verified bytes, for ``user``, under the rules of what holds it (404/403
    through the access service). The read is audited, saying when it was offered as a download
    because of its active content."""
    from app.services import access, audit

    upload = db.session.get(Upload, upload_id)
    access.authorize_upload(user, upload)
    data = read_blob(upload.sha256)
    audit.record(
        "read",
        "upload",
        upload.id,
        establishment_id=upload.establishment_id,
        active_content=True if upload.active_content else None,
    )
    db.session.commit()
    return upload, data


# -- erasure -----------------------------------------------------------------------------------------

_PENDING = "uploads.blobs_to_check"


def erase_draft_files(draft: Draft) -> int:
    """Delete the files ``draft`` holds (not those a sent declaration holds), in the caller's
    transaction; returns how many. Their bytes are removed once the transaction commits, unless
    another row (an upload, a LUCIE letter) holds the same content."""
    files = db.session.scalars(
        select(Upload).where(Upload.draft_id == draft.id, Upload.declaration_id.is_(None))
    ).all()
    for upload in files:
        db.session.info.setdefault(_PENDING, set()).add(upload.sha256)
        db.session.delete(upload)
    db.session.flush()
    return len(files)


def erase_draft_file(upload: Upload) -> None:
    """Delete one file a draft holds (removed from an answer before sending), in the caller's
    transaction; its bytes go once it commits, unless another row holds the same content. A file
    a sent declaration holds is kept."""
    if upload.draft_id is None or upload.declaration_id is not None:
        return
    db.session.info.setdefault(_PENDING, set()).add(upload.sha256)
    db.session.delete(upload)
    db.session.flush()


def drop_blob_if_unheld(sha256: str) -> None:
    """After a rolled-back upload: remove the bytes it put in place, unless a row holds them."""
    with db.session.get_bind().connect() as connection:
        try:
            _remove_if_unheld(connection, sha256)
        except OSError as error:
            log.warning("blob %s not removed: %s", sha256, error)


def draft_bytes(draft_id: int) -> int:
    """The size of every file ``draft_id`` holds (its per-draft limit)."""
    from sqlalchemy import func

    total = db.session.scalar(select(func.sum(Upload.size)).where(Upload.draft_id == draft_id))
    return int(total or 0)


@event.listens_for(Session, "after_commit")
def _remove_unheld_blobs(session: Session) -> None:
    shas = session.info.pop(_PENDING, None)
    if not shas:
        return
    # The session cannot run SQL any more in this event: a connection of its own asks.
    with session.get_bind().connect() as connection:
        for sha in shas:
            try:
                _remove_if_unheld(connection, sha)
            except OSError as error:  # the rows are gone; bytes left behind are only unreachable
                log.warning("blob %s not removed: %s", sha, error)


@event.listens_for(Session, "after_rollback")
def _forget_pending_blobs(session: Session) -> None:
    session.info.pop(_PENDING, None)


def release_blob(sha256: str) -> None:
    """A row of another service that held these bytes (a subsidy line's PDF) is being deleted in the
    current transaction: remove them after its commit, unless a row still holds them."""
    db.session.info.setdefault(_PENDING, set()).add(sha256)


def _held(connection, sha: str) -> bool:
    holders = [
        select(model.id).where(model.sha256 == sha)
        # QR Pro keeps a victim's letters and a case's documents as blobs too.
        for model in (Upload, Letter, CaseLetter, CaseDocument)
    ]
    holders.append(select(SubsidyLine.id).where(SubsidyLine.file_sha256 == sha))  # a subsidy's PDF
    return any(connection.execute(query.limit(1)).first() for query in holders)


def _remove_if_unheld(connection, sha: str) -> None:
    """Remove the blob when no row holds it. It is moved aside before a second look, so an upload
    of the same bytes committed meanwhile keeps them (put back) instead of losing them."""
    target = blob_path(sha)
    if _held(connection, sha) or not target.exists():
        return
    aside = target.with_name(f".erasing-{sha}-{secrets.token_hex(4)}")
    os.replace(target, aside)
    connection.rollback()  # a fresh snapshot for the second look (PostgreSQL: read committed)
    if _held(connection, sha) and not target.exists():
        os.replace(aside, target)
    else:
        os.unlink(aside)
