"""The rate formulas: gross and net individual rates, the mixed rate, the year-on-year cap, the display.

Gross rate: risk value ÷ wages (CSS D242-6-9); net rate: the year's majorations M1–M4 (SPEC §5.2); mixed
rate: SPEC §5.2 with the bands of D242-6-2 and D242-37; cap: D242-6-15; the notices' two decimals:
`display_rate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .arithmetic import DISPLAY, DIVISION, EXACT, exact, to_decimal, to_headcount
from .constants import (
    CAP_FALL_POINTS,
    CAP_FALL_RATIO,
    CAP_PIVOT,
    CAP_RISE_POINTS,
    CAP_RISE_RATIO,
    DISPLAY_QUANTUM,
    HUNDRED,
    MIXED_FRACTION,
    THRESHOLDS,
    Number,
)


@exact
def gross_rate(risk_value: Number, wages: Number) -> Decimal:
    """Individual gross rate in %: risk value ÷ wages × 100, both over the three years (CSS D242-6-9)."""
    value = to_decimal(risk_value, "risk value")
    total = to_decimal(wages, "wages")
    if value < 0:
        raise ValueError(f"risk value: negative: {risk_value!r}")
    if total <= 0:
        raise ValueError("wages: an individual rate needs positive wages over the three years")
    return DIVISION.divide(EXACT.multiply(value, HUNDRED), total)


@dataclass(frozen=True)
class Majorations:
    """The year's majorations, fixed each year by arrêté (SPEC §5.2): M1 (commuting), M3 (pooled charges),
    M4 (hardship account) in % of wages, M2 (management costs, transfers) a ratio. From a row of
    majorations.csv: `from_row`.
    """

    m1: Decimal
    m2: Decimal
    m3: Decimal
    m4: Decimal

    def __post_init__(self) -> None:
        for name in ("m1", "m2", "m3", "m4"):
            object.__setattr__(self, name, to_decimal(getattr(self, name), name.upper()))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Majorations:
        """From a row with the columns of majorations.csv (m1_pct, m2_ratio, m3_pct, m4_pct)."""
        return cls(row["m1_pct"], row["m2_ratio"], row["m3_pct"], row["m4_pct"])


@exact
def net_rate(gross: Number, m1: Number, m2: Number, m3: Number, m4: Number) -> Decimal:
    """Net rate in %: (gross + M1) × (1 + M2) + M3 + M4 (SPEC §5.2). Exact."""
    return (
        (to_decimal(gross, "gross rate") + to_decimal(m1, "M1")) * (1 + to_decimal(m2, "M2"))
        + to_decimal(m3, "M3")
        + to_decimal(m4, "M4")
    )


def _mixed_band(alsace_moselle: bool, btp: bool) -> tuple[int, int]:
    return THRESHOLDS[(alsace_moselle, btp)]


@exact
def _fraction_terms(headcount: Number, alsace_moselle: bool, btp: bool) -> tuple[Decimal, Decimal]:
    count = to_headcount(headcount)
    mixed_from, individual_from = _mixed_band(alsace_moselle, btp)
    if not mixed_from <= count < individual_from:
        raise ValueError(f"headcount {count}: a mixed rate needs {mixed_from} ≤ E < {individual_from}")
    a, b, d = MIXED_FRACTION[(alsace_moselle, btp)]
    return a * count + b, d


@exact
def mixed_fraction(headcount: Number, *, alsace_moselle: bool = False, btp: bool = False) -> Decimal:
    """Share f of the individual rate in a mixed rate (SPEC §5.2; bands of CSS D242-6-2 and D242-37).

    France: f = 0,9/130 × (E − 20) + 0,1. Alsace-Moselle: f = (0,075 E − 1,25)/10, BTP f = (0,075 E + 2,5)/25.
    Only for a headcount in the mixed band (ValueError otherwise).
    """
    numerator, denominator = _fraction_terms(headcount, alsace_moselle, btp)
    return DIVISION.divide(numerator, denominator)


@exact
def mixed_rate(
    headcount: Number,
    individual: Number,
    collective: Number,
    *,
    alsace_moselle: bool = False,
    btp: bool = False,
) -> Decimal:
    """Mixed rate: f × individual + (1 − f) × collective, f by `mixed_fraction` (SPEC §5.2).

    `individual` is the establishment's net individual rate, `collective` the net collective rate of its
    risk category for the year. Computed with a single division, (n × individual + (d − n) × collective) / d.
    """
    numerator, denominator = _fraction_terms(headcount, alsace_moselle, btp)
    weighted = numerator * to_decimal(individual, "individual rate") + (denominator - numerator) * to_decimal(
        collective, "collective rate"
    )
    return DIVISION.divide(weighted, denominator)


@dataclass(frozen=True)
class Cap:
    """The year-on-year cap of CSS D242-6-15 as applied: the bounds around the last rate and the outcome.

    `direction` is "hausse" when the computed rate was lowered to `ceiling`, "baisse" when it was raised to
    `floor`, None when it lay within the bounds (or there was no last rate).
    """

    computed: Decimal
    previous: Decimal | None
    ceiling: Decimal | None
    floor: Decimal | None
    relative: bool | None  # True: ±25 %/20 % of the last rate (> 4 %); False: +1/−0,8 point; None: no cap
    rate: Decimal
    direction: Literal["hausse", "baisse"] | None

    @property
    def applied(self) -> bool:
        """Whether the cap changed the rate."""
        return self.direction is not None


@exact
def apply_cap(computed: Number, previous: Number | None) -> Cap:
    """Cap the computed net rate by the last notified rate (CSS D242-6-15).

    Rise at most +25 % of the last rate if it is above 4 %, else +1 point; fall at most −20 % of the last
    rate if it is above 4 %, else −0,8 point. `previous` None (no last rate to compare with: the caller
    decides when the cap does not apply) leaves the rate as computed.
    """
    rate = to_decimal(computed, "computed rate")
    if previous is None:
        return Cap(rate, None, None, None, None, rate, None)
    last = to_decimal(previous, "previous rate")
    if last < 0:
        raise ValueError(f"previous rate: negative: {previous!r}")
    relative = last > CAP_PIVOT
    if relative:
        ceiling = last * (1 + CAP_RISE_RATIO)
        floor = last * (1 - CAP_FALL_RATIO)
    else:
        ceiling = last + CAP_RISE_POINTS
        floor = last - CAP_FALL_POINTS
    if rate > ceiling:
        return Cap(rate, last, ceiling, floor, relative, ceiling, "hausse")
    if rate < floor:
        return Cap(rate, last, ceiling, floor, relative, floor, "baisse")
    return Cap(rate, last, ceiling, floor, relative, rate, None)


def capped_rate(computed: Number, previous: Number | None) -> Decimal:
    """The computed net rate after the year-on-year cap of CSS D242-6-15 (see `apply_cap`)."""
    return apply_cap(computed, previous).rate


def display_rate(rate: Number) -> Decimal:
    """The rate as the notices print it: 2 decimals, rounded half-up (3,085 → 3,09; SPEC §5.2)."""
    return to_decimal(rate, "rate").quantize(DISPLAY_QUANTUM, rounding=ROUND_HALF_UP, context=DISPLAY)
