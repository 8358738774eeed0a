"""LUCIE's pure rules (SPEC §4): date de notification réputée, appeal deadline; the tiny PDF writer."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest

from app.domain.lucie import (
    APPEAL_BASIS,
    DECISION_TYPES,
    LetterType,
    NotificationReading,
    appeal_deadline,
    counts_as_first_consultation,
    deemed_notice,
    deemed_notification,
    notification_day,
    notification_if_known,
    notification_rule,
)
from app.services.simple_pdf import make_pdf

DEPOSIT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_a_letter_opened_within_15_days_is_notified_on_its_first_consultation():
    opened = DEPOSIT + timedelta(days=3, hours=2)
    assert deemed_notification(DEPOSIT, opened, "75") == opened


def test_a_letter_never_opened_is_notified_15_days_after_its_deposit():
    # No clock change between 2 and 17 March 2026: 15 days are 15 × 24 h here.
    assert deemed_notification(DEPOSIT, None, "75") == DEPOSIT + timedelta(days=15)


def test_opening_after_15_days_does_not_move_the_notification():
    late = DEPOSIT + timedelta(days=20)
    assert deemed_notification(DEPOSIT, late, "75") == DEPOSIT + timedelta(days=15)


def test_notification_is_unknown_until_opened_or_15_days_elapsed():
    assert notification_if_known(DEPOSIT, None, DEPOSIT + timedelta(days=14), "75") is None
    fifteen = DEPOSIT + timedelta(days=15)
    assert notification_if_known(DEPOSIT, None, fifteen, "75") == fifteen


def test_appeal_deadline_is_two_months_after_notification_in_local_time():
    # 31 March 23:30 UTC is already 1 April in Paris: two months later is 1 June (a Monday).
    assert appeal_deadline(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "75") == date(2026, 6, 1)


def test_appeal_deadline_on_a_month_end_clamps_to_the_last_day():
    # 31 December + 2 months = 28 February 2027 (a Sunday) → Monday 1 March.
    assert appeal_deadline(datetime(2026, 12, 31, 10, 0, tzinfo=UTC), "75") == date(2027, 3, 1)


def test_appeal_deadline_falling_on_a_holiday_moves_to_the_next_working_day():
    # Notified 14 May 2026 → 14 July 2026, Fête nationale (a Tuesday) → Wednesday 15 July.
    assert appeal_deadline(datetime(2026, 5, 14, 10, 0, tzinfo=UTC), "57") == date(2026, 7, 15)


def test_only_decisions_carry_an_appeal_deadline():
    assert {t for t in LetterType if t.is_decision} == DECISION_TYPES
    assert LetterType.NOTIFICATION_TAUX.is_decision and not LetterType.ACCUSE_RECEPTION.is_decision


def test_the_pdf_writer_makes_documents_real_readers_open():
    data = make_pdf("Décision (test) \\ avec parenthèses", ["Ligne " + "très longue " * 30] + ["Ligne"] * 60)
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 2
    assert reader.metadata.title == "Décision (test) \\ avec parenthèses"
    assert "Décision (test)" in reader.pages[0].extract_text()
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")


# --- SPEC §4: calendar days in the establishment's local time, across clock changes -------------------

PARIS_TZ = ZoneInfo("Europe/Paris")


def test_deposit_at_half_past_midnight_before_the_autumn_clock_change_is_notified_on_5_november():
    # 21 October 2026 at 00 h 30 in Paris (summer time) = 20 October 22:30 UTC; the clocks go back on
    # 25 October. 15 × 24 h from the UTC instant would land on 4 November at 23 h 30 in Paris.
    deposited = datetime(2026, 10, 21, 0, 30, tzinfo=PARIS_TZ)
    notified = deemed_notification(deposited, None, "75")
    assert notified.astimezone(PARIS_TZ).date() == date(2026, 11, 5)
    assert notification_day(deposited, None, "75") == date(2026, 11, 5)


def test_deposit_late_in_the_evening_before_the_spring_clock_change_is_notified_on_3_april():
    # 19 March 2026 at 23 h 30 in Paris (winter time); the clocks go forward on 29 March. 15 × 24 h from
    # the UTC instant would land on 4 April at 00 h 30 in Paris.
    deposited = datetime(2026, 3, 19, 23, 30, tzinfo=PARIS_TZ)
    assert notification_day(deposited, None, "57") == date(2026, 4, 3)
    assert deemed_notification(deposited, None, "57").astimezone(PARIS_TZ).date() == date(2026, 4, 3)


def test_an_overseas_establishment_counts_its_days_in_its_own_time_zone():
    # 3 March 2026 at 02:00 UTC is still 2 March at 22:00 in Guadeloupe (UTC−4, no summer time) but
    # already 3 March in Paris: the Guadeloupe establishment's 15 days end on 17 March.
    deposited = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert notification_day(deposited, None, "971") == date(2026, 3, 17)
    assert notification_day(deposited, None, "75") == date(2026, 3, 18)
    # La Réunion (UTC+4): 21:00 UTC on 2 March is already 3 March there.
    assert notification_day(datetime(2026, 3, 2, 21, 0, tzinfo=UTC), None, "974") == date(2026, 3, 18)


def test_the_statute_is_the_default_reading_with_its_legal_basis():
    rule = notification_rule()
    assert rule.reading is NotificationReading.LOI and rule.days == 15
    assert "L242-5" in rule.basis and "23-70.009" in rule.basis
    notice = deemed_notice(DEPOSIT, None, "75", DEPOSIT + timedelta(days=1))
    assert notice.known is False and notice.day == date(2026, 3, 17) and notice.basis == rule.basis


def test_the_decree_reading_notifies_an_unopened_letter_on_the_deposit_day():
    reading = NotificationReading.MISE_A_DISPOSITION
    rule = notification_rule(reading)
    assert "R112-20" in rule.basis and "30 décembre 2019" in rule.basis
    deposited = datetime(2026, 10, 21, 0, 30, tzinfo=PARIS_TZ)
    assert notification_day(deposited, None, "75", reading) == date(2026, 10, 21)
    # Opening it later does not move the date: it was notified on the deposit day.
    opened = deposited + timedelta(days=2)
    assert notification_day(deposited, opened, "75", reading) == date(2026, 10, 21)
    notice = deemed_notice(deposited, None, "75", deposited, reading)
    assert notice.known and notice.basis == rule.basis


def test_a_first_consultation_within_the_15_days_sets_the_date_and_says_so():
    opened = datetime(2026, 10, 22, 23, 30, tzinfo=UTC)  # 23 October at 01 h 30 in Paris
    notice = deemed_notice(datetime(2026, 10, 21, 0, 30, tzinfo=PARIS_TZ), opened, "75", opened)
    assert notice.known and notice.by_consultation and notice.day == date(2026, 10, 23)
    assert "première consultation" in notice.basis and "23-70.009" in notice.basis


def test_the_appeal_deadline_counts_two_calendar_months_from_the_local_notification_day():
    # Never opened, deposited 21 October 2026 at 00 h 30 in Paris → notified 5 November → 5 January
    # 2027 (a Tuesday).
    deposited = datetime(2026, 10, 21, 0, 30, tzinfo=PARIS_TZ)
    assert appeal_deadline(deemed_notification(deposited, None, "75"), "75") == date(2027, 1, 5)
    assert "R142-1" in APPEAL_BASIS


def test_an_unknown_reading_is_refused():
    with pytest.raises(ValueError, match="LUCIE_NOTIFICATION_READING"):
        notification_rule("quinze")


def test_only_a_person_of_the_company_makes_the_first_consultation():
    # Cour de cassation, avis of 5 October 2023, n° 23-70.009.
    assert counts_as_first_consultation(reader_is_employer=True, same_company=True)
    assert not counts_as_first_consultation(reader_is_employer=True, same_company=False)
    assert not counts_as_first_consultation(reader_is_employer=False, same_company=False)
