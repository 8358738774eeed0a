"""The programmes in the database (`flask subventions load`): each YAML file of app/domain/subsidy_programmes/
loaded as a frozen copy (content + SHA-256). Idempotent, all-or-nothing: one refused file loads nothing;
a published programme whose content changed is refused (a new programme code says a new programme). A Carsat
agent closes a programme's budget: no new request is filed on it afterwards, until an agent reopens it."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.domain.subsidies import (
    GENERAL_RULES_FILE,
    PROGRAMMES_DIR,
    Programme,
    ReferenceDataError,
    programme_from_data,
    read_programme_data,
)
from app.extensions import db
from app.models import SubsidyProgramme, User
from app.models.types import utcnow
from app.services import audit


class ProgrammeLoadError(ValueError):
    """A programme file refused (its message, in French, names the file); nothing was loaded."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.created)} programme(s) chargé(s), {len(self.unchanged)} inchangé(s)."


def _canonical(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load_programmes(directory: Path | None = None, *, by: str = "") -> LoadReport:
    """Load every programme file of ``directory`` (default: the application's). Raises ProgrammeLoadError,
    having written nothing, when a file is refused or a loaded programme's content changed."""
    directory = Path(directory or PROGRAMMES_DIR)
    report = LoadReport()
    staged = []
    for path in sorted(p for p in directory.glob("*.yaml") if p.name != GENERAL_RULES_FILE):
        try:
            data = read_programme_data(path)
        except ReferenceDataError as error:
            raise ProgrammeLoadError(str(error)) from None
        content = _canonical(data)
        sha = hashlib.sha256(content.encode()).hexdigest()
        existing = db.session.scalar(select(SubsidyProgramme).where(SubsidyProgramme.code == data["code"]))
        if existing is not None:
            if existing.sha256 != sha:
                raise ProgrammeLoadError(
                    f"{path.name}: le programme {data['code']} publié le "
                    f"{existing.loaded_at:%d/%m/%Y} a changé ; un programme publié ne se modifie pas "
                    "(les dossiers déposés gardent ses règles) : donnez un nouveau code au programme modifié."
                )
            report.unchanged.append(data["code"])
            continue
        staged.append(
            SubsidyProgramme(
                code=data["code"], name=data["name"], data=content, sha256=sha, filename=path.name
            )
        )
    for row in staged:
        db.session.add(row)
        report.created.append(row.code)
    db.session.flush()
    for row in staged:
        audit.record("subventions.programme_load", "subsidy_programme", row.id, code=row.code, by=by or None)
    db.session.commit()
    return report


@functools.lru_cache(maxsize=64)
def _programme(sha256: str, data: str, filename: str) -> Programme:
    return programme_from_data(json.loads(data), filename)


def rules_of(row: SubsidyProgramme) -> Programme:
    """The domain's programme from the database's frozen copy (cached by content)."""
    return _programme(row.sha256, row.data, row.filename)


def all_programmes() -> list[SubsidyProgramme]:
    return list(db.session.scalars(select(SubsidyProgramme).order_by(SubsidyProgramme.name)))


def open_programmes(on: date) -> list[SubsidyProgramme]:
    """Programmes a request may be filed on: budget open, ``on`` inside the validity window."""
    return [row for row in all_programmes() if row.budget_open and rules_of(row).open_on(on)]


def get_programme(programme_id: int) -> SubsidyProgramme | None:
    return db.session.get(SubsidyProgramme, programme_id)


def close_budget(row: SubsidyProgramme, agent: User) -> bool:
    """Close the programme's budget (False if it already was)."""
    if not row.budget_open:
        return False
    row.budget_open = False
    row.budget_closed_at = utcnow()
    row.budget_closed_by_id = agent.id
    audit.record("subventions.budget_close", "subsidy_programme", row.id, actor=agent, code=row.code)
    db.session.commit()
    return True


def reopen_budget(row: SubsidyProgramme, agent: User) -> bool:
    """Reopen a closed budget (False if it was open): requests may be filed on it again. The closing's date
    and agent are cleared; both events stay in the audit trail."""
    if row.budget_open:
        return False
    row.budget_open = True
    row.budget_closed_at = None
    row.budget_closed_by_id = None
    audit.record("subventions.budget_reopen", "subsidy_programme", row.id, actor=agent, code=row.code)
    db.session.commit()
    return True
