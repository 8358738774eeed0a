"""Money is `Decimal` from end to end: a float (or a bool, or a string) where an amount is expected raises
TypeError. The one rounding is `round_cent`: half-up to the cent, per line, before any cap; caps only
subtract, so nothing is rounded twice.
"""

from __future__ import annotations

import decimal
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from app.domain.calendars import PARIS

CENT: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)
ZERO: Final = Decimal(0)

# Products and sums are exact (an amount HT has a handful of digits); a result that would need rounding
# raises decimal.Inexact — a bug, never a silent rounding. The caller's decimal context changes nothing.
_EXACT: Final = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)
# The one rounding (`round_cent`): the same, without the Inexact trap.
_ROUNDING: Final = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def round_cent(amount: Decimal) -> Decimal:
    """THE rounding of the subsidies: half-up to the cent (5,005 € → 5,01 €), applied once per line."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP, context=_ROUNDING)


def format_euros(amount: Decimal) -> str:
    """``Decimal("25000")`` → ``"25 000,00 €"`` (no-break spaces, so an amount is never cut at a line end)."""
    text = f"{round_cent(amount):,.2f}"
    return text.replace(",", "\u00a0").replace(".", ",") + "\u00a0€"


def _amount(value: Any, name: str) -> Decimal:
    """An amount or count given by code: a Decimal or an int, never a float, a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name}: a Decimal (or an int) is expected, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name}: not a finite number: {value!r}")
    if result < 0:
        raise ValueError(f"{name}: negative: {value!r}")
    return result


def _date(value: Any, name: str) -> date:
    if not isinstance(value, date):
        raise TypeError(f"{name}: a date is expected, not {type(value).__name__}")
    return value


def _today() -> date:
    return datetime.now(PARIS).date()
