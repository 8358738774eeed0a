"""The other checks of a request: the attested conditions (`attestation_reasons`), de minimis
(`de_minimis_ok` / `de_minimis_refusal`) and the convention (`convention_required`).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from app.domain.dat import french_day

from .money import _EXACT, _amount, _date, _today, format_euros
from .programmes import rules_on


@dataclass(frozen=True)
class Attestations:
    """What the employer attests on a request (SPEC §7), as the form records it.

    `staff_representatives_informed` is also true for a company that has no staff representatives.
    """

    contributions_up_to_date: bool  # URSSAF
    duerp_updated_on: date | None  # the DUERP's last update
    prevention_contract_in_progress: bool
    prevention_contract_ended_on: date | None  # the last prevention contract's end, None if never any
    injunction_or_surcharge: bool  # an injunction or a cotisation supplémentaire in force
    occupational_health_member: bool  # member of a service de prévention et de santé au travail
    staff_representatives_informed: bool
    regime_general: bool = True


def attestation_reasons(attestations: Attestations, requested_on: date) -> tuple[str, ...]:
    """Why the attested conditions of SPEC §7 make the company ineligible (French; empty: eligible).

    The DUERP must have been updated within the rules' months before `requested_on` (that day included); a
    prevention contract must be neither in progress nor ended within the rules' gap before it.
    """
    _date(requested_on, "requested_on")
    rules = rules_on(requested_on)
    reasons = []
    if not attestations.regime_general:
        reasons.append(
            "Les subventions Prévention sont réservées aux entreprises relevant du régime général."
        )
    if not attestations.contributions_up_to_date:
        reasons.append("L'entreprise doit être à jour de ses cotisations URSSAF.")
    duerp_since = requested_on - relativedelta(months=rules.duerp_max_age_months)
    updated = attestations.duerp_updated_on
    months = rules.duerp_max_age_months
    if updated is None:
        reasons.append(
            f"Le document unique d'évaluation des risques (DUERP) doit avoir été mis à jour dans les "
            f"{months} derniers mois : indiquez la date de sa dernière mise à jour."
        )
    elif updated > requested_on:
        reasons.append(
            f"La date de mise à jour du DUERP ({french_day(updated, weekday=False)}) est postérieure "
            "à la demande."
        )
    elif updated < duerp_since:
        reasons.append(
            f"Le DUERP doit avoir été mis à jour dans les {months} derniers mois (depuis le "
            f"{french_day(duerp_since, weekday=False)}) : sa dernière mise à jour date du "
            f"{french_day(updated, weekday=False)}."
        )
    if attestations.prevention_contract_in_progress:
        reasons.append("Un contrat de prévention est en cours : une subvention ne peut pas s'y ajouter.")
    ended = attestations.prevention_contract_ended_on
    gap = rules.prevention_contract_gap_months
    gap_since = requested_on - relativedelta(months=rules.prevention_contract_gap_months)
    if ended is not None and ended >= gap_since and not attestations.prevention_contract_in_progress:
        reasons.append(
            f"Un contrat de prévention a pris fin le {french_day(ended, weekday=False)} : aucune subvention "
            f"dans les {rules.prevention_contract_gap_months} mois qui suivent (demande possible à partir du "
            f"{french_day(ended + relativedelta(months=gap, days=1), weekday=False)})."
        )
    if attestations.injunction_or_surcharge:
        reasons.append("Une injonction ou une cotisation supplémentaire est en cours pour l'entreprise.")
    if not attestations.occupational_health_member:
        reasons.append("L'entreprise doit adhérer à un service de prévention et de santé au travail.")
    if not attestations.staff_representatives_informed:
        reasons.append("Les représentants du personnel doivent avoir été informés de la demande.")
    return tuple(reasons)


def de_minimis_refusal(aid_3y: Decimal, amount: Decimal, *, on: date | None = None) -> str | None:
    """Why the subsidy would break the EU de minimis ceiling, or None (French).

    `aid_3y` is all public aid the company declared (sworn statement) over the rules' rolling years before
    `on` (default: today in Paris). No partial grant: above the ceiling, the whole subsidy is refused.
    """
    aid, subsidy = _amount(aid_3y, "aid_3y"), _amount(amount, "amount")
    rules = rules_on(on or _today())
    with decimal.localcontext(_EXACT):
        if aid + subsidy <= rules.de_minimis_ceiling:
            return None
        return (
            f"Aides publiques déclarées sur {rules.de_minimis_years} ans glissants : {format_euros(aid)} ; "
            f"avec cette subvention ({format_euros(subsidy)}) elles dépasseraient le plafond de minimis de "
            f"{format_euros(rules.de_minimis_ceiling)}. La subvention ne peut pas être accordée, même en "
            "partie."
        )


def de_minimis_ok(aid_3y: Decimal, amount: Decimal, *, on: date | None = None) -> bool:
    """Whether the aid over the rolling years plus this subsidy stays within the de minimis ceiling."""
    return de_minimis_refusal(aid_3y, amount, on=on) is None


def convention_required(
    prevention_last_12_months: Decimal, amount: Decimal, *, on: date | None = None
) -> bool:
    """Whether a convention must be signed before any payment: the company's Prévention subsidies over the
    rules' months before `on` (default: today in Paris), this one included, go above the threshold."""
    before = _amount(prevention_last_12_months, "prevention_last_12_months")
    subsidy = _amount(amount, "amount")
    with decimal.localcontext(_EXACT):
        return before + subsidy > rules_on(on or _today()).convention_threshold
