"""AT/MP cases (SPEC §3): what a caisse instructs, and what a party's draft (a questionnaire) belongs to.

Kept small on purpose (issue 12, item 5): the reference, the kind, the employer establishment, the
victim's account once they have one, the competent caisse, and an optional window (opening and closing
times) that the parties' drafts inherit. QR Pro (issue 13) adds the instruction, its calendar and its
events around it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.cases import CaseKind
from app.extensions import db
from app.models.accounts import Caisse, Establishment, User
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

    establishment: Mapped[Establishment] = relationship()
    victim: Mapped[User | None] = relationship()
    caisse: Mapped[Caisse | None] = relationship()
