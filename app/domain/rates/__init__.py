"""The Compte AT/MP rate (SPEC §5.1 and §5.2): `costs` holds the whole calculation for now (split next)."""

from pathlib import Path
from typing import Final

from .costs import (
    ALSACE_MOSELLE,
    COLLECTIF,
    COST_COLUMNS,
    INDIVIDUEL,
    MIXTE,
    PRECISION,
    Cap,
    CaseCost,
    Majorations,
    MissingCostError,
    RateCalculation,
    apply_cap,
    bareme_row,
    calculate,
    capped_rate,
    case_cost,
    display_rate,
    gross_rate,
    ip_category,
    is_alsace_moselle,
    is_new_establishment,
    it_category,
    mixed_fraction,
    mixed_rate,
    mode_for,
    net_rate,
    rate_mode,
    reference_years,
    risk_value,
)
from .costs import BTP_COLUMNS as BTP_COLUMNS
from .costs import BTP_GROUP_FROM_IP_CATEGORY as BTP_GROUP_FROM_IP_CATEGORY
from .costs import BTP_GROUPS as BTP_GROUPS
from .costs import CAP_FALL_POINTS as CAP_FALL_POINTS
from .costs import CAP_FALL_RATIO as CAP_FALL_RATIO
from .costs import CAP_PIVOT as CAP_PIVOT
from .costs import CAP_RISE_POINTS as CAP_RISE_POINTS
from .costs import CAP_RISE_RATIO as CAP_RISE_RATIO
from .costs import DISPLAY_QUANTUM as DISPLAY_QUANTUM
from .costs import HUNDRED as HUNDRED
from .costs import IP_COLUMNS as IP_COLUMNS
from .costs import IP_DEATH_CATEGORY as IP_DEATH_CATEGORY
from .costs import IP_LOWER_RATES as IP_LOWER_RATES
from .costs import IT_COLUMNS as IT_COLUMNS
from .costs import IT_UPPER_DAYS as IT_UPPER_DAYS
from .costs import MIXED_FRACTION as MIXED_FRACTION
from .costs import NEW_ESTABLISHMENT_YEARS as NEW_ESTABLISHMENT_YEARS
from .costs import REASON_ALWAYS_COLLECTIVE as REASON_ALWAYS_COLLECTIVE
from .costs import REASON_HEADCOUNT as REASON_HEADCOUNT
from .costs import REASON_NEW_ESTABLISHMENT as REASON_NEW_ESTABLISHMENT
from .costs import REFERENCE_YEARS_BEFORE as REFERENCE_YEARS_BEFORE
from .costs import THRESHOLDS as THRESHOLDS
from .costs import Mode as Mode
from .costs import Number as Number

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
