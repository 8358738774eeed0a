"""The Compte AT/MP rate (SPEC §5.1 and §5.2), on figures worked out by hand from the rules.

Barème rows and majorations are those of app/domain/reference_data/ (2024: arrêté du 27 décembre 2023,
annex 2). CTN A 2024: IT 287 / 522 / 1 758 / 4 770 / 8 924 / 40 783, IP 2 226 / 65 734 / 133 102 / 676 026.
CTN B 2024 outside 57/67/68: IP < 10 % 2 317, IP ≥ 10 % or death 151 726 (gros œuvre), 169 866 (second
œuvre), 184 269 (fonctions support); in 57/67/68: IP 63 037 / 119 707 / 541 156. Majorations 2024: M1 0,17,
M2 0,58, M3 0,16, M4 0,03.
"""

from __future__ import annotations

import csv
import decimal
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from app.domain import rates
from app.domain.rates import (
    COLLECTIF,
    INDIVIDUEL,
    MIXTE,
    Majorations,
    MissingCostError,
    apply_cap,
    bareme_row,
    calculate,
    capped_rate,
    case_cost,
    display_rate,
    gross_rate,
    headcount_year,
    ip_category,
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

D = Decimal
REFERENCE_DATA = rates.REFERENCE_DATA_DIR


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def _bareme(year: int, ctn: str, scope: str = "national") -> dict:
    for row in _rows("couts-moyens.csv"):
        if (int(row["year"]), row["ctn"], row["scope"]) == (year, ctn, scope):
            return bareme_row(row)
    raise LookupError((year, ctn, scope))


def _majorations(year: int) -> Majorations:
    return Majorations.from_row(next(row for row in _rows("majorations.csv") if int(row["year"]) == year))


CTN_A_2024 = _bareme(2024, "A")
CTN_B_2024 = _bareme(2024, "B", "hors 57/67/68")
CTN_B_2024_ALSACE_MOSELLE = _bareme(2024, "B", "57/67/68")
MAJORATIONS_2024 = _majorations(2024)


def _case(it=None, ip=None, *, trajet=False, btp_group=None, year=None, reference=None) -> dict:
    return {
        "it": it,
        "ip": ip,
        "trajet": trajet,
        "btp_group": btp_group,
        "year": year,
        "reference": reference,
    }


# SPEC §5.2's worked example: 5 cases of fewer than 4 days, one of more than 150 days, two of 4–15 days.
WORKED_EXAMPLE_CASES = [_case(it=1)] * 5 + [_case(it=6)] + [_case(it=2)] * 2


# --- §5.1 the mode by headcount -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headcount", "mode"),
    [(0, COLLECTIF), (19, COLLECTIF), (20, MIXTE), (149, MIXTE), (150, INDIVIDUEL), (5000, INDIVIDUEL)],
)
@pytest.mark.parametrize("btp", [False, True])
def test_france_is_collective_below_20_mixed_to_149_individual_from_150_btp_alike(headcount, mode, btp):
    assert rate_mode(headcount, "75", btp=btp) == mode
    assert rate_mode(headcount, "2A", btp=btp) == mode


@pytest.mark.parametrize("departement", ["57", "67", "68"])
@pytest.mark.parametrize(
    ("headcount", "mode"), [(49, COLLECTIF), (50, MIXTE), (149, MIXTE), (150, INDIVIDUEL)]
)
def test_alsace_moselle_is_collective_below_50_mixed_to_149_individual_from_150(departement, headcount, mode):
    assert rate_mode(headcount, departement) == mode


@pytest.mark.parametrize("departement", ["57", "67", "68"])
@pytest.mark.parametrize(
    ("headcount", "mode"), [(49, COLLECTIF), (50, MIXTE), (150, MIXTE), (299, MIXTE), (300, INDIVIDUEL)]
)
def test_alsace_moselle_btp_is_mixed_from_50_to_299_individual_from_300(departement, headcount, mode):
    assert rate_mode(headcount, departement, btp=True) == mode


def test_the_same_headcount_gives_different_modes_in_france_and_in_alsace_moselle():
    assert (rate_mode(30, "54"), rate_mode(30, "57")) == (MIXTE, COLLECTIF)
    assert (rate_mode(200, "75", btp=True), rate_mode(200, "67", btp=True)) == (INDIVIDUEL, MIXTE)
    assert (rate_mode(200, "67"), rate_mode(200, "67", btp=True)) == (INDIVIDUEL, MIXTE)


