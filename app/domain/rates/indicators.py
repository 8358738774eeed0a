"""The bilan individuel's indicators (SPEC §5.3) and the size bands they are compared within.

- Indice de fréquence: accidents with stoppage per 1 000 employees (`frequency_index`).
- Taux de fréquence: accidents with stoppage per million hours worked (`frequency_rate`).
- Taux de gravité: days of stoppage per 1 000 hours worked (`gravity_rate`).

The definitions are those of the Assurance Maladie's statistics (SPEC §5.3 [practice]). Each returns an
exact-enough Decimal (`PRECISION` digits) or None when its denominator is unknown or zero; `display_indicator`
rounds half-up to one decimal, as the bilans print. The size bands (`size_band`) are the tarification's
thresholds (D242-6-2): < 20, 20–149, ≥ 150 employees [choice: the SPEC names no bands].
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from .arithmetic import DIVISION, to_decimal
from .constants import Number

PER_EMPLOYEES: Final = Decimal(1000)
PER_HOURS_FREQUENCY: Final = Decimal(1_000_000)
PER_HOURS_GRAVITY: Final = Decimal(1000)
INDICATOR_QUANTUM: Final = Decimal("0.1")

# [reading to confirm] (lower bound, label): the band of a headcount is the last whose bound it reaches. The
# SPEC names no bands (« the same code risque and size band »); these are the national tarification's
# thresholds (D242-6-2), also in Alsace-Moselle. docs/compte.md, « Lectures retenues ».
SIZE_BANDS: Final = ((0, "moins de 20 salariés"), (20, "de 20 à 149 salariés"), (150, "150 salariés et plus"))


def _ratio(numerator: Number, denominator: Number | None, scale: Decimal) -> Decimal | None:
    if denominator is None:
        return None
    bottom = to_decimal(denominator, "denominator")
    if bottom <= 0:
        return None
    return DIVISION.divide(to_decimal(numerator, "numerator") * scale, bottom)


def frequency_index(accidents_with_stoppage: int, headcount: Number | None) -> Decimal | None:
    """Indice de fréquence: accidents with stoppage per 1 000 employees (None without a headcount)."""
    return _ratio(accidents_with_stoppage, headcount, PER_EMPLOYEES)


def frequency_rate(accidents_with_stoppage: int, hours: Number | None) -> Decimal | None:
    """Taux de fréquence: accidents with stoppage per million hours worked (None without hours)."""
    return _ratio(accidents_with_stoppage, hours, PER_HOURS_FREQUENCY)


def gravity_rate(days_lost: int, hours: Number | None) -> Decimal | None:
    """Taux de gravité: days of stoppage per 1 000 hours worked (None without hours)."""
    return _ratio(days_lost, hours, PER_HOURS_GRAVITY)


def display_indicator(value: Decimal | None) -> Decimal | None:
    """One decimal, half-up, as the bilans print (None stays None)."""
    return None if value is None else value.quantize(INDICATOR_QUANTUM, rounding=ROUND_HALF_UP)


def size_band(headcount: int) -> str:
    """The label of the size band `headcount` falls in (SIZE_BANDS)."""
    label = SIZE_BANDS[0][1]
    for lower, name in SIZE_BANDS:
        if headcount >= lower:
            label = name
    return label


def band_bounds(headcount: int) -> tuple[int, int | None]:
    """The [lower, upper) bounds of the size band of `headcount` (upper None: no bound)."""
    lowers = [lower for lower, _ in SIZE_BANDS]
    index = max(i for i, lower in enumerate(lowers) if headcount >= lower)
    upper = lowers[index + 1] if index + 1 < len(lowers) else None
    return lowers[index], upper
