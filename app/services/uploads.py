"""The shared upload service: size limit, type sniffed from the content (never the name),
content-addressed storage under STORAGE_DIR, SHA-256 checked on every read."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import puremagic
from flask import current_app

from app.extensions import db
from app.models import Upload

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


def store_blob(stream: BinaryIO, *, accepted: dict[str, str] | None = None, limit: int | None = None):
    """Copy ``stream`` into content-addressed storage. Returns (sha256, size, media_type).

    Raises UploadRejected for an empty, oversized or unaccepted file; nothing is kept then."""
    accepted = accepted or ACCEPTED_TYPES
    limit = limit or max_bytes()
    storage = Path(current_app.config["STORAGE_DIR"]) / "blobs"
    storage.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=storage, prefix=".upload-")
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
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
        return sha, size, media_type
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def save_upload(
    stream: BinaryIO,
    filename: str,
    *,
    establishment_id: int | None,
    user_id: int | None,
    service: str | None,
    accepted: dict[str, str] | None = None,
) -> Upload:
    """Store an uploaded file and add its Upload row to the current transaction (caller commits)."""
    sha, size, media_type = store_blob(stream, accepted=accepted)
    upload = Upload(
        sha256=sha,
        size=size,
        media_type=media_type,
        filename=_clean_name(filename),
        establishment_id=establishment_id,
        service=service,
        uploaded_by_id=user_id,
    )
    db.session.add(upload)
    return upload


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
    """An upload and its verified bytes, for ``user`` (404/403 through the access service).
    The read is audited."""
    from app.models import Establishment
    from app.services import access, audit

    upload = db.session.get(Upload, upload_id)
    establishment = db.session.get(Establishment, upload.establishment_id) if upload else None
    access.authorize(user, upload.service if upload else None, establishment)
    data = read_blob(upload.sha256)
    audit.record("read", "upload", upload.id, establishment_id=upload.establishment_id)
    db.session.commit()
    return upload, data