def test_a_mean_headcount_in_decimal_is_compared_exactly():
    assert rate_mode(D("19.99"), "75") == COLLECTIF
    assert rate_mode(D("20.00"), "75") == MIXTE
    assert rate_mode(D("149.5"), "57", btp=False) == MIXTE


def test_bad_headcount_or_departement_is_refused():
    with pytest.raises(TypeError):
        rate_mode(19.5, "75")
    with pytest.raises(ValueError, match="negative"):
        rate_mode(-1, "75")
    with pytest.raises(ValueError, match="département"):
        rate_mode(10, "20")


# --- §5.1 new establishments, taux unique, always-collective activities --------------------------------


def test_a_new_establishment_is_collective_in_its_creation_year_and_the_two_following():
    created = date(2024, 12, 31)
    assert [is_new_establishment(created, year) for year in (2024, 2025, 2026, 2027)] == [
        True,
        True,
        True,
        False,
    ]
    assert is_new_establishment(date(2024, 1, 1), 2027) is False


def test_a_taux_unique_lifts_the_new_establishment_rule():
    assert is_new_establishment(date(2025, 3, 1), 2025, taux_unique=True) is False
    assert mode_for(2025, 400, "75", created_on=date(2025, 3, 1), taux_unique=True) == INDIVIDUEL


def test_mode_for_puts_new_establishments_and_always_collective_activities_in_collective():
    assert mode_for(2026, 400, "75", created_on=date(2024, 6, 1)) == COLLECTIF
    assert mode_for(2027, 400, "75", created_on=date(2024, 6, 1)) == INDIVIDUEL
    assert mode_for(2027, 400, "75", always_collective=True) == COLLECTIF
    assert mode_for(2027, 100, "57", created_on=None) == MIXTE


def test_no_rate_before_the_establishment_exists():
    with pytest.raises(ValueError, match="created"):
        is_new_establishment(date(2027, 1, 1), 2026)


def test_the_rate_of_year_n_uses_the_years_n_minus_4_to_n_minus_2():
    assert reference_years(2027) == (2023, 2024, 2025)


def test_the_headcount_that_chooses_the_mode_is_the_last_reference_years():
    """A reading to confirm (docs/compte.md, « Lectures retenues »): E of N-2."""
    assert headcount_year(2027) == 2025 == reference_years(2027)[-1]


# --- §5.2 categories -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "category"),
    [
        (0, 1),
        (3, 1),
        (4, 2),
        (15, 2),
        (16, 3),
        (45, 3),
        (46, 4),
        (90, 4),
        (91, 5),
        (150, 5),
        (151, 6),
        (900, 6),
    ],
)
def test_it_category_by_days_of_stoppage(days, category):
    assert it_category(days) == category


def test_no_it_recorded_has_no_category_and_bad_days_are_refused():
    assert it_category(None) is None
    with pytest.raises(ValueError):
        it_category(-1)
    with pytest.raises(TypeError):
        it_category(4.0)


@pytest.mark.parametrize(
    ("rate", "category"),
    [
        (D("0.5"), 1), (9, 1), (D("9.99"), 1), (10, 2), (19, 2), (D("19.5"), 2), (20, 3), (39, 3),
        (40, 4), (100, 4), ("12", 2),
    ],
)  # fmt: skip
def test_ip_category_by_rate(rate, category):
    assert ip_category(rate) == category


def test_death_is_ip_category_4_whatever_the_rate_and_no_ip_has_no_category():
    assert ip_category(None, death=True) == 4
    assert ip_category(5, death=True) == 4
    assert ip_category(None) is None
    assert ip_category(0) is None
    with pytest.raises(ValueError):
        ip_category(101)


# --- §5.2 risk value -----------------------------------------------------------------------------------


def test_spec_worked_example_risk_value_is_43262_euros():
    value = risk_value(WORKED_EXAMPLE_CASES, CTN_A_2024)
    assert value == D(43262) == 5 * D(287) + D(40783) + 2 * D(522)
    assert type(value) is Decimal


def test_commuting_accidents_are_excluded_from_the_risk_value():
    commuting = _case(it=6, ip=4, trajet=True)
    assert risk_value([*WORKED_EXAMPLE_CASES, commuting], CTN_A_2024) == D(43262)
    assert case_cost(commuting, CTN_A_2024).cost == 0


