"""QR Pro's pure rules (issue 13): the queue's flags, the MP's table numbers and D0, the stages' words."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain import qrpro
from app.domain.qrpro import DateKind, Stage


@pytest.mark.parametrize(("days", "flag"), [(-1, "depasse"), (0, "proche"), (5, "proche"), (6, None)])
def test_the_queue_flags_a_date_past_or_at_most_5_days_away(days, flag):
    today = date(2026, 12, 6)
    assert qrpro.urgency(date.fromordinal(today.toordinal() + days), today) == flag
    assert qrpro.urgency(None, today) is None


@pytest.mark.parametrize("table", ["57", "57 A", "30 bis", "42A", "98", "100"])
def test_a_table_number_of_the_regime_general_is_accepted(table):
    assert qrpro.disease_table_error(table, False) is None


@pytest.mark.parametrize("table", ["", "  ", "A57", "1000", "57-A", "trente"])
def test_a_wrong_or_missing_table_number_gets_a_french_message(table):
    assert qrpro.disease_table_error(table, False).startswith(("Indiquez", "Le numéro"))


def test_hors_tableau_needs_no_number():
    assert qrpro.disease_table_error("", True) is None


def test_mp_d0_is_the_later_receipt():
    assert qrpro.mp_d0(date(2026, 3, 2), date(2026, 3, 9)) == date(2026, 3, 9)
    assert qrpro.mp_d0(date(2026, 3, 9), date(2026, 3, 2)) == date(2026, 3, 9)


def test_every_stage_and_date_has_its_french_words_and_basis():
    for stage in Stage:
        assert stage.label and stage.employer_expectation
    for kind in DateKind:
        assert kind.label
        if kind != DateKind.DECIDE_OR_INVESTIGATE:  # an MP is always investigated: no such date
            assert qrpro.legal_basis("MP", kind).startswith("CSS R461-")
    assert qrpro.legal_basis("AT", DateKind.DECIDE_OR_INVESTIGATE) == "CSS R441-7"
    assert "commission de recours amiable" in qrpro.RECOURSE_NOTICE and "deux mois" in qrpro.RECOURSE_NOTICE


def test_the_queue_date_follows_the_stage():
    assert qrpro.NEXT_DATE_BY_STAGE[Stage.DECIDE] == ()
    assert qrpro.NEXT_DATE_BY_STAGE[Stage.CONSULTATION][0] == DateKind.DECISION_PLANNED
