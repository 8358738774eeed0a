"""The DAT's rules without a database (app/domain/dat.py): statuses and transitions, trajet,
lateness, the reserves window, D0 and the French wording of due times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain import dat as rules
from app.domain.dat import CaseFacts, Status, TransitionRefused

PARIS = ZoneInfo("Europe/Paris")
READY = CaseFacts(cmi_received=True, has_reserves=False, reserves_window_closed=True)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# --- transitions -------------------------------------------------------------------------------------


def test_a_draft_can_only_be_sent():
    rules.check_transition(Status.BROUILLON, Status.TRANSMISE)
    for target in (Status.EN_INSTRUCTION, Status.PRISE_EN_CHARGE, Status.REFUS):
        with pytest.raises(TransitionRefused):
            rules.check_transition(Status.BROUILLON, target, READY)


def test_a_sent_declaration_goes_to_instruction_or_to_a_decision():
    for target in (Status.EN_INSTRUCTION, Status.PRISE_EN_CHARGE, Status.REFUS):
        rules.check_transition(Status.TRANSMISE, target, READY)
    with pytest.raises(TransitionRefused, match="ne peut pas passer"):
        rules.check_transition(Status.TRANSMISE, Status.BROUILLON, READY)


def test_an_instruction_ends_in_a_decision_and_a_decision_is_final():
    rules.check_transition(Status.EN_INSTRUCTION, Status.PRISE_EN_CHARGE, READY)
    rules.check_transition(Status.EN_INSTRUCTION, Status.REFUS, READY)
    for final in (Status.PRISE_EN_CHARGE, Status.REFUS):
        assert rules.allowed_targets(final, READY) == []
        with pytest.raises(TransitionRefused):
            rules.check_transition(final, Status.EN_INSTRUCTION, READY)


def test_nothing_happens_on_the_cpam_side_before_the_initial_medical_certificate():
    facts = CaseFacts(cmi_received=False)
    with pytest.raises(TransitionRefused, match="certificat médical initial"):
        rules.check_transition(Status.TRANSMISE, Status.EN_INSTRUCTION, facts)
    assert rules.allowed_targets(Status.TRANSMISE, facts) == []


def test_reserves_force_an_instruction_before_any_decision():
    facts = CaseFacts(cmi_received=True, has_reserves=True, reserves_window_closed=True)
    with pytest.raises(TransitionRefused, match="R441-7"):
        rules.check_transition(Status.TRANSMISE, Status.PRISE_EN_CHARGE, facts)
    assert rules.allowed_targets(Status.TRANSMISE, facts) == [Status.EN_INSTRUCTION]
    rules.check_transition(Status.EN_INSTRUCTION, Status.REFUS, facts)


def test_no_decision_without_instruction_while_the_employer_may_still_send_reserves():
    facts = CaseFacts(cmi_received=True, has_reserves=False, reserves_window_closed=False)
    with pytest.raises(TransitionRefused, match="délai de réserves"):
        rules.check_transition(Status.TRANSMISE, Status.REFUS, facts)
    assert rules.allowed_targets(Status.TRANSMISE, facts) == [Status.EN_INSTRUCTION]


def test_no_decision_on_the_declaration_while_qrpro_instructs_its_case():
    facts = CaseFacts(cmi_received=True, qrpro_case="DAT-2026-000042")
    for current in (Status.TRANSMISE, Status.EN_INSTRUCTION):
        with pytest.raises(TransitionRefused, match=r"ouverte dans QR Pro \(dossier DAT-2026-000042\)"):
            rules.check_transition(current, Status.PRISE_EN_CHARGE, facts)
    assert rules.allowed_targets(Status.TRANSMISE, facts) == [Status.EN_INSTRUCTION]
    assert rules.allowed_targets(Status.EN_INSTRUCTION, facts) == []


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        rules.check_transition(Status.TRANSMISE, "classee", READY)


# --- accident, lateness, reserves window, D0 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lieu", "trajet"),
    [
        ("trajet_domicile", True),
        ("trajet_repas", True),
        ("habituel", False),
        ("domicile", False),
        (None, False),
    ],
)
def test_only_the_two_trajet_places_make_an_accident_de_trajet(lieu, trajet):
    assert rules.is_trajet(lieu) is trajet


def test_a_declaration_sent_after_48_hours_is_late():
    known = paris(2026, 4, 3, 10, 0)  # Good Friday: a working day in Paris
    assert not rules.is_late(known, paris(2026, 4, 4, 9, 59), "75")
    # Saturday counts, Sunday and Easter Monday do not: due Tuesday 7 April at 10:00.
    assert not rules.is_late(known, paris(2026, 4, 7, 9, 59), "75")
    assert rules.is_late(known, paris(2026, 4, 7, 10, 0), "75")


def test_good_friday_does_not_count_in_moselle():
    known = paris(2026, 4, 2, 10, 0)  # Thursday before Good Friday
    notice = rules.due_notice(known, "57", paris(2026, 4, 2, 12, 0))
    # Thursday 10:00 → Thursday 14 h + Saturday 24 h + Tuesday 10 h (Friday, Sunday, Monday skipped).
    assert notice.due == paris(2026, 4, 7, 10, 0)
    assert notice.due_text == "mardi 7 avril 2026 à 10\u00a0h\u00a000"
    assert notice.sentence.startswith("À transmettre avant le mardi 7 avril 2026 à 10\u00a0h\u00a000")


def test_a_deadline_ending_at_midnight_reads_as_the_last_day_it_covers():
    # Learnt of on Sunday 6 December 2026: the 48 hours run from Monday 0 h and end on Wednesday 0 h.
    notice = rules.due_notice(datetime(2026, 12, 6, 10, 0), "57", paris(2026, 12, 7, 0, 5))
    assert notice.due == paris(2026, 12, 9, 0, 0)
    assert notice.sentence.startswith("À transmettre avant le mardi 8 décembre 2026 à 24\u00a0h\u00a000")
    late = rules.due_notice(datetime(2026, 12, 6, 10, 0), "57", paris(2026, 12, 10, 9, 0))
    assert late.short == "Délai dépassé depuis le 8 décembre 2026 à 24\u00a0h\u00a000"
    assert "0\u00a0h\u00a000" not in late.sentence
    # Only the end of a deadline reads so: a start at midnight stays « lundi 7 décembre 2026 à 0 h 00 ».
    assert rules.french_moment(paris(2026, 12, 7, 0, 0), "57") == "lundi 7 décembre 2026 à 0\u00a0h\u00a000"


def test_due_notice_after_the_deadline_says_it_can_still_be_sent():
    notice = rules.due_notice(datetime(2026, 3, 2, 8, 30), "75", paris(2026, 3, 5, 9, 30))
    assert notice.late
    assert notice.left < timedelta(0)
    assert "a pris fin le mercredi 4 mars 2026 à 8\u00a0h\u00a030, il y a 1 jour et 1 heure" in (
        notice.sentence
    )
    assert "hors délai" in notice.sentence
    assert notice.short == "Délai dépassé depuis le 4 mars 2026 à 8\u00a0h\u00a030"


def test_reserves_window_is_ten_jours_francs_after_the_declaration():
    declared = paris(2026, 3, 2, 16, 0)  # Monday
    deadline = rules.reserves_deadline(declared, "75")
    assert deadline.due == date(2026, 3, 12)
    assert rules.reserves_open(declared, "75", paris(2026, 3, 12, 23, 59))
    assert not rules.reserves_open(declared, "75", paris(2026, 3, 13, 0, 0))


def test_reserves_window_ending_on_a_saturday_runs_to_monday():
    declared = paris(2026, 3, 4, 11, 0)  # Wednesday + 10 = Saturday 14 March
    assert rules.reserves_deadline(declared, "75").due == date(2026, 3, 16)


def test_d0_is_the_day_the_cpam_holds_the_declaration_and_the_certificate():
    received = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already 3 March in Paris (UTC+1)
    assert rules.d0(received, None, "75") is None
    assert rules.d0(received, date(2026, 3, 1), "75") == date(2026, 3, 3)
    assert rules.d0(received, date(2026, 3, 9), "75") == date(2026, 3, 9)


# --- wording -------------------------------------------------------------------------------------------


def test_french_day_and_moment():
    assert rules.french_day(date(2026, 4, 7)) == "mardi 7 avril 2026"
    assert rules.french_day(date(2026, 5, 1), weekday=False) == "1er mai 2026"
    morning = datetime(2026, 7, 14, 6, 5, tzinfo=UTC)
    assert rules.french_moment(morning) == "mardi 14 juillet 2026 à 8\u00a0h\u00a005"
    # Overseas: the establishment's own clock (Réunion is UTC+4).
    assert rules.french_moment(morning, "974").endswith("à 10\u00a0h\u00a005")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=1, hours=3, minutes=20), "1 jour et 3 heures"),
        (timedelta(days=2), "2 jours"),
        (timedelta(hours=5, minutes=1), "5 heures et 1 minute"),
        (timedelta(hours=1), "1 heure"),
        (timedelta(minutes=12, seconds=59), "12 minutes"),
        (timedelta(seconds=30), "moins d'une minute"),
        (-timedelta(hours=2), "2 heures"),
    ],
)
def test_french_duration(delta, text):
    assert rules.french_duration(delta) == text


def test_status_labels_are_french():
    assert [s.label for s in Status] == [
        "Brouillon",
        "Transmise",
        "En instruction",
        "Prise en charge",
        "Refus de prise en charge",
    ]


# --- registre des accidents bénins (SPEC §2.1; CSS R441-5, D441-1) ---------------------------------------


def test_48h_of_a_registre_accident_run_from_the_care_not_from_the_accident():
    # Known Monday 2 March 2026 at 10:00 and written in the register; the care it led to learnt of on
    # Thursday 12 March at 10:00: due Saturday 14 March 10:00, so a declaration on Friday 13 is on time.
    known, care = datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 12, 10, 0)
    start = rules.dat_start(known, registre=True, care_known_at=care)
    assert start == rules.DatStart(care, benin=True)
    deadline = start.deadline("57")
    assert deadline.due == datetime(2026, 3, 14, 10, 0)
    assert "R441-5" in deadline.legal_basis and "D441-1" in deadline.legal_basis
    assert "registre des accidents bénins" in deadline.start_event
    assert not rules.is_late(care, paris(2026, 3, 13, 16, 0), "57", benin=True)
    assert rules.is_late(known, paris(2026, 3, 13, 16, 0), "57")


def test_a_registre_accident_has_no_deadline_until_the_care_is_known():
    assert rules.dat_start(datetime(2026, 3, 2, 10, 0), registre=True) is None
    plain = rules.dat_start(datetime(2026, 3, 2, 10, 0), care_known_at=datetime(2026, 3, 12, 10, 0))
    assert plain == rules.DatStart(datetime(2026, 3, 2, 10, 0))


def test_the_due_notice_of_a_registre_accident_says_why_it_starts_then():
    notice = rules.due_notice(datetime(2026, 3, 12, 10, 0), "57", paris(2026, 3, 13, 9, 0), benin=True)
    assert not notice.late
    assert notice.start_text.startswith(
        "Les 48 heures courent depuis le jeudi 12 mars 2026 à 10\u00a0h\u00a000"
    )
    assert "articles R441-5 et D441-1" in notice.start_text
    plain = rules.due_notice(datetime(2026, 3, 12, 10, 0), "57", paris(2026, 3, 13, 9, 0))
    assert "L441-2 et R441-3" in plain.start_text and not plain.benin


def test_a_last_day_that_counts_is_worded_one_way():
    assert rules.until_day_included(date(2026, 12, 16)) == "jusqu'au mercredi 16 décembre 2026 inclus"
    assert rules.until_day_included(date(2026, 4, 1)) == "jusqu'au mercredi 1er avril 2026 inclus"
