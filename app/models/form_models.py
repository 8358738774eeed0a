"""Versions of the form models (docs/workflows.md): one row per (code, version), loaded from the YAML
files of app/workflows/models by `flask forms load`. A published version is frozen: its content never
changes (only its status may move on to "retired"); drafts pin the version they were started on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# Columns that make a version what it is: never changed once published.
CONTENT_COLUMNS = ("code", "version", "title", "service", "definition", "sha256")
FROZEN_STATUSES = ("published", "retired")


class PublishedVersionImmutable(Exception):
    """A change to a published (or retired) form model version: refused, nothing is written."""

    def __init__(self, code: str, version: int, what: str = "son contenu"):
        super().__init__(
            f"Le modèle {code} version {version} est publié : {what} ne peut plus changer. "
            "Publiez une nouvelle version."
        )
        self.code, self.version = code, version


class FormModelVersion(db.Model):
    __tablename__ = "form_model_version"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_form_model_version_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))  # draft | published | retired
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The model as read from its YAML file (the JSON Schema's shape).
    definition: Mapped[dict] = mapped_column(JSON)
    # SHA-256 of the content (everything but status and published_at): what "changed" means.
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(FormModelVersion, "before_update")
def _published_is_immutable(mapper, connection, target: FormModelVersion) -> None:
    """The last guard, under every service: the UPDATE of a frozen version's content never runs."""
    state = inspect(target)
    status = state.attrs.status.history
    was = (status.deleted or status.unchanged or [target.status])[0]
    if was not in FROZEN_STATUSES:
        return
    for column in CONTENT_COLUMNS:
        if state.attrs[column].history.has_changes():
            raise PublishedVersionImmutable(target.code, target.version)
    if status.has_changes() and (was, target.status) != ("published", "retired"):
        raise PublishedVersionImmutable(target.code, target.version, "son statut")
