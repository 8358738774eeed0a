"""Claims fed by QR Pro decisions (issue 15 §1): a case the CPAM recognised as an AT/MP is imputed to the
employer's account, where it weighs on the rates of the years whose reference period holds its imputation
year (app.domain.rates.reference_years).

`record_recognised_case` is what a recognition decision calls. It is idempotent by the case reference (the
claim's unique key): a second call for the same case updates the claim (a revised decision: stoppage days
prolonged, an IP rate fixed, a death), never adds a second one; a case first known from the Carsat's
history import is taken over by the decision (``source`` becomes ``decision``). It writes in the caller's
transaction (``commit=False``) or commits (the default), with an audit event when something changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.domain.rates import BTP_GROUPS
from app.extensions import db
from app.models import Claim, Establishment, User
from app.services import audit

RECOGNISED_KINDS = ("at", "mp")  # an accident de trajet is an AT with ``commuting=True``
REFERENCE_MAX = 40  # compte_claim.reference
_CENT = Decimal("0.01")


class CaseRefused(ValueError):
    """The decision's figures cannot be recorded (French message: the caller shows or logs it)."""


@dataclass(frozen=True)
class RecordedCase:
    claim: Claim
    status: str  # created | updated | unchanged


def _ip_rate(value: Decimal | int | str | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float | bool):
        raise TypeError("ip_rate: a Decimal, an int or a decimal string, never a float")
    rate = Decimal(value)
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise CaseRefused("Taux d'IP : un pourcentage entre 0 et 100 est attendu.")
    if rate != rate.quantize(_CENT):
        raise CaseRefused("Taux d'IP : deux décimales au plus.")
    return rate.quantize(_CENT)


def _checked(
    case_reference: str,
    kind: str,
    recognised_on: date,
    imputation_year: int,
    stoppage_days: int,
    ip_rate: Decimal | int | str | None,
    death: bool,
    commuting: bool,
    btp_group: str | None,
) -> dict:
    reference = (case_reference or "").strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise CaseRefused(f"Référence du dossier : obligatoire, {REFERENCE_MAX} caractères au plus.")
    if kind not in RECOGNISED_KINDS:
        raise CaseRefused(f"Nature : « {kind} » inconnue (at ou mp).")
    if commuting and kind != "at":
        raise CaseRefused("Un accident de trajet est un accident (nature at), jamais une maladie.")
    if not isinstance(recognised_on, date):
        raise CaseRefused("Date de reconnaissance : une date est attendue.")
    if isinstance(imputation_year, bool) or not isinstance(imputation_year, int):
        raise CaseRefused("Année d'imputation : une année est attendue.")
    if not 1946 <= imputation_year <= recognised_on.year + 1:
        raise CaseRefused(f"Année d'imputation : {imputation_year} n'est pas plausible.")
    if isinstance(stoppage_days, bool) or not isinstance(stoppage_days, int) or stoppage_days < 0:
        raise CaseRefused("Jours d'arrêt : un nombre entier positif ou nul est attendu.")
    if btp_group is not None and btp_group not in BTP_GROUPS:
        raise CaseRefused(f"Groupe BTP : « {btp_group} » inconnu ({', '.join(BTP_GROUPS)}).")
    return {
        "reference": reference,
        "kind": "trajet" if commuting else kind,
        "recognised_on": recognised_on,
        "imputation_year": imputation_year,
        "stoppage_days": stoppage_days,
        "ip_rate": _ip_rate(ip_rate),
        "death": bool(death),
    }


def record_recognised_case(
    *,
    establishment: Establishment,
    case_reference: str,
    kind: str,
    recognised_on: date,
    imputation_year: int,
    stoppage_days: int = 0,
    ip_rate: Decimal | int | str | None = None,
    death: bool = False,
    commuting: bool = False,
    btp_group: str | None = None,
    actor: User | None = None,
    commit: bool = True,
) -> RecordedCase:
    """Impute a recognised case to ``establishment``'s account, or update it (same ``case_reference``).

    ``kind`` is ``at`` or ``mp``; ``commuting=True`` (an accident de trajet, excluded from the individual
    rate, covered by M1) is stored as ``trajet``. ``ip_rate`` in % (Decimal, int or string, two decimals at
    most), ``death`` counts as IP category 4. ``btp_group`` (gros_oeuvre, second_oeuvre,
    fonctions_support) is kept when given, else the one stored stays: in CTN B outside 57/67/68 a case with
    an IP of 10 % or more or a death needs it, and without it the establishment's rate is reported as not
    computable until the Carsat's claims import gives it (same reference). Raises CaseRefused (French
    message) for figures that cannot be a case, or when the reference is already imputed to another
    establishment (a case belongs to one employer's account)."""
    values = _checked(
        case_reference,
        kind,
        recognised_on,
        imputation_year,
        stoppage_days,
        ip_rate,
        death,
        commuting,
        btp_group,
    )
    if btp_group is not None:
        values["btp_group"] = btp_group
    claim = db.session.scalar(select(Claim).where(Claim.reference == values["reference"]))
    if claim is not None and claim.establishment_id != establishment.id:
        raise CaseRefused(
            f"Le dossier {values['reference']} est déjà imputé au compte d'un autre établissement."
        )
    if claim is None:
        claim = Claim(establishment_id=establishment.id, source="decision", **values)
        db.session.add(claim)
        status = "created"
    else:
        changes = {name: value for name, value in values.items() if getattr(claim, name) != value}
        if claim.source != "decision":
            changes["source"] = "decision"
        for name, value in changes.items():
            setattr(claim, name, value)
        status = "updated" if changes else "unchanged"
    if status != "unchanged":
        db.session.flush()
        audit.record(
            f"compte.claim_{status}",
            "compte_claim",
            claim.id,
            establishment_id=establishment.id,
            actor=actor,
            reference=claim.reference,
            imputation_year=claim.imputation_year,
            source="decision",
        )
    if commit:
        db.session.commit()
    return RecordedCase(claim, status)