def test_a_case_with_both_it_and_ip_counts_in_both():
    item = case_cost(_case(it=3, ip=2), CTN_A_2024)
    assert (item.it_column, item.it_cost, item.ip_column, item.ip_cost) == (
        "it3_16_45",
        1758,
        "ip2_10_19",
        65734,
    )
    assert item.cost == D(1758 + 65734)


def test_a_death_costs_the_ip_40_or_death_amount_outside_the_btp():
    assert risk_value([_case(it=2, ip=ip_category(None, death=True))], CTN_A_2024) == D(522 + 676026)


@pytest.mark.parametrize(
    ("group", "amount"), [("gros_oeuvre", 151726), ("second_oeuvre", 169866), ("fonctions_support", 184269)]
)
@pytest.mark.parametrize("ip", [2, 3, 4])
def test_in_the_btp_an_ip_of_10_percent_or_more_or_a_death_costs_its_groups_amount(group, amount, ip):
    item = case_cost(_case(it=6, ip=ip, btp_group=group), CTN_B_2024)
    assert (item.ip_column, item.ip_cost) == (f"btp_{group}", amount)
    assert item.cost == D(38740 + amount)


def test_in_the_btp_an_ip_below_10_percent_costs_the_ordinary_amount():
    item = case_cost(_case(ip=1, btp_group="gros_oeuvre"), CTN_B_2024)
    assert (item.ip_column, item.ip_cost) == ("ip1_lt10", 2317)


def test_in_the_btp_an_ip_of_10_percent_or_more_needs_the_group():
    with pytest.raises(ValueError, match="btp_group"):
        case_cost(_case(ip=2), CTN_B_2024)


def test_btp_in_alsace_moselle_prices_the_ip_by_category_not_by_group():
    item = case_cost(_case(ip=3, btp_group="gros_oeuvre"), CTN_B_2024_ALSACE_MOSELLE)
    assert (item.ip_column, item.ip_cost) == ("ip3_20_39", 119707)


def test_an_amount_missing_from_the_barème_is_an_error_not_a_zero():
    with pytest.raises(MissingCostError, match="it3_16_45"):
        risk_value([_case(it=3)], _bareme(2025, "B", "hors 57/67/68"))
    with pytest.raises(MissingCostError, match="it1_lt4"):
        risk_value([_case(it=1)], CTN_B_2024_ALSACE_MOSELLE)


def test_bad_cases_are_refused():
    with pytest.raises(ValueError):
        case_cost(_case(it=7), CTN_A_2024)
    with pytest.raises(ValueError):
        case_cost(_case(ip=0), CTN_A_2024)
    with pytest.raises(ValueError):
        case_cost(_case(ip=2, btp_group="bureau"), CTN_B_2024)
    with pytest.raises(TypeError):
        case_cost({"it": 1, "trajet": "non"}, CTN_A_2024)


def test_a_raw_csv_row_with_string_cells_is_a_barème_row_too():
    raw = next(row for row in _rows("couts-moyens.csv") if (row["year"], row["ctn"]) == ("2024", "A"))
    assert risk_value(WORKED_EXAMPLE_CASES, raw) == D(43262)


# --- §5.2 gross, net, mixed ----------------------------------------------------------------------------


def test_spec_worked_example_gross_rate_is_3_09_percent():
    gross = gross_rate(D(43262), D(1400000))
    assert type(gross) is Decimal
    assert D("3.0901428571") < gross < D("3.0901428572")
    assert display_rate(gross) == D("3.09")
    # not the cramif page's misprinted 42 792 € / 3,06 %
    assert display_rate(gross_rate(42792, 1400000)) == D("3.06") != display_rate(gross)


def test_gross_rate_is_exact_when_the_quotient_is():
    assert gross_rate(D(43000), D(1000000)) == D("4.3")


def test_gross_rate_needs_positive_wages():
    with pytest.raises(ValueError, match="wages"):
        gross_rate(D(100), D(0))


def test_net_rate_is_gross_plus_m1_times_1_plus_m2_plus_m3_plus_m4():
    # (3,09 + 0,17) × 1,58 + 0,16 + 0,03 = 5,1508 + 0,19
    assert net_rate(D("3.09"), D("0.17"), D("0.58"), D("0.16"), D("0.03")) == D("5.3408")


