"""The Compte AT/MP contribution rate of one establishment for one year (SPEC §5.1 and §5.2).

- The mode (collective / mixed / individual) by the company's headcount E and the département
  (CSS D242-6-2, D242-37 in Alsace-Moselle), new establishments (D242-6-17) and activities that are always
  collective (D242-6-14): `rate_mode`, `mode_for`, `is_new_establishment`.
- The individual rate from the cases' average costs over the wages of the three last known years
  (CSS D242-6-9, ex-D242-6-4; the categories and the yearly barème: arrêté du 17 octobre 1995 and its yearly
  amending arrêté, annex 2): `it_category`, `ip_category`, `case_cost`, `risk_value`, `gross_rate`; then the
  year's majorations M1–M4 (SPEC §5.2): `net_rate`.
- The mixed rate (SPEC §5.2 with the thresholds of D242-6-2 and D242-37), the year-on-year cap (D242-6-15),
  the two decimals of the notices: `mixed_rate`, `apply_cap` / `capped_rate`, `display_rate`.
- `calculate`: the whole calculation as one `RateCalculation`, every step kept so that a screen or a PDF can
  show why the rate is what it is.

Article numbers are those SPEC §5 names, and D242-6-9 (the gross rate, commuting excluded) read in its
version in force since the 2017 renumbering; where no article is named the source is SPEC §5.2 [law].

Money and rates are `Decimal` from end to end; a `float` argument is refused (TypeError). Sums and products
are exact (a rounding there would raise decimal.Inexact). The only divisions — risk value ÷ wages, and the
mixed fraction's ÷ 130 (France), ÷ 10 or ÷ 25 (Alsace-Moselle) — are carried to `PRECISION` significant
digits, in a context of our own (the caller's decimal context never changes a result). Nothing is rounded
before `display_rate`.

Every legal constant is in the block below, with its source. The figures that change every year (barème of
average costs, majorations M1–M4, collective rates) are inputs, never constants (SPEC, preamble).
Pure Python: no Flask, no database.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Final, Literal, ParamSpec, TypeVar

from app.domain.calendars import normalize_departement

__all__ = [
    "ALSACE_MOSELLE",
    "COLLECTIF",
    "COST_COLUMNS",
    "INDIVIDUEL",
    "MIXTE",
    "PRECISION",
    "Cap",
    "CaseCost",
    "Majorations",
    "MissingCostError",
    "RateCalculation",
    "apply_cap",
    "bareme_row",
    "calculate",
    "capped_rate",
    "case_cost",
    "display_rate",
    "gross_rate",
    "ip_category",
    "is_alsace_moselle",
    "is_new_establishment",
    "it_category",
    "mixed_fraction",
    "mixed_rate",
    "mode_for",
    "net_rate",
    "rate_mode",
    "reference_years",
    "risk_value",
]

Mode = Literal["collectif", "mixte", "individuel"]
Number = Decimal | int | str
P = ParamSpec("P")
R = TypeVar("R")

# ==== Legal constants (the one place) ===================================================================

COLLECTIF: Final = "collectif"
MIXTE: Final = "mixte"
INDIVIDUEL: Final = "individuel"

# Départements of the régime local (Moselle, Bas-Rhin, Haut-Rhin), whose thresholds are those of CSS D242-37.
ALSACE_MOSELLE: Final = frozenset({"57", "67", "68"})

# Mode thresholds on the company's headcount E: (first mixed E, first individual E).
# France, every activity including the BTP: collective E < 20, mixed 20 ≤ E < 150, individual E ≥ 150
# (CSS D242-6-2). Alsace-Moselle: collective E < 50, mixed 50 ≤ E < 150, individual E ≥ 150; in the BTP
# mixed 50 ≤ E < 300, individual E ≥ 300 (CSS D242-37).
THRESHOLDS: Final[Mapping[tuple[bool, bool], tuple[int, int]]] = {
    # (alsace_moselle, btp): (mixed from, individual from)
    (False, False): (20, 150),
    (False, True): (20, 150),
    (True, False): (50, 150),
    (True, True): (50, 300),
}

# Share f of the individual rate in a mixed rate (SPEC §5.2), written f = (A × E + B) / D so that only one
# division is made. France: f = 0,9/130 × (E − 20) + 0,1 = (0,9 E − 5) / 130. Alsace-Moselle:
# f = (0,075 E − 1,25) / 10, and in the BTP f = (0,075 E + 2,5) / 25. Each gives f = 1 at the first
# individual headcount, and 0,1 (France) or 0,25 (Alsace-Moselle) at the first mixed one.
MIXED_FRACTION: Final[Mapping[tuple[bool, bool], tuple[Decimal, Decimal, Decimal]]] = {
    (False, False): (Decimal("0.9"), Decimal(-5), Decimal(130)),
    (False, True): (Decimal("0.9"), Decimal(-5), Decimal(130)),
    (True, False): (Decimal("0.075"), Decimal("-1.25"), Decimal(10)),
    (True, True): (Decimal("0.075"), Decimal("2.5"), Decimal(25)),
}

# Year-on-year cap on a mixed or individual net rate (CSS D242-6-15). Above PIVOT (last rate > 4 %) the
# variation is relative (+25 % / −20 % of the last rate), otherwise absolute (+1 / −0,8 point). At exactly
# 4 % both readings give the same bounds (5 % and 3,2 %).
CAP_PIVOT: Final = Decimal(4)
CAP_RISE_RATIO: Final = Decimal("0.25")
CAP_FALL_RATIO: Final = Decimal("0.20")
CAP_RISE_POINTS: Final = Decimal(1)
CAP_FALL_POINTS: Final = Decimal("0.8")

# New establishments: collective in the year of creation and the two following calendar years (D242-6-17).
NEW_ESTABLISHMENT_YEARS: Final = 3

# The rate of year N weighs the cases and wages of « the three last known years » (D242-6-9): N-4 to N-2
# (SPEC §5.2, issue 15: the year N-1 is not closed when the rate of N is notified).
REFERENCE_YEARS_BEFORE: Final = (4, 3, 2)

# Categories of the barème (arrêté du 17 octobre 1995 and the yearly arrêté's annex 2; SPEC §5.2).
# Temporary incapacity by days of stoppage: upper bounds of categories 1–5 (6: more than 150 days).
# Category 1 is « sans arrêt de travail ou arrêt de moins de 4 jours », so 0 days is category 1.
IT_UPPER_DAYS: Final = (3, 15, 45, 90, 150)
# Permanent incapacity by rate (%): lower bounds of categories 2–4; category 4 also takes a death.
IP_LOWER_RATES: Final = (Decimal(10), Decimal(20), Decimal(40))
IP_DEATH_CATEGORY: Final = 4

# Columns of couts-moyens.csv (the barème row given to `risk_value`).
IT_COLUMNS: Final = ("it1_lt4", "it2_4_15", "it3_16_45", "it4_46_90", "it5_91_150", "it6_gt150")
IP_COLUMNS: Final = ("ip1_lt10", "ip2_10_19", "ip3_20_39", "ip4_ge40_or_death")
BTP_GROUPS: Final = ("gros_oeuvre", "second_oeuvre", "fonctions_support")
BTP_COLUMNS: Final = tuple(f"btp_{group}" for group in BTP_GROUPS)
COST_COLUMNS: Final = IT_COLUMNS + IP_COLUMNS + BTP_COLUMNS
# In the BTP (CTN B outside 57/67/68) an IP of 10 % or more, or a death, costs one amount per group.
BTP_GROUP_FROM_IP_CATEGORY: Final = 2

# Divisions are carried to this many significant digits; the notices print 2 decimals, half-up.
PRECISION: Final = 40
DISPLAY_QUANTUM: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)

_TRAPS: Final = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
# Sums, products and comparisons: exact. A result that would need rounding raises decimal.Inexact (a bug,
# never a silent rounding).
_EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=ROUND_HALF_EVEN,
    traps=[*_TRAPS, decimal.Inexact],
)
# The divisions: PRECISION significant digits, half-even on the last one.
_DIVISION: Final = decimal.Context(prec=PRECISION, rounding=ROUND_HALF_EVEN, traps=_TRAPS)
# The one rounding to 2 decimals (`display_rate`).
_DISPLAY: Final = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, rounding=ROUND_HALF_UP, traps=_TRAPS
)


def _exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` in the exact context, whatever the caller's decimal context is."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with decimal.localcontext(_EXACT):
            return function(*args, **kwargs)

    return wrapper


# ==== Small helpers =======================================================================================


def _dec(value: Any, name: str) -> Decimal:
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


def _headcount(value: Any) -> Decimal:
    result = _dec(value, "headcount")
    if result < 0:
        raise ValueError(f"headcount: negative: {value!r}")
    return result


def is_alsace_moselle(departement: str) -> bool:
    """Whether the département is one of the régime local's (57, 67, 68; CSS D242-37)."""
    return normalize_departement(departement) in ALSACE_MOSELLE


