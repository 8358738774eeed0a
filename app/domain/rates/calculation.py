"""The whole calculation of one establishment's rate for one year, every step kept (SPEC §5.1, §5.2).

`calculate` gives a `RateCalculation` so that a screen or a PDF can show why the rate is what it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.calendars import normalize_departement

from .arithmetic import exact, to_decimal, to_headcount
from .constants import COLLECTIF, MIXTE, Mode, Number
from .costs import CaseCost, case_cost
from .formulas import (
    Cap,
    Majorations,
    apply_cap,
    display_rate,
    gross_rate,
    mixed_fraction,
    mixed_rate,
    net_rate,
)
from .modes import is_alsace_moselle, mode_and_reason, reference_years


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


@exact
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
    mode, reason = mode_and_reason(
        year,
        headcount,
        departement,
        btp=btp,
        created_on=created_on,
        taux_unique=taux_unique,
        always_collective=always_collective,
    )
    count = to_headcount(headcount)
    local = is_alsace_moselle(departement)
    years = reference_years(year)
    collective = to_decimal(collective_rate, "collective rate")
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
    per_year = {y: to_decimal(wages[y], f"wages {y}") for y in years}
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
