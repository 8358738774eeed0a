"""Subventions Prévention TPE (SPEC §7, issue 14): programmes, dossiers, their lines, versions and decisions.

- `SubsidyProgramme`: one programme as loaded from its YAML file (`flask subventions load`), frozen: its
  validated content (JSON) and SHA-256; a changed file is refused. Its budget is open until a Carsat agent
  closes it.
- `SubsidyCompany`: one row per company that asked for a subsidy; every submission updates it first, which
  holds it (row lock) until the transaction ends, so two establishments of one company never compute their
  amounts under the cap at the same time.
- `SubsidyDossier`: a reservation (and its payment request) or a payment request without reservation; its
  `status` is one of app.domain.subsidies.Status, changed only through `check_transition`. `departement`
  copies the establishment's (a SIRET does not move) so that a Carsat's queue filters and sorts in SQL.
- `SubsidyLine`: a quote (`devis`) or a paid invoice (`facture`), with its file and the subsidy it gives.
- `SubsidyVersion`: what the employer sent, frozen at each submission (first request, completions,
  payment request). `SubsidyDecision`: an agent's decision and the LUCIE letter that notified it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Establishment
from app.models.lucie import Letter
from app.models.types import UTCDateTime, utcnow

AMOUNT = Numeric(15, 2)  # euros and cents


class SubsidyProgramme(db.Model):
    __tablename__ = "subsidy_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text)  # the file's validated content (JSON, exact decimals as text)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    budget_open: Mapped[bool] = mapped_column(Boolean, default=True)
    budget_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    budget_closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SubsidyCompany(db.Model):
    """The per-company row held during a submission (the TPE cap under concurrency)."""

    __tablename__ = "subsidy_company"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubsidyDossier(db.Model):
    __tablename__ = "subsidy_dossier"
    __table_args__ = (
        # The Carsat's queue, oldest first, for each of its filters (programme, status, both, none); its
        # départements are filtered on the way (docs/performance.md).
        Index("ix_subsidy_dossier_queue", "submitted_at", "id"),
        Index("ix_subsidy_dossier_queue_programme", "programme_id", "submitted_at", "id"),
        Index("ix_subsidy_dossier_queue_programme_status", "programme_id", "status", "submitted_at", "id"),
        Index("ix_subsidy_dossier_queue_status", "status", "submitted_at", "id"),
        # How many wait for a decision in a Carsat's départements (its home page), read from the index alone.
        Index("ix_subsidy_dossier_waiting", "departement", "status"),
        Index("ix_subsidy_dossier_company", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # reservation | versement (without reservation)
    programme_id: Mapped[int] = mapped_column(ForeignKey("subsidy_programme.id"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    departement: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str] = mapped_column(String(10), default="devis")  # devis | facture: the lines asked now
    requested_on: Mapped[date | None] = mapped_column(Date)  # the file's first request: its rules
    headcount: Mapped[int | None] = mapped_column(Integer)  # national headcount at the last submission
    attestations: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    computation: Mapped[str] = mapped_column(Text, default="{}")  # the last amount's lines and reasons
    requested_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    reserved_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    payment_requested_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    paid_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    convention_required: Mapped[bool] = mapped_column(Boolean, default=False)
    convention_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # recorded by the Carsat
    completion_request: Mapped[str | None] = mapped_column(Text)
    completion_due: Mapped[date | None] = mapped_column(Date)
    versions: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[SubsidyProgramme] = relationship()
    establishment: Mapped[Establishment] = relationship()
    lines: Mapped[list[SubsidyLine]] = relationship(
        back_populates="dossier", order_by="SubsidyLine.id", cascade="all, delete-orphan"
    )


class SubsidyLine(db.Model):
    __tablename__ = "subsidy_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("subsidy_dossier.id"), index=True)
    phase: Mapped[str] = mapped_column(String(10))  # devis | facture
    kind: Mapped[str] = mapped_column(String(40))
    supplier: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(60))  # the quote's or the invoice's number
    issued_on: Mapped[date] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)  # an invoice's payment date
    amount_ht: Mapped[Decimal] = mapped_column(AMOUNT)
    leased: Mapped[bool] = mapped_column(Boolean, default=False)
    second_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    dossier: Mapped[SubsidyDossier] = relationship(back_populates="lines")


class SubsidyVersion(db.Model):
    __tablename__ = "subsidy_version"
    __table_args__ = (UniqueConstraint("dossier_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("subsidy_dossier.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # the status the submission led to
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: attestations, lines, amounts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SubsidyDecision(db.Model):
    __tablename__ = "subsidy_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("subsidy_dossier.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # app.domain.subsidies.DecisionKind
    amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    reasons: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))
    not_deposited: Mapped[str | None] = mapped_column(String(200))

    letter: Mapped[Letter | None] = relationship()