def test_a_zero_gross_rate_gives_the_published_2024_minimum_net_rate():
    m = MAJORATIONS_2024
    minimum = net_rate(D(0), m.m1, m.m2, m.m3, m.m4)
    assert minimum == D("0.4586")
    assert display_rate(minimum) == D("0.46")


@pytest.mark.parametrize(
    ("headcount", "alsace_moselle", "btp", "fraction"),
    [
        (20, False, False, D("0.1")),
        (85, False, False, D("0.55")),
        (50, True, False, D("0.25")),
        (100, True, False, D("0.625")),
        (149, True, False, D("0.9925")),
        (50, True, True, D("0.25")),
        (100, True, True, D("0.4")),
        (299, True, True, D("0.997")),
        (20, False, True, D("0.1")),  # the BTP outside Alsace-Moselle: the France formula
    ],
)
def test_mixed_fraction_formulas(headcount, alsace_moselle, btp, fraction):
    assert mixed_fraction(headcount, alsace_moselle=alsace_moselle, btp=btp) == fraction


def test_france_mixed_fraction_at_149_is_0_9_over_130_times_129_plus_0_1():
    fraction = mixed_fraction(149)
    exact = Fraction(9, 10) / 130 * 129 + Fraction(1, 10)
    assert abs(Fraction(fraction) - exact) < Fraction(1, 10**38)  # 40 significant digits
    assert D("0.9930769230") < fraction < D("0.9930769231")


@pytest.mark.parametrize(
    ("headcount", "alsace_moselle", "btp"),
    [(19, False, False), (150, False, False), (49, True, False), (150, True, False), (300, True, True)],
)
def test_no_mixed_rate_outside_the_mixed_band(headcount, alsace_moselle, btp):
    with pytest.raises(ValueError, match="mixed rate"):
        mixed_rate(headcount, D(4), D(2), alsace_moselle=alsace_moselle, btp=btp)


def test_mixed_rate_is_f_times_individual_plus_1_minus_f_times_collective():
    assert mixed_rate(85, D(4), D(2)) == D("3.1")  # 0,55 × 4 + 0,45 × 2
    assert mixed_rate(100, D(4), D(2), alsace_moselle=True) == D("3.25")  # 0,625 × 4 + 0,375 × 2
    assert mixed_rate(100, D(4), D(2), alsace_moselle=True, btp=True) == D("2.8")  # 0,4 × 4 + 0,6 × 2
    assert mixed_rate(20, D(4), D(2)) == D("2.2")
    rate = mixed_rate(21, D(3), D(2))  # 2 + f, f = 13,9 / 130
    assert abs(Fraction(rate) - (2 + Fraction(139, 1300))) < Fraction(1, 10**38)


# --- §5.2 the cap (D242-6-15) ---------------------------------------------------------------------------


def test_cap_rise_at_most_one_point_when_the_last_rate_is_4_percent_or_less():
    cap = apply_cap(D(6), D("3.99"))
    assert (cap.rate, cap.direction, cap.relative) == (D("4.99"), "hausse", False)  # not 3,99 × 1,25 = 4,9875


def test_cap_rise_at_most_25_percent_when_the_last_rate_is_above_4_percent():
    cap = apply_cap(D(6), D("4.01"))
    assert (cap.rate, cap.direction, cap.relative) == (D("5.0125"), "hausse", True)  # not 4,01 + 1 = 5,01


def test_cap_fall_at_most_0_8_point_when_the_last_rate_is_4_percent_or_less():
    cap = apply_cap(D(2), D("3.99"))
    assert (cap.rate, cap.direction, cap.relative) == (D("3.19"), "baisse", False)  # not 3,99 × 0,8 = 3,192


def test_cap_fall_at_most_20_percent_when_the_last_rate_is_above_4_percent():
    cap = apply_cap(D(2), D("4.01"))
    assert (cap.rate, cap.direction, cap.relative) == (D("3.208"), "baisse", True)  # not 4,01 − 0,8 = 3,21


def test_at_exactly_4_percent_both_readings_of_the_cap_agree():
    cap = apply_cap(D(7), D(4))
    assert (cap.ceiling, cap.floor, cap.relative) == (D(5), D("3.2"), False)
    assert capped_rate(D(1), D(4)) == D("3.2")


