"""AT/MP cases (SPEC §3): what a caisse instructs, and what a party's draft (a questionnaire) belongs to.

Kept small on purpose (issue 12, item 5): the reference, the kind, the employer establishment(s), the
victim's account once they have one, the competent caisse, and an optional window (opening and closing
times) that the parties' drafts inherit. QR Pro (issue 13) adds the instruction, its calendar and its
events around it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.cases import CaseKind
from app.domain.qrpro import Stage
from app.extensions import db
from app.models.accounts import Caisse, Establishment, User
from app.models.lucie import Letter
from app.models.types import UTCDateTime, utcnow


class Case(db.Model):
    """An accident du travail or maladie professionnelle case, between an employer and a victim."""

    __tablename__ = "case_file"  # "case" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(2), default=CaseKind.AT)  # CaseKind
    # The employer side: the establishment that employs the victim (its users answer for the employer).
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    # The victim's account (no company): None until the victim activates their access code.
    victim_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    victim_name: Mapped[str] = mapped_column(String(200), default="")
    # The competent caisse: the CPAM of the victim's usual residence (SPEC §1).
    caisse_id: Mapped[int | None] = mapped_column(ForeignKey("caisse.id"), index=True)
    # When the parties' drafts on this case may be answered (a draft's own times take precedence).
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # -- the instruction (issue 13) ------------------------------------------------------------------
    # An AT case opens from the declaration the CPAM received (one case per declaration). No foreign key:
    # a declaration's submission already points to its case (draft subjects), and a key both ways would
    # make a cycle the schema cannot sort; declarations are never deleted.
    declaration_id: Mapped[int | None] = mapped_column(unique=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.A_OUVRIR)  # app.domain.qrpro.Stage
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The département of the victim's residence: it decides the competent CPAM (SPEC §1).
    victim_departement: Mapped[str] = mapped_column(String(3), default="")
    victim_nir: Mapped[str] = mapped_column(String(15), default="")
    victim_address: Mapped[str] = mapped_column(String(300), default="")
    # MP: the disease (table of the régime général, or « hors tableau ») and its first medical finding.
    disease_table: Mapped[str | None] = mapped_column(String(10))
    disease_label: Mapped[str] = mapped_column(String(300), default="")
    first_finding_on: Mapped[date | None] = mapped_column(Date)
    # D0 = the later of the two receipts (SPEC §3.1); None while the caisse lacks the CMI.
    declaration_received_on: Mapped[date | None] = mapped_column(Date)
    cmi_received_on: Mapped[date | None] = mapped_column(Date)
    d0: Mapped[date | None] = mapped_column(Date)
    # The questionnaire models the agent chose (form model codes, see app/workflows/models/) and the
    # version each was pinned to when chosen: the party's draft starts on that version, whatever is
    # published afterwards (as a draft keeps its ``form_version``).
    employer_model: Mapped[str | None] = mapped_column(String(60))
    victim_model: Mapped[str | None] = mapped_column(String(60))
    employer_model_version: Mapped[int | None] = mapped_column(Integer)
    victim_model_version: Mapped[int | None] = mapped_column(Integer)
    instruction_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(10))  # app.domain.qrpro.Decision
    decision_reasons: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The date the agent must act by next (app.domain.qrpro.NEXT_DATE_BY_STAGE): the queue's sort key.
    next_due_on: Mapped[date | None] = mapped_column(Date)

    establishment: Mapped[Establishment] = relationship()
    victim: Mapped[User | None] = relationship()
    caisse: Mapped[Caisse | None] = relationship()
    dates: Mapped[list[CaseDate]] = relationship(back_populates="case", order_by="CaseDate.id")
    # An MP's other employers (the victim was exposed at several): the principal one is ``establishment``.
    other_employers: Mapped[list[CaseEmployer]] = relationship(order_by="CaseEmployer.position")

    __table_args__ = (
        Index("ix_case_file_queue", "caisse_id", "next_due_on", "id"),
        # A CPAM's scope: the employers of its insured (app/services/access.py, _employers_of_insured).
        Index("ix_case_file_victim_departement", "victim_departement", "establishment_id"),
    )

    @property
    def employers(self) -> list[Establishment]:
        """Every employer establishment of the case, the principal one first: each is a party
        « employeur » (its letters, its questionnaire, its observations)."""
        return [self.establishment, *(row.establishment for row in self.other_employers)]

    @property
    def employer_ids(self) -> list[int]:
        return [self.establishment_id, *(row.establishment_id for row in self.other_employers)]

    def questionnaire_model(self, party: str) -> tuple[str, int | None] | None:
        """(code, pinned version) of the model ``party`` (« employeur » / « victime ») answers on, None
        when the caisse chose none. The version is None only for a case chosen before versions were
        pinned (migration 0022 pinned them where it could)."""
        if party == "employeur":
            code, version = self.employer_model, self.employer_model_version
        else:
            code, version = self.victim_model, self.victim_model_version
        return (code, version) if code else None


class CaseEmployer(db.Model):
    """Another employer establishment of a case (issue 13, item 2): the victim of an MP was exposed at
    several employers. The first establishment the agent gave stays the case's own
    (``Case.establishment_id``, position 0); the others are here, from position 1, in the agent's order."""

    __tablename__ = "case_employer"
    __table_args__ = (
        UniqueConstraint("case_id", "establishment_id", name="uq_case_employer_establishment"),
        UniqueConstraint("case_id", "position", name="uq_case_employer_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    # Indexed: a CPAM's scope reads the employers of its insured (app/services/access.py).
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    position: Mapped[int] = mapped_column()

    establishment: Mapped[Establishment] = relationship(lazy="joined")


class CaseDate(db.Model):
    """One legal date of a case (SPEC §6; ENGINEERING: every legal date is an object): its basis, its
    starting event, length and unit, rule version, the computed value, the value a letter notified (it
    binds) and an agent's override with its mandatory reason."""

    __tablename__ = "case_date"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # app.domain.qrpro.DateKind
    legal_basis: Mapped[str] = mapped_column(String(80), default="")
    start_event: Mapped[str] = mapped_column(String(200), default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    length: Mapped[int | None] = mapped_column()
    unit: Mapped[str] = mapped_column(String(20), default="")
    rule_version: Mapped[str] = mapped_column(String(40), default="")
    computed_on: Mapped[date] = mapped_column(Date)
    override_on: Mapped[date | None] = mapped_column(Date)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_on: Mapped[date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="dates")

    @property
    def effective_on(self) -> date:
        """The date that counts: the one a letter notified, else the agent's, else the computed one."""
        return self.notified_on or self.override_on or self.computed_on


class CaseLetter(db.Model):
    """A letter of a case to one party: for an employer establishment, deposited in its LUCIE mailbox
    (``letter_id``); for the victim, kept for their space (its PDF in the blob store). Once per (case,
    step, employer establishment, edition) and once per (case, step, edition) for the victim: a step makes
    edition 1; each rescheduling of the consultation makes the next edition of its information letter (the
    earlier ones stay)."""

    __tablename__ = "case_letter"
    __table_args__ = (
        Index(
            "uq_case_letter_employer",
            "case_id",
            "letter_type",
            "establishment_id",
            "edition",
            unique=True,
            sqlite_where=text("establishment_id IS NOT NULL"),
            postgresql_where=text("establishment_id IS NOT NULL"),
        ),
        Index(
            "uq_case_letter_party",
            "case_id",
            "letter_type",
            "party",
            "edition",
            unique=True,
            sqlite_where=text("establishment_id IS NULL"),
            postgresql_where=text("establishment_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    party: Mapped[str] = mapped_column(String(10))  # app.domain.cases.Party
    # The employer establishment addressed (None for the victim's letter).
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    letter_type: Mapped[str] = mapped_column(String(30))  # app.domain.lucie.LetterType
    edition: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    title: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))
    not_deposited: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    letter: Mapped[Letter | None] = relationship()
    establishment: Mapped[Establishment | None] = relationship()


class CaseEvent(db.Model):
    """A dated event of a case, for one party or both (``party`` None): the proof of the contradictory
    phase (issue 13, item 8). Append-only."""

    __tablename__ = "case_event"
    __table_args__ = (
        Index("ix_case_event_case_at", "case_id", "at"),
        # A victim's letter's first download is recorded once (app/services/qrpro/victim.py).
        Index(
            "uq_case_event_letter_downloaded",
            "case_letter_id",
            unique=True,
            sqlite_where=text("kind = 'courrier_telecharge'"),
            postgresql_where=text("kind = 'courrier_telecharge'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    party: Mapped[str | None] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))  # app.domain.qrpro.EventKind
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    case_letter_id: Mapped[int | None] = mapped_column(ForeignKey("case_letter.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class CaseDocument(db.Model):
    """A document of a case's dossier (issue 13, item 7): a piece the caisse adds (``party`` None; flagged
    *secret médical*, never shown to the parties), or a party's observations during the consultation
    (text and an optional file, ``party`` its author). Its file is in the blob store."""

    __tablename__ = "case_document"
    __table_args__ = (Index("ix_case_document_case", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    kind: Mapped[str] = mapped_column(String(12))  # piece | observation
    party: Mapped[str | None] = mapped_column(String(10))
    # An employer's observations: the establishment they come from (a case may have several employers).
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    title: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    media_type: Mapped[str] = mapped_column(String(60), default="")
    size: Mapped[int] = mapped_column(default=0)
    secret_medical: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    establishment: Mapped[Establishment | None] = relationship()
