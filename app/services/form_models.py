"""Form model versions (docs/workflows.md): load the YAML files into frozen versions, find the version
a draft is pinned to, the version new drafts start on, and build their workflows.

Versioning rules, enforced here and, under every service, by the model's ``before_update`` guard
(:class:`~app.models.PublishedVersionImmutable`):

- (code, version) is unique; a new file version is inserted as it is;
- a version in "draft" may be changed freely (the next load replaces its content);
- a published version's content never changes: a file whose content differs from the published one
  makes the whole load fail, naming it — give it a new version number instead;
- a published version may only be retired; a retired one starts no new draft, but the drafts and
  submissions made on it keep rendering from it;
- new drafts start on the highest published version of their code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from flask import abort
from sqlalchemy import select

from app.extensions import db
from app.models import FormModelVersion, PublishedVersionImmutable, Service, User, UserKind
from app.models.types import utcnow
from app.services import access, audit
from app.workflows.engine import Workflow, all_workflows
from app.workflows.factory import build_workflow
from app.workflows.form_models import (
    MODELS_DIR,
    FormModelError,
    ModelDefinition,
    load_definition,
    read_directory,
)

__all__ = ["FormModelError", "LoadReport", "PublishedVersionImmutable"]

# Built workflows by (code, version, content hash): a frozen version is built once per process.
_WORKFLOWS: dict[tuple[str, int, str], Workflow] = {}


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(self.created)} créée(s)",
            f"{len(self.updated)} mise(s) à jour",
            f"{len(self.unchanged)} inchangée(s)",
        ]
        return "Versions de modèles : " + ", ".join(parts)


def _published_at(definition: ModelDefinition) -> datetime | None:
    if definition.status == "draft":
        return None
    if definition.published_at is None:
        return utcnow()
    text = definition.published_at
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _label(definition: ModelDefinition) -> str:
    return f"{definition.code} version {definition.version}"


def load_models(directory: Path = MODELS_DIR) -> LoadReport:
    """``flask forms load``: every model file of ``directory`` into the database, in one transaction.
    Idempotent (a second load changes nothing). Raises :class:`FormModelError` — nothing is written —
    when a file is refused or a published version's content changed without a new version number."""
    try:
        definitions = read_directory(directory)
        report = LoadReport()
        for definition in definitions:
            _load_one(definition, report)
        if report.created or report.updated:
            audit.record(
                "form_models.load",
                "form_model_version",
                None,
                created=report.created or None,
                updated=report.updated or None,
            )
        db.session.commit()
    except (FormModelError, PublishedVersionImmutable) as error:
        db.session.rollback()
        if isinstance(error, PublishedVersionImmutable):
            raise FormModelError(str(error)) from None
        raise
    return report


def _load_one(definition: ModelDefinition, report: LoadReport) -> None:
    row = version_row(definition.code, definition.version)
    label = _label(definition)
    python_workflows = all_workflows()
    if any(w.name == definition.code for w in python_workflows):
        raise FormModelError(f"{label} : le code « {definition.code} » est celui d'une démarche existante")
    if any(w.reference_prefix == definition.reference_prefix for w in python_workflows):
        prefix = definition.reference_prefix
        raise FormModelError(
            f"{label} : le préfixe de référence « {prefix} » est celui d'une démarche existante"
        )
    if row is None:
        db.session.add(
            FormModelVersion(
                code=definition.code,
                version=definition.version,
                title=definition.title,
                service=definition.service,
                status=definition.status,
                published_at=_published_at(definition),
                definition=definition.data,
                sha256=definition.content_sha256,
            )
        )
        db.session.flush()
        report.created.append(label)
        return
    if row.status != "draft" and row.sha256 != definition.content_sha256:
        raise FormModelError(
            f"{label} est publiée et son contenu a changé : donnez au fichier un nouveau numéro de version "
            f"(version: {definition.version + 1}, fichier {definition.code}-v{definition.version + 1}.yaml)"
        )
    if row.sha256 == definition.content_sha256 and row.status == definition.status:
        report.unchanged.append(label)
        return
    update_version(row, definition)
    report.updated.append(label)


def update_version(row: FormModelVersion, definition: ModelDefinition) -> None:
    """Change a version in the caller's transaction: any content while it is a draft; a published
    one only moves to "retired". Raises :class:`PublishedVersionImmutable` otherwise."""
    if row.status != "draft":
        if row.sha256 != definition.content_sha256 or row.title != definition.title:
            raise PublishedVersionImmutable(row.code, row.version)
        if (row.status, definition.status) not in (("published", "retired"), (row.status, row.status)):
            raise PublishedVersionImmutable(row.code, row.version, "son statut")
    if row.status == "draft":
        row.title = definition.title
        row.service = definition.service
        row.definition = definition.data
        row.sha256 = definition.content_sha256
        row.published_at = _published_at(definition)
    row.status = definition.status
    row.loaded_at = utcnow()
    db.session.flush()


