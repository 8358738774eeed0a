"""The mode of a rate — collective, mixed or individual — and the years it is computed on (SPEC §5.1).

By the company's headcount E and the département (CSS D242-6-2, D242-37 in Alsace-Moselle), new
establishments (D242-6-17) and activities that are always collective (D242-6-14): `rate_mode`, `mode_for`,
`is_new_establishment`; the three reference years (D242-6-9): `reference_years`.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from app.domain.calendars import normalize_departement

from .arithmetic import exact, to_headcount
from .constants import (
    ALSACE_MOSELLE,
    COLLECTIF,
    HEADCOUNT_YEAR_BEFORE,
    INDIVIDUEL,
    MIXTE,
    NEW_ESTABLISHMENT_YEARS,
    REFERENCE_YEARS_BEFORE,
    THRESHOLDS,
    Mode,
    Number,
)


def is_alsace_moselle(departement: str) -> bool:
    """Whether the département is one of the régime local's (57, 67, 68; CSS D242-37)."""
    return normalize_departement(departement) in ALSACE_MOSELLE


@exact
def rate_mode(headcount: Number, departement: str, *, btp: bool = False) -> Mode:
    """The rate mode by the company's headcount E (CSS D242-6-2; D242-37 in Alsace-Moselle).

    France: collective E < 20, mixed 20 ≤ E < 150, individual E ≥ 150 (the BTP alike). Alsace-Moselle
    (57, 67, 68): collective E < 50, mixed 50 ≤ E < 150, individual E ≥ 150; in the BTP mixed 50 ≤ E < 300,
    individual E ≥ 300. E is the company's headcount as the caller computed it (an int or a Decimal mean).
    """
    count = to_headcount(headcount)
    mixed_from, individual_from = THRESHOLDS[(is_alsace_moselle(departement), btp)]
    if count < mixed_from:
        return COLLECTIF
    if count < individual_from:
        return MIXTE
    return INDIVIDUEL


def is_new_establishment(created_on: date | None, year: int, *, taux_unique: bool = False) -> bool:
    """Whether the rate of `year` is collective because the establishment is new (CSS D242-6-17).

    True in the calendar year of creation and the two following ones, unless the company has a taux unique
    for the establishment's risk category (the new establishment then shares that rate). An unknown creation
    date (None) is not new. A creation after `year` is an error.
    """
    if created_on is None or taux_unique:
        return False
    if created_on.year > year:
        raise ValueError(f"no rate for {year}: the establishment was created on {created_on.isoformat()}")
    return year - created_on.year < NEW_ESTABLISHMENT_YEARS


# Why `mode_for` chose its mode (kept in the calculation, shown on the screen).
REASON_HEADCOUNT: Final = "headcount"
REASON_NEW_ESTABLISHMENT: Final = "new_establishment"
REASON_ALWAYS_COLLECTIVE: Final = "always_collective"


def mode_and_reason(
    year: int,
    headcount: Number,
    departement: str,
    *,
    btp: bool,
    created_on: date | None,
    taux_unique: bool,
    always_collective: bool,
) -> tuple[Mode, str]:
    by_headcount = rate_mode(headcount, departement, btp=btp)  # validates E and the département first
    if always_collective:
        return COLLECTIF, REASON_ALWAYS_COLLECTIVE
    if is_new_establishment(created_on, year, taux_unique=taux_unique):
        return COLLECTIF, REASON_NEW_ESTABLISHMENT
    return by_headcount, REASON_HEADCOUNT


def mode_for(
    year: int,
    headcount: Number,
    departement: str,
    *,
    btp: bool = False,
    created_on: date | None = None,
    taux_unique: bool = False,
    always_collective: bool = False,
) -> Mode:
    """The mode of the establishment's rate for `year`, every rule of SPEC §5.1 together.

    Collective when the activity is always collective (CSS D242-6-14, `always_collective`) or the
    establishment is new (D242-6-17, see `is_new_establishment`); otherwise by headcount (`rate_mode`).
    """
    return mode_and_reason(
        year,
        headcount,
        departement,
        btp=btp,
        created_on=created_on,
        taux_unique=taux_unique,
        always_collective=always_collective,
    )[0]


def headcount_year(year: int) -> int:
    """The year whose headcount E chooses the mode of the rate of `year`: N-2 (`HEADCOUNT_YEAR_BEFORE`,
    a reading to confirm: SPEC §5.1 names no year)."""
    return year - HEADCOUNT_YEAR_BEFORE


def reference_years(year: int) -> tuple[int, int, int]:
    """The years whose cases and wages make the rate of `year`: N-4, N-3 and N-2.

    « The three last known years » of CSS D242-6-9 (SPEC §5.2).
    """
    first, second, third = REFERENCE_YEARS_BEFORE
    return (year - first, year - second, year - third)
