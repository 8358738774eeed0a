"""The window of a workflow instance (issue 12, item 6): open from ``opens_at`` included, closed from
``closes_at`` included, the messages in the establishment's local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.cases import WindowState, closed_message, not_open_message, window_state
from app.domain.dat import french_deadline

CLOSES = datetime(2026, 4, 7, 16, 0, tzinfo=UTC)  # 18 h 00 in Metz (summer time)
OPENS = datetime(2026, 3, 18, 8, 30, tzinfo=UTC)


def test_the_window_is_open_until_the_closing_second_excluded():
    assert window_state(CLOSES - timedelta(microseconds=1), OPENS, CLOSES) == WindowState.OPEN
    assert window_state(CLOSES, OPENS, CLOSES) == WindowState.CLOSED
    assert window_state(CLOSES + timedelta(seconds=1), OPENS, CLOSES) == WindowState.CLOSED


def test_the_window_opens_at_its_opening_second():
    assert window_state(OPENS - timedelta(seconds=1), OPENS, CLOSES) == WindowState.NOT_OPEN
    assert window_state(OPENS, OPENS, CLOSES) == WindowState.OPEN


def test_no_bound_means_always_open():
    assert window_state(datetime(2100, 1, 1, tzinfo=UTC), None, None) == WindowState.OPEN
    assert window_state(datetime(1990, 1, 1, tzinfo=UTC), None, CLOSES) == WindowState.OPEN


def test_the_closing_message_gives_the_date_and_time_in_the_establishment_s_time_zone():
    assert "le mardi 7 avril 2026 à 18\u00a0h\u00a000 (heure locale" in closed_message(CLOSES, "57")
    assert "le mardi 7 avril 2026 à 20\u00a0h\u00a000" in closed_message(CLOSES, "974")  # La Réunion, UTC+4
    assert "le mardi 7 avril 2026 à 12\u00a0h\u00a000" in closed_message(CLOSES, "972")  # Martinique, UTC-4
    assert "n'a pas été enregistrée" in closed_message(CLOSES, "57")


def test_a_deadline_at_local_midnight_reads_as_the_end_of_the_day_before():
    midnight_paris = datetime(2026, 4, 7, 22, 0, tzinfo=UTC)  # 8 April 0 h 00 in Paris
    assert french_deadline(midnight_paris, "75") == "mardi 7 avril 2026 à 24\u00a0h\u00a000"
    assert french_deadline(midnight_paris, "974") == "mercredi 8 avril 2026 à 2\u00a0h\u00a000"


def test_the_opening_message_says_when_it_opens():
    assert "ouvre le mercredi 18 mars 2026 à 9\u00a0h\u00a030" in not_open_message(OPENS, "67")