@pytest.mark.parametrize(
    ("computed", "previous"),
    [(D("3.5"), D(3)), (D(4), D(3)), (D("2.2"), D(3)), (D("7.5"), D(6)), (D("4.8"), D(6)), (D(6), D(6))],
)
def test_a_variation_within_the_bounds_is_not_capped(computed, previous):
    cap = apply_cap(computed, previous)
    assert (cap.rate, cap.direction, cap.applied) == (computed, None, False)


def test_no_last_rate_no_cap():
    cap = apply_cap(D(9), None)
    assert (cap.rate, cap.ceiling, cap.floor, cap.direction) == (D(9), None, None, None)


# --- display -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (D("3.085"), "3.09"),  # half-even would print 3,08
        (D("3.095"), "3.10"),
        (D("2.125"), "2.13"),
        (D("0.005"), "0.01"),
        (D("3.08499999"), "3.08"),
        (D("3.0901428571428571428"), "3.09"),
        (D(4), "4.00"),
    ],
)
def test_display_rounds_half_up_to_two_decimals(rate, shown):
    assert str(display_rate(rate)) == shown


# --- exactness -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: gross_rate(43262.0, D(1400000)),
        lambda: gross_rate(D(43262), 1400000.0),
        lambda: net_rate(3.09, D("0.17"), D("0.58"), D("0.16"), D("0.03")),
        lambda: net_rate(D("3.09"), D("0.17"), 0.58, D("0.16"), D("0.03")),
        lambda: mixed_rate(85, 4.0, D(2)),
        lambda: mixed_rate(85.0, D(4), D(2)),
        lambda: capped_rate(6.0, D(4)),
        lambda: capped_rate(D(6), 4.0),
        lambda: display_rate(3.085),
        lambda: ip_category(12.5),
        lambda: risk_value([_case(it=1)], {"it1_lt4": 287.0}),
        lambda: Majorations(0.17, D("0.58"), D("0.16"), D("0.03")),
    ],
)
def test_a_float_is_refused_everywhere(call):
    with pytest.raises(TypeError, match="float"):
        call()


def test_every_result_is_a_decimal_and_the_callers_context_changes_nothing():
    results = [
        risk_value(WORKED_EXAMPLE_CASES, CTN_A_2024),
        gross_rate(D(43262), D(1400000)),
        net_rate(D("3.09"), D("0.17"), D("0.58"), D("0.16"), D("0.03")),
        mixed_fraction(21),
        mixed_rate(21, D(3), D(2)),
        capped_rate(D(6), D("4.01")),
        display_rate(D("3.085")),
    ]
    assert all(type(value) is Decimal for value in results)
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_DOWN)):
        again = [
            risk_value(WORKED_EXAMPLE_CASES, CTN_A_2024),
            gross_rate(D(43262), D(1400000)),
            net_rate(D("3.09"), D("0.17"), D("0.58"), D("0.16"), D("0.03")),
            mixed_fraction(21),
            mixed_rate(21, D(3), D(2)),
            capped_rate(D(6), D("4.01")),
            display_rate(D("3.085")),
        ]
    assert again == results


def test_reference_data_rows_parse_to_decimals_with_missing_cells_as_none():
    assert CTN_A_2024["it1_lt4"] == D(287) and type(CTN_A_2024["it1_lt4"]) is Decimal
    assert CTN_A_2024["btp_gros_oeuvre"] is None
    assert CTN_B_2024_ALSACE_MOSELLE["ip2_10_19"] == D(63037)
    assert (MAJORATIONS_2024.m1, MAJORATIONS_2024.m2, MAJORATIONS_2024.m3, MAJORATIONS_2024.m4) == (
        D("0.17"), D("0.58"), D("0.16"), D("0.03"),
    )  # fmt: skip


# --- the whole calculation -----------------------------------------------------------------------------

WAGES_2023_2025 = {2023: D(450000), 2024: D(470000), 2025: D(480000)}  # 1 400 000 €