def retire(code: str, version: int) -> None:
    """A published version starts no new draft any more (its drafts and submissions keep it)."""
    row = version_row(code, version)
    if row is None:
        raise FormModelError(f"{code} version {version} : version inconnue")
    definition = definition_of(row)
    data = {**definition.data, "status": "retired"}
    update_version(row, load_definition(data, _label(definition)))
    db.session.commit()


# -- reading ---------------------------------------------------------------------------------------


def version_row(code: str, version: int) -> FormModelVersion | None:
    return db.session.scalar(
        select(FormModelVersion).where(FormModelVersion.code == code, FormModelVersion.version == version)
    )


def all_versions() -> list[FormModelVersion]:
    return list(
        db.session.scalars(select(FormModelVersion).order_by(FormModelVersion.code, FormModelVersion.version))
    )


def definition_of(row: FormModelVersion) -> ModelDefinition:
    return workflow_of_row(row).model


def workflow_of_row(row: FormModelVersion) -> Workflow:
    key = (row.code, row.version, row.sha256)
    workflow = _WORKFLOWS.get(key)
    if workflow is None:
        workflow = build_workflow(load_definition(row.definition, f"{row.code} version {row.version}"))
        _WORKFLOWS[key] = workflow
    return workflow


def workflow_for(code: str, version: int) -> Workflow | None:
    """The workflow of one version (the one a draft is pinned to), whatever its status. Reads only
    the version's hash when its workflow is already built (every request of a draft asks)."""
    sha256 = db.session.scalar(
        select(FormModelVersion.sha256).where(
            FormModelVersion.code == code, FormModelVersion.version == version
        )
    )
    if sha256 is None:
        return None
    workflow = _WORKFLOWS.get((code, version, sha256))
    if workflow is not None:
        return workflow
    return workflow_of_row(version_row(code, version))


def _current_rows(statuses: tuple[str, ...] = ("published",)) -> dict[str, FormModelVersion]:
    rows = db.session.scalars(
        select(FormModelVersion)
        .where(FormModelVersion.status.in_(statuses))
        .order_by(FormModelVersion.version)
    )
    return {row.code: row for row in rows}  # the highest version wins


def current_workflow(code: str) -> Workflow | None:
    """The workflow new drafts of ``code`` start on: its highest published version (None if none)."""
    row = _current_rows().get(code)
    return workflow_of_row(row) if row is not None else None


def published_workflows(*, retired: bool = False) -> list[Workflow]:
    """The current workflow of every code with a published version, by title; with ``retired``, also
    the codes whose versions are all retired (their drafts are still listed and resumed)."""
    if not retired:
        rows = _current_rows()
    else:  # one query for both (every list of drafts asks: the home page three times)
        rows, published = {}, {}
        for row in db.session.scalars(
            select(FormModelVersion)
            .where(FormModelVersion.status.in_(("published", "retired")))
            .order_by(FormModelVersion.version)
        ):
            rows[row.code] = row  # the highest version wins
            if row.status == "published":
                published[row.code] = row
        rows.update(published)  # a published version names the code, even below a retired one
    return sorted((workflow_of_row(row) for row in rows.values()), key=lambda w: w.title)


# -- the agents' viewer ------------------------------------------------------------------------------


def _agent_works_on(user: User, service: str) -> bool:
    kind = UserKind(user.kind) if user.is_authenticated else None
    return kind is not None and Service(service) in access.AGENT_SERVICES.get(kind, set())


def versions_for_agent(user: User) -> list[FormModelVersion]:
    """Every version of the models of the services ``user``'s caisse works on (404: not an agent)."""
    if not user.is_authenticated or not user.is_agent:
        abort(404)
    return [row for row in all_versions() if _agent_works_on(user, row.service)]


def open_version(user: User, code: str, version: int) -> tuple[FormModelVersion, ModelDefinition]:
    """One version, read-only, for an agent of a caisse working on its service (404 otherwise)."""
    row = version_row(code, version)
    if (
        row is None
        or not user.is_authenticated
        or not user.is_agent
        or not _agent_works_on(user, row.service)
    ):
        abort(404)
    return row, definition_of(row)
