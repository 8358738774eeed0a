"""The « fenêtre d'observations close » event (issue 13, item 8; SPEC §3.1): when the 10 jours francs with
observations end — the end of their last day, local time —, the periodic `flask qrpro cloturer-consultations`
records one event, dated at that end, with its legal basis, on both parties' timelines; not a minute before,
never twice (a second run, two runs at once), and still for a case decided since. Time is moved with
time_machine."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.domain.calendars import PARIS
from app.domain.cases import Party
from app.domain.qrpro import DateKind, EventKind
from app.extensions import db
from app.models import Case, CaseEvent, User
from app.services.qrpro import calendar, consultation, timeline
from app.services.qrpro import decision as case_decision
from tests.integration import test_qrpro_consultation as consultation_tests

world = consultation_tests.world
case = consultation_tests.case
LABEL = "Fenêtre d'observations close"


def closed_events(case_id: int) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.WINDOW_CLOSED)
        )
    )


def test_the_window_close_is_recorded_once_at_its_end_with_its_legal_basis_on_both_timelines(
    app, world, case
):
    row = calendar.dates_of(case)[DateKind.OBSERVATIONS_END]
    last_day, basis, case_id, agent_id = row.effective_on, row.legal_basis, case.id, world.agent.id
    assert basis == "CSS R461-9 III"
    end = consultation.window_end(case, last_day)
    # The end of the last day in Metz: midnight, Paris time.
    assert end.astimezone(PARIS).time().isoformat() == "00:00:00"
    with time_machine.travel(end - timedelta(minutes=1), tick=False):
        assert consultation.observations_open(case)
        assert consultation.close_windows() == 0
    assert closed_events(case_id) == []
    runner = app.test_cli_runner()
    with time_machine.travel(end + timedelta(minutes=1), tick=False):
        first = runner.invoke(args=["qrpro", "cloturer-consultations"])
        again = runner.invoke(args=["qrpro", "cloturer-consultations"])
    assert first.exit_code == 0 and "1 fenêtre(s) d'observations close(s)" in first.output, first.output
    assert again.exit_code == 0 and "0 fenêtre(s)" in again.output, again.output
    (event,) = closed_events(case_id)
    assert event.at == end and event.party is None and event.user_id is None
    assert event.details["last_day"] == last_day.isoformat() and event.details["legal_basis"] == basis
    record = db.session.get(Case, case_id)
    for party in (Party.EMPLOYER, Party.VICTIM):
        (entry,) = [e for e in timeline.timeline(record, party) if e.label == LABEL]
        assert entry.at == end and basis in entry.detail and "jusqu'à la décision" in entry.detail
    # The decision comes after it on the timeline.
    agent = db.session.get(User, agent_id)
    case_decision.record_decision(agent, record, decision="reconnu", now=end + timedelta(days=1))
    labels = [e.label for e in timeline.victim_timeline(record)]
    assert labels.index(LABEL) < labels.index("Décision")


def test_a_case_decided_before_the_run_still_gets_its_event_and_two_runs_at_once_record_one(app, world, case):
    row = calendar.dates_of(case)[DateKind.OBSERVATIONS_END]
    end, case_id = consultation.window_end(case, row.effective_on), case.id
    case_decision.record_decision(world.agent, case, decision="reconnu", now=end + timedelta(hours=10))
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                counts.append(consultation.close_windows(now=end + timedelta(days=1)))
            except BaseException as error:  # noqa: BLE001 — reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(counts) == [0, 1]
    (event,) = closed_events(case_id)
    assert event.at == end


def test_two_checks_of_one_case_at_once_record_one_event(app, world, case):
    """The lock itself: both runs past the first cut, at the same case at the same moment."""
    row = calendar.dates_of(case)[DateKind.OBSERVATIONS_END]
    moment, case_id = consultation.window_end(case, row.effective_on) + timedelta(hours=1), case.id
    start = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(consultation._close_window(case_id, moment))
            except BaseException as error:  # noqa: BLE001 — reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(results) == [False, True]
    assert len(closed_events(case_id)) == 1


def test_no_event_while_the_window_runs(world, case):
    assert consultation.close_windows() == 0  # the fixture's window runs today
    assert closed_events(case.id) == []