def test_calculate_an_individual_rate_keeps_every_step():
    cases = [{**case, "year": 2024} for case in WORKED_EXAMPLE_CASES]
    cases.append(_case(it=6, trajet=True, year=2025, reference="AT-TRAJET"))
    result = calculate(
        year=2027, headcount=200, departement="75", collective_rate=D("2.12"), wages=WAGES_2023_2025,
        cases=cases, costs=CTN_A_2024, majorations=MAJORATIONS_2024,
    )  # fmt: skip
    assert (result.mode, result.mode_reason, result.reference_years) == (
        INDIVIDUEL,
        "headcount",
        (2023, 2024, 2025),
    )
    assert result.total_wages == D(1400000)
    assert result.risk_value == D(43262)
    assert [c.cost for c in result.cases] == [D(287)] * 5 + [D(40783)] + [D(522)] * 2 + [D(0)]
    assert result.cases[-1].trajet and result.cases[-1].reference == "AT-TRAJET"
    assert result.gross == gross_rate(D(43262), D(1400000))
    assert Fraction(result.individual_net) == (Fraction(result.gross) + Fraction("0.17")) * Fraction(
        "1.58"
    ) + Fraction("0.19")  # exact: no rounding after the one division
    assert result.mixed_fraction is None
    assert (result.cap.applied, result.computed, result.net) == (
        False,
        result.individual_net,
        result.individual_net,
    )
    assert result.displayed == D("5.34")  # (3,0901… + 0,17) × 1,58 + 0,19 = 5,3410…
    for value in (
        result.headcount,
        result.total_wages,
        result.risk_value,
        result.gross,
        result.net,
        result.displayed,
    ):
        assert type(value) is Decimal


def test_calculate_a_mixed_rate_in_moselle_with_the_cap():
    result = calculate(
        year=2027, headcount=100, departement="57", collective_rate=D(2), wages=WAGES_2023_2025,
        cases=WORKED_EXAMPLE_CASES, costs=CTN_A_2024, majorations=MAJORATIONS_2024, previous_rate=D(3),
    )  # fmt: skip
    assert (result.mode, result.alsace_moselle, result.mixed_fraction) == (MIXTE, True, D("0.625"))
    # 0,625 × 5,3410… + 0,375 × 2 = 4,0881… > 3 + 1 point
    assert result.computed == mixed_rate(100, result.individual_net, D(2), alsace_moselle=True)
    assert D("4.088") < result.computed < D("4.089")
    assert (result.cap.direction, result.net, result.displayed) == ("hausse", D(4), D("4.00"))


def test_calculate_a_btp_rate_in_bas_rhin_prices_the_ip_by_category():
    result = calculate(
        year=2027, headcount=200, departement="67", btp=True, collective_rate=D("5.53"),
        wages=WAGES_2023_2025, cases=[_case(it=4, ip=3, btp_group="gros_oeuvre", year=2023)],
        costs={**CTN_B_2024, **{k: v for k, v in CTN_B_2024_ALSACE_MOSELLE.items() if v is not None},
               "btp_gros_oeuvre": None, "btp_second_oeuvre": None, "btp_fonctions_support": None},
        majorations=MAJORATIONS_2024,
    )  # fmt: skip
    assert result.mode == MIXTE  # 200 is individual in France, mixed in the Alsace-Moselle BTP
    assert result.risk_value == D(4367 + 119707)
    assert result.mixed_fraction == D("0.7")  # (0,075 × 200 + 2,5) / 25


def test_calculate_a_new_establishment_gives_the_collective_rate_uncapped():
    result = calculate(
        year=2027, headcount=400, departement="75", collective_rate=D("5.53"), created_on=date(2025, 9, 1),
        previous_rate=D(1),
    )  # fmt: skip
    assert (result.mode, result.mode_reason) == (COLLECTIF, "new_establishment")
    assert (result.net, result.displayed, result.cap, result.cases, result.gross) == (
        D("5.53"), D("5.53"), None, None, None,
    )  # fmt: skip


def test_calculate_needs_the_wages_of_each_reference_year_and_cases_of_those_years():
    common = {
        "year": 2027, "headcount": 200, "departement": "75", "collective_rate": D(2), "costs": CTN_A_2024,
        "majorations": MAJORATIONS_2024,
    }  # fmt: skip
    with pytest.raises(ValueError, match="wages"):
        calculate(**common, wages={2023: D(1), 2024: D(1)})
    with pytest.raises(ValueError, match="2022"):
        calculate(**common, wages=WAGES_2023_2025, cases=[_case(it=1, year=2022)])
    with pytest.raises(ValueError, match="barème"):
        calculate(**{**common, "costs": None}, wages=WAGES_2023_2025)
