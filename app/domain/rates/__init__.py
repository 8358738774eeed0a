"""The Compte AT/MP contribution rate of one establishment for one year (SPEC §5.1 and §5.2).

- The mode (collective / mixed / individual) by the company's headcount E and the département
  (CSS D242-6-2, D242-37 in Alsace-Moselle), new establishments (D242-6-17) and activities that are always
  collective (D242-6-14): `rate_mode`, `mode_for`, `is_new_establishment` (`modes`).
- The individual rate from the cases' average costs over the wages of the three last known years
  (CSS D242-6-9, ex-D242-6-4; the categories and the yearly barème: arrêté du 17 octobre 1995 and its yearly
  amending arrêté, annex 2): `it_category`, `ip_category`, `case_cost`, `risk_value` (`costs`), `gross_rate`;
  then the year's majorations M1–M4 (SPEC §5.2): `net_rate` (`formulas`).
- The mixed rate (SPEC §5.2 with the thresholds of D242-6-2 and D242-37), the year-on-year cap (D242-6-15),
  the two decimals of the notices: `mixed_rate`, `apply_cap` / `capped_rate`, `display_rate` (`formulas`).
- `calculate`: the whole calculation as one `RateCalculation`, every step kept so that a screen or a PDF can
  show why the rate is what it is (`calculation`).

Article numbers are those SPEC §5 names, and D242-6-9 (the gross rate, commuting excluded) read in its
version in force since the 2017 renumbering; where no article is named the source is SPEC §5.2 [law].

Money and rates are `Decimal` from end to end; a `float` argument is refused (TypeError). Sums and products
are exact (a rounding there would raise decimal.Inexact). The only divisions — risk value ÷ wages, and the
mixed fraction's ÷ 130 (France), ÷ 10 or ÷ 25 (Alsace-Moselle) — are carried to `PRECISION` significant
digits, in a context of our own (the caller's decimal context never changes a result; `arithmetic`).
Nothing is rounded before `display_rate`.

Every legal constant is in `constants`, with its source. The figures that change every year (barème of
average costs, majorations M1–M4, collective rates) are inputs, never constants (SPEC, preamble): their
published copies are the CSV files of `REFERENCE_DATA_DIR`. Pure Python: no Flask, no database.
"""

from pathlib import Path
from typing import Final

from .calculation import RateCalculation, calculate
from .constants import (
    ALSACE_MOSELLE,
    COLLECTIF,
    COST_COLUMNS,
    INDIVIDUEL,
    MIXTE,
    PRECISION,
)
from .constants import BTP_COLUMNS as BTP_COLUMNS
from .constants import BTP_GROUP_FROM_IP_CATEGORY as BTP_GROUP_FROM_IP_CATEGORY
from .constants import BTP_GROUPS as BTP_GROUPS
from .constants import CAP_FALL_POINTS as CAP_FALL_POINTS
from .constants import CAP_FALL_RATIO as CAP_FALL_RATIO
from .constants import CAP_PIVOT as CAP_PIVOT
from .constants import CAP_RISE_POINTS as CAP_RISE_POINTS
from .constants import CAP_RISE_RATIO as CAP_RISE_RATIO
from .constants import CTN_B_ALSACE_MOSELLE_FROM_FRANCE as CTN_B_ALSACE_MOSELLE_FROM_FRANCE
from .constants import DISPLAY_QUANTUM as DISPLAY_QUANTUM
from .constants import HEADCOUNT_YEAR_BEFORE as HEADCOUNT_YEAR_BEFORE
from .constants import HUNDRED as HUNDRED
from .constants import IP_COLUMNS as IP_COLUMNS
from .constants import IP_DEATH_CATEGORY as IP_DEATH_CATEGORY
from .constants import IP_LOWER_RATES as IP_LOWER_RATES
from .constants import IT_COLUMNS as IT_COLUMNS
from .constants import IT_UPPER_DAYS as IT_UPPER_DAYS
from .constants import MIXED_FRACTION as MIXED_FRACTION
from .constants import NEW_ESTABLISHMENT_YEARS as NEW_ESTABLISHMENT_YEARS
from .constants import REFERENCE_YEARS_BEFORE as REFERENCE_YEARS_BEFORE
from .constants import THRESHOLDS as THRESHOLDS
from .constants import Mode as Mode
from .constants import Number as Number
from .costs import (
    CaseCost,
    MissingCostError,
    bareme_row,
    case_cost,
    ip_category,
    it_category,
    risk_value,
)
from .formulas import (
    Cap,
    Majorations,
    apply_cap,
    capped_rate,
    display_rate,
    gross_rate,
    mixed_fraction,
    mixed_rate,
    net_rate,
)
from .modes import REASON_ALWAYS_COLLECTIVE as REASON_ALWAYS_COLLECTIVE
from .modes import REASON_HEADCOUNT as REASON_HEADCOUNT
from .modes import REASON_NEW_ESTABLISHMENT as REASON_NEW_ESTABLISHMENT
from .modes import (
    headcount_year,
    is_alsace_moselle,
    is_new_establishment,
    mode_for,
    rate_mode,
    reference_years,
)

# The published figures (couts-moyens.csv, majorations.csv; see its README.md): app/domain/reference_data/.
REFERENCE_DATA_DIR: Final = Path(__file__).parents[1] / "reference_data"

__all__ = [
    "ALSACE_MOSELLE",
    "COLLECTIF",
    "COST_COLUMNS",
    "INDIVIDUEL",
    "MIXTE",
    "PRECISION",
    "REFERENCE_DATA_DIR",
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
    "headcount_year",
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
