"""What the cases cost: their IT and IP categories, the barème row, the risk value (SPEC §5.2).

The categories and the yearly barème: arrêté du 17 octobre 1995 and its yearly amending arrêté, annex 2;
the risk value: CSS D242-6-9 (commuting accidents excluded). `bareme_row` parses a row of
couts-moyens.csv.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .arithmetic import EXACT, exact, to_decimal
from .constants import (
    BTP_COLUMNS,
    BTP_GROUP_FROM_IP_CATEGORY,
    BTP_GROUPS,
    COST_COLUMNS,
    HUNDRED,
    IP_COLUMNS,
    IP_DEATH_CATEGORY,
    IP_LOWER_RATES,
    IT_COLUMNS,
    IT_UPPER_DAYS,
    Number,
)


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


@exact
def ip_category(ip_rate: Number | None, *, death: bool = False) -> int | None:
    """Permanent-incapacity category 1–4 (barème annex; SPEC §5.2).

    1: IP below 10 %; 2: 10–19 %; 3: 20–39 %; 4: 40 % or more, or the victim's death (whatever the rate).
    No IP (None or 0) and no death gives None. `ip_rate` is in percent (12 for 12 %).
    """
    if death:
        return IP_DEATH_CATEGORY
    if ip_rate is None:
        return None
    rate = to_decimal(ip_rate, "IP rate")
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
        return EXACT.add(self.it_cost, self.ip_cost)


def _cell(costs: Mapping[str, Any], column: str) -> Decimal | None:
    value = costs.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_decimal(value, column)


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


@exact
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


@exact
def risk_value(cases: Iterable[Mapping[str, Any]], costs: Mapping[str, Any]) -> Decimal:
    """The risk value: the sum of the average costs of the cases' categories (CSS D242-6-9; SPEC §5.2).

    Commuting accidents are excluded; a case with both IT and IP counts in both; in the BTP an IP of 10 %
    or more, or a death, costs its group's amount. See `case_cost` for the mappings.
    """
    return sum((case_cost(case, costs).cost for case in cases), Decimal(0))


def bareme_row(row: Mapping[str, str]) -> dict[str, Any]:
    """One couts-moyens.csv row (as `csv.DictReader` gives it) with its amounts as Decimal, empty as None."""
    parsed: dict[str, Any] = {
        "year": int(row["year"]),
        "ctn": row["ctn"].strip(),
        "scope": row["scope"].strip(),
    }
    for column in COST_COLUMNS:
        raw = (row.get(column) or "").strip()
        parsed[column] = to_decimal(raw, column) if raw else None
    return parsed
