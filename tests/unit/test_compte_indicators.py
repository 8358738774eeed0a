"""The bilan individuel's indicators (SPEC §5.3) and the size bands (app/domain/rates/indicators.py)."""

from decimal import Decimal

import pytest

from app.domain.rates.indicators import (
    band_bounds,
    display_indicator,
    frequency_index,
    frequency_rate,
    gravity_rate,
    size_band,
)


def test_frequency_index_is_accidents_with_stoppage_per_thousand_employees():
    assert frequency_index(3, 150) == Decimal(20)
    assert display_indicator(frequency_index(1, 3)) == Decimal("333.3")


def test_frequency_rate_is_per_million_hours_and_gravity_per_thousand_hours():
    assert frequency_rate(2, 160_000) == Decimal("12.5")
    assert gravity_rate(40, 160_000) == Decimal("0.25")
    assert display_indicator(gravity_rate(40, 160_000)) == Decimal("0.3")  # half-up


@pytest.mark.parametrize("denominator", [None, 0])
def test_an_unknown_or_zero_denominator_gives_no_indicator(denominator):
    assert frequency_index(1, denominator) is None
    assert frequency_rate(1, denominator) is None
    assert gravity_rate(1, denominator) is None
    assert display_indicator(None) is None


@pytest.mark.parametrize(
    ("headcount", "band", "bounds"),
    [
        (0, "moins de 20 salariés", (0, 20)),
        (19, "moins de 20 salariés", (0, 20)),
        (20, "de 20 à 149 salariés", (20, 150)),
        (149, "de 20 à 149 salariés", (20, 150)),
        (150, "150 salariés et plus", (150, None)),
    ],
)
def test_size_bands_on_both_sides_of_each_threshold(headcount, band, bounds):
    assert size_band(headcount) == band
    assert band_bounds(headcount) == bounds


def test_a_float_is_refused():
    with pytest.raises(TypeError):
        frequency_index(1, 12.5)
