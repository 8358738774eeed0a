"""LUCIE's pure rules (SPEC §4): date de notification réputée, appeal deadline; the tiny PDF writer."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pypdf

from app.domain.lucie import (
    DECISION_TYPES,
    LetterType,
    appeal_deadline,
    deemed_notification,
    notification_if_known,
)
from app.services.simple_pdf import make_pdf

DEPOSIT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_a_letter_opened_within_15_days_is_notified_on_its_first_consultation():
    opened = DEPOSIT + timedelta(days=3, hours=2)
    assert deemed_notification(DEPOSIT, opened) == opened


def test_a_letter_never_opened_is_notified_15_days_after_its_deposit():
    assert deemed_notification(DEPOSIT, None) == DEPOSIT + timedelta(days=15)


def test_opening_after_15_days_does_not_move_the_notification():
    assert deemed_notification(DEPOSIT, DEPOSIT + timedelta(days=20)) == DEPOSIT + timedelta(days=15)


def test_notification_is_unknown_until_opened_or_15_days_elapsed():
    assert notification_if_known(DEPOSIT, None, DEPOSIT + timedelta(days=14)) is None
    assert notification_if_known(DEPOSIT, None, DEPOSIT + timedelta(days=15)) == DEPOSIT + timedelta(days=15)


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
