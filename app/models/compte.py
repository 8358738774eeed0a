"""Compte AT/MP (SPEC §5): what the rates are made of, the notified rates and the attestations.

- Reference data, dated and versioned: every load of a file is a `ReferenceLoad` (what, from which file,
  its SHA-256, when, by whom), and the barème rows (`AverageCost`), the majorations (`Majoration`) and the
  collective rates (`CollectiveRate`) name the load that wrote them. A reload replaces the rows of the
  years it holds; the previous load stays as history.
- The establishment's tarification profile (`RateProfile`: CTN, BTP, creation date, taux unique), its
  wages and headcount per year (`WageYear`, imported), its claims (`Claim`, imported or recognised).
- `NotifiedRate`: one establishment's rate for one year, with its whole calculation (JSON, exact
  decimals as strings) and the LUCIE letter that notified it. `Attestation`: the attestation des
  indicateurs, checked by its code on a public page.
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
RATE = Numeric(8, 4)  # a percentage or a ratio as published (4 decimals at most)


class ReferenceLoad(db.Model):
    """One load of a reference file (a version of the reference data)."""

    __tablename__ = "compte_reference_load"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # couts_moyens | majorations | taux_collectifs
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text, default="")  # the file's header comments
    rows: Mapped[int] = mapped_column(Integer)
    years: Mapped[str] = mapped_column(String(200))  # « 2024 2025 »: the years of its rows
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(200), default="")


class AverageCost(db.Model):
    """One row of the barème des coûts moyens (couts-moyens.csv's columns); NULL = figure not loaded."""

    __tablename__ = "compte_average_cost"
    __table_args__ = (UniqueConstraint("year", "ctn", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("compte_reference_load.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    ctn: Mapped[str] = mapped_column(String(1))
    scope: Mapped[str] = mapped_column(String(30))
    it1_lt4: Mapped[Decimal | None] = mapped_column(AMOUNT)
    it2_4_15: Mapped[Decimal | None] = mapped_column(AMOUNT)
    it3_16_45: Mapped[Decimal | None] = mapped_column(AMOUNT)
    it4_46_90: Mapped[Decimal | None] = mapped_column(AMOUNT)
    it5_91_150: Mapped[Decimal | None] = mapped_column(AMOUNT)
    it6_gt150: Mapped[Decimal | None] = mapped_column(AMOUNT)
    ip1_lt10: Mapped[Decimal | None] = mapped_column(AMOUNT)
    ip2_10_19: Mapped[Decimal | None] = mapped_column(AMOUNT)
    ip3_20_39: Mapped[Decimal | None] = mapped_column(AMOUNT)
    ip4_ge40_or_death: Mapped[Decimal | None] = mapped_column(AMOUNT)
    btp_gros_oeuvre: Mapped[Decimal | None] = mapped_column(AMOUNT)
    btp_second_oeuvre: Mapped[Decimal | None] = mapped_column(AMOUNT)
    btp_fonctions_support: Mapped[Decimal | None] = mapped_column(AMOUNT)


class Majoration(db.Model):
    """The year's majorations M1–M4 (majorations.csv's columns)."""

    __tablename__ = "compte_majoration"

    id: Mapped[int] = mapped_column(primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("compte_reference_load.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    m1_pct: Mapped[Decimal] = mapped_column(RATE)
    m2_ratio: Mapped[Decimal] = mapped_column(RATE)
    m3_pct: Mapped[Decimal] = mapped_column(RATE)
    m4_pct: Mapped[Decimal] = mapped_column(RATE)


class CollectiveRate(db.Model):
    """The net collective rate of a code risque for a year, in one of the two tables (France, or
    Alsace-Moselle for 57/67/68)."""

    __tablename__ = "compte_collective_rate"
    __table_args__ = (UniqueConstraint("year", "code_risque", "region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("compte_reference_load.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    code_risque: Mapped[str] = mapped_column(String(10))
    region: Mapped[str] = mapped_column(String(20))  # france | alsace_moselle
    label: Mapped[str] = mapped_column(String(200), default="")
    rate: Mapped[Decimal] = mapped_column(RATE)


class RateProfile(db.Model):
    """What the tarification knows of an establishment besides its code risque (SPEC §5.1)."""

    __tablename__ = "compte_rate_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), unique=True)
    ctn: Mapped[str] = mapped_column(String(1))
    btp: Mapped[bool] = mapped_column(Boolean, default=False)
    created_on: Mapped[date | None] = mapped_column(Date)
    taux_unique: Mapped[bool] = mapped_column(Boolean, default=False)
    always_collective: Mapped[bool] = mapped_column(Boolean, default=False)

    establishment: Mapped[Establishment] = relationship()


class WageYear(db.Model):
    """An establishment's wages (masse salariale), headcount and hours worked for one year (imported)."""

    __tablename__ = "compte_wage_year"
    __table_args__ = (UniqueConstraint("establishment_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    year: Mapped[int] = mapped_column(Integer)
    wages: Mapped[Decimal] = mapped_column(AMOUNT)
    headcount: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Claim(db.Model):
    """A recognised AT/MP case (sinistre) imputed to an establishment's account."""

    __tablename__ = "compte_claim"
    __table_args__ = (Index("ix_compte_claim_account", "establishment_id", "imputation_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # at | mp | trajet
    recognised_on: Mapped[date] = mapped_column(Date)
    imputation_year: Mapped[int] = mapped_column(Integer)
    stoppage_days: Mapped[int] = mapped_column(Integer, default=0)
    ip_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    death: Mapped[bool] = mapped_column(Boolean, default=False)
    btp_group: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10), default="import")  # import | decision


class NotifiedRate(db.Model):
    """One establishment's rate for one year as notified, with its whole calculation."""

    __tablename__ = "compte_notified_rate"
    __table_args__ = (UniqueConstraint("establishment_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    year: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(12))
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 2))  # the notified rate, 2 decimals
    # Every step of the calculation (app.domain.rates.RateCalculation), decimals as exact strings.
    calculation: Mapped[str] = mapped_column(Text)
    calculated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))
    # Why no letter was deposited (not subscribed to LUCIE…), for the Carsat's report.
    not_deposited: Mapped[str | None] = mapped_column(String(200))

    establishment: Mapped[Establishment] = relationship()
    letter: Mapped[Letter | None] = relationship()


class Attestation(db.Model):
    """An attestation des indicateurs issued to an establishment; its code is checked publicly."""

    __tablename__ = "compte_attestation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What the attestation says (identity, code risque, mode, indicators), as issued.
    content: Mapped[str] = mapped_column(Text)

    establishment: Mapped[Establishment] = relationship()
