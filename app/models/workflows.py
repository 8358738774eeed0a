"""Drafts of multi-step forms and their immutable submissions (workflow engine)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Establishment, User
from app.models.cases import Case
from app.models.types import UTCDateTime, utcnow


class Draft(db.Model):
    """A multi-step form being filled. Its *subject* (app/services/access.py) is its establishment, or a
    party of a case (``case_id`` and ``party`` both set; ``establishment_id`` is then one of the case's
    employer establishments — the one answering, for the employer party; the case's own for the victim)."""

    __tablename__ = "draft"
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) = (party IS NULL)", name="case_party"),
        # One live draft per workflow, case, party and establishment: a party answers its questionnaire
        # once (a second « Commencer » resumes the first) — each employer establishment of a case with
        # several employers its own; a deleted draft makes room for a new one.
        Index(
            "uq_draft_case_party_live",
            "workflow",
            "case_id",
            "party",
            "establishment_id",
            unique=True,
            sqlite_where=text("case_id IS NOT NULL AND discarded_at IS NULL"),
            postgresql_where=text("case_id IS NOT NULL AND discarded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(String(40), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # {step_name: {field: raw value}} exactly as typed, valid or not (autosave keeps everything).
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Steps whose saved answers passed validation.
    valid_steps: Mapped[list] = mapped_column(JSON, default=list)
    current_step: Mapped[str] = mapped_column(String(40))
    # The form model version the draft was started on (its code is ``workflow``); None for a workflow
    # written in Python. A resumed draft keeps its version even after a newer one is published.
    form_version: Mapped[int | None] = mapped_column(Integer)
    # Optimistic concurrency: every save must name the version it was based on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Supprimer le brouillon": the row stays (the audit trail and a stale tab name it), the answers go.
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # When the people working on it were told it will be deleted for lack of activity (retention).
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Subject (issue 12): the case and the party (app.domain.cases.Party) this draft answers for.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    party: Mapped[str | None] = mapped_column(String(10))
    # Window (issue 12): no save nor submission before ``opens_at`` or from ``closes_at`` on (the
    # case's times apply when these are None).
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    establishment: Mapped[Establishment] = relationship()
    case: Mapped[Case | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])
    discarded_by: Mapped[User | None] = relationship(foreign_keys=[discarded_by_id])

    # Every UPDATE says "WHERE version = <the version read>" and bumps it: two requests racing on
    # the same version cannot both win (the loser gets StaleDataError, shown as a conflict).
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Submission(db.Model):
    """An immutable submitted form: reference, server timestamp, SHA-256 of its canonical JSON."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    workflow: Mapped[str] = mapped_column(String(40), index=True)
    # Unique: a double click or a replayed POST cannot create a second submission.
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON)
    # The form model version answered (its code is ``workflow``); None for a workflow written in Python.
    form_version: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The draft's subject, kept with the submission (a victim's answer is not the employer's to list).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    party: Mapped[str | None] = mapped_column(String(10))

    establishment: Mapped[Establishment] = relationship()
    submitted_by: Mapped[User] = relationship()


class ReferenceCounter(db.Model):
    """The last number handed out per reference prefix and year (``DAT-2026-000123``)."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
