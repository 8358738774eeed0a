"""Deadlines from moments at the edge of the calendar (issue 10, item 1): a draft may hold a knowledge date
typed 31/12/9999 at 23:59 or 01/01/0001; the arithmetic refuses it plainly instead of overflowing Python's
dates halfway, and what pages show from it is « no deadline », never an error."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.domain import dat as rules
from app.domain.calendars import is_public_holiday
from app.domain.deadlines import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_DELAI_DAYS,
    Deadline,
    OutsideCalendar,
    dat_due,
    jours_francs_due,
    reserves_window_due,
)

NOW = datetime(2026, 4, 7, 8, 0, tzinfo=UTC)
EDGES = [
    datetime(9999, 12, 31, 23, 59),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime.max,
    datetime(1, 1, 1, 0, 30),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
    datetime(EARLIEST_YEAR - 1, 12, 31, 23, 59),
    datetime(LATEST_YEAR + 1, 1, 1),
]


@pytest.mark.parametrize("known_at", EDGES, ids=str)
def test_the_48_hours_are_refused_from_a_moment_outside_the_calendar(known_at):
    for departement in ("57", "75", "974", "975"):
        with pytest.raises(OutsideCalendar):
            dat_due(known_at, departement)
        with pytest.raises(OutsideCalendar):
            Deadline.dat(known_at, departement)


@pytest.mark.parametrize("known_at", EDGES, ids=str)
def test_a_knowledge_time_outside_the_calendar_gives_no_due_notice(known_at):
    assert rules.due_notice(known_at, "57", NOW) is None


def test_outside_the_calendar_is_a_value_error_callers_may_already_expect():
    assert issubclass(OutsideCalendar, ValueError)


@pytest.mark.parametrize(
    "start", [date.max, date.min, date(EARLIEST_YEAR - 1, 6, 1), date(LATEST_YEAR + 1, 1, 1)]
)
def test_jours_francs_are_refused_from_a_day_outside_the_calendar(start):
    with pytest.raises(OutsideCalendar):
        jours_francs_due(start, 10, "75")
    with pytest.raises(OutsideCalendar):
        Deadline.jours_francs("CSS R441-6", "déclaration", start, 10, "75")


def test_a_delai_of_absurd_length_is_refused():
    with pytest.raises(ValueError):
        jours_francs_due(date(2026, 4, 7), MAX_DELAI_DAYS + 1, "75")
    with pytest.raises(ValueError):
        jours_francs_due(date(2026, 4, 7), -1, "75")


@pytest.mark.parametrize(
    "declared_at", [datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)], ids=str
)
def test_the_reserves_window_is_refused_from_a_declaration_outside_the_calendar(declared_at):
    with pytest.raises(OutsideCalendar):
        reserves_window_due(declared_at, "75")
    with pytest.raises(OutsideCalendar):
        Deadline.reserves(declared_at, "75")


def test_the_last_moments_of_the_calendar_still_have_their_deadlines_with_their_holidays():
    last = datetime(LATEST_YEAR, 12, 31, 23, 59)
    due = dat_due(last, "57")
    # 1 January of the next year is a public holiday the calendar still knows: it is not counted.
    assert is_public_holiday(date(LATEST_YEAR + 1, 1, 1), "57")
    assert due >= datetime(LATEST_YEAR + 1, 1, 2, 23, 59)
    notice = rules.due_notice(last, "974", NOW)
    assert notice is not None and not notice.late and notice.due.year == LATEST_YEAR + 1
    assert jours_francs_due(date(LATEST_YEAR, 12, 31), 10, "57") >= date(LATEST_YEAR + 1, 1, 10)
    assert (
        reserves_window_due(datetime(LATEST_YEAR, 12, 31, 22, 59, tzinfo=UTC), "75").year == LATEST_YEAR + 1
    )


def test_the_first_moments_of_the_calendar_have_their_deadlines_long_passed():
    first = datetime(EARLIEST_YEAR, 1, 1, 0, 0)
    notice = rules.due_notice(first, "75", NOW)
    assert notice is not None and notice.late
    assert notice.due.date() == date(EARLIEST_YEAR, 1, 4)  # 1 January not counted, then the 2nd and 3rd


def test_a_notified_due_date_outside_the_calendar_is_refused_before_its_end_overflows():
    deadline = Deadline.reserves(datetime(2026, 4, 7, 8, 0, tzinfo=UTC), "75")
    with pytest.raises(OutsideCalendar):
        deadline.with_notified_due(date.max)
    assert deadline.with_notified_due(date(2026, 4, 20)).ends_at.date() == date(2026, 4, 21)
