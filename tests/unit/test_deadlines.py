"""Deadline arithmetic (SPEC §2.1 and §6), on dated cases whose expected values were worked out by hand
from the rule: 48 hours counted only on days that are neither Sundays nor public holidays of the département
(Saturdays count); N jours francs = start day not counted, through the end of day start + N, moved past
Saturdays, Sundays and public holidays.

2026 facts used below: 1 January Thursday, Good Friday 3 April, Easter Monday 6 April, 1 May and 8 May
Fridays, Ascension Thursday 14 May, Whit Monday 25 May, 14 July Tuesday, 15 August Saturday, 11 November
Wednesday, 25 December Friday and 26 December Saturday; 26 December 2025 is a Friday, 1 January 2027 a Friday.
Clocks change on Sunday 29 March and Sunday 25 October 2026.
`test_2026_calendar_facts_the_tests_rely_on` checks the holidays against the package.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.domain import deadlines
from app.domain.calendars import (
    holiday_subdivision,
    holidays_for,
    is_public_holiday,
    is_working_day,
    local_date,
    normalize_departement,
    timezone_for,
)
from app.domain.deadlines import (
    LAST_DAY_EXCLUDED,
    LAST_DAY_INCLUDED,
    RULE_VERSION,
    Deadline,
    dat_due,
    jours_francs_due,
    reserves_window_due,
)

PARIS = ZoneInfo("Europe/Paris")


# --- calendars ------------------------------------------------------------------------------------------


def test_2026_calendar_facts_the_tests_rely_on():
    national = holidays_for("75", 2026)
    assert national[date(2026, 4, 6)] == "Lundi de Pâques"
    assert national[date(2026, 5, 14)] == "Ascension"
    assert national[date(2026, 5, 25)] == "Lundi de Pentecôte"
    assert set(national) == {
        date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 14),
        date(2026, 5, 25), date(2026, 7, 14), date(2026, 8, 15), date(2026, 11, 1), date(2026, 11, 11),
        date(2026, 12, 25),
    }  # fmt: skip
    assert set(holidays_for("57", 2026)) - set(national) == {date(2026, 4, 3), date(2026, 12, 26)}
    assert date(2026, 4, 3).weekday() == 4  # Good Friday is a Friday


@pytest.mark.parametrize("departement", ["57", "67", "68"])
def test_alsace_moselle_adds_good_friday_and_26_december(departement):
    days = holidays_for(departement, [2025, 2026])
    assert days[date(2025, 4, 18)] == days[date(2026, 4, 3)] == "Vendredi saint"
    assert date(2025, 12, 26) in days
    assert date(2026, 12, 26) in days


@pytest.mark.parametrize("departement", ["75", "13", "2A", "2B", "971", "974"])
def test_other_departements_have_no_26_december(departement):
    assert not is_public_holiday(date(2025, 12, 26), departement)


@pytest.mark.parametrize(
    ("departement", "subdivision"),
    [
        ("57", "57"), ("67", "6AE"), ("68", "6AE"), ("971", "971"), ("972", "972"), ("973", "973"),
        ("974", "974"), ("976", "976"), ("975", "PM"), ("977", "BL"), ("978", "MF"),
        ("75", None), ("01", None), ("2A", None), ("2b", None), ("95", None),
    ],
)  # fmt: skip
def test_departement_picks_the_holiday_calendar(departement, subdivision):
    assert holiday_subdivision(departement) == subdivision


@pytest.mark.parametrize(
    ("departement", "zone"),
    [
        ("75", "Europe/Paris"), ("57", "Europe/Paris"), ("2A", "Europe/Paris"),
        ("971", "America/Guadeloupe"), ("972", "America/Martinique"), ("973", "America/Cayenne"),
        ("974", "Indian/Reunion"), ("976", "Indian/Mayotte"),
    ],
)  # fmt: skip
def test_departement_picks_the_local_time_zone(departement, zone):
    assert timezone_for(departement) == ZoneInfo(zone)


@pytest.mark.parametrize(
    "code", ["", "0", "1", "00", "20", "96", "99", "979", "984", "988", "2C", "7 5", "abc"]
)
def test_unknown_departement_is_refused(code):
    with pytest.raises(ValueError, match="département"):
        normalize_departement(code)
    with pytest.raises(ValueError):
        dat_due(datetime(2026, 1, 9, 10), code)


def test_working_days_exclude_saturdays_sundays_and_holidays():
    assert is_working_day(date(2026, 1, 12), "75")  # Monday
    assert not is_working_day(date(2026, 1, 10), "75")  # Saturday
    assert not is_working_day(date(2026, 1, 11), "75")  # Sunday
    assert not is_working_day(date(2026, 7, 14), "75")  # Tuesday 14 July
    assert is_working_day(date(2026, 4, 3), "75")
    assert not is_working_day(date(2026, 4, 3), "67")  # Good Friday in Bas-Rhin


def test_local_date_of_a_utc_moment_is_the_departements_date():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert local_date(moment, "75") == date(2026, 3, 2)
    assert local_date(moment, "972") == date(2026, 3, 1)


# --- 48 hours to declare (SPEC §2.1) ---------------------------------------------------------------------


def test_48h_deadline_spec_example_friday_10h_is_monday_10h():
    # Friday 14 h + Saturday 24 h = 38 h; Sunday not counted; Monday 10 h.
    assert dat_due(datetime(2026, 1, 9, 10, 0), "75") == datetime(2026, 1, 12, 10, 0)


def test_48h_deadline_midweek_is_two_days_later():
    assert dat_due(datetime(2026, 1, 13, 9, 30), "75") == datetime(2026, 1, 15, 9, 30)


def test_48h_deadline_counts_saturday():
    # Thursday 16:00: Thursday 8 h + Friday 24 h = 32 h; Saturday 16 h.
    assert dat_due(datetime(2026, 1, 15, 16, 0), "75") == datetime(2026, 1, 17, 16, 0)


def test_48h_deadline_known_on_saturday_skips_sunday():
    # Saturday 14 h + Monday 24 h = 38 h; Tuesday 10 h.
    assert dat_due(datetime(2026, 1, 10, 10, 0), "75") == datetime(2026, 1, 13, 10, 0)


def test_48h_deadline_known_on_sunday_starts_monday_midnight():
    # Monday 24 h + Tuesday 24 h: the 48 hours end at Tuesday 24:00, i.e. Wednesday 00:00.
    assert dat_due(datetime(2026, 1, 11, 15, 0), "75") == datetime(2026, 1, 14, 0, 0)


def test_48h_deadline_ending_at_midnight_before_a_sunday_is_that_midnight():
    # Known Friday 00:00: Friday 24 h + Saturday 24 h end exactly at Saturday 24:00 = Sunday 00:00.
    assert dat_due(datetime(2026, 1, 9, 0, 0), "75") == datetime(2026, 1, 11, 0, 0)


def test_48h_deadline_skips_1_may():
    # Thursday 30 April 10:00: Thursday 14 h, Friday 1 May skipped, Saturday 24 h = 38 h, Sunday skipped,
    # Monday 10 h.
    assert dat_due(datetime(2026, 4, 30, 10, 0), "75") == datetime(2026, 5, 4, 10, 0)


def test_48h_deadline_known_on_1_may_starts_the_next_day():
    # Saturday 2 May 24 h, Sunday skipped, Monday 4 May 24 h.
    assert dat_due(datetime(2026, 5, 1, 12, 0), "75") == datetime(2026, 5, 5, 0, 0)


def test_48h_deadline_skips_8_may():
    # Thursday 6 h, Friday 8 May skipped, Saturday 24 h = 30 h, Sunday skipped, Monday 18 h.
    assert dat_due(datetime(2026, 5, 7, 18, 0), "75") == datetime(2026, 5, 11, 18, 0)


def test_48h_deadline_skips_ascension():
    # Wednesday 14 h, Thursday 14 May skipped, Friday 24 h = 38 h, Saturday 10 h.
    assert dat_due(datetime(2026, 5, 13, 10, 0), "75") == datetime(2026, 5, 16, 10, 0)


def test_48h_deadline_skips_whit_monday():
    # Friday 14 h + Saturday 24 h = 38 h, Sunday and Whit Monday skipped, Tuesday 10 h.
    assert dat_due(datetime(2026, 5, 22, 10, 0), "75") == datetime(2026, 5, 26, 10, 0)


def test_48h_deadline_skips_14_july():
    # Monday 16 h, Tuesday 14 July skipped, Wednesday 24 h = 40 h, Thursday 8 h.
    assert dat_due(datetime(2026, 7, 13, 8, 0), "75") == datetime(2026, 7, 16, 8, 0)


def test_48h_deadline_skips_15_august_falling_on_a_saturday():
    # Friday 14 h, Saturday 15 August skipped (holiday), Sunday skipped, Monday 24 h = 38 h, Tuesday 10 h.
    assert dat_due(datetime(2026, 8, 14, 10, 0), "75") == datetime(2026, 8, 18, 10, 0)


def test_48h_deadline_skips_11_november():
    # Tuesday 12 h, Wednesday 11 November skipped, Thursday 24 h = 36 h, Friday 12 h.
    assert dat_due(datetime(2026, 11, 10, 12, 0), "75") == datetime(2026, 11, 13, 12, 0)


@pytest.mark.parametrize(
    ("departement", "due"),
    [
        # Thursday 14 h + Good Friday 24 h = 38 h; Saturday 10 h.
        ("75", datetime(2026, 4, 4, 10, 0)),
        ("2A", datetime(2026, 4, 4, 10, 0)),
        # Thursday 14 h; Good Friday skipped; Saturday 24 h = 38 h; Easter Sunday and Monday skipped;
        # Tuesday 10 h.
        ("57", datetime(2026, 4, 7, 10, 0)),
        ("67", datetime(2026, 4, 7, 10, 0)),
        ("68", datetime(2026, 4, 7, 10, 0)),
    ],
)
def test_48h_deadline_skips_good_friday_in_alsace_moselle_only(departement, due):
    assert dat_due(datetime(2026, 4, 2, 10, 0), departement) == due


def test_48h_deadline_skips_good_friday_in_moselle():
    # Known on Good Friday 10:00 in Moselle: the count starts Saturday 00:00 (24 h); Easter Sunday and Easter
    # Monday skipped; Tuesday 24 h: the 48 hours end at Tuesday 24:00 = Wednesday 8 April 00:00.
    assert dat_due(datetime(2026, 4, 3, 10, 0), "57") == datetime(2026, 4, 8, 0, 0)


def test_48h_deadline_known_on_good_friday_in_paris():
    # Friday 14 h + Saturday 24 h = 38 h; Easter Sunday and Monday skipped; Tuesday 10 h.
    assert dat_due(datetime(2026, 4, 3, 10, 0), "75") == datetime(2026, 4, 7, 10, 0)


@pytest.mark.parametrize(
    ("departement", "due"),
    [
        # Wednesday 14 h, Christmas skipped, Friday 26 December 24 h = 38 h, Saturday 10 h.
        ("75", datetime(2025, 12, 27, 10, 0)),
        # Wednesday 14 h, 25 and 26 December skipped, Saturday 24 h = 38 h, Sunday skipped, Monday 10 h.
        ("57", datetime(2025, 12, 29, 10, 0)),
        ("67", datetime(2025, 12, 29, 10, 0)),
        ("68", datetime(2025, 12, 29, 10, 0)),
    ],
)
def test_48h_deadline_skips_26_december_in_alsace_moselle_only(departement, due):
    assert dat_due(datetime(2025, 12, 24, 10, 0), departement) == due


@pytest.mark.parametrize(
    ("departement", "due"),
    [
        # Thursday 14 h, Friday 25 skipped, Saturday 26 24 h = 38 h, Sunday skipped, Monday 10 h.
        ("75", datetime(2026, 12, 28, 10, 0)),
        # Saturday 26 December is a holiday too: Monday 24 h = 38 h, Tuesday 10 h.
        ("57", datetime(2026, 12, 29, 10, 0)),
        ("68", datetime(2026, 12, 29, 10, 0)),
    ],
)
def test_48h_deadline_over_christmas_2026(departement, due):
    assert dat_due(datetime(2026, 12, 24, 10, 0), departement) == due


def test_48h_deadline_across_year_end_skips_1_january():
    # Thursday 31 December 14 h, Friday 1 January skipped, Saturday 24 h = 38 h, Sunday skipped, Monday 10 h.
    assert dat_due(datetime(2026, 12, 31, 10, 0), "75") == datetime(2027, 1, 4, 10, 0)
    # Wednesday 31 December 2025 14 h, Thursday 1 January skipped, Friday 24 h = 38 h, Saturday 10 h.
    assert dat_due(datetime(2025, 12, 31, 10, 0), "75") == datetime(2026, 1, 3, 10, 0)


def test_48h_deadline_skips_abolition_of_slavery_in_martinique():
    # 22 May 2026 (Friday) in 972: Thursday 14 h, Friday skipped, Saturday 24 h = 38 h, Sunday and Whit Monday
    # skipped, Tuesday 10 h. In Paris Friday counts: Thursday 14 h + Friday 24 h = 38 h, Saturday 10 h.
    assert dat_due(datetime(2026, 5, 21, 10, 0), "972") == datetime(2026, 5, 26, 10, 0)
    assert dat_due(datetime(2026, 5, 21, 10, 0), "75") == datetime(2026, 5, 23, 10, 0)


def test_48h_deadline_skips_abolition_of_slavery_in_guadeloupe():
    # 27 May 2026 (Wednesday) in 971: Tuesday 14 h, Wednesday skipped, Thursday 24 h = 38 h, Friday 10 h.
    assert dat_due(datetime(2026, 5, 26, 10, 0), "971") == datetime(2026, 5, 29, 10, 0)
    assert dat_due(datetime(2026, 5, 26, 10, 0), "75") == datetime(2026, 5, 28, 10, 0)


def test_48h_deadline_skips_abolition_of_slavery_in_mayotte():
    # 27 April 2026 (Monday) in 976: Saturday 14 h, Sunday and Monday skipped, Tuesday 24 h = 38 h,
    # Wednesday 10 h.
    assert dat_due(datetime(2026, 4, 25, 10, 0), "976") == datetime(2026, 4, 29, 10, 0)
    assert dat_due(datetime(2026, 4, 25, 10, 0), "75") == datetime(2026, 4, 28, 10, 0)


def test_48h_deadline_naive_in_naive_out():
    due = dat_due(datetime(2026, 1, 9, 10, 0), "75")
    assert due.tzinfo is None


def test_48h_deadline_utc_in_utc_out():
    # Friday 09:00 UTC is 10:00 in Paris (winter): due Monday 10:00 Paris = 09:00 UTC.
    due = dat_due(datetime(2026, 1, 9, 9, 0, tzinfo=UTC), "75")
    assert due == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_48h_deadline_paris_in_paris_out():
    due = dat_due(datetime(2026, 1, 9, 10, 0, tzinfo=PARIS), "75")
    assert due.tzinfo is PARIS
    assert due.replace(tzinfo=None) == datetime(2026, 1, 12, 10, 0)


def test_48h_deadline_keeps_a_fixed_offset_tzinfo():
    minus_five = timezone(timedelta(hours=-5))
    # 04:00 at UTC−5 is Friday 10:00 in Paris → Monday 10:00 Paris = Monday 04:00 at UTC−5.
    due = dat_due(datetime(2026, 1, 9, 4, 0, tzinfo=minus_five), "75")
    assert due == datetime(2026, 1, 12, 4, 0, tzinfo=minus_five)
    assert due.tzinfo is minus_five


def test_48h_deadline_counts_days_in_paris_time_not_utc():
    # Saturday 23:30 UTC is Sunday 00:30 in Paris: nothing counts until Monday 00:00 Paris; Monday + Tuesday
    # end at Wednesday 00:00 Paris = Tuesday 23:00 UTC.
    due = dat_due(datetime(2026, 1, 10, 23, 30, tzinfo=UTC), "75")
    assert due == datetime(2026, 1, 13, 23, 0, tzinfo=UTC)


def test_48h_deadline_counts_days_in_martinique_time():
    # Sunday 03:00 UTC is Saturday 23:00 in Martinique (UTC−4): Saturday 1 h, Sunday skipped,
    # Monday 24 h = 25 h, Tuesday 23 h → Tuesday 23:00 local = Wednesday 03:00 UTC.
    due = dat_due(datetime(2026, 1, 11, 3, 0, tzinfo=UTC), "972")
    assert due == datetime(2026, 1, 14, 3, 0, tzinfo=UTC)


def test_48h_deadline_counts_days_in_reunion_time():
    # Sunday 22:00 UTC is Monday 02:00 in La Réunion (UTC+4): Monday 22 h + Tuesday 24 h = 46 h, Wednesday 2 h
    # → Wednesday 02:00 local = Tuesday 22:00 UTC.
    due = dat_due(datetime(2026, 1, 11, 22, 0, tzinfo=UTC), "974")
    assert due == datetime(2026, 1, 13, 22, 0, tzinfo=UTC)


def test_48h_deadline_across_spring_dst_change():
    # Saturday 28 March 10:00 (UTC+1): Saturday 14 h, Sunday 29 March (23-hour day) skipped,
    # Monday 24 h = 38 h, Tuesday 10 h → Tuesday 31 March 10:00 (UTC+2).
    assert dat_due(datetime(2026, 3, 28, 10, 0), "75") == datetime(2026, 3, 31, 10, 0)
    known = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    due = dat_due(known, "75")
    assert due == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    assert due - known == timedelta(hours=14 + 23 + 24 + 10)


def test_48h_deadline_across_autumn_dst_change():
    # Saturday 24 October 10:00 (UTC+2): Saturday 14 h, Sunday 25 October (25-hour day) skipped, Monday 24 h,
    # Tuesday 10 h → Tuesday 27 October 10:00 (UTC+1).
    assert dat_due(datetime(2026, 10, 24, 10, 0), "75") == datetime(2026, 10, 27, 10, 0)
    known = datetime(2026, 10, 24, 8, 0, tzinfo=UTC)
    due = dat_due(known, "75")
    assert due == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
    assert due - known == timedelta(hours=14 + 25 + 24 + 10)


def test_48h_deadline_known_in_the_skipped_hour_of_the_dst_sunday():
    # 02:30 does not exist on 29 March 2026 in Paris; it is a Sunday anyway: Monday + Tuesday → Wednesday
    # 00:00.
    assert dat_due(datetime(2026, 3, 29, 2, 30), "75") == datetime(2026, 4, 1, 0, 0)


# --- jours francs (SPEC §6) ------------------------------------------------------------------------------


def test_jours_francs_start_day_does_not_count():
    assert jours_francs_due(date(2026, 1, 12), 1, "75") == date(2026, 1, 13)
    assert jours_francs_due(date(2026, 1, 12), 10, "75") == date(2026, 1, 22)


def test_jours_francs_starting_on_a_weekend_runs_normally():
    assert jours_francs_due(date(2026, 1, 10), 10, "75") == date(2026, 1, 20)


def test_jours_francs_ending_on_saturday_extends_to_monday():
    assert jours_francs_due(date(2026, 1, 14), 10, "75") == date(2026, 1, 26)


def test_jours_francs_ending_on_sunday_extends_to_monday():
    assert jours_francs_due(date(2026, 1, 15), 10, "75") == date(2026, 1, 26)


def test_jours_francs_ending_on_14_july_extends_to_the_next_day():
    assert jours_francs_due(date(2026, 7, 4), 10, "75") == date(2026, 7, 15)


def test_jours_francs_ending_on_ascension_extends_to_friday():
    assert jours_francs_due(date(2026, 5, 4), 10, "75") == date(2026, 5, 15)


def test_jours_francs_ending_on_whit_monday_extends_to_tuesday():
    assert jours_francs_due(date(2026, 5, 15), 10, "75") == date(2026, 5, 26)


def test_jours_francs_ending_saturday_before_easter_monday_extends_to_tuesday():
    # 25 March + 10 = Saturday 4 April → Sunday 5 → Easter Monday 6 → Tuesday 7 April.
    assert jours_francs_due(date(2026, 3, 25), 10, "75") == date(2026, 4, 7)
    assert jours_francs_due(date(2026, 3, 25), 10, "57") == date(2026, 4, 7)


def test_jours_francs_ending_on_good_friday_extends_only_in_alsace_moselle():
    # 24 March + 10 = Friday 3 April: a working day in Paris; in Moselle Friday, Saturday, Sunday and Monday
    # are out.
    assert jours_francs_due(date(2026, 3, 24), 10, "75") == date(2026, 4, 3)
    assert jours_francs_due(date(2026, 3, 24), 10, "57") == date(2026, 4, 7)


def test_jours_francs_ending_on_26_december_extends_only_in_alsace_moselle():
    # 16 December 2025 + 10 = Friday 26 December 2025.
    assert jours_francs_due(date(2025, 12, 16), 10, "75") == date(2025, 12, 26)
    assert jours_francs_due(date(2025, 12, 16), 10, "67") == date(2025, 12, 29)


def test_jours_francs_across_year_end():
    # 22 December 2026 + 10 = Friday 1 January 2027 → Saturday, Sunday → Monday 4 January 2027.
    assert jours_francs_due(date(2026, 12, 22), 10, "75") == date(2027, 1, 4)


def test_jours_francs_ending_on_an_overseas_holiday():
    # 12 May + 10 = Friday 22 May: abolition of slavery in Martinique, then weekend and Whit Monday.
    assert jours_francs_due(date(2026, 5, 12), 10, "972") == date(2026, 5, 26)
    assert jours_francs_due(date(2026, 5, 12), 10, "75") == date(2026, 5, 22)


def test_jours_francs_last_day_excluded_reading():
    # Day 12 January + 10 does not count either: the délai runs through 23 January.
    assert jours_francs_due(date(2026, 1, 12), 10, "75", rule=LAST_DAY_EXCLUDED) == date(2026, 1, 23)
    # 13 January + 11 = Saturday 24 → Monday 26.
    assert jours_francs_due(date(2026, 1, 13), 10, "75", rule=LAST_DAY_EXCLUDED) == date(2026, 1, 26)
    assert jours_francs_due(date(2026, 1, 12), 10, "75", rule=LAST_DAY_INCLUDED) == date(2026, 1, 22)


def test_jours_francs_reading_is_switched_in_one_place(monkeypatch):
    assert deadlines.JOURS_FRANCS_RULE == LAST_DAY_INCLUDED
    monkeypatch.setattr(deadlines, "JOURS_FRANCS_RULE", LAST_DAY_EXCLUDED)
    assert jours_francs_due(date(2026, 1, 12), 10, "75") == date(2026, 1, 23)
    assert reserves_window_due(datetime(2026, 1, 12, 9, 0), "75") == date(2026, 1, 23)
    assert (
        Deadline.reserves(datetime(2026, 1, 12, 9, 0), "75").rule_version
        == f"{RULE_VERSION}/{LAST_DAY_EXCLUDED}"
    )


def test_jours_francs_refuses_bad_arguments():
    with pytest.raises(ValueError, match="rule"):
        jours_francs_due(date(2026, 1, 12), 10, "75", rule="last_day_maybe")
    with pytest.raises(ValueError):
        jours_francs_due(date(2026, 1, 12), -1, "75")
    with pytest.raises(TypeError):
        jours_francs_due(datetime(2026, 1, 12, 9, 0), 10, "75")


# --- reserves window (CSS R441-6) ------------------------------------------------------------------------


def test_reserves_window_is_10_jours_francs_from_the_declaration():
    # Monday 2 March + 10 = Thursday 12 March.
    assert reserves_window_due(datetime(2026, 3, 2, 14, 0), "75") == date(2026, 3, 12)


def test_reserves_window_ending_saturday_before_easter_monday_extends_to_tuesday():
    assert reserves_window_due(datetime(2026, 3, 25, 16, 45), "75") == date(2026, 4, 7)


def test_reserves_window_starts_on_the_local_date_of_the_declaration():
    # 23:30 UTC on Sunday 1 March is Monday 2 March 00:30 in Paris → 12 March; in Martinique still 1 March
    # → 11 March.
    declared = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert reserves_window_due(declared, "75") == date(2026, 3, 12)
    assert reserves_window_due(declared, "972") == date(2026, 3, 11)
    # 21:00 UTC on 1 March is 2 March 01:00 in La Réunion.
    assert reserves_window_due(datetime(2026, 3, 1, 21, 0, tzinfo=UTC), "974") == date(2026, 3, 12)


# --- deadline records (SPEC §6) --------------------------------------------------------------------------


def test_dat_deadline_record_stores_basis_start_length_rule_and_due():
    known = datetime(2026, 1, 9, 10, 0)
    deadline = Deadline.dat(known, "75")
    assert deadline.legal_basis == "CSS L441-2, R441-3"
    assert deadline.started_at == known
    assert (deadline.length, deadline.unit) == (48, "heures")
    assert deadline.rule_version == RULE_VERSION
    assert deadline.due == datetime(2026, 1, 12, 10, 0)
    assert deadline.notified_due is None
    assert deadline.effective_due == deadline.due


def test_reserves_deadline_record():
    declared = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    deadline = Deadline.reserves(declared, "75")
    assert deadline.legal_basis == "CSS R441-6"
    assert deadline.started_at == declared
    assert (deadline.length, deadline.unit) == (10, "jours francs")
    assert deadline.rule_version == f"{RULE_VERSION}/{LAST_DAY_INCLUDED}"
    assert deadline.due == date(2026, 3, 12)


def test_generic_jours_francs_deadline_record():
    deadline = Deadline.jours_francs("CSS R441-8", "réception du questionnaire", date(2026, 3, 24), 20, "57")
    # 24 March + 20 = Monday 13 April, a working day.
    assert deadline.due == date(2026, 4, 13)
    assert deadline.started_at == date(2026, 3, 24)


def test_deadline_records_are_immutable():
    deadline = Deadline.dat(datetime(2026, 1, 9, 10, 0), "75")
    with pytest.raises(dataclasses.FrozenInstanceError):
        deadline.due = datetime(2026, 1, 13, 10, 0)  # type: ignore[misc]


def test_dat_must_be_sent_before_the_due_instant():
    deadline = Deadline.dat(datetime(2026, 1, 9, 10, 0), "75")  # "avant le lundi 12 janvier 2026 à 10 h 00"
    assert not deadline.is_late(datetime(2026, 1, 12, 9, 59, 59))
    assert deadline.is_late(datetime(2026, 1, 12, 10, 0))
    # An aware UTC submission time against a naive Paris due: 09:00 UTC is 10:00 in Paris.
    assert not deadline.is_late(datetime(2026, 1, 12, 8, 59, tzinfo=UTC))
    assert deadline.is_late(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))


def test_reserves_are_in_time_until_the_end_of_the_last_day():
    deadline = Deadline.reserves(datetime(2026, 3, 2, 14, 0), "75")  # through Thursday 12 March
    assert not deadline.is_late(datetime(2026, 3, 12, 23, 59))
    assert not deadline.is_late(datetime(2026, 3, 12, 22, 59, tzinfo=UTC))  # 23:59 in Paris
    assert deadline.is_late(datetime(2026, 3, 13, 0, 0))
    assert deadline.is_late(datetime(2026, 3, 12, 23, 0, tzinfo=UTC))  # 00:00 on the 13th in Paris


def test_notified_due_date_is_authoritative():
    deadline = Deadline.reserves(datetime(2026, 3, 2, 14, 0), "75").with_notified_due(date(2026, 3, 16))
    assert deadline.due == date(2026, 3, 12)
    assert deadline.effective_due == date(2026, 3, 16)
    assert not deadline.is_late(datetime(2026, 3, 14, 10, 0))
    assert deadline.is_late(datetime(2026, 3, 17, 0, 0))


def test_time_left_counts_real_time_to_the_deadline():
    deadline = Deadline.dat(datetime(2026, 1, 9, 10, 0), "75")
    assert deadline.time_left(datetime(2026, 1, 9, 10, 0)) == timedelta(hours=72)
    assert deadline.time_left(datetime(2026, 1, 12, 9, 0, tzinfo=UTC)) == timedelta(0)
    assert deadline.time_left(datetime(2026, 1, 12, 11, 0)) == timedelta(hours=-1)
    reserves = Deadline.reserves(datetime(2026, 3, 2, 14, 0), "75")
    assert reserves.time_left(datetime(2026, 3, 12, 23, 0)) == timedelta(hours=1)


def test_48h_from_the_care_of_a_registre_accident_carry_their_own_legal_basis():
    """SPEC §2.1 (CSS R441-5, D441-1): same arithmetic, another starting event, recorded as such."""
    care = datetime(2026, 4, 3, 10, 0)  # Good Friday in Moselle, not counted
    plain = deadlines.Deadline.dat(care, "57")
    benin = deadlines.Deadline.dat(care, "57", benin=True)
    assert benin.due == plain.due == datetime(2026, 4, 8, 0, 0)
    assert plain.legal_basis == "CSS L441-2, R441-3"
    assert benin.legal_basis == "CSS L441-2, R441-3, R441-5, D441-1"
    assert benin.start_event == deadlines.BENIN_START_EVENT != plain.start_event
