"""Companies, establishments, users, habilitations, tiers-déclarant firms and caisses (SPEC §1)."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.accounts import UserKind
from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Caisse(db.Model):
    __tablename__ = "caisse"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # "cpam" | "carsat"
    # Space-separated départements the caisse covers: decides which establishments its agents see.
    departements: Mapped[str] = mapped_column(String(200))

    def covers(self, departement: str) -> bool:
        return departement in self.departements.split()


class Company(db.Model):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    establishments: Mapped[list[Establishment]] = relationship(
        back_populates="company", order_by="Establishment.siret"
    )


class Establishment(db.Model):
    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    # Indexed: an agent's caisse covers the establishments of its départements.
    departement: Mapped[str] = mapped_column(String(3), index=True)
    code_risque: Mapped[str] = mapped_column(String(10))
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    is_head_office: Mapped[bool] = mapped_column(Boolean, default=False)

    company: Mapped[Company] = relationship(back_populates="establishments")

    @property
    def label(self) -> str:
        return f"{self.name} — {self.city} (SIRET {self.siret})"


class Firm(db.Model):
    """A tiers-déclarant firm (accountant, payroll provider) acting for client establishments."""

    __tablename__ = "firm"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14), unique=True)


class Mandate(db.Model):
    """A firm's mandate to act for one establishment on one service; revoked, never deleted."""

    __tablename__ = "mandate"
    # Only one live mandate per firm × establishment × service; revoked ones stay as history, so a
    # mandate can be given again after a revocation.
    __table_args__ = (
        Index(
            "uq_mandate_active",
            "firm_id",
            "establishment_id",
            "service",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    service: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    firm: Mapped[Firm] = relationship()
    establishment: Mapped[Establishment] = relationship()


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # None until an invited user chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10), default=UserKind.EMPLOYER)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    caisse_id: Mapped[int | None] = mapped_column(ForeignKey("caisse.id"), index=True)
    is_company_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Platform operator: sees the mail outbox's failed messages and re-queues them.
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # towards the lock-out
    # Every wrong password (or attempt during a lock) since the last sign-in: told at the next one.
    failed_since_login: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every password change: signs reset links and sessions so old ones die.
    credentials_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company | None] = relationship()
    firm: Mapped[Firm | None] = relationship()
    caisse: Mapped[Caisse | None] = relationship()
    habilitations: Mapped[list[Habilitation]] = relationship(
        back_populates="user", foreign_keys="Habilitation.user_id", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:  # Flask-Login: a password change logs out every session
        return f"{self.id}:{self.credentials_version}"

    @property
    def is_agent(self) -> bool:
        return self.kind in (UserKind.CPAM, UserKind.CARSAT)


class UserSession(db.Model):
    """One signed-in browser (docs/security.md): the signed cookie names it by a random token, kept here
    only as its SHA-256, and every request checks it is still open. Revoked, never deleted, so that
    « Mon compte » and an audit can tell which browser was signed out and when."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the token in the cookie (hex): a copy of this table opens no session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most every few minutes (app/services/sessions.py), not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(120), default="")  # « Firefox sous Windows »
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Habilitation(db.Model):
    """User × establishment × service. On the head office it covers every establishment."""

    __tablename__ = "habilitation"
    __table_args__ = (UniqueConstraint("user_id", "establishment_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    service: Mapped[str] = mapped_column(String(20))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="habilitations", foreign_keys=[user_id])
    establishment: Mapped[Establishment] = relationship()
