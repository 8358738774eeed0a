"""The legal calendar of a CPAM instruction (SPEC §3.1, §6; CSS R441-7, R441-8, R461-9, R461-10), on dated
cases whose expected values were worked out by hand: N jours francs from day E = E does not count, the délai
runs through the end of day E + N, moved past Saturdays, Sundays and the département's public holidays.

Facts used below (checked by `test_calendar_facts_the_tests_rely_on`): Thursday 17 September 2026 + 30 =
Saturday 17 October, + 70 = Thursday 26 November, + 90 = Wednesday 16 December; Monday 2 March 2026 + 100 =
Wednesday 10 June, + 120 = Tuesday 30 June; Friday 23 January 2026 + 70 = Good Friday 3 April (Easter Monday
6 April); Friday 26 December 2025; Friday 1 January 2027; abolition of slavery Friday 22 May 2026 in
Martinique and Wednesday 27 May 2026 in Guadeloupe; Whit Monday 25 May 2026.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from app.domain import deadlines
from app.domain.calendars import is_public_holiday
from app.domain.deadlines import LAST_DAY_EXCLUDED, LAST_DAY_INCLUDED, RULE_VERSION, Deadline
from app.domain.instruction import (
    check_schedule,
    crrmp_calendar,
    earliest_opening,
    instruction_calendar,
    investigation_means,
    observation_window,
    questionnaire_due,
)

# An AT case received complete on Thursday 17 September 2026 in Paris.
AT_D0 = date(2026, 9, 17)
# An MP case received complete on Monday 2 March 2026 in Paris.
MP_D0 = date(2026, 3, 2)


def test_calendar_facts_the_tests_rely_on():
    weekdays = {
        date(2026, 9, 17): 3, date(2026, 10, 17): 5, date(2026, 11, 26): 3, date(2026, 12, 16): 2,
        date(2026, 3, 2): 0, date(2026, 6, 10): 2, date(2026, 6, 30): 1,
        date(2026, 1, 23): 4, date(2026, 4, 3): 4, date(2025, 12, 26): 4, date(2027, 1, 1): 4,
        date(2026, 5, 22): 4, date(2026, 5, 27): 2, date(2026, 11, 2): 0,
    }  # fmt: skip
    for day, weekday in weekdays.items():
        assert day.weekday() == weekday, day
    assert is_public_holiday(date(2026, 4, 3), "57") and not is_public_holiday(date(2026, 4, 3), "75")
    assert is_public_holiday(date(2025, 12, 26), "57") and not is_public_holiday(date(2025, 12, 26), "75")
    assert is_public_holiday(date(2026, 5, 22), "972") and not is_public_holiday(date(2026, 5, 22), "75")
    assert is_public_holiday(date(2026, 5, 27), "971") and not is_public_holiday(date(2026, 5, 27), "75")
    assert is_public_holiday(date(2026, 5, 25), "75") and is_public_holiday(date(2027, 1, 1), "75")


# --- the caisse's délais from D0 (SPEC §3.1) -------------------------------------------------------------


def test_at_decide_or_investigate_within_30_jours_francs_ending_saturday_extends_to_monday():
    calendar = instruction_calendar("AT", AT_D0, "75")
    # 17 September + 30 = Saturday 17 October → Monday 19 October.
    assert calendar.decide_or_investigate_by.due == date(2026, 10, 19)
    assert calendar.decide_or_investigate_by.legal_basis == "CSS R441-7"


def test_at_dossier_available_by_d0_plus_70_and_decision_by_d0_plus_90():
    calendar = instruction_calendar("AT", AT_D0, "75")
    assert calendar.dossier_available_by.due == date(2026, 11, 26)
    assert calendar.dossier_available_by.legal_basis == "CSS R441-8 II"
    assert calendar.decision_by.due == date(2026, 12, 16)
    assert calendar.decision_by.legal_basis == "CSS R441-8 I"


def test_mp_is_always_investigated_dossier_by_d0_plus_100_decision_by_d0_plus_120():
    calendar = instruction_calendar("MP", MP_D0, "75")
    assert calendar.decide_or_investigate_by is None
    assert calendar.dossier_available_by.due == date(2026, 6, 10)
    assert calendar.decision_by.due == date(2026, 6, 30)
    assert calendar.dossier_available_by.legal_basis == "CSS R461-9 III"
    assert calendar.decision_by.legal_basis == "CSS R461-9 I"


def test_dossier_deadline_on_good_friday_extends_to_tuesday_in_moselle_only():
    # 23 January + 70 = Good Friday 3 April: a working day in Paris; in Moselle Friday, Saturday, Sunday and
    # Easter Monday are out. The 90 days end on Thursday 23 April everywhere.
    assert instruction_calendar("AT", date(2026, 1, 23), "75").dossier_available_by.due == date(2026, 4, 3)
    assert instruction_calendar("AT", date(2026, 1, 23), "57").dossier_available_by.due == date(2026, 4, 7)
    assert instruction_calendar("AT", date(2026, 1, 23), "67").dossier_available_by.due == date(2026, 4, 7)
    assert instruction_calendar("AT", date(2026, 1, 23), "57").decision_by.due == date(2026, 4, 23)


def test_calendar_dates_are_deadline_records_with_basis_start_length_and_rule():
    calendar = instruction_calendar("AT", AT_D0, "75")
    decision = calendar.decision_by
    assert isinstance(decision, Deadline)
    assert decision.start_event.startswith("réception par la caisse de la déclaration et du certificat")
    assert decision.started_at == AT_D0
    assert (decision.length, decision.unit) == (90, "jours francs")
    assert decision.rule_version == f"{RULE_VERSION}/{LAST_DAY_INCLUDED}"
    assert decision.departement == "75"
    assert (calendar.kind, calendar.d0) == ("AT", AT_D0)


def test_the_date_printed_in_the_letter_binds():
    decision = instruction_calendar("AT", AT_D0, "75").decision_by.with_notified_due(date(2026, 12, 18))
    assert decision.due == date(2026, 12, 16)
    assert decision.effective_due == date(2026, 12, 18)


def test_the_jours_francs_reading_is_switched_in_deadlines_only(monkeypatch):
    monkeypatch.setattr(deadlines, "JOURS_FRANCS_RULE", LAST_DAY_EXCLUDED)
    decision = instruction_calendar("AT", AT_D0, "75").decision_by
    # Day D0 + 90 (Wednesday 16 December) does not count either: through Thursday 17 December.
    assert decision.due == date(2026, 12, 17)
    assert decision.rule_version == f"{RULE_VERSION}/{LAST_DAY_EXCLUDED}"
    # The notice: 2 November + 11 does not count either → opening on Saturday 14 November at the earliest.
    assert earliest_opening(date(2026, 11, 2), "75").earliest == date(2026, 11, 14)
    assert earliest_opening(date(2026, 11, 2), "75").rule_version == f"{RULE_VERSION}/{LAST_DAY_EXCLUDED}"


# --- questionnaires (SPEC §3.1) --------------------------------------------------------------------------


def test_at_questionnaire_answer_within_20_jours_francs_from_receipt_ending_sunday_extends_to_monday():
    # Monday 1 June + 20 = Sunday 21 June → Monday 22 June.
    due = questionnaire_due("AT", date(2026, 6, 1), "75")
    assert due.due == date(2026, 6, 22)
    assert (due.length, due.legal_basis, due.start_event) == (
        20,
        "CSS R441-8 I",
        "réception du questionnaire",
    )


def test_mp_questionnaire_answer_within_30_jours_francs_ending_saturday_extends_to_monday():
    # Thursday 4 June + 30 = Saturday 4 July → Monday 6 July.
    due = questionnaire_due("MP", date(2026, 6, 4), "75")
    assert due.due == date(2026, 7, 6)
    assert (due.length, due.legal_basis) == (30, "CSS R461-9 II")


def test_questionnaire_ending_on_26_december_extends_in_alsace_moselle_only():
    # 6 December 2025 + 20 = Friday 26 December 2025: a working day in Paris, Saint-Étienne in Moselle
    # (then the weekend) → Monday 29 December.
    assert questionnaire_due("AT", date(2025, 12, 6), "75").due == date(2025, 12, 26)
    assert questionnaire_due("AT", date(2025, 12, 6), "57").due == date(2025, 12, 29)


def test_questionnaire_across_year_end_skips_1_january_and_the_weekend():
    # 2 December 2026 + 30 = Friday 1 January 2027 → Monday 4 January 2027.
    assert questionnaire_due("MP", date(2026, 12, 2), "75").due == date(2027, 1, 4)


def test_fatal_accident_gets_an_enquiry_and_no_questionnaire():
    means = investigation_means("AT", fatal=True)
    assert (means.questionnaires, means.enquiry) == (False, True)
    assert "enquête" in means.explanation and "sans adresser de questionnaire" in means.explanation


def test_non_fatal_accident_and_disease_get_questionnaires():
    at = investigation_means("AT")
    assert (at.questionnaires, at.enquiry) == (True, False)
    assert "20 jours francs" in at.explanation
    assert "30 jours francs" in investigation_means("MP").explanation


# --- the consultation (SPEC §3.1) ------------------------------------------------------------------------


def test_observation_window_is_10_jours_francs_from_the_opening_holidays_inside_still_count():
    # Opening Monday 2 November; 11 November inside the window counts: through Thursday 12 November.
    first, last = observation_window(date(2026, 11, 2), "75")
    assert first == date(2026, 11, 2)
    assert last.due == date(2026, 11, 12)
    assert last.legal_basis == "CSS R441-8 II (AT), R461-9 III (MP)"
    assert observation_window(date(2026, 11, 2), "75", kind="MP").last_day.legal_basis == "CSS R461-9 III"


def test_observation_window_accepts_observations_from_the_opening_day_through_the_last_day():
    window = observation_window(date(2026, 11, 2), "75")
    assert not window.contains(date(2026, 11, 1))
    assert window.contains(date(2026, 11, 2))
    assert window.contains(date(2026, 11, 12))
    assert not window.contains(date(2026, 11, 13))


def test_observation_window_ending_on_good_friday_extends_in_moselle_only():
    # Opening Tuesday 24 March + 10 = Good Friday 3 April.
    assert observation_window(date(2026, 3, 24), "75").last_day.due == date(2026, 4, 3)
    assert observation_window(date(2026, 3, 24), "57").last_day.due == date(2026, 4, 7)


def test_observation_window_in_martinique_skips_abolition_of_slavery_and_whit_monday():
    # Opening Tuesday 12 May + 10 = Friday 22 May: Martinique's abolition of slavery, then the weekend and
    # Whit Monday → Tuesday 26 May. In Paris the window ends on Friday 22 May.
    assert observation_window(date(2026, 5, 12), "972").last_day.due == date(2026, 5, 26)
    assert observation_window(date(2026, 5, 12), "75").last_day.due == date(2026, 5, 22)


def test_parties_told_10_jours_francs_before_opening_neither_end_counts():
    # Informed on Monday 2 November: the 10 days are the 3rd to the 12th, the opening is on the 13th at the
    # earliest.
    floor = earliest_opening(date(2026, 11, 2), "75")
    assert floor.earliest == date(2026, 11, 13)
    assert (floor.earliest - date(2026, 11, 2)).days - 1 == 10
    assert not floor.allows(date(2026, 11, 12))
    assert floor.allows(date(2026, 11, 13))
    assert (floor.length, floor.unit, floor.legal_basis) == (
        10,
        "jours francs",
        "CSS R441-8 II (AT), R461-9 III (MP)",
    )
    assert floor.start_event == "réception de l'information sur les dates de consultation du dossier"


def test_notice_is_a_minimum_lead_time_not_extended_past_a_weekend():
    # Informed on Wednesday 2 December: the 10th day is Saturday 12 December; Sunday 13 has 10 whole days
    # before it, so the opening may be that day — an extension would refuse a lawful opening on Monday 14.
    assert earliest_opening(date(2026, 12, 2), "75").earliest == date(2026, 12, 13)


# --- the CRRMP (SPEC §3.1; CSS R461-10) ------------------------------------------------------------------


def test_crrmp_calendar_from_the_referral():
    crrmp = crrmp_calendar(date(2026, 3, 2), "75")
    assert crrmp.completion_until.due == date(2026, 4, 1)  # + 30, a Wednesday
    assert crrmp.observations_until.due == date(2026, 4, 13)  # + 40 = Saturday 11 April → Monday 13
    assert crrmp.opinion_by.due == date(2026, 6, 22)  # + 110 = Saturday 20 June → Monday 22
    assert crrmp.decision_by.due == date(2026, 6, 30)  # + 120, a Tuesday
    for deadline, days in [
        (crrmp.completion_until, 30),
        (crrmp.observations_until, 40),
        (crrmp.opinion_by, 110),
        (crrmp.decision_by, 120),
    ]:
        assert (deadline.length, deadline.legal_basis) == (days, "CSS R461-10")
        assert deadline.start_event.startswith("saisine du comité régional")


def test_crrmp_completion_ending_on_guadeloupe_abolition_of_slavery():
    # Monday 27 April + 30 = Wednesday 27 May: abolition of slavery in Guadeloupe → Thursday 28 May.
    assert crrmp_calendar(date(2026, 4, 27), "75").completion_until.due == date(2026, 5, 27)
    assert crrmp_calendar(date(2026, 4, 27), "971").completion_until.due == date(2026, 5, 28)


# --- checking a proposed schedule (SPEC §3.1) ------------------------------------------------------------

# A lawful AT schedule: D0 Thursday 17 September 2026; the parties informed on Monday 2 November; the
# consultation opens on Monday 16 November (observations through Thursday 26 November); the decision on
# Friday 27 November; the reserves window closed on Friday 25 September.
LAWFUL = {
    "information_received_on": date(2026, 11, 2),
    "opening": date(2026, 11, 16),
    "decision_on": date(2026, 11, 27),
    "reserves_window_end": date(2026, 9, 25),
}


def at_schedule(departement: str = "75", **changes: object) -> list[str]:
    return check_schedule("AT", AT_D0, departement, **{**LAWFUL, **changes})  # type: ignore[arg-type]


def test_lawful_schedule_has_no_error():
    assert at_schedule() == []
    assert at_schedule(reserves_window_end=None) == []


def test_opening_on_the_first_day_after_the_notice_and_on_d0_plus_70_are_lawful():
    assert at_schedule(opening=date(2026, 11, 13), decision_on=date(2026, 11, 24)) == []
    # Opened on Thursday 26 November, observations run to Sunday 6 December → Monday 7 December.
    assert at_schedule(opening=date(2026, 11, 26), decision_on=date(2026, 12, 8)) == []
    assert (
        "pendant la consultation" in at_schedule(opening=date(2026, 11, 26), decision_on=date(2026, 12, 7))[0]
    )


def test_opening_less_than_10_jours_francs_after_the_information_is_refused_with_its_dates():
    errors = at_schedule(opening=date(2026, 11, 12))
    assert errors == [
        "La consultation ne peut pas s'ouvrir le jeudi 12 novembre 2026 : les parties, informées le lundi "
        "2 novembre 2026, doivent l'être au moins 10 jours francs avant l'ouverture, ni le jour de la "
        "réception ni celui de l'ouverture ne comptant (CSS R441-8 II). Ouverture possible au plus tôt le "
        "vendredi 13 novembre 2026, au plus tard le jeudi 26 novembre 2026."
    ]


def test_opening_after_d0_plus_70_is_refused_with_its_dates():
    errors = at_schedule(opening=date(2026, 11, 27), decision_on=date(2026, 12, 8))
    assert errors == [
        "La consultation ne peut pas s'ouvrir le vendredi 27 novembre 2026 : le dossier doit être mis à "
        "disposition au plus tard le jeudi 26 novembre 2026 (D0 + 70 jours francs, CSS R441-8 II). Ouverture "
        "possible au plus tôt le vendredi 13 novembre 2026, au plus tard le jeudi 26 novembre 2026."
    ]


def test_information_too_late_for_any_opening_says_when_it_had_to_be_received():
    # Informed on Tuesday 17 November: opening on Saturday 28 November at the earliest, after D0 + 70.
    errors = at_schedule(
        information_received_on=date(2026, 11, 17), opening=date(2026, 11, 26), decision_on=date(2026, 12, 8)
    )
    assert len(errors) == 1
    assert "au plus tôt le samedi 28 novembre 2026" in errors[0]
    assert "au plus tard le jeudi 26 novembre 2026 (D0 + 70 jours francs, CSS R441-8 II)" in errors[0]
    # Sunday 15 November + 11 = Thursday 26 November.
    assert errors[0].endswith("L'information devait être reçue au plus tard le dimanche 15 novembre 2026.")


def test_mp_opening_must_respect_d0_plus_100():
    errors = check_schedule(
        "MP",
        MP_D0,
        "75",
        information_received_on=date(2026, 6, 1),
        opening=date(2026, 6, 12),
        decision_on=date(2026, 6, 29),
    )
    assert len(errors) == 1
    assert "au plus tard le mercredi 10 juin 2026 (D0 + 100 jours francs, CSS R461-9 III)" in errors[0]
    assert "au plus tôt le vendredi 12 juin 2026" in errors[0]
    assert "au plus tard le samedi 30 mai 2026" in errors[0]


def test_opening_on_tuesday_after_easter_lawful_in_moselle_refused_in_paris():
    d0 = date(2026, 1, 23)  # dossier due Good Friday 3 April in Paris, Tuesday 7 April in Moselle
    schedule = {
        "information_received_on": date(2026, 3, 23),
        "opening": date(2026, 4, 7),
        "decision_on": date(2026, 4, 20),
    }
    assert check_schedule("AT", d0, "57", **schedule) == []  # type: ignore[arg-type]
    errors = check_schedule("AT", d0, "75", **schedule)  # type: ignore[arg-type]
    assert len(errors) == 1
    assert "au plus tard le vendredi 3 avril 2026 (D0 + 70 jours francs" in errors[0]


def test_decision_during_the_observation_window_is_refused_with_its_dates():
    errors = at_schedule(decision_on=date(2026, 11, 26))  # the window's last day
    assert errors == [
        "La décision ne peut pas être prise le jeudi 26 novembre 2026, pendant la consultation du dossier "
        "avec observations (du lundi 16 novembre 2026 au jeudi 26 novembre 2026, 10 jours francs, "
        "CSS R441-8 II). Décision possible au plus tôt le vendredi 27 novembre 2026, au plus tard le "
        "mercredi 16 décembre 2026."
    ]


def test_decision_before_the_consultation_is_refused():
    errors = at_schedule(decision_on=date(2026, 11, 10))
    assert len(errors) == 1
    assert errors[0].startswith(
        "La décision ne peut pas être prise le mardi 10 novembre 2026 : elle doit suivre la consultation"
    )
    assert errors[0].endswith(
        "au plus tôt le vendredi 27 novembre 2026, au plus tard le mercredi 16 décembre 2026."
    )


def test_decision_before_the_reserves_window_closed_is_refused_with_its_dates():
    # Reserves declared on Friday 20 November: 10 jours francs → Monday 30 November (a Deadline record).
    reserves = Deadline.reserves(datetime(2026, 11, 20, 10, 0), "75")
    errors = at_schedule(reserves_window_end=reserves)
    assert errors == [
        "La décision ne peut pas être prise le vendredi 27 novembre 2026 : l'employeur peut émettre des "
        "réserves motivées jusqu'au lundi 30 novembre 2026 inclus (10 jours francs, CSS R441-6). Décision "
        "possible au plus tôt le mardi 1er décembre 2026, au plus tard le mercredi 16 décembre 2026."
    ]
    assert at_schedule(reserves_window_end=reserves, decision_on=date(2026, 12, 1)) == []


def test_decision_after_d0_plus_90_is_refused_with_its_dates():
    errors = at_schedule(decision_on=date(2026, 12, 17))
    assert errors == [
        "La décision ne peut pas être prise le jeudi 17 décembre 2026 : le délai de 90 jours francs à "
        "compter de D0 (jeudi 17 septembre 2026) expire le mercredi 16 décembre 2026 (CSS R441-8 I). "
        "Décision possible au plus tôt le vendredi 27 novembre 2026, au plus tard le mercredi "
        "16 décembre 2026."
    ]
    assert at_schedule(decision_on=date(2026, 12, 16)) == []


def test_mp_decision_after_d0_plus_120_is_refused():
    errors = check_schedule(
        "MP",
        MP_D0,
        "75",
        information_received_on=date(2026, 5, 18),
        opening=date(2026, 6, 1),
        decision_on=date(2026, 7, 1),
    )
    assert len(errors) == 1
    assert (
        "le délai de 120 jours francs à compter de D0 (lundi 2 mars 2026) expire le mardi 30 juin 2026"
        in errors[0]
    )
    assert "(CSS R461-9 I)" in errors[0]


def test_no_lawful_decision_date_left_is_said_plainly():
    errors = at_schedule(reserves_window_end=date(2026, 12, 20), decision_on=date(2026, 12, 16))
    assert len(errors) == 1
    assert errors[0].endswith(
        "Décision impossible avec ce calendrier : il faudrait au plus tôt le lundi 21 décembre 2026, mais "
        "au plus tard le mercredi 16 décembre 2026."
    )


def test_every_broken_rule_is_reported():
    errors = at_schedule(
        opening=date(2026, 11, 10), decision_on=date(2026, 11, 15), reserves_window_end=date(2026, 11, 20)
    )
    assert len(errors) == 3
    assert errors[0].startswith("La consultation ne peut pas s'ouvrir le mardi 10 novembre 2026")
    assert "pendant la consultation" in errors[1]
    assert "réserves motivées" in errors[2]


# --- bad arguments ---------------------------------------------------------------------------------------


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        instruction_calendar("ATMP", AT_D0, "75")
    with pytest.raises(ValueError, match="kind"):
        questionnaire_due("at", AT_D0, "75")


def test_dates_are_local_calendar_dates_not_moments():
    with pytest.raises(TypeError):
        instruction_calendar("AT", datetime(2026, 9, 17, 10, 0), "75")
    with pytest.raises(TypeError):
        earliest_opening(datetime(2026, 11, 2, 10, 0), "75")
    with pytest.raises(TypeError):
        at_schedule(decision_on=datetime(2026, 11, 27, 10, 0))


def test_unknown_departement_is_refused():
    with pytest.raises(ValueError):
        instruction_calendar("AT", AT_D0, "20")
    with pytest.raises(ValueError):
        earliest_opening(date(2026, 11, 2), "99")


def test_records_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        instruction_calendar("AT", AT_D0, "75").decision_by = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        earliest_opening(date(2026, 11, 2), "75").earliest = date(2026, 11, 3)  # type: ignore[misc]


def test_notice_arithmetic_lives_in_the_deadline_module():
    assert deadlines.jours_francs_notice_ends(date(2026, 11, 2), 10) == date(2026, 11, 12)
    assert deadlines.jours_francs_notice_ends(date(2026, 11, 2), 10, rule=LAST_DAY_EXCLUDED) == date(
        2026, 11, 13
    )
    with pytest.raises(ValueError, match="rule"):
        deadlines.jours_francs_notice_ends(date(2026, 11, 2), 10, rule="last_day_maybe")
    with pytest.raises(ValueError):
        deadlines.jours_francs_notice_ends(date(2026, 11, 2), -1)
    with pytest.raises(TypeError):
        deadlines.jours_francs_notice_ends(datetime(2026, 11, 2, 9, 0), 10)
