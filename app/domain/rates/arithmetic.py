"""The decimal arithmetic of the rate: exact sums and products, `PRECISION`-digit divisions, one rounding.

Every public function of the package runs in `EXACT` (`exact`), whatever the caller's decimal context is;
the only divisions use `DIVISION`, the only rounding (`display_rate`) `DISPLAY`. `to_decimal` is the one
way an argument becomes a Decimal: Decimal, int or a decimal string, never a float.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Final, ParamSpec, TypeVar

from .constants import PRECISION

P = ParamSpec("P")
R = TypeVar("R")

_TRAPS: Final = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
# Sums, products and comparisons: exact. A result that would need rounding raises decimal.Inexact (a bug,
# never a silent rounding).
EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=ROUND_HALF_EVEN,
    traps=[*_TRAPS, decimal.Inexact],
)
# The divisions: PRECISION significant digits, half-even on the last one.
DIVISION: Final = decimal.Context(prec=PRECISION, rounding=ROUND_HALF_EVEN, traps=_TRAPS)
# The one rounding to 2 decimals (`display_rate`).
DISPLAY: Final = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, rounding=ROUND_HALF_UP, traps=_TRAPS
)


def exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` in the exact context, whatever the caller's decimal context is."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with decimal.localcontext(EXACT):
            return function(*args, **kwargs)

    return wrapper


def to_decimal(value: Any, name: str) -> Decimal:
    """`value` as an exact Decimal: Decimal, int or a decimal string (a CSV cell); never a float."""
    if isinstance(value, bool | float):
        raise TypeError(
            f"{name}: a Decimal, an int or a decimal string is expected, not {type(value).__name__}"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError(f"{name}: not a decimal number: {value!r}") from None
    else:
        raise TypeError(
            f"{name}: a Decimal, an int or a decimal string is expected, not {type(value).__name__}"
        )
    if not result.is_finite():
        raise ValueError(f"{name}: not a finite number: {value!r}")
    return result


def to_headcount(value: Any) -> Decimal:
    result = to_decimal(value, "headcount")
    if result < 0:
        raise ValueError(f"headcount: negative: {value!r}")
    return result