# ==== Mode ================================================================================================


@_exact
def rate_mode(headcount: Number, departement: str, *, btp: bool = False) -> Mode:
    """The rate mode by the company's headcount E (CSS D242-6-2; D242-37 in Alsace-Moselle).

    France: collective E < 20, mixed 20 ≤ E < 150, individual E ≥ 150 (the BTP alike). Alsace-Moselle
    (57, 67, 68): collective E < 50, mixed 50 ≤ E < 150, individual E ≥ 150; in the BTP mixed 50 ≤ E < 300,
    individual E ≥ 300. E is the company's headcount as the caller computed it (an int or a Decimal mean).
    """
    count = _headcount(headcount)
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


def _mode_and_reason(
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
    return _mode_and_reason(
        year,
        headcount,
        departement,
        btp=btp,
        created_on=created_on,
        taux_unique=taux_unique,
        always_collective=always_collective,
    )[0]


def reference_years(year: int) -> tuple[int, int, int]:
    """The years whose cases and wages make the rate of `year`: N-4, N-3 and N-2.

    « The three last known years » of CSS D242-6-9 (SPEC §5.2).
    """
    first, second, third = REFERENCE_YEARS_BEFORE
    return (year - first, year - second, year - third)


# ==== Categories and the risk value =======================================================================


def it_category(stoppage_days: int | None) -> int | None:
    """Temporary-incapacity category 1–6 by days of stoppage (barème annex; SPEC §5.2).

    1: no stoppage or fewer than 4 days; 2: 4–15; 3: 16–45; 4: 46–90; 5: 91–150; 6: more than 150.
    None (no temporary incapacity recorded for the case) gives None.
    """
    if stoppage_days is None:
        return None
    if isinstance(stoppage_days, bool) or not isinstance(stoppage_days, int):
        raise TypeError(f"stoppage days: an int is expected, not {type(stoppage_days).__name__}")
    if stoppage_days < 0:
        raise ValueError(f"stoppage days: negative: {stoppage_days}")
    for category, upper in enumerate(IT_UPPER_DAYS, start=1):
        if stoppage_days <= upper:
            return category
    return len(IT_UPPER_DAYS) + 1


@_exact
def ip_category(ip_rate: Number | None, *, death: bool = False) -> int | None:
    """Permanent-incapacity category 1–4 (barème annex; SPEC §5.2).

    1: IP below 10 %; 2: 10–19 %; 3: 20–39 %; 4: 40 % or more, or the victim's death (whatever the rate).
    No IP (None or 0) and no death gives None. `ip_rate` is in percent (12 for 12 %).
    """
    if death:
        return IP_DEATH_CATEGORY
    if ip_rate is None:
        return None
    rate = _dec(ip_rate, "IP rate")
    if rate < 0 or rate > HUNDRED:
        raise ValueError(f"IP rate: outside 0–100 %: {ip_rate!r}")
    if rate == 0:
        return None
    category = 1
    for lower in IP_LOWER_RATES:
        if rate >= lower:
            category += 1
    return category


class MissingCostError(ValueError):
    """The barème row has no amount for a category a case needs (an empty cell: figure not loaded)."""

    def __init__(self, column: str, row: Mapping[str, Any]) -> None:
        self.column = column
        where = " ".join(str(row[key]) for key in ("year", "ctn", "scope") if row.get(key))
        super().__init__(f"barème {where or '(row)'}: no average cost in column {column}")


@dataclass(frozen=True)
class CaseCost:
    """One case as it weighs in the risk value: its categories, the barème columns used and their amounts.

    A commuting accident (`trajet`) costs nothing (its cost is pooled in M1, SPEC §5.2).
    """

    it: int | None
    ip: int | None
    trajet: bool
    btp_group: str | None
    it_column: str | None
    it_cost: Decimal
    ip_column: str | None
    ip_cost: Decimal
    year: int | None = None
    reference: str | None = None

    @property
    def cost(self) -> Decimal:
        """The case's part of the risk value (IT and IP amounts added)."""
        return _EXACT.add(self.it_cost, self.ip_cost)


def _cell(costs: Mapping[str, Any], column: str) -> Decimal | None:
    value = costs.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _dec(value, column)


def _cost(costs: Mapping[str, Any], column: str) -> Decimal:
    amount = _cell(costs, column)
    if amount is None:
        raise MissingCostError(column, costs)
    return amount


def _is_btp_group_row(costs: Mapping[str, Any]) -> bool:
    return any(_cell(costs, column) is not None for column in BTP_COLUMNS)


def _category(case: Mapping[str, Any], key: str, last: int) -> int | None:
    value = case.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= last:
        raise ValueError(f"case {key}: a category 1–{last} or None is expected, not {value!r}")
    return value


@_exact
def case_cost(case: Mapping[str, Any], costs: Mapping[str, Any]) -> CaseCost:
    """What one case costs in the risk value, by the barème row `costs` (D242-6-9; SPEC §5.2).

    `case`: `it` (category 1–6 or None), `ip` (category 1–4 or None; a death is category 4, see
    `ip_category`), `trajet` (commuting accident: excluded, cost 0), in the BTP `btp_group` ("gros_oeuvre",
    "second_oeuvre" or "fonctions_support"), optionally `year` (imputation year) and `reference` (carried
    to the result for display). A case with both IT and IP counts in both.

    `costs`: one row of the barème with the column names of couts-moyens.csv (Decimal, int or decimal
    string; an empty cell is a figure not loaded and raises `MissingCostError` if a case needs it).

    Which amount an IP costs is read from the row: a row with group amounts (CTN B outside 57/67/68) prices
    an IP of 10 % or more, or a death, at the case's group amount (the case must then name its group);
    a row without (every other CTN, and CTN B in Alsace-Moselle, whose barème has per-category IP amounts)
    prices it by IP category. An IP below 10 % always costs the `ip1_lt10` amount.
    """
    it = _category(case, "it", len(IT_COLUMNS))
    ip = _category(case, "ip", len(IP_COLUMNS))
    trajet = case.get("trajet", False)
    if not isinstance(trajet, bool):
        raise TypeError(f"case trajet: a bool is expected, not {type(trajet).__name__}")
    group = case.get("btp_group")
    if group is not None and group not in BTP_GROUPS:
        raise ValueError(f"case btp_group: one of {', '.join(BTP_GROUPS)} is expected, not {group!r}")
    year = case.get("year")
    reference = case.get("reference")
    zero = Decimal(0)
    if trajet:
        return CaseCost(it, ip, True, group, None, zero, None, zero, year, reference)

    it_column = IT_COLUMNS[it - 1] if it is not None else None
    it_cost = _cost(costs, it_column) if it_column else zero
    ip_column = None
    if ip is not None:
        if ip >= BTP_GROUP_FROM_IP_CATEGORY and _is_btp_group_row(costs):
            if group is None:
                raise ValueError("case btp_group: required for an IP of 10 % or more or a death in the BTP")
            ip_column = f"btp_{group}"
        else:
            ip_column = IP_COLUMNS[ip - 1]
    ip_cost = _cost(costs, ip_column) if ip_column else zero
    return CaseCost(it, ip, False, group, it_column, it_cost, ip_column, ip_cost, year, reference)


@_exact
def risk_value(cases: Iterable[Mapping[str, Any]], costs: Mapping[str, Any]) -> Decimal:
    """The risk value: the sum of the average costs of the cases' categories (CSS D242-6-9; SPEC §5.2).

    Commuting accidents are excluded; a case with both IT and IP counts in both; in the BTP an IP of 10 %
    or more, or a death, costs its group's amount. See `case_cost` for the mappings.
    """
    return sum((case_cost(case, costs).cost for case in cases), Decimal(0))


# ==== Rates ===============================================================================================


@_exact
def gross_rate(risk_value: Number, wages: Number) -> Decimal:
    """Individual gross rate in %: risk value ÷ wages × 100, both over the three years (CSS D242-6-9)."""
    value = _dec(risk_value, "risk value")
    total = _dec(wages, "wages")
    if value < 0:
        raise ValueError(f"risk value: negative: {risk_value!r}")
    if total <= 0:
        raise ValueError("wages: an individual rate needs positive wages over the three years")
    return _DIVISION.divide(_EXACT.multiply(value, HUNDRED), total)


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
            object.__setattr__(self, name, _dec(getattr(self, name), name.upper()))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Majorations:
        """From a row with the columns of majorations.csv (m1_pct, m2_ratio, m3_pct, m4_pct)."""
        return cls(row["m1_pct"], row["m2_ratio"], row["m3_pct"], row["m4_pct"])


@_exact
def net_rate(gross: Number, m1: Number, m2: Number, m3: Number, m4: Number) -> Decimal:
    """Net rate in %: (gross + M1) × (1 + M2) + M3 + M4 (SPEC §5.2). Exact."""
    return (
        (_dec(gross, "gross rate") + _dec(m1, "M1")) * (1 + _dec(m2, "M2")) + _dec(m3, "M3") + _dec(m4, "M4")
    )


def _mixed_band(alsace_moselle: bool, btp: bool) -> tuple[int, int]:
    return THRESHOLDS[(alsace_moselle, btp)]


@_exact
def _fraction_terms(headcount: Number, alsace_moselle: bool, btp: bool) -> tuple[Decimal, Decimal]:
    count = _headcount(headcount)
    mixed_from, individual_from = _mixed_band(alsace_moselle, btp)
    if not mixed_from <= count < individual_from:
        raise ValueError(f"headcount {count}: a mixed rate needs {mixed_from} ≤ E < {individual_from}")
    a, b, d = MIXED_FRACTION[(alsace_moselle, btp)]
    return a * count + b, d


@_exact
def mixed_fraction(headcount: Number, *, alsace_moselle: bool = False, btp: bool = False) -> Decimal:
    """Share f of the individual rate in a mixed rate (SPEC §5.2; bands of CSS D242-6-2 and D242-37).

    France: f = 0,9/130 × (E − 20) + 0,1. Alsace-Moselle: f = (0,075 E − 1,25)/10, BTP f = (0,075 E + 2,5)/25.
    Only for a headcount in the mixed band (ValueError otherwise).
    """
    numerator, denominator = _fraction_terms(headcount, alsace_moselle, btp)
    return _DIVISION.divide(numerator, denominator)


@_exact
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
    weighted = numerator * _dec(individual, "individual rate") + (denominator - numerator) * _dec(
        collective, "collective rate"
    )
    return _DIVISION.divide(weighted, denominator)


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


@_exact
def apply_cap(computed: Number, previous: Number | None) -> Cap:
    """Cap the computed net rate by the last notified rate (CSS D242-6-15).

    Rise at most +25 % of the last rate if it is above 4 %, else +1 point; fall at most −20 % of the last
    rate if it is above 4 %, else −0,8 point. `previous` None (no last rate to compare with: the caller
    decides when the cap does not apply) leaves the rate as computed.
    """
    rate = _dec(computed, "computed rate")
    if previous is None:
        return Cap(rate, None, None, None, None, rate, None)
    last = _dec(previous, "previous rate")
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
    return _dec(rate, "rate").quantize(DISPLAY_QUANTUM, rounding=ROUND_HALF_UP, context=_DISPLAY)


# ==== Reference data parsing ==============================================================================


def bareme_row(row: Mapping[str, str]) -> dict[str, Any]:
    """One couts-moyens.csv row (as `csv.DictReader` gives it) with its amounts as Decimal, empty as None."""
    parsed: dict[str, Any] = {
        "year": int(row["year"]),
        "ctn": row["ctn"].strip(),
        "scope": row["scope"].strip(),
    }
    for column in COST_COLUMNS:
        raw = (row.get(column) or "").strip()
        parsed[column] = _dec(raw, column) if raw else None
    return parsed


# ==== The whole calculation ===============================================================================


@dataclass(frozen=True)
class RateCalculation:
    """Every step of one establishment's rate for one year, for the screen and the notification PDF.

    For a collective rate only the mode, the headcount and the collective rate are filled; the individual
    steps (wages, cases, risk value, gross, net individual) are None. `mixed_fraction` is set in mixed mode.
    `computed` is the rate before the cap, `net` after it (exact), `displayed` the notified 2-decimal rate.
    """

    year: int
    mode: Mode
    mode_reason: str
    headcount: Decimal
    departement: str
    alsace_moselle: bool
    btp: bool
    reference_years: tuple[int, int, int]
    collective_rate: Decimal
    wages: Mapping[int, Decimal] | None
    total_wages: Decimal | None
    cases: tuple[CaseCost, ...] | None
    risk_value: Decimal | None
    gross: Decimal | None
    majorations: Majorations | None
    individual_net: Decimal | None
    mixed_fraction: Decimal | None
    computed: Decimal
    cap: Cap | None
    net: Decimal
    displayed: Decimal


@_exact
def calculate(
    *,
    year: int,
    headcount: Number,
    departement: str,
    collective_rate: Number,
    wages: Mapping[int, Number] | None = None,
    cases: Iterable[Mapping[str, Any]] = (),
    costs: Mapping[str, Any] | None = None,
    majorations: Majorations | None = None,
    previous_rate: Number | None = None,
    btp: bool = False,
    created_on: date | None = None,
    taux_unique: bool = False,
    always_collective: bool = False,
) -> RateCalculation:
    """One establishment's rate for `year`, every step kept (SPEC §5.1, §5.2; the articles of each step).

    `collective_rate`: the net collective rate of the establishment's risk category for `year` (the
    Alsace-Moselle table in 57/67/68). In mixed and individual mode also: `wages` for each of the three
    reference years (`reference_years`, 0 for a year without wages), the `cases` imputed to those years
    (mappings as for `case_cost`; a case's `year`, when given, must be one of them), `costs` the barème row
    of the establishment's CTN for `year`, `majorations` those of `year`. `previous_rate`: the last notified
    rate, for the cap (None: no cap). A collective rate is neither computed from cases nor capped.
    """
    mode, reason = _mode_and_reason(
        year,
        headcount,
        departement,
        btp=btp,
        created_on=created_on,
        taux_unique=taux_unique,
        always_collective=always_collective,
    )
    count = _headcount(headcount)
    local = is_alsace_moselle(departement)
    years = reference_years(year)
    collective = _dec(collective_rate, "collective rate")
    common = {
        "year": year,
        "mode": mode,
        "mode_reason": reason,
        "headcount": count,
        "departement": normalize_departement(departement),
        "alsace_moselle": local,
        "btp": btp,
        "reference_years": years,
        "collective_rate": collective,
    }
    if mode == COLLECTIF:
        return RateCalculation(
            **common,
            wages=None,
            total_wages=None,
            cases=None,
            risk_value=None,
            gross=None,
            majorations=None,
            individual_net=None,
            mixed_fraction=None,
            computed=collective,
            cap=None,
            net=collective,
            displayed=display_rate(collective),
        )

    if wages is None or costs is None or majorations is None:
        raise ValueError(f"a {mode} rate needs the wages, the barème row and the majorations")
    if set(wages) != set(years):
        raise ValueError(f"wages: one amount for each of the years {years[0]}–{years[-1]} is expected")
    per_year = {y: _dec(wages[y], f"wages {y}") for y in years}
    if any(amount < 0 for amount in per_year.values()):
        raise ValueError("wages: negative amount")
    total_wages = sum(per_year.values(), Decimal(0))
    case_costs = tuple(case_cost(case, costs) for case in cases)
    for item in case_costs:
        if item.year is not None and item.year not in years:
            raise ValueError(
                f"case {item.reference or ''}: imputed to {item.year}, outside {years[0]}–{years[-1]}"
            )
    value = sum((item.cost for item in case_costs), Decimal(0))
    gross = gross_rate(value, total_wages)
    individual = net_rate(gross, majorations.m1, majorations.m2, majorations.m3, majorations.m4)
    fraction = None
    computed = individual
    if mode == MIXTE:
        fraction = mixed_fraction(count, alsace_moselle=local, btp=btp)
        computed = mixed_rate(count, individual, collective, alsace_moselle=local, btp=btp)
    cap = apply_cap(computed, previous_rate)
    return RateCalculation(
        **common,
        wages=per_year,
        total_wages=total_wages,
        cases=case_costs,
        risk_value=value,
        gross=gross,
        majorations=majorations,
        individual_net=individual,
        mixed_fraction=fraction,
        computed=computed,
        cap=cap,
        net=cap.rate,
        displayed=display_rate(cap.rate),
    )
