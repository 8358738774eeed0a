"""The legal constants of the Compte AT/MP rate (the one place), each with its source (SPEC §5.1 and §5.2).

The figures that change every year (barème of average costs, majorations M1–M4, collective rates) are
inputs, never constants (SPEC, preamble).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final, Literal

Mode = Literal["collectif", "mixte", "individuel"]
Number = Decimal | int | str

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

# -- Readings to confirm (docs/compte.md, « Lectures retenues »): each is the one place to change it. --------

# [reading to confirm] E, the company's headcount that chooses the mode, is the one of year N-2 — the last
# of the reference years (the sum of its establishments' imported headcounts that year). SPEC §5.1 names no
# year; D242-6-2 reads « l'effectif de l'entreprise » without the year the Carsat takes it from.
HEADCOUNT_YEAR_BEFORE: Final = 2

# [reading to confirm] CTN B in Alsace-Moselle: the published 57/67/68 row of the barème gives only the
# IP ≥ 10 % and death amounts; these cells, when empty there, are read from the CTN B row outside
# Alsace-Moselle of the same year (the barème names one amount per IT category and for IP < 10 % for the
# whole CTN B). An empty tuple would leave them missing (the rate then not computable).
CTN_B_ALSACE_MOSELLE_FROM_FRANCE: Final = (
    "it1_lt4",
    "it2_4_15",
    "it3_16_45",
    "it4_46_90",
    "it5_91_150",
    "it6_gt150",
    "ip1_lt10",
)

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
